package process

import (
	"io"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

func benchAttr(b *testing.B, sys *syscall.SysProcAttr, pipe bool) {
	bash, _ := exec.LookPath("bash")
	for b.Loop() {
		attr := &os.ProcAttr{Sys: sys}
		var pr, pw *os.File
		if pipe {
			pr, pw, _ = os.Pipe()
			attr.Files = []*os.File{nil, pw, pw}
		}
		p, err := os.StartProcess(bash, []string{"bash", "-c", "true"}, attr)
		if err != nil {
			b.Fatal(err)
		}
		if pipe {
			pw.Close()
			io.Copy(io.Discard, pr)
			pr.Close()
		}
		p.Wait()
	}
}

func BenchmarkAttrNone(b *testing.B)    { benchAttr(b, nil, false) }
func BenchmarkAttrPgid(b *testing.B)    { benchAttr(b, &syscall.SysProcAttr{Setpgid: true}, false) }
func BenchmarkAttrDeath(b *testing.B)   { benchAttr(b, &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}, false) }
func BenchmarkAttrPipe(b *testing.B)    { benchAttr(b, nil, true) }
func BenchmarkAttrAll(b *testing.B)     { benchAttr(b, &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}, true) }
