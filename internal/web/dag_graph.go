package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/web/dagview"
	"github.com/windsock/windsock/internal/windsock"
)

// graphData is the graph page: the DAG laid out left to right as an
// inline SVG, each task coloured by its state in the selected run.
type graphData struct {
	*dagPage
	// Runs are the recent runs to choose from, newest first.
	Runs []*windsock.DagRun
	// Run is the selected run, nil when the DAG has none.
	Run       *runView
	Width     string
	Height    string
	Nodes     []graphNode
	Edges     []graphEdge
	StatesURL string
	Legend    []string
}

// graphNode is a task box with its coordinates as SVG attribute text.
type graphNode struct {
	ID, Text, Group    string
	State              string // "none" for no state
	Href               string // the task instance, "" when the run has none
	X, Y, W, H, TX, TY string
}

// graphEdge is a dependency drawn as an SVG path.
type graphEdge struct{ From, To, D string }

// graphStates is what the graph's script polls: the selected run's task
// states.
type graphStates struct {
	RunID    string            `json:"run_id"`
	RunState string            `json:"run_state"`
	Active   bool              `json:"active"`
	States   map[string]string `json:"states"`
}

// dagGraph shows the DAG's graph, coloured by ?run_id= (default: the
// newest run).
func (s *Server) dagGraph(w http.ResponseWriter, r *http.Request) error {
	p, err := s.loadDAG(r, "graph")
	if err != nil {
		return err
	}
	ctx := r.Context()
	d := &graphData{dagPage: p, Legend: stateLegend()}
	if p.Can.ReadRuns {
		if d.Runs, err = s.Store.DagRunList(ctx, &store.DagRunListParams{DagID: p.DagID, OrderBy: "-execution_date", Limit: 25}); err != nil {
			return fmt.Errorf("graph: list runs: %w", err)
		}
	}
	var run *windsock.DagRun
	if id := r.URL.Query().Get("run_id"); id != "" && p.Can.ReadRuns {
		if run, err = s.Store.DagRunGet(ctx, p.DagID, id); windsock.ErrorCode(err) == windsock.ENOTFOUND {
			return windsock.Errorf(windsock.ENOTFOUND, "DAG %q has no run %q", p.DagID, id)
		} else if err != nil {
			return fmt.Errorf("graph: read run: %w", err)
		}
	} else if len(d.Runs) > 0 {
		run = d.Runs[0]
	}
	states := map[string]string{}
	if run != nil {
		v := newRunView(p, run, s.now())
		d.Run = &v
		d.StatesURL = p.Path + "/graph/states?run_id=" + url.QueryEscape(run.RunID)
		if p.Can.ReadTIs {
			if states, err = s.taskStates(ctx, p.DagID, run.RunID); err != nil {
				return err
			}
		}
	}
	lay, err := dagview.LayoutDAG(p.DAG)
	if err != nil {
		return fmt.Errorf("graph: %w", err)
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	d.Width, d.Height = f(lay.Width), f(lay.Height)
	for _, n := range lay.Nodes {
		gn := graphNode{ID: n.ID, Text: n.Text, Group: n.Group, State: "none",
			X: f(n.X), Y: f(n.Y), W: f(n.W), H: f(n.H), TX: f(n.X + n.W/2), TY: f(n.Y + n.H/2 + 4)}
		if st, ok := states[n.ID]; ok {
			gn.State = dagview.StateClass(st)
			gn.Href = p.Path + "/grid/" + d.Run.Path + "/" + url.PathEscape(n.ID)
		}
		d.Nodes = append(d.Nodes, gn)
	}
	for _, e := range lay.Edges {
		d.Edges = append(d.Edges, graphEdge{From: e.From, To: e.To, D: e.D})
	}
	return s.render(w, r, http.StatusOK, "dag_graph", Page{Title: p.DagID + " graph", Nav: "dags", Data: d})
}

// dagGraphStates answers the task states of a run as JSON, for the graph
// page's polling.
func (s *Server) dagGraphStates(w http.ResponseWriter, r *http.Request) error {
	p, err := s.loadDAG(r, "graph")
	if err != nil {
		return err
	}
	if !p.Can.ReadRuns || !p.Can.ReadTIs {
		return forbidden()
	}
	ctx := r.Context()
	runID := r.URL.Query().Get("run_id")
	run, err := s.Store.DagRunGet(ctx, p.DagID, runID)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return windsock.Errorf(windsock.ENOTFOUND, "DAG %q has no run %q", p.DagID, runID)
	}
	if err != nil {
		return fmt.Errorf("graph states: read run: %w", err)
	}
	out := graphStates{RunID: run.RunID, RunState: string(run.State), Active: runActive(run.State)}
	if out.States, err = s.taskStates(ctx, p.DagID, run.RunID); err != nil {
		return err
	}
	b, err := json.Marshal(out)
	if err != nil {
		return fmt.Errorf("graph states: %w", err)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	_, err = w.Write(b)
	return err
}

// taskStates returns each task's state in a run ("" for none); a mapped
// task's is the summary of its instances.
func (s *Server) taskStates(ctx context.Context, dagID, runID string) (map[string]string, error) {
	tis, err := s.Store.TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: dagID, RunID: runID})
	if err != nil {
		return nil, fmt.Errorf("list task instances: %w", err)
	}
	sets := map[string]map[windsock.TaskInstanceState]bool{}
	for _, ti := range tis {
		if sets[ti.TaskID] == nil {
			sets[ti.TaskID] = map[windsock.TaskInstanceState]bool{}
		}
		sets[ti.TaskID][ti.State] = true
	}
	out := make(map[string]string, len(sets))
	for id, set := range sets {
		st, _ := dagview.SummaryState(set)
		out[id] = string(st)
	}
	return out, nil
}
