package mwaa

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// stateFileName holds the control plane's environments inside its home.
// It is written whole and atomically (temporary file, fsync, rename), so
// a crash leaves the old state or the new one, never half of one.
const stateFileName = "environments.json"

// record is one environment as the control plane keeps it.
type record struct {
	Env Environment `json:"environment"`
	// TokenSecret signs the environment's CLI and web login tokens; the
	// environment gets it as aws_mwaa.token_secret.
	TokenSecret string `json:"token_secret"`
	// Previous is the working configuration an update started from, kept
	// until the update ends so that a failed one returns to it.
	Previous *Environment `json:"previous,omitempty"`
}

type stateDoc struct {
	Version      int                `json:"version"`
	Environments map[string]*record `json:"environments"`
}

func loadState(home string) (map[string]*record, error) {
	data, err := os.ReadFile(filepath.Join(home, stateFileName))
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]*record{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read control plane state: %w", err)
	}
	var doc stateDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("read control plane state %s: %w", filepath.Join(home, stateFileName), err)
	}
	if doc.Environments == nil {
		doc.Environments = map[string]*record{}
	}
	return doc.Environments, nil
}

func saveState(home string, envs map[string]*record) error {
	data, err := json.MarshalIndent(stateDoc{Version: 1, Environments: envs}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode control plane state: %w", err)
	}
	return writeFileAtomic(filepath.Join(home, stateFileName), data)
}

// writeFileAtomic replaces path with data, readable by the owner only
// (the state holds token secrets).
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// cloneEnv deep-copies an environment (maps, pointers, slices).
func cloneEnv(e *Environment) *Environment {
	data, err := json.Marshal(e)
	if err != nil {
		panic("mwaa: clone environment: " + err.Error()) // plain data: cannot fail
	}
	out := &Environment{}
	if err := json.Unmarshal(data, out); err != nil {
		panic("mwaa: clone environment: " + err.Error())
	}
	return out
}
