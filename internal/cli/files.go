package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// readInput reads a file named on the command line; "-" is stdin.
func (r *runner) readInput(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(r.io.Stdin)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return b, nil
}

// writeOutput writes an export file; "-" is stdout. Exports hold secrets,
// so files are created readable by their owner only.
func (r *runner) writeOutput(name string, data []byte) error {
	if name == "-" {
		_, err := r.io.Stdout.Write(data)
		return err
	}
	if err := os.WriteFile(name, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// fileFormat returns the format named by a flag, or else by the file's
// extension (json, yaml/yml, env), defaulting to json.
func fileFormat(flag, name string) string {
	if flag != "" {
		return strings.ToLower(flag)
	}
	switch strings.ToLower(strings.TrimPrefix(filepath.Ext(name), ".")) {
	case "yaml", "yml":
		return "yaml"
	case "env":
		return "env"
	}
	return "json"
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}
