package secrets

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/windsock/windsock/internal/windsock"
)

// Connection is a connection as users see it: every value in plain text.
// Port 0 means unset; Extra is JSON text (usually an object) or empty.
type Connection struct {
	ConnID      string
	ConnType    string
	Description string
	Host        string
	Schema      string
	Login       string
	Password    string
	Port        int
	Extra       string
}

// extraParam is the query parameter that carries a raw JSON extra in a URI.
const extraParam = "__extra__"

// ParseURI reads Airflow's connection URI form,
//
//	conn_type://login:password@host:port/schema?param=value
//
// as Airflow's Connection does: components are percent-decoded; conn_type
// "postgresql" becomes "postgres" and '-' becomes '_'; query parameters
// become a JSON object in Extra unless __extra__ carries the raw JSON; a
// host written as protocol://host (conn_type://protocol://host) keeps its
// protocol; the host name is lower-cased unless it was percent-encoded
// with a '/'. Errors never repeat the URI, which may hold a password.
func ParseURI(connID, uri string) (*Connection, error) {
	invalid := func(why string) error {
		return windsock.Errorf(windsock.EINVALID, "connection %q: invalid connection URI: %s", connID, why)
	}
	uri = strings.TrimSpace(uri)
	schemes := strings.Count(uri, "://")
	if schemes > 2 {
		return nil, invalid(`"://" appears more than twice`)
	}
	c := &Connection{ConnID: connID}
	var rest string
	if r, ok := strings.CutPrefix(uri, "//"); ok {
		rest = r // no conn_type, as Connection.get_uri writes it
	} else {
		scheme, r, ok := strings.Cut(uri, "://")
		if !ok || !validScheme(scheme) {
			return nil, invalid("it must start with conn_type://")
		}
		c.ConnType = normalizeConnType(strings.ToLower(scheme))
		rest = r
	}

	protocol := ""
	if schemes == 2 {
		p, r, _ := strings.Cut(rest, "://")
		if strings.ContainsAny(p, "@:") || !validScheme(p) {
			return nil, invalid("a protocol in the host must come right after conn_type://")
		}
		protocol, rest = strings.ToLower(p), r
	}

	netloc := rest
	after := ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		netloc, after = rest[:i], rest[i:]
	}
	after, _, _ = strings.Cut(after, "#")
	path, query, _ := strings.Cut(after, "?")

	hostport := netloc
	if i := strings.LastIndex(netloc, "@"); i >= 0 {
		login, password, _ := strings.Cut(netloc[:i], ":")
		c.Login, c.Password = unquote(login), unquote(password)
		hostport = netloc[i+1:]
	}
	host, port, err := splitHostPort(hostport)
	if err != nil {
		return nil, invalid(err.Error())
	}
	c.Port = port
	c.Host = decodeHost(host, hostport)
	if protocol != "" {
		c.Host = protocol + "://" + c.Host
	}
	c.Schema = unquote(strings.TrimPrefix(path, "/"))

	if query != "" {
		params := parseQuery(query)
		if raw, ok := params.get(extraParam); ok {
			c.Extra = raw
		} else {
			extra, err := params.json()
			if err != nil {
				return nil, fmt.Errorf("connection %q: encode extra: %w", connID, err)
			}
			c.Extra = extra
		}
	}
	return c, nil
}

// validScheme is RFC 3986's scheme syntax, as urlsplit requires it.
func validScheme(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return true
}

func normalizeConnType(t string) string {
	if t == "postgresql" {
		return "postgres"
	}
	return strings.ReplaceAll(t, "-", "_")
}

// splitHostPort follows urlsplit: an IPv6 host is bracketed, the port must
// be digits in 0..65535, and an empty port is no port.
func splitHostPort(hostport string) (string, int, error) {
	host, port := hostport, ""
	if strings.HasPrefix(hostport, "[") {
		inner, tail, ok := strings.Cut(hostport[1:], "]")
		if !ok {
			return "", 0, errors.New("unclosed [ in host")
		}
		host = inner
		_, port, _ = strings.Cut(tail, ":")
	} else {
		host, port, _ = strings.Cut(hostport, ":")
	}
	if port == "" {
		return host, 0, nil
	}
	for _, r := range port {
		if r < '0' || r > '9' {
			return "", 0, errors.New("the port must be a number")
		}
	}
	n, err := strconv.Atoi(port)
	if err != nil || n > 65535 {
		return "", 0, errors.New("the port must be between 0 and 65535")
	}
	return host, n, nil
}

// decodeHost reproduces Airflow's _parse_netloc_to_hostname on top of
// urlsplit's hostname, which lower-cases the part before any '%'.
func decodeHost(host, hostport string) string {
	lowered := host
	if before, after, found := strings.Cut(host, "%"); found {
		lowered = strings.ToLower(before) + "%" + after
	} else {
		lowered = strings.ToLower(host)
	}
	decoded := unquote(lowered)
	if strings.Contains(decoded, "/") {
		// A percent-encoded path (e.g. a socket or a URL): take it as
		// written, case included.
		h, _, _ := strings.Cut(hostport, ":")
		decoded = unquote(h)
	}
	return decoded
}

