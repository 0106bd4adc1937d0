package policy

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"text/template"
	"text/template/parse"
	"unicode/utf8"
)

// ErrTemplate is returned (wrapped, with path:line:col) when a template file
// cannot be parsed: a bad header, an unknown field or a template syntax error.
var ErrTemplate = errors.New("invalid template")

// ErrRender is returned (wrapped) when executing a template fails or its
// output exceeds MaxMessageSize.
var ErrRender = errors.New("render template")

// MaxMessageSize bounds a rendered subject or body, in bytes.
const MaxMessageSize = 64 << 10

// Fields are the data fields a template may use.
var fieldNames = map[string]bool{
	"OrderID": true, "ProductName": true, "ReviewURL": true,
	"BuyerName": true, "SellerName": true, "Marketplace": true,
}

// allowedFuncs are the template functions a template may call. Functions
// that could loop, allocate without bound or call out are not offered.
var allowedFuncs = map[string]bool{
	"and": true, "or": true, "not": true, "eq": true, "ne": true,
	"lt": true, "le": true, "gt": true, "ge": true, "len": true,
	"print": true, "println": true, "printf": true, "slice": true, "index": true,
}

var bigWidth = regexp.MustCompile(`%[-+# 0]*(\d{3,}|\*)|\.(\d{3,}|\*)`)

// Template is one parsed template file.
type Template struct {
	Path     string // as given, used in violations
	Subject  string // raw subject source (template text)
	Language string // declared, default "en"
	Body     string // raw body source

	src         string // whole file, CRLF folded to LF
	subjectOff  int    // byte offset of Subject in src
	bodyOff     int    // byte offset of Body in src
	languageOff int    // byte offset of the Language header line, -1 if absent
	subject     *template.Template
	body        *template.Template
}

// Data is what a template is rendered with. Every value is inserted as
// plain text.
type Data struct {
	OrderID, ProductName, ReviewURL, BuyerName, SellerName, Marketplace string
}

// Message is a rendered review request.
type Message struct {
	Subject, Body, Language string

	// subjectData and bodyData are the byte ranges of Subject and Body that
	// came from Data values rather than from the template's text.
	subjectData, bodyData []span
}

// span is a byte range of rendered text that came from data; kind is
// kindData, or kindReviewURL for the review link.
type span struct {
	start, end int
	kind       uint8
}

// LoadTemplate reads and parses a template file.
func LoadTemplate(path string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load template: %w", err)
	}
	return ParseTemplate(path, b)
}

// ParseTemplate parses a template file's bytes: a header block (Subject:,
// optional Language:), a blank line, then the body. Errors name
// path:line:col and wrap ErrTemplate.
func ParseTemplate(path string, src []byte) (*Template, error) {
	if !utf8.Valid(src) {
		return nil, fmt.Errorf("%s:1:1: file is not valid UTF-8: %w", path, ErrTemplate)
	}
	s := strings.ReplaceAll(string(src), "\r\n", "\n")
	s = strings.TrimPrefix(s, "\ufeff")
	t := &Template{Path: path, src: s, languageOff: -1, Language: "en", subjectOff: -1}
	if err := t.parseHeaders(); err != nil {
		return nil, err
	}
	if t.subjectOff < 0 || strings.TrimSpace(t.Subject) == "" {
		return nil, t.errAt(0, "missing Subject: header")
	}
	t.Body = s[t.bodyOff:]
	var err error
	if t.subject, err = t.parse("subject", t.Subject, t.subjectOff); err != nil {
		return nil, err
	}
	if t.body, err = t.parse("body", t.Body, t.bodyOff); err != nil {
		return nil, err
	}
	return t, nil
}

// errAt returns an ErrTemplate error located at byte off of the file.
func (t *Template) errAt(off int, format string, args ...any) error {
	line, col := lineCol(t.src, off)
	return fmt.Errorf("%s:%d:%d: %s: %w", t.Path, line, col, fmt.Sprintf(format, args...), ErrTemplate)
}

// parseHeaders reads the header block up to the blank line before the
// body.
func (t *Template) parseHeaders() error {
	s := t.src
	seen := map[string]bool{}
	for off := 0; ; {
		end := strings.IndexByte(s[min(off, len(s)):], '\n')
		if off >= len(s) || end < 0 {
			return t.errAt(len(s), "no blank line after the header block")
		}
		line := s[off : off+end]
		if strings.TrimSpace(line) == "" {
			t.bodyOff = off + end + 1
			return nil
		}
		if err := t.header(line, off, seen); err != nil {
			return err
		}
		off += end + 1
	}
}

