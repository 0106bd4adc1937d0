package ledger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"campaignd/internal/orders"
)

// The record and event encodings are versioned by their first byte, so a
// later build can read what an earlier one wrote. Fields are written in a
// fixed order, optional ones only when set (a presence mask says which);
// strings are a uvarint length and the bytes; times are a zigzag varint of
// Unix seconds shifted left once, the low bit saying a uvarint of
// nanoseconds follows. Everything is stored in UTC.
const (
	recordFormat = 1
	eventFormat  = 1
)

// errCorrupt is wrapped by every decoding error.
var errCorrupt = errors.New("corrupt encoding")

// stateCodes numbers the states for keys and encodings; 0 is "no state"
// (an event's From for a new order).
var stateCodes = map[State]byte{
	Waiting: 1, Scheduled: 2, Claimed: 3, Sent: 4, InDoubt: 5, Failed: 6, Excluded: 7, Expired: 8,
}

func stateCode(s State) byte { return stateCodes[s] }

func stateOf(c byte) (State, bool) {
	if c == 0 {
		return "", true
	}
	if int(c) > len(States) {
		return "", false
	}
	return States[c-1], true
}

// --- writing ---

type enc struct{ b []byte }

func (e *enc) byte(c byte)      { e.b = append(e.b, c) }
func (e *enc) uvarint(n uint64) { e.b = binary.AppendUvarint(e.b, n) }
func (e *enc) str(s string)     { e.uvarint(uint64(len(s))); e.b = append(e.b, s...) }
func (e *enc) bytes(s []byte)   { e.uvarint(uint64(len(s))); e.b = append(e.b, s...) }
func (e *enc) time(t time.Time) { putTime(e, t) }
func (e *enc) varint(n int64)   { e.b = binary.AppendVarint(e.b, n) }

func putTime(e *enc, t time.Time) {
	sec, nsec := t.Unix(), int64(t.Nanosecond())
	v := sec << 1
	if nsec != 0 {
		v |= 1
	}
	e.varint(v)
	if nsec != 0 {
		e.uvarint(uint64(nsec))
	}
}

// mask collects which optional fields are set, in order.
type mask struct {
	bits uint64
	n    uint
}

func (m *mask) add(set bool) {
	if set {
		m.bits |= 1 << m.n
	}
	m.n++
}

// Record fields after the fixed head, in mask order.
func recordMask(r *Record) uint64 {
	var m mask
	for _, set := range []bool{
		r.Key.Account != "", r.Reason != "", r.Campaign != "", r.Channel != "",
		!r.SendAt.IsZero(), !r.Deadline.IsZero(), r.Attempts != 0, r.LastError != "",
		r.Refusal != "", !r.NotBefore.IsZero(), !r.DeliveringAt.IsZero(), !r.CreatedAt.IsZero(),
		!r.UpdatedAt.IsZero(), !r.ClaimedAt.IsZero(), !r.SentAt.IsZero(), r.lastEvent != 0,
		r.first != nil, r.first != nil && r.first.reason != r.Reason, r.Class != "", r.ExcludedBy != "",
	} {
		m.add(set)
	}
	return m.bits
}

// encodeRecord appends r's encoding to b.
func encodeRecord(b []byte, r *Record) []byte {
	e := enc{b: b}
	e.byte(recordFormat)
	e.byte(stateCode(r.State))
	bits := recordMask(r)
	e.uvarint(bits)
	e.str(r.Key.OrderID)
	has := func(i uint) bool { return bits&(1<<i) != 0 }
	if has(0) {
		e.str(r.Key.Account)
	}
	for i, s := range []string{r.Reason, r.Campaign, r.Channel} {
		if has(uint(1 + i)) {
			e.str(s)
		}
	}
	for i, t := range []time.Time{r.SendAt, r.Deadline} {
		if has(uint(4 + i)) {
			e.time(t)
		}
	}
	if has(6) {
		e.uvarint(uint64(r.Attempts))
	}
	for i, s := range []string{r.LastError, r.Refusal} {
		if has(uint(7 + i)) {
			e.str(s)
		}
	}
	for i, t := range []time.Time{r.NotBefore, r.DeliveringAt, r.CreatedAt, r.UpdatedAt, r.ClaimedAt, r.SentAt} {
		if has(uint(9 + i)) {
			e.time(t)
		}
	}
	if has(15) {
		e.uvarint(r.lastEvent)
	}
	if has(16) {
		e.byte(stateCode(r.first.state))
	}
	if has(17) {
		e.str(r.first.reason)
	}
	if has(18) {
		putClass(&e, r.Class)
	}
	if has(19) {
		e.str(r.ExcludedBy)
	}
	return encodeFacts(e.b, &r.Order, r.Key.OrderID)
}

