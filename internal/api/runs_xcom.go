package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/pyvalue"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// getXComEntries is Airflow's get_xcom_entries: entries without their
// values; dag_id, dag_run_id and task_id may each be "~".
func (s *Server) getXComEntries(w http.ResponseWriter, r *http.Request) error {
	p, err := s.pageParams(r, nil)
	if err != nil {
		return err
	}
	params := store.XComQueryParams{Limit: p.Limit, Offset: p.Offset, Key: r.URL.Query().Get("xcom_key")}
	if dagID := r.PathValue("dag_id"); dagID == wildcard {
		params.DagIDs, params.OnlyDagIDs = s.readableFilter(r.Context(), r)
	} else {
		if err := checkPathID("dag_id", dagID); err != nil {
			return err
		}
		if err := s.canDAGEntity(r, auth.ActionRead, auth.ResourceXCom, dagID); err != nil {
			return err
		}
		params.DagIDs, params.OnlyDagIDs = []string{dagID}, true
	}
	for name, dst := range map[string]*string{"dag_run_id": &params.RunID, "task_id": &params.TaskID} {
		if v := r.PathValue(name); v != wildcard {
			if err := checkPathID(name, v); err != nil {
				return err
			}
			*dst = v
		}
	}
	if params.MapIndex, err = queryInt(r, "map_index"); err != nil {
		return err
	}
	entries, total, err := s.Store.XComQuery(r.Context(), &params)
	if err != nil {
		return err
	}
	items := make([]xcomItemJSON, len(entries))
	for i, e := range entries {
		items[i] = xcomItemOut(e)
	}
	return writeJSON(w, http.StatusOK, collection("xcom_entries", items, total))
}

// getXComEntry is Airflow's get_xcom_entry. The value is stored as JSON;
// with stringify (the default) it is answered as the string Python's str()
// makes of the decoded value, as Airflow answers it, else as the JSON
// value itself. deserialize changes nothing: Windsock's only XCom backend
// stores plain JSON.
func (s *Server) getXComEntry(w http.ResponseWriter, r *http.Request) error {
	ids, err := pathIDs(r, "dag_id", "dag_run_id", "task_id", "xcom_key")
	if err != nil {
		return err
	}
	if err := s.canDAGEntity(r, auth.ActionRead, auth.ResourceXCom, ids[0]); err != nil {
		return err
	}
	mapIndex := -1
	if mi, err := queryInt(r, "map_index"); err != nil {
		return err
	} else if mi != nil {
		mapIndex = *mi
	}
	if _, err := queryBool(r, "deserialize"); err != nil {
		return err
	}
	stringify, err := queryBool(r, "stringify")
	if err != nil {
		return err
	}
	entries, _, err := s.Store.XComQuery(r.Context(), &store.XComQueryParams{DagIDs: ids[:1], OnlyDagIDs: true,
		RunID: ids[1], TaskID: ids[2], Key: ids[3], MapIndex: &mapIndex, Limit: 1})
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return windsock.Errorf(windsock.ENOTFOUND, "XCom entry not found: key %q of task %q of run %q of DAG %q",
			ids[3], ids[2], ids[1], ids[0])
	}
	e := entries[0]
	value := json.RawMessage(e.Value)
	if len(value) == 0 || !json.Valid(value) {
		value = json.RawMessage("null")
	}
	if stringify == nil || *stringify {
		str, err := pythonStr(value)
		if err != nil {
			return fmt.Errorf("format xcom value: %w", err)
		}
		if value, err = json.Marshal(str); err != nil {
			return err
		}
		if str == nil {
			value = json.RawMessage("null")
		}
	}
	return writeJSON(w, http.StatusOK, xcomJSON{xcomItemJSON: xcomItemOut(e), Value: value})
}

// pythonStr returns what Python's str() makes of a JSON value decoded by
// json.loads: a string as it is, anything else in its repr form (dicts in
// document order, single-quoted strings, True/False/None). nil for JSON
// null, which Airflow answers as null.
func pythonStr(raw []byte) (*string, error) {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var b strings.Builder
	if err := writePythonRepr(dec, &b, true); err != nil {
		return nil, err
	}
	out := b.String()
	return &out, nil
}

func writePythonRepr(dec *json.Decoder, b *strings.Builder, top bool) error {
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	switch v := tok.(type) {
	case json.Delim:
		open, end := byte('['), json.Delim(']')
		if v == '{' {
			open, end = '{', '}'
		}
		b.WriteByte(open)
		for first := true; dec.More(); first = false {
			if !first {
				b.WriteString(", ")
			}
			if open == '{' {
				key, err := dec.Token()
				if err != nil {
					return err
				}
				b.WriteString(pyvalue.Quote(key.(string)))
				b.WriteString(": ")
			}
			if err := writePythonRepr(dec, b, false); err != nil {
				return err
			}
		}
		if tok, err := dec.Token(); err != nil || tok != end {
			return fmt.Errorf("unbalanced JSON at offset %d", dec.InputOffset())
		}
		b.WriteString(string(end))
	case string:
		if top {
			b.WriteString(v)
		} else {
			b.WriteString(pyvalue.Quote(v))
		}
	case json.Number:
		b.WriteString(pyvalue.Repr(v))
	case bool:
		if v {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case nil:
		b.WriteString("None")
	}
	return nil
}
