package dagview

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/windsock/windsock/internal/windsock"
)

// Sizes of the graph layout, in SVG user units (pixels at 100% zoom).
const (
	NodeHeight = 34.0  // height of a task box
	LayerGap   = 56.0  // horizontal space between layers, where edges bend
	NodeGap    = 14.0  // vertical space between boxes of one layer
	Margin     = 12.0  // around the drawing
	charWidth  = 7.2   // average width of a label character at 12px
	minWidth   = 70.0  // narrowest box
	maxWidth   = 240.0 // widest box; longer labels are cut with an ellipsis
	labelPad   = 18.0  // horizontal padding inside a box
	dummyH     = 2.0   // height of the slot a long edge takes in a layer
	dummyGap   = 6.0   // vertical space around such a slot
)

// maxDummiesPerNode caps the routing slots that edges spanning several
// layers get (as a multiple of the node count): beyond it, long edges are
// drawn as single curves, so that a pathological DAG stays fast to lay out.
const maxDummiesPerNode = 20

// GraphNode is a node to lay out.
type GraphNode struct {
	ID    string
	Label string
	// Group is the id of the task group holding the node, for display.
	Group string
}

// Point is a position in the drawing.
type Point struct{ X, Y float64 }

// NodeBox is a laid-out node: its box's top-left corner and size.
type NodeBox struct {
	GraphNode
	X, Y, W, H float64
	// Layer is the node's column (0 for roots); Order its place from the
	// top within the layer.
	Layer, Order int
	// Text is the label as drawn, cut to fit the box.
	Text string
}

// EdgePath is a laid-out edge: the points it passes through, left to
// right, and the SVG path data drawing it.
type EdgePath struct {
	From, To string
	Points   []Point
	D        string
}

// Layout is a graph drawn left to right: each node in the layer after the
// longest path to it from a root.
type Layout struct {
	Nodes         []NodeBox
	Edges         []EdgePath
	Width, Height float64
}

// Node returns the box of the node id, or nil.
func (l *Layout) Node(id string) *NodeBox {
	for i := range l.Nodes {
		if l.Nodes[i].ID == id {
			return &l.Nodes[i]
		}
	}
	return nil
}

// LayoutDAG lays out dag's tasks and their dependencies.
func LayoutDAG(dag *windsock.DAG) (*Layout, error) {
	nodes := make([]GraphNode, len(dag.Tasks))
	var edges [][2]string
	for i, t := range dag.Tasks {
		nodes[i] = GraphNode{ID: t.TaskID, Label: t.TaskID, Group: t.TaskGroup}
		for _, u := range t.Upstream {
			edges = append(edges, [2]string{u, t.TaskID})
		}
	}
	return LayoutGraph(nodes, edges)
}

// vertex is a node or a routing slot of a long edge inside the layout.
type vertex struct {
	node  int // index in nodes, -1 for a slot
	layer int
	pos   int // order within the layer
	h     float64
	y     float64 // top
	preds []int   // vertices in the previous layer
	succs []int   // vertices in the next layer
}

