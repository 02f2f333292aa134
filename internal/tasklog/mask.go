package tasklog

import (
	"bytes"
	"io"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// MinSecretLength is the shortest value a Masker hides. Airflow 2.10 masks
// any non-empty value, which turns a password such as "a" or "abc" into
// "***" in every word of the log; later Airflow releases added
// [logging] min_length_masked_secret with this default, and Windsock
// follows them.
const MinSecretLength = 5

// Replacement is what a secret becomes in the log.
const Replacement = "***"

// Masker holds the secret values of one task try (connection passwords,
// sensitive variables and extras) and replaces them in log output. It is
// safe for concurrent use; secrets added while writers are active apply
// to what they write next. A nil *Masker masks nothing.
type Masker struct {
	mu sync.RWMutex
	// secrets are sorted longest first, so the longest secret starting at
	// a position wins.
	secrets [][]byte
	maxLen  int
}

// NewMasker returns a masker for secrets.
func NewMasker(secrets ...string) *Masker {
	m := &Masker{}
	for _, s := range secrets {
		m.Add(s)
	}
	return m
}

// Add registers a secret. Values shorter than MinSecretLength are ignored.
// Each line of a multi-line secret (a private key) is registered too, since
// logs are masked line by line, and so is the URL-encoded form, which is
// how a password appears in a connection URI.
func (m *Masker) Add(secret string) {
	if m == nil {
		return
	}
	forms := []string{secret, url.QueryEscape(secret), url.PathEscape(secret)}
	if strings.ContainsAny(secret, "\r\n") {
		forms = append(forms, strings.FieldsFunc(secret, func(r rune) bool { return r == '\n' || r == '\r' })...)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, f := range forms {
		m.add(f)
	}
	sort.SliceStable(m.secrets, func(i, j int) bool { return len(m.secrets[i]) > len(m.secrets[j]) })
}

// AddNamed registers the secrets found in v, a decoded JSON value, the way
// Airflow's mask_secret(v, name) does. A string is a secret when name is
// "" (as in Airflow, where an empty name is no name) or sensitive(name)
// holds. In an object each value is looked at under
// its own key, at any depth: the enclosing name no longer counts, so a
// sensitive name does not make every field of an object a secret. The
// items of an array keep the array's name. Numbers, booleans and nulls are
// never secrets.
func (m *Masker) AddNamed(v any, name string, sensitive func(name string) bool) {
	if m == nil {
		return
	}
	switch x := v.(type) {
	case string:
		if name == "" || sensitive(name) {
			m.Add(x)
		}
	case map[string]any:
		for k, e := range x {
			m.AddNamed(e, k, sensitive)
		}
	case []any:
		for _, e := range x {
			m.AddNamed(e, name, sensitive)
		}
	}
}

func (m *Masker) add(s string) {
	if len(s) < MinSecretLength {
		return
	}
	for _, have := range m.secrets {
		if string(have) == s {
			return
		}
	}
	m.secrets = append(m.secrets, []byte(s))
	m.maxLen = max(m.maxLen, len(s))
}

// Empty reports whether m holds no secret (a nil Masker holds none), so
// callers can skip masking work.
func (m *Masker) Empty() bool {
	if m == nil {
		return true
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.secrets) == 0
}

// Mask returns s with every secret replaced.
func (m *Masker) Mask(s string) string {
	if m == nil {
		return s
	}
	out, _ := m.mask(nil, []byte(s), true)
	return string(out)
}

// mask appends buf to dst with secrets replaced and returns how much of
// buf it consumed. Unless final, it keeps back the tail that could be the
// start of a secret continuing in data not seen yet: a match is only
// committed when it starts where every secret would be fully visible.
func (m *Masker) mask(dst, buf []byte, final bool) ([]byte, int) {
	if m == nil {
		return append(dst, buf...), len(buf)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	limit := len(buf)
	if !final {
		limit = max(len(buf)-max(m.maxLen-1, 0), 0)
	}
	i := 0
	for len(m.secrets) > 0 {
		start, end := -1, -1
		for _, s := range m.secrets {
			j := bytes.Index(buf[i:], s)
			// Longest first: an equal start found later is shorter.
			if j >= 0 && (start < 0 || i+j < start) {
				start, end = i+j, i+j+len(s)
			}
		}
		if start < 0 || start >= limit {
			break
		}
		dst = append(dst, buf[i:start]...)
		dst = append(dst, Replacement...)
		i = end
	}
	if i < limit {
		dst = append(dst, buf[i:limit]...)
		i = limit
	}
	return dst, i
}

// Writer returns a writer that masks what is written to it and passes it
// on to w. A secret split across two Write calls is still masked: up to
// the length of the longest secret is held back until more data or Close
// shows whether it completes one. Close flushes and does not close w.
func (m *Masker) Writer(w io.Writer) io.WriteCloser {
	return &maskWriter{m: m, w: w}
}

type maskWriter struct {
	m       *Masker
	w       io.Writer
	pending []byte
	out     []byte
}

func (mw *maskWriter) Write(p []byte) (int, error) {
	mw.pending = append(mw.pending, p...)
	return len(p), mw.flush(false)
}

func (mw *maskWriter) Close() error {
	return mw.flush(true)
}

func (mw *maskWriter) flush(final bool) error {
	var n int
	mw.out, n = mw.m.mask(mw.out[:0], mw.pending, final)
	mw.pending = append(mw.pending[:0], mw.pending[n:]...)
	if len(mw.out) == 0 {
		return nil
	}
	_, err := mw.w.Write(mw.out)
	return err
}
