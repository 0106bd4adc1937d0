package ledger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// recoverHint is the part of ErrDamaged's message that tells an operator
// what to do.
const recoverHint = "restore the newest copy made with `campaignd ledger backup` (or examine it with `bbolt check`); campaignd never replaces an existing ledger with an empty one"

// damaged returns the one-line error for a ledger file that cannot be read.
func damaged(path, why string) error {
	return fmt.Errorf("ledger %s: %w (%s): %s", path, ErrDamaged, why, recoverHint)
}

// guard runs fn with memory faults turned into errors: bbolt reads pages
// through a memory map, and a file cut short under it (a truncated copy,
// a full disk) makes a read past its end fault. Such a fault becomes
// ErrDamaged instead of crashing the process.
func (l *Ledger) guard(fn func() error) (err error) {
	return guardPath(l.path, fn)
}

func guardPath(path string, fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			re, ok := r.(runtime.Error)
			if _, fault := r.(interface{ Addr() uintptr }); !ok || !fault {
				panic(r)
			}
			err = damaged(path, "a read past the end of the file: "+re.Error())
		}
	}()
	return fn()
}

// openBolt opens the bbolt file at path and checks that it is whole: a
// file that exists must not be empty, and must be at least as long as its
// meta page's high-water mark. A missing file is created with its buckets
// beside path and renamed into place, so an empty file at path is never
// left by campaignd itself.
func openBolt(path string, opt Options) (*bolt.DB, error) {
	timeout := opt.Timeout
	if timeout <= 0 {
		timeout = time.Second
	}
	bopt := &bolt.Options{Timeout: timeout, ReadOnly: opt.ReadOnly}
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist) && !opt.ReadOnly:
		if err := createBolt(path, bopt); err != nil {
			return nil, err
		}
		st, err = os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("open ledger: %w", err)
		}
	case err != nil:
		return nil, fmt.Errorf("open ledger: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("open ledger %s: not a regular file", path)
	}
	if st.Size() == 0 {
		return nil, damaged(path, "the file is empty")
	}
	if want, ok := highWater(path); ok && st.Size() < want {
		return nil, damaged(path, fmt.Sprintf("the file is %d bytes, its header says %d: it was cut short", st.Size(), want))
	}
	db, err := openGuarded(path, bopt)
	if err != nil {
		switch {
		case errors.Is(err, berrors.ErrTimeout):
			return nil, fmt.Errorf("open ledger %s: %w", path, ErrLocked)
		case errors.Is(err, ErrDamaged):
			return nil, err
		case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum):
			return nil, damaged(path, "not a bbolt file, or both of its meta pages are broken: "+err.Error())
		case errors.Is(err, berrors.ErrVersionMismatch):
			return nil, fmt.Errorf("open ledger %s: %w: %w", path, ErrSchema, err)
		}
		return nil, fmt.Errorf("open ledger %s: %w", path, err)
	}
	if err := checkLength(db, path); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}

// openGuarded is bolt.Open with bbolt's panics on pages it cannot read,
// and faults past the end of the file, turned into ErrDamaged.
func openGuarded(path string, bopt *bolt.Options) (db *bolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, damaged(path, fmt.Sprint(r))
		}
	}()
	err = guardPath(path, func() error {
		var err error
		db, err = bolt.Open(path, 0o600, bopt)
		return err
	})
	return db, err
}

// highWater reads bbolt's two meta pages and returns the file length the
// newer valid one says the data reaches (its high-water page id times the
// page size); ok is false when neither meta page is valid.
func highWater(path string) (int64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	var best metaPage
	var pageSize int64 = 4096
	for i := range 2 {
		buf := make([]byte, metaEnd)
		if _, err := f.ReadAt(buf, int64(i)*pageSize); err != nil {
			continue
		}
		m, ok := readMeta(buf)
		if !ok {
			continue
		}
		if i == 0 {
			pageSize = int64(m.pageSize)
		}
		if m.txid >= best.txid {
			best = m
		}
	}
	if best.pageSize == 0 {
		return 0, false
	}
	return int64(best.pgid) * int64(best.pageSize), true
}

// The layout of a bbolt meta page: a 16-byte page header, then magic,
// version, page size, flags (4 bytes each), the root bucket (16), the
// freelist page, the high-water page id, the txid and an FNV-64a checksum of
// everything before it (8 each), all little-endian on the platforms
// campaignd runs on.
const (
	metaStart = 16
	metaEnd   = metaStart + 64
	boltMagic = 0xED0CDAED
)

type metaPage struct {
	pageSize   uint32
	pgid, txid uint64
}

func readMeta(b []byte) (metaPage, bool) {
	m := b[metaStart:metaEnd]
	le := binary.LittleEndian
	h := fnv.New64a()
	h.Write(m[:56])
	if le.Uint32(m[0:]) != boltMagic || le.Uint64(m[56:]) != h.Sum64() {
		return metaPage{}, false
	}
	return metaPage{pageSize: le.Uint32(m[8:]), pgid: le.Uint64(m[40:]), txid: le.Uint64(m[48:])}, true
}

// checkLength refuses a file shorter than its meta page says it is.
func checkLength(db *bolt.DB, path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("open ledger: %w", err)
	}
	var want int64
	err = guardPath(path, func() error {
		return db.View(func(tx *bolt.Tx) error { want = tx.Size(); return nil })
	})
	if err != nil {
		return err
	}
	if fi.Size() < want {
		return damaged(path, fmt.Sprintf("the file is %d bytes, its header says %d: it was cut short", fi.Size(), want))
	}
	return nil
}

// createBolt makes a new, empty bbolt file at path: written beside it,
// synced, then linked into place (never over an existing file).
func createBolt(path string, bopt *bolt.Options) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("open ledger: %w", err)
	}
	tmp := filepath.Join(dir, "."+filepath.Base(path)+".new")
	_ = os.Remove(tmp)
	db, err := bolt.Open(tmp, 0o600, bopt)
	if err != nil {
		return fmt.Errorf("create ledger %s: %w", path, err)
	}
	err = db.Update(initSchema)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(tmp, path)
		if errors.Is(err, os.ErrExist) {
			err = nil // another process created it first: use theirs
		}
	}
	_ = os.Remove(tmp)
	if err != nil {
		return fmt.Errorf("create ledger %s: %w", path, err)
	}
	syncDir(dir)
	return nil
}

// syncDir makes a new directory entry in dir durable.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
