package policy

import (
	"flag"
	"fmt"
	"strings"
	"testing"
)

var (
	debugText = flag.String("debug.text", "", "print what the tagger finds in this text (TestDebugText)")
	debugLang = flag.String("debug.lang", "en", "language of -debug.text")
)

// describe returns the tokens, concept occurrences and fired rules of each
// sentence of text, as the checker sees them: a tool for writing rules.
func describe(c *Checker, lang, text string) string {
	lx := c.lex[lang]
	k := c.newCheck(newLocator("debug", text), lang)
	defer c.putScratch(k.sc)
	nt := normalize(text, nil)
	codes := codeRuns(&part{text: text, kind: make([]uint8, len(text))})
	var b strings.Builder
	var prev *prevSentence
	for _, sn := range appendSentences(nil, nt.s) {
		st := k.tagSentence(lx, text, nt, sn, codes)
		fmt.Fprintf(&b, "sentence %q\n  tokens:", st.text)
		for _, t := range st.toks {
			fmt.Fprintf(&b, " %s", st.text[t.start:t.end])
			if t.stem != "" && t.stem != st.text[t.start:t.end] {
				fmt.Fprintf(&b, "(%s)", t.stem)
			}
		}
		b.WriteString("\n  concepts:")
		for _, o := range st.occs {
			neg := ""
			if o.neg {
				neg = "!"
			}
			fmt.Fprintf(&b, " %s%s[%s]", neg, c.concepts[o.c].Name, tokText(st, o.t0, o.t1))
		}
		b.WriteString("\n  fired:")
		for _, f := range k.fire(st, prev.tags(), lang, false, false) {
			fmt.Fprintf(&b, " %s(%s %q)", f.cb.Rule, f.cb.Name, st.text[f.b0:f.b1])
		}
		b.WriteString("\n")
		prev = &prevSentence{yes: st.yes, no: st.no, quest: st.quest}
	}
	return b.String()
}

func tokText(st *sentenceTags, t0, t1 int32) string {
	return st.text[st.toks[t0].start:st.toks[t1-1].end]
}

func TestDebugText(t *testing.T) {
	if *debugText == "" {
		t.Skip("no -debug.text given")
	}
	t.Log("\n" + describe(Default(), *debugLang, *debugText))
}