// header reads one "Key: value" header line that starts at byte off.
func (t *Template) header(line string, off int, seen map[string]bool) error {
	colon := strings.IndexByte(line, ':')
	if colon <= 0 {
		return t.errAt(off, "header line %q is not \"Key: value\"", line)
	}
	key := strings.TrimSpace(line[:colon])
	vstart := colon + 1
	for vstart < len(line) && (line[vstart] == ' ' || line[vstart] == '\t') {
		vstart++
	}
	value := strings.TrimRight(line[vstart:], " \t")
	lk := strings.ToLower(key)
	if seen[lk] {
		return t.errAt(off, "header %q given twice", key)
	}
	seen[lk] = true
	switch lk {
	case "subject":
		t.Subject, t.subjectOff = value, off+vstart
	case "language":
		v := strings.ToLower(value)
		if len(v) != 2 || v[0] < 'a' || v[0] > 'z' || v[1] < 'a' || v[1] > 'z' {
			return t.errAt(off+vstart, "language %q is not a two-letter code such as en or de", value)
		}
		t.Language, t.languageOff = v, off
	default:
		return t.errAt(off, "unknown header %q (allowed: Subject, Language)", key)
	}
	return nil
}

var tmplErrRE = regexp.MustCompile(`^template: [^:]*:(\d+):(?:(\d+):)? ?(.*)$`)

// parse parses one part (subject or body) whose text starts at byte base of
// the file and validates what it uses.
func (t *Template) parse(name, text string, base int) (*template.Template, error) {
	funcs := template.FuncMap{}
	tp, err := template.New(name).Option("missingkey=error").Funcs(funcs).Parse(text)
	if err != nil {
		msg := err.Error()
		line, col := lineCol(t.src, base)
		if m := tmplErrRE.FindStringSubmatch(msg); m != nil {
			var l int
			fmt.Sscan(m[1], &l)
			if l > 1 {
				line += l - 1
				col = 1
			}
			msg = m[3]
		}
		return nil, fmt.Errorf("%s:%d:%d: %s %s: %w", t.Path, line, col, name, msg, ErrTemplate)
	}
	if len(tp.Templates()) > 1 {
		return nil, t.errNode(base, text, 0, "define and block are not allowed in a template")
	}
	if tp.Tree == nil || tp.Root == nil {
		return tp, nil
	}
	if err := t.validate(tp.Root, true, base, text); err != nil {
		return nil, err
	}
	return tp, nil
}

func (t *Template) errNode(base int, text string, pos parse.Pos, format string, args ...any) error {
	p := int(pos)
	if p > len(text) {
		p = len(text)
	}
	line, col := lineCol(t.src, base+p)
	return fmt.Errorf("%s:%d:%d: %s: %w", t.Path, line, col, fmt.Sprintf(format, args...), ErrTemplate)
}

// validate walks the parse tree: only the known fields, the allowed
// functions, and no range/template/break/continue. dotIsData tells whether
// dot is the Data value (outside with) or a field's string (inside with).
func (t *Template) validate(n parse.Node, dotIsData bool, base int, text string) error {
	if n == nil {
		return nil
	}
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil {
			return t.validateAll(n.Nodes, dotIsData, base, text)
		}
	case *parse.ActionNode:
		return t.validate(n.Pipe, dotIsData, base, text)
	case *parse.PipeNode:
		if n != nil {
			for _, c := range n.Cmds {
				if err := t.validate(c, dotIsData, base, text); err != nil {
					return err
				}
			}
		}
	case *parse.CommandNode:
		if err := t.checkPrintf(n, base, text); err != nil {
			return err
		}
		return t.validateAll(n.Args, dotIsData, base, text)
	case *parse.IfNode:
		return t.branches(&n.BranchNode, dotIsData, dotIsData, base, text)
	case *parse.WithNode:
		return t.branches(&n.BranchNode, false, dotIsData, base, text)
	default:
		return t.validateLeaf(n, dotIsData, base, text)
	}
	return nil
}

func (t *Template) validateAll(nodes []parse.Node, dotIsData bool, base int, text string) error {
	for _, c := range nodes {
		if err := t.validate(c, dotIsData, base, text); err != nil {
			return err
		}
	}
	return nil
}

// checkPrintf refuses a printf whose width or precision could make a huge
// message.
func (t *Template) checkPrintf(n *parse.CommandNode, base int, text string) error {
	if len(n.Args) < 2 {
		return nil
	}
	if id, ok := n.Args[0].(*parse.IdentifierNode); ok && id.Ident == "printf" {
		if s, ok := n.Args[1].(*parse.StringNode); ok && bigWidth.MatchString(s.Text) {
			return t.errNode(base, text, s.Pos, "printf width or precision too large")
		}
	}
	return nil
}

// validateLeaf checks the nodes that hold no other nodes to validate.
func (t *Template) validateLeaf(n parse.Node, dotIsData bool, base int, text string) error {
	switch n := n.(type) {
	case *parse.TextNode, *parse.CommentNode, *parse.DotNode, *parse.StringNode, *parse.NumberNode, *parse.BoolNode, *parse.NilNode:
		return nil
	case *parse.IdentifierNode:
		if !allowedFuncs[n.Ident] {
			return t.errNode(base, text, n.Pos, "function %q is not allowed in a template", n.Ident)
		}
		return nil
	case *parse.FieldNode:
		return t.checkField(n.Ident, n.Pos, dotIsData, base, text)
	case *parse.ChainNode:
		return t.errNode(base, text, n.Pos, "field chains are not allowed")
	case *parse.VariableNode:
		if len(n.Ident) > 1 && n.Ident[0] == "$" {
			return t.checkField(n.Ident[1:], n.Pos, true, base, text)
		}
		if len(n.Ident) > 1 {
			return t.errNode(base, text, n.Pos, "unknown field %s", strings.Join(n.Ident, "."))
		}
		return nil
	case *parse.RangeNode:
		return t.errNode(base, text, n.Pos, "range is not allowed in a template")
	case *parse.TemplateNode:
		return t.errNode(base, text, n.Pos, "template calls are not allowed")
	case *parse.BreakNode, *parse.ContinueNode:
		return t.errNode(base, text, n.Position(), "break and continue are not allowed")
	}
	return t.errNode(base, text, n.Position(), "unsupported template construct %s", n)
}

