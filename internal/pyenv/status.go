package pyenv

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/windsock/windsock/internal/atomicfile"
)

// stateFile is the status file in Config.Dir.
const stateFile = "status.json"

// Status is what Prepare recorded in the home: the interpreter in use and
// the outcome of the latest install and unpack. Its JSON is what /health
// and `windsock health` show.
type Status struct {
	// Python is the interpreter in use ("" before any Prepare recorded
	// one).
	Python string `json:"python"`
	// BasePython is the real interpreter behind core.python_executable.
	BasePython string `json:"base_python,omitempty"`
	// Venv is the virtual environment in use, "" when none.
	Venv string `json:"venv,omitempty"`
	// RequirementsSHA256 is the hash of the requirements file installed in
	// Venv.
	RequirementsSHA256 string `json:"requirements_sha256,omitempty"`
	// LastInstall is the latest pip install attempted, successful or not.
	LastInstall *Install `json:"last_install,omitempty"`
	// Plugins is the latest unpack of plugins.zip.
	Plugins *Plugins `json:"plugins,omitempty"`
	// Interpreter caches the resolution of a launcher script (a pyenv
	// shim), so that each process need not run it.
	Interpreter *resolved `json:"interpreter,omitempty"`
	// Pending is set by ReadStatus when the requirements file differs from
	// the one last attempted: the next start installs it.
	Pending bool `json:"pending,omitempty"`
}

// Install is one pip install of a requirements file.
type Install struct {
	At                 time.Time `json:"at"`
	RequirementsFile   string    `json:"requirements_file"`
	RequirementsSHA256 string    `json:"requirements_sha256"`
	OK                 bool      `json:"ok"`
	// Error is pip's message (the tail of its output) when it failed.
	Error string `json:"error,omitempty"`
	// Log is the file holding the whole output of the attempt.
	Log string `json:"log,omitempty"`
}

// Plugins is the latest unpack of plugins.zip into the plugins folder.
type Plugins struct {
	At     time.Time `json:"at"`
	Zip    string    `json:"zip"`
	SHA256 string    `json:"sha256"`
	OK     bool      `json:"ok"`
	Error  string    `json:"error,omitempty"`
	Files  int       `json:"files,omitempty"`
}

// Problems returns what went wrong in the latest install and unpack, one
// message each: empty when the environment is as its files ask.
func (s Status) Problems() []string {
	var out []string
	if in := s.LastInstall; in != nil && !in.OK {
		kept := "no virtual environment is in use"
		if s.Venv != "" {
			kept = "the previous environment " + s.Venv + " stays in use"
		}
		out = append(out, fmt.Sprintf("pip could not install %s (%s):\n%s", in.RequirementsFile, kept, in.Error))
	}
	if p := s.Plugins; p != nil && !p.OK {
		out = append(out, fmt.Sprintf("%s was not unpacked into the plugins folder: %s", p.Zip, p.Error))
	}
	return out
}

// Healthy reports whether the latest install and unpack succeeded.
func (s Status) Healthy() bool { return len(s.Problems()) == 0 }

// readState reads the status file of dir; a missing one is a zero Status.
func readState(dir string) (Status, error) {
	var st Status
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return Status{}, fmt.Errorf("%s: %w", filepath.Join(dir, stateFile), err)
	}
	st.Pending = false
	return st, nil
}

// writeState replaces the status file at once (a temporary file renamed
// over it), so a reader sees the old status or the new, never a mix: this
// rename is the switch to a new environment.
func writeState(dir string, st Status) error {
	st.Pending = false
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, stateFile), append(b, '\n'), 0o644)
}

// pending reports whether the requirements file differs from the one the
// latest install attempted (a file that appeared or vanished counts).
func pending(cfg Config, st Status) bool {
	sum, _, err := readRequirements(cfg.RequirementsFile)
	if err != nil {
		return false
	}
	attempted := ""
	if st.LastInstall != nil {
		attempted = st.LastInstall.RequirementsSHA256
	}
	if sum == "" {
		return st.Venv != ""
	}
	return sum != attempted
}

// readRequirements returns the sha256 of the requirements file and its
// content; "" when it is missing or holds nothing but blanks and comments
// (no virtual environment is needed then).
func readRequirements(path string) (string, []byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("read requirements: %w", err)
	}
	if !hasRequirement(b) {
		return "", nil, nil
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), b, nil
}

// hasRequirement reports whether a requirements file has a line that is
// neither blank nor a comment.
func hasRequirement(b []byte) bool {
	for line := range bytes.Lines(b) {
		line = bytes.TrimSpace(line)
		if len(line) > 0 && line[0] != '#' {
			return true
		}
	}
	return false
}
