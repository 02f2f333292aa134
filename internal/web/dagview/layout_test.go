package dagview

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/quick"
)

func nodesOf(ids ...string) []GraphNode {
	out := make([]GraphNode, len(ids))
	for i, id := range ids {
		out[i] = GraphNode{ID: id, Label: id}
	}
	return out
}

func TestLayoutGraphLayers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		nodes  []GraphNode
		edges  [][2]string
		layers map[string]int
	}{
		{"single", nodesOf("a"), nil, map[string]int{"a": 0}},
		{"chain", nodesOf("a", "b", "c"), [][2]string{{"a", "b"}, {"b", "c"}}, map[string]int{"a": 0, "b": 1, "c": 2}},
		{"diamond", nodesOf("a", "b", "c", "d"), [][2]string{{"a", "b"}, {"a", "c"}, {"b", "d"}, {"c", "d"}},
			map[string]int{"a": 0, "b": 1, "c": 1, "d": 2}},
		// d sits after the longest path to it (a-b-c-d), not the shortest.
		{"long edge", nodesOf("a", "b", "c", "d"), [][2]string{{"a", "b"}, {"b", "c"}, {"c", "d"}, {"a", "d"}},
			map[string]int{"a": 0, "b": 1, "c": 2, "d": 3}},
		{"two roots", nodesOf("x", "y", "z"), [][2]string{{"y", "z"}}, map[string]int{"x": 0, "y": 0, "z": 1}},
		{"duplicate edge", nodesOf("a", "b"), [][2]string{{"a", "b"}, {"a", "b"}}, map[string]int{"a": 0, "b": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, err := LayoutGraph(tt.nodes, tt.edges)
			if err != nil {
				t.Fatal(err)
			}
			for id, want := range tt.layers {
				if got := l.Node(id).Layer; got != want {
					t.Errorf("layer of %s = %d, want %d", id, got, want)
				}
			}
			checkLayout(t, l, tt.edges)
		})
	}
}

