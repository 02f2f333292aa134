package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// dagsStatuses are the tabs of the DAGs list: "failed" keeps the DAGs
// whose latest run failed.
var dagsStatuses = []string{"all", "active", "paused", "failed"}

// runMarkStates are the run states the DAGs list counts, as Airflow's
// "Runs" column shows them.
var runMarkStates = []windsock.DagRunState{windsock.DagRunQueued, windsock.DagRunRunning,
	windsock.DagRunSuccess, windsock.DagRunFailed}

// taskMarkStates orders the task states of the "Recent tasks" column.
var taskMarkStates = []windsock.TaskInstanceState{
	windsock.TaskStateSuccess, windsock.TaskStateRunning, windsock.TaskStateFailed,
	windsock.TaskStateUpstreamFailed, windsock.TaskStateSkipped, windsock.TaskStateUpForRetry,
	windsock.TaskStateUpForReschedule, windsock.TaskStateQueued, windsock.TaskStateScheduled,
	windsock.TaskStateDeferred, windsock.TaskStateRemoved, windsock.TaskStateRestarting, windsock.TaskStateNone,
}

type mark struct {
	State string
	Count int
}

type dagRow struct {
	DAG        *windsock.DAGModel
	URL        string
	Schedule   string
	Owners     []string
	Runs       []mark
	Tasks      []mark
	LatestRun  *windsock.DagRun
	CanEdit    bool
	CanTrigger bool
	APIPath    string
	// Datasets are the URIs a dataset-scheduled DAG waits for.
	Datasets []string
}

type statusTab struct {
	Name, URL string
	Count     int
	Current   bool
}

type dagsData struct {
	Rows         []dagRow
	Search       string
	Tags         string
	Status       string
	Tabs         []statusTab
	Pager        pager
	ImportErrors []*windsock.ImportError
}

// dagsPage is the DAGs list at "/" and "/home": the DAGs the user may
// read, searched by dag_id, filtered by tags and status, a page at a time,
// each with its run counts and its latest run's task states.
func (s *Server) dagsPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query()
	page, err := pageParam(r)
	if err != nil {
		return err
	}
	d := dagsData{Search: strings.TrimSpace(q.Get("search")), Status: q.Get("status")}
	if d.Status == "" {
		d.Status = "all"
	}
	if !slices.Contains(dagsStatuses, d.Status) {
		return windsock.Errorf(windsock.EINVALID, "status: expected one of %s, got %q", strings.Join(dagsStatuses, ", "), d.Status)
	}
	tags := queryList(q, "tags")
	d.Tags = strings.Join(tags, ", ")

	all, readable := s.authz.ReadableDAGs(ctx, currentUser(r))
	var failed []string
	if failed, err = s.Store.DAGIDsByLatestRunState(ctx, windsock.DagRunFailed); err != nil {
		return err
	}
	// base is the search and tags filter every tab shares.
	base := func() *store.DAGQueryParams {
		p := &store.DAGQueryParams{OnlyActive: true, Tags: tags}
		if d.Search != "" {
			p.DagIDPattern = likeLiteral(d.Search)
		}
		if !all {
			p.RestrictDAGs = true
			p.DagIDs = mapKeys(readable)
		}
		return p
	}
	forStatus := func(status string) *store.DAGQueryParams {
		p := base()
		switch status {
		case "active":
			p.Paused = new(bool)
		case "paused":
			yes := true
			p.Paused = &yes
		case "failed":
			ids := failed
			if !all {
				ids = slices.DeleteFunc(slices.Clone(failed), func(id string) bool { return !readable[id] })
			}
			p.RestrictDAGs, p.DagIDs = true, ids
		}
		return p
	}
	var dags []*windsock.DAGModel
	for _, st := range dagsStatuses {
		p := forStatus(st)
		var total int
		if st == d.Status {
			p.Limit, p.Offset = s.PageSize, (page-1)*s.PageSize
			dags, total, err = s.Store.DAGQuery(ctx, p)
			d.Pager = newPager(r, page, s.PageSize, total)
		} else {
			p.Limit = 1
			_, total, err = s.Store.DAGQuery(ctx, p)
		}
		if err != nil {
			return err
		}
		tq := url.Values{}
		if d.Search != "" {
			tq.Set("search", d.Search)
		}
		if len(tags) > 0 {
			tq.Set("tags", d.Tags)
		}
		tq.Set("status", st)
		d.Tabs = append(d.Tabs, statusTab{Name: st, URL: "/?" + tq.Encode(), Count: total, Current: st == d.Status})
	}
	if d.Rows, err = s.dagRows(r, dags); err != nil {
		return err
	}
	// Import errors name files and show their source lines: only for who
	// may read every DAG, as a restricted user cannot be told which files
	// belong to which DAG without reading them all.
	if all && s.can(r, auth.ActionRead, auth.ResourceImportError) {
		if d.ImportErrors, err = s.Store.ImportErrorList(ctx); err != nil {
			return err
		}
	}
	return s.render(w, r, http.StatusOK, "dags", Page{Title: "DAGs", Nav: "dags", Data: d})
}

