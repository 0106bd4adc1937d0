package scheduler_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"campaignd/internal/ledger"
	"campaignd/internal/ledger/benchgen"
	"campaignd/internal/scheduler"
)

// report returns an All Orders file of n delivered orders, ids from first.
func report(first, n int, status string) string {
	var b strings.Builder
	b.WriteString(header)
	for i := first; i < first+n; i++ {
		b.WriteString(row(fmt.Sprintf("111-%07d-%07d", i, i), "2026-11-01T10:00:00Z", "2026-11-04T10:00:00Z", status, "Amazon.com", "Mug", "Shipped"))
	}
	return b.String()
}

func writeReport(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A report rewritten in place between its hashing and its parsing is not
// ingested at all (its rows and its hash would not belong together); once
// it is stable, the next try ingests it with its own hash.
func TestIngestFileChangedWhileRead(t *testing.T) {
	e := newEnv(t)
	path := filepath.Join(e.dir, "orders.txt")
	first, second := report(0, 3, "Shipped - Delivered to Buyer"), report(100, 5, "Shipped - Delivered to Buyer")
	writeReport(t, path, first)
	restore := scheduler.SetIngestHooks(func(string) {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			t.Error(err)
			return
		}
		f.WriteString(second) // the same inode, new bytes
		f.Close()
	}, nil)
	_, err := e.engine.Ingest(context.Background(), path, at("2026-11-05T00:00:00Z"))
	restore()
	if !errors.Is(err, scheduler.ErrChanged) {
		t.Fatalf("ingest of a file rewritten while read: %v, want ErrChanged", err)
	}
	if c, _ := e.ledger.Counts(); c.Total != 0 {
		t.Fatalf("%d orders ingested from a file that changed while read", c.Total)
	}
	if files, _ := e.ledger.RecentFiles(5); len(files) != 0 {
		t.Fatalf("file recorded: %+v", files)
	}
	rep, err := e.engine.Ingest(context.Background(), path, at("2026-11-05T00:00:00Z"))
	if err != nil || rep.Stats.New != 5 {
		t.Fatalf("retry: %+v, %v", rep.Stats, err)
	}
	wantFile(t, e.ledger, rep.Info.SHA256, 5)
}

// A report replaced by another (renamed over it) after it was opened is
// read whole from the descriptor that was opened: the ledger records that
// file's hash with that file's rows, and the replacement is ingested on its
// own afterwards instead of being taken for the same bytes.
func TestIngestFileReplacedWhileRead(t *testing.T) {
	e := newEnv(t)
	path := filepath.Join(e.dir, "orders.txt")
	writeReport(t, path, report(0, 3, "Shipped - Delivered to Buyer"))
	restore := scheduler.SetIngestHooks(func(string) {
		next := filepath.Join(e.dir, "next.txt")
		writeReport(t, next, report(100, 5, "Shipped - Delivered to Buyer"))
		if err := os.Rename(next, path); err != nil {
			t.Error(err)
		}
	}, nil)
	rep, err := e.engine.Ingest(context.Background(), path, at("2026-11-05T00:00:00Z"))
	restore()
	if err != nil || rep.Stats.New != 3 {
		t.Fatalf("ingest: %+v, %v", rep.Stats, err)
	}
	wantFile(t, e.ledger, rep.Info.SHA256, 3)
	rep2, err := e.engine.Ingest(context.Background(), path, at("2026-11-05T00:00:00Z"))
	if err != nil || rep2.Duplicate || rep2.Stats.New != 5 {
		t.Fatalf("the replacement: duplicate=%v %+v, %v", rep2.Duplicate, rep2.Stats, err)
	}
	if c, _ := e.ledger.Counts(); c.Total != 8 {
		t.Errorf("counts = %+v", c)
	}
}

func wantFile(t *testing.T, l *ledger.Ledger, sha string, orders int) {
	t.Helper()
	f, ok, err := l.File(sha)
	if err != nil || !ok || f.Orders != orders || f.Outcome != "processed" {
		t.Fatalf("file %s: %+v %v %v, want %d orders", sha, f, ok, err, orders)
	}
}

