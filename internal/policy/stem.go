package policy

import (
	"hash/maphash"
	"sync/atomic"

	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/english"
	"github.com/blevesearch/snowballstem/french"
	"github.com/blevesearch/snowballstem/german"
	"github.com/blevesearch/snowballstem/italian"
	"github.com/blevesearch/snowballstem/spanish"
)

// stemmers are the Snowball stemmers of the languages written in Latin
// script. Japanese has none: its lexicon is matched on the text itself.
var stemmers = map[string]func(*snowballstem.Env) bool{
	"en": english.Stem,
	"de": german.Stem,
	"fr": french.Stem,
	"es": spanish.Stem,
	"it": italian.Stem,
}

// stemmer reduces words of one language to their Snowball stems. Stems
// are remembered in a fixed table of recent words, so a message in the
// words of the last one costs a lookup per word, and memory stays bounded
// whatever text comes in. It is safe for concurrent use.
type stemmer struct {
	stem func(*snowballstem.Env) bool
	seed maphash.Seed
	memo []atomic.Pointer[stemmed]
}

type stemmed struct{ word, stem string }

// memoSize is the number of words each stemmer remembers.
const memoSize = 1 << 13

func newStemmer(lang string) *stemmer {
	f := stemmers[lang]
	if f == nil {
		return nil
	}
	return &stemmer{stem: f, seed: maphash.MakeSeed(), memo: make([]atomic.Pointer[stemmed], memoSize)}
}

// of returns the stem of a lower-case word.
func (s *stemmer) of(word string) string {
	if len(word) <= 2 {
		return word
	}
	slot := &s.memo[maphash.String(s.seed, word)&(memoSize-1)]
	if m := slot.Load(); m != nil && m.word == word {
		return m.stem
	}
	env := snowballstem.NewEnv(word)
	s.stem(env)
	st := env.Current()
	// The word is copied: it usually points into a message's text.
	w := string(append([]byte(nil), word...))
	if st == word {
		st = w
	}
	slot.Store(&stemmed{word: w, stem: st})
	return st
}
