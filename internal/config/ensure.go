package config

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/ini.v1"

	"github.com/windsock/windsock/internal/atomicfile"
	"github.com/windsock/windsock/internal/fernet"
)

// generatedKey is a secret EnsureFile writes when the configuration has
// none.
type generatedKey struct {
	section, option, comment string
	generate                 func() (string, error)
}

var generatedKeys = []generatedKey{
	{
		section: "core", option: "fernet_key",
		comment:  "Encrypts variables and connection passwords in the metadata database. Keep a copy: without it they cannot be read.",
		generate: fernet.GenerateKey,
	},
	{
		section: "webserver", option: "secret_key",
		comment:  "Signs web session cookies. Every web server of an environment needs the same value.",
		generate: generateSecretKey,
	},
}

// generateSecretKey makes a webserver.secret_key as Airflow does: base64 of
// 16 random bytes.
func generateSecretKey() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate secret key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// EnsureFile creates home and home/windsock.cfg (mode 0600) when missing,
// and writes a generated core.fernet_key and webserver.secret_key into the
// file when the effective configuration has none. A key set in the file or
// the environment is never replaced, and the rest of an existing file,
// comments and layout included, is kept byte for byte. It reports whether
// it created the file. An empty home means Home(environ).
func EnsureFile(home string, environ []string) (created bool, err error) {
	if home == "" {
		if home, err = Home(environ); err != nil {
			return false, err
		}
	}
	// The home holds secrets (the config, a SQLite database): private by
	// default. An existing directory keeps its permissions.
	if err := os.MkdirAll(home, 0o700); err != nil {
		return false, fmt.Errorf("create windsock home: %w", err)
	}
	path := filepath.Join(home, FileName)
	exists, err := fileExists(path)
	if err != nil {
		return false, fmt.Errorf("ensure config: %w", err)
	}
	cfg, err := Load(home, environ)
	if err != nil {
		return false, fmt.Errorf("ensure config: %w", err)
	}

	var missing []generatedKey
	for _, k := range generatedKeys {
		opt, err := cfg.Get(k.section, k.option)
		if err != nil {
			return false, fmt.Errorf("ensure config: %w", err)
		}
		if strings.TrimSpace(opt.Value) == "" {
			missing = append(missing, k)
		}
	}

	if !exists {
		data, err := newFile(missing)
		if err != nil {
			return false, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return false, fmt.Errorf("create config: %w", err)
		}
		if _, err := f.Write(data); err != nil {
			f.Close()
			return false, fmt.Errorf("write config: %w", err)
		}
		if err := f.Close(); err != nil {
			return false, fmt.Errorf("write config: %w", err)
		}
		return true, nil
	}

	if len(missing) == 0 {
		return false, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return false, fmt.Errorf("read config: %w", err)
	}
	for _, k := range missing {
		value, err := k.generate()
		if err != nil {
			return false, err
		}
		if data, err = setOption(data, k.section, k.option, value); err != nil {
			return false, fmt.Errorf("add %s.%s to %s: %w", k.section, k.option, path, err)
		}
	}
	if err := replaceFile(path, data); err != nil {
		return false, err
	}
	return false, nil
}

// fileHeader opens a new windsock.cfg.
const fileHeader = "# Windsock configuration, read like Airflow's airflow.cfg. Every option can be\n" +
	"# overridden by WINDSOCK__SECTION__OPTION or AIRFLOW__SECTION__OPTION variables.\n" +
	"# `windsock config list` shows all options with their values and defaults.\n\n"

// newFile renders a new windsock.cfg holding the generated keys.
func newFile(keys []generatedKey) ([]byte, error) {
	f := ini.Empty()
	for _, k := range keys {
		value, err := k.generate()
		if err != nil {
			return nil, err
		}
		key, err := f.Section(k.section).NewKey(k.option, value)
		if err != nil {
			return nil, fmt.Errorf("render config: %w", err)
		}
		key.Comment = "# " + k.comment
	}
	buf := bytes.NewBufferString(fileHeader)
	if _, err := f.WriteTo(buf); err != nil {
		return nil, fmt.Errorf("render config: %w", err)
	}
	return buf.Bytes(), nil
}

// setOption sets section.option in an INI document by editing lines, so
// that everything else stays as the user wrote it: an existing (empty)
// line for the option is replaced, else the line goes right under the
// section header, else a new section is appended. The result is read back
// with the same parser as Load to make sure it says what was meant.
func setOption(data []byte, section, option, value string) ([]byte, error) {
	eol := "\n"
	if bytes.Contains(data, []byte("\r\n")) {
		eol = "\r\n"
	}
	entry := option + " = " + value
	lines := strings.SplitAfter(string(data), "\n")
	current, headerAt, keyAt := "", -1, -1
	for i, line := range lines {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "[") && strings.HasSuffix(trimmed, "]") {
			current = strings.ToLower(strings.TrimSpace(trimmed[1 : len(trimmed)-1]))
			if current == section && headerAt < 0 {
				headerAt = i
			}
			continue
		}
		if current != section || trimmed == "" || trimmed[0] == '#' || trimmed[0] == ';' || line[0] == ' ' || line[0] == '\t' {
			continue
		}
		if name, _, ok := cutDelimiter(trimmed); ok && strings.ToLower(strings.TrimSpace(name)) == option {
			keyAt = i
		}
	}

	var out string
	switch {
	case keyAt >= 0:
		lines[keyAt] = entry + lineEnd(lines[keyAt])
		out = strings.Join(lines, "")
	case headerAt >= 0:
		if !strings.HasSuffix(lines[headerAt], "\n") {
			lines[headerAt] += eol
		}
		lines[headerAt] += entry + eol
		out = strings.Join(lines, "")
	default:
		out = string(data)
		if out != "" && !strings.HasSuffix(out, "\n") {
			out += eol
		}
		if out != "" {
			out += eol
		}
		out += "[" + section + "]" + eol + entry + eol
	}

	f, err := ini.LoadSources(iniOptions, []byte(out))
	if err != nil {
		return nil, fmt.Errorf("edited file does not parse: %w", err)
	}
	if got := f.Section(section).Key(option).Value(); got != value {
		return nil, fmt.Errorf("the edit did not take (the file may have an unusual layout); add %s to [%s] by hand", option, section)
	}
	return []byte(out), nil
}

// cutDelimiter splits a key line at the first '=' or ':', as configparser.
func cutDelimiter(line string) (string, string, bool) {
	i := strings.IndexAny(line, "=:")
	if i < 0 {
		return "", "", false
	}
	return line[:i], line[i+1:], true
}

func lineEnd(line string) string {
	switch {
	case strings.HasSuffix(line, "\r\n"):
		return "\r\n"
	case strings.HasSuffix(line, "\n"):
		return "\n"
	}
	return ""
}

// replaceFile writes data to path atomically, keeping path's permissions.
func replaceFile(path string, data []byte) error {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	if err := atomicfile.Write(path, data, info.Mode().Perm()); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}
