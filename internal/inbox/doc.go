// Package inbox watches the folder where sellers drop Amazon order exports
// and hands each finished file to a Handler, one at a time, then files
// it away.
//
// A Watcher never trusts the folder's events to be complete. Run scans the
// folder once at start (events are lost while the daemon is down), then
// scans again when fsnotify reports activity (bursts are coalesced), when a
// file it saw is due to have settled, and periodically to catch anything the
// events missed.
//
// A candidate is a regular file at the top of the folder whose name does not
// end in ".part" or ".tmp" and does not start with "."; writers should write
// under such a name and rename the file into place. A candidate is handled
// only once it is stable: two scans at least Settle apart saw the same size
// and modification time. Scan is the deterministic core: it reads the clock
// only through Now and never sleeps, so tests drive it with a fake clock.
//
// After the Handler returns, the file is moved, never deleted:
//
//	processed/NAME               the file, accepted (maybe with rejected rows)
//	processed/NAME.report.txt    the rejected-row report, when there is one
//	rejected/NAME                the file, rejected whole
//	rejected/NAME.error.txt      why, followed by the report, if any
//
// When NAME is taken, the file gets a time stamp before its extension
// (orders.20261126T101500Z.txt), then a counter (orders.20261126T101500Z-2.txt),
// and the report or error file follows the chosen name.
//
// A Handler that cannot read a file now returns Result.Retry: the file stays
// and is tried again at the next scan, and is rejected after MaxAttempts
// attempts on the same content (name, size and modification time).
//
// Process runs one file through the same path at once, for the ingest
// command; the file may live outside the folder.
package inbox
