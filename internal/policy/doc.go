// Package policy holds the Amazon messaging policy campaignd embeds and checks
// templates and rendered review requests against it.
//
// # Rules as data
//
// The rules live in rules/*.toml, embedded in the binary with go:embed.
// rules/common.toml names every rule (id, a one-line summary a seller
// understands, and the "why" that ends each refusal), declares the
// concepts the checker reads (a benefit, a review as the condition of
// something, the buyer being satisfied, contacting the seller first, an
// earlier message, ...), holds the combination rules that say which
// concepts together in one sentence break which rule, and the detectors
// that need no words (links, e-mail addresses, phone numbers, HTML, emoji,
// subject marks). rules/<lang>.toml gives, for each language (en de fr es
// it ja), the words and phrases of every concept, the words that negate,
// and the stop words language detection counts. NewChecker compiles them
// once into an immutable Checker; the package-level functions use a lazily
// compiled default Checker.
//
// # Concepts, not phrases
//
// A part of a message (subject, body, a field's value) is normalised
// (accents stripped, full-width forms folded, "f r e e" and "fr33" read as
// "free", "★★★★★" as "5 stars"), cut into sentences and tokenised. In the
// Latin-script languages each word is reduced to its Snowball stem, so a
// lexicon phrase "leave .. review" finds "leaving a short review" and
// "gift card" finds "gift cards". Where phrases overlap, the longest wins:
// "feel free" hides "free", "gift card" hides "gift", "we'd love" hides
// "love". A negation marks the concepts in its scope: forward to the end
// of its clause (and across a comma while a list of things goes on: "no
// gifts, discounts or samples"), backward to the start of its clause
// (Japanese ません), or both (German nicht); a condition later in the
// sentence ("unless you leave five stars") voids it, so a conditional
// disclaimer is an offer. A concept used as a noun's modifier or in a
// capitalised name ("Five Star notebooks", "Coupon Organizer", "lavagna
// promemoria") is not itself.
//
// A word right after a question word is what the question asks about:
// "tell others how you liked it" asks for an opinion and presumes no
// satisfaction (asked_as).
//
// A combination rule then fires when all of its concepts occur, not
// negated, in one sentence, in relation: within a number of words and in
// order where it says so, the first governing the second ("if" a few
// words before "you are happy", in one clause: near), not in a question
// where it says so ("Would you recommend it to a friend?" asks whether),
// and none of its cancelling concepts occurs ("positive or negative",
// "one star or five"); some look at the previous sentence too ("Thrilled
// with it? Tell the world."). The first rule that fires names the
// finding, and a rule may replace another in the sentence: a discount for
// a review is P-INCENTIVE, not also P-COUPON.
//
// A message must ask for a review: a "request" rule fires in a sentence
// (an invitation and a review; the buyer's own review as useful, "your
// review helps", not "reviews from our customers helped us"), or reads
// across the sentences of the body (the review link with inviting words
// anywhere). A finding of a rule marked asks (an incentive, a positive or
// change request, ...) is itself a request, so such a message is not also
// refused as asking for none.
//
// # Japanese
//
// Japanese is matched on the text itself: each phrase is found as a
// substring (one pass of an Aho-Corasick automaton), verbs are listed by
// their unchanging part (見直 finds 見直して and 見直していただけ), and a
// phrase may not end inside a longer katakana or kanji word. A
// morphological analyser was measured and not used: kagome v2.10.3 with
// its IPA dictionary (github.com/ikawaha/kagome-dict/ipa v1.2.6) takes
// about 490 ms to load its dictionary and 2.6 ms to tokenise a 10 KB
// Japanese message on this project's build machine (measured with a
// scratch program, median of 20 runs), against budgets of 50 ms for
// compiling every rule and 1 ms for checking a 10 KB message. The
// substring lexicon compiles in a few milliseconds and checks a 10 KB
// Japanese message in well under a millisecond (BenchmarkCheckMessage10KLang).
//
// # Structure
//
// P-ORDERID holds when the order id is printed on every path through the
// template's parse tree ({{if}} and {{with}} branches). P-LANGUAGE reads
// the body as a whole, then each sentence and the subject: a body in
// another language is one finding naming it (any language detection
// knows, Dutch, Chinese and Korean included), and so is each passage or
// subject in another language. P-LINK and P-CONTACT find addresses
// written out or spaced ("name (at) shop (dot) com", "hallo at shop dot
// de", "www . shop . fr", "shop followed by .com/care"), the @ named in
// words a few words before a spelled dot, phone numbers in groups, in
// digit words of the six languages ("five five five, ...", "zéro six,
// douze, ...") or in kanji digits, and messenger IDs; a link to a social
// network is also P-MARKETING. The words of a reported link or address
// are not read again as sentences. The looser detectors run only near
// their markers (the @ named, a dot before a top-level domain, a
// messenger's name), so a long message stays cheap.
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
// unexported on Message. CheckMessage applies the structural detectors to
// the whole message, so a URL, e-mail address, phone number, messenger
// account, HTML tag or emoji injected through a product title is refused.
// The sentence rules read the template's own text; text from data is read
// only by the rules written for it: a product title is the seller's own
// listing text, and a sentence in it that asks for a review with a benefit
// or for five stars ("Leave a 5-star review and get a free refund") is
// refused, while product nouns ("Free Gift Wrap Kit", "5 Star Hotel
// Towels") are not.
//
// Positions: template violations name the file's line and column (columns
// in runes). A rendered message is located as the text
// "Subject: <subject>\n\n<body>": line 1 is the subject line, the body
// starts on line 3.
package policy
