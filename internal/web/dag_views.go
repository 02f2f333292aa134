package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// runsData is the runs page: the DAG's runs, newest first, paged.
type runsData struct {
	*dagPage
	Runs  []runView
	Pager pager
	// State is the state filter, "" for all.
	State  string
	States []string
}

// dagRuns lists the DAG's runs, optionally of one state (?state=).
func (s *Server) dagRuns(w http.ResponseWriter, r *http.Request) error {
	p, err := s.loadDAG(r, "runs")
	if err != nil {
		return err
	}
	page, err := pageParam(r)
	if err != nil {
		return err
	}
	d := &runsData{dagPage: p, State: r.URL.Query().Get("state"), States: []string{"queued", "running", "success", "failed"}}
	q := &store.DagRunQueryParams{DagIDs: []string{p.DagID}, OnlyDagIDs: true, OrderBy: "-execution_date",
		Limit: s.PageSize, Offset: (page - 1) * s.PageSize}
	if d.State != "" {
		if !strings.Contains(" queued running success failed ", " "+d.State+" ") {
			return windsock.Errorf(windsock.EINVALID, "state: expected queued, running, success or failed, got %q", d.State)
		}
		q.States = []windsock.DagRunState{windsock.DagRunState(d.State)}
	}
	total := 0
	if p.Can.ReadRuns {
		var runs []*windsock.DagRun
		if runs, total, err = s.Store.DagRunQuery(r.Context(), q); err != nil {
			return fmt.Errorf("runs page: %w", err)
		}
		for _, run := range runs {
			d.Runs = append(d.Runs, newRunView(p, run, s.now()))
		}
	}
	d.Pager = newPager(r, page, s.PageSize, total)
	return s.render(w, r, http.StatusOK, "dag_runs", Page{Title: p.DagID + " runs", Nav: "dags", Data: d})
}

// codeData is the code page: the DAG file as the DAG processor stored it.
type codeData struct {
	*dagPage
	Fileloc string
	Lines   []string
	// Missing is set when no source is stored for the file.
	Missing bool
}

// dagCode shows the source of the DAG's file (the dag_code table).
func (s *Server) dagCode(w http.ResponseWriter, r *http.Request) error {
	p, err := s.loadDAG(r, "code")
	if err != nil {
		return err
	}
	if !p.Can.ReadCode {
		return forbidden()
	}
	fileloc := p.Model.Fileloc
	if fileloc == "" {
		fileloc = p.DAG.Fileloc
	}
	d := &codeData{dagPage: p, Fileloc: fileloc}
	code, err := s.Store.DAGCodeGet(r.Context(), windsock.FilelocHash(fileloc))
	switch {
	case windsock.ErrorCode(err) == windsock.ENOTFOUND:
		d.Missing = true
	case err != nil:
		return fmt.Errorf("code page: %w", err)
	default:
		d.Lines = strings.Split(strings.TrimSuffix(code.SourceCode, "\n"), "\n")
	}
	return s.render(w, r, http.StatusOK, "dag_code", Page{Title: p.DagID + " code", Nav: "dags", Data: d})
}

// detailsData is the details page.
type detailsData struct {
	*dagPage
	Params      string
	DefaultArgs string
	Owners      string
	Schedule    string
	Tasks       int
	Groups      int
}

// dagDetails shows the DAG's settings: schedule, timetable, next data
// interval, params, owners, tags and file.
func (s *Server) dagDetails(w http.ResponseWriter, r *http.Request) error {
	p, err := s.loadDAG(r, "details")
	if err != nil {
		return err
	}
	d := &detailsData{dagPage: p, Params: jsonText(p.DAG.Params), DefaultArgs: jsonText(p.DAG.DefaultArgs),
		Owners: strings.Join(p.DAG.Owners, ", "), Tasks: len(p.DAG.Tasks), Groups: len(p.DAG.TaskGroups)}
	if d.Owners == "" {
		d.Owners = p.Model.Owners
	}
	sch := p.DAG.Schedule
	switch {
	case sch.Expr != "":
		d.Schedule = sch.Expr
	case sch.Kind == windsock.ScheduleNone || sch.Kind == "":
		d.Schedule = "None"
	default:
		d.Schedule = string(sch.Kind)
	}
	return s.render(w, r, http.StatusOK, "dag_details", Page{Title: p.DagID + " details", Nav: "dags", Data: d})
}
