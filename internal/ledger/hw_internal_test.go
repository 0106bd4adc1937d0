package ledger

import (
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// highWater reads the same length bbolt itself sees.
func TestHighWaterMatchesBolt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.db")
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	if err := l.db.View(func(tx *bolt.Tx) error { want = tx.Size(); return nil }); err != nil {
		t.Fatal(err)
	}
	l.Close()
	got, ok := highWater(path)
	if !ok || got != want || want == 0 {
		t.Fatalf("highWater = %d, %v; bbolt says %d", got, ok, want)
	}
}
