package pyenv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
)

// preparer is one Prepare call.
type preparer struct {
	cfg    Config
	base   string
	status Status
}

// want is what the files ask for.
type want struct {
	reqSum  string // "" means no virtual environment
	reqBody []byte
	envDir  string // where that environment is built
	zipSum  string // "" means no plugins.zip
}

func (p *preparer) want() (want, error) {
	var w want
	sum, body, err := readRequirements(p.cfg.RequirementsFile)
	if err != nil {
		return w, err
	}
	if sum != "" {
		w.reqSum, w.reqBody = sum, body
		w.envDir = filepath.Join(p.cfg.Dir, "envs", envKey(sum, p.base))
	}
	if w.zipSum, err = fileSHA256(p.cfg.PluginsZip); err != nil {
		return w, err
	}
	return w, nil
}

// envKey names the directory of the environment of one requirements file
// built on one interpreter.
func envKey(reqSum, base string) string {
	h := sha256.New()
	h.Write([]byte(reqSum))
	h.Write([]byte{0})
	h.Write([]byte(base))
	return hex.EncodeToString(h.Sum(nil))[:20]
}

// run brings the home to what its files ask for. It first checks without
// the lock, so that an unchanged home is neither locked nor written (a
// read-only home works); otherwise it locks and checks again, since
// another process may have done the work meanwhile.
func (p *preparer) run(ctx context.Context) error {
	w, err := p.want()
	if err != nil {
		return err
	}
	st, err := readState(p.cfg.Dir)
	if err != nil {
		return err
	}
	if p.upToDate(st, w) {
		p.status = st
		p.status.Python = p.python(st)
		return nil
	}
	unlock, err := lockDir(ctx, p.cfg.Dir)
	if err != nil {
		return err
	}
	defer unlock()
	if st, err = readState(p.cfg.Dir); err != nil {
		return err
	}
	before := st
	p.status = st
	p.preparePlugins(w)
	if err := p.prepareVenv(ctx, w); err != nil {
		return err
	}
	p.status.BasePython = p.base
	p.status.Python = p.python(p.status)
	if !reflect.DeepEqual(before, p.status) {
		if err := writeState(p.cfg.Dir, p.status); err != nil {
			return err
		}
	}
	p.removeOldEnvs(before.Venv)
	return nil
}

// upToDate reports whether st already is what w asks for: the same
// requirements installed (or attempted, if it failed) on the same
// interpreter, and the same plugins.zip unpacked (or refused).
func (p *preparer) upToDate(st Status, w want) bool {
	if st.BasePython != p.base && (w.reqSum != "" || st.BasePython != "") {
		return false
	}
	switch {
	case w.reqSum == "" && (st.Venv != "" || st.LastInstall != nil):
		return false
	case w.reqSum != "" && (st.LastInstall == nil || st.LastInstall.RequirementsSHA256 != w.reqSum):
		return false
	case w.reqSum != "" && st.LastInstall.OK && (st.Venv != w.envDir || !envReady(w.envDir)):
		return false
	}
	switch {
	case w.zipSum == "" && st.Plugins != nil:
		return false
	case w.zipSum != "" && (st.Plugins == nil || st.Plugins.SHA256 != w.zipSum):
		return false
	case w.zipSum != "" && st.Plugins.OK && !p.pluginsMarked(w.zipSum):
		return false
	}
	return true
}

// python returns the interpreter of st: its environment's python, or the
// base interpreter.
func (p *preparer) python(st Status) string {
	if st.Venv != "" && envReady(st.Venv) {
		return venvPython(st.Venv)
	}
	return p.base
}

// prepareVenv installs w's requirements into their own environment unless
// it is built already, and switches to it when pip succeeds. A failure is
// recorded and leaves the environment in use as it was.
func (p *preparer) prepareVenv(ctx context.Context, w want) error {
	if w.reqSum == "" {
		p.status.Venv, p.status.RequirementsSHA256, p.status.LastInstall = "", "", nil
		return nil
	}
	if envReady(w.envDir) {
		if p.status.LastInstall == nil || p.status.LastInstall.RequirementsSHA256 != w.reqSum || !p.status.LastInstall.OK {
			p.status.LastInstall = &Install{At: p.cfg.Clock().UTC(), RequirementsFile: p.cfg.RequirementsFile, RequirementsSHA256: w.reqSum, OK: true}
		}
		p.status.Venv, p.status.RequirementsSHA256 = w.envDir, w.reqSum
		return nil
	}
	if in := p.status.LastInstall; in != nil && !in.OK && in.RequirementsSHA256 == w.reqSum && p.status.BasePython == p.base {
		// This file failed on this interpreter already (perhaps in another
		// process starting at the same time): an unchanged file is not
		// tried again until it changes, as MWAA keeps a failed update.
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	p.cfg.Logger.Info("installing requirements into a new Python environment", "requirements_file", p.cfg.RequirementsFile, "venv", w.envDir)
	in := p.build(ctx, w)
	if ctx.Err() != nil {
		// Stopped, not failed: nothing to record.
		return ctx.Err()
	}
	p.status.LastInstall = in
	if !in.OK {
		p.cfg.Logger.Warn("pip could not install the requirements; the previous Python environment stays in use", "requirements_file", p.cfg.RequirementsFile, "error", in.Error)
		if p.status.Venv != "" && !envReady(p.status.Venv) {
			p.status.Venv, p.status.RequirementsSHA256 = "", ""
		}
		return nil
	}
	p.cfg.Logger.Info("requirements installed", "venv", w.envDir)
	p.status.Venv, p.status.RequirementsSHA256 = w.envDir, w.reqSum
	return nil
}

// marker is written into an environment once pip succeeded there; an
// environment without it is a leftover of an interrupted build.
const marker = ".windsock-ready"

type markerData struct {
	RequirementsSHA256 string `json:"requirements_sha256"`
	BasePython         string `json:"base_python"`
}

func envReady(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, marker))
	if err != nil {
		return false
	}
	var m markerData
	return json.Unmarshal(b, &m) == nil && isFile(venvPython(dir))
}

func venvPython(dir string) string { return filepath.Join(dir, "bin", "python") }

// removeOldEnvs deletes the environments neither in use nor the one in use
// before this Prepare (processes started earlier may still run it), and
// builds that never finished.
func (p *preparer) removeOldEnvs(previous string) {
	envs := filepath.Join(p.cfg.Dir, "envs")
	entries, err := os.ReadDir(envs)
	if err != nil {
		return
	}
	for _, e := range entries {
		dir := filepath.Join(envs, e.Name())
		if dir == p.status.Venv || dir == previous {
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			p.cfg.Logger.Warn("cannot remove an old Python environment", "dir", dir, "error", err)
		}
	}
}

// fileSHA256 returns the hex sha256 of a file, "" when it does not exist.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
