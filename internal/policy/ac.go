package policy

// acMatcher is an Aho-Corasick automaton over bytes: it finds every
// occurrence of a set of keywords in one pass.
type acMatcher struct {
	nodes []acNode
	root  [256]int32 // dense transitions of the root (0 = stay at root)
}

type acNode struct {
	edge []byte
	kid  []int32
	fail int32
	out  []int32 // keyword ids that end here, including via fail links
}

func (n *acNode) child(c byte) int32 {
	for i, e := range n.edge {
		if e == c {
			return n.kid[i]
		}
	}
	return -1
}

func newACMatcher(keys []string) *acMatcher {
	m := &acMatcher{nodes: []acNode{{}}}
	for id, k := range keys {
		s := int32(0)
		for i := 0; i < len(k); i++ {
			c := k[i]
			nx := m.nodes[s].child(c)
			if nx < 0 {
				nx = int32(len(m.nodes))
				m.nodes = append(m.nodes, acNode{})
				m.nodes[s].edge = append(m.nodes[s].edge, c)
				m.nodes[s].kid = append(m.nodes[s].kid, nx)
			}
			s = nx
		}
		m.nodes[s].out = append(m.nodes[s].out, int32(id))
	}
	// Breadth-first fail links.
	queue := []int32{}
	for i, c := range m.nodes[0].edge {
		k := m.nodes[0].kid[i]
		m.root[c] = k
		m.nodes[k].fail = 0
		queue = append(queue, k)
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for i, c := range m.nodes[s].edge {
			k := m.nodes[s].kid[i]
			f := m.nodes[s].fail
			for {
				if f == 0 {
					m.nodes[k].fail = m.root[c]
					break
				}
				if nx := m.nodes[f].child(c); nx >= 0 {
					m.nodes[k].fail = nx
					break
				}
				f = m.nodes[f].fail
			}
			m.nodes[k].out = append(m.nodes[k].out, m.nodes[m.nodes[k].fail].out...)
			queue = append(queue, k)
		}
	}
	return m
}

// scan calls hit(keywordID, endOffset) for every keyword occurrence in s.
func (m *acMatcher) scan(s string, hit func(id int32, end int)) {
	st := int32(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		for {
			if st == 0 {
				st = m.root[c]
				break
			}
			if nx := m.nodes[st].child(c); nx >= 0 {
				st = nx
				break
			}
			st = m.nodes[st].fail
		}
		for _, id := range m.nodes[st].out {
			hit(id, i+1)
		}
	}
}