func (t *Template) branches(b *parse.BranchNode, listDot, elseDot bool, base int, text string) error {
	if err := t.validate(b.Pipe, elseDot, base, text); err != nil {
		return err
	}
	if err := t.validate(b.List, listDot, base, text); err != nil {
		return err
	}
	if b.ElseList != nil {
		return t.validate(b.ElseList, elseDot, base, text)
	}
	return nil
}

func (t *Template) checkField(ident []string, pos parse.Pos, dotIsData bool, base int, text string) error {
	name := "." + strings.Join(ident, ".")
	if !dotIsData {
		return t.errNode(base, text, pos, "field %s used inside with, where dot is a string; use $%s", name, name)
	}
	if len(ident) != 1 || !fieldNames[ident[0]] {
		return t.errNode(base, text, pos, "unknown field %s (fields: .OrderID .ProductName .ReviewURL .BuyerName .SellerName .Marketplace)", name)
	}
	return nil
}

// Render executes the template with d. Data values are inserted as plain
// text (no escaping); line breaks in the rendered subject become spaces.
func (t *Template) Render(d Data) (Message, error) {
	subj, sspans, err := execute(t.subject, d)
	if err != nil {
		return Message{}, fmt.Errorf("%s: subject: %w", t.Path, err)
	}
	body, bspans, err := execute(t.body, d)
	if err != nil {
		return Message{}, fmt.Errorf("%s: body: %w", t.Path, err)
	}
	subj = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, subj)
	return Message{Subject: subj, Body: body, Language: t.Language, subjectData: sspans, bodyData: bspans}, nil
}

// spanWriter collects the output of a template execution and records which
// writes did not come from the template's own text nodes.
type spanWriter struct {
	buf    bytes.Buffer
	text   map[*byte]int // first byte of each TextNode's text -> its length
	values []dataValue   // non-empty data values
	spans  []span
}

var errTooLong = fmt.Errorf("output longer than %d bytes", MaxMessageSize)

func (w *spanWriter) Write(p []byte) (int, error) {
	if w.buf.Len()+len(p) > MaxMessageSize {
		return 0, errTooLong
	}
	start := w.buf.Len()
	w.buf.Write(p)
	if len(p) == 0 {
		return 0, nil
	}
	if n, ok := w.text[&p[0]]; ok && n == len(p) {
		return len(p), nil
	}
	// Output of an action: data when it is (part of) a data value; a
	// constant the template printed ({{"..."}}) stays author text.
	s := string(p)
	for _, v := range w.values {
		if strings.Contains(v.text, s) {
			w.spans = append(w.spans, span{start, start + len(p), v.kind})
			break
		}
	}
	return len(p), nil
}

// dataValue is a field value and the kind of text it is.
type dataValue struct {
	text string
	kind uint8
}

func execute(tp *template.Template, d Data) (string, []span, error) {
	w := &spanWriter{text: map[*byte]int{}}
	collectText(tp.Root, w.text)
	if d.ReviewURL != "" {
		w.values = append(w.values, dataValue{d.ReviewURL, kindReviewURL})
	}
	for _, v := range []string{d.OrderID, d.ProductName, d.BuyerName, d.SellerName, d.Marketplace} {
		if v != "" {
			w.values = append(w.values, dataValue{v, kindData})
		}
	}
	if err := tp.Execute(w, d); err != nil {
		return "", nil, fmt.Errorf("%w: %w", ErrRender, err)
	}
	return w.buf.String(), w.spans, nil
}

func collectText(n parse.Node, m map[*byte]int) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			collectText(c, m)
		}
	case *parse.TextNode:
		if len(n.Text) > 0 {
			m[&n.Text[0]] = len(n.Text)
		}
	case *parse.IfNode:
		collectText(n.List, m)
		collectText(n.ElseList, m)
	case *parse.WithNode:
		collectText(n.List, m)
		collectText(n.ElseList, m)
	}
}

// lineCol returns the 1-based line and rune column of byte offset off in s.
func lineCol(s string, off int) (int, int) {
	if off > len(s) {
		off = len(s)
	}
	line := 1 + strings.Count(s[:off], "\n")
	ls := strings.LastIndexByte(s[:off], '\n') + 1
	return line, 1 + utf8.RuneCountInString(s[ls:off])
}
