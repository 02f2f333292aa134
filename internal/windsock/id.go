package windsock

import (
	"regexp"
	"unicode/utf8"
)

// MaxIDLength is Airflow's ID_LEN: the longest dag_id, task_id, run_id or
// XCom key, in characters (the columns are VARCHAR(250)).
const MaxIDLength = 250

// keyPattern is Airflow's KEY_REGEX, ^[\w.-]+$, with \w read as Python 3
// reads it in a str pattern: any letter or number in Unicode, or '_'.
var keyPattern = regexp.MustCompile(`^[\p{L}\p{N}_.-]+$`)

// CheckPathID returns an EINVALID error naming field when id cannot name a
// record addressed by a URL path segment or a log path: empty, longer than
// MaxIDLength, not UTF-8, "." or "..", or holding a control character, '/'
// or '\'. Run ids, XCom keys and ids the API is given go through it.
func CheckPathID(field, id string) error {
	if n := utf8.RuneCountInString(id); n == 0 || n > MaxIDLength {
		return Errorf(EINVALID, "%s must be 1 to %d characters, got %d", field, MaxIDLength, n)
	}
	if !utf8.ValidString(id) {
		return Errorf(EINVALID, "%s %q is not valid UTF-8", field, id)
	}
	if id == "." || id == ".." {
		return Errorf(EINVALID, "%s %q is not allowed: it would name a directory in paths", field, id)
	}
	for _, c := range id {
		if c < 0x20 || c == 0x7f || c == '/' || c == '\\' {
			return Errorf(EINVALID, "%s %q holds a character that is not allowed (control characters, '/' and '\\')", field, id)
		}
	}
	return nil
}

// CheckKey is Airflow's validate_key for the ids a DAG file defines (DAG
// ids, task ids, task group names): everything CheckPathID refuses, and
// anything but letters, digits, '_', '.' and '-'. The DAG file parser uses
// it, so no id the parser accepts is one the API refuses.
func CheckKey(field, id string) error {
	if err := CheckPathID(field, id); err != nil {
		return err
	}
	if !keyPattern.MatchString(id) {
		return Errorf(EINVALID, "%s %q may contain only letters, digits, '_', '.' and '-'", field, id)
	}
	return nil
}