func TestLayoutGraphLongEdgeRouting(t *testing.T) {
	t.Parallel()
	l, err := LayoutGraph(nodesOf("a", "b", "c", "d"), [][2]string{{"a", "b"}, {"b", "c"}, {"c", "d"}, {"a", "d"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range l.Edges {
		if e.From == "a" && e.To == "d" {
			// Two slots (layers of b and c), each entered and left: 2+4 points.
			if len(e.Points) != 6 || !strings.Contains(e.D, " L") {
				t.Errorf("a->d = %+v, want routed through two slots", e)
			}
			return
		}
	}
	t.Error("edge a->d missing")
}

func TestLayoutGraphUncrosses(t *testing.T) {
	t.Parallel()
	// Defined in an order that crosses: a1->b2, a2->b1.
	l, err := LayoutGraph(nodesOf("a1", "a2", "b2", "b1"), [][2]string{{"a1", "b1"}, {"a2", "b2"}})
	if err != nil {
		t.Fatal(err)
	}
	if (l.Node("a1").Y < l.Node("a2").Y) != (l.Node("b1").Y < l.Node("b2").Y) {
		t.Errorf("edges cross: %+v", l.Nodes)
	}
}

func TestLayoutGraphErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		nodes []GraphNode
		edges [][2]string
		want  string
	}{
		{"cycle", nodesOf("a", "b"), [][2]string{{"a", "b"}, {"b", "a"}}, "cycle"},
		{"self", nodesOf("a"), [][2]string{{"a", "a"}}, "depends on itself"},
		{"unknown", nodesOf("a"), [][2]string{{"a", "zz"}}, "unknown node"},
		{"duplicate node", nodesOf("a", "a"), nil, "twice"},
	}
	for _, tt := range tests {
		if _, err := LayoutGraph(tt.nodes, tt.edges); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestLayoutLabels(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 100)
	l, err := LayoutGraph([]GraphNode{{ID: "a", Label: "a"}, {ID: "b", Label: long}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a := l.Node("a"); a.W != minWidth || a.Text != "a" {
		t.Errorf("short label box = %+v", a)
	}
	if b := l.Node("b"); b.W != maxWidth || !strings.HasSuffix(b.Text, "…") || len([]rune(b.Text)) >= 100 {
		t.Errorf("long label box = %+v", b)
	}
}

// checkLayout asserts what makes a drawing readable: every edge is drawn,
// edges go left to right, each node in its own box with no two boxes
// overlapping, all inside the drawing.
func checkLayout(t *testing.T, l *Layout, edges [][2]string) {
	t.Helper()
	want := map[[2]string]bool{}
	for _, e := range edges {
		want[e] = true
	}
	if len(l.Edges) != len(want) {
		t.Errorf("%d edges drawn, want %d", len(l.Edges), len(want))
	}
	for _, e := range l.Edges {
		if !want[[2]string{e.From, e.To}] {
			t.Errorf("unexpected edge %s->%s", e.From, e.To)
		}
		from, to := l.Node(e.From), l.Node(e.To)
		if to.Layer <= from.Layer {
			t.Errorf("edge %s->%s goes from layer %d to %d", e.From, e.To, from.Layer, to.Layer)
		}
		if e.Points[0].X != from.X+from.W || e.Points[len(e.Points)-1].X != to.X {
			t.Errorf("edge %s->%s does not join the boxes: %v", e.From, e.To, e.Points)
		}
		for i := 1; i < len(e.Points); i++ {
			if e.Points[i].X <= e.Points[i-1].X {
				t.Errorf("edge %s->%s goes right to left at point %d: %v", e.From, e.To, i, e.Points)
			}
		}
		if !strings.HasPrefix(e.D, "M") {
			t.Errorf("edge path %q", e.D)
		}
	}
	for i := range l.Nodes {
		a := &l.Nodes[i]
		if a.X < 0 || a.Y < 0 || a.X+a.W > l.Width+1e-6 || a.Y+a.H > l.Height+1e-6 {
			t.Errorf("node %s %+v outside the %vx%v drawing", a.ID, a, l.Width, l.Height)
		}
		for j := i + 1; j < len(l.Nodes); j++ {
			b := &l.Nodes[j]
			if a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H {
				t.Errorf("nodes %s %+v and %s %+v overlap", a.ID, a, b.ID, b)
			}
		}
	}
}

// randomDAG has n nodes and edges only from lower to higher indices (so
// no cycle), each with probability p, plus a few fan-ins.
func randomDAG(rng *rand.Rand, n int, p float64) ([]GraphNode, [][2]string) {
	nodes := make([]GraphNode, n)
	for i := range n {
		nodes[i] = GraphNode{ID: fmt.Sprintf("task_%d", i), Label: strings.Repeat("t", 1+rng.IntN(30))}
	}
	var edges [][2]string
	for j := 1; j < n; j++ {
		for i := max(0, j-12); i < j; i++ { // mostly local, like real DAGs
			if rng.Float64() < p {
				edges = append(edges, [2]string{nodes[i].ID, nodes[j].ID})
			}
		}
		if rng.IntN(20) == 0 {
			edges = append(edges, [2]string{nodes[rng.IntN(j)].ID, nodes[j].ID})
		}
	}
	return nodes, edges
}

func TestLayout200Readable(t *testing.T) {
	t.Parallel()
	nodes, edges := randomDAG(rand.New(rand.NewPCG(7, 7)), 200, 0.15)
	l, err := LayoutGraph(nodes, edges)
	if err != nil {
		t.Fatal(err)
	}
	checkLayout(t, l, edges)
}

func TestLayoutProperty(t *testing.T) {
	t.Parallel()
	f := func(seed uint64, size uint8, density uint8) bool {
		rng := rand.New(rand.NewPCG(seed, 1))
		nodes, edges := randomDAG(rng, 1+int(size)%80, float64(density%60)/100)
		l, err := LayoutGraph(nodes, edges)
		if err != nil {
			t.Errorf("seed %d: %v", seed, err)
			return false
		}
		checkLayout(t, l, edges)
		// Layers are longest paths: each node is one after its deepest
		// upstream.
		deepest := map[string]int{}
		for _, e := range edges {
			deepest[e[1]] = max(deepest[e[1]], l.Node(e[0]).Layer+1)
		}
		for _, nd := range l.Nodes {
			if nd.Layer != deepest[nd.ID] {
				t.Errorf("seed %d: %s in layer %d, want %d", seed, nd.ID, nd.Layer, deepest[nd.ID])
			}
		}
		return !t.Failed()
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 60}); err != nil {
		t.Error(err)
	}
}

func TestLayoutDAG(t *testing.T) {
	t.Parallel()
	l, err := LayoutDAG(groupedDAG())
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Nodes) != 5 || len(l.Edges) != 3 || l.Node("g.inner.b").Group != "g.inner" || l.Node("end").Layer != 3 {
		t.Errorf("layout = %+v", l)
	}
}

func TestGraphLayout500(t *testing.T) {
	t.Parallel()
	nodes, edges := randomDAG(rand.New(rand.NewPCG(3, 3)), 500, 0.1)
	l, err := LayoutGraph(nodes, edges)
	if err != nil {
		t.Fatal(err)
	}
	distinct := map[[2]string]bool{}
	for _, e := range edges {
		distinct[e] = true
	}
	if len(l.Nodes) != 500 || len(l.Edges) != len(distinct) {
		t.Fatalf("laid out %d nodes and %d edges, want 500 and %d", len(l.Nodes), len(l.Edges), len(distinct))
	}
}

func BenchmarkGraphLayout500(b *testing.B) {
	nodes, edges := randomDAG(rand.New(rand.NewPCG(3, 3)), 500, 0.1)
	for b.Loop() {
		if _, err := LayoutGraph(nodes, edges); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(edges)), "edges")
}

// BenchmarkGraphLayout500Dense is a 500-task DAG with about 3,000 edges,
// many of them long.
func BenchmarkGraphLayout500Dense(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 5))
	nodes, edges := randomDAG(rng, 500, 0.4)
	for range 500 {
		i, j := rng.IntN(500), rng.IntN(500)
		if i < j {
			edges = append(edges, [2]string{nodes[i].ID, nodes[j].ID})
		}
	}
	for b.Loop() {
		if _, err := LayoutGraph(nodes, edges); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(edges)), "edges")
}
