package policy

import (
	"strings"
	"text/template/parse"
)

// partBuilder turns a template parse tree into checkable text.
type partBuilder struct {
	p    *part
	sb   strings.Builder
	base int
}

func (b *partBuilder) emit(s string, origin int, kind uint8, fixed bool) {
	for i := 0; i < len(s); i++ {
		o := origin
		if !fixed {
			o = origin + i
		}
		b.sb.WriteByte(s[i])
		b.p.origin = append(b.p.origin, int32(o))
		b.p.kind = append(b.p.kind, kind)
	}
}

func (b *partBuilder) walk(n parse.Node, dotField string) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			b.walk(c, dotField)
		}
	case *parse.TextNode:
		b.emit(string(n.Text), b.base+int(n.Pos), kindText, false)
	case *parse.ActionNode:
		if len(n.Pipe.Decl) > 0 {
			return
		}
		b.action(n.Pipe, dotField, b.base+int(n.Pos))
	case *parse.IfNode:
		b.strings(n.Pipe)
		b.walk(n.List, dotField)
		if n.ElseList != nil {
			b.emit(" ", b.base+int(n.Pos), kindData, true)
			b.walk(n.ElseList, dotField)
		}
	case *parse.WithNode:
		b.strings(n.Pipe)
		f := fieldOf(n.Pipe, dotField)
		b.walk(n.List, f)
		if n.ElseList != nil {
			b.emit(" ", b.base+int(n.Pos), kindData, true)
			b.walk(n.ElseList, dotField)
		}
	}
}

// fieldOf returns the field a pipeline of one field reference names.
func fieldOf(p *parse.PipeNode, dotField string) string {
	if p == nil || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return ""
	}
	switch a := p.Cmds[0].Args[0].(type) {
	case *parse.FieldNode:
		return a.Ident[0]
	case *parse.VariableNode:
		if len(a.Ident) == 2 && a.Ident[0] == "$" {
			return a.Ident[1]
		}
	case *parse.DotNode:
		return dotField
	}
	return ""
}

// mentions reports whether the pipeline refers to field name.
func mentions(p *parse.PipeNode, name, dotField string) bool {
	if p == nil {
		return false
	}
	for _, c := range p.Cmds {
		for _, a := range c.Args {
			switch a := a.(type) {
			case *parse.FieldNode:
				if a.Ident[0] == name {
					return true
				}
			case *parse.VariableNode:
				if len(a.Ident) == 2 && a.Ident[1] == name {
					return true
				}
			case *parse.DotNode:
				if dotField == name {
					return true
				}
			case *parse.PipeNode:
				if mentions(a, name, dotField) {
					return true
				}
			}
		}
	}
	return false
}

func (b *partBuilder) action(p *parse.PipeNode, dotField string, origin int) {
	b.strings(p)
	switch f := fieldOf(p, dotField); {
	case f == "ReviewURL":
		b.emit("REVIEWURL", origin, kindReviewURL, true)
	case f == "OrderID" || mentions(p, "OrderID", dotField):
		b.emit("ORDERID", origin, kindOrderID, true)
	default:
		b.emit("FIELD", origin, kindData, true)
	}
}

// strings emits the string constants of a pipeline as author text.
func (b *partBuilder) strings(p *parse.PipeNode) {
	if p == nil {
		return
	}
	for _, c := range p.Cmds {
		for _, a := range c.Args {
			switch a := a.(type) {
			case *parse.StringNode:
				b.emit(" ", b.base+int(a.Pos), kindData, true)
				b.emit(a.Text, b.base+int(a.Pos)+1, kindText, false)
				b.emit(" ", b.base+int(a.Pos), kindData, true)
			case *parse.PipeNode:
				b.strings(a)
			}
		}
	}
}

// orderIDOnEveryPath reports whether executing n prints the order id
// whichever branches are taken; when it does not, at is the position of
// the branch that can leave it out.
func orderIDOnEveryPath(n parse.Node, dotField string) (ok bool, at parse.Pos) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return false, 0
		}
		var first parse.Pos = -1
		for _, c := range n.Nodes {
			ok, at := orderIDOnEveryPath(c, dotField)
			if ok {
				return true, 0
			}
			if at > 0 && first < 0 {
				first = at
			}
		}
		return false, max(first, 0)
	case *parse.ActionNode:
		return len(n.Pipe.Decl) == 0 && (fieldOf(n.Pipe, dotField) == "OrderID" || mentions(n.Pipe, "OrderID", dotField)), 0
	case *parse.IfNode:
		return branchesPrint(&n.BranchNode, dotField, dotField)
	case *parse.WithNode:
		f := fieldOf(n.Pipe, dotField)
		if f == "OrderID" {
			// The order id is never empty: the with branch always runs.
			ok, _ := orderIDOnEveryPath(n.List, f)
			return ok, n.Pos
		}
		return branchesPrint(&n.BranchNode, f, dotField)
	}
	return false, 0
}

// branchesPrint reports whether both branches of an if or with print the
// order id.
func branchesPrint(b *parse.BranchNode, listDot, elseDot string) (bool, parse.Pos) {
	inList, _ := orderIDOnEveryPath(b.List, listDot)
	inElse := false
	if b.ElseList != nil {
		inElse, _ = orderIDOnEveryPath(b.ElseList, elseDot)
	}
	if inList && inElse {
		return true, 0
	}
	if inList || inElse || mentionsAnywhere(b.List, "OrderID") || b.ElseList != nil && mentionsAnywhere(b.ElseList, "OrderID") {
		return false, b.Pos
	}
	return false, 0
}

// mentionsAnywhere reports whether a node prints or tests field name
// anywhere below it.
func mentionsAnywhere(n parse.Node, name string) bool {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return false
		}
		for _, c := range n.Nodes {
			if mentionsAnywhere(c, name) {
				return true
			}
		}
	case *parse.ActionNode:
		return mentions(n.Pipe, name, "")
	case *parse.IfNode:
		return mentionsAnywhere(n.List, name) || n.ElseList != nil && mentionsAnywhere(n.ElseList, name)
	case *parse.WithNode:
		return mentionsAnywhere(n.List, name) || n.ElseList != nil && mentionsAnywhere(n.ElseList, name)
	}
	return false
}
