package config

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"gopkg.in/ini.v1"

	"github.com/windsock/windsock/internal/osenv"
)

// iniOptions make ini.v1 read windsock.cfg as Python's configparser reads
// airflow.cfg: '#' inside a value is part of it, surrounding quotes are
// kept, a trailing backslash is not a continuation, indented lines
// continue the previous value, and names are case-insensitive.
var iniOptions = ini.LoadOptions{
	Insensitive:                true,
	IgnoreInlineComment:        true,
	PreserveSurroundedQuote:    true,
	IgnoreContinuation:         true,
	AllowPythonMultilineValues: true,
}

// readFile returns the options of the config file as "section.option" ->
// value, with %% and environment variables expanded. A missing file is
// empty.
func readFile(path string, environ []string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	f, err := ini.LoadSources(iniOptions, data)
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", path, err)
	}
	out := map[string]string{}
	for _, sec := range f.Sections() {
		if strings.EqualFold(sec.Name(), ini.DefaultSection) {
			if keys := sec.KeyStrings(); len(keys) > 0 {
				return nil, fmt.Errorf("read config %s: option %q is outside any [section]", path, keys[0])
			}
			continue
		}
		for _, k := range sec.Keys() {
			// configparser's basic interpolation: "%%" is a literal "%".
			v := strings.ReplaceAll(k.Value(), "%%", "%")
			out[sec.Name()+"."+k.Name()] = expandEnvVar(v, environ)
		}
	}
	return out, nil
}

// envVars holds the options set in the environment, by "section.option".
type envVars struct {
	windsock map[string]string // WINDSOCK__SECTION__OPTION
	airflow  map[string]string // AIRFLOW__SECTION__OPTION
}

func readEnv(environ []string) envVars {
	env := envVars{windsock: map[string]string{}, airflow: map[string]string{}}
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		target := env.windsock
		rest, found := strings.CutPrefix(name, "WINDSOCK__")
		if !found {
			target = env.airflow
			if rest, found = strings.CutPrefix(name, "AIRFLOW__"); !found {
				continue
			}
		}
		section, option, ok := strings.Cut(rest, "__")
		if !ok || section == "" || option == "" || strings.Contains(option, "__") {
			continue
		}
		// Later entries win, as in exec.Cmd.Env.
		target[strings.ToLower(section)+"."+strings.ToLower(option)] = expandEnvVar(value, environ)
	}
	return env
}

// unknownOptions lists what the file and environment set beyond the known
// options (and their deprecated names), with the same precedence.
func unknownOptions(env envVars, file map[string]string, used map[string]bool) []Option {
	var out []Option
	seen := map[string]bool{}
	add := func(values map[string]string, source string) {
		for key, v := range values {
			if used[key] || seen[key] {
				continue
			}
			seen[key] = true
			section, name, _ := strings.Cut(key, ".")
			out = append(out, Option{Section: section, Name: name, Value: v, Source: source, Sensitive: isSensitiveUnknown(section, name)})
		}
	}
	add(env.windsock, SourceEnv)
	add(env.airflow, SourceEnv)
	add(file, SourceFile)
	return out
}

var envVarRef = regexp.MustCompile(`\$(\w+|\{[^}]*\})`)

// expandEnvVar expands $NAME, ${NAME} and a leading ~ from environ until
// nothing changes, as Airflow's expand_env_var (os.path.expandvars and
// expanduser): unknown variables are left as written.
func expandEnvVar(value string, environ []string) string {
	for range 10 {
		next := envVarRef.ReplaceAllStringFunc(value, func(ref string) string {
			name := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(ref, "$"), "{"), "}")
			if v, ok := osenv.Get(environ, name); ok {
				return v
			}
			return ref
		})
		next = expandUser(next, environ)
		if next == value {
			break
		}
		value = next
	}
	return value
}

func expandUser(value string, environ []string) string {
	if value != "~" && !strings.HasPrefix(value, "~/") {
		return value
	}
	home, ok := osenv.Get(environ, "HOME")
	if !ok || home == "" {
		return value
	}
	return strings.TrimSuffix(home, "/") + value[1:]
}
