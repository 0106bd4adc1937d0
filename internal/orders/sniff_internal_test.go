package orders

import (
	"math/rand/v2"
	"testing"
	"unicode/utf8"
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
