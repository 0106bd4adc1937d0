package ledger_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"campaignd/internal/ledger"
	"campaignd/internal/orders"

	bolt "go.etcd.io/bbolt"
)

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	l := MustOpenPath(t, path)
	for _, tc := range []struct {
		name string
		opt  ledger.Options
	}{
		{"writer", ledger.Options{Timeout: 100 * time.Millisecond}},
		{"read-only", ledger.Options{Timeout: 100 * time.Millisecond, ReadOnly: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			l2, err := ledger.Open(path, tc.opt)
			if err == nil {
				_ = l2.Close()
			}
			wantErr(t, err, ledger.ErrLocked)
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("Open took %s with a 100ms timeout", took)
			}
		})
	}
	if l.Path() != path {
		t.Errorf("Path() = %q, want %q", l.Path(), path)
	}
}

func TestOpenReadOnlySharesWithReaders(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	l, err := ledger.Open(path, ledger.Options{})
	must(t, err)
	mustUpsert(t, l, t0.Add(time.Hour), order("111-0000001-0000001"))
	must(t, l.Close())

	r1, err := ledger.Open(path, ledger.Options{ReadOnly: true, Timeout: 100 * time.Millisecond})
	must(t, err)
	defer r1.Close()
	r2, err := ledger.Open(path, ledger.Options{ReadOnly: true, Timeout: 100 * time.Millisecond})
	must(t, err)
	defer r2.Close()
	wantState(t, r2, key("111-0000001-0000001"), ledger.Scheduled)
	if _, err := r1.Upsert("", nil, decide, t0); err != nil {
		t.Errorf("empty upsert on a read-only ledger: %v", err)
	}
	if _, err := r1.Upsert("", []orders.Order{order("111-0000001-0000002")}, decide, t0); err == nil {
		t.Error("upsert on a read-only ledger succeeded")
	}
	if err := r1.Check(); err != nil {
		t.Errorf("check read-only: %v", err)
	}
	if _, err := ledger.Open(filepath.Join(t.TempDir(), "missing.db"), ledger.Options{ReadOnly: true}); err == nil {
		t.Error("read-only open of a missing file succeeded")
	}
}

func TestOpenSchema(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, path string)
	}{
		{"newer version", func(t *testing.T, path string) {
			l, err := ledger.Open(path, ledger.Options{})
			must(t, err)
			must(t, l.Close())
			rawUpdate(t, path, func(tx *bolt.Tx) error {
				return tx.Bucket([]byte("meta")).Put([]byte("schema"), []byte("3"))
			})
		}},
		{"foreign bolt file", func(t *testing.T, path string) {
			rawUpdate(t, path, func(tx *bolt.Tx) error {
				_, err := tx.CreateBucket([]byte("orders"))
				return err
			})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ledger.db")
			tc.setup(t, path)
			for _, ro := range []bool{false, true} {
				l, err := ledger.Open(path, ledger.Options{ReadOnly: ro})
				if err == nil {
					_ = l.Close()
				}
				wantErr(t, err, ledger.ErrSchema)
			}
		})
	}
}

func rawUpdate(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	must(t, err)
	must(t, db.Update(fn))
	must(t, db.Close())
}

func TestReopenPersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "ledger.db")
	now := t0.Add(6 * day)
	a, b, c := key("111-0000001-0000001"), key("111-0000001-0000002"), key("111-0000001-0000003")
	l, err := ledger.Open(path, ledger.Options{})
	must(t, err)
	mustUpsert(t, l, t0.Add(time.Hour), order(a.OrderID), order(b.OrderID), order(c.OrderID))
	_, err = l.Claim(a, "outbox", now)
	must(t, err)
	must(t, l.MarkSent(a, now, "wrote a.eml"))
	_, err = l.Claim(b, "smtp", now)
	must(t, err)
	file := ledger.FileRecord{SHA256: "abc", Name: "orders.txt", Size: 10, Kind: "all-orders", IngestedAt: t0, Rows: 3, Orders: 3, Outcome: "processed"}
	must(t, l.RecordFile(file))
	beforeEvents, err := l.RecentEvents(100)
	must(t, err)
	var export bytes.Buffer
	must(t, l.Export(&export))
	must(t, l.Check())
	must(t, l.Close())

	for _, ro := range []bool{false, true} {
		l, err := ledger.Open(path, ledger.Options{ReadOnly: ro})
		must(t, err)
		wantState(t, l, a, ledger.Sent)
		wantState(t, l, b, ledger.Claimed)
		wantState(t, l, c, ledger.Scheduled)
		counts, err := l.Counts()
		must(t, err)
		if counts.Total != 3 || counts.ByState[ledger.Sent] != 1 || counts.ByState[ledger.Claimed] != 1 || counts.ByState[ledger.Scheduled] != 1 {
			t.Errorf("counts after reopen = %+v", counts)
		}
		got, ok, err := l.File("abc")
		must(t, err)
		if !ok || got.Name != file.Name || !got.IngestedAt.Equal(file.IngestedAt) {
			t.Errorf("file after reopen = %+v, %v", got, ok)
		}
		evs, err := l.RecentEvents(100)
		must(t, err)
		if len(evs) != len(beforeEvents) {
			t.Errorf("events after reopen: %d, before %d", len(evs), len(beforeEvents))
		}
		claimed, err := l.List(ledger.Claimed, 0)
		must(t, err)
		if len(claimed) != 1 || claimed[0].Key != b {
			t.Errorf("claimed after reopen = %v", claimed)
		}
		if ids := dueIDs(t, l, now); len(ids) != 1 || ids[0] != c.OrderID {
			t.Errorf("due after reopen = %v", ids)
		}
		var again bytes.Buffer
		must(t, l.Export(&again))
		if !bytes.Equal(again.Bytes(), export.Bytes()) {
			t.Errorf("export differs after reopen")
		}
		must(t, l.Check())
		must(t, l.Close())
	}
}

func TestCheckFindsBrokenIndexes(t *testing.T) {
	tests := []struct {
		name    string
		breakIt func(tx *bolt.Tx) error
	}{
		{"due entry removed", func(tx *bolt.Tx) error {
			c := tx.Bucket([]byte("due")).Cursor()
			k, _ := c.First()
			return tx.Bucket([]byte("due")).Delete(k)
		}},
		{"counter off", func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("counts")).Put([]byte("sent"), []byte{0, 0, 0, 0, 0, 0, 0, 5})
		}},
		{"state changed without index", func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte("orders"))
			k, v := b.Cursor().First()
			v = bytes.Clone(v)
			v[1] = 4 // the record's state byte: sent
			return b.Put(k, v)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ledger.db")
			l, err := ledger.Open(path, ledger.Options{})
			must(t, err)
			mustUpsert(t, l, t0, order("111-0000001-0000001"), order("111-0000001-0000002"))
			must(t, l.Check())
			must(t, l.Close())
			rawUpdate(t, path, tc.breakIt)
			l, err = ledger.Open(path, ledger.Options{})
			must(t, err)
			defer l.Close()
			if err := l.Check(); err == nil {
				t.Error("Check found nothing wrong")
			} else if errors.Is(err, ledger.ErrSchema) {
				t.Errorf("unexpected error kind: %v", err)
			}
		})
	}
}
