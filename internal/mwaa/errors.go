package mwaa

import (
	"encoding/json"
	"errors"
	"net/http"
)

// Error is an MWAA error response: Code is the error shape's name (sent
// in X-Amzn-ErrorType and __type), Status its HTTP status.
type Error struct {
	Code    string
	Status  int
	Message string
	// RestAPIStatus and RestAPIResponse are set on RestApiClientException
	// and RestApiServerException.
	RestAPIStatus   int
	RestAPIResponse json.RawMessage
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func validation(msg string) *Error {
	return &Error{Code: "ValidationException", Status: http.StatusBadRequest, Message: msg}
}

func notFound(msg string) *Error {
	return &Error{Code: "ResourceNotFoundException", Status: http.StatusNotFound, Message: msg}
}

func accessDenied(msg string) *Error {
	return &Error{Code: "AccessDeniedException", Status: http.StatusForbidden, Message: msg}
}

func environmentNotFound(name string) *Error {
	return notFound("Environment named " + name + " not found.")
}

// body is the JSON an error answers with. AccessDeniedException's member
// is "Message" (capital M) in the model; the others' is "message".
func (e *Error) body() map[string]any {
	b := map[string]any{"__type": e.Code}
	switch e.Code {
	case "AccessDeniedException":
		b["Message"] = e.Message
	case "RestApiClientException", "RestApiServerException":
		b["RestApiStatusCode"] = e.RestAPIStatus
		b["RestApiResponse"] = e.RestAPIResponse
	default:
		b["message"] = e.Message
	}
	return b
}

// asError turns any error into the response to send: an *Error as it
// is, anything else InternalServerException with a generic message (the
// cause is logged, not shown).
func asError(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return &Error{Code: "InternalServerException", Status: http.StatusInternalServerError,
		Message: "An internal error occurred."}, false
}
