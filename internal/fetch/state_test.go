package fetch_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"campaignd/internal/fetch"
	"campaignd/internal/fetch/fetchtest"
)

// The ledger stores a ReportState as JSON: it must come back the same, with
// the documented field names.
func TestReportStateRoundTripsThroughJSON(t *testing.T) {
	r := fetch.Range{Start: t0.Add(-30 * 24 * time.Hour), End: t0}
	in := fetch.ReportState{
		Key:         key(fetch.AllOrdersByLastUpdate, us),
		Fetched:     r,
		Pending:     &fetch.Pending{ReportID: "50013019010", Range: r, RequestedAt: t0, Status: "IN_PROGRESS", Attempts: 1},
		Ingested:    []fetch.Done{{ReportID: "50013019009", Range: r, At: t0, File: "x.txt.gz"}},
		LastAttempt: t0, LastSuccess: t0.Add(-4 * time.Hour), LastError: "temporary failure", Failures: 2,
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"report_type":`, `"marketplace_id":`, `"fetched":`, `"pending":`, `"report_id":`, `"ingested":`, `"last_attempt":`, `"last_success":`, `"last_error":`, `"failures":`} {
		if !strings.Contains(string(b), field) {
			t.Errorf("JSON lacks %s: %s", field, b)
		}
	}
	var out fetch.ReportState
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip changed the state:\n in %+v\nout %+v", in, out)
	}
	empty, _ := json.Marshal(fetch.ReportState{Key: in.Key})
	if strings.Contains(string(empty), "pending") || strings.Contains(string(empty), "last_attempt") {
		t.Errorf("a fresh state carries empty fields: %s", empty)
	}
}

// MemState hands out copies: changing what Load returned changes nothing
// until Save.
func TestMemStateCopies(t *testing.T) {
	var m fetch.MemState
	ctx := context.Background()
	k := key(fetch.FBACustomerReturns, us)
	st, _ := m.Load(ctx, k)
	if st.Key != k || st.Pending != nil {
		t.Fatalf("fresh state %+v", st)
	}
	st.Pending = &fetch.Pending{ReportID: "1"}
	st.Ingested = []fetch.Done{{ReportID: "0"}}
	if err := m.Save(ctx, st); err != nil {
		t.Fatal(err)
	}
	st.Pending.ReportID = "2"
	st.Ingested[0].ReportID = "changed"
	got, _ := m.Load(ctx, k)
	if got.Pending.ReportID != "1" || got.Ingested[0].ReportID != "0" {
		t.Errorf("MemState shares memory with the caller: %+v", got)
	}
	if err := m.Save(ctx, fetch.ReportState{}); err == nil {
		t.Error("saved a state without a key")
	}
	if all := m.All(); len(all) != 1 || all[0].Key != k {
		t.Errorf("All = %+v", all)
	}
}

func TestReportTypes(t *testing.T) {
	for _, name := range fetch.DefaultReports {
		if _, ok := fetch.Lookup(name); !ok {
			t.Errorf("default report %s is unknown", name)
		}
	}
	if _, ok := fetch.Lookup("GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING"); ok {
		t.Error("a restricted report type (needs a Restricted Data Token) is offered")
	}
	rt, _ := fetch.Lookup(fetch.AllOrdersByLastUpdate)
	rt.Roles[0] = "changed"
	if again, _ := fetch.Lookup(fetch.AllOrdersByLastUpdate); again.Roles[0] == "changed" {
		t.Error("Lookup shares the table with its caller")
	}
}

// Summary says in one line how far a stream is fetched, what is pending
// and why the last fetch failed.
func TestSummary(t *testing.T) {
	h := newHarness(t, t0)
	h.amz.SetPlan(func(fetchtest.CreateSpec) fetchtest.Report { return fetchtest.Report{Final: "FATAL"} })
	f := h.fetcher(h.config([]string{fetch.AllOrdersByLastUpdate}, []string{us}))
	f.Run(context.Background(), t0)
	states, err := f.States(context.Background())
	if err != nil || len(states) != 1 {
		t.Fatalf("States = %v, %v", states, err)
	}
	got := states[0].Summary()
	for _, want := range []string{fetch.AllOrdersByLastUpdate + "/" + us, "never fetched", "failed 1 time(s) in a row", "FATAL"} {
		if !strings.Contains(got, want) {
			t.Errorf("Summary %q lacks %q", got, want)
		}
	}
	h.amz.SetPlan(func(fetchtest.CreateSpec) fetchtest.Report {
		return fetchtest.Report{Final: "DONE", Doc: fetchtest.AllOrders(us, 1)}
	})
	mustRun(t, f, t0)
	states, _ = f.States(context.Background())
	if got := states[0].Summary(); got != fetch.AllOrdersByLastUpdate+"/"+us+": fetched to 2026-11-20T11:59:00Z, last success 2026-11-20T12:00:00Z" {
		t.Errorf("Summary = %q", got)
	}
}
