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
	Boxes     []graphBox
	StatesURL string
	Legend    []string
	// ExpandAll and CollapseAll are links for DAGs with task groups.
	ExpandAll, CollapseAll string
}

// graphBox is an expanded task group, drawn around its members; its label
// links to the graph with the group collapsed.
type graphBox struct {
	ID, Label, Href string
	D               string // the outline
	LX, LY          string // where the label starts
}

// graphNode is a task box with its coordinates as SVG attribute text.
type graphNode struct {
	ID, Text, Group    string
	Collapsed          string // the task group a group node stands for
	Members            int    // tasks in that group
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
	var mapped map[string]int
	if run != nil {
		v := newRunView(p, run, s.now())
		d.Run = &v
		d.StatesURL = p.Path + "/graph/states?run_id=" + url.QueryEscape(run.RunID)
		if p.Can.ReadTIs {
			if states, mapped, err = s.taskStatesCounts(ctx, p.DagID, run.RunID); err != nil {
				return err
			}
		}
	}
	ex := parseExpanded(r.URL.Query()["expand"], p.DAG)
	gg := dagview.GroupDAG(p.DAG, ex.has)
	for i := range gg.Nodes {
		// A mapped task shows its number of instances in the run, "[ ]"
		// until it is expanded, as Airflow's graph does.
		if n := &gg.Nodes[i]; n.Collapsed == "" && p.DAG.Task(n.ID).Mapped() {
			if k := mapped[n.ID]; k > 0 {
				n.Label += " [" + strconv.Itoa(k) + "]"
			} else {
				n.Label += " [ ]"
			}
		}
	}
	lay, err := dagview.LayoutGraph(gg.Nodes, gg.Edges)
	if err != nil {
		return fmt.Errorf("graph: %w", err)
	}
	dagview.AddGroupStates(p.DAG, states)
	runID := r.URL.Query().Get("run_id")
	link := func(expand []string) string { return graphURL(p.Path, runID, expand) }
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	d.Width, d.Height = f(lay.Width), f(lay.Height)
	for _, n := range lay.Nodes {
		gn := graphNode{ID: n.ID, Text: n.Text, Group: n.Group, State: "none", Collapsed: n.Collapsed,
			X: f(n.X), Y: f(n.Y), W: f(n.W), H: f(n.H), TX: f(n.X + n.W/2), TY: f(n.Y + n.H/2 + 4)}
		if st, ok := states[n.ID]; ok {
			gn.State = dagview.StateClass(st)
		}
		switch {
		case n.Collapsed != "":
			gn.Members = len(gg.Members[n.ID])
			gn.Href = link(ex.with(n.Collapsed))
		case d.Run != nil && hasKey(states, n.ID):
			gn.Href = p.Path + "/grid/" + d.Run.Path + "/" + url.PathEscape(n.ID)
		}
		d.Nodes = append(d.Nodes, gn)
	}
	for _, b := range lay.Boxes {
		first := b.Pieces[0]
		d.Boxes = append(d.Boxes, graphBox{ID: b.ID, Label: gg.Labels[b.ID], Href: link(ex.without(b.ID)),
			D: b.D, LX: f(first.X + 6), LY: f(first.Y + 14)})
	}
	for _, e := range lay.Edges {
		d.Edges = append(d.Edges, graphEdge{From: e.From, To: e.To, D: e.D})
	}
	if len(p.DAG.TaskGroups) > 0 {
		d.ExpandAll, d.CollapseAll = link([]string{"*"}), link(nil)
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
	dagview.AddGroupStates(p.DAG, out.States)
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
	states, _, err := s.taskStatesCounts(ctx, dagID, runID)
	return states, err
}

// taskStatesCounts is taskStates with, for each expanded mapped task, its
// number of instances.
func (s *Server) taskStatesCounts(ctx context.Context, dagID, runID string) (map[string]string, map[string]int, error) {
	tis, err := s.Store.TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: dagID, RunID: runID})
	if err != nil {
		return nil, nil, fmt.Errorf("list task instances: %w", err)
	}
	sets := map[string]map[windsock.TaskInstanceState]bool{}
	mapped := map[string]int{}
	for _, ti := range tis {
		if sets[ti.TaskID] == nil {
			sets[ti.TaskID] = map[windsock.TaskInstanceState]bool{}
		}
		sets[ti.TaskID][ti.State] = true
		if ti.MapIndex >= 0 {
			mapped[ti.TaskID]++
		}
	}
	out := make(map[string]string, len(sets))
	for id, set := range sets {
		st, _ := dagview.SummaryState(set)
		out[id] = string(st)
	}
	return out, mapped, nil
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

// expandedGroups are the task groups the graph draws open, from the
// repeated ?expand= parameter; "*" opens every group. Groups start
// collapsed, as in Airflow's graph view.
type expandedGroups struct {
	all    bool
	groups []string          // the DAG's group ids, in definition order
	parent map[string]string // group id -> enclosing group id
	set    map[string]bool
}

func parseExpanded(values []string, dag *windsock.DAG) *expandedGroups {
	ex := &expandedGroups{set: map[string]bool{}, parent: map[string]string{}}
	for _, g := range dag.TaskGroups {
		ex.groups = append(ex.groups, g.GroupID)
		ex.parent[g.GroupID] = g.ParentGroup
	}
	for _, v := range values {
		if v == "*" {
			ex.all = true
		}
		ex.set[v] = true
	}
	return ex
}

func (ex *expandedGroups) has(group string) bool { return ex.all || ex.set[group] }

// with is the expanded list once group opens too.
func (ex *expandedGroups) with(group string) []string {
	var out []string
	for _, g := range ex.groups {
		if ex.has(g) || g == group {
			out = append(out, g)
		}
	}
	return out
}

// without is the expanded list once group closes: the groups inside it
// close with it.
func (ex *expandedGroups) without(group string) []string {
	var out []string
	for _, g := range ex.groups {
		if ex.has(g) && !ex.inside(g, group) {
			out = append(out, g)
		}
	}
	return out
}

// inside reports whether g is group or a group nested in it.
func (ex *expandedGroups) inside(g, group string) bool {
	for seen := map[string]bool{}; g != "" && !seen[g]; g = ex.parent[g] {
		if g == group {
			return true
		}
		seen[g] = true
	}
	return false
}

// graphURL is the graph page of a DAG with the run and the open groups.
func graphURL(dagPath, runID string, expand []string) string {
	q := url.Values{}
	if runID != "" {
		q.Set("run_id", runID)
	}
	for _, g := range expand {
		q.Add("expand", g)
	}
	if len(q) == 0 {
		return dagPath + "/graph"
	}
	return dagPath + "/graph?" + q.Encode()
}
