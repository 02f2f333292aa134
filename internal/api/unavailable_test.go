package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/store/sqlstore"
)

// TestWriteFailureIs503: a write the database refuses because it is full
// (SQLite's SQLITE_FULL, made real by PRAGMA max_page_count, as a full
// disk gives it) is a 503 with Retry-After, not a 500; /health reports
// the metadata database unhealthy although it still answers reads, and
// healthy again once a write succeeds.
func TestWriteFailureIs503(t *testing.T) {
	t.Parallel()
	e := setup(t)
	health := func() string {
		t.Helper()
		r := e.doRaw("GET", "/health", "", nil)
		var h HealthInfo
		e.ok(r, http.StatusOK, &h)
		return h.Metadatabase.Status
	}
	big := func(key string) string {
		b, _ := json.Marshal(map[string]string{"key": key, "value": strings.Repeat("v", 256<<10)})
		return string(b)
	}
	if got := health(); got != healthy {
		t.Fatalf("metadatabase %s before the fault", got)
	}

	db := e.st.(*sqlstore.Store).DB() // the single write connection
	var pages int
	mustDo(t, db.QueryRowContext(e.ctx, "PRAGMA page_count").Scan(&pages))
	mustDo(t, db.QueryRowContext(e.ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages)).Scan(&pages))

	r := e.doRaw("POST", "/api/v1/variables", "admin", big("v1"))
	e.problem(r, http.StatusServiceUnavailable, "try again later")
	if r.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if got := health(); got != unhealthy {
		t.Fatalf("metadatabase %s while writes fail", got)
	}
	// Reads still work.
	e.ok(e.doRaw("GET", "/api/v1/variables", "admin", nil), http.StatusOK, nil)

	mustDo(t, db.QueryRowContext(e.ctx, "PRAGMA max_page_count = 1073741823").Scan(&pages))
	e.ok(e.doRaw("POST", "/api/v1/variables", "admin", big("v1")), http.StatusOK, nil)
	if got := health(); got != healthy {
		t.Fatalf("metadatabase %s after a write succeeded again", got)
	}
}
