package ledger

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// ErrExists is returned when a backup would overwrite an existing file.
var ErrExists = errors.New("file exists")

// Backup writes a consistent copy of the whole ledger to a new file at
// path, from one read transaction (bbolt's Tx.WriteTo), so it is safe while
// the daemon sends. The copy is written to a temporary file, synced, and
// linked into place; an existing file is never overwritten. It returns the
// number of bytes written.
func (l *Ledger) Backup(path string) (int64, error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp.Name())
	var n int64
	err = l.boltView(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(tmp)
		return err
	})
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("backup to %s: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return 0, fmt.Errorf("backup to %s: %w", path, ErrExists)
		}
		return 0, fmt.Errorf("backup to %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return n, nil
}
