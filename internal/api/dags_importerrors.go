package api

import (
	"cmp"
	"context"
	"net/http"
	"strconv"

	"github.com/windsock/windsock/internal/windsock"
)

// importErrorJSON is Airflow's ImportError.
type importErrorJSON struct {
	ImportErrorID int64  `json:"import_error_id"`
	Timestamp     string `json:"timestamp"`
	Filename      string `json:"filename"`
	StackTrace    string `json:"stack_trace"`
}

// redactedStackTrace replaces the stack trace of a file holding DAGs the
// user may not read, in Airflow's words.
const redactedStackTrace = "REDACTED - you do not have read permission on all DAGs in the file"

func importErrorOut(ie *windsock.ImportError) importErrorJSON {
	return importErrorJSON{ImportErrorID: ie.ID, Timestamp: windsock.ISOFormat(ie.Timestamp), Filename: ie.Filename,
		StackTrace: ie.Stacktrace}
}

func importErrorOrder() metaOrder[importErrorJSON] {
	return metaOrder[importErrorJSON]{
		"import_error_id": func(a, b importErrorJSON) int { return cmp.Compare(a.ImportErrorID, b.ImportErrorID) },
		"timestamp":       func(a, b importErrorJSON) int { return cmp.Compare(a.Timestamp, b.Timestamp) },
		"filename":        func(a, b importErrorJSON) int { return cmp.Compare(a.Filename, b.Filename) },
	}
}

// fileAccess says, for a user who may not read every DAG, which DAG files
// they may see: files -> whether they may read every DAG defined there.
// nil when the user may read every DAG.
func (s *Server) fileAccess(ctx context.Context, r *http.Request) (map[string]bool, error) {
	all, readable := s.authz.ReadableDAGs(ctx, userFrom(r))
	if all {
		return nil, nil
	}
	dags, err := s.Store.DAGList(ctx, nil)
	if err != nil {
		return nil, err
	}
	files := map[string]bool{}
	for _, m := range dags {
		if readable[m.DagID] {
			if _, seen := files[m.Fileloc]; !seen {
				files[m.Fileloc] = true
			}
		}
	}
	for _, m := range dags {
		if !readable[m.DagID] {
			if _, some := files[m.Fileloc]; some {
				files[m.Fileloc] = false
			}
		}
	}
	return files, nil
}

// getImportErrors is Airflow's get_import_errors. A user who may not read
// every DAG sees only the errors of files holding a DAG they may read,
// and the stack trace only where they may read every DAG of the file.
func (s *Server) getImportErrors(w http.ResponseWriter, r *http.Request) error {
	order := importErrorOrder()
	pg, err := s.pageParams(r, order.fields())
	if err != nil {
		return err
	}
	files, err := s.fileAccess(r.Context(), r)
	if err != nil {
		return err
	}
	all, err := s.Store.ImportErrorList(r.Context())
	if err != nil {
		return err
	}
	items := make([]importErrorJSON, 0, len(all))
	for _, ie := range all {
		out := importErrorOut(ie)
		if files != nil {
			full, visible := files[ie.Filename]
			if !visible {
				continue
			}
			if !full {
				out.StackTrace = redactedStackTrace
			}
		}
		items = append(items, out)
	}
	total := len(items)
	return writeJSON(w, http.StatusOK, collection("import_errors", metaPage(items, pg, order, "import_error_id"), total))
}

// getImportError is Airflow's get_import_error.
func (s *Server) getImportError(w http.ResponseWriter, r *http.Request) error {
	raw := r.PathValue("import_error_id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return windsock.Errorf(windsock.EINVALID, "import_error_id: expected an integer, got %q", raw)
	}
	all, err := s.Store.ImportErrorList(r.Context())
	if err != nil {
		return err
	}
	var found *windsock.ImportError
	for _, ie := range all {
		if ie.ID == id {
			found = ie
		}
	}
	if found == nil {
		return windsock.Errorf(windsock.ENOTFOUND, "The ImportError with import_error_id: `%d` was not found", id)
	}
	files, err := s.fileAccess(r.Context(), r)
	if err != nil {
		return err
	}
	out := importErrorOut(found)
	if files != nil {
		full, visible := files[found.Filename]
		if !visible {
			return windsock.Errorf(windsock.EFORBIDDEN, "You do not have read permission on any of the DAGs in the file")
		}
		if !full {
			out.StackTrace = redactedStackTrace
		}
	}
	return writeJSON(w, http.StatusOK, out)
}
