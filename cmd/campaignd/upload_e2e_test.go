package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestPausedUploadReadWhole: the daemon reads an upload that paused at 20
// orders of 40 and files it; the uploader then writes the rest into the
// filed file; the daemon moves it back, reads it whole, and all 40 orders
// are in the ledger.
func TestPausedUploadReadWhole(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir, "")
	editConfig(t, cfg, `settle = "10ms"`, "settle = \"10ms\"\nrescan = \"50ms\"")
	d := startDaemon(t, cfg)
	var ids []string
	for i := range 40 {
		ids = append(ids, fmt.Sprintf("111-0000000-%07d", i))
	}
	whole := ordersReport(ids...)
	half := ordersReport(ids[:20]...)
	up, err := os.OpenFile(filepath.Join(dir, "var", "inbox", "report.txt"), os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	if _, err := up.WriteString(half); err != nil {
		t.Fatal(err)
	}
	d.waitLog(t, "msg=\"inbox file filed\"")
	if st := status(t, cfg); st.Orders["total"] != 20 {
		t.Fatalf("orders %v, want the first 20", st.Orders)
	}
	if _, err := up.WriteString(whole[len(half):]); err != nil {
		t.Fatal(err)
	}
	up.Close()
	d.waitLog(t, "inbox file changed after it was filed, reading it again whole")
	d.waitLog(t, "msg=\"inbox file filed\"")
	if st := status(t, cfg); st.Orders["total"] != 40 {
		t.Fatalf("orders %v, want all 40", st.Orders)
	}
	assertFile(t, filepath.Join(dir, "var", "processed", "report.txt"), whole)
}
