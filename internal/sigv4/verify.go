// Package sigv4 verifies AWS Signature Version 4 on incoming HTTP requests
// (the Authorization-header form the AWS SDKs and CLI send), so that the
// control plane accepts exactly the requests AWS would: same canonical
// request, same refusals (unknown key, wrong signature, stale date), with
// AWS's error codes and messages.
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Algorithm is the only signing algorithm accepted.
const Algorithm = "AWS4-HMAC-SHA256"

// MaxSkew is how far a request's date may be from the server's clock, as
// AWS allows.
const MaxSkew = 5 * time.Minute

// dateFormat is the X-Amz-Date layout.
const dateFormat = "20060102T150405Z"

// Error is a refusal, worded as AWS words it: Code goes in the
// X-Amzn-ErrorType header and Message in the body. All are HTTP 403 except
// IncompleteSignatureException (400).
type Error struct {
	Code    string
	Message string
	Status  int
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func refuse(code, msg string) *Error {
	return &Error{Code: code, Message: msg, Status: http.StatusForbidden}
}

// Errors AWS answers with.
var (
	// ErrMissingToken is a request without credentials.
	ErrMissingToken = refuse("MissingAuthenticationTokenException", "Missing Authentication Token")
	// ErrUnknownKey is an access key id the server does not know.
	ErrUnknownKey = refuse("UnrecognizedClientException", "The security token included in the request is invalid.")
	// ErrSignatureMismatch is a signature that does not verify.
	ErrSignatureMismatch = refuse("InvalidSignatureException",
		"The request signature we calculated does not match the signature you provided. "+
			"Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
)

// Credentials is what a verified request was signed with.
type Credentials struct {
	AccessKeyID string
	Region      string
	Service     string
}

// Verifier checks requests signed for one service.
type Verifier struct {
	// Service is the signing name (e.g. "airflow").
	Service string
	// Secret returns the secret access key of an access key id, false when
	// the key does not exist.
	Secret func(accessKeyID string) (string, bool)
	// Clock is the server's clock; nil means time.Now.
	Clock func() time.Time
}

// authHeader is a parsed Authorization header.
type authHeader struct {
	keyID, date, region, service string
	signedHeaders                []string
	signature                    string
}

// Verify checks r's signature over body (the request body, already read).
// It returns the credentials on success and an *Error otherwise.
func (v *Verifier) Verify(r *http.Request, body []byte) (Credentials, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		if r.URL.Query().Get("X-Amz-Signature") != "" {
			return Credentials{}, &Error{Code: "IncompleteSignatureException", Status: http.StatusBadRequest,
				Message: "Query-string (presigned) authentication is not supported by this endpoint."}
		}
		return Credentials{}, ErrMissingToken
	}
	a, err := parseAuthorization(h)
	if err != nil {
		return Credentials{}, err
	}
	if a.service != v.Service {
		return Credentials{}, refuse("InvalidSignatureException",
			fmt.Sprintf("Credential should be scoped to correct service: '%s'. ", v.Service))
	}
	amzDate := r.Header.Get("X-Amz-Date")
	if amzDate == "" {
		return Credentials{}, &Error{Code: "IncompleteSignatureException", Status: http.StatusBadRequest,
			Message: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=" + h}
	}
	at, perr := time.Parse(dateFormat, amzDate)
	if perr != nil {
		return Credentials{}, &Error{Code: "IncompleteSignatureException", Status: http.StatusBadRequest,
			Message: "Date must be in ISO-8601 'basic format'. Got '" + amzDate + "'. See http://en.wikipedia.org/wiki/ISO_8601"}
	}
	if err := v.checkDate(at); err != nil {
		return Credentials{}, err
	}
	if !strings.HasPrefix(amzDate, a.date) {
		return Credentials{}, refuse("InvalidSignatureException",
			fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", a.date, amzDate[:8], amzDate))
	}
	secret, ok := v.Secret(a.keyID)
	if !ok {
		return Credentials{}, ErrUnknownKey
	}
	canonical := canonicalRequest(r, a.signedHeaders, body)
	scope := strings.Join([]string{a.date, a.region, a.service, "aws4_request"}, "/")
	toSign := strings.Join([]string{Algorithm, amzDate, scope, hexSHA256([]byte(canonical))}, "\n")
	want := hex.EncodeToString(hmacSHA256(signingKey(secret, a.date, a.region, a.service), []byte(toSign)))
	if !hmac.Equal([]byte(want), []byte(a.signature)) {
		return Credentials{}, ErrSignatureMismatch
	}
	return Credentials{AccessKeyID: a.keyID, Region: a.region, Service: a.service}, nil
}

// checkDate refuses a request dated more than MaxSkew away from now, with
// the message AWS uses (the SDKs recognise it and correct their clock).
func (v *Verifier) checkDate(at time.Time) error {
	now := time.Now
	if v.Clock != nil {
		now = v.Clock
	}
	n := now().UTC()
	switch {
	case at.Before(n.Add(-MaxSkew)):
		return refuse("InvalidSignatureException", fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 5 min.)",
			at.Format(dateFormat), n.Add(-MaxSkew).Format(dateFormat), n.Format(dateFormat)))
	case at.After(n.Add(MaxSkew)):
		return refuse("InvalidSignatureException", fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 5 min.)",
			at.Format(dateFormat), n.Add(MaxSkew).Format(dateFormat), n.Format(dateFormat)))
	}
	return nil
}

