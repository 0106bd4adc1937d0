package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// With the smtp channel, an order whose reports carried no relay address
// (an All Orders report has none) is not "to send": ingest, plan and
// status say it is held for it, and a shipments report that carries the
// address makes it due.
func TestSMTPOrdersWithoutRelayAreHeld(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := smtpConfig(t, dir, 1, "") // nothing listens: nothing is sent here
	f := writeFile(t, filepath.Join(dir, "drop", "all.txt"), ordersReport("111-0000001-0000001", "111-0000002-0000002"))
	r := cli(t, "ingest", "--config", cfg, f)
	if r.code != 0 || !strings.Contains(r.stdout, "2 orders held: no buyer relay address") || !strings.Contains(r.stdout, "FBA Amazon Fulfilled Shipments") {
		t.Fatalf("ingest: exit %d, does not say the orders are held for a relay address\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = cli(t, "plan", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "0 to send") || strings.Count(r.stdout, "no buyer relay address") < 1 {
		t.Fatalf("plan: exit %d, counts the orders without a relay address as to send\n%s%s", r.code, r.stdout, r.stderr)
	}
	if st := cli(t, "status", "--config", cfg); !strings.Contains(st.stdout, "waiting:  2 no buyer relay address") {
		t.Fatalf("status does not hold them for a relay address:\n%s", st.stdout)
	}

	// The FBA shipments report carries the address of one of them.
	ship := writeFile(t, filepath.Join(dir, "drop", "ship.txt"),
		"amazon-order-id\tshipment-id\tpurchase-date\tshipment-date\tbuyer-email\tsku\tproduct-name\testimated-arrival-date\tsales-channel\n"+
			"111-0000001-0000001\tS1\t2026-11-01T10:00:00Z\t2026-11-02T10:00:00Z\tabc@marketplace.amazon.com\tSKU-1\tWater Bottle\t2026-11-04T10:00:00Z\tAmazon.com\n")
	if r := cli(t, "ingest", "--config", cfg, ship); r.code != 0 || strings.Contains(r.stdout, "relay") {
		t.Fatalf("ingest of the shipments report: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = cli(t, "plan", "--config", cfg, "--json")
	var p planView
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil || r.code != 0 {
		t.Fatalf("plan --json: exit %d, %v\n%s", r.code, err, r.stdout)
	}
	if len(p.Send) != 1 || p.Send[0].OrderID != "111-0000001-0000001" || len(p.Hold) != 1 || p.Hold[0].Class != "no_relay" {
		t.Fatalf("plan after the shipments report: %+v", p)
	}
}
