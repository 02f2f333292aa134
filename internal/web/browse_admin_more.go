package web

import (
	"cmp"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/store"
)

// xcomRow is one XCom entry of Browse > XComs.
type xcomRow struct {
	*store.XComEntry
	Value string
	TIURL string
}

// xcomValueShown bounds how much of a value the list shows.
const xcomValueShown = 200

// xcomList is Browse > XComs: the XCom entries of the readable DAGs,
// filtered by DAG, run, task and key.
func (s *Server) xcomList(w http.ResponseWriter, r *http.Request) error {
	if err := s.require(r, auth.ActionRead, auth.ResourceXCom); err != nil {
		return err
	}
	q := r.URL.Query()
	dagID, runID := strings.TrimSpace(q.Get("dag_id")), strings.TrimSpace(q.Get("run_id"))
	taskID, key := strings.TrimSpace(q.Get("task_id")), strings.TrimSpace(q.Get("key"))
	page, err := pageParam(r)
	if err != nil {
		return err
	}
	sc := s.scope(r, dagID)
	entries, total, err := s.Store.XComQuery(r.Context(), &store.XComQueryParams{DagIDs: sc.ids, OnlyDagIDs: sc.restrict,
		RunID: runID, TaskID: taskID, Key: key, Limit: s.PageSize, Offset: (page - 1) * s.PageSize})
	if err != nil {
		return err
	}
	rows := make([]xcomRow, len(entries))
	for i, x := range entries {
		u := "/dags/" + url.PathEscape(x.DagID) + "/grid/" + url.PathEscape(x.RunID) + "/" + url.PathEscape(x.TaskID)
		if x.MapIndex >= 0 {
			u += "?map_index=" + strconv.Itoa(x.MapIndex)
		}
		rows[i] = xcomRow{XComEntry: x, Value: shorten(jsonBytesText(x.XCom.Value), xcomValueShown), TIURL: u}
	}
	d := browseData{Rows: rows, Pager: newPager(r, page, s.PageSize, total), Filters: []filterField{
		{Name: "dag_id", Label: "DAG id", Value: dagID},
		{Name: "run_id", Label: "Run id", Value: runID},
		{Name: "task_id", Label: "Task id", Value: taskID},
		{Name: "key", Label: "Key", Value: key},
	}}
	return s.render(w, r, http.StatusOK, "browse_xcoms", Page{Title: "XComs", Nav: "browse", Data: d})
}

// auditLogData is a DAG's audit log tab.
type auditLogData struct {
	*dagPage
	browseData
}

// dagAuditLog is /dags/{dag_id}/audit_log: the event log of one DAG,
// newest first, as Airflow 2.10's DAG "Audit Log" tab.
func (s *Server) dagAuditLog(w http.ResponseWriter, r *http.Request) error {
	p, err := s.loadDAG(r, "audit_log")
	if err != nil {
		return err
	}
	if !p.Can.ReadAuditLog {
		return forbidden()
	}
	q := r.URL.Query()
	event, owner := strings.TrimSpace(q.Get("event")), strings.TrimSpace(q.Get("owner"))
	page, err := pageParam(r)
	if err != nil {
		return err
	}
	rows, total, err := s.Store.EventLogQuery(r.Context(), &store.EventLogQueryParams{DagID: p.DagID, Event: event, Owner: owner,
		RestrictDAGs: true, DagIDs: []string{p.DagID}, OrderBy: "-event_log_id", Limit: s.PageSize, Offset: (page - 1) * s.PageSize})
	if err != nil {
		return err
	}
	d := &auditLogData{dagPage: p, browseData: browseData{Rows: rows, Pager: newPager(r, page, s.PageSize, total), Filters: []filterField{
		{Name: "event", Label: "Event", Value: event},
		{Name: "owner", Label: "Owner", Value: owner},
	}}}
	return s.render(w, r, http.StatusOK, "dag_audit_log", Page{Title: p.DagID + " audit log", Nav: "dags", Data: d})
}

// configData is Admin > Configuration.
type configData struct {
	Exposed  bool
	Sections []configSection
}