// The facts' optional fields, in mask order.
func factsMask(o *orders.Order, id string) uint64 {
	var m mask
	for _, set := range []bool{
		o.ID != id, o.Marketplace != "", !o.PurchaseDate.IsZero(), o.Status != "",
		!o.StatusAt.IsZero(), o.FulfillmentChannel != "", o.Shipped, !o.ShippedAt.IsZero(),
		!o.DeliveredAt.IsZero(), !o.EstimatedArrival.IsZero(), len(o.Items) > 0, o.BuyerEmail != "",
		o.BuyerName != "", o.Excluded != "", o.Because != "",
	} {
		m.add(set)
	}
	return m.bits
}

// encodeFacts appends o's encoding to b; id is the order id the reader
// already knows (the record's key), so o.ID costs nothing when it matches.
func encodeFacts(b []byte, o *orders.Order, id string) []byte {
	e := enc{b: b}
	bits := factsMask(o, id)
	e.uvarint(bits)
	has := func(i uint) bool { return bits&(1<<i) != 0 }
	if has(0) {
		e.str(o.ID)
	}
	if has(1) {
		e.str(o.Marketplace)
	}
	if has(2) {
		e.time(o.PurchaseDate)
	}
	if has(3) {
		e.str(o.Status)
	}
	if has(4) {
		e.time(o.StatusAt)
	}
	if has(5) {
		e.str(o.FulfillmentChannel)
	}
	for i, t := range []time.Time{o.ShippedAt, o.DeliveredAt, o.EstimatedArrival} {
		if has(uint(7 + i)) {
			e.time(t)
		}
	}
	if has(10) {
		e.uvarint(uint64(len(o.Items)))
		for i := range o.Items {
			encodeItem(&e, &o.Items[i])
		}
	}
	for i, s := range []string{o.BuyerEmail, o.BuyerName, string(o.Excluded), o.Because} {
		if has(uint(11 + i)) {
			e.str(s)
		}
	}
	return e.b
}

func encodeItem(e *enc, it *orders.Item) {
	var m mask
	for _, set := range []bool{it.SKU != "", it.ASIN != "", it.Title != "", it.Quantity != 0, it.Cancelled} {
		m.add(set)
	}
	e.byte(byte(m.bits))
	for i, s := range []string{it.SKU, it.ASIN, it.Title} {
		if m.bits&(1<<i) != 0 {
			e.str(s)
		}
	}
	if m.bits&(1<<3) != 0 {
		e.varint(int64(it.Quantity))
	}
}

// --- reading ---

// dec reads an encoding. Strings are cut from one string copy of the whole
// input, so a record costs one allocation for all its text.
type dec struct {
	b   []byte
	s   string // the same bytes as b, from the start of the input
	off int
	err error
}

func newDec(b []byte) *dec { return &dec{b: b, s: string(b)} }

func (d *dec) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s at byte %d", errCorrupt, what, d.off)
	}
}

func (d *dec) byte() byte {
	if d.err != nil || d.off >= len(d.b) {
		d.fail("truncated")
		return 0
	}
	c := d.b[d.off]
	d.off++
	return c
}

func (d *dec) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	n, k := binary.Uvarint(d.b[d.off:])
	if k <= 0 {
		d.fail("bad uvarint")
		return 0
	}
	d.off += k
	return n
}

func (d *dec) varint() int64 {
	if d.err != nil {
		return 0
	}
	n, k := binary.Varint(d.b[d.off:])
	if k <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.off += k
	return n
}

func (d *dec) str() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)-d.off) {
		d.fail("string past the end")
		return ""
	}
	s := d.s[d.off : d.off+int(n)]
	d.off += int(n)
	return s
}

func (d *dec) time() time.Time {
	v := d.varint()
	var nsec uint64
	if v&1 != 0 {
		nsec = d.uvarint()
		if nsec >= 1e9 {
			d.fail("bad nanoseconds")
		}
	}
	return time.Unix(v>>1, int64(nsec)).UTC()
}

func (d *dec) state() State {
	s, ok := stateOf(d.byte())
	if !ok {
		d.fail("unknown state")
	}
	return s
}

// decodeRecord decodes an encoding written by encodeRecord.
func decodeRecord(b []byte) (Record, error) {
	var r Record
	d := newDec(b)
	if f := d.byte(); f != recordFormat && d.err == nil {
		return r, fmt.Errorf("%w: record format %d, this build reads %d", errCorrupt, f, recordFormat)
	}
	r.State = d.state()
	bits := d.uvarint()
	has := func(i uint) bool { return bits&(1<<i) != 0 }
	r.Key.OrderID = d.str()
	if has(0) {
		r.Key.Account = d.str()
	}
	for i, p := range []*string{&r.Reason, &r.Campaign, &r.Channel} {
		if has(uint(1 + i)) {
			*p = d.str()
		}
	}
	for i, p := range []*time.Time{&r.SendAt, &r.Deadline} {
		if has(uint(4 + i)) {
			*p = d.time()
		}
	}
	if has(6) {
		r.Attempts = int(min(d.uvarint(), math.MaxInt32))
	}
	for i, p := range []*string{&r.LastError, &r.Refusal} {
		if has(uint(7 + i)) {
			*p = d.str()
		}
	}
	for i, p := range []*time.Time{&r.NotBefore, &r.DeliveringAt, &r.CreatedAt, &r.UpdatedAt, &r.ClaimedAt, &r.SentAt} {
		if has(uint(9 + i)) {
			*p = d.time()
		}
	}
	if has(15) {
		r.lastEvent = d.uvarint()
	}
	if has(16) {
		r.first = &creation{state: d.state(), reason: r.Reason}
		if has(17) {
			r.first.reason = d.str()
		}
	}
	if has(18) {
		r.Class = d.class()
	}
	if has(19) {
		r.ExcludedBy = d.str()
	}
	decodeFacts(d, &r.Order, r.Key.OrderID)
	if d.err == nil && d.off != len(d.b) {
		d.fail("trailing bytes")
	}
	return r, d.err
}

