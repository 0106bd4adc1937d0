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
	s := &source{names: map[int]string{}}
	table, block := "", -1
	blocks := map[string]int{} // array of tables → blocks seen
	multi := ""                // the delimiter of a multi-line string left open
	for i, text := range strings.Split(string(b), "\n") {
		n := i + 1
		if multi != "" {
			if strings.Count(text, multi)%2 == 1 {
				multi = ""
			}
			continue
		}
		if m := headerRe.FindStringSubmatch(text); m != nil {
			table, block = normKey(m[2]), -1
			if m[1] == "[[" {
				block = blocks[table]
				blocks[table]++
			}
			s.keys = append(s.keys, keyLine{table, n, block})
			continue
		}
		m := keyRe.FindStringSubmatch(text)
		if m == nil {
			continue
		}
		key := normKey(m[1])
		if table != "" {
			key = table + "." + key
		}
		s.keys = append(s.keys, keyLine{key, n, block})
		if table == "campaign" && block >= 0 {
			if nm := nameRe.FindStringSubmatch(text); nm != nil {
				s.names[block] = nm[1]
			}
		}
		for _, q := range []string{`"""`, `'''`} {
			if strings.Count(text, q)%2 == 1 {
				multi = q
			}
		}
	}
	return s
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
