package ledger

import (
	"bufio"
	"bytes"
	"cmp"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// sorter is an external sort of (key, value) entries with bounded memory:
// entries gather in an arena until it holds limit bytes, are sorted there,
// and are spilled as one sorted run to a temporary file; reading merges the
// runs. Entries with equal keys come out in the order they were added, so
// facts from later rows of a file are merged after earlier ones.
//
// The temporary file is unlinked as soon as it is created: a crash leaves
// nothing behind.
type sorter struct {
	dir   string // where the temporary file goes (beside the ledger)
	limit int    // bytes of entries held in memory

	arena []byte
	idx   []sortEntry
	seq   uint32

	file *os.File
	runs []span // runs in file
	size int64  // bytes written to file
	w    *bufio.Writer

	// A full arena is sorted and written by a goroutine while the next
	// one fills: busy carries its result, and the buffers it frees come
	// back as the spare ones.
	busy       chan error
	nspills    int
	spareArena []byte
	spareIdx   []sortEntry
}

// sortEntry locates one entry of the arena. hi and lo are its key's first
// 16 bytes, so most comparisons need not look at the arena.
type sortEntry struct {
	hi, lo uint64
	off    uint32
	seq    uint32
}

type span struct{ off, n int64 }

func newSorter(dir string, limit int) *sorter {
	return &sorter{dir: dir, limit: limit}
}

// add copies key and val into the sorter.
func (s *sorter) add(key, val []byte) error {
	if len(s.arena) >= s.limit {
		if err := s.spillAsync(); err != nil {
			return err
		}
	}
	var pre [16]byte
	copy(pre[:], key)
	s.idx = append(s.idx, sortEntry{
		hi: binary.BigEndian.Uint64(pre[:8]), lo: binary.BigEndian.Uint64(pre[8:]),
		off: uint32(len(s.arena)), seq: s.seq,
	})
	s.seq++
	s.arena = binary.AppendUvarint(s.arena, uint64(len(key)))
	s.arena = append(s.arena, key...)
	s.arena = binary.AppendUvarint(s.arena, uint64(len(val)))
	s.arena = append(s.arena, val...)
	return nil
}

// entry returns the key and value of the arena entry at off.
func entryAt(arena []byte, off uint32) (key, val []byte) {
	b := arena[off:]
	n, k := binary.Uvarint(b)
	key, b = b[k:k+int(n)], b[k+int(n):]
	n, k = binary.Uvarint(b)
	return key, b[k : k+int(n)]
}

func (s *sorter) sortArena() { sortRun(s.arena, s.idx) }

func sortRun(arena []byte, idx []sortEntry) {
	slices.SortFunc(idx, func(a, b sortEntry) int {
		if c := cmp.Compare(a.hi, b.hi); c != 0 {
			return c
		}
		if c := cmp.Compare(a.lo, b.lo); c != 0 {
			return c
		}
		ka, _ := entryAt(arena, a.off)
		kb, _ := entryAt(arena, b.off)
		if c := bytes.Compare(ka, kb); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
}

// spillAsync hands the full arena to a goroutine that sorts it and
// writes it as one run, once the previous one is done, and goes on with
// the spare buffers.
func (s *sorter) spillAsync() error {
	if err := s.wait(); err != nil {
		return err
	}
	arena, idx := s.arena, s.idx
	s.arena, s.idx = s.spareArena[:0], s.spareIdx[:0]
	s.nspills++
	s.busy = make(chan error, 1)
	go func() {
		err := s.writeRun(arena, idx)
		s.spareArena, s.spareIdx = arena, idx
		s.busy <- err
	}()
	return nil
}

// wait waits for the run being written, if any.
func (s *sorter) wait() error {
	if s.busy == nil {
		return nil
	}
	err := <-s.busy
	s.busy = nil
	return err
}

// spill writes the arena as one sorted run, now.
func (s *sorter) spill() error {
	if err := s.wait(); err != nil {
		return err
	}
	if len(s.idx) == 0 {
		return nil
	}
	s.nspills++
	err := s.writeRun(s.arena, s.idx)
	s.arena, s.idx = s.arena[:0], s.idx[:0]
	return err
}

// writeRun sorts one arena and appends it to the temporary file as a run.
func (s *sorter) writeRun(arena []byte, idx []sortEntry) error {
	if s.file == nil {
		f, err := os.CreateTemp(s.dir, ".campaignd-sort-*.tmp")
		if err != nil {
			return fmt.Errorf("sort: %w", err)
		}
		_ = os.Remove(f.Name())
		s.file, s.w = f, bufio.NewWriterSize(f, 256<<10)
	}
	sortRun(arena, idx)
	start := s.size
	for _, e := range idx {
		key, val := entryAt(arena, e.off)
		n, err := s.writeEntry(key, val)
		if err != nil {
			return fmt.Errorf("sort: spill: %w", err)
		}
		s.size += int64(n)
	}
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("sort: spill: %w", err)
	}
	s.runs = append(s.runs, span{start, s.size - start})
	return nil
}

func (s *sorter) writeEntry(key, val []byte) (int, error) {
	var hdr [2 * binary.MaxVarintLen64]byte
	h := binary.PutUvarint(hdr[:], uint64(len(key)))
	n := h + len(key)
	if _, err := s.w.Write(hdr[:h]); err != nil {
		return 0, err
	}
	if _, err := s.w.Write(key); err != nil {
		return 0, err
	}
	h = binary.PutUvarint(hdr[:], uint64(len(val)))
	if _, err := s.w.Write(hdr[:h]); err != nil {
		return 0, err
	}
	_, err := s.w.Write(val)
	return n + h + len(val), err
}

// spilled reports whether any run went to disk.
func (s *sorter) spilled() bool { return s.nspills > 0 }

// close releases the temporary file.
func (s *sorter) close() error {
	_ = s.wait()
	s.arena, s.idx, s.spareArena, s.spareIdx = nil, nil, nil, nil
	if s.file == nil {
		return nil
	}
	err := s.file.Close()
	s.file = nil
	return err
}

// iter returns the entries in key order. After it, the sorter takes no
// more entries.
func (s *sorter) iter() (iterator, error) {
	if !s.spilled() {
		s.sortArena()
		return &memIter{s: s}, nil
	}
	if err := s.spill(); err != nil {
		return nil, err
	}
	// the runs are on disk: free the memory
	s.arena, s.idx, s.spareArena, s.spareIdx = nil, nil, nil, nil
	m := &mergeIter{}
	for i, r := range s.runs {
		rd := &runReader{r: bufio.NewReaderSize(io.NewSectionReader(s.file, r.off, r.n), 64<<10), run: i}
		ok, err := rd.next()
		if err != nil {
			return nil, err
		}
		if ok {
			m.h = append(m.h, rd)
		}
	}
	heap.Init(&m.h)
	return m, nil
}

// iterator yields sorted entries. key and val are valid until the next call.
type iterator interface {
	next() (key, val []byte, ok bool, err error)
}

type memIter struct {
	s *sorter
	i int
}

func (m *memIter) next() ([]byte, []byte, bool, error) {
	if m.i >= len(m.s.idx) {
		return nil, nil, false, nil
	}
	k, v := entryAt(m.s.arena, m.s.idx[m.i].off)
	m.i++
	return k, v, true, nil
}

// runReader reads one spilled run.
type runReader struct {
	r        *bufio.Reader
	run      int
	key, val []byte
}

func (r *runReader) next() (bool, error) {
	n, err := binary.ReadUvarint(r.r)
	if errors.Is(err, io.EOF) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sort: read run: %w", err)
	}
	r.key = slices.Grow(r.key[:0], int(n))[:n]
	if _, err := io.ReadFull(r.r, r.key); err != nil {
		return false, fmt.Errorf("sort: read run: %w", err)
	}
	if n, err = binary.ReadUvarint(r.r); err != nil {
		return false, fmt.Errorf("sort: read run: %w", err)
	}
	r.val = slices.Grow(r.val[:0], int(n))[:n]
	if _, err := io.ReadFull(r.r, r.val); err != nil {
		return false, fmt.Errorf("sort: read run: %w", err)
	}
	return true, nil
}

// runHeap orders runs by their current key, then by run number, so equal
// keys come out in the order they were added.
type runHeap []*runReader

func (h runHeap) Len() int { return len(h) }
func (h runHeap) Less(i, j int) bool {
	if c := bytes.Compare(h[i].key, h[j].key); c != 0 {
		return c < 0
	}
	return h[i].run < h[j].run
}
func (h runHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)   { *h = append(*h, x.(*runReader)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

type mergeIter struct {
	h    runHeap
	last *runReader // advanced on the next call
}

func (m *mergeIter) next() ([]byte, []byte, bool, error) {
	if m.last != nil {
		ok, err := m.last.next()
		if err != nil {
			return nil, nil, false, err
		}
		if ok {
			heap.Fix(&m.h, 0)
		} else {
			heap.Pop(&m.h)
		}
		m.last = nil
	}
	if len(m.h) == 0 {
		return nil, nil, false, nil
	}
	top := m.h[0]
	m.last = top
	return top.key, top.val, true, nil
}
