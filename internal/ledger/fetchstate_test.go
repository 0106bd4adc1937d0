package ledger_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"campaignd/internal/fetch"
	"campaignd/internal/ledger"
	"campaignd/internal/orders"

	bolt "go.etcd.io/bbolt"
)

var (
	ordersUS  = fetch.Key{ReportType: fetch.AllOrdersByLastUpdate, MarketplaceID: "ATVPDKIKX0DER"}
	returnsUS = fetch.Key{ReportType: fetch.FBACustomerReturns, MarketplaceID: "ATVPDKIKX0DER"}
)

// fullState is a ReportState with every field set, as the fetcher leaves
// one after a report done, another pending and a failure.
func fullState(k fetch.Key) fetch.ReportState {
	at := t0.Add(30 * day)
	return fetch.ReportState{
		Key:     k,
		Fetched: fetch.Range{Start: t0, End: at.Add(-time.Hour)},
		Pending: &fetch.Pending{ReportID: "50013019001", Range: fetch.Range{Start: at.Add(-3 * time.Hour), End: at},
			RequestedAt: at, Status: "IN_PROGRESS", Attempts: 1},
		Ingested: []fetch.Done{{ReportID: "50013019000", Range: fetch.Range{Start: t0, End: at.Add(-time.Hour)},
			At: at.Add(-time.Hour), File: k.ReportType + ".ATVPDKIKX0DER.50013019000.txt.gz"}},
		LastAttempt: at, LastSuccess: at.Add(-time.Hour), LastError: "getReport: temporary failure: http 503", Failures: 1,
	}
}

func loadState(t *testing.T, s fetch.State, k fetch.Key) fetch.ReportState {
	t.Helper()
	st, err := s.Load(context.Background(), k)
	if err != nil {
		t.Fatalf("Load %s: %v", k, err)
	}
	return st
}

func wantSameState(t *testing.T, got, want fetch.ReportState) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("fetch state:\n got %+v\nwant %+v", got, want)
	}
}

// A stream never saved loads as its zero state; a saved one comes back
// whole, from the file after a reopen too, and other streams stay apart.
func TestFetchStateRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	l, err := ledger.Open(path, ledger.Options{})
	must(t, err)
	s := l.FetchState()
	wantSameState(t, loadState(t, s, ordersUS), fetch.ReportState{Key: ordersUS})

	want := fullState(ordersUS)
	must(t, s.Save(context.Background(), want))
	wantSameState(t, loadState(t, s, ordersUS), want)
	wantSameState(t, loadState(t, s, returnsUS), fetch.ReportState{Key: returnsUS})

	// a later save replaces the state
	want.Pending, want.LastError, want.Failures = nil, "", 0
	must(t, s.Save(context.Background(), want))
	wantSameState(t, loadState(t, s, ordersUS), want)
	must(t, l.Check())
	must(t, l.Close())

	for _, ro := range []bool{false, true} {
		l, err := ledger.Open(path, ledger.Options{ReadOnly: ro})
		must(t, err)
		wantSameState(t, loadState(t, l.FetchState(), ordersUS), want)
		must(t, l.Close())
	}
}

func TestFetchStateRefusesIncompleteKey(t *testing.T) {
	l := MustOpen(t)
	err := l.FetchState().Save(context.Background(), fetch.ReportState{Key: fetch.Key{ReportType: fetch.AllOrdersByLastUpdate}})
	if err == nil || !strings.Contains(err.Error(), "incomplete key") {
		t.Fatalf("Save without a marketplace = %v, want an incomplete key error", err)
	}
}

