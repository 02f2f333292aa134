package email

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/windsock"
)

// connections is the test's connection source: a map.
type connections map[string]*operator.Connection

func (c connections) Connection(_ context.Context, id string) (*operator.Connection, error) {
	if conn, ok := c[id]; ok {
		return conn, nil
	}
	return nil, windsock.Errorf(windsock.ENOTFOUND, "connection %s does not exist", id)
}

// delivery is one message the test server accepted.
type delivery struct {
	from     string
	rcpts    []string
	data     []byte
	tls      bool
	user     string
	password string
}

// mailbox is a real SMTP server (go-smtp) on 127.0.0.1 that keeps what it
// receives and accepts one login.
type mailbox struct {
	mu         sync.Mutex
	deliveries []delivery
	received   chan struct{}
	host       string
	port       int
}

type session struct {
	box  *mailbox
	conn *smtp.Conn
	cur  delivery
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "mailer" || pass != "pw" {
			return errors.New("bad credentials")
		}
		s.cur.user, s.cur.password = user, pass
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.cur.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.rcpts = append(s.cur.rcpts, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = b
	_, s.cur.tls = s.conn.TLSConnectionState()
	s.box.mu.Lock()
	s.box.deliveries = append(s.box.deliveries, s.cur)
	s.box.mu.Unlock()
	s.box.received <- struct{}{}
	return nil
}

func (s *session) Reset()        { s.cur = delivery{user: s.cur.user, password: s.cur.password} }
func (s *session) Logout() error { return nil }

// serverTLS says how the test server offers TLS.
type serverTLS int

const (
	plainOnly serverTLS = iota
	offersStartTLS
	implicitTLS
)

// setup starts a mailbox and returns it with a client TLS config that
// trusts its certificate.
func setup(t *testing.T, mode serverTLS) (*mailbox, *tls.Config) {
	t.Helper()
	serverCfg, clientCfg := testCertificates(t)
	box := &mailbox{received: make(chan struct{}, 10)}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{box: box, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	var ln net.Listener
	var err error
	switch mode {
	case implicitTLS:
		srv.TLSConfig = serverCfg
		ln, err = tls.Listen("tcp", "127.0.0.1:0", serverCfg)
	case offersStartTLS:
		srv.TLSConfig = serverCfg
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	default:
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	box.host = host
	box.port, _ = strconv.Atoi(port)
	return box, clientCfg
}

// only returns the single delivery the server received.
func (b *mailbox) only(t *testing.T) delivery {
	t.Helper()
	select {
	case <-b.received:
	case <-time.After(10 * time.Second):
		t.Fatal("no message delivered")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.deliveries) != 1 {
		t.Fatalf("%d messages delivered, want 1", len(b.deliveries))
	}
	return b.deliveries[0]
}

func (b *mailbox) conn(extra map[string]any) *operator.Connection {
	return &operator.Connection{ConnID: DefaultConnID, ConnType: "smtp", Host: b.host, Port: b.port, Extra: extra}
}

func testCertificates(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool}
}

// parsed is a received message taken apart.
type parsed struct {
	header      mail.Header
	html        string
	attachments map[string][]byte
}

func parse(t *testing.T, data []byte) parsed {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("read message: %v", err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("Content-Type = %q (%v), want multipart/mixed", msg.Header.Get("Content-Type"), err)
	}
	p := parsed{header: msg.Header, attachments: map[string][]byte{}}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read part: %v", err)
		}
		var body io.Reader = part
		switch part.Header.Get("Content-Transfer-Encoding") {
		case "quoted-printable":
			body = quotedprintable.NewReader(part)
		case "base64":
			body = base64.NewDecoder(base64.StdEncoding, part)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatalf("decode part: %v", err)
		}
		if _, dp, err := mime.ParseMediaType(part.Header.Get("Content-Disposition")); err == nil && dp["filename"] != "" {
			p.attachments[dp["filename"]] = b
			continue
		}
		if strings.HasPrefix(part.Header.Get("Content-Type"), "text/html") {
			p.html = string(b)
		}
	}
	return p
}