// URI returns the connection in Airflow's URI form, as
// Connection.get_uri writes it; ParseURI reads it back.
func (c *Connection) URI() string {
	var b strings.Builder
	if c.ConnType != "" {
		b.WriteString(strings.ReplaceAll(strings.ToLower(c.ConnType), "_", "-"))
		b.WriteString("://")
	} else {
		b.WriteString("//")
	}

	host := c.Host
	if protocol, h, ok := strings.Cut(c.Host, "://"); ok && protocol != c.ConnType {
		b.WriteString(protocol + "://")
		host = h
	}

	authority := ""
	if c.Login != "" {
		authority += quote(c.Login)
	}
	if c.Password != "" {
		authority += ":" + quote(c.Password)
	}
	if authority != "" {
		authority += "@"
		b.WriteString(authority)
	}

	hostBlock := quote(host)
	if c.Port != 0 {
		if hostBlock == "" && authority == "" {
			hostBlock += "@"
		}
		hostBlock += ":" + strconv.Itoa(c.Port)
	}
	if c.Schema != "" {
		hostBlock += "/" + quote(c.Schema)
	}
	b.WriteString(hostBlock)

	if c.Extra != "" {
		if c.Schema != "" {
			b.WriteString("?")
		} else {
			b.WriteString("/?")
		}
		if pairs, ok := stringObject(c.Extra); ok {
			b.WriteString(pairs.encode())
		} else {
			b.WriteString(extraParam + "=" + quotePlus(c.Extra))
		}
	}
	return b.String()
}

// ParseJSON reads Airflow's JSON form of a connection (Connection.from_json,
// also what AIRFLOW_CONN_<ID> may hold): {"conn_type": ..., "host": ...,
// "login": ..., "password": ..., "schema": ..., "port": ..., "extra": {...}
// or "..."}.
func ParseJSON(connID string, data []byte) (*Connection, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, windsock.Errorf(windsock.EINVALID, "connection %q: invalid JSON: %v", connID, err)
	}
	return fromMap(connID, m)
}

// ExportMap returns the connection as `airflow connections export` writes
// it: conn_type, description, host, login, password, schema, port and
// extra (as text), with null for unset values.
func (c *Connection) ExportMap() map[string]any {
	str := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	var port any
	if c.Port != 0 {
		port = c.Port
	}
	return map[string]any{
		"conn_type":   str(c.ConnType),
		"description": str(c.Description),
		"host":        str(c.Host),
		"login":       str(c.Login),
		"password":    str(c.Password),
		"schema":      str(c.Schema),
		"port":        port,
		"extra":       str(c.Extra),
	}
}

// connectionFields are the keys a connection object may have in JSON, YAML
// and env files (Airflow's Connection parameters plus extra_dejson).
var connectionFields = []string{"conn_id", "conn_type", "description", "extra", "extra_dejson", "host", "login", "password", "port", "schema", "uri"}

// fromMap builds a connection from its object form, checking it as
// Airflow's local-filesystem secrets backend and from_json do.
func fromMap(connID string, m map[string]any) (*Connection, error) {
	invalid := func(format string, args ...any) error {
		return windsock.Errorf(windsock.EINVALID, "connection %q: %s", connID, fmt.Sprintf(format, args...))
	}
	for k := range m {
		if !contains(connectionFields, k) {
			return nil, invalid("unknown field %q; allowed: %s", k, strings.Join(connectionFields, ", "))
		}
	}
	if id, ok := m["conn_id"]; ok && id != nil && id != connID {
		return nil, invalid("conn_id %v does not match the key it is listed under", id)
	}
	if _, ok := m["extra_dejson"]; ok {
		if _, both := m["extra"]; both {
			return nil, invalid("extra and extra_dejson are mutually exclusive")
		}
	}

	strField := func(name string) (string, error) {
		switch v := m[name].(type) {
		case nil:
			return "", nil
		case string:
			return v, nil
		}
		return "", invalid("%s must be a string, got %T", name, m[name])
	}

	var c *Connection
	if m["uri"] != nil {
		for _, f := range []string{"conn_type", "host", "login", "password", "schema", "port", "extra", "extra_dejson"} {
			if m[f] != nil {
				return nil, invalid("give either uri or the individual fields, not both (found uri and %s)", f)
			}
		}
		uri, err := strField("uri")
		if err != nil {
			return nil, err
		}
		if c, err = ParseURI(connID, uri); err != nil {
			return nil, err
		}
	} else {
		c = &Connection{ConnID: connID}
		for _, f := range []struct {
			name string
			dst  *string
		}{{"conn_type", &c.ConnType}, {"host", &c.Host}, {"login", &c.Login}, {"password", &c.Password}, {"schema", &c.Schema}} {
			v, err := strField(f.name)
			if err != nil {
				return nil, err
			}
			*f.dst = v
		}
		c.ConnType = normalizeConnType(c.ConnType)
		port, err := portValue(m["port"])
		if err != nil {
			return nil, invalid("%v", err)
		}
		c.Port = port
		extra := m["extra"]
		if ed, ok := m["extra_dejson"]; ok && ed != nil {
			// extra_dejson is the decoded extra: always encode it, as
			// Airflow's json.dumps(extra_dejson).
			b, err := marshalJSON(ed)
			if err != nil {
				return nil, invalid("extra_dejson: %v", err)
			}
			extra = string(b)
		}
		if c.Extra, err = extraText(extra); err != nil {
			return nil, invalid("extra: %v", err)
		}
	}
	desc, err := strField("description")
	if err != nil {
		return nil, err
	}
	c.Description = desc
	return c, nil
}