// parseAuthorization reads "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/
// SERVICE/aws4_request, SignedHeaders=a;b, Signature=hex".
func parseAuthorization(h string) (authHeader, error) {
	var a authHeader
	alg, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if alg != Algorithm {
		return a, &Error{Code: "IncompleteSignatureException", Status: http.StatusBadRequest,
			Message: "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. " +
				"Authorization header requires 'SignedHeaders' parameter. Authorization=" + h}
	}
	var credential string
	for _, part := range strings.Split(rest, ",") {
		k, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			credential = val
		case "SignedHeaders":
			a.signedHeaders = strings.Split(val, ";")
		case "Signature":
			a.signature = val
		}
	}
	var missing []string
	if credential == "" {
		missing = append(missing, "Authorization header requires 'Credential' parameter.")
	}
	if a.signature == "" {
		missing = append(missing, "Authorization header requires 'Signature' parameter.")
	}
	if len(a.signedHeaders) == 0 {
		missing = append(missing, "Authorization header requires 'SignedHeaders' parameter.")
	}
	if len(missing) > 0 {
		return a, &Error{Code: "IncompleteSignatureException", Status: http.StatusBadRequest,
			Message: strings.Join(missing, " ") + " Authorization=" + h}
	}
	parts := strings.Split(credential, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		return a, &Error{Code: "IncompleteSignatureException", Status: http.StatusBadRequest,
			Message: "Credential should be scoped to a valid region. "}
	}
	a.keyID, a.date, a.region, a.service = parts[0], parts[1], parts[2], parts[3]
	return a, nil
}

// canonicalRequest builds SigV4's canonical request. The path is the
// escaped path as sent, escaped once more, as every service but S3 does.
func canonicalRequest(r *http.Request, signed []string, body []byte) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	b.WriteString(escape(path, false))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery))
	b.WriteByte('\n')
	for _, name := range signed {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(headerValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	b.WriteString(hexSHA256(body))
	return b.String()
}

// headerValue is a signed header's canonical value: values trimmed, inner
// runs of spaces collapsed, several values joined by commas. Go moves Host
// out of the header map.
func headerValue(r *http.Request, name string) string {
	var values []string
	switch name {
	case "host":
		values = []string{r.Host}
	case "content-length":
		values = r.Header.Values("Content-Length")
		if len(values) == 0 && r.ContentLength >= 0 {
			values = []string{fmt.Sprint(r.ContentLength)}
		}
	default:
		values = r.Header.Values(name)
	}
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(out, ",")
}

// canonicalQuery sorts the query's pairs and encodes them as SigV4 wants
// (RFC 3986 unreserved characters kept, everything else %XX).
func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	type pair struct{ k, v string }
	var pairs []pair
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if dv, err := url.QueryUnescape(v); err == nil {
			v = dv
		}
		pairs = append(pairs, pair{escape(k, true), escape(v, true)})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p.k + "=" + p.v
	}
	return strings.Join(out, "&")
}

// escape percent-encodes every byte but RFC 3986's unreserved characters
// (and '/' unless encodeSlash).
func escape(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		case c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), []byte(date))
	k = hmacSHA256(k, []byte(region))
	k = hmacSHA256(k, []byte(service))
	return hmacSHA256(k, []byte("aws4_request"))
}

func hmacSHA256(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}

func hexSHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
