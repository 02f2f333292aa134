// Package mwaacli holds what MWAA's CLI endpoint (/aws_mwaa/cli) accepts:
// how a command line is split into words, and which Airflow commands may
// run. The environment's web server and the control plane's runner both
// use it, so the two cannot disagree.
package mwaacli

import (
	"errors"
	"strings"
)

// allowed are the commands MWAA's /aws_mwaa/cli runs for Airflow 2 (the
// user guide's table): a group and its command, or a command alone.
var allowed = map[string]bool{
	"cheat-sheet": true, "version": true,
	"connections add": true, "connections delete": true,
	"dags backfill": true, "dags delete": true, "dags list": true, "dags list-jobs": true, "dags list-runs": true,
	"dags next-execution": true, "dags pause": true, "dags report": true, "dags show": true, "dags state": true,
	"dags test": true, "dags trigger": true, "dags unpause": true,
	"providers behaviours": true, "providers get": true, "providers hooks": true, "providers links": true,
	"providers list": true, "providers widgets": true,
	"roles create": true, "roles list": true,
	"tasks clear": true, "tasks failed-deps": true, "tasks list": true, "tasks render": true, "tasks state": true,
	"tasks states-for-dag-run": true, "tasks test": true,
	"variables delete": true, "variables get": true, "variables set": true, "variables list": true,
}

// Words are the group and command of a command line (up to the first
// flag): what Allowed judges and what a refusal names.
func Words(args []string) []string {
	var words []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") || len(words) == 2 {
			break
		}
		words = append(words, a)
	}
	return words
}

// Allowed reports whether MWAA's CLI endpoint runs the command.
func Allowed(args []string) bool {
	words := Words(args)
	if len(words) == 0 {
		return false
	}
	if allowed[words[0]] {
		return true
	}
	return len(words) == 2 && allowed[words[0]+" "+words[1]]
}

// Split splits a command line as a POSIX shell splits words: single
// quotes literal, double quotes with backslash escapes of " \ $ ` and
// newline, a backslash outside quotes escaping the next character.
// Nothing is expanded: the words go to a program, never to a shell.
func Split(line string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated single quote")
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) && strings.IndexByte("\"\\$`\n", line[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(line[i])
			}
			if i >= len(line) {
				return nil, errors.New("unterminated double quote")
			}
			inWord = true
		case c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
			inWord = true
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		args = append(args, cur.String())
	}
	return args, nil
}
