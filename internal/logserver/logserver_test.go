package logserver

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const testKey = "test-secret"

func TestTokens(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	good := signToken(testKey, "a/b.log", now)
	tests := []struct {
		name     string
		key      string
		token    string
		filename string
		at       time.Time
		want     string // "" for accepted
	}{
		{"valid", testKey, good, "a/b.log", now, ""},
		{"within the skew after expiry", testKey, good, "a/b.log", now.Add(2*tokenLifetime - time.Second), ""},
		{"issuer's clock a little ahead", testKey, good, "a/b.log", now.Add(-tokenLifetime + time.Second), ""},
		{"other key", "other", good, "a/b.log", now, "bad signature"},
		{"other file", testKey, good, "a/c.log", now, "another file"},
		{"expired", testKey, good, "a/b.log", now.Add(2*tokenLifetime + 2*time.Second), "expired"},
		{"not valid yet", testKey, good, "a/b.log", now.Add(-tokenLifetime - 2*time.Second), "not valid yet"},
		{"no dot", testKey, "abc", "a/b.log", now, "malformed"},
		{"not base64", testKey, "a!.b!", "a/b.log", now, "malformed"},
		{"empty", testKey, "", "a/b.log", now, "malformed"},
		{"tampered", testKey, "x" + good[1:], "a/b.log", now, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := verifyToken(tt.key, tt.token, tt.filename, tt.at)
			if tt.name == "tampered" {
				if err == nil {
					t.Fatal("a tampered token is accepted")
				}
				return
			}
			if tt.want == "" {
				if err != nil {
					t.Fatalf("verify = %v", err)
				}
				return
			}
			if !errors.Is(err, errToken) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("verify = %v, want %q", err, tt.want)
			}
		})
	}
}

// setup starts a log server on a free port over a fresh folder.
func setup(t *testing.T) (*Server, string) {
	t.Helper()
	s := &Server{Folder: t.TempDir(), SecretKey: testKey, Addr: "127.0.0.1:0"}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s, "http://" + s.ListenAddr()
}

func writeLog(t *testing.T, folder, rel, content string) {
	t.Helper()
	path := filepath.Join(folder, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
}

func TestFetchFollowsAGrowingLog(t *testing.T) {
	t.Parallel()
	s, base := setup(t)
	ctx := t.Context()
	rel := "dag_id=etl/run_id=manual__2024-05-01T00:00:00+00:00/task_id=extract/attempt=1.log"
	writeLog(t, s.Folder, rel, "line 1\n")

	data, next, err := Fetch(ctx, base, testKey, rel, 0)
	if err != nil || string(data) != "line 1\n" || next != 7 {
		t.Fatalf("Fetch = %q, %d, %v", data, next, err)
	}
	// Nothing new yet.
	data, next2, err := Fetch(ctx, base, testKey, rel, next)
	if err != nil || len(data) != 0 || next2 != next {
		t.Fatalf("Fetch at end = %q, %d, %v", data, next2, err)
	}
	writeLog(t, s.Folder, rel, "line 2\n")
	data, next, err = Fetch(ctx, base, testKey, rel, next)
	if err != nil || string(data) != "line 2\n" || next != 14 {
		t.Fatalf("Fetch after growth = %q, %d, %v", data, next, err)
	}
	// An offset past the end (a log rewritten shorter) is not an error.
	if data, n, err := Fetch(ctx, base, testKey, rel, 100); err != nil || len(data) != 0 || n != 100 {
		t.Fatalf("Fetch past end = %q, %d, %v", data, n, err)
	}
}

func TestFetchChunks(t *testing.T) {
	t.Parallel()
	s, base := setup(t)
	big := bytes.Repeat([]byte("x"), MaxChunk)
	writeLog(t, s.Folder, "big.log", string(big)+"tail")
	data, next, err := Fetch(t.Context(), base, testKey, "big.log", 0)
	if err != nil || len(data) != MaxChunk || next != MaxChunk {
		t.Fatalf("first chunk = %d bytes, %d, %v", len(data), next, err)
	}
	data, next, err = Fetch(t.Context(), base, testKey, "big.log", next)
	if err != nil || string(data) != "tail" || next != MaxChunk+4 {
		t.Fatalf("second chunk = %q, %d, %v", data, next, err)
	}
}

func TestFetchErrors(t *testing.T) {
	t.Parallel()
	s, base := setup(t)
	ctx := t.Context()
	writeLog(t, s.Folder, "a.log", "secret stuff\n")

	if _, _, err := Fetch(ctx, base, testKey, "missing.log", 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing file: %v", err)
	}
	if _, _, err := Fetch(ctx, base, "another-key", "a.log", 0); err == nil || !strings.Contains(err.Error(), "refused the request") {
		t.Errorf("wrong key: %v", err)
	}
	if _, _, err := Fetch(ctx, base, "", "a.log", 0); err == nil {
		t.Error("an empty key fetches")
	}
	s.Stop()
	s.Stop() // idempotent
	_, _, err := Fetch(ctx, base, testKey, "a.log", 0)
	var unreachable *UnreachableError
	if !errors.As(err, &unreachable) || err.Error() != "worker log server at "+base+" unreachable: connection refused" {
		t.Errorf("stopped server: %v", err)
	}
}

// get sends a request signed for filename to the server's raw path.
func get(t *testing.T, base, rawPath, filename string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", base+rawPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", signToken(testKey, filename, time.Now()))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	return resp, b.String()
}

