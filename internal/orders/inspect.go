package orders

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"
)

// FileInfo is what one read of a file tells before parsing it.
type FileInfo struct {
	SHA256   string // hex
	Size     int64
	Encoding string // "utf-8", "windows-1252" or "shift_jis" (CP932), decided per file
	// InvalidUTF8 counts the bytes that are not UTF-8 in a file read as
	// UTF-8 all the same (Parse rejects the rows whose cells hold them).
	InvalidUTF8 int
	// Compression is "gzip" when the bytes are a gzip stream (told by its
	// magic bytes, not the name), else "". SHA256 and Size are those of the
	// bytes as given, compressed; Encoding and TextSize those of the text.
	Compression string
	TextSize    int64
	// Damaged, when set, says why a compressed file cannot be read whole
	// (cut off, corrupted, or expanding past the limit); Parse rejects it.
	Damaged string
}

// Inspect reads r to the end once, streaming (constant memory), and returns
// the SHA-256 and size of the bytes it was given, and the encoding of the
// text they hold: a gzip stream (told by its magic bytes) is decompressed
// on the way, within the bound Parse keeps too; a damaged one is described
// in FileInfo.Damaged, not returned as an error.
//
// The encoding is "utf-8" when the file is valid UTF-8 (with or without a
// BOM), and also when it is UTF-8 but for a few bad bytes: when its valid
// multi-byte characters outnumber its invalid bytes. Real Windows-1252 and
// Shift_JIS text hardly ever forms valid UTF-8 sequences (about 1 in 30 and
// 1 in 10 of their invalid bytes), so this keeps a UTF-8 file with a row
// pasted from elsewhere UTF-8, where the bad rows are listed, instead of
// turning all its text into mojibake. Otherwise the encoding is "shift_jis"
// if the bytes decode as CP932 without error, hold kana, and the non-ASCII
// text is mostly Japanese (kana, kanji, full-width forms), else
// "windows-1252".
func Inspect(r io.Reader) (FileInfo, error) {
	h := sha256.New()
	in := &countingReader{r: io.TeeReader(r, h)}
	raw := bufio.NewReaderSize(in, bufSize)
	sn := newEncodingSniffer()
	var fi FileInfo
	head, err := raw.Peek(len(gzipMagic))
	switch {
	case err != nil && !errors.Is(err, io.EOF):
	case isGzip(head):
		fi.Compression = "gzip"
		fi.TextSize, fi.Damaged, err = inspectGzip(raw, sn)
	default:
		fi.TextSize, err = io.CopyBuffer(sn, raw, make([]byte, bufSize))
	}
	if err != nil {
		return FileInfo{}, fmt.Errorf("inspect: %w", err)
	}
	fi.SHA256, fi.Size = hex.EncodeToString(h.Sum(nil)), in.n
	fi.Encoding, fi.InvalidUTF8 = sn.decide()
	return fi, nil
}

// encodingSniffer is written the bytes of a file and tells its encoding.
type encodingSniffer struct {
	valid   int // well-formed multi-byte UTF-8 characters
	invalid int // bytes that are not part of one
	carry   [utf8.UTFMax]byte
	ncarry  int // bytes of an unfinished UTF-8 sequence at the end of the last write

	js   *japaneseScore
	sjis io.WriteCloser // the CP932 decoder writing into js
	// midChar is true when the bytes last given to sjis ended in a
	// non-ASCII byte, which may be a lead byte waiting for its trail.
	midChar bool
}

func newEncodingSniffer() *encodingSniffer {
	js := &japaneseScore{}
	return &encodingSniffer{js: js, sjis: transform.NewWriter(js, japanese.ShiftJIS.NewDecoder())}
}

func (s *encodingSniffer) Write(p []byte) (int, error) {
	if s.js.plausible() {
		s.scoreJapanese(p)
	}
	s.countUTF8(p)
	return len(p), nil
}

// scoreJapanese gives sjis the stretches of p that hold non-ASCII bytes.
// Runs of ASCII in between decode to themselves and count for nothing, and
// Shift_JIS keeps no state from one character to the next, so they are
// skipped (most of an order report is ASCII) — except the byte after a
// stretch that ends in a non-ASCII byte, which may be a lead byte whose
// trail is ASCII: the next stretch then starts right there.
func (s *encodingSniffer) scoreJapanese(p []byte) {
	for i := 0; i < len(p); {
		start := i // a character left unfinished goes on at i
		if !s.midChar {
			if start = nextNonASCII(p, i); start == len(p) {
				return
			}
		}
		end := start + 1
		for end < len(p) && (p[end] >= utf8.RuneSelf || nextNonASCII(p[:min(end+8, len(p))], end) < min(end+8, len(p))) {
			end++ // non-ASCII, or ASCII with more non-ASCII within 8 bytes
		}
		_, _ = s.sjis.Write(p[start:end])
		s.midChar, i = p[end-1] >= utf8.RuneSelf, end
	}
}