// dagRows adds to a page of DAGs their run counts, latest run and its
// task states: three queries for the whole page.
func (s *Server) dagRows(r *http.Request, dags []*windsock.DAGModel) ([]dagRow, error) {
	ctx := r.Context()
	ids := make([]string, len(dags))
	for i, d := range dags {
		ids[i] = d.DagID
	}
	runCounts, err := s.Store.DagRunStateCounts(ctx, ids)
	if err != nil {
		return nil, err
	}
	latest, err := s.Store.DagRunLatest(ctx, ids)
	if err != nil {
		return nil, err
	}
	taskCounts, err := s.Store.TaskInstanceStateCountsLatest(ctx, ids)
	if err != nil {
		return nil, err
	}
	consumed, err := s.consumedDatasets(r, dags)
	if err != nil {
		return nil, err
	}
	rows := make([]dagRow, len(dags))
	for i, d := range dags {
		row := dagRow{
			DAG:        d,
			URL:        "/dags/" + url.PathEscape(d.DagID) + "/grid",
			APIPath:    "/api/v1/dags/" + url.PathEscape(d.DagID),
			Schedule:   scheduleText(d.ScheduleInterval),
			LatestRun:  latest[d.DagID],
			CanEdit:    s.canDAG(r, auth.ActionEdit, d.DagID),
			CanTrigger: s.canDAGEntity(r, auth.ActionCreate, auth.ResourceDAGRun, d.DagID),
			Datasets:   consumed[d.DagID],
		}
		for _, o := range strings.Split(d.Owners, ",") {
			if o = strings.TrimSpace(o); o != "" {
				row.Owners = append(row.Owners, o)
			}
		}
		for _, st := range runMarkStates {
			row.Runs = append(row.Runs, mark{State: string(st), Count: runCounts[d.DagID][st]})
		}
		for _, st := range taskMarkStates {
			if n := taskCounts[d.DagID][st]; n > 0 {
				row.Tasks = append(row.Tasks, mark{State: string(st), Count: n})
			}
		}
		rows[i] = row
	}
	return rows, nil
}

// scheduleText shows dag.schedule_interval, stored as JSON: a string
// ("@daily", a cron expression), a timedelta object, or null.
func scheduleText(raw string) string {
	if raw == "" || raw == "null" {
		return "None"
	}
	var str string
	if json.Unmarshal([]byte(raw), &str) == nil {
		return str
	}
	var td struct {
		Type  string `json:"type"`
		Attrs struct {
			Days, Seconds, Microseconds int64
		} `json:"attrs"`
	}
	if json.Unmarshal([]byte(raw), &td) == nil && td.Type == "timedelta" {
		d := time.Duration(td.Attrs.Days)*24*time.Hour + time.Duration(td.Attrs.Seconds)*time.Second +
			time.Duration(td.Attrs.Microseconds)*time.Microsecond
		return "every " + d.String()
	}
	return raw
}

func mapKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
