package policy

import (
	"fmt"
	"strings"
)

// foreignRun is a subject, or a stretch of consecutive body sentences,
// that reads as another language than the declared one.
type foreignRun struct {
	lang     string
	subject  bool
	from, to int // source offsets
	last     int // index of its last sentence
}

// bodyLanguage detects the language of the body's author text and reports
// whether it is clearly another one than the declared language.
func (k *check) bodyLanguage(nt normText) (string, bool) {
	var n langCount
	s := nt.s
	if len(s) > maxDetect {
		s = s[:maxDetect]
	}
	k.c.count(&n, s)
	got, ok := k.c.foreign(&n, k.lang, 3)
	if !ok || n.words < 4 && n.kana+n.han < 6 && n.letters-n.latin < 6 {
		return "", false
	}
	return got, true
}

// noteLanguage records sentence sn of part p when it reads as another
// language: a subject with two words of it, a body sentence with three.
func (k *check) noteLanguage(p *part, nt normText, sn sentence, st *sentenceTags) {
	var n langCount
	k.c.countTokens(&n, st)
	minScore := 3
	if p.subject {
		minScore = 2
	} else if n.words < 4 && n.kana+n.han < 6 && n.letters-n.latin < 4 {
		return
	}
	got, ok := k.c.foreign(&n, k.lang, minScore)
	if !ok {
		k.sentence++
		return
	}
	first, last := st.toks[0], st.toks[len(st.toks)-1]
	from := p.src(int(nt.off[sn.start+int(first.start)]))
	to := p.src(nt.endOf(sn.start+int(last.end)-1)-1) + 1
	if r := len(k.foreign) - 1; r >= 0 && !p.subject && !k.foreign[r].subject && k.foreign[r].lang == got && k.foreign[r].last == k.sentence-1 {
		k.foreign[r].to, k.foreign[r].last = to, k.sentence
	} else {
		k.foreign = append(k.foreign, foreignRun{lang: got, subject: p.subject, from: from, to: to, last: k.sentence})
	}
	k.sentence++
}

// countTokens counts the author words and letters of a tagged sentence
// for language detection.
func (c *Checker) countTokens(n *langCount, st *sentenceTags) {
	for _, t := range st.toks {
		if t.kind != tokWord {
			continue
		}
		w := st.text[t.start:t.end]
		switch t.script {
		case scriptLatin:
			n.latin += len(w)
			n.letters += len(w)
			n.words++
			if i := strings.IndexByte(w, '\''); i > 0 && i < len(w)-1 {
				c.countWord(n, w[:i+1])
				w = w[i+1:]
			}
			c.countWord(n, w)
		default:
			c.count(n, w)
		}
	}
}

// reportLanguage reports a body in another language once, or else each
// foreign subject and stretch of sentences.
func (k *check) reportLanguage(langOff, bodyOff int, bodyLang string, foreignBody bool) {
	name := k.c.langName
	if foreignBody {
		if !k.declared {
			k.add("P-LANGUAGE", langOff, fmt.Sprintf(k.c.messages["lang_missing"], name(bodyLang), bodyLang), "")
			return
		}
		k.add("P-LANGUAGE", bodyOff, fmt.Sprintf(k.c.messages["lang_text"], name(bodyLang), k.lang), "")
		return
	}
	for _, r := range k.foreign {
		key := "lang_sentence"
		if r.subject {
			key = "lang_subject"
		}
		k.add("P-LANGUAGE", r.from, fmt.Sprintf(k.c.messages[key], name(r.lang), k.lang), k.excerpt(r.from, r.to))
	}
}

// analyzeData reads the text of a rendered message that came from order
// data (a product title, say) with the rules that apply to it: a title is
// the seller's own listing text, so a sentence in it that asks for a
// review in a forbidden way is refused, while product nouns ("Free Gift
// Wrap Kit", "5 Star Hotel Towels") are not.
func (k *check) analyzeData(p *part, lx *lexicon) {
	if lx == nil {
		return
	}
	lexicons := []*lexicon{lx}
	if en := k.c.lex["en"]; en != lx {
		lexicons = append(lexicons, en)
	}
	for i := 0; i < len(p.text); {
		if p.kind[i] != kindData {
			i++
			continue
		}
		j := i
		for j < len(p.text) && p.kind[j] == kindData {
			j++
		}
		run := &part{subject: p.subject, text: p.text[i:j], base: p.src(i)}
		nt := normalize(run.text, nil)
		for _, l := range lexicons {
			k.analyzeDataText(run, nt, l)
		}
		i = j
	}
}

func (k *check) analyzeDataText(p *part, nt normText, lx *lexicon) {
	for _, sn := range appendSentences(nil, nt.s) {
		st := k.tagSentence(lx, p.text, nt, sn, nil)
		for _, f := range k.fire(st, nil, lx.lang, p.subject, true) {
			if f.cb.Rule != requestRule {
				k.report(p, nt, sn, f.cb.Rule, sn.start+int(f.b0), sn.start+int(f.b1))
			}
		}
	}
}
