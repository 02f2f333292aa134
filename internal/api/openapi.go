package api

import (
	"bytes"
	_ "embed"
	"net/http"
	"strconv"
)

// openAPIDocument is Windsock's OpenAPI 3.0 description of what it serves
// under /api/v1: Airflow 2.10's paths, parameters, fields and statuses,
// plus Windsock's own token endpoints.
//
//go:embed openapi.yaml
var openAPIDocument []byte

// OpenAPIDocument returns the OpenAPI document served at
// /api/v1/openapi.yaml.
func OpenAPIDocument() []byte { return bytes.Clone(openAPIDocument) }

// getOpenAPI serves the OpenAPI document, as Airflow serves its own at
// /api/v1/openapi.yaml.
func (s *Server) getOpenAPI(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h.Set("Content-Type", "application/yaml")
	h.Set("Content-Length", strconv.Itoa(len(openAPIDocument)))
	w.WriteHeader(http.StatusOK)
	// A failed write means the client went away.
	_, _ = w.Write(openAPIDocument)
	return nil
}
