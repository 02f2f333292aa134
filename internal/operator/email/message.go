package email

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// message is an email ready to build: addresses already parsed.
type message struct {
	from          *mail.Address
	to, cc, bcc   []*mail.Address
	subject       string
	html          string
	files         []string
	subtype       string
	charset       string
	date          time.Time
	messageIDHost string
}

// recipients returns every envelope recipient: to, cc and bcc.
func (m *message) recipients() []string {
	var out []string
	for _, list := range [][]*mail.Address{m.to, m.cc, m.bcc} {
		for _, a := range list {
			out = append(out, a.Address)
		}
	}
	return out
}

// build renders the message as Airflow's build_mime_message does: a
// multipart/<subtype> with the HTML body first and one part per file, each
// attachment named by its base name (also its Content-ID, so the HTML can
// refer to it as cid:name). Bcc recipients get no header.
func (m *message) build() ([]byte, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)

	htmlHeader := textproto.MIMEHeader{}
	htmlHeader.Set("Content-Type", mime.FormatMediaType("text/html", map[string]string{"charset": m.charset}))
	htmlHeader.Set("Content-Transfer-Encoding", "quoted-printable")
	pw, err := mw.CreatePart(htmlHeader)
	if err != nil {
		return nil, fmt.Errorf("build html part: %w", err)
	}
	qp := quotedprintable.NewWriter(pw)
	if _, err := qp.Write([]byte(m.html)); err != nil {
		return nil, fmt.Errorf("build html part: %w", err)
	}
	if err := qp.Close(); err != nil {
		return nil, fmt.Errorf("build html part: %w", err)
	}

	for _, path := range m.files {
		if err := attach(mw, path); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("build message: %w", err)
	}

	var out bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&out, "%s: %s\r\n", k, v) }
	header("From", m.from.String())
	header("To", joinAddresses(m.to))
	if len(m.cc) > 0 {
		header("Cc", joinAddresses(m.cc))
	}
	header("Subject", mime.QEncoding.Encode(m.charset, m.subject))
	header("Date", m.date.Format(time.RFC1123Z))
	id, err := messageID(m.messageIDHost)
	if err != nil {
		return nil, err
	}
	header("Message-ID", id)
	header("MIME-Version", "1.0")
	header("Content-Type", mime.FormatMediaType("multipart/"+m.subtype, map[string]string{"boundary": mw.Boundary()}))
	out.WriteString("\r\n")
	out.Write(body.Bytes())
	return out.Bytes(), nil
}

// attach adds the file at path as a base64 attachment.
func attach(mw *multipart.Writer, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("attach file: %w", err)
	}
	name := filepath.Base(path)
	contentType := mime.TypeByExtension(filepath.Ext(name))
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	if mt, params, err := mime.ParseMediaType(contentType); err == nil {
		params["name"] = name
		contentType = mime.FormatMediaType(mt, params)
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("Content-ID", "<"+name+">")
	h.Set("Content-Transfer-Encoding", "base64")
	w, err := mw.CreatePart(h)
	if err != nil {
		return fmt.Errorf("attach %s: %w", name, err)
	}
	enc := base64.StdEncoding.EncodeToString(data)
	// RFC 2045 limits encoded lines to 76 characters.
	for len(enc) > 76 {
		if _, err := fmt.Fprintf(w, "%s\r\n", enc[:76]); err != nil {
			return fmt.Errorf("attach %s: %w", name, err)
		}
		enc = enc[76:]
	}
	if _, err := fmt.Fprintf(w, "%s\r\n", enc); err != nil {
		return fmt.Errorf("attach %s: %w", name, err)
	}
	return nil
}

func joinAddresses(list []*mail.Address) string {
	parts := make([]string, len(list))
	for i, a := range list {
		parts[i] = a.String()
	}
	return strings.Join(parts, ", ")
}

func messageID(host string) (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("make message id: %w", err)
	}
	if host == "" {
		host = "windsock"
	}
	return "<" + hex.EncodeToString(b[:]) + "@" + host + ">", nil
}

// parseAddresses reads addresses as Airflow's get_email_address_list
// does: a string or a list of strings, each split on "," and ";".
func parseAddresses(field string, values []string) ([]*mail.Address, error) {
	var out []*mail.Address
	for _, v := range values {
		for _, s := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' }) {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			a, err := mail.ParseAddress(s)
			if err != nil {
				return nil, fmt.Errorf("argument %s: bad address %q: %w", field, s, err)
			}
			out = append(out, a)
		}
	}
	return out, nil
}
