// Package dagview builds the view models of a DAG's pages: the grid of task
// instance states across runs and the layered layout of the DAG's graph. It
// is pure: definitions, runs and task instances in, positions and rows out.
package dagview

import (
	"container/heap"
	"slices"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

// Grid is the state of every task (rows) in each of a DAG's recent runs
// (columns, oldest on the left), as Airflow's grid view shows it.
type Grid struct {
	DagID   string
	Columns []Column
	Rows    []Row
}

// Column is one DAG run of the grid.
type Column struct {
	RunID       string
	State       windsock.DagRunState
	RunType     windsock.RunType
	LogicalDate time.Time
	StartDate   *time.Time
	EndDate     *time.Time
	// Duration is from start to end (or to the grid's now while the run is
	// active); zero when the run has not started.
	Duration time.Duration
}

// Row is a task or a task group of the grid.
type Row struct {
	// ID is the task id or the group id.
	ID string
	// Label is the ID without the enclosing group's prefix.
	Label string
	// Group is true for a task-group row, whose cells summarise the rows
	// inside it.
	Group bool
	// Parent is the id of the enclosing group, "" at the top level.
	Parent string
	// Depth is how many groups enclose the row.
	Depth int
	// Ancestors are the enclosing groups, outermost first: collapsing any
	// of them hides the row.
	Ancestors []string
	Operator  string
	// Tooltip is the group's tooltip, if any.
	Tooltip string
	// Cells has one entry per column.
	Cells []Cell
	// Indexes are a mapped task's rows by map index (at most
	// MaxIndexRows), which the grid expands in place under the task's
	// row; MoreIndexes counts the indexes left out.
	Indexes     []IndexRow
	MoreIndexes int
}

// MaxIndexRows bounds the index rows of one mapped task in the grid: past
// it the task's instance list (one page per run) shows the rest.
const MaxIndexRows = 100

// IndexRow is one map index of a mapped task across the grid's runs.
type IndexRow struct {
	MapIndex int
	// Name is the index's rendered_map_index (its map_index_template),
	// from the latest run that has one; "" when none.
	Name  string
	Cells []Cell
}

// Cell is one task (or group) in one run.
type Cell struct {
	// Exists is false when the run has no instance of the task (the task
	// was added after the run was created, or the group is empty).
	Exists bool
	State  windsock.TaskInstanceState
	// TryNumber is the current try (the highest among mapped instances);
	// zero for groups.
	TryNumber int
	StartDate *time.Time
	EndDate   *time.Time
	// Duration is from start to end, or to now while running; zero when
	// the instance has not started.
	Duration time.Duration
	// Mapped is the number of mapped instances, 0 for an unmapped task;
	// Counts says how many are in each state.
	Mapped int
	Counts []StateCount
}

// StateCount is how many instances of a mapped task are in one state.
type StateCount struct {
	State windsock.TaskInstanceState
	N     int
}

// Name is the state as shown.
func (c StateCount) Name() string { return StateName(c.State) }

// CountStates tallies instances by state, in the grid's summary order
// (failed first).
func CountStates(tis []*windsock.TaskInstance) []StateCount {
	n := map[windsock.TaskInstanceState]int{}
	for _, ti := range tis {
		n[ti.State]++
	}
	var out []StateCount
	for _, s := range summaryPriority() {
		if n[s] > 0 {
			out = append(out, StateCount{s, n[s]})
			delete(n, s)
		}
	}
	for s, k := range n { // states Windsock does not know
		out = append(out, StateCount{s, k})
	}
	return out
}

// summaryPriority is the order in which Airflow's grid picks a group's
// state from its children's: the first present wins.
func summaryPriority() [13]windsock.TaskInstanceState {
	return [...]windsock.TaskInstanceState{
		windsock.TaskStateFailed,
		windsock.TaskStateUpstreamFailed,
		windsock.TaskStateUpForRetry,
		windsock.TaskStateUpForReschedule,
		windsock.TaskStateQueued,
		windsock.TaskStateScheduled,
		windsock.TaskStateDeferred,
		windsock.TaskStateRunning,
		windsock.TaskStateRestarting,
		windsock.TaskStateNone,
		windsock.TaskStateSuccess,
		windsock.TaskStateSkipped,
		windsock.TaskStateRemoved,
	}
}

// SummaryState returns the state that stands for a set of states, with
// Airflow's priority (failed first, then retries, waiting, running, none,
// success, skipped, removed); ok is false for an empty set.
func SummaryState(states map[windsock.TaskInstanceState]bool) (windsock.TaskInstanceState, bool) {
	for _, s := range summaryPriority() {
		if states[s] {
			return s, true
		}
	}
	for s := range states { // a state Windsock does not know: show it as is
		return s, true
	}
	return "", false
}

// BuildGrid returns the grid of dag for runs (in any order; shown oldest
// first by logical date) and their task instances. Tasks are ordered
// topologically within their group, groups where their first task falls;
// now ends the durations of what is still running.
func BuildGrid(dag *windsock.DAG, runs []*windsock.DagRun, tis []*windsock.TaskInstance, now time.Time) *Grid {
	g := &Grid{DagID: dag.DagID}
	sorted := slices.Clone(runs)
	slices.SortStableFunc(sorted, func(a, b *windsock.DagRun) int {
		if c := a.LogicalDate.Compare(b.LogicalDate); c != 0 {
			return c
		}
		return strings.Compare(a.RunID, b.RunID)
	})
	col := make(map[string]int, len(sorted))
	for i, r := range sorted {
		col[r.RunID] = i
		c := Column{RunID: r.RunID, State: r.State, RunType: r.RunType, LogicalDate: r.LogicalDate,
			StartDate: r.StartDate, EndDate: r.EndDate}
		c.Duration = Span(r.StartDate, r.EndDate, now)
		g.Columns = append(g.Columns, c)
	}

	// Task instances of each task, per column.
	byTask := make(map[string][][]*windsock.TaskInstance, len(dag.Tasks))
	for _, ti := range tis {
		if ti.DagID != dag.DagID {
			continue
		}
		c, ok := col[ti.RunID]
		if !ok {
			continue
		}
		per := byTask[ti.TaskID]
		if per == nil {
			per = make([][]*windsock.TaskInstance, len(sorted))
			byTask[ti.TaskID] = per
		}
		per[c] = append(per[c], ti)
	}

	tree := newGroupTree(dag)
	var walk func(parent string, anc []string) []Cell
	// walk appends the rows under parent and returns, per column, the
	// cells of the tasks beneath (for the parent's summary).
	walk = func(parent string, anc []string) []Cell {
		var cells [][]Cell
		depth := len(anc)
		for _, child := range tree.children[parent] {
			if grp, ok := tree.groups[child]; ok {
				at := len(g.Rows)
				g.Rows = append(g.Rows, Row{ID: child, Label: shortLabel(child, parent), Group: true,
					Parent: parent, Depth: depth, Ancestors: anc, Tooltip: grp.Tooltip})
				sub := walk(child, append(slices.Clip(anc), child))
				g.Rows[at].Cells = sub
				cells = append(cells, sub)
				continue
			}
			t := tree.tasks[child]
			row := Row{ID: t.TaskID, Label: shortLabel(t.TaskID, parent), Parent: parent, Depth: depth, Ancestors: anc,
				Operator: t.OperatorClass, Cells: make([]Cell, len(sorted))}
			if per := byTask[t.TaskID]; per != nil {
				for c, list := range per {
					row.Cells[c] = taskCell(list, now)
				}
				row.Indexes, row.MoreIndexes = indexRows(per, now)
			}
			g.Rows = append(g.Rows, row)
			cells = append(cells, row.Cells)
		}
		return summarise(cells, len(sorted), now)
	}
	walk("", nil)
	return g
}

// taskCell is the cell of one task in one run: its instance, or the
// summary of its mapped instances.
func taskCell(list []*windsock.TaskInstance, now time.Time) Cell {
	switch len(list) {
	case 0:
		return Cell{}
	case 1:
		if list[0].MapIndex < 0 {
			ti := list[0]
			return Cell{Exists: true, State: ti.State, TryNumber: ti.TryNumber, StartDate: ti.StartDate,
				EndDate: ti.EndDate, Duration: tiDuration(ti, now)}
		}
	}
	cells := make([][]Cell, len(list))
	for i, ti := range list {
		cells[i] = []Cell{{Exists: true, State: ti.State, TryNumber: ti.TryNumber, StartDate: ti.StartDate, EndDate: ti.EndDate}}
	}
	c := summarise(cells, 1, now)[0]
	for _, ti := range list {
		c.TryNumber = max(c.TryNumber, ti.TryNumber)
	}
	c.Mapped = len(list)
	c.Counts = CountStates(list)
	return c
}

// indexRows lays out a task's instances by map index, one row per index
// (up to MaxIndexRows) with a cell per column; nil for an unmapped task.
func indexRows(per [][]*windsock.TaskInstance, now time.Time) ([]IndexRow, int) {
	n := 0
	for _, list := range per {
		for _, ti := range list {
			n = max(n, ti.MapIndex+1)
		}
	}
	if n == 0 {
		return nil, 0
	}
	rows := make([]IndexRow, min(n, MaxIndexRows))
	for i := range rows {
		rows[i] = IndexRow{MapIndex: i, Cells: make([]Cell, len(per))}
	}
	for c, list := range per {
		for _, ti := range list {
			if ti.MapIndex < 0 || ti.MapIndex >= len(rows) {
				continue
			}
			r := &rows[ti.MapIndex]
			r.Cells[c] = Cell{Exists: true, State: ti.State, TryNumber: ti.TryNumber, StartDate: ti.StartDate,
				EndDate: ti.EndDate, Duration: tiDuration(ti, now)}
			if ti.RenderedMapIndex != "" {
				r.Name = ti.RenderedMapIndex // columns go oldest first: the latest wins
			}
		}
	}
	return rows, n - len(rows)
}

// summarise combines, column by column, the cells of several rows: the
// summary state, the earliest start and the latest end.
func summarise(rows [][]Cell, ncols int, now time.Time) []Cell {
	out := make([]Cell, ncols)
	states := map[windsock.TaskInstanceState]bool{}
	for c := range ncols {
		clear(states)
		var start, end *time.Time
		unfinished := false
		for _, row := range rows {
			cell := row[c]
			if !cell.Exists {
				continue
			}
			states[cell.State] = true
			if cell.StartDate != nil && (start == nil || cell.StartDate.Before(*start)) {
				start = cell.StartDate
			}
			if cell.EndDate != nil && (end == nil || cell.EndDate.After(*end)) {
				end = cell.EndDate
			}
			if !cell.State.Finished() {
				unfinished = true
			}
		}
		st, ok := SummaryState(states)
		if !ok {
			continue
		}
		if unfinished {
			end = nil // still going: the duration runs to now
		}
		out[c] = Cell{Exists: true, State: st, StartDate: start, EndDate: end, Duration: Span(start, end, now)}
	}
	return out
}

func tiDuration(ti *windsock.TaskInstance, now time.Time) time.Duration {
	if ti.Duration != nil && ti.EndDate != nil {
		return time.Duration(*ti.Duration * float64(time.Second))
	}
	return Span(ti.StartDate, ti.EndDate, now)
}

// Span is how long something that started at start ran: until end, or
// until now while it has no end; zero without a start (or when now is zero
// or before the start). Every duration the UI shows is measured by it.
func Span(start, end *time.Time, now time.Time) time.Duration {
	if start == nil {
		return 0
	}
	if end == nil {
		if now.IsZero() || now.Before(*start) {
			return 0
		}
		return now.Sub(*start)
	}
	return max(end.Sub(*start), 0)
}

// SpanText is Span as the UI shows it (HH:MM:SS), "" without a start.
func SpanText(start, end *time.Time, now time.Time) string {
	if start == nil {
		return ""
	}
	return FormatDuration(Span(start, end, now))
}

// shortLabel strips the enclosing group's prefix from an id.
func shortLabel(id, parent string) string {
	if parent != "" {
		if rest, ok := strings.CutPrefix(id, parent+"."); ok && rest != "" {
			return rest
		}
	}
	return id
}

// groupTree is a DAG's group hierarchy with each level's children (task
// and group ids) in display order.
type groupTree struct {
	tasks    map[string]*windsock.Task
	groups   map[string]*windsock.TaskGroup
	children map[string][]string // group id ("" for the DAG) -> ordered children
}

// newGroupTree orders each group's children by the topological rank of
// their first task, so a group sits where its earliest task would.
func newGroupTree(dag *windsock.DAG) *groupTree {
	tr := &groupTree{
		tasks:    make(map[string]*windsock.Task, len(dag.Tasks)),
		groups:   make(map[string]*windsock.TaskGroup, len(dag.TaskGroups)),
		children: map[string][]string{},
	}
	for _, t := range dag.Tasks {
		tr.tasks[t.TaskID] = t
	}
	for _, grp := range dag.TaskGroups {
		tr.groups[grp.GroupID] = grp
	}
	parentOfGroup := func(id string) string {
		if p := tr.groups[id].ParentGroup; p != "" && tr.groups[p] != nil && p != id {
			return p
		}
		return ""
	}
	rank := map[string]int{}
	order := TopoOrder(dag)
	for i, id := range order {
		rank[id] = i
	}
	unranked := len(order) // empty groups go last
	for _, grp := range dag.TaskGroups {
		rank[grp.GroupID] = unranked
	}
	for _, id := range order {
		p := tr.tasks[id].TaskGroup
		if tr.groups[p] == nil {
			p = ""
		}
		tr.children[p] = append(tr.children[p], id)
		// Every enclosing group ranks at most as this task; a seen set
		// guards against a malformed parent cycle.
		seen := map[string]bool{}
		for ; p != "" && !seen[p]; p = parentOfGroup(p) {
			seen[p] = true
			rank[p] = min(rank[p], rank[id])
		}
	}
	for _, grp := range dag.TaskGroups {
		p := parentOfGroup(grp.GroupID)
		tr.children[p] = append(tr.children[p], grp.GroupID)
	}
	for p, kids := range tr.children {
		slices.SortStableFunc(kids, func(a, b string) int { return rank[a] - rank[b] })
		tr.children[p] = kids
	}
	return tr
}

// TopoOrder returns dag's task ids in a topological order (upstream
// before downstream), breaking ties by definition order. Tasks on a cycle,
// which a valid DAG never has, come last in definition order.
func TopoOrder(dag *windsock.DAG) []string {
	idx := make(map[string]int, len(dag.Tasks))
	for i, t := range dag.Tasks {
		idx[t.TaskID] = i
	}
	indeg := make([]int, len(dag.Tasks))
	down := make([][]int, len(dag.Tasks))
	for i, t := range dag.Tasks {
		for _, u := range t.Upstream {
			if j, ok := idx[u]; ok && j != i {
				indeg[i]++
				down[j] = append(down[j], i)
			}
		}
	}
	// A min-heap on definition index keeps the order stable and readable.
	h := &minInts{}
	for i, d := range indeg {
		if d == 0 {
			heap.Push(h, i)
		}
	}
	out := make([]string, 0, len(dag.Tasks))
	done := make([]bool, len(dag.Tasks))
	for h.Len() > 0 {
		i := heap.Pop(h).(int)
		done[i] = true
		out = append(out, dag.Tasks[i].TaskID)
		for _, j := range down[i] {
			if indeg[j]--; indeg[j] == 0 {
				heap.Push(h, j)
			}
		}
	}
	for i, t := range dag.Tasks {
		if !done[i] {
			out = append(out, t.TaskID)
		}
	}
	return out
}

// minInts is a min-heap of ints for container/heap.
type minInts []int

func (h minInts) Len() int           { return len(h) }
func (h minInts) Less(i, j int) bool { return h[i] < h[j] }
func (h minInts) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *minInts) Push(x any)        { *h = append(*h, x.(int)) }
func (h *minInts) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
