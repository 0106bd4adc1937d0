package ledger

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"campaignd/internal/orders"

	bolt "go.etcd.io/bbolt"
)

// schemaVersion is the layout this build reads and writes. Schema 1 (JSON
// records keyed by order id, one event per change) is converted on the
// first writable Open (see migrate.go).
const schemaVersion = 2

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
	// ExcludedBy names the operator who excluded the order by hand
	// (OperatorExclude); every decision keeps it excluded until
	// OperatorInclude.
	ExcludedBy string `json:"excluded_by,omitempty"`
	// Class is why a waiting or excluded order is held, as a short code
	// ("not_shipped", "cancelled", "no_campaign:Amazon.nl"...) that the
	// ledger counts per state (ReasonCounts); "" in every other state.
	Class string `json:"class,omitempty"`
	// NotBefore is set by Retry and Refuse: a send time the rules may not
	// bring forward, so re-ingesting a file or reloading the config does
	// not undo a back-off. Claim clears it.
	NotBefore time.Time `json:"not_before,omitzero"`

	// DeliveringAt is set while claimed when the channel passed its point
	// of no return (SMTP: the server accepted the recipient and DATA is
	// about to start). A claimed order without it certainly did not go.
	DeliveringAt time.Time `json:"delivering_at,omitzero"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	ClaimedAt time.Time `json:"claimed_at,omitzero"`
	SentAt    time.Time `json:"sent_at,omitzero"`

	oid       uint64    // the ledger's number for the order (orders bucket key)
	lastEvent uint64    // sequence number of the order's newest event, 0 if none
	first     *creation // how a report first created the order, when no event says it
}

// creation is the audit event of an order first seen in a report. It is
// kept in the record rather than the event log, so a million orders read
// from one file cost no million events; Events shows it first. Its time is
// the record's CreatedAt and its actor "ingest".
type creation struct {
	state  State
	reason string
}

// Decision is what the rules (computed outside the ledger) say a
// not-yet-sent order's state should be: Waiting, Scheduled (with SendAt),
// Excluded or Expired, with Reason, Deadline, Campaign and Channel, and for
// a waiting or excluded order the Class of its reason (Record.Class).
type Decision struct {
	State             State
	Reason            string
	Class             string
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
	// wmu is the writer lock: every write holds it, a bulk write for all
	// its transactions, so no other write lands between them.
	wmu sync.Mutex
}

// The buckets and meta keys (see doc.go for the layout).
const (
	bucketMeta        = "meta"
	bucketIDs         = "ids"
	bucketOrders      = "orders"
	bucketDue         = "due"
	bucketDeadlines   = "deadlines"
	bucketStates      = "states"
	bucketCounts      = "counts"
	bucketEvents      = "events"
	bucketProblems    = "problems"
	bucketFiles       = "files"
	bucketFilesByTime = "files_by_time"

	keySchema   = "schema"
	keyProblems = "problems"
	// keyIndexing is set while a bulk write has committed orders whose
	// state, due and deadline index entries are not all written yet; Open
	// rebuilds those indexes when it finds it (after a crash).
	keyIndexing = "indexing"
)

// allBuckets lists every bucket a ledger has.
func allBuckets() []string {
	return []string{bucketMeta, bucketIDs, bucketOrders, bucketDue, bucketDeadlines, bucketStates,
		bucketCounts, bucketEvents, bucketProblems, bucketFiles, bucketFilesByTime}
}

// Open opens the ledger at path, creating the file, its folder and its
// buckets if it does not exist. An existing file is never re-created: one
// that is empty, cut short or not a bbolt file fails with ErrDamaged. A
// ledger of an older schema is converted when opened for writing. It
// returns ErrLocked when another process holds the file for longer than
// opt.Timeout and ErrSchema when the file was written by a schema this
// build does not know.
func Open(path string, opt Options) (*Ledger, error) {
	l, v, err := openAt(path, opt)
	if err != nil {
		return nil, err
	}
	if v == "1" {
		if opt.ReadOnly {
			_ = l.db.Close()
			return nil, fmt.Errorf("open ledger %s: %w: it was written by an older campaignd (schema 1); open it once for writing (campaignd run or ingest) to convert it", path, ErrSchema)
		}
		if err := l.migrate(opt); err != nil {
			_ = l.db.Close()
			return nil, fmt.Errorf("open ledger %s: convert schema 1: %w", path, err)
		}
		_ = l.db.Close()
		if l, v, err = openAt(path, opt); err != nil {
			return nil, err
		}
	}
	if err := l.start(v, opt.ReadOnly); err != nil {
		_ = l.db.Close()
		if errors.Is(err, ErrDamaged) {
			return nil, err
		}
		return nil, fmt.Errorf("open ledger %s: %w", path, err)
	}
	return l, nil
}

// openAt opens the bbolt file and reads its schema version ("" when the
// file has no meta bucket yet).
func openAt(path string, opt Options) (*Ledger, string, error) {
	db, err := openBolt(path, opt)
	if err != nil {
		return nil, "", err
	}
	l := &Ledger{db: db, path: path}
	var v string
	err = l.boltView(func(tx *bolt.Tx) error {
		if meta := tx.Bucket([]byte(bucketMeta)); meta != nil {
			v = string(meta.Get([]byte(keySchema)))
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, "", err
	}
	return l, v, nil
}

// start checks the schema, creates the buckets of a new ledger, and
// rebuilds the indexes a crashed bulk write left unfinished.
func (l *Ledger) start(v string, readOnly bool) error {
	if readOnly {
		return l.boltView(checkSchema)
	}
	if err := l.boltUpdate(initSchema); err != nil {
		return err
	}
	if err := l.repairIndexes(); err != nil {
		return err
	}
	return l.ensureReasons()
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
	return appendOrderKey(make([]byte, 0, len(k.Account)+1+len(k.OrderID)), k.Account, k.OrderID), nil
}

func appendOrderKey(b []byte, account, id string) []byte {
	b = append(b, account...)
	b = append(b, 0)
	return append(b, id...)
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
	return binary.BigEndian.AppendUint64(make([]byte, 0, 16), timeNum(t))
}

func timeNum(t time.Time) uint64 {
	switch {
	case t.IsZero() || t.Unix() < 0:
		return 0
	case t.Unix() >= math.MaxInt64/int64(time.Second):
		return math.MaxInt64
	default:
		return uint64(t.UnixNano())
	}
}

func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), n) }

// --- transactions ---

// txn is one transaction with its buckets and its one time. Counter
// changes gather in deltas and are written once, by finish.
type txn struct {
	tx  *bolt.Tx
	now time.Time

	meta, ids, orders, due, deadlines, states, counts *bolt.Bucket
	events, problems, files, filesByTime              *bolt.Bucket

	deltas  [9]int64            // by state code
	reasons map[reasonKey]int64 // by state and class, for classed states
	days    map[dayKey]int64    // what went out, by day (see daily.go)
	buf     []byte              // scratch for encodings compared, not stored
	chunk   []byte              // values handed to bbolt, which keeps them until commit
}

// keep returns a copy of b that stays valid for the whole transaction:
// bbolt holds on to the values it is given until commit.
func (t *txn) keep(b []byte) []byte {
	if len(b) > cap(t.chunk)-len(t.chunk) {
		t.chunk = make([]byte, 0, max(64<<10, len(b)))
	}
	start := len(t.chunk)
	t.chunk = append(t.chunk, b...)
	return t.chunk[start:len(t.chunk):len(t.chunk)]
}

func newTxn(tx *bolt.Tx, now time.Time) *txn {
	b := func(name string) *bolt.Bucket { return tx.Bucket([]byte(name)) }
	t := &txn{
		tx: tx, now: now.UTC().Round(0),
		meta: b(bucketMeta), ids: b(bucketIDs), orders: b(bucketOrders), due: b(bucketDue),
		deadlines: b(bucketDeadlines), states: b(bucketStates), counts: b(bucketCounts),
		events: b(bucketEvents), problems: b(bucketProblems), files: b(bucketFiles), filesByTime: b(bucketFilesByTime),
	}
	if tx.Writable() {
		// orders and events take new keys at their end: fill their pages
		t.orders.FillPercent, t.events.FillPercent, t.problems.FillPercent = 1, 1, 0.95
	}
	return t
}

// finish writes the counters changed in the transaction.
func (t *txn) finish() error {
	for c, d := range t.deltas {
		if d == 0 {
			continue
		}
		s, _ := stateOf(byte(c))
		var n int64
		if v := t.counts.Get([]byte(s)); len(v) == 8 {
			n = int64(binary.BigEndian.Uint64(v))
		}
		if n+d < 0 {
			return fmt.Errorf("counter for %s would go negative", s)
		}
		if err := t.counts.Put([]byte(s), u64(uint64(n+d))); err != nil {
			return err
		}
	}
	t.deltas = [9]int64{}
	if err := t.finishReasons(); err != nil {
		return err
	}
	return t.finishDays()
}

// oidOf returns the number of the order whose key is kb, 0 if none.
func (t *txn) oidOf(kb []byte) uint64 {
	if v := t.ids.Get(kb); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// byOID returns the record numbered oid.
func (t *txn) byOID(oid uint64) (Record, bool, error) {
	raw := t.orders.Get(u64(oid))
	if raw == nil {
		return Record{}, false, nil
	}
	rec, err := decodeRecord(raw)
	if err != nil {
		return Record{}, false, fmt.Errorf("decode order #%d: %w", oid, err)
	}
	rec.oid = oid
	return rec, true, nil
}

func (t *txn) get(kb []byte) (Record, bool, error) {
	oid := t.oidOf(kb)
	if oid == 0 {
		return Record{}, false, nil
	}
	rec, ok, err := t.byOID(oid)
	if err == nil && !ok {
		err = fmt.Errorf("id index names order #%d, which is not in the ledger", oid)
	}
	return rec, ok, err
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

// The index buckets an indexOp names.
const (
	opStates byte = iota + 1
	opDue
	opDeadlines
)

// indexOp is one change to the state, due or deadline index: the bucket's
// code, the key (16 bytes; a state key's 9 are padded with zeros), and 1
// to delete or 0 to put. Its first 17 bytes sort as the keys do.
type indexOp [18]byte

func (op *indexOp) bucket() byte { return op[0] }
func (op *indexOp) del() bool    { return op[17] == 1 }

// key returns the index key the op names.
func (op *indexOp) key() []byte {
	if op[0] == opStates {
		return op[1:10]
	}
	return op[1:17]
}

func stateOp(s State, oid uint64, del bool) indexOp {
	var op indexOp
	op[0], op[1] = opStates, stateCode(s)
	binary.BigEndian.PutUint64(op[2:10], oid)
	if del {
		op[17] = 1
	}
	return op
}

func timeOp(bucket byte, t time.Time, oid uint64, del bool) indexOp {
	var op indexOp
	op[0] = bucket
	binary.BigEndian.PutUint64(op[1:9], timeNum(t))
	binary.BigEndian.PutUint64(op[9:17], oid)
	if del {
		op[17] = 1
	}
	return op
}

// indexChanges calls emit for every index entry that must go or come when
// the order goes from old (nil for a new order) to rec.
func indexChanges(old, rec *Record, emit func(indexOp)) {
	oid := rec.oid
	if old == nil || old.State != rec.State {
		if old != nil {
			emit(stateOp(old.State, oid, true))
		}
		emit(stateOp(rec.State, oid, false))
	}
	var oldSend, oldDeadline time.Time
	if old != nil {
		oldSend, oldDeadline = old.SendAt, old.Deadline
	}
	moved(opDue, inDue(old), inDue(rec), oldSend, rec.SendAt, oid, emit)
	moved(opDeadlines, inDeadlines(old), inDeadlines(rec), oldDeadline, rec.Deadline, oid, emit)
}

// moved emits the change of one time index entry.
func moved(bucket byte, oldIn, newIn bool, oldAt, newAt time.Time, oid uint64, emit func(indexOp)) {
	if oldIn && newIn && timeNum(oldAt) == timeNum(newAt) {
		return
	}
	if oldIn {
		emit(timeOp(bucket, oldAt, oid, true))
	}
	if newIn {
		emit(timeOp(bucket, newAt, oid, false))
	}
}

// apply writes one index change.
func (t *txn) apply(op indexOp) error {
	b := t.indexBucket(op.bucket())
	if op.del() {
		return b.Delete(op.key())
	}
	return b.Put(op.key(), nil)
}

func (t *txn) indexBucket(c byte) *bolt.Bucket {
	switch c {
	case opStates:
		return t.states
	case opDue:
		return t.due
	}
	return t.deadlines
}

// channelKeepsBuyer reports whether an order sent through channel may keep
// the buyer's relay address and name: only smtp mails the buyer. An order
// without a channel yet (no campaign decided) keeps what it has until one
// is known.
func channelKeepsBuyer(channel string) bool { return channel == "" || channel == "smtp" }

// forgetUnneeded drops buyer data rec's state or channel does not need,
// and a reason class outside the states that have one.
func forgetUnneeded(rec *Record) {
	if rec.State.purgesBuyer() || !channelKeepsBuyer(rec.Channel) {
		rec.Order.ForgetBuyer()
	}
	if !rec.State.classed() {
		rec.Class = ""
	}
}

// store writes rec (numbering a new order, old == nil) and its counter
// changes, and passes its index changes to index.
func (t *txn) store(old, rec *Record, index func(indexOp)) error {
	kb, err := orderKey(rec.Key)
	if err != nil {
		return err
	}
	forgetUnneeded(rec)
	if old == nil {
		rec.CreatedAt = t.now
		if rec.oid, err = t.orders.NextSequence(); err != nil {
			return err
		}
		if err := t.ids.Put(kb, u64(rec.oid)); err != nil {
			return err
		}
	}
	rec.UpdatedAt = t.now
	t.buf = encodeRecord(t.buf[:0], rec)
	if err := t.orders.Put(u64(rec.oid), t.keep(t.buf)); err != nil {
		return err
	}
	if old == nil || old.State != rec.State {
		if old != nil {
			t.deltas[stateCode(old.State)]--
		}
		t.deltas[stateCode(rec.State)]++
	}
	if old == nil || old.State != rec.State || old.Class != rec.Class {
		t.countReason(old, -1)
		t.countReason(rec, 1)
	}
	indexChanges(old, rec, index)
	return nil
}

// put stores rec, whose previous version is old (nil for a new order), and
// keeps every index and counter in step. It stamps UpdatedAt (and CreatedAt
// for a new order) and drops buyer data the order must not hold.
func (t *txn) put(old, rec *Record) error {
	var err error
	index := func(op indexOp) {
		if err == nil {
			err = t.apply(op)
		}
	}
	if serr := t.store(old, rec, index); serr != nil {
		return serr
	}
	return err
}

// transition writes the audit event from old's state to rec's, then
// stores rec. problem also lists the event among the recent problems.
func (t *txn) transition(old, rec *Record, reason, actor string, problem bool) error {
	var from State
	if old != nil {
		from = old.State
	}
	if err := t.event(rec, from, rec.State, reason, actor, problem); err != nil {
		return err
	}
	return t.put(old, rec)
}

// event appends an audit event about rec to the log, chained to the
// order's previous one, and makes it rec's newest; the caller stores rec.
func (t *txn) event(rec *Record, from, to State, reason, actor string, problem bool) error {
	kb, err := orderKey(rec.Key)
	if err != nil {
		return err
	}
	seq, err := t.events.NextSequence()
	if err != nil {
		return err
	}
	ev := Event{Seq: seq, Time: t.now, Key: rec.Key, From: from, To: to, Reason: reason, Actor: actor}
	if err := t.events.Put(u64(seq), encodeEvent(nil, &ev, rec.lastEvent, kb)); err != nil {
		return err
	}
	rec.lastEvent = seq
	if !problem {
		return nil
	}
	return t.problem(seq)
}

// problem lists event seq among the recent problems, dropping the oldest
// beyond maxProblems.
func (t *txn) problem(seq uint64) error {
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
		d.Reason, d.Class = "excluded: "+string(rec.Order.Excluded), string(rec.Order.Excluded)
		if rec.Order.Because != "" {
			d.Reason += ": " + rec.Order.Because
		}
	}
	if (d.State == Waiting || d.State == Scheduled || d.State == Expired) && rec.ExcludedBy != "" {
		d.State, d.SendAt, d.Class = Excluded, time.Time{}, string(orders.ExcludedOperator)
		d.Reason = "excluded by " + rec.ExcludedBy
	}
	if (d.State == Waiting || d.State == Scheduled) && !d.Deadline.IsZero() && !now.Before(d.Deadline) {
		d.State, d.SendAt = Expired, time.Time{}
		d.Reason = "deadline " + d.Deadline.Format(time.RFC3339) + " has passed"
	}
	if !d.State.classed() {
		d.Class = ""
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
	rec.Campaign, rec.Channel, rec.Class = d.Campaign, d.Channel, d.Class
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
