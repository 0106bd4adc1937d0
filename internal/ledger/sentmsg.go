package ledger

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// What a send said: every claim keeps, in the same transaction, what the
// message was made of, so that `campaignd preview` of a sent order shows
// the message as it went, not what today's template would say. Templates
// are kept once each, by the SHA-256 of their source; per order only the
// template's hash and the values it was rendered with, and none of them is
// personal data: the buyer's name is not kept (only whether there was
// one), so nothing here needs purging with the rest of the buyer's data.
//
//	messages   number(8) -> SentMessage (JSON)
//	templates  sha256 (hex) -> template source
const (
	bucketMessages  = "messages"
	bucketTemplates = "templates"
)

// SentMessage is what the message of a claimed order was made of.
type SentMessage struct {
	Channel string    `json:"channel"`
	At      time.Time `json:"at"` // when it was rendered, for the claim
	// Amazon is true when the channel writes no text of campaignd's
	// (spapi: Amazon writes the request); the rest is then empty.
	Amazon bool `json:"amazon,omitempty"`
	// Template is the SHA-256 of the template's source; Path where it was
	// read from.
	Template string `json:"template,omitempty"`
	Path     string `json:"path,omitempty"`
	// The values it was rendered with, but the buyer's name.
	ProductName  string `json:"product_name,omitempty"`
	ReviewURL    string `json:"review_url,omitempty"`
	SellerName   string `json:"seller_name,omitempty"`
	Marketplace  string `json:"marketplace,omitempty"`
	HadBuyerName bool   `json:"had_buyer_name,omitempty"`
}

// TemplateHash is the key a template's source is kept under.
func TemplateHash(source []byte) string {
	sum := sha256.Sum256(source)
	return hex.EncodeToString(sum[:])
}

// ClaimWith is Claim that keeps, in the claim's transaction, what the
// message is made of: m, and the template's source (once per template; m's
// Template must be its TemplateHash). A nil m keeps nothing.
func (l *Ledger) ClaimWith(k Key, channel string, now time.Time, m *SentMessage, source []byte) (Record, error) {
	if m != nil && !m.Amazon && m.Template != TemplateHash(source) {
		return Record{}, fmt.Errorf("claim order %s: the kept message names template %.12s, not its source's", k, m.Template)
	}
	return l.claim(k, channel, now, func(t *txn, rec *Record) error {
		if m == nil {
			return nil
		}
		return t.keepMessage(rec.oid, m, source)
	})
}

// keepMessage stores m as order oid's message, and the template's source
// unless it is kept already.
func (t *txn) keepMessage(oid uint64, m *SentMessage, source []byte) error {
	msgs, err := t.tx.CreateBucketIfNotExists([]byte(bucketMessages))
	if err != nil {
		return err
	}
	tmpls, err := t.tx.CreateBucketIfNotExists([]byte(bucketTemplates))
	if err != nil {
		return err
	}
	if !m.Amazon && tmpls.Get([]byte(m.Template)) == nil {
		if err := tmpls.Put([]byte(m.Template), t.keep(source)); err != nil {
			return err
		}
	}
	mm := *m
	mm.At = utc(mm.At)
	b, err := json.Marshal(&mm)
	if err != nil {
		return err
	}
	return msgs.Put(u64(oid), b)
}

// SentMessageOf returns what the message of order k was made of when it
// was last claimed, and the template's source; ok is false when no claim
// kept one (an order never claimed, claimed by an older build, or marked
// sent by hand).
func (l *Ledger) SentMessageOf(k Key) (m SentMessage, source []byte, ok bool, err error) {
	kb, err := orderKey(k)
	if err != nil {
		return m, nil, false, fmt.Errorf("sent message: %w", err)
	}
	err = l.view(func(t *txn) error {
		msgs, tmpls := t.tx.Bucket([]byte(bucketMessages)), t.tx.Bucket([]byte(bucketTemplates))
		oid := t.oidOf(kb)
		if msgs == nil || oid == 0 {
			return nil
		}
		raw := msgs.Get(u64(oid))
		if raw == nil {
			return nil
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			return err
		}
		ok = true
		if m.Amazon {
			return nil
		}
		if tmpls != nil {
			source = append([]byte(nil), tmpls.Get([]byte(m.Template))...)
		}
		if source == nil {
			return fmt.Errorf("template %.12s of the message is not kept", m.Template)
		}
		return nil
	})
	if err != nil {
		return SentMessage{}, nil, false, fmt.Errorf("sent message of order %s: %w", k, err)
	}
	return m, source, ok, nil
}
