package dagview

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestGroupDAG(t *testing.T) {
	t.Parallel()
	open := func(ids ...string) func(string) bool {
		return func(g string) bool {
			for _, id := range ids {
				if id == g {
					return true
				}
			}
			return false
		}
	}
	type node struct{ id, label, collapsed string }
	nodesOf := func(gg *GroupedGraph) []node {
		var out []node
		for _, n := range gg.Nodes {
			out = append(out, node{n.ID, n.Label, n.Collapsed})
		}
		return out
	}
	tests := []struct {
		name    string
		open    func(string) bool
		nodes   []node
		edges   [][2]string
		members map[string][]string
	}{{
		name:  "all collapsed",
		open:  open(),
		nodes: []node{{"end", "end", ""}, {"group:g", "g", "g"}, {"start", "start", ""}},
		edges: [][2]string{{"group:g", "end"}, {"start", "group:g"}},
		// Members of nested groups count for the outer group's node.
		members: map[string][]string{"group:g": {"g.c", "g.inner.b", "g.a"}},
	}, {
		name: "outer open",
		open: open("g"),
		nodes: []node{{"end", "end", ""}, {"g.c", "c", ""}, {"group:g.inner", "inner", "g.inner"},
			{"g.a", "a", ""}, {"start", "start", ""}},
		edges:   [][2]string{{"group:g.inner", "end"}, {"g.a", "group:g.inner"}, {"start", "g.a"}},
		members: map[string][]string{"group:g.inner": {"g.inner.b"}},
	}, {
		// An inner group open inside a collapsed one changes nothing.
		name:    "inner open only",
		open:    open("g.inner"),
		nodes:   []node{{"end", "end", ""}, {"group:g", "g", "g"}, {"start", "start", ""}},
		edges:   [][2]string{{"group:g", "end"}, {"start", "group:g"}},
		members: map[string][]string{"group:g": {"g.c", "g.inner.b", "g.a"}},
	}, {
		name: "all open",
		open: open("g", "g.inner"),
		nodes: []node{{"end", "end", ""}, {"g.c", "c", ""}, {"g.inner.b", "b", ""},
			{"g.a", "a", ""}, {"start", "start", ""}},
		edges:   [][2]string{{"g.inner.b", "end"}, {"g.a", "g.inner.b"}, {"start", "g.a"}},
		members: map[string][]string{},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gg := GroupDAG(groupedDAG(), tt.open)
			if got := nodesOf(gg); !reflect.DeepEqual(got, tt.nodes) {
				t.Errorf("nodes = %v, want %v", got, tt.nodes)
			}
			if !reflect.DeepEqual(gg.Edges, tt.edges) {
				t.Errorf("edges = %v, want %v", gg.Edges, tt.edges)
			}
			if !reflect.DeepEqual(gg.Members, tt.members) {
				t.Errorf("members = %v, want %v", gg.Members, tt.members)
			}
		})
	}
}

func TestAddGroupStates(t *testing.T) {
	t.Parallel()
	states := map[string]string{"start": "success", "g.a": "success", "g.inner.b": "failed"}
	AddGroupStates(groupedDAG(), states)
	want := map[string]string{"start": "success", "g.a": "success", "g.inner.b": "failed",
		"group:g": "failed", "group:g.inner": "failed"}
	if !reflect.DeepEqual(states, want) {
		t.Errorf("states = %v, want %v", states, want)
	}
}

// TestLayoutBoxes checks that an expanded group's outline holds its
// members with room for its label, that a nested outline sits inside its
// parent's, and that no other task falls inside a group's outline.
func TestLayoutBoxes(t *testing.T) {
	t.Parallel()
	l, err := LayoutDAG(groupedDAG())
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Boxes) != 2 || l.Boxes[0].ID != "g" || l.Boxes[1].ID != "g.inner" || l.Boxes[1].Depth != 1 {
		t.Fatalf("boxes = %+v", l.Boxes)
	}
	// g has members in layers 0 (g.c), 1 (g.a) and 2 (g.inner.b).
	if len(l.Boxes[0].Pieces) != 3 || len(l.Boxes[0].Bridges) != 2 || !strings.HasPrefix(l.Boxes[0].D, "M") {
		t.Errorf("outline of g = %+v", l.Boxes[0])
	}
	checkOutlines(t, l)
	outer, inner := l.Boxes[0], l.Boxes[1]
	if !within(inner.Pieces[0], outer.Pieces[2]) {
		t.Errorf("inner outline %+v is not inside %+v", inner.Pieces[0], outer.Pieces[2])
	}
}

