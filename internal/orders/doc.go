// Package orders reads the order and return exports a seller drops into the
// inbox and turns them into Orders: the facts about one order, merged over
// every row and file that mentioned it.
//
// It is pure: it reads from an io.Reader and returns values. It knows nothing
// of the ledger, the network or the clock.
//
// # Reading a file
//
// Inspect reads a file once, streaming, for its SHA-256, size and encoding
// (UTF-8, Windows-1252 or Shift_JIS/CP932; a UTF-8 file with a few bad
// bytes stays UTF-8). Parse then reads it again:
//
//   - the report kind comes from the header names (case-insensitive, in any
//     order, unknown columns ignored): All Orders, FBA Amazon Fulfilled
//     Shipments, MFN Order Report, Unshipped Orders, seller-fulfilled returns,
//     FBA customer returns, or a generic CSV whose columns Options.Columns maps;
//   - the delimiter is the most frequent of tab, comma and semicolon in the
//     header line. Tab files are Amazon's unquoted TSV: a line is a row and a
//     quote is just a character. Comma and semicolon files follow RFC 4180,
//     leniently (quoted fields may hold separators, quotes and line breaks,
//     as spreadsheets write them). A quoted cell that runs past its line is
//     taken as one cell over several lines only while that holds together:
//     it closes within 100 lines, no line on the way looks like a row of its
//     own (an order id and the header's field count), and the record then
//     has the header's fields. Otherwise the quote is unbalanced (a stray "
//     in a hand-edited file): that row is rejected and the lines after it
//     are read as rows of their own, so one stray quote costs one row;
//   - LF, CRLF and lone CR all end a line, a UTF-8 BOM is dropped, legacy
//     encodings are decoded with golang.org/x/text;
//   - rows are grouped: every run of adjacent rows with one order id becomes
//     one Order (its rows folded by Merge's rules; an order is excluded as
//     cancelled only when every item of the run is) handed to the caller's
//     emit function. An order seen again further down is emitted again;
//     Merge makes that safe.
//
// A gzip stream (how Amazon's Reports API serves documents) is told by its
// magic bytes, not its name, and decompressed as it is read: Inspect hashes
// the compressed bytes it was given and sniffs the encoding of the text;
// Parse is given the same bytes. The text may expand to at most 100 times
// the compressed bytes read so far, plus 64 MiB (a gzip bomb is refused).
// A damaged stream (cut off, corrupted) is rejected whole with
// ErrNotReport before anything is emitted when the reader can seek (Parse
// reads the stream through once first and seeks back); otherwise it is an
// error where the damage is met.
//
// Memory does not grow with the file: Parse holds one row and one order
// group at a time (a record is limited to 1 MiB).
//
// # Rows that are wrong
//
// A row with an invalid order id (spreadsheet damage such as 5.8E+13), an
// unparsable date, an empty purchase date, or more fields than the header
// (unless the extra ones are blank) or fewer (a file cut off mid-copy; only
// MFN promotion continuation lines may be short) is rejected with its line
// and column in the Summary; the good rows go on. So is a row of a UTF-8
// file whose cells campaignd reads hold bytes that are not UTF-8 (a row
// pasted from a Windows-1252 file): such text is never guessed at.
//
// Each rejected row carries a Cause. The Summary lists the first 1000
// rejected rows, and counts all of them by cause and column (Causes), so
// that RejectedSummary can tell 40 rows of one fault in one line, with a
// hint where the fault is recognisable: dates or order ids rewritten by a
// spreadsheet, a file cut off, a stray quote, text pasted from a file in
// another encoding.
//
// A file that is empty, binary, a damaged gzip stream, has no recognisable
// header or no order-id column, or has a header and no rows is rejected
// whole with ErrNotReport, before anything is emitted.
//
// # What the reports say
//
// Exclusions come from the data itself: a cancelled order or item, an MCF
// order (S0… id or sales channel Non-Amazon), a return or refund (the return
// reports, or All Orders sub-statuses such as "Shipped - Returned to Seller"),
// and the carrier outcomes Rejected by Buyer, Undeliverable, Lost in Transit
// and Damaged. Each carries a short Because naming the evidence and its line,
// never buyer data. Buyer emails and names are read only when Options asks.
package orders
