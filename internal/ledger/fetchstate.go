package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"campaignd/internal/fetch"

	bolt "go.etcd.io/bbolt"
)

// bucketFetch holds the report fetcher's memory: per report stream (a
// report type in one marketplace), keyed by fetch.Key.String(), its
// fetch.ReportState as JSON. It was added to schema 2 after the first
// ledgers of that schema were written, so it is one of addedBuckets.
const bucketFetch = "fetch"

// errNoFetchBucket is returned by a write to a ledger opened read-only
// before any writable Open gave it the fetch bucket.
var errNoFetchBucket = errors.New("the ledger has no fetch bucket yet (open it once for writing)")

// FetchState keeps the state of the report fetcher (fetch.State) in the
// ledger, so that the ranges fetched and the report pending survive a
// restart and travel with a backup. Each Save is one fsynced transaction.
type FetchState struct{ l *Ledger }

var _ fetch.State = (*FetchState)(nil)

// FetchState returns the ledger's store of report-fetch state.
func (l *Ledger) FetchState() *FetchState { return &FetchState{l: l} }

// Load returns the state of stream k; for a stream never saved, the zero
// ReportState with its Key set, and no error.
func (s *FetchState) Load(_ context.Context, k fetch.Key) (fetch.ReportState, error) {
	st := fetch.ReportState{Key: k}
	err := s.l.boltView(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketFetch))
		if b == nil {
			return nil // an older file opened read-only: nothing fetched yet
		}
		raw := b.Get([]byte(k.String()))
		if raw == nil {
			return nil
		}
		var err error
		st, err = decodeFetchState(k.String(), raw)
		return err
	})
	if err != nil {
		return fetch.ReportState{}, fmt.Errorf("load fetch state %s: %w", k, err)
	}
	return st, nil
}

// Save replaces the state of the stream s.Key, durably, under the writer
// lock.
func (s *FetchState) Save(_ context.Context, st fetch.ReportState) error {
	if st.ReportType == "" || st.MarketplaceID == "" {
		return fmt.Errorf("save fetch state: incomplete key %q", st.Key)
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("save fetch state %s: %w", st.Key, err)
	}
	s.l.wmu.Lock()
	defer s.l.wmu.Unlock()
	err = s.l.boltUpdate(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketFetch))
		if b == nil {
			return errNoFetchBucket
		}
		return b.Put([]byte(st.Key.String()), raw)
	})
	if err != nil {
		return fmt.Errorf("save fetch state %s: %w", st.Key, err)
	}
	return nil
}

// decodeFetchState decodes the state stored under key and checks that it
// is about that stream.
func decodeFetchState(key string, raw []byte) (fetch.ReportState, error) {
	var st fetch.ReportState
	if err := json.Unmarshal(raw, &st); err != nil {
		return fetch.ReportState{}, fmt.Errorf("decode: %w", err)
	}
	if got := st.Key.String(); got != key {
		return fetch.ReportState{}, fmt.Errorf("stored under %q but about %q", key, got)
	}
	return st, nil
}

// checkFetch reports fetch states that do not decode or are stored under
// another stream's key.
func checkFetch(tx *bolt.Tx, fail func(string, ...any)) {
	b := tx.Bucket([]byte(bucketFetch))
	if b == nil {
		return
	}
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if _, err := decodeFetchState(string(k), v); err != nil {
			fail("fetch state %q: %v", k, err)
		}
	}
}