// decodeFacts reads what encodeFacts wrote; id is the record's order id.
func decodeFacts(d *dec, o *orders.Order, id string) {
	bits := d.uvarint()
	has := func(i uint) bool { return bits&(1<<i) != 0 }
	o.ID = id
	if has(0) {
		o.ID = d.str()
	}
	if has(1) {
		o.Marketplace = d.str()
	}
	if has(2) {
		o.PurchaseDate = d.time()
	}
	if has(3) {
		o.Status = d.str()
	}
	if has(4) {
		o.StatusAt = d.time()
	}
	if has(5) {
		o.FulfillmentChannel = d.str()
	}
	o.Shipped = has(6)
	for i, p := range []*time.Time{&o.ShippedAt, &o.DeliveredAt, &o.EstimatedArrival} {
		if has(uint(7 + i)) {
			*p = d.time()
		}
	}
	if has(10) {
		n := d.uvarint()
		if n > uint64(len(d.b)) {
			d.fail("item count")
			return
		}
		o.Items = make([]orders.Item, n)
		for i := range o.Items {
			decodeItem(d, &o.Items[i])
		}
	}
	var excluded string
	for i, p := range []*string{&o.BuyerEmail, &o.BuyerName, &excluded, &o.Because} {
		if has(uint(11 + i)) {
			*p = d.str()
		}
	}
	o.Excluded = orders.Exclusion(excluded)
}

func decodeItem(d *dec, it *orders.Item) {
	bits := d.byte()
	for i, p := range []*string{&it.SKU, &it.ASIN, &it.Title} {
		if bits&(1<<i) != 0 {
			*p = d.str()
		}
	}
	if bits&(1<<3) != 0 {
		it.Quantity = int(max(min(d.varint(), math.MaxInt32), math.MinInt32))
	}
	it.Cancelled = bits&(1<<4) != 0
}

// commonClasses are reason classes (Record.Class) that most held orders
// carry, written as one byte: a uvarint n > 0 is commonClasses[n-1], 0 is
// followed by the class as a string. Append only: the position is the
// encoding.
var commonClasses = []string{
	"not_shipped", "no_purchase_date", "no_marketplace", "no_room", "no_relay", "cancelled", "returned",
	"non_amazon", "rejected", "undeliverable", "lost", "damaged", "operator", "exclude_list", "blocked",
	"sku", "asin", "unknown_marketplace",
}

func putClass(e *enc, class string) {
	for i, c := range commonClasses {
		if c == class {
			e.uvarint(uint64(i + 1))
			return
		}
	}
	e.uvarint(0)
	e.str(class)
}

func (d *dec) class() string {
	n := d.uvarint()
	switch {
	case n == 0:
		return d.str()
	case n <= uint64(len(commonClasses)):
		return commonClasses[n-1]
	}
	d.fail("unknown class code")
	return ""
}

// --- events ---

// encodeEvent appends ev's encoding: format, time, from, to, the previous
// event of the same order (0 for none), the order key, reason and actor.
func encodeEvent(b []byte, ev *Event, prev uint64, kb []byte) []byte {
	e := enc{b: b}
	e.byte(eventFormat)
	e.time(ev.Time)
	e.byte(stateCode(ev.From))
	e.byte(stateCode(ev.To))
	e.uvarint(prev)
	e.bytes(kb)
	e.str(ev.Reason)
	e.str(ev.Actor)
	return e.b
}

// decodeEvent returns the event stored under seq and the sequence number
// of the same order's previous event.
func decodeEvent(seq uint64, b []byte) (Event, uint64, error) {
	d := newDec(b)
	if f := d.byte(); f != eventFormat && d.err == nil {
		return Event{}, 0, fmt.Errorf("%w: event format %d, this build reads %d", errCorrupt, f, eventFormat)
	}
	ev := Event{Seq: seq}
	ev.Time = d.time()
	ev.From = d.state()
	ev.To = d.state()
	prev := d.uvarint()
	kb := d.str()
	ev.Reason = d.str()
	ev.Actor = d.str()
	if d.err != nil {
		return Event{}, 0, d.err
	}
	k, err := parseOrderKey([]byte(kb))
	if err != nil {
		return Event{}, 0, fmt.Errorf("%w: %w", errCorrupt, err)
	}
	ev.Key = k
	return ev, prev, nil
}
