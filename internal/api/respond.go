package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
)

// writeJSON answers with v encoded as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	return writeJSONAs(w, "application/json", status, v)
}

func writeJSONAs(w http.ResponseWriter, contentType string, status int, v any) error {
	// Encode first: a value that cannot be encoded becomes a 500, not a
	// 200 with half a body.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	// A failed write means the client went away; there is no one left to
	// tell.
	_, _ = w.Write(buf.Bytes())
	return nil
}

// noContent answers 204, as Airflow's deletes do.
func noContent(w http.ResponseWriter) error {
	w.WriteHeader(http.StatusNoContent)
	return nil
}
