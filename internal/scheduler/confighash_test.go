package scheduler_test

import (
	"testing"
	"time"

	"campaignd/internal/scheduler"
)

// The rules' hash changes with anything a decision reads, and only then.
func TestRulesHash(t *testing.T) {
	base := testRules().Hash()
	if again := testRules().Hash(); again != base {
		t.Fatalf("the same rules hash differently: %s, %s", base, again)
	}
	for name, edit := range map[string]func(*scheduler.Rules){
		"window":        func(r *scheduler.Rules) { r.Window = 20 * 24 * time.Hour },
		"quiet hours":   func(r *scheduler.Rules) { r.QuietFrom, r.QuietTo = 21*60, 8*60 },
		"delay":         func(r *scheduler.Rules) { r.Campaigns[0].Delay = 6 * 24 * time.Hour },
		"transit":       func(r *scheduler.Rules) { r.Campaigns[1].Transit = time.Hour },
		"channel":       func(r *scheduler.Rules) { r.Campaigns[0].Channel = "smtp" },
		"marketplaces":  func(r *scheduler.Rules) { r.Campaigns[1].Markets = append(r.Campaigns[1].Markets, "Amazon.co.jp") },
		"a campaign":    func(r *scheduler.Rules) { r.Campaigns = r.Campaigns[:1] },
		"excluded sku":  func(r *scheduler.Rules) { r.SKUs["OTHER"] = true },
		"excluded asin": func(r *scheduler.Rules) { delete(r.ASINs, "B0BLOCKED") },
		"order list":    func(r *scheduler.Rules) { r.Orders["111-0000000-0000010"] = true },
		"block list":    func(r *scheduler.Rules) { r.BuyerEmail["x@marketplace.amazon.de"] = true },
	} {
		r := testRules()
		edit(&r)
		if r.Hash() == base {
			t.Errorf("changing the %s leaves the hash as it was", name)
		}
	}
}

// A reload records the hash of the rules it put in force, so the next
// start does not re-decide again; a start with other rules does.
func TestResumeAfterSwap(t *testing.T) {
	e := newEnv(t)
	now := at("2026-11-03T12:00:00Z")
	if r, err := e.engine.Resume(now); err != nil || !r.Redecided || r.Recorded {
		t.Fatalf("first start on a ledger with no hash: %+v, %v", r, err)
	}
	if r, err := e.engine.Resume(now); err != nil || r.Redecided {
		t.Fatalf("second start with the same rules: %+v, %v", r, err)
	}
	s := e.engine.Setup()
	other := *s
	other.Rules.Window = 20 * 24 * time.Hour
	if _, err := e.engine.Swap(&other, now); err != nil {
		t.Fatal(err)
	}
	if r, err := e.engine.Resume(now); err != nil || r.Redecided {
		t.Fatalf("start after a reload: %+v, %v", r, err)
	}
	e.engine.Setup().Rules.Window = 25 * 24 * time.Hour // as a config edited while stopped
	if r, err := e.engine.Resume(now); err != nil || !r.Redecided || !r.Recorded {
		t.Fatalf("start with other rules: %+v, %v", r, err)
	}
	if _, err := e.engine.Swap(s, now); err != nil {
		t.Fatal(err)
	}
	got, err := e.ledger.ConfigHash()
	if err != nil || got != s.Rules.Hash() {
		t.Fatalf("recorded hash %q, want the rules in force (%v)", got, err)
	}
}
