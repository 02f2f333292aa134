package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/windsock/windsock/internal/envrunner"
	"github.com/windsock/windsock/internal/supervise"
)

var cpListening = regexp.MustCompile(`msg="control plane listening" address=(http://\S+)`)

// TestControlPlaneClusterActivity: through the windsock binary's control
// plane (which runs a real environment as a supervised process) and real
// chromium, a key's login shows each environment's processes (scheduler,
// DAG processor, the executor's worker) healthy with their heartbeats and
// its workers chart; its link to the environment's own Cluster Activity
// page logs into the environment with a web login token and lands there.
func TestControlPlaneClusterActivity(t *testing.T) {
	t.Parallel()
	chromiumPath(t)
	dir := t.TempDir()
	binary := buildWindsock(t)
	cpHome := filepath.Join(dir, "cp")
	environ := []string{"WINDSOCK_HOME=" + dir, "HOME=" + dir, "PATH=" + os.Getenv("PATH")}

	cmd := exec.Command(binary, "controlplane", "--port", "0", "--home", cpHome)
	cmd.Env = environ
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	t.Cleanup(func() {
		// The environment's processes outlive the control plane (a
		// restarted one adopts them): end them as well.
		_ = cmd.Process.Signal(syscall.SIGTERM)
		<-exited
		states, _ := filepath.Glob(filepath.Join(envrunner.EnvironmentHome(cpHome, "ops"), "run", "*.json"))
		for _, f := range states {
			if pid, alive := supervise.Recorded(f); alive {
				_ = syscall.Kill(-pid, syscall.SIGKILL)
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	lines := bufio.NewScanner(stderr)
	url := ""
	for lines.Scan() {
		if m := cpListening.FindStringSubmatch(lines.Text()); m != nil {
			url = m[1]
			break
		}
		t.Log(lines.Text())
	}
	go func() {
		defer close(exited)
		for lines.Scan() {
			t.Log(lines.Text())
		}
		_ = cmd.Wait()
	}()
	if url == "" {
		t.Fatal("the control plane did not say where it listens")
	}

	out, err := exec.Command(binary, "controlplane", "keys", "create", "--home", cpHome, "--name", "ops", "-o", "json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var key struct {
		ID     string `json:"access_key_id"`
		Secret string `json:"secret_access_key"`
	}
	if err := json.Unmarshal(out, &key); err != nil {
		t.Fatalf("keys create: %s", out)
	}
	dags := filepath.Join(envrunner.BucketFolder(cpHome, "ops"), "dags")
	if err := os.MkdirAll(dags, 0o755); err != nil {
		t.Fatal(err)
	}
	create := exec.Command(binary, "env", "create", "ops", "--source-bucket-arn", "arn:aws:s3:::ops", "--wait", "-o", "json", "--endpoint-url", url)
	create.Env = append(environ, "AWS_ACCESS_KEY_ID="+key.ID, "AWS_SECRET_ACCESS_KEY="+key.Secret)
	if out, err := create.CombinedOutput(); err != nil || !strings.Contains(string(out), "AVAILABLE") {
		t.Fatalf("env create: %v\n%s", err, out)
	}

	tb := newBrowser(t).tab(t, url)
	tb.open("/ui/login", `input[name="access_key_id"]`)
	tb.run("log in with the key",
		chromedp.SendKeys(`input[name="access_key_id"]`, key.ID, chromedp.ByQuery),
		chromedp.SendKeys(`input[name="secret_access_key"]`, key.Secret, chromedp.ByQuery),
		chromedp.Submit(`input[name="secret_access_key"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#activity-ops`, chromedp.ByQuery),
	)
	// The processes record their jobs as they start: the page, drawn at
	// each load, shows them once there.
	deadline := time.Now().Add(waitTimeout)
	for {
		var kinds []string
		if err := tb.eval(`Array.from(document.querySelectorAll('#activity-ops tr.component')).filter(function(r){
			return r.querySelector('.healthy') !== null }).map(function(r){ return r.cells[0].textContent })`, &kinds); err != nil {
			t.Fatal(err)
		}
		joined := strings.Join(kinds, ",")
		if strings.Contains(joined, "Scheduler") && strings.Contains(joined, "DAG processor") && strings.Contains(joined, "Worker") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthy processes: %v\npage: %s", kinds, tb.describe())
		}
		tb.run("reload the environments page", chromedp.Reload(), chromedp.WaitVisible(`#activity-ops`, chromedp.ByQuery))
	}
	if got := tb.text(`#activity-ops .summary`); !strings.Contains(got, "processes healthy") {
		t.Errorf("summary %q", got)
	}
	if title := tb.text(`#activity-ops svg.workers title`); !strings.Contains(title, "Workers of ops over the last hour: 1 now") {
		t.Errorf("workers chart title %q", title)
	}
	if !tb.exists(`#activity-ops svg.workers circle`) || !tb.exists(`#activity-ops time[datetime]`) {
		t.Errorf("the activity lacks its chart or heartbeat times\npage: %s", tb.describe())
	}

	tb.screenshot(artifactDir(t), "controlplane-environments")

	// The link logs into the environment's UI with a web login token and
	// lands on its own Cluster Activity page.
	tb.run("follow the cluster activity link", chromedp.Click(`#activity-ops a.cluster-link`, chromedp.ByQuery),
		chromedp.WaitVisible(`#components`, chromedp.ByQuery))
	var at string
	if err := tb.eval(`location.host + location.pathname`, &at); err != nil || !strings.HasSuffix(at, "/cluster_activity") || strings.Contains(url, at) {
		t.Fatalf("at %q (%v), want the environment's /cluster_activity", at, err)
	}
	if got := tb.text(`h1`); !strings.Contains(got, "Cluster activity") {
		t.Fatalf("the environment's page: %q", got)
	}
	if !tb.exists(`[data-testid="current-user"]`) {
		t.Fatalf("not logged into the environment\npage: %s", tb.describe())
	}
	tb.screenshot(artifactDir(t), "controlplane-environment-cluster-activity")
}
