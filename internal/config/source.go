package config

import (
	"fmt"
	"regexp"
	"strings"
)

// source is where each key of a config file is written, so that an error
// can name the line, and the [[campaign]] it is in by its name. The TOML
// decoder keeps no positions for keys it did not decode, so the file is
// scanned line by line here: table headers, `key = value` lines, and
// multi-line strings skipped whole. A key set inside an inline table
// (`smtp = { port = 25 }`) is found at its table's line.
type source struct {
	keys  []keyLine
	names map[int]string // [[campaign]] block → its name = "…", when written on one line
}

// keyLine is one key of the file: the dotted key with its table
// ("inbox.settle", "campaign.name"), its line (from 1) and, inside an array
// of tables, the block it is in (0 for the first [[campaign]]), else -1.
type keyLine struct {
	key   string
	line  int
	block int
}

var (
	headerRe = regexp.MustCompile(`^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$`)
	nameRe   = regexp.MustCompile(`^\s*name\s*=\s*"([^"\\]*)"`)
)

// scan reads the keys of a TOML file. It never fails: what it cannot read,
// it leaves out, and the error then goes without a line.
func scan(b []byte) *source {
	sc := &scanner{source: &source{names: map[int]string{}}, block: -1, blocks: map[string]int{}}
	for i, text := range strings.Split(string(b), "\n") {
		sc.line(i+1, text)
	}
	return sc.source
}

// scanner is scan's state between lines.
type scanner struct {
	*source
	table  string         // the table of the lines read now
	block  int            // its block, in an array of tables, else -1
	blocks map[string]int // array of tables → blocks seen
	multi  string         // the delimiter of a multi-line string left open
}

// line reads line n of the file.
func (sc *scanner) line(n int, text string) {
	if sc.multi != "" {
		if strings.Count(text, sc.multi)%2 == 1 {
			sc.multi = ""
		}
		return
	}
	if m := headerRe.FindStringSubmatch(text); m != nil {
		sc.table, sc.block = normKey(m[2]), -1
		if m[1] == "[[" {
			sc.block = sc.blocks[sc.table]
			sc.blocks[sc.table]++
		}
		sc.keys = append(sc.keys, keyLine{sc.table, n, sc.block})
		return
	}
	m := keyRe.FindStringSubmatch(text)
	if m == nil {
		return
	}
	key := normKey(m[1])
	if sc.table != "" {
		key = sc.table + "." + key
	}
	sc.keys = append(sc.keys, keyLine{key, n, sc.block})
	if nm := nameRe.FindStringSubmatch(text); nm != nil && sc.table == "campaign" && sc.block >= 0 {
		sc.names[sc.block] = nm[1]
	}
	for _, q := range []string{`"""`, `'''`} {
		if strings.Count(text, q)%2 == 1 {
			sc.multi = q
		}
	}
}

// normKey writes a dotted key as the decoder does: parts without quotes or
// the spaces around the dots.
func normKey(k string) string {
	parts := strings.Split(k, ".")
	for i, p := range parts {
		parts[i] = strings.Trim(strings.TrimSpace(p), `"'`)
	}
	return strings.Join(parts, ".")
}

// line is the line of the nth time (from 0) key is written in block
// (-1: outside arrays of tables), or of the closest table it is in; 0 when
// the key is not found.
func (s *source) line(key string, block, nth int) int {
	for k := key; k != ""; k = parent(k) {
		seen := 0
		for _, kl := range s.keys {
			if kl.key != k || (block >= 0 && kl.block != block) {
				continue
			}
			if seen == nth {
				return kl.line
			}
			seen++
		}
		nth = 0
	}
	return 0
}

// blockAt is the [[campaign]] block that line is in, or -1.
func (s *source) blockAt(line int) int {
	block := -1
	for _, kl := range s.keys {
		if kl.line > line {
			break
		}
		switch {
		case kl.key == "campaign" && kl.block >= 0:
			block = kl.block
		case !strings.HasPrefix(kl.key, "campaign."):
			block = -1
		}
	}
	return block
}

// campaign names the campaign of block i as a reader knows it: by its
// name, or by its place when it has none.
func (s *source) campaign(i int) string {
	if name, ok := s.names[i]; ok && name != "" {
		return fmt.Sprintf("campaign %q", name)
	}
	return fmt.Sprintf("the %s [[campaign]] (it has no name)", ordinal(i+1))
}

func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return fmt.Sprintf("%d%s", n, suffix)
}

func parent(key string) string {
	if i := strings.LastIndex(key, "."); i >= 0 {
		return key[:i]
	}
	return ""
}

func leaf(key string) string { return key[strings.LastIndex(key, ".")+1:] }
