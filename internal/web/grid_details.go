package web

import "net/http"

// isPanel reports whether a run or task-instance page is asked for as the
// grid's details panel (?panel=1): its content alone, without the layout,
// which the grid's script puts beside the grid without leaving the page.
func isPanel(r *http.Request) bool {
	return r.URL.Query().Get("panel") == "1"
}