// A ledger written before the fetch bucket existed opens read-only with
// nothing fetched, and gains the bucket at its first writable open.
func TestFetchStateOlderLedger(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	l, err := ledger.Open(path, ledger.Options{})
	must(t, err)
	mustUpsert(t, l, t0, order("111-0000001-0000001"))
	must(t, l.Close())
	rawUpdate(t, path, func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("fetch")) })

	ro, err := ledger.Open(path, ledger.Options{ReadOnly: true})
	must(t, err)
	wantSameState(t, loadState(t, ro.FetchState(), ordersUS), fetch.ReportState{Key: ordersUS})
	if err := ro.FetchState().Save(context.Background(), fullState(ordersUS)); err == nil {
		t.Fatal("Save into a read-only ledger without a fetch bucket succeeded")
	}
	must(t, ro.Check())
	must(t, ro.Close())

	l = MustOpenPath(t, path)
	must(t, l.FetchState().Save(context.Background(), fullState(ordersUS)))
	wantSameState(t, loadState(t, l.FetchState(), ordersUS), fullState(ordersUS))
	if _, ok, err := l.Get(key("111-0000001-0000001")); err != nil || !ok {
		t.Fatalf("the older ledger's order after the upgrade: %v, %v", ok, err)
	}
}

// A schema-1 ledger converted on open has the fetch bucket too.
func TestFetchStateAfterSchema1Conversion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "campaignd.db")
	copyFile(t, "testdata/schema1.db", path)
	l := MustOpenPath(t, path)
	must(t, l.FetchState().Save(context.Background(), fullState(returnsUS)))
	wantSameState(t, loadState(t, l.FetchState(), returnsUS), fullState(returnsUS))
}

// Check names a fetch state that does not decode, or that is stored under
// another stream's key.
func TestCheckFindsBadFetchState(t *testing.T) {
	for name, put := range map[string]func(b *bolt.Bucket) error{
		"not json": func(b *bolt.Bucket) error { return b.Put([]byte(ordersUS.String()), []byte("{cut")) },
		"wrong key": func(b *bolt.Bucket) error {
			return b.Put([]byte(ordersUS.String()), []byte(`{"report_type":"`+fetch.FBACustomerReturns+`","marketplace_id":"ATVPDKIKX0DER"}`))
		},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ledger.db")
			l, err := ledger.Open(path, ledger.Options{})
			must(t, err)
			must(t, l.Close())
			rawUpdate(t, path, func(tx *bolt.Tx) error { return put(tx.Bucket([]byte("fetch"))) })
			l, err = ledger.Open(path, ledger.Options{ReadOnly: true})
			must(t, err)
			defer l.Close()
			err = l.Check()
			if err == nil || !strings.Contains(err.Error(), ordersUS.String()) {
				t.Fatalf("Check = %v, want an error naming %s", err, ordersUS)
			}
			if _, err := l.FetchState().Load(context.Background(), ordersUS); err == nil {
				t.Fatal("Load of a bad fetch state succeeded")
			}
		})
	}
}

// A backup carries the fetch state.
func TestBackupKeepsFetchState(t *testing.T) {
	l := MustOpen(t)
	must(t, l.FetchState().Save(context.Background(), fullState(ordersUS)))
	path := filepath.Join(t.TempDir(), "backup.db")
	if _, err := l.Backup(path); err != nil {
		t.Fatal(err)
	}
	b, err := ledger.Open(path, ledger.Options{ReadOnly: true})
	must(t, err)
	defer b.Close()
	must(t, b.Check())
	wantSameState(t, loadState(t, b.FetchState(), ordersUS), fullState(ordersUS))
}

// The fetcher saves its streams at the same time, while orders are
// written: every save lands.
func TestFetchStateConcurrentSaves(t *testing.T) {
	l := MustOpen(t)
	s := l.FetchState()
	var wg sync.WaitGroup
	const streams, saves = 4, 20
	for i := range streams {
		wg.Go(func() {
			k := fetch.Key{ReportType: fetch.AllOrdersByLastUpdate, MarketplaceID: fmt.Sprintf("MARKET%d", i)}
			for j := range saves {
				st := fullState(k)
				st.Failures = j
				if err := s.Save(context.Background(), st); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		if _, err := l.Upsert("", []orders.Order{order("111-0000001-0000001"), order("111-0000001-0000002")}, decide, t0); err != nil {
			t.Error(err)
		}
	})
	wg.Wait()
	for i := range streams {
		k := fetch.Key{ReportType: fetch.AllOrdersByLastUpdate, MarketplaceID: fmt.Sprintf("MARKET%d", i)}
		if got := loadState(t, s, k); got.Failures != saves-1 {
			t.Errorf("%s: failures %d, want the last save's %d", k, got.Failures, saves-1)
		}
	}
}
