package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// preview of a sent order shows the message as it was sent, not what
// today's template and config would say; a request recorded by hand has no
// message to show.
func TestPreviewOfASentOrder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	orig, err := os.ReadFile("../../templates/review-request.en.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	tmpl := writeFile(t, filepath.Join(dir, "en.tmpl"), string(orig))
	base, err := os.ReadFile(testConfig(t, dir, ""))
	if err != nil {
		t.Fatal(err)
	}
	cfg := writeFile(t, filepath.Join(dir, "campaignd.toml"), replaceFirstTemplate(string(base), tmpl))
	ingestReport(t, cfg, dir, ordersReport("111-0000001-0000001"))
	if r := cli(t, "run", "--once", "--config", cfg); r.code != 0 || len(outbox(t, dir)) != 1 {
		t.Fatalf("run: exit %d, outbox %v\n%s", r.code, outbox(t, dir), r.stderr)
	}
	eml, err := os.ReadFile(filepath.Join(dir, "var", "outbox", "111-0000001-0000001.eml"))
	if err != nil {
		t.Fatal(err)
	}

	// The seller rewords the template and renames the shop afterwards.
	writeFile(t, tmpl, strings.Replace(string(orig), "Would you share your experience with other customers?", "Could you tell other shoppers how it went?", 1))
	writeFile(t, cfg, strings.Replace(replaceFirstTemplate(string(base), tmpl), `seller_name = "Example Brand"`, `seller_name = "New Name Ltd"`, 1))
	r := cli(t, "preview", "111-0000001-0000001", "--config", cfg)
	if r.code != 0 {
		t.Fatalf("preview: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"as it was handed to outbox on 2026-11-20T12:00:", "Would you share your experience", "Example Brand", "Water Bottle"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("preview of the sent order does not show %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "Could you tell") || strings.Contains(r.stdout, "New Name") {
		t.Errorf("preview of the sent order shows today's template or config:\n%s", r.stdout)
	}
	if !strings.Contains(string(eml), "Would you share your experience") {
		t.Fatalf("the sent message itself:\n%s", eml)
	}

	if r := cli(t, "ledger", "mark-sent", "111-0000002-0000002", "--config", cfg); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if r := cli(t, "preview", "111-0000002-0000002", "--config", cfg); r.code != 0 || !strings.Contains(r.stdout, "kept no copy") || strings.Contains(r.stdout, "Subject:") {
		t.Errorf("preview of an order marked sent by hand: exit %d\n%s", r.code, r.stdout)
	}
}
