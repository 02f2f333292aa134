package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/windsock"
)

// logToken is what a log continuation token carries, with Airflow's
// metadata names.
type logToken struct {
	LogPos   int64 `json:"log_pos"`
	EndOfLog bool  `json:"end_of_log"`
}

// logTokenKey derives the key that signs log tokens from the webserver's
// secret key, so that a token is never a valid session cookie.
func (s *Server) logTokenKey() []byte {
	m := hmac.New(sha256.New, []byte(s.cfg.Webserver.SecretKey))
	m.Write([]byte("windsock task log continuation token"))
	return m.Sum(nil)
}

// signLogToken returns the opaque token for t: its JSON and an HMAC of
// it, both base64url.
func (s *Server) signLogToken(t logToken) string {
	payload, _ := json.Marshal(t) // two plain fields always encode
	m := hmac.New(sha256.New, s.logTokenKey())
	m.Write(payload)
	return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// parseLogToken checks a token's signature and returns what it carries; a
// token that was not made here, or was changed, is a 400.
func (s *Server) parseLogToken(token string) (logToken, error) {
	bad := windsock.Errorf(windsock.EINVALID, "Bad Signature. Please use only the tokens provided by the API.")
	p64, s64, ok := strings.Cut(token, ".")
	if !ok {
		return logToken{}, bad
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p64)
	sig, err2 := base64.RawURLEncoding.DecodeString(s64)
	if err1 != nil || err2 != nil {
		return logToken{}, bad
	}
	m := hmac.New(sha256.New, s.logTokenKey())
	m.Write(payload)
	if !hmac.Equal(sig, m.Sum(nil)) {
		return logToken{}, bad
	}
	var t logToken
	if err := json.Unmarshal(payload, &t); err != nil || t.LogPos < 0 {
		return logToken{}, bad
	}
	return t, nil
}

// wantsText reports whether the request prefers text/plain to JSON: the
// first of the two its Accept header lists (with q > 0) wins; no Accept,
// or only wildcards, means JSON.
func wantsText(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		fields := strings.Split(part, ";")
		refused := false
		for _, p := range fields[1:] {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if q, err := strconv.ParseFloat(v, 64); strings.EqualFold(k, "q") && err == nil && q <= 0 {
				refused = true
			}
		}
		if refused {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(fields[0])) {
		case "text/plain":
			return true
		case "application/json":
			return false
		}
	}
	return false
}

// tryActive reports whether a try in state may still write to its log.
func tryActive(state windsock.TaskInstanceState) bool {
	switch state {
	case windsock.TaskStateQueued, windsock.TaskStateRunning, windsock.TaskStateRestarting,
		windsock.TaskStateDeferred, windsock.TaskStateUpForReschedule:
		return true
	}
	return false
}

// getLog is Airflow's get_log: the log of one try, from the offset a
// continuation token carries. JSON answers {content, continuation_token}
// with one chunk (up to 1 MiB) unless full_content is true; text/plain
// answers the rest of the log. content is the log text itself, where
// Airflow 2.10 sends the Python form of a list of (host, text) pairs.
func (s *Server) getLog(w http.ResponseWriter, r *http.Request) error {
	ids, err := pathIDs(r, "dag_id", "dag_run_id", "task_id")
	if err != nil {
		return err
	}
	n, err := tryNumber(r)
	if err != nil {
		return err
	}
	if err := s.canDAGEntity(r, auth.ActionRead, auth.ResourceTaskLog, ids[0]); err != nil {
		return err
	}
	full, err := queryBool(r, "full_content")
	if err != nil {
		return err
	}
	mapIndex := -1
	if mi, err := queryInt(r, "map_index"); err != nil {
		return err
	} else if mi != nil {
		mapIndex = *mi
	}
	var start logToken
	if tok := r.URL.Query().Get("token"); tok != "" {
		if start, err = s.parseLogToken(tok); err != nil {
			return err
		}
	}
	ti, err := s.taskInstance(r, ids[0], ids[1], ids[2], mapIndex)
	if err != nil {
		return err
	}
	text := wantsText(r)
	all := text || (full != nil && *full)
	src, err := s.openTryLog(r.Context(), ti.TaskInstance, n, start.LogPos)
	if err != nil {
		return err
	}
	var b strings.Builder
	pos := start.LogPos
	for {
		data, next, err := src.Read(r.Context(), pos)
		if err != nil {
			return err
		}
		b.Write(data)
		pos = next
		if len(data) == 0 || !all {
			break
		}
	}
	if text {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(b.String()))
		return nil
	}
	// The log is over when its try can write no more and nothing is left
	// to read.
	ended := n < ti.TryNumber || !tryActive(ti.State)
	if ended && !all {
		rest, _, err := src.Read(r.Context(), pos)
		ended = err == nil && len(rest) == 0
	}
	token := s.signLogToken(logToken{LogPos: pos, EndOfLog: ended})
	return writeJSON(w, http.StatusOK, map[string]string{"content": b.String(), "continuation_token": token})
}