// LayoutGraph lays out a directed acyclic graph: longest-path layering
// from the roots, a few barycenter sweeps to reduce crossings, vertical
// positions pulled towards neighbours without overlaps, and edges routed
// through their own slots in the layers they cross. Edges are (from, to)
// pairs; duplicates are drawn once. An unknown node or a cycle is an
// error.
func LayoutGraph(nodes []GraphNode, edges [][2]string) (*Layout, error) {
	idx := make(map[string]int, len(nodes))
	for i, n := range nodes {
		if _, dup := idx[n.ID]; dup {
			return nil, fmt.Errorf("lay out graph: node %q appears twice", n.ID)
		}
		idx[n.ID] = i
	}
	type edge struct{ from, to int }
	var es []edge
	seen := map[edge]bool{}
	for _, e := range edges {
		f, ok1 := idx[e[0]]
		t, ok2 := idx[e[1]]
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("lay out graph: edge %s -> %s names an unknown node", e[0], e[1])
		}
		k := edge{f, t}
		if f == t || seen[k] {
			if f == t {
				return nil, fmt.Errorf("lay out graph: %s depends on itself", e[0])
			}
			continue
		}
		seen[k] = true
		es = append(es, k)
	}

	// Longest-path layering in topological order (Kahn).
	n := len(nodes)
	out := make([][]int, n)
	indeg := make([]int, n)
	for _, e := range es {
		out[e.from] = append(out[e.from], e.to)
		indeg[e.to]++
	}
	layer := make([]int, n)
	topo := make([]int, 0, n)
	for i := range n {
		if indeg[i] == 0 {
			topo = append(topo, i)
		}
	}
	for k := 0; k < len(topo); k++ {
		u := topo[k]
		for _, v := range out[u] {
			layer[v] = max(layer[v], layer[u]+1)
			if indeg[v]--; indeg[v] == 0 {
				topo = append(topo, v)
			}
		}
	}
	if len(topo) != n {
		return nil, fmt.Errorf("lay out graph: the graph has a cycle")
	}
	nlayers := 0
	for _, l := range layer {
		nlayers = max(nlayers, l+1)
	}

	// Vertices: the nodes, then a slot per layer crossed by a long edge
	// (while the budget lasts).
	vs := make([]vertex, n, n+len(es))
	for i := range n {
		vs[i] = vertex{node: i, layer: layer[i], h: NodeHeight}
	}
	budget := maxDummiesPerNode * max(n, 1)
	chains := make([][]int, len(es)) // vertices of each edge, ends included
	for k, e := range es {
		span := layer[e.to] - layer[e.from]
		chain := []int{e.from}
		if span > 1 && budget >= span-1 {
			budget -= span - 1
			for l := layer[e.from] + 1; l < layer[e.to]; l++ {
				vs = append(vs, vertex{node: -1, layer: l, h: dummyH})
				chain = append(chain, len(vs)-1)
			}
		}
		chain = append(chain, e.to)
		chains[k] = chain
		for j := 1; j < len(chain); j++ {
			a, b := chain[j-1], chain[j]
			if vs[b].layer == vs[a].layer+1 { // long edges without slots skip ordering
				vs[a].succs = append(vs[a].succs, b)
				vs[b].preds = append(vs[b].preds, a)
			}
		}
	}

	// Initial order: nodes in topological order, each slot right after
	// the vertex it comes from, so that chains start out straight.
	layers := make([][]int, nlayers)
	placed := make([]bool, len(vs))
	var place func(v int)
	place = func(v int) {
		if placed[v] {
			return
		}
		placed[v] = true
		layers[vs[v].layer] = append(layers[vs[v].layer], v)
	}
	for _, u := range topo {
		place(u)
	}
	for _, chain := range chains {
		for _, v := range chain[1 : len(chain)-1] {
			place(v)
		}
	}
	renumber(vs, layers)
	orderLayers(vs, layers)
	assignY(vs, layers)

	// X: each layer as wide as its widest box.
	widths := make([]float64, n)
	for i, nd := range nodes {
		widths[i] = boxWidth(nd.Label)
	}
	layerX := make([]float64, nlayers)
	layerW := make([]float64, nlayers)
	for i := range n {
		layerW[layer[i]] = max(layerW[layer[i]], widths[i])
	}
	x := Margin
	for l := range nlayers {
		if layerW[l] == 0 { // a layer of slots only cannot happen, but keep it drawable
			layerW[l] = minWidth
		}
		layerX[l] = x
		x += layerW[l] + LayerGap
	}

	lay := &Layout{Nodes: make([]NodeBox, n)}
	for i, nd := range nodes {
		v := &vs[i]
		w := widths[i]
		lay.Nodes[i] = NodeBox{GraphNode: nd, X: layerX[v.layer] + (layerW[v.layer]-w)/2, Y: v.y, W: w, H: v.h,
			Layer: v.layer, Order: v.pos, Text: fitLabel(nd.Label, w)}
		lay.Height = max(lay.Height, v.y+v.h+Margin)
	}
	for k, e := range es {
		src, dst := &lay.Nodes[e.from], &lay.Nodes[e.to]
		pts := []Point{{src.X + src.W, src.Y + src.H/2}}
		for _, v := range chains[k][1 : len(chains[k])-1] {
			l := vs[v].layer
			y := vs[v].y + vs[v].h/2
			pts = append(pts, Point{layerX[l], y}, Point{layerX[l] + layerW[l], y})
		}
		pts = append(pts, Point{dst.X, dst.Y + dst.H/2})
		lay.Edges = append(lay.Edges, EdgePath{From: nodes[e.from].ID, To: nodes[e.to].ID, Points: pts, D: pathData(pts)})
	}
	if nlayers > 0 {
		lay.Width = layerX[nlayers-1] + layerW[nlayers-1] + Margin
	}
	lay.Height = max(lay.Height, 2*Margin)
	return lay, nil
}

