// Package email runs Airflow's EmailOperator: it builds a MIME message
// (HTML body, attachments) and sends it over SMTP through an Airflow
// connection.
package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/windsock"
)

// Defaults, as Airflow's [smtp] section and the SMTP provider set them.
const (
	DefaultConnID   = "smtp_default"
	DefaultHost     = "localhost"
	DefaultPort     = 25
	DefaultFrom     = "airflow@example.com"
	DefaultTimeout  = 30 * time.Second
	implicitTLSPort = 465
)

// Operator is EmailOperator.
//
// Arguments: to (required; a string, comma or semicolon separated, or a
// list), cc, bcc, subject, html_content, from_email, files (paths of
// attachments; relative paths are taken from the DAGs folder),
// mime_subtype (default "mixed"), mime_charset (default "utf-8") and
// conn_id (default "smtp_default").
//
// The connection gives host (default localhost), port (default 25),
// login/password (AUTH PLAIN, which net/smtp only sends over TLS or to
// localhost) and extra: from_email (the sender when the task sets none;
// else airflow@example.com, Airflow's default), timeout (seconds, default
// 30), disable_tls (do not STARTTLS) and disable_ssl. Implicit TLS is used
// on port 465 unless disable_ssl is true, and on any port when disable_ssl
// is explicitly false (the provider's default is implicit TLS everywhere,
// which a port-25 server would refuse); otherwise STARTTLS is used when the
// server offers it, unless disable_tls is true. A missing connection means
// an unauthenticated localhost:25, as Airflow's [smtp] defaults do.
type Operator struct {
	tlsConfig *tls.Config
}

// New returns the email operator, verifying servers against the system's
// certificate pool.
func New() *Operator { return &Operator{} }

// NewWithTLSConfig returns the email operator using cfg (its roots, client
// certificates) for TLS; ServerName is filled in per connection.
func NewWithTLSConfig(cfg *tls.Config) *Operator { return &Operator{tlsConfig: cfg} }

// Execute builds the message and sends it.
func (o *Operator) Execute(ctx context.Context, tc *operator.Context) (*operator.Result, error) {
	connID, err := operator.StringArg(tc.Args, "conn_id", DefaultConnID)
	if err != nil {
		return nil, err
	}
	srv, err := o.server(ctx, tc, connID)
	if err != nil {
		return nil, err
	}
	msg, err := readMessage(tc, srv.from)
	if err != nil {
		return nil, err
	}
	data, err := msg.build()
	if err != nil {
		return nil, err
	}
	if err := srv.send(ctx, msg.from.Address, msg.recipients(), data); err != nil {
		return nil, fmt.Errorf("send email via %s: %w", srv.addr(), err)
	}
	operator.Logf(tc.Log, "Sent email %q to %s", msg.subject, strings.Join(msg.recipients(), ", "))
	return &operator.Result{}, nil
}

// readMessage reads the message arguments.
func readMessage(tc *operator.Context, connFrom string) (*message, error) {
	m := &message{date: time.Now(), messageIDHost: "windsock"}
	if tc.Now != nil {
		m.date = tc.Now()
	}
	var err error
	lists := []struct {
		name string
		dst  *[]*mail.Address
	}{{"to", &m.to}, {"cc", &m.cc}, {"bcc", &m.bcc}}
	for _, l := range lists {
		values, err := operator.StringListArg(tc.Args, l.name)
		if err != nil {
			return nil, err
		}
		if *l.dst, err = parseAddresses(l.name, values); err != nil {
			return nil, err
		}
	}
	if len(m.to) == 0 {
		return nil, errors.New("argument to: no recipient")
	}
	from, err := operator.StringArg(tc.Args, "from_email", "")
	if err != nil {
		return nil, err
	}
	if from == "" {
		from = connFrom
	}
	if m.from, err = mail.ParseAddress(from); err != nil {
		return nil, fmt.Errorf("argument from_email: bad address %q: %w", from, err)
	}
	if m.subject, err = operator.StringArg(tc.Args, "subject", ""); err != nil {
		return nil, err
	}
	// A line break in a header would let the subject add headers.
	m.subject = strings.Join(strings.Fields(m.subject), " ")
	if m.html, err = operator.StringArg(tc.Args, "html_content", ""); err != nil {
		return nil, err
	}
	if m.subtype, err = operator.StringArg(tc.Args, "mime_subtype", "mixed"); err != nil {
		return nil, err
	}
	if m.charset, err = operator.StringArg(tc.Args, "mime_charset", "utf-8"); err != nil {
		return nil, err
	}
	if m.files, err = operator.StringListArg(tc.Args, "files"); err != nil {
		return nil, err
	}
	for i, f := range m.files {
		if !filepath.IsAbs(f) && tc.DagsFolder != "" {
			m.files[i] = filepath.Join(tc.DagsFolder, f)
		}
	}
	return m, nil
}

