package scheduler

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// decideVersion names the logic of Rules.Decide: raise it whenever Decide
// would decide the same order differently under the same configuration, so
// that the first start of the new build re-decides the open orders.
const decideVersion = 3

// Hash identifies everything Decide depends on: the window, quiet hours,
// each campaign (its marketplaces, channel, delay and transit time), the
// exclusion and block lists, and the version of Decide's own logic. Two
// configurations with the same hash decide every order alike. Templates
// are not part of it: no decision reads them (a template is rendered, and
// checked, when its order is sent).
func (r Rules) Hash() string {
	b, err := json.Marshal(struct {
		Version int
		Rules   Rules
	}{decideVersion, r}) // maps marshal with sorted keys
	if err != nil {
		panic(fmt.Sprintf("hash the rules: %v", err)) // plain data: cannot happen
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Resumed says what Resume did.
type Resumed struct {
	Redecided bool // the open orders were re-decided
	Changed   int  // how many of them changed
	// Recorded is true when the ledger held the hash of other rules (a
	// configuration edited while campaignd was stopped), false when it held
	// none (a new ledger, or one from a build that kept none).
	Recorded bool
}

// Resume brings the open orders in line with the setup in force at
// start-up: when the rules differ from those the ledger's orders were last
// decided with (a config edited while campaignd was stopped, or a ledger
// that recorded none), it re-decides every waiting, scheduled and excluded
// order exactly as a reload does, and records the rules' hash. It runs
// before the first pass.
func (e *Engine) Resume(now time.Time) (Resumed, error) {
	e.passMu.Lock()
	defer e.passMu.Unlock()
	s := e.Setup()
	h := s.Rules.Hash()
	old, err := e.Ledger.ConfigHash()
	if err != nil || old == h {
		return Resumed{}, err
	}
	r := Resumed{Redecided: true, Recorded: old != ""}
	if r.Changed, err = e.Ledger.Redecide(s.Decide, now); err != nil {
		return r, fmt.Errorf("re-decide orders: %w", err)
	}
	return r, e.Ledger.SetConfigHash(h, now)
}