// renumber sets each vertex's pos from its place in its layer.
func renumber(vs []vertex, layers [][]int) {
	for _, l := range layers {
		for i, v := range l {
			vs[v].pos = i
		}
	}
}

// orderLayers runs barycenter sweeps down and up the layers, keeping the
// order with the fewest crossings seen.
func orderLayers(vs []vertex, layers [][]int) {
	const sweeps = 6
	best := crossings(vs, layers)
	bestOrder := cloneLayers(layers)
	bary := make([]float64, len(vs))
	sortBy := func(l []int, nbrs func(v int) []int) {
		for _, v := range l {
			ns := nbrs(v)
			if len(ns) == 0 {
				bary[v] = float64(vs[v].pos) // stays where it is
				continue
			}
			s := 0.0
			for _, u := range ns {
				s += float64(vs[u].pos)
			}
			bary[v] = s / float64(len(ns))
		}
		slices.SortStableFunc(l, func(a, b int) int {
			switch {
			case bary[a] < bary[b]:
				return -1
			case bary[a] > bary[b]:
				return 1
			}
			return 0
		})
		for i, v := range l {
			vs[v].pos = i
		}
	}
	for it := 0; it < sweeps && best > 0; it++ {
		if it%2 == 0 {
			for l := 1; l < len(layers); l++ {
				sortBy(layers[l], func(v int) []int { return vs[v].preds })
			}
		} else {
			for l := len(layers) - 2; l >= 0; l-- {
				sortBy(layers[l], func(v int) []int { return vs[v].succs })
			}
		}
		if c := crossings(vs, layers); c < best {
			best = c
			bestOrder = cloneLayers(layers)
		}
	}
	for l := range layers {
		copy(layers[l], bestOrder[l])
	}
	renumber(vs, layers)
}

func cloneLayers(layers [][]int) [][]int {
	out := make([][]int, len(layers))
	for i, l := range layers {
		out[i] = slices.Clone(l)
	}
	return out
}

// crossings counts the edge crossings between adjacent layers: for edges
// sorted by their upper end, the inversions among their lower ends, with a
// Fenwick tree.
func crossings(vs []vertex, layers [][]int) int {
	total := 0
	var ends []int
	for l := 0; l+1 < len(layers); l++ {
		ends = ends[:0]
		for _, u := range layers[l] { // already in pos order
			start := len(ends)
			for _, v := range vs[u].succs {
				ends = append(ends, vs[v].pos)
			}
			slices.Sort(ends[start:])
		}
		size := len(layers[l+1])
		tree := make([]int, size+1)
		for k, p := range ends {
			// Edges seen so far ending strictly below p cross this one.
			le := 0
			for i := p + 1; i > 0; i -= i & -i {
				le += tree[i]
			}
			total += k - le
			for i := p + 1; i <= size; i += i & -i {
				tree[i]++
			}
		}
	}
	return total
}

