package dagview

import (
	"fmt"
	"maps"
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
	// Boxes are the expanded task groups drawn around the node, outermost
	// first. Nodes sharing a box are kept next to each other in each layer.
	Boxes []string
	// Collapsed is the task group the node stands for, "" for a task.
	Collapsed string
}

// GroupBox is an expanded task group drawn as a box around its members,
// with room for its label above them.
type GroupBox struct {
	ID    string
	Depth int // how many boxes enclose this one
	// X, Y, W, H bound the outline; the label goes at its top left.
	X, Y, W, H float64
	// Pieces are the outline's rectangle in each layer holding members;
	// Bridges join pieces of adjacent layers across the gap between them.
	Pieces  []Rect
	Bridges [][4]Point
	// D is the outline as SVG path data.
	D string
}

// Rect is a rectangle of the drawing.
type Rect struct{ X, Y, W, H float64 }

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
	Boxes         []GroupBox // outermost first
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

// LayoutDAG lays out dag's tasks and their dependencies, every task group
// expanded and drawn as a box.
func LayoutDAG(dag *windsock.DAG) (*Layout, error) {
	gg := GroupDAG(dag, func(string) bool { return true })
	return LayoutGraph(gg.Nodes, gg.Edges)
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
	boxes []string
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
		vs[i] = vertex{node: i, layer: layer[i], h: NodeHeight, boxes: nodes[i].Boxes}
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
	place := func(v int) {
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
	pads := boxPadding(nodes)
	clusterLayers(vs, layers)
	assignY(vs, layers, pads)

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
	lay.drawBoxes(pads, layerX, layerW)
	return lay, nil
}

// Room around the members of an expanded group, per box nested inside it
// plus its own: a margin on every side and a label line on top.
const (
	boxPad    = 8.0
	boxLabelH = 16.0
)

// boxPadding returns, for each box, how many boxes nest inside it along
// its deepest member plus one: its padding in units of boxPad.
func boxPadding(nodes []GraphNode) map[string]int {
	pads := map[string]int{}
	for _, nd := range nodes {
		for d, b := range nd.Boxes {
			pads[b] = max(pads[b], len(nd.Boxes)-d)
		}
	}
	return pads
}

// topRoom and bottomRoom are the space a box takes above and below its
// members.
func topRoom(pad int) float64    { return float64(pad) * (boxPad + boxLabelH) }
func bottomRoom(pad int) float64 { return float64(pad) * boxPad }

// clusterLayers reorders each layer so that the vertices of one box are
// next to each other, outer boxes first: a stable sort by where each box
// first appears in the layer, from the innermost level out.
func clusterLayers(vs []vertex, layers [][]int) {
	depth := 0
	for _, v := range vs {
		depth = max(depth, len(v.boxes))
	}
	if depth == 0 {
		return
	}
	key := map[int]int{}
	for _, l := range layers {
		for d := depth - 1; d >= 0; d-- {
			first := map[string]int{}
			for i, v := range l {
				key[v] = i
				if d < len(vs[v].boxes) {
					b := strings.Join(vs[v].boxes[:d+1], "\x00")
					if f, ok := first[b]; ok {
						key[v] = f
					} else {
						first[b] = i
					}
				}
			}
			slices.SortStableFunc(l, func(a, b int) int { return key[a] - key[b] })
		}
	}
	renumber(vs, layers)
}

// gapBetween is the vertical space between two vertices next to each
// other in a layer: enough for the boxes closing below a and opening
// above b.
func gapBetween(vs []vertex, a, b int, pads map[string]int) float64 {
	ba, bb := vs[a].boxes, vs[b].boxes
	c := 0
	for c < len(ba) && c < len(bb) && ba[c] == bb[c] {
		c++
	}
	room := 0.0
	if c < len(ba) {
		room += bottomRoom(pads[ba[c]])
	}
	if c < len(bb) {
		room += topRoom(pads[bb[c]])
	}
	if room == 0 {
		if vs[a].node < 0 {
			return dummyGap
		}
		return NodeGap
	}
	return room + dummyGap
}

// drawBoxes outlines each expanded group: in every layer holding some of
// its members, a piece around them (the members of a group are next to
// each other in a layer, so no other node falls inside), and between
// pieces in adjacent layers a band across the gap, where no node is. It
// then moves the drawing so that every outline fits inside it.
func (l *Layout) drawBoxes(pads map[string]int, layerX, layerW []float64) {
	type piece struct{ y0, y1 float64 }
	pieces := map[string]map[int]*piece{}
	depth := map[string]int{}
	var order []string
	for _, nd := range l.Nodes {
		for d, b := range nd.Boxes {
			if pieces[b] == nil {
				pieces[b] = map[int]*piece{}
				depth[b] = d
				order = append(order, b)
			}
			p := pieces[b][nd.Layer]
			if p == nil {
				pieces[b][nd.Layer] = &piece{nd.Y, nd.Y + nd.H}
				continue
			}
			p.y0, p.y1 = min(p.y0, nd.Y), max(p.y1, nd.Y+nd.H)
		}
	}
	if len(order) == 0 {
		return
	}
	slices.SortStableFunc(order, func(a, b string) int { return depth[a] - depth[b] })
	minX, minY := math.Inf(1), math.Inf(1)
	for _, id := range order {
		pad := pads[id]
		side := float64(pad) * boxPad
		layers := slices.Sorted(maps.Keys(pieces[id]))
		b := GroupBox{ID: id, Depth: depth[id]}
		for i, ly := range layers {
			p := pieces[id][ly]
			r := Rect{X: layerX[ly] - side, Y: p.y0 - topRoom(pad), W: layerW[ly] + 2*side, H: p.y1 - p.y0 + topRoom(pad) + bottomRoom(pad)}
			b.Pieces = append(b.Pieces, r)
			if i > 0 && layers[i-1] == ly-1 {
				prev := b.Pieces[len(b.Pieces)-2]
				b.Bridges = append(b.Bridges, [4]Point{{prev.X + prev.W, prev.Y}, {r.X, r.Y}, {r.X, r.Y + r.H}, {prev.X + prev.W, prev.Y + prev.H}})
			}
		}
		b.X, b.Y = b.Pieces[0].X, b.Pieces[0].Y
		x1, y1 := math.Inf(-1), math.Inf(-1)
		for _, r := range b.Pieces {
			b.X, b.Y = min(b.X, r.X), min(b.Y, r.Y)
			x1, y1 = max(x1, r.X+r.W), max(y1, r.Y+r.H)
		}
		b.W, b.H = x1-b.X, y1-b.Y
		l.Boxes = append(l.Boxes, b)
		minX, minY = min(minX, b.X), min(minY, b.Y)
		l.Width = max(l.Width, x1+Margin)
		l.Height = max(l.Height, y1+Margin)
	}
	dx, dy := max(Margin-minX, 0), max(Margin-minY, 0)
	for i := range l.Nodes {
		l.Nodes[i].X += dx
		l.Nodes[i].Y += dy
	}
	for i := range l.Edges {
		for j := range l.Edges[i].Points {
			l.Edges[i].Points[j].X += dx
			l.Edges[i].Points[j].Y += dy
		}
		l.Edges[i].D = pathData(l.Edges[i].Points)
	}
	for i := range l.Boxes {
		b := &l.Boxes[i]
		b.X, b.Y = b.X+dx, b.Y+dy
		for j := range b.Pieces {
			b.Pieces[j].X += dx
			b.Pieces[j].Y += dy
		}
		for j := range b.Bridges {
			for k := range b.Bridges[j] {
				b.Bridges[j][k].X += dx
				b.Bridges[j][k].Y += dy
			}
		}
		b.D = outlineData(b.Pieces, b.Bridges)
	}
	l.Width += dx
	l.Height += dy
}

// outlineData draws a group's pieces and bridges as one SVG path.
func outlineData(pieces []Rect, bridges [][4]Point) string {
	var sb strings.Builder
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	poly := func(pts ...Point) {
		for i, p := range pts {
			if i == 0 {
				sb.WriteString("M")
			} else {
				sb.WriteString(" L")
			}
			sb.WriteString(f(p.X) + "," + f(p.Y))
		}
		sb.WriteString(" Z ")
	}
	for _, r := range pieces {
		poly(Point{r.X, r.Y}, Point{r.X + r.W, r.Y}, Point{r.X + r.W, r.Y + r.H}, Point{r.X, r.Y + r.H})
	}
	for _, b := range bridges {
		poly(b[0], b[1], b[2], b[3])
	}
	return strings.TrimSpace(sb.String())
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
func assignY(vs []vertex, layers [][]int, pads map[string]int) {
	// gap is the space below the i-th vertex of a layer.
	gap := func(l []int, i int) float64 {
		if i+1 < len(l) {
			return gapBetween(vs, l[i], l[i+1], pads)
		}
		return NodeGap
	}
	for _, l := range layers {
		y := Margin
		for i, v := range l {
			vs[v].y = y
			y += vs[v].h + gap(l, i)
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
			acc += vs[v].h + gap(l, i)
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