type configSection struct {
	Name    string
	Options []config.Option
}

// configPage is Admin > Configuration: every option with its value and
// where it came from, sensitive values masked, and only when
// webserver.expose_config allows (otherwise the page says so).
func (s *Server) configPage(w http.ResponseWriter, r *http.Request) error {
	if err := s.require(r, auth.ActionRead, auth.ResourceConfig); err != nil {
		return err
	}
	d := &configData{Exposed: s.cfg.Webserver.ExposeConfig}
	if d.Exposed {
		for _, o := range s.cfg.Options() {
			if n := len(d.Sections); n == 0 || d.Sections[n-1].Name != o.Section {
				d.Sections = append(d.Sections, configSection{Name: o.Section})
			}
			last := &d.Sections[len(d.Sections)-1]
			last.Options = append(last.Options, o)
		}
	}
	return s.render(w, r, http.StatusOK, "admin_config", Page{Title: "Configuration", Nav: "admin", Data: d})
}

// providerRow is one operator of Admin > Providers.
type providerRow struct {
	Provider string
	Class    string
	Name     string
	Path     string
	// Missing is what a placeholder needs, "" for operators Windsock runs.
	Missing string
}

// providersData is Admin > Providers, and what Admin > Plugins shows.
type providersData struct {
	Rows      []providerRow
	Native    int
	Missing   int
	Plugins   []string
	PluginDir string
}

// providerList is Admin > Providers: the operators Windsock knows, by the
// Airflow provider package they come from, each run natively or a
// placeholder whose tasks fail saying what they need.
func (s *Server) providerList(w http.ResponseWriter, r *http.Request) error {
	if err := s.require(r, auth.ActionRead, auth.ResourceProvider); err != nil {
		return err
	}
	d := &providersData{}
	for _, spec := range s.operators.Specs() {
		row := providerRow{Provider: "apache-airflow (core)", Class: spec.Class, Name: spec.Name, Missing: spec.Missing}
		if len(spec.Paths) > 0 {
			row.Path = spec.Paths[0]
			if rest, ok := strings.CutPrefix(row.Path, "airflow.providers."); ok {
				// airflow.providers.amazon.aws... is apache-airflow-providers-amazon;
				// airflow.providers.common.sql... is ...-common-sql.
				parts := strings.Split(rest, ".")
				pkg := parts[0]
				if pkg == "common" && len(parts) > 1 {
					pkg += "-" + parts[1]
				}
				row.Provider = "apache-airflow-providers-" + pkg
			}
		}
		if row.Missing == "" {
			d.Native++
		} else {
			d.Missing++
		}
		d.Rows = append(d.Rows, row)
	}
	slices.SortStableFunc(d.Rows, func(a, b providerRow) int {
		return cmp.Or(cmp.Compare(a.Provider, b.Provider), cmp.Compare(a.Class, b.Class))
	})
	return s.render(w, r, http.StatusOK, "admin_providers", Page{Title: "Providers", Nav: "admin", Data: d})
}

// pluginList is Admin > Plugins: Windsock registers no Airflow plugin
// objects; it puts the plugins folder (where MWAA unpacks plugins.zip) on
// the Python path of DAG files and Python tasks. The page says so and
// lists what the folder holds.
func (s *Server) pluginList(w http.ResponseWriter, r *http.Request) error {
	if err := s.require(r, auth.ActionRead, auth.ResourcePlugin); err != nil {
		return err
	}
	d := &providersData{PluginDir: s.cfg.Core.PluginsFolder}
	if d.PluginDir != "" {
		// The folder comes from the configuration, not the request.
		entries, err := os.ReadDir(d.PluginDir)
		if err != nil && !os.IsNotExist(err) {
			s.logger().Warn("web: read plugins folder", "error", err)
		}
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, ".") || name == "__pycache__" {
				continue
			}
			if e.IsDir() {
				name += "/"
			}
			d.Plugins = append(d.Plugins, name)
		}
	}
	return s.render(w, r, http.StatusOK, "admin_plugins", Page{Title: "Plugins", Nav: "admin", Data: d})
}
