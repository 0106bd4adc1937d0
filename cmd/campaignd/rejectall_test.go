package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// excelReport is an All Orders report re-saved by a spreadsheet with US
// dates: every one of its n rows is rejected.
func excelReport(n int) string {
	var b strings.Builder
	b.WriteString(allOrdersHeader)
	for i := range n {
		b.WriteString(line(fmt.Sprintf("111-%07d-%07d", i, i), "11/15/2026 10:00", "11/16/2026 10:00", "Shipped - Delivered to Buyer", "Amazon.com", "Mug", "Shipped"))
	}
	return b.String()
}

// A file that yields no order while rejecting rows is rejected: exit 1,
// filed in rejected/ with every rejected row in its .error.txt, the causes
// summarised in the output, shown among status's recent problems, and
// logged at WARN.
func TestFileOfRejectedRowsIsRejected(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := testConfig(t, dir, "")
	f := writeFile(t, filepath.Join(dir, "drop", "export.txt"), excelReport(40))
	r := cli(t, "ingest", "--config", cfg, f)
	if r.code != exitProblem {
		t.Fatalf("ingest of a file whose 40 rows were all rejected: exit %d, want %d\n%s%s", r.code, exitProblem, r.stdout, r.stderr)
	}
	for _, want := range []string{"export.txt: rejected: no order could be read from it", "40 rows: dates like", "was the report re-saved in Excel?", "error.txt"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("ingest output does not say %q:\n%s", want, r.stdout)
		}
	}
	if len(strings.Split(strings.TrimSpace(r.stdout), "\n")) > 5 {
		t.Errorf("ingest output lists the rows one by one instead of summarising them:\n%s", r.stdout)
	}
	assertGone(t, filepath.Join(dir, "var", "processed", "export.txt"))
	errText, err := os.ReadFile(filepath.Join(dir, "var", "rejected", "export.txt.error.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 2; i <= 41; i++ {
		if !strings.Contains(string(errText), fmt.Sprintf("export.txt:%d: purchase-date", i)) {
			t.Fatalf(".error.txt does not list line %d:\n%s", i, errText)
		}
	}

	st := cli(t, "status", "--config", cfg).stdout
	if strings.Contains(st, "recent problems:\n  none") || !strings.Contains(st, "file export.txt rejected: no order could be read") {
		t.Errorf("status does not show the rejected file among the recent problems:\n%s", st)
	}
	if s := status(t, cfg); s.Orders["total"] != 0 {
		t.Errorf("the rejected file changed the ledger: %v", s.Orders)
	}

	// Through the inbox: the same, and the log says so at WARN.
	writeFile(t, filepath.Join(dir, "var", "inbox", "again.txt"), excelReport(12))
	r = cli(t, "run", "--once", "--config", cfg)
	if r.code != 0 || !regexp.MustCompile(`level=WARN msg="inbox file rejected" .*file=again.txt`).MatchString(r.stderr) {
		t.Fatalf("run --once: exit %d, no WARN line for the rejected file\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "var", "rejected", "again.txt")); err != nil {
		t.Fatalf("the inbox file is not in rejected/: %v", err)
	}
}
