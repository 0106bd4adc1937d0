package orders

import (
	"crypto/sha256"
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
}

// Inspect reads r to the end once, streaming (constant memory), and returns
// its SHA-256, size and encoding. Valid UTF-8 (with or without a BOM) is
// "utf-8"; otherwise "shift_jis" if the bytes decode as CP932 without error,
// hold kana, and the non-ASCII text is mostly Japanese (kana, kanji,
// full-width forms), else "windows-1252".
func Inspect(r io.Reader) (FileInfo, error) {
	h := sha256.New()
	var (
		size  int64
		carry int // bytes of an unfinished UTF-8 sequence at buf's start
		valid = true
		buf   = make([]byte, bufSize)
	)
	js := &japaneseScore{}
	sjis := transform.NewWriter(js, japanese.ShiftJIS.NewDecoder())
	for {
		n, err := r.Read(buf[carry:])
		if n > 0 {
			chunk := buf[carry : carry+n]
			h.Write(chunk)
			size += int64(n)
			if js.plausible() {
				_, _ = sjis.Write(chunk)
			}
			if valid {
				all := buf[:carry+n]
				cut := utf8Cut(all)
				valid = utf8.Valid(all[:cut])
				carry = copy(buf, all[cut:])
				if !valid {
					carry = 0
				}
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return FileInfo{}, fmt.Errorf("inspect: %w", err)
		}
	}
	if carry > 0 {
		valid = false // the file ends inside a UTF-8 sequence
	}
	_ = sjis.Close()
	fi := FileInfo{SHA256: hex.EncodeToString(h.Sum(nil)), Size: size, Encoding: EncodingUTF8}
	switch {
	case valid:
	case js.japanese():
		fi.Encoding = EncodingShiftJIS
	default:
		fi.Encoding = EncodingWindows1252
	}
	return fi, nil
}

// utf8Cut returns how much of b can be checked now: all of it, less an
// unfinished multi-byte sequence at its end.
func utf8Cut(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return i
			}
			return len(b)
		}
	}
	return len(b)
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
