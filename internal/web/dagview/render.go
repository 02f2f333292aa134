package dagview

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

//go:embed grid.html
var gridHTML string

// GridRenderer writes grids as HTML. Parse it once with NewGridRenderer
// and share it: rendering is safe for concurrent use.
type GridRenderer struct {
	tmpl *template.Template
}

// NewGridRenderer parses the grid template.
func NewGridRenderer() (*GridRenderer, error) {
	t, err := template.New("grid").Funcs(template.FuncMap{
		"duration": FormatDuration,
	}).Parse(gridHTML)
	if err != nil {
		return nil, fmt.Errorf("parse grid template: %w", err)
	}
	return &GridRenderer{tmpl: t}, nil
}

// GridOptions say how a grid is rendered.
type GridOptions struct {
	// SelectedRun and SelectedTask mark the cell (or column, or row) being
	// shown beside the grid.
	SelectedRun  string
	SelectedTask string
}

// gridView is what the template reads: the grid with its links and the
// heights of the run duration bars precomputed.
type gridView struct {
	*Grid
	GridOptions
	DagPath  string
	RunPaths []string
	// Bars are the heights of the run duration bars in tenths of the
	// longest run (1-10), for the classes bar-1..bar-10: the page's
	// content security policy forbids inline styles.
	Bars []int
	// Axis labels the bars' durations and the runs' dates.
	Axis runAxis
	Rows []rowView
}

type rowView struct {
	*Row
	Cells  []cellView
	Groups string // space-separated ancestors, for the collapse script
	// Indent is the depth class suffix (0-8; deeper rows indent as 8).
	Indent int
	// Indexes are a mapped task's index rows, hidden until expanded;
	// IndexIndent is their depth class suffix; MoreHref opens the task's
	// instance list in the latest run, for the indexes left out.
	Indexes     []indexView
	IndexIndent int
	MoreHref    string
}

// indexView is one map index row as the template writes it.
type indexView struct {
	MapIndex int
	Label    string
	Cells    []cellView
}

// cellView is a cell as the template writes it; precomputing the strings
// keeps a 12,500-cell grid well under the render budget.
type cellView struct {
	Class string // "" for an empty cell
	Title string
	Name  string
	Href  string // "" for a group's cell
	// Mapped is the number of instances of a mapped task ("" otherwise),
	// shown in the cell.
	Mapped string
}

// Render writes g as an HTML fragment: a table with one header row of runs
// and one row per task or group.
func (r *GridRenderer) Render(w io.Writer, g *Grid, opts GridOptions) error {
	v := gridView{Grid: g, GridOptions: opts, DagPath: url.PathEscape(g.DagID)}
	var longest time.Duration
	for _, c := range g.Columns {
		v.RunPaths = append(v.RunPaths, url.PathEscape(c.RunID))
		longest = max(longest, c.Duration)
	}
	for _, c := range g.Columns {
		tenths := 10
		if longest > 0 {
			tenths = min(max(int((10*c.Duration+longest-1)/longest), 1), 10)
		}
		v.Bars = append(v.Bars, tenths)
	}
	v.Axis = newRunAxis(g.Columns, longest)
	v.Rows = make([]rowView, len(g.Rows))
	for i := range g.Rows {
		row := &g.Rows[i]
		groups := ""
		for j, a := range row.Ancestors {
			if j > 0 {
				groups += " "
			}
			groups += a
		}
		rv := rowView{Row: row, Groups: groups, Indent: min(row.Depth, 8), Cells: make([]cellView, len(row.Cells))}
		taskPath := url.PathEscape(row.ID)
		for j, c := range row.Cells {
			if !c.Exists {
				continue
			}
			cv := cellView{Class: c.Class(), Name: c.Name()}
			title := row.ID + ": " + cv.Name
			if c.TryNumber > 0 {
				title += ", try " + strconv.Itoa(c.TryNumber)
			}
			if c.Mapped > 0 {
				cv.Mapped = strconv.Itoa(c.Mapped)
				title += ", " + cv.Mapped + " mapped ("
				for k, sc := range c.Counts {
					if k > 0 {
						title += ", "
					}
					title += strconv.Itoa(sc.N) + " " + sc.Name()
				}
				title += ")"
			}
			if c.Duration > 0 {
				title += ", " + FormatDuration(c.Duration)
			}
			cv.Title = title
			if !row.Group {
				cv.Href = "/dags/" + v.DagPath + "/grid/" + v.RunPaths[j] + "/" + taskPath
				if row.ID == opts.SelectedTask && g.Columns[j].RunID == opts.SelectedRun {
					cv.Class += " selected"
				}
			}
			rv.Cells[j] = cv
		}
		if len(row.Indexes) > 0 {
			rv.IndexIndent = min(row.Depth+1, 8)
			rv.Indexes = indexViews(row, v.DagPath, v.RunPaths, taskPath)
			if row.MoreIndexes > 0 {
				rv.MoreHref = "/dags/" + v.DagPath + "/grid/" + v.RunPaths[len(v.RunPaths)-1] + "/" + taskPath
			}
		}
		v.Rows[i] = rv
	}
	if err := r.tmpl.Execute(w, &v); err != nil {
		return fmt.Errorf("render grid: %w", err)
	}
	return nil
}

