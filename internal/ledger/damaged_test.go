package ledger_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"campaignd/internal/ledger"
	"campaignd/internal/orders"
)

// filledLedger writes a closed ledger of n orders and returns its path.
func filledLedger(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ledger.db")
	l, err := ledger.Open(path, ledger.Options{})
	must(t, err)
	var batch []orders.Order
	for i := range n {
		batch = append(batch, order(orderID(i)))
	}
	mustUpsert(t, l, t0, batch...)
	must(t, l.Close())
	return path
}

// wantDamaged checks err is ErrDamaged with the one line an operator needs.
func wantDamaged(t *testing.T, err error, path string) {
	t.Helper()
	if !errors.Is(err, ledger.ErrDamaged) {
		t.Fatalf("error = %v, want ErrDamaged", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, path) || !strings.Contains(msg, "ledger backup") || !strings.Contains(msg, "bbolt check") || strings.Contains(msg, "\n") {
		t.Errorf("error is not one line naming the file and the way back: %q", msg)
	}
}

// An existing ledger file that is empty, cut short or garbage is refused
// with ErrDamaged, read-only or not, and never replaced by a new ledger.
func TestOpenRefusesDamagedFile(t *testing.T) {
	tests := []struct {
		name  string
		spoil func(t *testing.T, path string)
	}{
		{"empty", func(t *testing.T, path string) { must(t, os.Truncate(path, 0)) }},
		{"cut to half", func(t *testing.T, path string) {
			fi, err := os.Stat(path)
			must(t, err)
			must(t, os.Truncate(path, fi.Size()/2))
		}},
		{"cut after the meta pages", func(t *testing.T, path string) { must(t, os.Truncate(path, 3*4096)) }},
		{"garbage", func(t *testing.T, path string) {
			must(t, os.WriteFile(path, bytes.Repeat([]byte("not a database "), 1000), 0o600))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filledLedger(t, 3000)
			tc.spoil(t, path)
			before, err := os.ReadFile(path)
			must(t, err)
			for _, ro := range []bool{false, true} {
				l, err := ledger.Open(path, ledger.Options{ReadOnly: ro})
				if err == nil {
					l.Close()
				}
				wantDamaged(t, err, path)
			}
			after, err := os.ReadFile(path)
			must(t, err)
			if !bytes.Equal(before, after) {
				t.Error("Open changed the damaged file")
			}
		})
	}
}

// A ledger cut short while it is open (a restore gone wrong, a full disk
// under another tool) makes every read fail with ErrDamaged, not crash the
// process with a fault in the memory map.
func TestTruncatedUnderReaderFailsCleanly(t *testing.T) {
	path := filledLedger(t, 5000)
	l, err := ledger.Open(path, ledger.Options{ReadOnly: true})
	must(t, err)
	defer l.Close()
	must(t, os.Truncate(path, 4*4096))
	calls := map[string]func() error{
		"ForEach": func() error { return l.ForEach(func(ledger.Record) error { return nil }) },
		"Export":  func() error { return l.Export(&bytes.Buffer{}) },
		"Due":     func() error { _, err := l.Due(t0.Add(40*day), 0); return err },
		"List":    func() error { _, err := l.List(ledger.Scheduled, 0); return err },
		"Check":   l.Check,
		"Get":     func() error { _, _, err := l.Get(key(orderID(4321))); return err },
	}
	for name, call := range calls {
		err := call()
		if !errors.Is(err, ledger.ErrDamaged) {
			t.Errorf("%s on a truncated ledger: %v, want ErrDamaged", name, err)
		}
	}
}

// A new ledger never leaves an empty file behind: it is built beside its
// path and linked into place whole.
func TestOpenCreatesWholeFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "ledger.db")
	l, err := ledger.Open(path, ledger.Options{Timeout: time.Second})
	must(t, err)
	fi, err := os.Stat(path)
	must(t, err)
	if fi.Size() == 0 {
		t.Fatal("new ledger is empty")
	}
	ents, err := os.ReadDir(filepath.Dir(path))
	must(t, err)
	if len(ents) != 1 {
		t.Errorf("ledger folder holds %d entries, want only the ledger", len(ents))
	}
	must(t, l.Check())
	must(t, l.Close())
}