// nextNonASCII returns the index of the first byte at or after i that is
// not ASCII, or len(p).
func nextNonASCII(p []byte, i int) int {
	for ; i+8 <= len(p); i += 8 {
		if binary.LittleEndian.Uint64(p[i:])&0x8080808080808080 != 0 {
			break
		}
	}
	for ; i < len(p); i++ {
		if p[i] >= utf8.RuneSelf {
			return i
		}
	}
	return len(p)
}

// decide returns the encoding, and the invalid bytes when it is UTF-8.
func (s *encodingSniffer) decide() (string, int) {
	_ = s.sjis.Close()
	invalid := s.invalid + s.ncarry // a sequence cut at the end of the file
	switch {
	case invalid == 0, s.valid > invalid:
		return EncodingUTF8, invalid
	case s.js.japanese():
		return EncodingShiftJIS, 0
	}
	return EncodingWindows1252, 0
}

// countUTF8 counts the valid characters and invalid bytes of p, going on
// from a sequence the last write left unfinished.
func (s *encodingSniffer) countUTF8(p []byte) {
	if s.ncarry > 0 {
		var tmp [2 * utf8.UTFMax]byte
		n := copy(tmp[:], s.carry[:s.ncarry])
		n += copy(tmp[n:], p[:min(len(p), utf8.UTFMax)])
		t, i := tmp[:n], 0
		for i < s.ncarry {
			if !utf8.FullRune(t[i:]) {
				s.ncarry = copy(s.carry[:], t[i:]) // p was too short to finish it
				return
			}
			i += s.countRune(t[i:])
		}
		p = p[i-s.ncarry:]
		s.ncarry = 0
	}
	for i := 0; i < len(p); {
		if i+8 <= len(p) && binary.LittleEndian.Uint64(p[i:])&0x8080808080808080 == 0 {
			i += 8 // eight ASCII bytes
			continue
		}
		if p[i] < utf8.RuneSelf {
			i++
			continue
		}
		if !utf8.FullRune(p[i:]) {
			s.ncarry = copy(s.carry[:], p[i:])
			return
		}
		i += s.countRune(p[i:])
	}
}

// countRune counts the character at the start of b and returns its size.
func (s *encodingSniffer) countRune(b []byte) int {
	r, size := utf8.DecodeRune(b)
	switch {
	case r == utf8.RuneError && size == 1:
		s.invalid++
	case size > 1:
		s.valid++
	}
	return size
}

// japaneseScore counts what the CP932 decoding of a file holds.
type japaneseScore struct {
	errors  int // undecodable bytes
	kana    int // hiragana, katakana, CJK punctuation, full-width forms
	kanji   int // CJK ideographs
	other   int // any other non-ASCII character
	pending [utf8.UTFMax]byte
	npend   int
}

func (s *japaneseScore) plausible() bool { return s.errors == 0 }

// japanese wants kana: Windows-1252 text often decodes as CP932 kanji (an
// accented letter and the letter after it make a valid pair), but hardly
// ever as kana, whose lead bytes are rare punctuation in Windows-1252.
func (s *japaneseScore) japanese() bool {
	return s.errors == 0 && s.kana > 0 && s.other*4 <= s.kana+s.kanji
}

func (s *japaneseScore) Write(p []byte) (int, error) {
	n := len(p)
	for s.npend > 0 && len(p) > 0 {
		s.pending[s.npend] = p[0]
		s.npend++
		p = p[1:]
		if utf8.FullRune(s.pending[:s.npend]) {
			r, _ := utf8.DecodeRune(s.pending[:s.npend])
			s.count(r)
			s.npend = 0
		}
	}
	for len(p) > 0 {
		if p[0] < utf8.RuneSelf {
			p = p[1:]
			continue
		}
		if !utf8.FullRune(p) {
			s.npend = copy(s.pending[:], p)
			break
		}
		r, size := utf8.DecodeRune(p)
		s.count(r)
		p = p[size:]
	}
	return n, nil
}

func (s *japaneseScore) count(r rune) {
	switch {
	case r == utf8.RuneError:
		s.errors++
	case r >= 0x3000 && r <= 0x30FF, // CJK punctuation, hiragana, katakana
		r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII forms
		s.kana++
	case r >= 0x4E00 && r <= 0x9FFF: // CJK ideographs
		s.kanji++
	case r >= 0xFF61 && r <= 0xFF9F:
		// half-width katakana: Latin-1 letters (é, ü, ß) look like these
	default:
		s.other++
	}
}
