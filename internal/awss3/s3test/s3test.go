// Package s3test starts a real S3-compatible server for tests: versitygw
// (github.com/versity/versitygw, installed by .ci/run) serving a temporary
// folder with its posix backend. Tests skip, saying why, when the binary
// is missing.
package s3test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Server is a running versitygw.
type Server struct {
	// URL is the endpoint (http://127.0.0.1:PORT).
	URL string
	// AccessKey and SecretKey are its root credentials.
	AccessKey, SecretKey string
	// Root is the folder it serves: each subfolder is a bucket.
	Root string
	// versions is the folder of object versions, when the server keeps
	// them (StartVersioned).
	versions string
}

// Binary finds versitygw: $WINDSOCK_TEST_VERSITYGW, PATH, then Go's bin
// folder.
func Binary() (string, error) {
	if p := os.Getenv("WINDSOCK_TEST_VERSITYGW"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	for _, dir := range []string{os.Getenv("GOBIN"), filepath.Join(os.Getenv("GOPATH"), "bin"), filepath.Join(os.Getenv("HOME"), "go", "bin")} {
		if dir == "" {
			continue
		}
		if p := filepath.Join(dir, "versitygw"); fileExists(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("versitygw not found (install it with: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)")
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// Start starts a server with the given buckets and stops it when the test
// ends. It waits for the server to say it is listening.
func Start(t testing.TB, buckets ...string) *Server {
	t.Helper()
	return start(t, "", buckets)
}

// StartVersioned starts a server that can keep object versions (versitygw's
// versioning folder); a test turns versioning on per bucket with
// PutBucketVersioning, as on S3.
func StartVersioned(t testing.TB, buckets ...string) *Server {
	t.Helper()
	return start(t, t.TempDir(), buckets)
}

func start(t testing.TB, versions string, buckets []string) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		t.Skipf("no S3-compatible server: %v", err)
	}
	root := t.TempDir()
	for _, b := range buckets {
		if err := os.MkdirAll(filepath.Join(root, b), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s := &Server{AccessKey: "AKIDWINDSOCKTEST", SecretKey: "windsock-test-secret", Root: root, versions: versions}
	for attempt := 0; ; attempt++ {
		addr, err := freeAddr()
		if err != nil {
			t.Fatal(err)
		}
		if s.start(t, bin, addr) {
			s.URL = "http://" + addr
			return s
		}
		if attempt == 4 {
			t.Fatalf("versitygw did not start")
		}
	}
}

// start runs versitygw on addr and reports whether it came up (a port
// taken in the meantime makes it exit instead).
func (s *Server) start(t testing.TB, bin, addr string) bool {
	ctx, cancel := context.WithCancel(context.Background())
	args := []string{"--port", addr, "--access", s.AccessKey, "--secret", s.SecretKey, "posix"}
	if s.versions != "" {
		args = append(args, "--versioning-dir", s.versions)
	}
	cmd := exec.CommandContext(ctx, bin, append(args, s.Root)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start versitygw: %v", err)
	}
	up := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		said := false
		for sc.Scan() {
			if !said && strings.Contains(sc.Text(), "bound on host") {
				said = true
				up <- true
			}
		}
		if !said {
			up <- false
		}
	}()
	ok := false
	select {
	case ok = <-up:
	case <-time.After(time.Minute):
	}
	if !ok {
		cancel()
		cmd.Wait()
		return false
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
	})
	return true
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Extra is the aws connection extra that points at the server.
func (s *Server) Extra() string {
	return fmt.Sprintf(`{"endpoint_url": %q, "region_name": "us-east-1"}`, s.URL)
}
