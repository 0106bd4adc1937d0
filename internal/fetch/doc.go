// Package fetch fills the inbox from Amazon's Reports API (2021-06-30), so
// that nobody has to download order reports by hand. The watched folder
// stays the one way in: a fetched report is written into the inbox and read
// by the same code as a file dropped there.
//
// # The flow
//
// For every configured report type and marketplace (a stream, Key), a Run:
//
//  1. requests a report with createReport (reportType, one marketplaceId,
//     dataStartTime, dataEndTime), unless an earlier run left one pending;
//  2. polls getReport, waiting PollFirst and then twice as long each time,
//     until the report is DONE, CANCELLED or FATAL;
//  3. for DONE, asks getReportDocument for the document's presigned URL and
//     downloads it at once (the URL lasts five minutes), without the access
//     token; a refused (expired) URL, a cut-off body or a broken gzip stream
//     is downloaded again with a fresh URL;
//  4. writes it into the inbox as a hidden ".part" file, fsyncs it, checks
//     it and renames it into place as REPORT_TYPE.MARKETPLACE_ID.REPORT_ID.txt
//     (".txt.gz" when Amazon served it compressed), then fsyncs the folder;
//  5. hands the file to Ingest, and only when Ingest has taken it records the
//     report's range as fetched.
//
// CANCELLED means Amazon had no data for the range; so does a DONE document
// with nothing but its header (which is not written, so that the inbox does
// not reject it as empty). Either way the range counts as fetched. FATAL
// fetches the error document, if there is one, and reports its text; the
// next run requests a new report for the same range.
//
// # Compressed documents are kept compressed
//
// A document Amazon serves gzip-compressed (compressionAlgorithm GZIP) is
// written as it came, named ".txt.gz": the inbox reads gzip transparently,
// with its own bound on the decompressed size, so there is one decompressor
// to trust instead of two; the file keeps the exact bytes Amazon served;
// and the processed folder, which keeps every report, stays about ten times
// smaller. The fetcher still reads the whole stream before renaming the
// file into place, which checks gzip's CRC and length, so a damaged
// download never reaches the inbox.
//
// # No gaps, no repeats
//
// A State keeps a ReportState per stream: the data range fetched so far
// without a gap, the pending report and the last reports done, the last
// error. The first report of a stream covers the whole Window (30 days);
// each later one starts where the fetched range ends, less the report
// type's Overlap (Amazon puts some events into a report late), and ends
// now. A report type that filters by order date (WholeWindow) covers the
// whole window every time. A pending report is saved before it is polled:
// a restart, a crash or a run that stops waiting picks the same report up
// again instead of requesting another. A failed run leaves its error in the
// state (for status) and the next run tries again. Reports fetched twice
// over an overlap are harmless: the ledger takes the same order twice as
// one.
//
// # Usage plans
//
// Each operation keeps to its own published usage plan with a token bucket
// (golang.org/x/time/rate): createReport and getReportDocument 0.0167
// requests/s with a burst of 15, getReport 2/s with a burst of 15. The rate
// Amazon reports in x-amzn-RateLimit-Limit replaces the published one. A
// 429 empties the bucket and is retried with backoff, as are 5xx answers
// and network errors; a 401 or 403 is retried once with a fresh access
// token (Tokens.Invalidate). Pacing and waits read the real, monotonic clock
// through Config.Clock and Config.Sleep; the run's time is the now given to
// Run, and tests replace all three.
//
// Tokens come from the Tokens interface (satisfied by *lwa.Source, shared
// with the spapi channel). Nothing here logs report contents, buyer data or
// secrets; logs name report types, marketplaces, report ids and files.
//
// Package fetchtest is a local Amazon that follows the Reports API model,
// for tests of this package and of the campaignd binary.
package fetch
