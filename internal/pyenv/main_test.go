package pyenv_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/windsock/windsock/internal/pyenv/pyenvtest"
)

const python = pyenvtest.Python

// wheels is a directory of wheels built once for the package's tests:
// wsdemo 1.0 and 2.0, whose module says its version.
var wheels string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "pyenv-wheels-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	wheels = filepath.Join(dir, "wheels")
	for _, v := range []string{"1.0", "2.0"} {
		if err := pyenvtest.BuildWheel(wheels, "wsdemo", v, "VERSION = \""+v+"\"\n"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return m.Run()
}

func pipEnv() []string { return pyenvtest.Env() }
