package ledger

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"campaignd/internal/orders"

	bolt "go.etcd.io/bbolt"
)

// schemaVersion is the layout this build reads and writes.
const schemaVersion = 1

// maxProblems bounds the problems bucket: older entries are dropped.
const maxProblems = 1000

// State is where an order is in its life.
type State string

// The states an order can be in.
const (
	Waiting   State = "waiting"   // not yet eligible
	Scheduled State = "scheduled" // has a send time
	Claimed   State = "claimed"   // a send is in flight
	Sent      State = "sent"      // the request went
	InDoubt   State = "in_doubt"  // a send may have gone; an operator decides
	Failed    State = "failed"    // a permanent error
	Excluded  State = "excluded"  // ruled out, with a reason
	Expired   State = "expired"   // the deadline passed
)

// States lists every state in display order.
var States = []State{Waiting, Scheduled, Claimed, Sent, InDoubt, Failed, Excluded, Expired}

func (s State) valid() bool {
	for _, v := range States {
		if s == v {
			return true
		}
	}
	return false
}

// final reports whether Upsert and Redecide leave an order in s alone.
func (s State) final() bool {
	switch s {
	case Claimed, Sent, InDoubt, Failed, Expired:
		return true
	}
	return false
}

// decidable reports whether a Decider's verdict applies to an order in s.
func (s State) decidable() bool {
	return s == Waiting || s == Scheduled || s == Excluded
}

// purgesBuyer reports whether an order in s must not hold buyer data.
func (s State) purgesBuyer() bool {
	switch s {
	case Sent, Failed, Excluded, Expired:
		return true
	}
	return false
}

// Key names an order: several seller accounts share one ledger. Account ""
// is the default account.
type Key struct {
	Account string `json:"account"`
	OrderID string `json:"order_id"`
}

// String returns the order id, prefixed with "account/" when the account is
// not the default one.
func (k Key) String() string {
	if k.Account == "" {
		return k.OrderID
	}
	return k.Account + "/" + k.OrderID
}

// Record is what the ledger knows about one order.
type Record struct {
	Key       Key          `json:"key"`
	Order     orders.Order `json:"order"`
	State     State        `json:"state"`
	Reason    string       `json:"reason,omitempty"` // why it is in this state, for humans
	Campaign  string       `json:"campaign,omitempty"`
	Channel   string       `json:"channel,omitempty"`
	SendAt    time.Time    `json:"send_at,omitzero"`  // scheduled: when due
	Deadline  time.Time    `json:"deadline,omitzero"` // no send at or after it; zero if unknown
	Attempts  int          `json:"attempts,omitempty"`
	LastError string       `json:"last_error,omitempty"`
	Refusal   string       `json:"refusal,omitempty"` // last policy refusal of the rendered message
	// NotBefore is set by Retry and Refuse: a send time the rules may not
	// bring forward, so re-ingesting a file or reloading the config does
	// not undo a back-off. Claim clears it.
	NotBefore time.Time `json:"not_before,omitzero"`

	// DeliveringAt is set while claimed when the channel passed its point
	// of no return (SMTP: the server accepted the recipient and DATA is
	// about to start). A claimed order without it certainly did not go.
	DeliveringAt time.Time `json:"delivering_at,omitzero"`

	CreatedAt, UpdatedAt time.Time
	ClaimedAt, SentAt    time.Time `json:",omitzero"`
}

// Decision is what the rules (computed outside the ledger) say a
// not-yet-sent order's state should be: Waiting, Scheduled (with SendAt),
// Excluded or Expired, with Reason, Deadline, Campaign and Channel.
type Decision struct {
	State             State
	Reason            string
	SendAt, Deadline  time.Time
	Campaign, Channel string
}

// Decider computes the Decision for an order's facts at now.
type Decider func(o orders.Order, now time.Time) Decision

// Options configure Open.
type Options struct {
	// Timeout is how long Open waits for the file lock; 0 means 1s. A file
	// locked for longer fails with ErrLocked.
	Timeout time.Duration
	// ReadOnly opens the file with a shared lock and allows no writes. It
	// still needs the writer (the daemon) to be stopped: bbolt locks the
	// file for the writer's whole life.
	ReadOnly bool
}

// Ledger is an open ledger file. Its methods are safe for concurrent use.
type Ledger struct {
	db   *bolt.DB
	path string
}

// The buckets and meta keys (see doc.go for the layout).
const (
	bucketMeta        = "meta"
	bucketOrders      = "orders"
	bucketDue         = "due"
	bucketDeadlines   = "deadlines"
	bucketStates      = "states"
	bucketCounts      = "counts"
	bucketEvents      = "events"
	bucketOrderEvents = "order_events"
	bucketProblems    = "problems"
	bucketFiles       = "files"
	bucketFilesByTime = "files_by_time"

	keySchema   = "schema"
	keyProblems = "problems"
)

