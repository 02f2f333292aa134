package web

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/web/dagview"
	"github.com/windsock/windsock/internal/windsock"
)

// readableDAGFilter returns a test of whether the request's user may read
// a DAG: dataset pages name only those DAGs, so that a role limited to
// some DAGs learns nothing of the others through the datasets they share.
func (s *Server) readableDAGFilter(r *http.Request) func(string) bool {
	all, readable := s.authz.ReadableDAGs(r.Context(), currentUser(r))
	return func(dagID string) bool { return all || readable[dagID] }
}

// visibleRefs keeps the producing tasks and consuming DAGs the user may
// read, and says how many it left out.
func visibleRefs(d *windsock.Dataset, can func(string) bool) (hidden int) {
	n := len(d.ProducingTasks) + len(d.ConsumingDAGs)
	d.ProducingTasks = slices.DeleteFunc(d.ProducingTasks, func(t windsock.DatasetTaskRef) bool { return !can(t.DagID) })
	d.ConsumingDAGs = slices.DeleteFunc(d.ConsumingDAGs, func(c windsock.DatasetDAGRef) bool { return !can(c.DagID) })
	return n - len(d.ProducingTasks) - len(d.ConsumingDAGs)
}

// datasetEventRow is one event of a dataset's page.
type datasetEventRow struct {
	*windsock.DatasetEvent
	// Source is set when the user may read the producing DAG; Hidden when
	// the event came from a DAG they may not read.
	SourceURL string
	Hidden    bool
	Extra     string
	Triggered []string
}

type datasetDetailData struct {
	Dataset *windsock.Dataset
	Hidden  int
	Events  []datasetEventRow
	Pager   pager
}

// datasetDetail is /datasets/detail?uri=: a dataset's producing tasks,
// consuming DAGs and events, newest first.
func (s *Server) datasetDetail(w http.ResponseWriter, r *http.Request) error {
	if err := s.require(r, auth.ActionRead, auth.ResourceDataset); err != nil {
		return err
	}
	uri := r.URL.Query().Get("uri")
	ds, err := s.Store.DatasetGet(r.Context(), uri)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return windsock.Errorf(windsock.ENOTFOUND, "No dataset %q", uri)
	}
	if err != nil {
		return fmt.Errorf("dataset page: %w", err)
	}
	page, err := pageParam(r)
	if err != nil {
		return err
	}
	can := s.readableDAGFilter(r)
	d := &datasetDetailData{Dataset: ds, Hidden: visibleRefs(ds, can)}
	evs, total, err := s.Store.DatasetEventList(r.Context(), &store.DatasetEventListParams{DatasetID: ds.ID,
		Limit: s.PageSize, Offset: (page - 1) * s.PageSize})
	if err != nil {
		return fmt.Errorf("dataset page: list events: %w", err)
	}
	for _, ev := range evs {
		row := datasetEventRow{DatasetEvent: ev, Extra: jsonText(ev.Extra)}
		switch {
		case ev.SourceDagID == "":
		case can(ev.SourceDagID):
			row.SourceURL = "/dags/" + url.PathEscape(ev.SourceDagID) + "/grid?run_id=" + url.QueryEscape(ev.SourceRunID)
		default:
			row.Hidden = true
		}
		for _, run := range ev.CreatedDagRuns {
			if can(run.DagID) {
				row.Triggered = append(row.Triggered, run.DagID)
			}
		}
		d.Events = append(d.Events, row)
	}
	d.Pager = newPager(r, page, s.PageSize, total)
	return s.render(w, r, http.StatusOK, "dataset_detail", Page{Title: "Dataset " + uri, Nav: "datasets", Data: d})
}

type dagDependenciesData struct {
	Graph template.HTML
	DAGs  int
	Sets  int
}

