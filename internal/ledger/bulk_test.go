package ledger_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"campaignd/internal/ledger"
	"campaignd/internal/orders"
)

// bulkN is how many orders the bulk tests write: with SmallBulks, many
// spilled runs and transactions.
const bulkN = 10_000

func init() { ledger.SmallBulks() }

// late is an order id that sorts after every orderID(i).
const late = "999-9999999-9999999"

// addBulk adds n orders to b: late shipped first, late cancelled last,
// and in between n orders in an order that is not key order.
func addBulk(tb testing.TB, b *ledger.Bulk, n int) {
	tb.Helper()
	must(tb, b.Add(order(late)))
	for i := range n {
		o := order(orderID((i * 7919) % n))
		o.PurchaseDate = t0.Add(time.Duration(i%1000) * time.Minute)
		must(tb, b.Add(o))
	}
	cancel := order(late)
	cancel.Excluded, cancel.Because = orders.ExcludedCancelled, "order-status Cancelled"
	must(tb, b.Add(cancel))
}

// A bulk write large enough for several transactions gives the same ledger
// as the orders one by one would: every order once, each with all its rows
// merged (late's cancellation, at the end, excludes it), every index and
// counter right, and the file recorded.
func TestBulkLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 130,000 orders")
	}
	const n = bulkN
	l := MustOpen(t)
	b := l.Bulk("")
	defer b.Close()
	addBulk(t, b, n)
	f := ledger.FileRecord{SHA256: "f1", Name: "big.txt", IngestedAt: t0, Outcome: "processed"}
	st, err := b.Commit(context.Background(), decide, t0.Add(time.Hour), &f)
	must(t, err)
	if st.New != n+1 {
		t.Fatalf("stats = %+v", st)
	}
	wantState(t, l, key(late), ledger.Excluded)
	c, err := l.Counts()
	must(t, err)
	if c.Total != n+1 || c.ByState[ledger.Scheduled] != n {
		t.Errorf("counts = %+v", c)
	}
	if _, ok, _ := l.File("f1"); !ok {
		t.Error("file not recorded")
	}
	if due := dueIDs(t, l, t0.Add(6*day)); len(due) != n {
		t.Errorf("%d due, want %d", len(due), n)
	}

	// the same orders again, a later report: nothing changes but what did
	b2 := l.Bulk("")
	defer b2.Close()
	for i := range n {
		o := order(orderID(i))
		o.PurchaseDate = time.Time{}
		if i%10 == 0 {
			o.Excluded = orders.ExcludedReturned
		}
		must(t, b2.Add(o))
	}
	st, err = b2.Commit(context.Background(), decide, t0.Add(2*time.Hour), nil)
	must(t, err)
	if st.Updated != n/10 || st.Unchanged != n-n/10 {
		t.Errorf("second report: %+v", st)
	}
	ev := lastEvent(t, l, key(orderID(10)))
	if ev.From != ledger.Scheduled || ev.To != ledger.Excluded || ev.Actor != "ingest" {
		t.Errorf("event of a returned order = %+v", ev)
	}
}

// A bulk write cancelled between its transactions finishes the indexes of
// what it wrote, records no file, and leaves a ledger that passes Check.
func TestBulkCancelled(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 130,000 orders")
	}
	l := MustOpen(t)
	b := l.Bulk("")
	defer b.Close()
	addBulk(t, b, bulkN)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := b.Commit(ctx, decide, t0, &ledger.FileRecord{SHA256: "f1", Name: "big.txt", IngestedAt: t0, Outcome: "processed"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("commit = %v, want context.Canceled", err)
	}
	if _, ok, _ := l.File("f1"); ok {
		t.Error("a cancelled write recorded its file")
	}
	c, err := l.Counts()
	must(t, err)
	if c.Total == 0 || c.Total > bulkN+1 {
		t.Errorf("counts after one transaction = %+v", c)
	}
	// MustOpen's cleanup runs Check
}

// bulkChildEnv makes TestBulkKilledChild write a large bulk into the
// ledger it names, in a child process the parent kills.
const bulkChildEnv = "CAMPAIGND_TEST_BULK_CHILD"

func TestBulkKilledChild(t *testing.T) {
	path := os.Getenv(bulkChildEnv)
	if path == "" {
		t.Skip("run by TestBulkCrash")
	}
	l, err := ledger.Open(path, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	b := l.Bulk("")
	defer b.Close()
	addBulk(t, b, bulkN)
	// report progress (orders committed) for the parent to kill on
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		last := -1
		for {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Microsecond):
			}
			if c, err := l.Counts(); err == nil && c.Total != last {
				last = c.Total
				fmt.Println("orders", last)
			}
		}
	}()
	f := ledger.FileRecord{SHA256: "f1", Name: "big.txt", IngestedAt: t0, Outcome: "processed"}
	if _, err := b.Commit(context.Background(), decide, t0.Add(time.Hour), &f); err != nil {
		t.Fatal(err)
	}
}

// A bulk write killed at any point leaves a ledger that opens, repairs its
// indexes and passes Check; an order is either absent or has every row of
// the file merged (late, cancelled at the end, is never scheduled); no
// file record without all its orders; and writing the same report again
// completes it. The child is killed once a given share of the orders is
// committed: after the first records transaction, in the middle, and with
// all records written but the indexes not (or not all).
func TestBulkCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 10,000 orders five times")
	}
	for round, frac := range []float64{-1, 0.01, 0.5, 0.8, 1} {
		t.Run(strconv.Itoa(round), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "campaignd.db")
			l, err := ledger.Open(path, ledger.Options{})
			must(t, err)
			must(t, l.Close())
			runBulkChild(t, path, int(frac*(bulkN+1)))
			l = MustOpenPath(t, path) // repairs, and Check runs at cleanup
			must(t, l.Check())
			c, err := l.Counts()
			must(t, err)
			_, recorded, err := l.File("f1")
			must(t, err)
			if recorded && c.Total != bulkN+1 {
				t.Fatalf("file recorded with %d orders", c.Total)
			}
			if rec, ok, err := l.Get(key(late)); err != nil || (ok && rec.State != ledger.Excluded) {
				t.Fatalf("late is %s (%s), %v", rec.State, rec.Reason, err)
			}
			t.Logf("killed with %d orders written, file recorded: %v", c.Total, recorded)
			b := l.Bulk("")
			defer b.Close()
			addBulk(t, b, bulkN)
			_, err = b.Commit(context.Background(), decide, t0.Add(time.Hour), &ledger.FileRecord{SHA256: "f1", Name: "big.txt", IngestedAt: t0, Outcome: "processed"})
			must(t, err)
			if c, _ := l.Counts(); c.Total != bulkN+1 || c.ByState[ledger.Scheduled] != bulkN {
				t.Errorf("after writing it again: %+v", c)
			}
		})
	}
}

// runBulkChild runs TestBulkKilledChild on path and kills it once it
// reports killAt orders committed (killAt < 0: lets it finish).
func runBulkChild(t *testing.T, path string, killAt int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBulkKilledChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), bulkChildEnv+"="+path)
	out, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		var n int
		if _, err := fmt.Sscanf(sc.Text(), "orders %d", &n); err == nil && killAt >= 0 && n >= killAt {
			_ = cmd.Process.Kill()
			break
		}
	}
	go io.Copy(io.Discard, out)
	if err := cmd.Wait(); err != nil && killAt < 0 {
		t.Fatalf("child: %v", err)
	}
}
