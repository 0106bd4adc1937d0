package scheduler

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
