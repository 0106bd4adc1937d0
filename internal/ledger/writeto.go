package ledger

import (
	"io"

	bolt "go.etcd.io/bbolt"
)

// WriteTo writes a consistent copy of the whole ledger to w from one read
// transaction (bbolt's Tx.WriteTo), so it is safe while the daemon sends.
// The control socket uses it to write a backup into a file the caller
// created and passed as a descriptor; Backup, for a new file by path.
func (l *Ledger) WriteTo(w io.Writer) (int64, error) {
	var n int64
	err := l.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}
