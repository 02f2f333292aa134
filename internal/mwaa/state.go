package mwaa

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/windsock/windsock/internal/atomicfile"
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
	// Readable by the owner only: the state holds token secrets.
	return atomicfile.Write(filepath.Join(home, stateFileName), data, 0o600)
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