// allBuckets lists every bucket a ledger has.
func allBuckets() []string {
	return []string{bucketMeta, bucketOrders, bucketDue, bucketDeadlines, bucketStates,
		bucketCounts, bucketEvents, bucketOrderEvents, bucketProblems, bucketFiles, bucketFilesByTime}
}

// Open opens the ledger at path, creating the file, its folder and its
// buckets if it does not exist. An existing file is never re-created: one
// that is empty, cut short or not a bbolt file fails with ErrDamaged. It
// returns ErrLocked when another process holds the file for longer than
// opt.Timeout and ErrSchema when the file was written by a schema this
// build does not know.
func Open(path string, opt Options) (*Ledger, error) {
	db, err := openBolt(path, opt)
	if err != nil {
		return nil, err
	}
	l := &Ledger{db: db, path: path}
	if opt.ReadOnly {
		err = l.guard(func() error { return db.View(checkSchema) })
	} else {
		err = l.guard(func() error { return db.Update(initSchema) })
	}
	if err != nil {
		_ = db.Close()
		if errors.Is(err, ErrDamaged) {
			return nil, err
		}
		return nil, fmt.Errorf("open ledger %s: %w", path, err)
	}
	return l, nil
}

func initSchema(tx *bolt.Tx) error {
	meta := tx.Bucket([]byte(bucketMeta))
	if meta == nil {
		for _, name := range allBuckets() {
			if tx.Bucket([]byte(name)) != nil {
				return fmt.Errorf("%w: bucket %q without a schema version", ErrSchema, name)
			}
		}
		for _, name := range allBuckets() {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return fmt.Errorf("create bucket %q: %w", name, err)
			}
		}
		return tx.Bucket([]byte(bucketMeta)).Put([]byte(keySchema), []byte(strconv.Itoa(schemaVersion)))
	}
	return checkSchema(tx)
}

func checkSchema(tx *bolt.Tx) error {
	meta := tx.Bucket([]byte(bucketMeta))
	if meta == nil {
		return fmt.Errorf("%w: not a campaignd ledger (no schema version)", ErrSchema)
	}
	v := string(meta.Get([]byte(keySchema)))
	if v != strconv.Itoa(schemaVersion) {
		return fmt.Errorf("%w: file has version %q, this build reads %d", ErrSchema, v, schemaVersion)
	}
	for _, name := range allBuckets() {
		if tx.Bucket([]byte(name)) == nil {
			return fmt.Errorf("%w: bucket %q missing", ErrSchema, name)
		}
	}
	return nil
}

// Close closes the file and releases its lock.
func (l *Ledger) Close() error {
	if err := l.db.Close(); err != nil {
		return fmt.Errorf("close ledger: %w", err)
	}
	return nil
}

// Path returns the file the ledger was opened from.
func (l *Ledger) Path() string { return l.path }

// Get returns the order k, and whether the ledger holds it.
func (l *Ledger) Get(k Key) (Record, bool, error) {
	kb, err := orderKey(k)
	if err != nil {
		return Record{}, false, fmt.Errorf("get order: %w", err)
	}
	var rec Record
	var ok bool
	err = l.view(func(t *txn) error {
		var err error
		rec, ok, err = t.get(kb)
		return err
	})
	if err != nil {
		return Record{}, false, fmt.Errorf("get order %s: %w", k, err)
	}
	return rec, ok, nil
}

// --- keys ---

// orderKey encodes k as account + 0x00 + order id.
func orderKey(k Key) ([]byte, error) {
	if k.OrderID == "" {
		return nil, errors.New("empty order id")
	}
	if strings.IndexByte(k.Account, 0) >= 0 || strings.IndexByte(k.OrderID, 0) >= 0 {
		return nil, fmt.Errorf("order key %q contains a NUL byte", k.String())
	}
	b := make([]byte, 0, len(k.Account)+1+len(k.OrderID))
	b = append(b, k.Account...)
	b = append(b, 0)
	return append(b, k.OrderID...), nil
}

func parseOrderKey(b []byte) (Key, error) {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return Key{}, fmt.Errorf("malformed order key %q", b)
	}
	return Key{Account: string(b[:i]), OrderID: string(b[i+1:])}, nil
}

