package config

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// FieldError is a bad value: the dotted key (a campaign's keys as
// "campaign[1].template") and what is wrong with it. Load names the file,
// the line and, for a campaign, its name.
type FieldError struct {
	Key string
	Msg string
}

func (e *FieldError) Error() string { return e.Key + ": " + e.Msg }

// fieldError names the dotted key and what is wrong with it.
func fieldError(key, format string, a ...any) error {
	return &FieldError{Key: key, Msg: fmt.Sprintf(format, a...)}
}

// campaignKeyRe splits "campaign[1].template" into the block and the key.
var campaignKeyRe = regexp.MustCompile(`^campaign\[(\d+)\](?:\.(.+))?$`)

// locate writes one problem for a reader: the file and line it is on, and
// the key, a campaign's key as `campaign "de": template`.
func (s *source) locate(path string, err error) string {
	var fe *FieldError
	if !errors.As(err, &fe) {
		return path + ": " + err.Error()
	}
	key, block := fe.Key, -1
	shown := fe.Key
	if m := campaignKeyRe.FindStringSubmatch(fe.Key); m != nil {
		block, _ = strconv.Atoi(m[1])
		key, shown = "campaign", s.campaign(block)
		if m[2] != "" {
			key, shown = "campaign."+m[2], shown+": "+m[2]
		}
	}
	return at(path, s.line(key, block, 0)) + shown + ": " + fe.Msg
}

// at is "FILE:LINE: ", or "FILE: " when the line is not known.
func at(path string, line int) string {
	if line <= 0 {
		return path + ": "
	}
	return fmt.Sprintf("%s:%d: ", path, line)
}

// shownKey is how a key of the file is named in an error: dotted, and
// inside a [[campaign]] by the campaign's name.
func (s *source) shownKey(key string, block int) string {
	if block >= 0 && strings.HasPrefix(key, "campaign.") {
		return s.campaign(block) + ": " + strings.TrimPrefix(key, "campaign.")
	}
	return key
}

// keyAt is the key set on line n, if a key is.
func (s *source) keyAt(n int) (keyLine, bool) {
	for _, kl := range s.keys {
		if kl.line == n {
			return kl, true
		}
	}
	return keyLine{}, false
}

// typeErrRe matches the decoder's error for a value of the wrong type.
var typeErrRe = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

// decodeError turns an error of the TOML decoder into one line naming the
// file, the line and the key, with what was wanted; a secret's value is
// never shown (parseMessage).
func (s *source) decodeError(path string, b []byte, err error) error {
	var perr toml.ParseError
	if errors.As(err, &perr) {
		line := perr.Position.Line
		msg := parseMessage(perr, b)
		if kl, ok := s.keyAt(line); ok && !isSecretKey(kl.key) {
			msg = s.shownKey(kl.key, kl.block) + ": " + msg
		}
		return fmt.Errorf("%w: %s%s", ErrInvalid, at(path, line), msg)
	}
	m := typeErrRe.FindStringSubmatch(err.Error())
	if m == nil {
		return fmt.Errorf("%w: %s: %v", ErrInvalid, path, err)
	}
	line, _ := strconv.Atoi(m[1])
	return fmt.Errorf("%w: %s%s: %s", ErrInvalid, at(path, line), s.shownKey(m[2], s.blockAt(line)), typeMessage(m[3]))
}

var typesRe = regexp.MustCompile(`TOML value has type (\S+); destination has type (\S+)`)

// typeMessage says what a key wants and what it got, in words.
func typeMessage(msg string) string {
	m := typesRe.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	got := map[string]string{
		"string": "a string", "int64": "a whole number", "float64": "a decimal number", "bool": "true or false",
		"[]any": "a list", "[]interface": "a list", "map[string]any": "a table", "time.Time": "a date",
	}[m[1]]
	want := map[string]string{
		"integer": "a whole number, without quotes (port = 587)",
		"float":   "a number, without quotes",
		"slice":   `a list in brackets (sales_channels = ["Amazon.de"])`,
		"string":  `a string in quotes (dir = "/var/lib/campaignd/inbox")`,
		"boolean": "true or false, without quotes",
		"map":     "a table",
	}[m[2]]
	if got == "" || want == "" {
		return msg
	}
	return "want " + want + ", got " + got
}

// unknownKeys lists the keys of the file that the config does not have,
// each with its line, the campaign it is in, and the key that was most
// likely meant. A table that is unknown is named once, not with each of its
// keys.
func (s *source) unknownKeys(path string, md toml.MetaData) []string {
	undecoded := map[string]bool{}
	for _, k := range md.Undecoded() {
		undecoded[k.String()] = true
	}
	if len(undecoded) == 0 {
		return nil
	}
	known := knownKeys()
	var out []string
	block := -1
	seen := map[string]int{} // key in block → times seen
	for _, k := range md.Keys() {
		key := k.String()
		if key == "campaign" && md.Type(k...) == "ArrayHash" {
			block++
		}
		blk := -1
		if key == "campaign" || strings.HasPrefix(key, "campaign.") {
			blk = block
		}
		id := fmt.Sprintf("%s@%d", key, blk)
		nth := seen[id]
		seen[id]++
		if !undecoded[key] || undecoded[parent(key)] {
			continue
		}
		out = append(out, at(path, s.line(key, blk, nth))+s.unknown(key, blk, md.Type(k...), suggest(key, known)))
	}
	return out
}

// unknown is the message for an unknown key or table.
func (s *source) unknown(key string, block int, typ, meant string) string {
	msg := "unknown key " + key
	switch {
	case typ == "Hash":
		msg = "unknown table [" + key + "]"
	case typ == "ArrayHash":
		msg = "unknown table [[" + key + "]]"
	case block >= 0:
		msg = fmt.Sprintf("unknown key %s in %s", leaf(key), s.campaign(block))
	}
	switch {
	case meant == "":
		return msg
	case typ == "Hash":
		return msg + " (did you mean [" + meant + "]?)"
	case typ == "ArrayHash":
		return msg + " (did you mean [[" + meant + "]]?)"
	case parent(meant) == parent(key):
		return msg + " (did you mean " + leaf(meant) + "?)"
	default:
		return msg + " (did you mean " + meant + "?)"
	}
}
