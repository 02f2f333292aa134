package envrunner

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

// maxHints bounds the streams a token names (a task group may have
// thousands): a stream left out is found again by reading it.
const maxHints = 200

// logCursor is what a next token holds: the last line a page sent, and
// where the streams written around then were left. The rest is derived:
// a stream last modified before that line was read to its end (a line's
// time is taken before it is written), and another starts at its first
// line after it.
type logCursor struct {
	Env    string `json:"e"`
	Group  string `json:"g"`
	At     int64  `json:"t"` // the line's time, unixNanos
	Stream string `json:"s"`
	End    int64  `json:"o"` // where the line after it starts in Stream
	// Hints are streams' offsets and times carried ([offset, unixNanos]).
	Hints map[string][2]int64 `json:"h,omitempty"`
}

// unixNanos and fromNanos keep the zero time (lines before any time) apart.
func unixNanos(t time.Time) int64 {
	if t.IsZero() {
		return math.MinInt64
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == math.MinInt64 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// token is the next token after a page whose last line is last.
func (g *groupReader) token(key []byte, env, group string, last logLine) string {
	c := logCursor{Env: env, Group: group, At: unixNanos(last.at), Stream: last.stream, End: last.end, Hints: map[string][2]int64{}}
	var names []string
	for name, p := range g.pos {
		if m, ok := g.mtime[name]; ok && p.offset > 0 && !m.Before(last.at) {
			names = append(names, name)
		}
	}
	// The stream of the last line first, then those written around it.
	sort.Slice(names, func(i, j int) bool {
		if (names[i] == last.stream) != (names[j] == last.stream) {
			return names[i] == last.stream
		}
		return g.mtime[names[i]].After(g.mtime[names[j]])
	})
	for _, name := range names[:min(len(names), maxHints)] {
		p := g.pos[name]
		c.Hints[name] = [2]int64{p.offset, unixNanos(p.last)}
	}
	payload, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(tokenMAC(key, payload))
}

func tokenMAC(key, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("windsock log token\x00"))
	m.Write(payload)
	return m.Sum(nil)
}

// openToken checks a token a caller passed back: signed with key (so
// issued by this control plane, unchanged), for this environment's group,
// naming only streams inside the group's folder.
func openToken(key []byte, token, env, group string) (*logCursor, error) {
	bad := func(why string) error {
		return windsock.Errorf(windsock.EINVALID, "nextToken: %s", why)
	}
	p, m, ok := strings.Cut(token, ".")
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	mac, err2 := base64.RawURLEncoding.DecodeString(m)
	if !ok || err1 != nil || err2 != nil {
		return nil, bad("malformed: pass back the token a page returned, unchanged")
	}
	if !hmac.Equal(mac, tokenMAC(key, payload)) {
		return nil, bad("not issued by this control plane (or issued before it restarted): read the group again without it")
	}
	var c logCursor
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, bad("malformed: pass back the token a page returned, unchanged")
	}
	if c.Env != env || c.Group != group {
		return nil, bad("issued for log group " + GroupName(c.Env, c.Group) + ", not " + GroupName(env, group))
	}
	// Signed, so never forged; still, no name leaves the group's folder
	// and none is ever opened as given: streams are matched by name
	// against the folder's listing.
	for name, h := range c.Hints {
		if !isStreamName(name) {
			return nil, bad("names a stream outside the log group")
		}
		if h[0] < 0 {
			return nil, bad("malformed: a negative offset")
		}
	}
	if c.Stream != "" && !isStreamName(c.Stream) {
		return nil, bad("names a stream outside the log group")
	}
	if c.End < 0 {
		return nil, bad("malformed: a negative offset")
	}
	return &c, nil
}

// isStreamName: a log file's path relative to its group's folder.
func isStreamName(name string) bool {
	return filepath.IsLocal(name) && filepath.Clean(name) == name && strings.HasSuffix(name, ".log")
}

// resume sets each stream's position after the cursor's line.
func (g *groupReader) resume(c *logCursor) {
	at := fromNanos(c.At)
	after := logLine{at: at, stream: c.Stream, start: c.End}
	for _, name := range streams(g.dir) {
		if h, ok := c.Hints[name]; ok {
			g.pos[name] = streamPos{offset: h[0], last: fromNanos(h[1])}
			continue
		}
		st, err := os.Stat(filepath.Join(g.dir, name))
		if err != nil {
			continue
		}
		if st.ModTime().Before(at) {
			g.pos[name] = streamPos{offset: st.Size()}
			continue
		}
		// Read up to its first line after the cursor's.
		s := &stream{name: name, path: filepath.Join(g.dir, name), open: &g.open}
		for s.next(time.Time{}) {
			if !s.line.before(after) {
				g.pos[name] = streamPos{offset: s.line.start, last: s.line.at}
				break
			}
			g.pos[name] = s.pos
		}
		s.close()
	}
}