// extraText turns an extra given as text or as a structure into the JSON
// text stored in the extra column. Empty structures mean no extra, as
// Airflow treats falsy extras.
func extraText(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case map[string]any:
		if len(x) == 0 {
			return "", nil
		}
	case []any:
		if len(x) == 0 {
			return "", nil
		}
	}
	b, err := marshalJSON(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// marshalJSON is json.Marshal without HTML escaping: extras often hold
// URLs, whose '&' should stay readable.
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// portValue accepts a port as a number or a numeric string, as
// from_json's int(port) does; null, "" and 0 are no port.
func portValue(v any) (int, error) {
	var f float64
	switch x := v.(type) {
	case nil:
		return 0, nil
	case string:
		if strings.TrimSpace(x) == "" {
			return 0, nil
		}
		n, err := strconv.Atoi(strings.TrimSpace(x))
		if err != nil {
			return 0, fmt.Errorf("port must be an integer, got %q", x)
		}
		f = float64(n)
	case json.Number:
		n, err := x.Float64()
		if err != nil {
			return 0, fmt.Errorf("port must be an integer, got %s", x)
		}
		f = n
	case float64:
		f = x
	case int:
		f = float64(x)
	case uint64:
		f = float64(x)
	default:
		return 0, fmt.Errorf("port must be an integer, got %T", v)
	}
	if f != math.Trunc(f) || f < 0 || f > 65535 {
		return 0, fmt.Errorf("port must be an integer between 0 and 65535, got %v", f)
	}
	return int(f), nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// queryPairs are decoded query parameters in order; a repeated name keeps
// its first position and its last value, as dict(parse_qsl(...)).
type queryPairs []([2]string)

func (q queryPairs) get(name string) (string, bool) {
	for _, p := range q {
		if p[0] == name {
			return p[1], true
		}
	}
	return "", false
}

func (q queryPairs) set(name, value string) queryPairs {
	for i, p := range q {
		if p[0] == name {
			q[i][1] = value
			return q
		}
	}
	return append(q, [2]string{name, value})
}

// json encodes the pairs as a JSON object.
func (q queryPairs) json() (string, error) {
	m := make(map[string]string, len(q))
	for _, p := range q {
		m[p[0]] = p[1]
	}
	b, err := marshalJSON(m)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// encode writes the pairs as urlencode does.
func (q queryPairs) encode() string {
	parts := make([]string, len(q))
	for i, p := range q {
		parts[i] = quotePlus(p[0]) + "=" + quotePlus(p[1])
	}
	return strings.Join(parts, "&")
}

// parseQuery is parse_qsl(query, keep_blank_values=True).
func parseQuery(query string) queryPairs {
	var out queryPairs
	for _, part := range strings.Split(query, "&") {
		if part == "" {
			continue
		}
		name, value, _ := strings.Cut(part, "=")
		out = out.set(unquotePlus(name), unquotePlus(value))
	}
	return out
}

// stringObject returns the members of extra when it is a non-empty JSON
// object of string values, the only extras Airflow writes as plain query
// parameters (anything else would not read back the same).
func stringObject(extra string) (queryPairs, bool) {
	dec := json.NewDecoder(strings.NewReader(extra))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var pairs queryPairs
	for dec.More() {
		keyTok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		valTok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		value, ok := valTok.(string)
		if !ok {
			return nil, false
		}
		pairs = pairs.set(keyTok.(string), value)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, false
	}
	if _, err := dec.Token(); err == nil {
		return nil, false // trailing data
	}
	return pairs, len(pairs) > 0
}

// quote is Python's urllib.parse.quote(s, safe=""): everything but
// letters, digits and "_.-~" is percent-encoded.
func quote(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || strings.IndexByte("_.-~", ch) >= 0 {
			b.WriteByte(ch)
		} else {
			fmt.Fprintf(&b, "%%%02X", ch)
		}
	}
	return b.String()
}

// quotePlus is Python's quote_plus: quote, with spaces as '+'.
func quotePlus(s string) string {
	return strings.ReplaceAll(quote(s), "%20", "+")
}

// unquote is Python's urllib.parse.unquote: valid %XX sequences are
// decoded, anything else is kept as written.
func unquote(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			n, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
			b.WriteByte(byte(n))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func unquotePlus(s string) string {
	return unquote(strings.ReplaceAll(s, "+", " "))
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// sortConnections orders connections by conn_id.
func sortConnections(conns []*Connection) {
	sort.Slice(conns, func(i, j int) bool { return conns[i].ConnID < conns[j].ConnID })
}
