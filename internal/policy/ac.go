package policy

import (
	"fmt"
	"math/bits"
)

// acMatcher is an Aho-Corasick automaton over bytes: it finds every
// occurrence of a set of keywords in one pass.
type acMatcher struct {
	nodes []acNode
	root  [256]int32 // dense transitions of the root (0 = stay at root)
	// class maps a byte to its column in delta; bytes in no keyword share
	// column 0. delta is the complete automaton: delta[state*ncls+class].
	class [256]uint16
	ncls  int
	// delta holds the next state in the low 15 bits and, in the top bit,
	// whether keywords end there: small enough to stay in cache.
	delta []uint16
	outs  [][]int32 // per state: keyword ids that end there
	// tab is delta with each row padded to 1<<shift entries.
	tab   []uint16
	shift uint
}

// maxStates is how many states delta can address.
const maxStates = 1 << 15

const hasOut = 1 << 15

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

func newACMatcher(keys []string) (*acMatcher, error) {
	m := &acMatcher{nodes: []acNode{{}}}
	for id, k := range keys {
		m.insert(k, int32(id))
	}
	order := m.linkFails()
	if len(m.nodes) > maxStates {
		return nil, fmt.Errorf("%d keyword states, at most %d", len(m.nodes), maxStates)
	}
	m.compile(order)
	m.nodes = nil // the table is all scan needs
	// The table again with rows padded to a power of two: the scan then
	// finds a row with a shift instead of a multiplication, and drops delta.
	m.shift = uint(bits.Len(uint(m.ncls - 1)))
	m.tab = make([]uint16, (len(m.delta)/m.ncls)<<m.shift)
	for st := 0; st*m.ncls < len(m.delta); st++ {
		copy(m.tab[st<<m.shift:], m.delta[st*m.ncls:(st+1)*m.ncls])
	}
	m.delta = nil
	return m, nil
}

// insert adds keyword k with id to the trie.
func (m *acMatcher) insert(k string, id int32) {
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
	m.nodes[s].out = append(m.nodes[s].out, id)
}

// linkFails sets the fail link of every state, breadth first, and returns
// the states in that order.
func (m *acMatcher) linkFails() []int32 {
	var order []int32
	for i, c := range m.nodes[0].edge {
		k := m.nodes[0].kid[i]
		m.root[c] = k
		order = append(order, k)
	}
	for q := 0; q < len(order); q++ {
		s := order[q]
		for i, c := range m.nodes[s].edge {
			k := m.nodes[s].kid[i]
			m.nodes[k].fail = m.failOf(m.nodes[s].fail, c)
			m.nodes[k].out = append(m.nodes[k].out, m.nodes[m.nodes[k].fail].out...)
			order = append(order, k)
		}
	}
	return order
}

// failOf follows fail links from state f to the longest suffix state that
// continues with byte c.
func (m *acMatcher) failOf(f int32, c byte) int32 {
	for {
		if f == 0 {
			return m.root[c]
		}
		if nx := m.nodes[f].child(c); nx >= 0 {
			return nx
		}
		f = m.nodes[f].fail
	}
}

// compile builds the complete transition table, visiting states in
// breadth-first order so every fail state is done before its users.
func (m *acMatcher) compile(order []int32) {
	var used [256]bool
	for _, n := range m.nodes {
		for _, c := range n.edge {
			used[c] = true
		}
	}
	m.ncls = 1
	for c := 0; c < 256; c++ {
		if used[c] {
			m.class[c] = uint16(m.ncls)
			m.ncls++
		}
	}
	m.delta = make([]uint16, len(m.nodes)*m.ncls)
	enc := func(st int32) uint16 {
		v := uint16(st)
		if len(m.nodes[st].out) > 0 {
			v |= hasOut
		}
		return v
	}
	m.outs = make([][]int32, len(m.nodes))
	for c := 0; c < 256; c++ {
		if used[c] {
			m.delta[int(m.class[c])] = enc(m.root[c])
		}
	}
	m.outs[0] = m.nodes[0].out
	for _, s := range order {
		n := &m.nodes[s]
		m.outs[s] = n.out
		row := m.delta[int(s)*m.ncls : int(s+1)*m.ncls]
		copy(row, m.delta[int(n.fail)*m.ncls:int(n.fail+1)*m.ncls])
		for i, c := range n.edge {
			row[m.class[c]] = enc(n.kid[i])
		}
	}
}

// appendHits appends every keyword occurrence in s to hits, in order of
// their end.
func (m *acMatcher) appendHits(hits []acHit, s string) []acHit {
	st := 0
	tab, shift := m.tab, m.shift
	for i := 0; i < len(s); i++ {
		v := tab[st<<shift|int(m.class[s[i]])]
		st = int(v &^ hasOut)
		if v&hasOut != 0 {
			for _, id := range m.outs[st] {
				hits = append(hits, acHit{id, i + 1})
			}
		}
	}
	return hits
}

// acHit is a keyword found by the scan: its id and the end of its match.
type acHit struct {
	id  int32
	end int
}