// indexViews writes a mapped task's index rows: each cell links to that
// instance's page.
func indexViews(row *Row, dagPath string, runPaths []string, taskPath string) []indexView {
	out := make([]indexView, len(row.Indexes))
	for i, ir := range row.Indexes {
		iv := indexView{MapIndex: ir.MapIndex, Label: "[" + strconv.Itoa(ir.MapIndex) + "]", Cells: make([]cellView, len(ir.Cells))}
		if ir.Name != "" {
			iv.Label += " " + ir.Name
		}
		for j, c := range ir.Cells {
			if !c.Exists {
				continue
			}
			cv := cellView{Class: c.Class(), Name: c.Name()}
			cv.Title = row.ID + iv.Label + ": " + cv.Name
			if c.TryNumber > 0 {
				cv.Title += ", try " + strconv.Itoa(c.TryNumber)
			}
			if c.Duration > 0 {
				cv.Title += ", " + FormatDuration(c.Duration)
			}
			cv.Href = "/dags/" + dagPath + "/grid/" + runPaths[j] + "/" + taskPath + "?map_index=" + strconv.Itoa(ir.MapIndex)
			iv.Cells[j] = cv
		}
		out[i] = iv
	}
	return out
}

// Name is the cell's state as shown to people.
func (c Cell) Name() string { return StateName(c.State) }

// Class is the CSS class suffix of the cell's state.
func (c Cell) Class() string { return StateClass(string(c.State)) }

// Name is the run's state as shown to people.
func (c Column) Name() string { return string(c.State) }

// Class is the CSS class suffix of the run's state.
func (c Column) Class() string { return StateClass(string(c.State)) }

// StateName is the name shown for a task instance state: Airflow's
// "no status" for the empty state.
func StateName(s windsock.TaskInstanceState) string {
	if s == windsock.TaskStateNone {
		return "no status"
	}
	return string(s)
}

// StateClass is the CSS class suffix of a state: "none" for the empty
// state. Every state mark uses the class "state-<suffix>".
func StateClass(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// FormatDuration formats d as Airflow's UI does: HH:MM:SS, with days in
// front when there are any; "" for zero.
func FormatDuration(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	secs := int64(d.Round(time.Second) / time.Second)
	days, secs := secs/86400, secs%86400
	s := fmt.Sprintf("%02d:%02d:%02d", secs/3600, secs%3600/60, secs%60)
	if days > 0 {
		s = fmt.Sprintf("%dd %s", days, s)
	}
	return s
}
