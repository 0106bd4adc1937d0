package policy

// scratch holds the buffers one check needs, reused across calls through
// the Checker's pool so that checking a long message allocates little.
type scratch struct {
	kinds   [2][]uint8 // CheckMessage: per part, which bytes came from data
	buf     []byte     // normalize: the normalised text
	off     []int32    // normalize: its source offsets
	sents   []sentence
	foldOff []int32 // structural: offsets of the folded text
	tags    sentenceTags
	toks    []token
	matches []match
	taken   [][2]int32
	occs    []occ
	fired   []fired
	covered []bool
	stops   []bool
	negTok  []bool
	clause  []int32
}

// maxPooled is the largest buffer (in elements) kept for reuse: one huge
// message must not pin its buffers for the life of the program.
const maxPooled = 1 << 20

func (c *Checker) getScratch() *scratch {
	if sc, ok := c.pool.Get().(*scratch); ok {
		return sc
	}
	return &scratch{}
}

func (c *Checker) putScratch(sc *scratch) {
	if cap(sc.buf) > maxPooled || cap(sc.off) > maxPooled || cap(sc.foldOff) > maxPooled ||
		cap(sc.kinds[0]) > maxPooled || cap(sc.kinds[1]) > maxPooled || cap(sc.sents) > maxPooled/4 || cap(sc.toks) > maxPooled/4 {
		return
	}
	c.pool.Put(sc)
}

// grow returns b resized to n elements, reusing its array when it is large
// enough. The contents are unspecified.
func grow[T any](b []T, n int) []T {
	if cap(b) >= n {
		return b[:n]
	}
	return make([]T, n, n+n/4)
}
