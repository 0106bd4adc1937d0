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
// A candidate is a regular file at the top of the folder whose name is not
// one Ignored lists: the names uploaders and browsers give a file while they
// write it (".filepart", ".crdownload", ".part", ".partial", ".tmp"...),
// dot-files, Office's "~$" files; writers should write under such a name
// and rename the file into place. A candidate is handled only once it is
// stable: two scans at least Settle apart saw the same size and modification
// time. After the Handler read it, the file must still have that size and
// time and, when the Handler says which bytes it read (Result.SHA256), hold
// exactly those; otherwise it is handled again, whole, once stable. A file
// filed lately (within a day) that changes afterwards, because its uploader
// had only paused and still held it open, is moved back into the folder and
// handled again whole; one that comes again under its name, longer and
// beginning with the bytes read before, is logged as a cut-short earlier
// file. Scan is the deterministic core: it reads the clock only through Now
// and never sleeps, so tests drive it with a fake clock.
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
// A Handler that cannot read a file now for a reason that is not the
// file's (a full disk, an I/O error, a busy ledger) returns Result.Retry: the
// file stays and is tried again after a backoff that doubles from
// RetryBackoff up to MaxBackoff, for as long as the fault lasts; it is never
// rejected for it. Only a file that is bad itself goes to rejected/: the
// Handler says so, or the Handler crashes on it MaxAttempts times (same
// name, size and modification time). Retrying lists the files waiting for a
// retry with the last failure.
//
// Entries that are not regular files (symbolic links, named pipes, folders)
// are never opened; the watcher logs each once, and Skipped lists them with
// the reason.
//
// Process runs one file through the same path at once, for the ingest
// command, and hands back the Handler's Result, its Detail (the handler's
// own account of the file) included. Stage first copies a report the caller
// opened (a descriptor passed over the control socket) into a private folder
// inside the inbox, so that the copy is what gets filed: the caller's own
// file is never moved or removed. Drain is a Scan that does not wait for
// files to settle, for a one-off run.
package inbox