func TestSendsMessageWithRecipientsSubjectHTMLAndAttachment(t *testing.T) {
	t.Parallel()
	box, _ := setup(t, plainOnly)
	dags := t.TempDir()
	report := []byte("id,value\n1,42\n" + strings.Repeat("x", 200))
	if err := os.WriteFile(filepath.Join(dags, "report.csv"), report, 0o644); err != nil {
		t.Fatal(err)
	}
	conn := box.conn(map[string]any{"from_email": "Windsock <noreply@example.com>"})
	conn.Login, conn.Password = "mailer", "pw"
	tc := &operator.Context{
		Args: map[string]any{
			"to":           "ann@example.com; bob@example.com",
			"cc":           []any{"Carol <carol@example.com>"},
			"bcc":          "dave@example.com",
			"subject":      "Rapport prêt\r\nBcc: evil@example.com",
			"html_content": "<h1>Done</h1><p>Total: 42 — ok</p>",
			"files":        []any{"report.csv"},
		},
		Connections: connections{DefaultConnID: conn},
		DagsFolder:  dags,
		Log:         &bytes.Buffer{},
	}
	if _, err := New().Execute(context.Background(), tc); err != nil {
		t.Fatal(err)
	}

	d := box.only(t)
	if d.from != "noreply@example.com" {
		t.Errorf("MAIL FROM = %q", d.from)
	}
	want := []string{"ann@example.com", "bob@example.com", "carol@example.com", "dave@example.com"}
	if strings.Join(d.rcpts, ",") != strings.Join(want, ",") {
		t.Errorf("RCPT TO = %v, want %v", d.rcpts, want)
	}
	if d.user != "mailer" || d.password != "pw" {
		t.Errorf("auth = %q/%q, want the connection's login", d.user, d.password)
	}
	m := parse(t, d.data)
	subject, err := new(mime.WordDecoder).DecodeHeader(m.header.Get("Subject"))
	if err != nil || subject != "Rapport prêt Bcc: evil@example.com" {
		t.Errorf("Subject = %q (%v)", subject, err)
	}
	if got := m.header.Get("To"); got != "<ann@example.com>, <bob@example.com>" {
		t.Errorf("To = %q", got)
	}
	if got := m.header.Get("Cc"); got != `"Carol" <carol@example.com>` {
		t.Errorf("Cc = %q", got)
	}
	if m.header.Get("Bcc") != "" {
		t.Errorf("Bcc header leaked: %q", m.header.Get("Bcc"))
	}
	if from, err := m.header.AddressList("From"); err != nil || from[0].Address != "noreply@example.com" {
		t.Errorf("From = %v (%v)", from, err)
	}
	if m.html != "<h1>Done</h1><p>Total: 42 — ok</p>" {
		t.Errorf("html part = %q", m.html)
	}
	if !bytes.Equal(m.attachments["report.csv"], report) {
		t.Errorf("attachment report.csv = %q, want the file", m.attachments["report.csv"])
	}
}

func TestTLSModes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		mode    serverTLS
		extra   map[string]any
		wantTLS bool
	}{
		{name: "starttls when offered", mode: offersStartTLS, wantTLS: true},
		{name: "disable_tls skips starttls", mode: offersStartTLS, extra: map[string]any{"disable_tls": true}},
		{name: "plain server without starttls", mode: plainOnly},
		{name: "disable_ssl false means implicit tls", mode: implicitTLS, extra: map[string]any{"disable_ssl": false}, wantTLS: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			box, clientTLS := setup(t, tt.mode)
			tc := &operator.Context{
				Args:        map[string]any{"to": "ann@example.com", "subject": "s", "html_content": "<p>x</p>", "from_email": "a@example.com"},
				Connections: connections{DefaultConnID: box.conn(tt.extra)},
			}
			if _, err := NewWithTLSConfig(clientTLS).Execute(context.Background(), tc); err != nil {
				t.Fatal(err)
			}
			if d := box.only(t); d.tls != tt.wantTLS {
				t.Errorf("delivered over TLS = %v, want %v", d.tls, tt.wantTLS)
			}
		})
	}
}

func TestUntrustedCertificateFails(t *testing.T) {
	t.Parallel()
	box, _ := setup(t, offersStartTLS)
	tc := &operator.Context{
		Args:        map[string]any{"to": "ann@example.com", "subject": "s", "html_content": "x"},
		Connections: connections{DefaultConnID: box.conn(nil)},
	}
	_, err := New().Execute(context.Background(), tc)
	if err == nil || !strings.Contains(err.Error(), "starttls") {
		t.Fatalf("err = %v, want a starttls certificate error", err)
	}
}

func TestArgumentErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		args    map[string]any
		wantErr string
	}{
		{"no recipient", map[string]any{"to": " , ", "subject": "s"}, "no recipient"},
		{"bad recipient", map[string]any{"to": "not an address", "subject": "s"}, "argument to"},
		{"bad from", map[string]any{"to": "a@example.com", "from_email": "nope"}, "argument from_email"},
		{"missing file", map[string]any{"to": "a@example.com", "files": "/nonexistent/x.csv"}, "attach file"},
	} {
		_, err := New().Execute(context.Background(), &operator.Context{Args: tt.args, Connections: connections{}})
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}

func TestCancelledContextStopsSend(t *testing.T) {
	t.Parallel()
	// A listener that accepts but never greets: the send must end when
	// ctx does, not at the 30 s timeout.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	p, _ := strconv.Atoi(port)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := New().Execute(ctx, &operator.Context{
			Args:        map[string]any{"to": "a@example.com"},
			Connections: connections{DefaultConnID: {Host: host, Port: p}},
		})
		done <- err
	}()
	c := <-accepted
	defer c.Close()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
