package scheduler

import "campaignd/internal/orders"

// SetIngestHooks sets Ingest's test hooks (nil leaves one as it is) and
// returns a function that restores them.
func SetIngestHooks(after, before func(path string)) (restore func()) {
	oldAfter, oldBefore := afterInspect, beforeCommit
	if after != nil {
		afterInspect = after
	}
	if before != nil {
		beforeCommit = before
	}
	return func() { afterInspect, beforeCommit = oldAfter, oldBefore }
}

// ParseOnly reads path as Ingest does (hash, then rows through the hash)
// without writing anything, for timing the parser's share of an ingest.
func ParseOnly(path string) (orders.Summary, error) {
	f, info, err := openReport(path)
	if err != nil {
		return orders.Summary{}, err
	}
	defer f.Close()
	return parseHashed(f, path, info, orders.Options{}, nil)
}
