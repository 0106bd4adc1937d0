package scheduler_test

import (
	"strings"
	"testing"
)

// A file whose every row is rejected is rejected whole, and recorded so:
// the same bytes again are recognised as the rejected file they are. A
// file with one good row among bad ones is taken.
func TestIngestEveryRowRejected(t *testing.T) {
	e := newEnv(t)
	now := at("2026-11-05T00:00:00Z")
	bad := header +
		row("111-0000001-0000001", "11/15/2026 10:00", "11/16/2026 10:00", "Shipped", "Amazon.com", "Mug", "Shipped") +
		row("111-0000002-0000002", "11/15/2026 10:00", "11/16/2026 10:00", "Shipped", "Amazon.com", "Mug", "Shipped")
	rep := e.ingest("bad.txt", bad, now)
	if !rep.Rejected || !strings.Contains(rep.Reason, "no order could be read") || !strings.Contains(rep.Reason, "Excel") {
		t.Fatalf("report: rejected %v, %q", rep.Rejected, rep.Reason)
	}
	f, ok, err := e.ledger.File(rep.Info.SHA256)
	if err != nil || !ok || f.Outcome != "rejected" || f.Error != rep.Reason || len(f.RowErrors) != 2 {
		t.Fatalf("file record %+v, %v, %v", f, ok, err)
	}
	if again := e.ingest("bad-again.txt", bad, now); !again.Duplicate || !again.Rejected {
		t.Fatalf("the same bytes again: %+v", again)
	}
	if c, _ := e.ledger.Counts(); c.Total != 0 {
		t.Fatalf("a rejected file wrote %d orders", c.Total)
	}
	good := bad + row("111-0000003-0000003", "2026-11-01T10:00:00Z", "2026-11-02T10:00:00Z", "Shipped", "Amazon.com", "Mug", "Shipped")
	if rep := e.ingest("mixed.txt", good, now); rep.Rejected || rep.Summary.RejectedCount != 2 || rep.Stats.New != 1 {
		t.Fatalf("a file with one good row: %+v", rep)
	}
}
