package bash

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/ianaindex"
)

// decoder turns one line of raw output into UTF-8, appending to dst.
type decoder func(dst, src []byte) []byte

// pythonAliases maps Python codec names that IANA does not know to IANA
// names; everything else is looked up as written.
var pythonAliases = map[string]string{
	"utf8": "utf-8", "utf-8": "utf-8", "u8": "utf-8",
	"latin-1": "iso-8859-1", "latin1": "iso-8859-1", "l1": "iso-8859-1", "iso8859-1": "iso-8859-1", "8859": "iso-8859-1",
	"ascii": "us-ascii", "us-ascii": "us-ascii", "646": "us-ascii",
	"cp1252": "windows-1252", "cp1251": "windows-1251", "cp1250": "windows-1250",
	"utf-16": "utf-16", "utf16": "utf-16",
}

// newDecoder returns the decoder for a Python codec name. UTF-8, Latin-1
// and ASCII are handled here (invalid bytes become "\xNN", Python's
// errors="backslashreplace"); other codecs go through golang.org/x/text,
// which replaces invalid input with U+FFFD.
func newDecoder(name string) (decoder, error) {
	norm := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(name)), "_", "-")
	if a, ok := pythonAliases[norm]; ok {
		norm = a
	}
	switch norm {
	case "", "utf-8":
		return decodeUTF8, nil
	case "iso-8859-1":
		return decodeLatin1, nil
	case "us-ascii":
		return decodeASCII, nil
	}
	enc, err := ianaindex.IANA.Encoding(norm)
	if err != nil || enc == nil {
		return nil, fmt.Errorf("argument output_encoding: unknown or unsupported encoding %q", name)
	}
	return xtextDecoder(enc), nil
}

func decodeUTF8(dst, src []byte) []byte {
	if utf8.Valid(src) {
		return append(dst, src...)
	}
	for len(src) > 0 {
		r, n := utf8.DecodeRune(src)
		if r == utf8.RuneError && n == 1 {
			dst = fmt.Appendf(dst, `\x%02x`, src[0])
		} else {
			dst = append(dst, src[:n]...)
		}
		src = src[n:]
	}
	return dst
}

func decodeLatin1(dst, src []byte) []byte {
	for _, c := range src {
		dst = utf8.AppendRune(dst, rune(c))
	}
	return dst
}

func decodeASCII(dst, src []byte) []byte {
	for _, c := range src {
		if c < utf8.RuneSelf {
			dst = append(dst, c)
		} else {
			dst = fmt.Appendf(dst, `\x%02x`, c)
		}
	}
	return dst
}

func xtextDecoder(enc encoding.Encoding) decoder {
	d := enc.NewDecoder()
	return func(dst, src []byte) []byte {
		out, err := d.Bytes(src)
		if err != nil {
			return decodeUTF8(dst, src)
		}
		return append(dst, out...)
	}
}
