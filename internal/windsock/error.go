package windsock

import (
	"errors"
	"fmt"
	"time"
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
	// ETHROTTLED: the caller made too many attempts; it may try again
	// after Error.RetryAfter.
	ETHROTTLED = "throttled"
	// EUNAVAILABLE: the server is overloaded and shed the request; it may
	// be tried again after Error.RetryAfter.
	EUNAVAILABLE = "unavailable"
)

// Error is an application error: a code from the list above and a message
// safe to show to users.
type Error struct {
	Code    string
	Message string
	// RetryAfter, when set, is how long the caller should wait before
	// trying again (HTTP's Retry-After).
	RetryAfter time.Duration
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

// RetryLater returns an application error that tells the caller to try
// again after a while (ETHROTTLED, EUNAVAILABLE).
func RetryLater(code string, after time.Duration, format string, args ...any) *Error {
	e := Errorf(code, format, args...)
	e.RetryAfter = after
	return e
}

// RetryAfter returns how long err asks the caller to wait, 0 when it does
// not.
func RetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// RetryAfterSeconds is RetryAfter in whole seconds rounded up, as HTTP's
// Retry-After carries it (a client retrying at 0 would be early); 0 when
// err does not ask the caller to wait.
func RetryAfterSeconds(err error) int {
	return int((RetryAfter(err) + time.Second - 1) / time.Second)
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
