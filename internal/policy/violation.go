package policy

import (
	"fmt"
	"sort"
)

// Violation is one breach of a rule, located in a template file or a
// rendered message.
type Violation struct {
	Path    string // the template's path, or the label given to CheckMessage
	Line    int    // 1-based
	Col     int    // 1-based, in runes
	Rule    string // rule id, e.g. "P-INCENTIVE"
	Message string // what was found and why Amazon forbids it
}

// String formats v as "FILE:LINE:COL: RULE: message".
func (v Violation) String() string {
	return fmt.Sprintf("%s:%d:%d: %s: %s", v.Path, v.Line, v.Col, v.Rule, v.Message)
}

func sortViolations(vs []Violation) {
	sort.SliceStable(vs, func(i, j int) bool {
		a, b := vs[i], vs[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Col != b.Col {
			return a.Col < b.Col
		}
		return a.Rule < b.Rule
	})
}
