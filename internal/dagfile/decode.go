package dagfile

import (
	"bytes"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// DecodeError says where a file stops being text Windsock can store.
type DecodeError struct {
	Offset int64 // byte offset in the file as read
	Line   int   // 1-based, counted in the decoded text
	Column int   // 1-based, in characters
	Reason string
}

// Error implements error.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("%s at byte offset %d (line %d, column %d); save the file as UTF-8 text", e.Reason, e.Offset, e.Line, e.Column)
}

// Decode returns src as UTF-8 text without a byte order mark, the only
// form the metadata database can store. Like a YAML reader it accepts
// UTF-8 (with or without BOM) and UTF-16 in either byte order (with a BOM,
// or recognised from the zero bytes of ASCII text at the start, as the
// YAML spec describes). Anything else, and text holding a NUL character
// (which PostgreSQL refuses in text columns), is a *DecodeError.
func Decode(src []byte) ([]byte, error) {
	switch {
	case bytes.HasPrefix(src, []byte{0, 0, 0xFE, 0xFF}), bytes.HasPrefix(src, []byte{0xFF, 0xFE, 0, 0}):
		return nil, &DecodeError{Line: 1, Column: 1, Reason: "UTF-32 text is not supported"}
	case bytes.HasPrefix(src, []byte{0xEF, 0xBB, 0xBF}):
		return checkUTF8(src[3:], 3)
	case bytes.HasPrefix(src, []byte{0xFF, 0xFE}):
		return decodeUTF16(src[2:], 2, false)
	case bytes.HasPrefix(src, []byte{0xFE, 0xFF}):
		return decodeUTF16(src[2:], 2, true)
	case len(src) >= 2 && src[0] == 0 && src[1] != 0:
		return decodeUTF16(src, 0, true)
	case len(src) >= 2 && src[0] != 0 && src[1] == 0:
		return decodeUTF16(src, 0, false)
	}
	return checkUTF8(src, 0)
}

// checkUTF8 returns text (which starts at byte skip of the file) when it
// is valid UTF-8 without NUL.
func checkUTF8(text []byte, skip int64) ([]byte, error) {
	line, lineStart := 1, 0
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRune(text[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return nil, &DecodeError{Offset: skip + int64(i), Line: line, Column: utf8.RuneCount(text[lineStart:i]) + 1,
				Reason: fmt.Sprintf("invalid UTF-8 byte 0x%02x", text[i])}
		case r == 0:
			return nil, &DecodeError{Offset: skip + int64(i), Line: line, Column: utf8.RuneCount(text[lineStart:i]) + 1,
				Reason: "NUL character"}
		case r == '\n':
			line, lineStart = line+1, i+1
		}
		i += size
	}
	return text, nil
}

// decodeUTF16 converts UTF-16 (starting at byte skip of the file) to UTF-8.
func decodeUTF16(b []byte, skip int64, bigEndian bool) ([]byte, error) {
	out := make([]byte, 0, len(b)/2*3/2)
	line, col := 1, 1
	fail := func(at int, reason string) error {
		return &DecodeError{Offset: skip + int64(at), Line: line, Column: col, Reason: reason}
	}
	unit := func(i int) uint16 {
		if bigEndian {
			return uint16(b[i])<<8 | uint16(b[i+1])
		}
		return uint16(b[i+1])<<8 | uint16(b[i])
	}
	for i := 0; i < len(b); i += 2 {
		if i+1 >= len(b) {
			return nil, fail(i, "truncated UTF-16 text (odd number of bytes)")
		}
		r := rune(unit(i))
		if utf16.IsSurrogate(r) {
			if r >= 0xDC00 || i+3 >= len(b) {
				return nil, fail(i, "invalid UTF-16 (unpaired surrogate)")
			}
			r = utf16.DecodeRune(r, rune(unit(i+2)))
			if r == utf8.RuneError {
				return nil, fail(i, "invalid UTF-16 (unpaired surrogate)")
			}
			i += 2
		}
		if r == 0 {
			return nil, fail(i, "NUL character")
		}
		out = utf8.AppendRune(out, r)
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return out, nil
}
