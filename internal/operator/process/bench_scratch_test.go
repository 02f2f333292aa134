package process

import (
	"context"
	"os"
	"os/exec"
	"testing"
)

func BenchmarkRawExec(b *testing.B) {
	bash, _ := exec.LookPath("bash")
	for b.Loop() {
		p, err := os.StartProcess(bash, []string{"bash", "-c", "true"}, &os.ProcAttr{})
		if err != nil {
			b.Fatal(err)
		}
		p.Wait()
	}
}

func BenchmarkRunnerRun(b *testing.B) {
	bash, _ := exec.LookPath("bash")
	for b.Loop() {
		if _, err := (Runner{}).Run(context.Background(), &Command{Path: bash, Args: []string{"bash", "-c", "true"}}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRunnerRunDir(b *testing.B) {
	bash, _ := exec.LookPath("bash")
	for b.Loop() {
		d, _ := os.MkdirTemp("", "airflowtmp")
		if _, err := (Runner{}).Run(context.Background(), &Command{Path: bash, Args: []string{"bash", "-c", "true"}, Dir: d}); err != nil {
			b.Fatal(err)
		}
		os.RemoveAll(d)
	}
}
