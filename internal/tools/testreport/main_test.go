package main

import (
	"bytes"
	"strings"
	"testing"
)

// stream is `go test -json` output of three packages: one with a failed
// and two skipped tests, one that skips its browser test, one that does
// not build.
const stream = `{"Action":"start","Package":"ex/store"}
{"Action":"run","Package":"ex/store","Test":"TestPostgres"}
{"Action":"output","Package":"ex/store","Test":"TestPostgres","Output":"=== RUN   TestPostgres\n"}
{"Action":"output","Package":"ex/store","Test":"TestPostgres","Output":"    storetest.go:48: WINDSOCK_TEST_POSTGRES_URL is not set; skipping PostgreSQL tests\n"}
{"Action":"output","Package":"ex/store","Test":"TestPostgres","Output":"--- SKIP: TestPostgres (0.00s)\n"}
{"Action":"skip","Package":"ex/store","Test":"TestPostgres"}
{"Action":"output","Package":"ex/store","Test":"TestCluster","Output":"    storetest.go:48: WINDSOCK_TEST_POSTGRES_URL is not set; skipping PostgreSQL tests\n"}
{"Action":"skip","Package":"ex/store","Test":"TestCluster"}
{"Action":"output","Package":"ex/store","Test":"TestSQLite","Output":"    store_test.go:9: got 1, want 2\n"}
{"Action":"output","Package":"ex/store","Test":"TestSQLite","Output":"--- FAIL: TestSQLite (0.01s)\n"}
{"Action":"fail","Package":"ex/store","Test":"TestSQLite"}
{"Action":"output","Package":"ex/store","Test":"TestFine","Output":"    fine_test.go:3: chatter\n"}
{"Action":"pass","Package":"ex/store","Test":"TestFine"}
{"Action":"output","Package":"ex/store","Output":"FAIL\n"}
{"Action":"output","Package":"ex/store","Output":"FAIL\tex/store\t0.02s\n"}
{"Action":"fail","Package":"ex/store"}
{"Action":"output","Package":"ex/web","Test":"TestBrowser","Output":"    browser_test.go:41: no chromium at /usr/bin/chromium\n"}
{"Action":"skip","Package":"ex/web","Test":"TestBrowser"}
{"Action":"output","Package":"ex/web","Output":"ok  \tex/web\t0.01s\n"}
{"Action":"pass","Package":"ex/web"}
{"ImportPath":"ex/broken","Action":"build-output","Output":"# ex/broken\n"}
{"ImportPath":"ex/broken","Action":"build-output","Output":"broken.go:3:1: syntax error\n"}
{"Action":"output","Package":"ex/broken","Output":"FAIL\tex/broken [build failed]\n"}
{"Action":"fail","Package":"ex/broken"}
`

func TestReport(t *testing.T) {
	var out bytes.Buffer
	skips, err := report(strings.NewReader(stream), &out)
	if err != nil {
		t.Fatal(err)
	}
	summarize(&out, skips)
	want := `    store_test.go:9: got 1, want 2
--- FAIL: TestSQLite (0.01s)
FAIL
FAIL	ex/store	0.02s
ok  	ex/web	0.01s
# ex/broken
broken.go:3:1: syntax error
FAIL	ex/broken [build failed]
Skipped 3 test(s):
  2: WINDSOCK_TEST_POSTGRES_URL is not set; skipping PostgreSQL tests
     in ex/store
  1: no chromium at /usr/bin/chromium
     in ex/web
`
	if out.String() != want {
		t.Errorf("report:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestReportWithoutSkips(t *testing.T) {
	var out bytes.Buffer
	summarize(&out, nil)
	if out.String() != "No test was skipped.\n" {
		t.Errorf("summary = %q", out.String())
	}
}