// assignY places each layer's vertices top to bottom in their order,
// pulled towards the centres of their neighbours: a few sweeps of the
// least-squares placement that keeps the order and the gaps (isotonic
// regression by pool-adjacent-violators).
func assignY(vs []vertex, layers [][]int) {
	gap := func(v int) float64 {
		if vs[v].node < 0 {
			return dummyGap
		}
		return NodeGap
	}
	for _, l := range layers {
		y := Margin
		for _, v := range l {
			vs[v].y = y
			y += vs[v].h + gap(v)
		}
	}
	place := func(l []int, nbrs func(v int) []int) {
		if len(l) == 0 {
			return
		}
		// z_i = desired top minus the room the vertices above need, so
		// that "keep the gaps" becomes "z non-decreasing".
		z := make([]float64, len(l))
		off := make([]float64, len(l))
		acc := 0.0
		for i, v := range l {
			off[i] = acc
			acc += vs[v].h + gap(v)
			want := vs[v].y
			if ns := nbrs(v); len(ns) > 0 {
				s := 0.0
				for _, u := range ns {
					s += vs[u].y + vs[u].h/2
				}
				want = s/float64(len(ns)) - vs[v].h/2
			}
			z[i] = want - off[i]
		}
		fit := isotonic(z)
		for i, v := range l {
			vs[v].y = fit[i] + off[i]
		}
	}
	for it := range 4 {
		if it%2 == 0 {
			for l := 1; l < len(layers); l++ {
				place(layers[l], func(v int) []int { return vs[v].preds })
			}
		} else {
			for l := len(layers) - 2; l >= 0; l-- {
				place(layers[l], func(v int) []int { return vs[v].succs })
			}
		}
	}
	top := math.Inf(1)
	for i := range vs {
		top = min(top, vs[i].y)
	}
	for i := range vs {
		vs[i].y += Margin - top
	}
}

// isotonic returns the non-decreasing sequence closest to z in least
// squares (pool adjacent violators).
func isotonic(z []float64) []float64 {
	type block struct {
		sum   float64
		count int
	}
	var bs []block
	for _, v := range z {
		bs = append(bs, block{v, 1})
		for len(bs) > 1 {
			a, b := bs[len(bs)-2], bs[len(bs)-1]
			if a.sum/float64(a.count) <= b.sum/float64(b.count) {
				break
			}
			bs = bs[:len(bs)-1]
			bs[len(bs)-1] = block{a.sum + b.sum, a.count + b.count}
		}
	}
	out := make([]float64, 0, len(z))
	for _, b := range bs {
		m := b.sum / float64(b.count)
		for range b.count {
			out = append(out, m)
		}
	}
	return out
}

// boxWidth is the width of the box of a label.
func boxWidth(label string) float64 {
	w := float64(len([]rune(label)))*charWidth + labelPad
	return math.Round(min(max(w, minWidth), maxWidth))
}

// fitLabel cuts a label that does not fit a box of width w.
func fitLabel(label string, w float64) string {
	r := []rune(label)
	fits := int((w - labelPad) / charWidth)
	if len(r) <= fits {
		return label
	}
	return string(r[:max(fits-1, 1)]) + "…"
}

// pathData draws a polyline's points as horizontal-tangent curves
// between layers and straight runs through routing slots.
func pathData(pts []Point) string {
	var b strings.Builder
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	b.WriteString("M" + f(pts[0].X) + "," + f(pts[0].Y))
	for i := 1; i < len(pts); i++ {
		p, q := pts[i-1], pts[i]
		if p.Y == q.Y {
			b.WriteString(" L" + f(q.X) + "," + f(q.Y))
			continue
		}
		mx := (p.X + q.X) / 2
		b.WriteString(" C" + f(mx) + "," + f(p.Y) + " " + f(mx) + "," + f(q.Y) + " " + f(q.X) + "," + f(q.Y))
	}
	return b.String()
}