// dagDependencies is Browse > DAG Dependencies: the readable DAGs linked
// through datasets (a producing DAG, its dataset, the DAGs scheduled on
// it), drawn left to right.
func (s *Server) dagDependencies(w http.ResponseWriter, r *http.Request) error {
	if err := s.require(r, auth.ActionRead, auth.ResourceDAGDependencies); err != nil {
		return err
	}
	all, _, err := s.Store.DatasetList(r.Context(), &store.DatasetListParams{OrderBy: "uri"})
	if err != nil {
		return fmt.Errorf("dag dependencies: %w", err)
	}
	can := s.readableDAGFilter(r)
	var nodes []dagview.GraphNode
	var edges [][2]string
	seen := map[string]bool{}
	add := func(id, label string) {
		if !seen[id] {
			seen[id] = true
			nodes = append(nodes, dagview.GraphNode{ID: id, Label: label})
		}
	}
	d := &dagDependenciesData{}
	for _, ds := range all {
		visibleRefs(ds, can)
		if len(ds.ProducingTasks) == 0 && len(ds.ConsumingDAGs) == 0 {
			continue // nothing the user may see touches it
		}
		dsID := "dataset:" + ds.URI
		add(dsID, "Dataset: "+ds.URI)
		d.Sets++
		for _, t := range ds.ProducingTasks {
			add("dag:"+t.DagID, t.DagID)
			edges = append(edges, [2]string{"dag:" + t.DagID, dsID})
		}
		for _, c := range ds.ConsumingDAGs {
			add("dag:"+c.DagID, c.DagID)
			edges = append(edges, [2]string{dsID, "dag:" + c.DagID})
		}
	}
	d.DAGs = len(nodes) - d.Sets
	if len(nodes) > 0 {
		l, err := dagview.LayoutGraph(nodes, edges)
		if err != nil {
			// A DAG consuming its own dataset makes a cycle: say so
			// rather than fail the page.
			return windsock.Errorf(windsock.EINVALID, "The DAG dependencies cannot be drawn: %s", err)
		}
		d.Graph = dependencyGraph(l)
	}
	return s.render(w, r, http.StatusOK, "dag_dependencies", Page{Title: "DAG Dependencies", Nav: "browse", Data: d})
}

// dependencyGraph draws the laid-out graph: DAGs as boxes linking to
// their grid, datasets as rounded boxes labelled "Dataset" linking to
// their page, edges as arrows.
func dependencyGraph(l *dagview.Layout) template.HTML {
	w, h := strconv.Itoa(int(l.Width)+20), strconv.Itoa(int(l.Height)+20)
	var c svg
	c.raw(`<svg class="chart dependencies" id="dependency-graph" data-testid="dependency-graph" role="img" aria-labelledby="dependency-graph-title" width="`,
		w, `" height="`, h, `" viewBox="-10 -10 `, w, " ", h, `"><title id="dependency-graph-title">DAGs and the datasets between them, producers on the left</title>`,
		`<defs><marker id="dep-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>`)
	for _, e := range l.Edges {
		c.raw(`<path class="dep-edge" marker-end="url(#dep-arrow)" d="`, esc(e.D), `"><title>`, esc(strings.TrimPrefix(strings.TrimPrefix(e.From, "dag:"), "dataset:")),
			` → `, esc(strings.TrimPrefix(strings.TrimPrefix(e.To, "dag:"), "dataset:")), `</title></path>`)
	}
	for _, n := range l.Nodes {
		kind, href := "dag", "/dags/"+url.PathEscape(strings.TrimPrefix(n.ID, "dag:"))+"/grid"
		if uri, ok := strings.CutPrefix(n.ID, "dataset:"); ok {
			kind, href = "dataset", "/datasets/detail?uri="+url.QueryEscape(uri)
		}
		id := strings.TrimPrefix(strings.TrimPrefix(n.ID, "dag:"), "dataset:")
		c.raw(`<a class="dep-node dep-`, kind, `" data-testid="dep-`, kind, `" data-id="`, esc(id), `" href="`, esc(href), `">`,
			`<rect x="`, num(n.X), `" y="`, num(n.Y), `" width="`, num(n.W), `" height="`, num(n.H), `" rx="`, map[string]string{"dag": "3", "dataset": "12"}[kind], `"/>`,
			`<text x="`, num(n.X+8), `" y="`, num(n.Y+n.H/2+4), `">`, esc(n.Text), `<title>`, esc(n.Label), `</title></text></a>`)
	}
	c.raw(`</svg>`)
	return c.html()
}

// datasetLinks keeps only the refs a user may read, for the list page.
func (s *Server) datasetLinks(r *http.Request, rows []datasetRow) {
	can := s.readableDAGFilter(r)
	for i := range rows {
		rows[i].Hidden = visibleRefs(rows[i].Dataset, can)
		if l := rows[i].Latest; l != nil && l.SourceDagID != "" && !can(l.SourceDagID) {
			rows[i].LatestHidden = true
		}
	}
}
