package datapipeline

import "fmt"

// node is an object with its inherited fields resolved: own fields, then
// its parent chain, then Default (a chain that does not reach Default
// still ends at it, which the docs' "Schedule from Parent" example needs).
type node struct {
	*Object
	fields map[string][]Value
	// from says which object each inherited field came from.
	from map[string]string
}

func (n *node) values(k string) []Value { return n.fields[k] }

// str is the first string value of field k, "" when unset or a ref.
func (n *node) str(k string) string {
	if vs := n.fields[k]; len(vs) > 0 && !vs[0].IsRef {
		return vs[0].Str
	}
	return ""
}

// refs are the ids field k refers to.
func (n *node) refs(k string) []string {
	var out []string
	for _, v := range n.fields[k] {
		if v.IsRef {
			out = append(out, v.Ref)
		}
	}
	return out
}

func (n *node) has(k string) bool { _, ok := n.fields[k]; return ok }

// resolveAll resolves inheritance for every object with an id. A parent
// cycle or a parent that does not exist is reported through problem.
func resolveAll(objs []*Object, byID map[string]*Object, problem func(id, field, msg string)) map[string]*node {
	out := make(map[string]*node, len(objs))
	def := byID["Default"]
	for _, o := range objs {
		if o.ID == "" {
			continue
		}
		n := &node{Object: o, fields: make(map[string][]Value, len(o.Fields)+8), from: map[string]string{}}
		seen := map[string]bool{}
		chain := []*Object{o}
		cur := o
		for {
			seen[cur.ID] = true
			pv := cur.Fields["parent"]
			if len(pv) == 0 {
				break
			}
			if !pv[0].IsRef {
				problem(cur.ID, "parent", fmt.Sprintf("parent must be a reference {\"ref\": \"<id>\"}, got the string %q", pv[0].Str))
				break
			}
			p := byID[pv[0].Ref]
			if p == nil {
				break // reported as a dangling reference
			}
			if seen[p.ID] {
				if cur == o || p == o {
					problem(o.ID, "parent", fmt.Sprintf("parent chain loops back to %q", p.ID))
				}
				break
			}
			chain = append(chain, p)
			cur = p
		}
		if def != nil && !seen["Default"] {
			chain = append(chain, def)
		}
		for _, c := range chain {
			for _, k := range c.Order {
				if _, set := n.fields[k]; set || (c != o && k == "parent") {
					continue
				}
				n.fields[k] = c.Fields[k]
				if c != o {
					n.from[k] = c.ID
				}
			}
		}
		out[o.ID] = n
	}
	return out
}
