package api

import (
	"net/http"
	"strings"

	"github.com/windsock/windsock/internal/connprobe"
	"github.com/windsock/windsock/internal/windsock"
)

// connectionTestJSON is Airflow's ConnectionTest.
type connectionTestJSON struct {
	Status  bool   `json:"status"`
	Message string `json:"message"`
}

// testConnection is Airflow's test_connection: allowed only when
// core.test_connection is Enabled; connprobe says what is tested how.
func (s *Server) testConnection(w http.ResponseWriter, r *http.Request) error {
	if !strings.EqualFold(strings.TrimSpace(s.cfg.Core.TestConnection), "Enabled") {
		return windsock.Errorf(windsock.EFORBIDDEN,
			"Testing connections is disabled in Windsock configuration. Contact your deployment admin to enable it.")
	}
	var in connectionInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	c, err := in.connection(false)
	if err != nil {
		return err
	}
	ok, msg := connprobe.Probe(r.Context(), c)
	return writeJSON(w, http.StatusOK, connectionTestJSON{Status: ok, Message: msg})
}