// checkOutlines checks that every member of a group is inside one piece
// of its outline with room for the label, that no other node overlaps a
// piece, and that every outline is inside the drawing.
func checkOutlines(t *testing.T, l *Layout) {
	t.Helper()
	for _, b := range l.Boxes {
		for _, n := range l.Nodes {
			member := slices.Contains(n.Boxes, b.ID)
			r := Rect{n.X, n.Y, n.W, n.H}
			inside := false
			for _, p := range b.Pieces {
				if overlaps(r, p) && !member {
					t.Errorf("node %s %+v overlaps a piece %+v of group %s", n.ID, r, p, b.ID)
				}
				inside = inside || within(Rect{n.X, n.Y - boxLabelH, n.W, n.H + boxLabelH}, p)
			}
			if member && !inside {
				t.Errorf("node %s %+v is in no piece of group %s %+v with room for the label", n.ID, r, b.ID, b.Pieces)
			}
		}
		if b.X < 0 || b.Y < 0 || b.X+b.W > l.Width || b.Y+b.H > l.Height {
			t.Errorf("box %+v outside the drawing %.0fx%.0f", b, l.Width, l.Height)
		}
	}
}

func within(a, b Rect) bool {
	return a.X >= b.X && a.Y >= b.Y && a.X+a.W <= b.X+b.W && a.Y+a.H <= b.Y+b.H
}

func overlaps(a, b Rect) bool {
	return a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H
}

// TestLayoutBoxesKeepLayersApart checks, on random DAGs with random
// groups, that within each layer the members of a group are next to each
// other, with room for the boxes between them and their neighbours.
func TestLayoutBoxesKeepLayersApart(t *testing.T) {
	t.Parallel()
	for seed := range uint64(30) {
		rng := rand.New(rand.NewPCG(seed, 7))
		nodes, edges := randomDAG(rng, 60, 0.08)
		for i := range nodes {
			switch g := rng.IntN(4); g {
			case 1, 2:
				nodes[i].Boxes = []string{"g" + strconv.Itoa(g)}
			case 3:
				nodes[i].Boxes = []string{"g1", "g1.x"}
			}
		}
		l, err := LayoutGraph(nodes, edges)
		if err != nil {
			t.Fatal(err)
		}
		byLayer := map[int][]NodeBox{}
		for _, n := range l.Nodes {
			byLayer[n.Layer] = append(byLayer[n.Layer], n)
		}
		for layer, ns := range byLayer {
			// In order from the top, a group once left never comes back.
			order := slices.Clone(ns)
			slices.SortFunc(order, func(a, b NodeBox) int { return a.Order - b.Order })
			closed := map[string]bool{}
			for i := 1; i < len(order); i++ {
				a, b := order[i-1], order[i]
				for _, g := range a.Boxes {
					if !slices.Contains(b.Boxes, g) {
						closed[g] = true
					}
				}
				for _, g := range b.Boxes {
					if closed[g] {
						t.Fatalf("seed %d layer %d: group %s is split", seed, layer, g)
					}
				}
				c := 0
				for c < len(a.Boxes) && c < len(b.Boxes) && a.Boxes[c] == b.Boxes[c] {
					c++
				}
				need := 0.0
				if c < len(a.Boxes) { // a box closes below a
					need += boxPad
				}
				if c < len(b.Boxes) { // a box opens above b, with its label
					need += boxPad + boxLabelH
				}
				if b.Y-(a.Y+a.H) < need {
					t.Errorf("seed %d layer %d: %s %v and %s %v of different groups are %.1f apart", seed, layer, a.ID, a.Boxes, b.ID, b.Boxes, b.Y-(a.Y+a.H))
				}
			}
		}
		checkOutlines(t, l)
	}
}