// timeBytes encodes t as 8-byte big-endian UnixNano, clamped to the range
// an unsigned key can order (the zero time and anything before 1970 sort
// first).
func timeBytes(t time.Time) []byte {
	var n uint64
	switch {
	case t.IsZero() || t.Unix() < 0:
		n = 0
	case t.Unix() >= math.MaxInt64/int64(time.Second):
		n = math.MaxInt64
	default:
		n = uint64(t.UnixNano())
	}
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), n)
}

func timeKey(t time.Time, suffix []byte) []byte {
	return append(timeBytes(t), suffix...)
}

func stateKey(s State, ok []byte) []byte {
	b := make([]byte, 0, len(s)+1+len(ok))
	b = append(b, s...)
	b = append(b, 0)
	return append(b, ok...)
}

func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), n) }

func orderEventKey(ok []byte, seq uint64) []byte {
	b := make([]byte, 0, len(ok)+9)
	b = append(b, ok...)
	b = append(b, 0)
	return binary.BigEndian.AppendUint64(b, seq)
}

// --- transactions ---

// txn is one transaction with its buckets and its one time.
type txn struct {
	tx  *bolt.Tx
	now time.Time

	meta, orders, due, deadlines, states, counts *bolt.Bucket
	events, orderEvents, problems                *bolt.Bucket
	files, filesByTime                           *bolt.Bucket
}

func newTxn(tx *bolt.Tx, now time.Time) *txn {
	t := &txn{
		tx:          tx,
		now:         now.UTC().Round(0),
		meta:        tx.Bucket([]byte(bucketMeta)),
		orders:      tx.Bucket([]byte(bucketOrders)),
		due:         tx.Bucket([]byte(bucketDue)),
		deadlines:   tx.Bucket([]byte(bucketDeadlines)),
		states:      tx.Bucket([]byte(bucketStates)),
		counts:      tx.Bucket([]byte(bucketCounts)),
		events:      tx.Bucket([]byte(bucketEvents)),
		orderEvents: tx.Bucket([]byte(bucketOrderEvents)),
		problems:    tx.Bucket([]byte(bucketProblems)),
		files:       tx.Bucket([]byte(bucketFiles)),
		filesByTime: tx.Bucket([]byte(bucketFilesByTime)),
	}
	if tx.Writable() {
		// events and problems only ever append: fill their pages
		t.events.FillPercent, t.problems.FillPercent = 0.95, 0.95
	}
	return t
}

func (t *txn) get(kb []byte) (Record, bool, error) {
	raw := t.orders.Get(kb)
	if raw == nil {
		return Record{}, false, nil
	}
	var rec Record
	if err := json.Unmarshal(raw, &rec); err != nil {
		return Record{}, false, fmt.Errorf("decode order %q: %w", kb, err)
	}
	return rec, true, nil
}

// mustGet returns the order k or ErrNotFound.
func (t *txn) mustGet(k Key) (Record, error) {
	kb, err := orderKey(k)
	if err != nil {
		return Record{}, err
	}
	rec, ok, err := t.get(kb)
	if err != nil {
		return Record{}, err
	}
	if !ok {
		return Record{}, ErrNotFound
	}
	return rec, nil
}

func inDue(r *Record) bool { return r != nil && r.State == Scheduled }

func inDeadlines(r *Record) bool {
	return r != nil && (r.State == Waiting || r.State == Scheduled) && !r.Deadline.IsZero()
}

// put stores rec, whose previous version is old (nil for a new order), and
// keeps every index and counter in step. It stamps UpdatedAt (and CreatedAt
// for a new order) and drops buyer data in states that must not hold it.
func (t *txn) put(old, rec *Record) error {
	kb, err := orderKey(rec.Key)
	if err != nil {
		return err
	}
	if rec.State.purgesBuyer() {
		rec.Order.ForgetBuyer()
	}
	if old == nil {
		rec.CreatedAt = t.now
	}
	rec.UpdatedAt = t.now
	data, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode order %s: %w", rec.Key, err)
	}
	if err := t.orders.Put(kb, data); err != nil {
		return err
	}
	if old == nil || old.State != rec.State {
		if old != nil {
			if err := t.states.Delete(stateKey(old.State, kb)); err != nil {
				return err
			}
			if err := t.count(old.State, -1); err != nil {
				return err
			}
		}
		if err := t.states.Put(stateKey(rec.State, kb), []byte{}); err != nil {
			return err
		}
		if err := t.count(rec.State, +1); err != nil {
			return err
		}
	}
	if err := reindex(t.due, inDue(old), inDue(rec), old, rec, kb, func(r *Record) time.Time { return r.SendAt }); err != nil {
		return err
	}
	return reindex(t.deadlines, inDeadlines(old), inDeadlines(rec), old, rec, kb, func(r *Record) time.Time { return r.Deadline })
}

