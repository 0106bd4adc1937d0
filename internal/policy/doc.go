// Package policy holds the Amazon messaging policy campaignd embeds and checks
// templates and rendered review requests against it.
//
// # Rules as data
//
// The rules live in rules/*.toml, embedded in the binary with go:embed:
// rules/common.toml names every rule (id, a one-line summary a seller
// understands, and the "why" that ends each refusal) and holds the
// language-independent detectors (links, e-mail addresses, phone numbers,
// HTML, subject markers); rules/<lang>.toml holds, per language (en de fr es
// it ja), the phrase patterns of each rule, the neutral phrases that cancel
// them, the words that void a cancellation ("unless", "but", ...), the words
// that make a text a review request, and the stop words language detection
// counts. NewChecker compiles them once into an immutable Checker; the
// package-level functions use a lazily compiled default Checker.
//
// # Phrases, not words
//
// Text is normalised before phrase patterns run: accents are stripped
// (Latin scripts), full-width forms folded (NFKC for Japanese), letters
// lowercased, spaced-out or dotted letters joined ("f r e e" and "f.r.e.e"
// become "free"), digits inside words read as letters ("fr33" is "free"),
// and runs of star symbols become a count ("★★★★★" is "5 stars"). Patterns
// are RE2 regular expressions over that text, run per sentence. Sentences
// end at . ! ? ; 。！？, at blank lines, and at line ends that do not stop
// mid-phrase (after a link or a colon, say). Japanese patterns are
// substring patterns (no word boundaries); English patterns also run on
// templates in the other languages.
//
// A match is a violation unless a neutral phrase of the same rule overlaps
// it ("feel free", "free shipping", "positive or negative", "1 star or 5
// stars"), or a negation ("we do not offer", "no compensation", "nothing
// in return") overlaps it or stands within 40 bytes of it. A negation
// counts only when no spoiler ("but", "however", "if you") lies between it
// and the match and no condition ("unless", "except", "only if", "as long
// as") follows it in the sentence. So "we do not offer anything in return
// for your review" passes, while "we do not offer a gift card unless you
// leave a review" and "we offer nothing in return, but a 5-star review
// earns you a voucher" do not. This is a decision, not an accident: an
// honest disclaimer must not be refused, and a conditional one is a bribe.
//
// # Speed
//
// Every pattern carries keywords extracted from the expression itself
// (regexp/syntax): literals one of which starts or occurs in every match,
// and further literals every match needs. One pass of an Aho-Corasick
// automaton (a complete transition table over byte classes) finds them all;
// a pattern runs only on sentences that hold its keywords, and a pattern
// whose matches start with a keyword runs anchored at those places only.
// Bounded gaps such as ".{0,60}" are searched as ".*?" and confirmed with
// the exact expression, which keeps Go's matcher linear and cheap.
//
// # Template source and rendered messages
//
// CheckTemplate walks the parsed template: literal text (and string
// constants inside actions) is author text and gets every rule; a field
// such as {{.ProductName}} becomes an opaque placeholder; {{.ReviewURL}}
// counts as the allowed review link and {{.OrderID}} as the order id.
//
// Render records which byte ranges of the output came from data (field
// values) rather than from the template's own text; the ranges stay
// unexported on Message. CheckMessage applies the link, contact and media
// rules (P-LINK, P-CONTACT, P-MEDIA) to the whole message, so a URL, e-mail
// address, phone number, HTML tag or emoji injected through a product title
// is refused, while the phrase rules (P-INCENTIVE, P-POSITIVE, P-COUPON,
// P-MARKETING, ...) and language detection see only the template's own text:
// a title such as `Deluxe Gift Set "Free Shipping" 20% Off Edition` is not
// an incentive. A Message built by hand (not by Render) has no data ranges
// and is checked as author text throughout.
//
// Positions: template violations name the file's line and column (columns
// in runes). A rendered message is located as the text
// "Subject: <subject>\n\n<body>": line 1 is the subject line, the body
// starts on line 3.
package policy