func TestOnlyFilesInsideTheFolder(t *testing.T) {
	t.Parallel()
	s, base := setup(t)
	outside := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(outside, []byte("password"), 0o644); err != nil {
		t.Fatal(err)
	}
	writeLog(t, s.Folder, "dir/ok.log", "fine\n")
	if err := os.Symlink(outside, filepath.Join(s.Folder, "dir", "link.log")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Dir(outside), filepath.Join(s.Folder, "out")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, filename string
		status               int
	}{
		{"a file inside", "/log/dir/ok.log", "dir/ok.log", 200},
		{"dot-dot escaped in one segment", "/log/..%2F" + filepath.Base(filepath.Dir(outside)) + "%2Fsecret.txt", "../" + filepath.Base(filepath.Dir(outside)) + "/secret.txt", 400},
		{"dot-dot inside the path", "/log/dir%2F..%2F..%2Fsecret.txt", "dir/../../secret.txt", 400},
		{"unclean path", "/log/dir%2F.%2Fok.log", "dir/./ok.log", 400},
		{"absolute path", "/log/%2Fetc%2Fpasswd", "/etc/passwd", 400},
		{"symlink to a file outside", "/log/dir/link.log", "dir/link.log", 403},
		{"symlink to a directory outside", "/log/out/secret.txt", "out/secret.txt", 403},
		{"token for another file", "/log/dir/ok.log", "dir/other.log", 403},
		{"a directory", "/log/dir", "dir", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, body := get(t, base, tt.path, tt.filename, nil)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d (%q), want %d", resp.StatusCode, body, tt.status)
			}
			if strings.Contains(body, "password") {
				t.Fatal("the file outside the folder was served")
			}
		})
	}
}

func TestRangeRequests(t *testing.T) {
	t.Parallel()
	s, base := setup(t)
	writeLog(t, s.Folder, "a.log", "0123456789")
	tests := []struct {
		rng, want, contentRange string
		status                  int
	}{
		{"bytes=4-", "456789", "bytes 4-9/10", 206},
		{"bytes=2-4", "234", "bytes 2-4/10", 206},
		{"bytes=10-", "", "bytes */10", 416},
		{"bytes=-3", "0123456789", "", 200}, // suffix ranges are not supported: ignored
	}
	for _, tt := range tests {
		resp, body := get(t, base, "/log/a.log", "a.log", map[string]string{"Range": tt.rng})
		if resp.StatusCode != tt.status || resp.Header.Get("Content-Range") != tt.contentRange || (tt.status != 416 && body != tt.want) {
			t.Errorf("Range %s: %d %q %q", tt.rng, resp.StatusCode, resp.Header.Get("Content-Range"), body)
		}
	}
	if resp, _ := get(t, base, "/log/a.log?offset=-1", "a.log", nil); resp.StatusCode != 400 {
		t.Errorf("negative offset: %d", resp.StatusCode)
	}
}

func TestStartStop(t *testing.T) {
	t.Parallel()
	(&Server{}).Stop() // before Start: nothing to do
	if err := (&Server{Folder: t.TempDir(), Addr: "127.0.0.1:0"}).Start(t.Context()); err == nil {
		t.Error("a server without secret key starts")
	}
	ctx, cancel := context.WithCancel(t.Context())
	s := &Server{Folder: t.TempDir(), SecretKey: testKey, Addr: "127.0.0.1:0"}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err == nil {
		t.Error("a second Start succeeds")
	}
	base := "http://" + s.ListenAddr()
	if _, _, err := Fetch(t.Context(), base, testKey, "none.log", 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("running server: %v", err)
	}
	cancel()
	s.Stop() // waits for the shutdown that ctx started
	var unreachable *UnreachableError
	if _, _, err := Fetch(t.Context(), base, testKey, "none.log", 0); !errors.As(err, &unreachable) {
		t.Fatalf("after ctx is done: %v", err)
	}
}

// BenchmarkFetch follows a log in 64 KiB appends, as the API follows a
// running try.
func BenchmarkFetch(b *testing.B) {
	s := &Server{Folder: b.TempDir(), SecretKey: testKey, Addr: "127.0.0.1:0"}
	if err := s.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	defer s.Stop()
	base := "http://" + s.ListenAddr()
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	f, err := os.Create(filepath.Join(s.Folder, "a.log"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.SetBytes(int64(len(chunk)))
	var offset int64
	for b.Loop() {
		if _, err := f.Write(chunk); err != nil {
			b.Fatal(err)
		}
		data, next, err := Fetch(b.Context(), base, testKey, "a.log", offset)
		if err != nil || len(data) != len(chunk) {
			b.Fatalf("Fetch = %d bytes, %v", len(data), err)
		}
		offset = next
	}
}

// TestStartOnAFreePortWhenTaken: a second log server on the same host
// (another worker) gets a free port when AnyPortIfTaken is set, and fails
// to start otherwise.
func TestStartOnAFreePortWhenTaken(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	strict := &Server{Folder: t.TempDir(), SecretKey: "k", Addr: taken.Addr().String()}
	if err := strict.Start(t.Context()); err == nil {
		strict.Stop()
		t.Fatal("a log server started on a taken port")
	}
	s := &Server{Folder: t.TempDir(), SecretKey: "k", Addr: taken.Addr().String(), AnyPortIfTaken: true}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	host, port, _ := net.SplitHostPort(s.ListenAddr())
	if host != "127.0.0.1" || port == "0" || s.ListenAddr() == taken.Addr().String() {
		t.Fatalf("listening on %s, want another port of 127.0.0.1 than the taken %s", s.ListenAddr(), taken.Addr())
	}
}
