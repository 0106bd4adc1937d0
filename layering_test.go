package campaignd_test

import (
	"go/build"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// module is campaignd's module path.
const module = "campaignd"

// layers is the dependency direction of campaignd (DESIGN.md, "Layout"):
// for each package, the campaignd packages it may import. The pure domain
// (marketplace, orders, policy) sits at the bottom and imports nothing but
// the marketplace table; adapters (ledger, channel, inbox, control...) sit
// above it; the scheduler decides and sends through them; cmd/campaignd
// alone wires everything. A new package gets a line here, which is where
// its place in the layering is decided.
var layers = map[string][]string{
	"internal/marketplace":               {},
	"internal/orders":                    {},
	"internal/policy":                    {"internal/marketplace"},
	"internal/ledger":                    {"internal/fetch", "internal/orders"},
	"internal/ledger/benchgen":           {},
	"internal/ledger/benchgen/genreport": {"internal/ledger/benchgen"},
	"internal/lwa":                       {},
	"internal/channel":                   {"internal/lwa"},
	"internal/inbox":                     {},
	"internal/control":                   {},
	"internal/sdnotify":                  {},
	"internal/fetch":                     {},
	"internal/fetch/fetchtest":           {},
	"internal/config":                    {"internal/fetch", "internal/marketplace", "internal/orders"},
	"internal/scheduler":                 {"internal/channel", "internal/config", "internal/ledger", "internal/marketplace", "internal/orders", "internal/policy"},
	"cmd/campaignd":                      {"*"},
}

// pure are the packages that do no I/O beyond reading what they are given:
// no database, no network, no processes or signals, no watched folders.
var pure = []string{"internal/marketplace", "internal/orders", "internal/policy"}

// impure are the imports a pure package may not have; "/..." at the end
// takes in every package below. (net/url and net/mail only parse text.)
var impure = []string{
	"go.etcd.io/bbolt/...", "net", "net/http/...", "net/rpc/...", "net/smtp", "os/exec", "os/signal",
	"syscall", "golang.org/x/sys/...", "github.com/fsnotify/fsnotify", "github.com/wneessen/go-mail/...",
	"github.com/emersion/go-smtp", "github.com/robfig/cron/...",
}

// owners are imports that only one package may have: the ledger owns bbolt.
var owners = map[string]string{"go.etcd.io/bbolt/...": "internal/ledger"}

// TestLayering reads the imports of every package (test files aside) and
// fails on any that goes against the layering above.
func TestLayering(t *testing.T) {
	pkgs := packages(t)
	for _, rel := range slices.Sorted(func(yield func(string) bool) {
		for p := range pkgs {
			if !yield(p) {
				return
			}
		}
	}) {
		allowed, known := layers[rel]
		if !known {
			t.Errorf("%s is not in the layering table of layering_test.go: give it its place", rel)
			continue
		}
		for _, imp := range pkgs[rel] {
			checkImport(t, rel, imp, allowed)
		}
	}
	for rel := range layers {
		if _, ok := pkgs[rel]; !ok {
			t.Errorf("layering_test.go names %s, which is not a package any more", rel)
		}
	}
}

func checkImport(t *testing.T, pkg, imp string, allowed []string) {
	t.Helper()
	if dep, ok := strings.CutPrefix(imp, module+"/"); ok {
		if !slices.Contains(allowed, "*") && !slices.Contains(allowed, dep) {
			t.Errorf("%s imports %s: against the layering (it may import %v)", pkg, dep, allowed)
		}
		return
	}
	if slices.Contains(pure, pkg) && slices.ContainsFunc(impure, func(p string) bool { return matches(imp, p) }) {
		t.Errorf("%s imports %s, but it is pure (no database, network, processes or signals)", pkg, imp)
	}
	for prefix, owner := range owners {
		if matches(imp, prefix) && pkg != owner {
			t.Errorf("%s imports %s, which only %s may use", pkg, imp, owner)
		}
	}
}

// matches reports whether import path imp is pattern, or below it when
// pattern ends in "/...".
func matches(imp, pattern string) bool {
	if root, ok := strings.CutSuffix(pattern, "/..."); ok {
		return imp == root || strings.HasPrefix(imp, root+"/")
	}
	return imp == pattern
}

// packages maps every package under cmd/ and internal/ (by its path inside
// the module) to its non-test imports.
func packages(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, root := range []string{"cmd", "internal"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return err
			}
			if d.Name() == "testdata" {
				return filepath.SkipDir
			}
			p, err := build.ImportDir(path, 0)
			if _, none := err.(*build.NoGoError); none {
				return nil
			}
			if err != nil {
				return err
			}
			out[filepath.ToSlash(path)] = p.Imports
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(out) == 0 {
		t.Fatal("no packages found: run the test from the module's root")
	}
	return out
}
