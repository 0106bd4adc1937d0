package orders

import (
	"math/rand/v2"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"
)

// TestCountUTF8Chunks: the sniffer's counts do not depend on how the file
// is cut into writes.
func TestCountUTF8Chunks(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := [][]byte{[]byte("a"), []byte("\t"), []byte("é"), []byte("日"), []byte("😀"), {0xfc}, {0xe6, 0x97}, {0xc3}, {0x80}, {0xf0, 0x9f}}
	for n := 0; n < 500; n++ {
		var data []byte
		for k := rng.IntN(60); k > 0; k-- {
			data = append(data, alphabet[rng.IntN(len(alphabet))]...)
		}
		var valid, invalid int
		for b := data; len(b) > 0; {
			r, size := utf8.DecodeRune(b)
			if r == utf8.RuneError && size == 1 {
				invalid++
			} else if size > 1 {
				valid++
			}
			b = b[size:]
		}
		s := newEncodingSniffer()
		for rest := data; len(rest) > 0; {
			k := 1 + rng.IntN(min(len(rest), 7))
			_, _ = s.Write(rest[:k])
			rest = rest[k:]
		}
		if s.valid != valid || s.invalid+s.ncarry != invalid {
			t.Fatalf("%q: counted %d valid, %d+%d invalid; want %d, %d", data, s.valid, s.invalid, s.ncarry, valid, invalid)
		}
	}
}

// TestJapaneseScoreSkipsASCII: the sniffer's Shift_JIS score, which skips
// runs of ASCII, counts exactly what decoding every byte counts, however
// the file is cut into writes.
func TestJapaneseScoreSkipsASCII(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	pieces := [][]byte{[]byte("abcdefgh"), []byte("\t"), []byte("ASCII text, longer than a word"), {0x82, 0xa0}, {0x88, 0x9f},
		{0x83, 0x41}, {0xb1}, {0x81}, {0xe9}, {0xfc, 0x40}, {0xa0}, {0x82}}
	for n := 0; n < 2000; n++ {
		var data []byte
		for k := rng.IntN(40); k > 0; k-- {
			data = append(data, pieces[rng.IntN(len(pieces))]...)
		}
		full := &japaneseScore{}
		w := transform.NewWriter(full, japanese.ShiftJIS.NewDecoder())
		_, _ = w.Write(data)
		_ = w.Close()
		s := newEncodingSniffer()
		for rest := data; len(rest) > 0; {
			k := 1 + rng.IntN(min(len(rest), 20))
			_, _ = s.Write(rest[:k])
			rest = rest[k:]
		}
		_ = s.sjis.Close()
		got, want := *s.js, *full
		got.pending, got.npend, want.pending, want.npend = [4]byte{}, 0, [4]byte{}, 0
		if want.errors > 0 { // scoring stops at the first error: only that matters
			got, want = japaneseScore{errors: min(got.errors, 1)}, japaneseScore{errors: 1}
		}
		if got != want {
			t.Fatalf("%x: score %+v, want %+v", data, got, want)
		}
	}
}
