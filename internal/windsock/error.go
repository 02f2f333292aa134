package windsock

import (
	"errors"
	"fmt"
)

// Application error codes. They say what kind of failure happened, not where;
// the HTTP layer and the CLI each map them to a status or exit code in one
// table.
const (
	EINVALID   = "invalid"        // the caller sent something malformed or out of range
	ENOTFOUND  = "not_found"      // the named thing does not exist
	ECONFLICT  = "already_exists" // the thing exists already, or a unique key clashes
	EUNAUTH    = "unauthenticated"
	EFORBIDDEN = "forbidden"
	EINTERNAL  = "internal"
)

// Error is an application error: a code from the list above and a message
// safe to show to users.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return e.Message
}

// Errorf returns an application error with the given code and a formatted
// message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the application code of err, EINTERNAL for errors that
// carry none, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err. Errors without an
// application code are reported as "internal error" so that internals never
// leak to users; log the full error instead.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