// server is a resolved SMTP connection.
type server struct {
	host        string
	port        int
	login, pass string
	from        string
	timeout     time.Duration
	implicitTLS bool
	startTLS    bool
	tlsConfig   *tls.Config
}

func (s *server) addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

// server resolves connID; a connection that does not exist means
// Airflow's [smtp] defaults.
func (o *Operator) server(ctx context.Context, tc *operator.Context, connID string) (*server, error) {
	s := &server{host: DefaultHost, port: DefaultPort, from: DefaultFrom, timeout: DefaultTimeout, startTLS: true}
	var conn *operator.Connection
	if tc.Connections != nil {
		c, err := tc.Connections.Connection(ctx, connID)
		switch {
		case err == nil:
			conn = c
		case windsock.ErrorCode(err) != windsock.ENOTFOUND:
			return nil, fmt.Errorf("get connection %s: %w", connID, err)
		}
	}
	if conn != nil {
		if conn.Host != "" {
			s.host = conn.Host
		}
		if conn.Port != 0 {
			s.port = conn.Port
		}
		s.login, s.pass = conn.Login, conn.Password
		extra := conn.Extra
		var err error
		if s.from, err = operator.StringArg(extra, "from_email", s.from); err != nil {
			return nil, fmt.Errorf("connection %s extra: %w", connID, err)
		}
		secs, err := operator.FloatArg(extra, "timeout", s.timeout.Seconds())
		if err != nil {
			return nil, fmt.Errorf("connection %s extra: %w", connID, err)
		}
		s.timeout = time.Duration(secs * float64(time.Second))
		disableTLS, err := operator.BoolArg(extra, "disable_tls", false)
		if err != nil {
			return nil, fmt.Errorf("connection %s extra: %w", connID, err)
		}
		s.startTLS = !disableTLS
		disableSSL, err := operator.BoolArg(extra, "disable_ssl", false)
		if err != nil {
			return nil, fmt.Errorf("connection %s extra: %w", connID, err)
		}
		explicit := extra["disable_ssl"] != nil
		s.implicitTLS = !disableSSL && (explicit || s.port == implicitTLSPort)
	}
	cfg := &tls.Config{}
	if o.tlsConfig != nil {
		cfg = o.tlsConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = s.host
	}
	s.tlsConfig = cfg
	return s, nil
}

// send delivers data to rcpts. net/smtp takes no context, so the
// connection's deadline carries the timeout and ctx closes it early.
func (s *server) send(ctx context.Context, from string, rcpts []string, data []byte) error {
	dialer := &net.Dialer{Timeout: s.timeout}
	var conn net.Conn
	var err error
	if s.implicitTLS {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: s.tlsConfig}).DialContext(ctx, "tcp", s.addr())
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", s.addr())
	}
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if s.timeout > 0 {
		if err := conn.SetDeadline(time.Now().Add(s.timeout)); err != nil {
			conn.Close()
			return fmt.Errorf("set deadline: %w", err)
		}
	}
	err = s.converse(conn, from, rcpts, data)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func (s *server) converse(conn net.Conn, from string, rcpts []string, data []byte) error {
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("greeting: %w", err)
	}
	defer c.Close()
	if s.startTLS && !s.implicitTLS {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(s.tlsConfig); err != nil {
				return fmt.Errorf("starttls: %w", err)
			}
		}
	}
	if s.login != "" {
		if err := c.Auth(smtp.PlainAuth("", s.login, s.pass, s.host)); err != nil {
			return fmt.Errorf("auth: %w", err)
		}
	}
	if err := c.Mail(from); err != nil {
		return fmt.Errorf("mail from: %w", err)
	}
	for _, r := range rcpts {
		if err := c.Rcpt(r); err != nil {
			return fmt.Errorf("rcpt to %s: %w", r, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	return c.Quit()
}
