package web

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/web/dagview"
	"github.com/windsock/windsock/internal/windsock"
)

// gridData is the grid page: the grid of recent runs and, when a run is
// selected (?run_id=), its details and actions.
type gridData struct {
	*dagPage
	Live     gridLive
	NumRuns  int
	Options  []int
	Selected *runView
	RunClear clearForm
	Legend   []string
}

// gridLive is the part of the grid page its script replaces while runs
// are active.
type gridLive struct {
	// URL is the fragment's own address, polled every few seconds while
	// Active.
	URL    string
	Active bool
	HTML   template.HTML
	Runs   int
}

// dagGrid is the DAG's default view.
func (s *Server) dagGrid(w http.ResponseWriter, r *http.Request) error {
	p, err := s.loadDAG(r, "grid")
	if err != nil {
		return err
	}
	d := &gridData{dagPage: p, Options: []int{5, 25, 50, 100, 365}, Legend: stateLegend()}
	if d.NumRuns, err = numRunsParam(r); err != nil {
		return err
	}
	selected := r.URL.Query().Get("run_id")
	if selected != "" && p.Can.ReadRuns {
		run, err := s.Store.DagRunGet(r.Context(), p.DagID, selected)
		if windsock.ErrorCode(err) == windsock.ENOTFOUND {
			return windsock.Errorf(windsock.ENOTFOUND, "DAG %q has no run %q", p.DagID, selected)
		}
		if err != nil {
			return fmt.Errorf("grid: read run: %w", err)
		}
		v := newRunView(p, run, s.now())
		d.Selected = &v
		d.RunClear = clearForm{ID: "run-clear", DagAPIPath: p.APIPath, RunID: run.RunID}
		if isPanel(r) {
			return s.renderFragment(w, r, "dag_grid", "run-panel", d)
		}
	}
	if d.Live, err = s.gridLive(r, p, d.NumRuns, selected); err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "dag_grid", Page{Title: p.DagID, Nav: "dags", Data: d})
}

// dagGridLive answers the grid fragment alone, for the page's polling.
func (s *Server) dagGridLive(w http.ResponseWriter, r *http.Request) error {
	p, err := s.loadDAG(r, "grid")
	if err != nil {
		return err
	}
	n, err := numRunsParam(r)
	if err != nil {
		return err
	}
	live, err := s.gridLive(r, p, n, r.URL.Query().Get("run_id"))
	if err != nil {
		return err
	}
	return s.renderFragment(w, r, "dag_grid", "grid-live", live)
}

// gridLive builds and renders the grid of the n newest runs.
func (s *Server) gridLive(r *http.Request, p *dagPage, n int, selected string) (gridLive, error) {
	ctx := r.Context()
	var runs []*windsock.DagRun
	var tis []*windsock.TaskInstance
	if p.Can.ReadRuns {
		var err error
		runs, err = s.Store.DagRunList(ctx, &store.DagRunListParams{DagID: p.DagID, OrderBy: "-execution_date", Limit: n})
		if err != nil {
			return gridLive{}, fmt.Errorf("grid: list runs: %w", err)
		}
	}
	if p.Can.ReadTIs && len(runs) > 0 {
		ids := make([]string, len(runs))
		for i, run := range runs {
			ids[i] = run.RunID
		}
		var err error
		tis, err = s.Store.TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: p.DagID, RunIDs: ids})
		if err != nil {
			return gridLive{}, fmt.Errorf("grid: list task instances: %w", err)
		}
	}
	g := dagview.BuildGrid(p.DAG, runs, tis, s.now())
	rend, err := dagview.NewGridRenderer()
	if err != nil {
		return gridLive{}, err
	}
	var buf bytes.Buffer
	if err := rend.Render(&buf, g, dagview.GridOptions{SelectedRun: selected}); err != nil {
		return gridLive{}, err
	}
	q := url.Values{"num_runs": {strconv.Itoa(n)}}
	if selected != "" {
		q.Set("run_id", selected)
	}
	live := gridLive{URL: p.Path + "/grid/live?" + q.Encode(), Runs: len(runs),
		// The renderer is html/template: its output is escaped already.
		HTML: template.HTML(buf.String())} //nolint:gosec // produced by html/template
	for _, run := range runs {
		if runActive(run.State) {
			live.Active = true
		}
	}
	return live, nil
}