// An order shipped at the top of a file and cancelled at its bottom is
// never sent, even by a pass that runs while the file is being read: no
// order of a file is written, so none can be due, before the whole file
// has been read and each order's rows merged.
func TestIngestNothingDueBeforeTheWholeFile(t *testing.T) {
	e := newEnv(t)
	var b strings.Builder
	b.WriteString(header)
	b.WriteString(row("111-9999999-9999999", "2026-11-01T10:00:00Z", "2026-11-04T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", "Mug", "Shipped"))
	for i := range 1100 { // more than a transaction's worth of rows in the old write path
		b.WriteString(row(fmt.Sprintf("111-%07d-%07d", i, i), "2026-11-01T10:00:00Z", "2026-11-04T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", "Mug", "Shipped"))
	}
	b.WriteString(row("111-9999999-9999999", "2026-11-01T10:00:00Z", "2026-11-05T10:00:00Z", "Cancelled", "Amazon.com", "Mug", "Cancelled"))
	path := filepath.Join(e.dir, "orders.txt")
	writeReport(t, path, b.String())
	now := at("2026-11-20T00:00:00Z")
	passes := 0
	restore := scheduler.SetIngestHooks(nil, func(string) {
		// the rows are read, nothing is written: a pass finds nothing due
		st, err := e.engine.Pass(context.Background(), now)
		if err != nil || st.Due != 0 {
			t.Errorf("pass before the file's write: %+v, %v", st, err)
		}
		passes++
	})
	rep, err := e.engine.Ingest(context.Background(), path, now)
	restore()
	if err != nil || rep.Stats.New != 1101 || passes != 1 {
		t.Fatalf("ingest: %+v, %v (passes %d)", rep.Stats, err, passes)
	}
	if r := e.state("111-9999999-9999999"); r.State != ledger.Excluded {
		t.Fatalf("the order cancelled at the bottom is %s (%s)", r.State, r.Reason)
	}
	for i := 0; i < 10 && e.pass(now).Due > 0; i++ { // batches of schedule.batch_size
	}
	for _, name := range e.outbox() {
		if strings.HasPrefix(name, "111-9999999-9999999") {
			t.Fatal("the cancelled order was sent")
		}
	}
	if got := len(e.outbox()); got != 1100 {
		t.Errorf("%d messages, want 1100", got)
	}
}

// TestIngestBenchReports ingests the benchmark's reports at a small size
// (scripts/bench ingest runs them at 1,000,000): a first report large
// enough for several ledger transactions, then a by-last-update report of
// its newest orders, changed, and as many new ones.
func TestIngestBenchReports(t *testing.T) {
	if testing.Short() {
		t.Skip("ingests 36,000 orders")
	}
	e := newEnv(t)
	now := at("2026-11-29T12:00:00Z")
	start := now.AddDate(0, 0, -27).Truncate(24 * time.Hour)
	gen := func(name string, opt benchgen.Options) string {
		opt.Start = start
		p := filepath.Join(e.dir, name)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := benchgen.Write(f, opt); err != nil {
			t.Fatal(err)
		}
		f.Close()
		return p
	}
	const n, m = 32_000, 2_000
	rep, err := e.engine.Ingest(context.Background(), gen("all.txt", benchgen.Options{N: n}), now)
	if err != nil || rep.Stats.New != n-n/1000 || rep.Summary.RejectedCount < n/1000 {
		t.Fatalf("first report: %+v %+v, %v", rep.Stats, rep.Summary.RejectedCount, err)
	}
	rep, err = e.engine.Ingest(context.Background(), gen("upd.txt", benchgen.Options{First: n - m, N: 2 * m, Later: true}), now.Add(time.Hour))
	st := rep.Stats
	if err != nil || st.New != m-m/1000 || st.Updated+st.Unchanged+st.Frozen != m-m/1000 || st.Updated == 0 {
		t.Fatalf("update report: %+v, %v", st, err)
	}
	c, err := e.ledger.Counts()
	if err != nil || c.Total != n+m-(n+m)/1000 {
		t.Fatalf("counts = %+v, %v", c, err)
	}
}

// TestIngestFile ingests the report named by $CAMPAIGND_INGEST_FILE into a
// new ledger with an outbox campaign, for timing and profiling by hand
// (go test -run 'TestIngestFile$' -v -cpuprofile ...). It reads the file
// once through the parser alone first, so the log shows the ledger's part
// (everything after the parser's emit) apart.
func TestIngestFile(t *testing.T) {
	file := os.Getenv("CAMPAIGND_INGEST_FILE")
	if file == "" {
		t.Skip("set CAMPAIGND_INGEST_FILE")
	}
	e := newEnv(t)
	start := time.Now()
	sum, err := scheduler.ParseOnly(file)
	if err != nil {
		t.Fatal(err)
	}
	parse := time.Since(start)
	start = time.Now()
	rep, err := e.engine.Ingest(context.Background(), file, time.Now().UTC())
	if err != nil {
		t.Fatal(err)
	}
	all := time.Since(start)
	t.Logf("%d orders: hash+parse %s, ingest %s, after emit %s (%.2f µs an order)", sum.Groups, parse, all, all-parse,
		float64((all-parse).Microseconds())/float64(sum.Groups))
	t.Logf("%+v", rep.Stats)
}

// A gzip report cut off in the middle is rejected whole at once (the file
// is at fault, so retrying cannot help), and none of its orders, not even
// those before the cut, reach the ledger.
func TestIngestCutGzipRejected(t *testing.T) {
	e := newEnv(t)
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write([]byte(report(0, 2000, "Shipped - Delivered to Buyer")))
	zw.Close()
	path := filepath.Join(e.dir, "orders.txt.gz")
	writeReport(t, path, string(z.Bytes()[:z.Len()/2]))
	rep, err := e.engine.Ingest(context.Background(), path, at("2026-11-05T00:00:00Z"))
	if err != nil {
		t.Fatalf("ingest of a cut gzip report: %v (it would be retried for ever)", err)
	}
	if !rep.Rejected || !strings.Contains(rep.Reason, "orders.txt.gz") {
		t.Errorf("report = rejected %v, reason %q; want it rejected, naming the file", rep.Rejected, rep.Reason)
	}
	if c, _ := e.ledger.Counts(); c.Total != 0 {
		t.Errorf("%d orders ingested from a cut gzip report", c.Total)
	}
}