// reindex moves kb's entry in a time index from old's time to rec's.
func reindex(b *bolt.Bucket, oldIn, newIn bool, old, rec *Record, kb []byte, at func(*Record) time.Time) error {
	var oldKey, newKey []byte
	if oldIn {
		oldKey = timeKey(at(old), kb)
	}
	if newIn {
		newKey = timeKey(at(rec), kb)
	}
	if bytes.Equal(oldKey, newKey) {
		return nil
	}
	if oldKey != nil {
		if err := b.Delete(oldKey); err != nil {
			return err
		}
	}
	if newKey != nil {
		return b.Put(newKey, []byte{})
	}
	return nil
}

func (t *txn) count(s State, delta int64) error {
	var n int64
	if v := t.counts.Get([]byte(s)); len(v) == 8 {
		n = int64(binary.BigEndian.Uint64(v))
	}
	n += delta
	if n < 0 {
		return fmt.Errorf("counter for %s would go negative", s)
	}
	return t.counts.Put([]byte(s), u64(uint64(n)))
}

// transition stores rec and writes the audit event from old's state to
// rec's. problem also lists the event among the recent problems.
func (t *txn) transition(old, rec *Record, reason, actor string, problem bool) error {
	if err := t.put(old, rec); err != nil {
		return err
	}
	var from State
	if old != nil {
		from = old.State
	}
	return t.event(rec.Key, from, rec.State, reason, actor, problem)
}

func (t *txn) event(k Key, from, to State, reason, actor string, problem bool) error {
	kb, err := orderKey(k)
	if err != nil {
		return err
	}
	seq, err := t.events.NextSequence()
	if err != nil {
		return err
	}
	ev := Event{Seq: seq, Time: t.now, Key: k, From: from, To: to, Reason: reason, Actor: actor}
	data, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	if err := t.events.Put(u64(seq), data); err != nil {
		return err
	}
	if err := t.orderEvents.Put(orderEventKey(kb, seq), []byte{}); err != nil {
		return err
	}
	if !problem {
		return nil
	}
	if err := t.problems.Put(u64(seq), []byte{}); err != nil {
		return err
	}
	var n uint64
	if v := t.meta.Get([]byte(keyProblems)); len(v) == 8 {
		n = binary.BigEndian.Uint64(v)
	}
	n++
	for ; n > maxProblems; n-- {
		c := t.problems.Cursor()
		k, _ := c.First()
		if k == nil {
			break
		}
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return t.meta.Put([]byte(keyProblems), u64(n))
}

// applyDecision sets rec's state from d. The ledger does not trust the
// decider blindly: an order whose facts exclude it is never scheduled, and
// one whose deadline has passed at now is expired.
func applyDecision(rec *Record, d Decision, now time.Time) error {
	switch d.State {
	case Waiting, Scheduled, Excluded, Expired:
	default:
		return fmt.Errorf("decider returned state %q for order %s", d.State, rec.Key)
	}
	if d.State == Scheduled && d.SendAt.IsZero() {
		return fmt.Errorf("decider scheduled order %s without a send time", rec.Key)
	}
	d.SendAt, d.Deadline = utc(d.SendAt), utc(d.Deadline)
	if (d.State == Waiting || d.State == Scheduled) && rec.Order.Excluded != "" {
		d.State, d.SendAt = Excluded, time.Time{}
		d.Reason = "excluded: " + string(rec.Order.Excluded)
		if rec.Order.Because != "" {
			d.Reason += ": " + rec.Order.Because
		}
	}
	if (d.State == Waiting || d.State == Scheduled) && !d.Deadline.IsZero() && !now.Before(d.Deadline) {
		d.State, d.SendAt = Expired, time.Time{}
		d.Reason = "deadline " + d.Deadline.Format(time.RFC3339) + " has passed"
	}
	if d.State == Scheduled && rec.NotBefore.After(d.SendAt) {
		// a back-off holds the send: it, not the rules, says why
		d.SendAt = rec.NotBefore
		if rec.State == Scheduled {
			d.Reason = rec.Reason
		}
	}
	if d.State != Scheduled {
		d.SendAt = time.Time{}
	}
	rec.State, rec.Reason, rec.SendAt, rec.Deadline = d.State, d.Reason, d.SendAt, d.Deadline
	rec.Campaign, rec.Channel = d.Campaign, d.Channel
	return nil
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Round(0)
}

// decisionChanged reports whether a transition from old to rec is worth an
// audit event.
func decisionChanged(old, rec *Record) bool {
	return old.State != rec.State || !old.SendAt.Equal(rec.SendAt) ||
		!old.Deadline.Equal(rec.Deadline) || old.Reason != rec.Reason
}
