package ledger_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"

	"campaignd/internal/ledger"
)

func TestBackup(t *testing.T) {
	l := MustOpen(t)
	for _, id := range []string{"111-0000001-0000001", "111-0000002-0000002"} {
		setupState(t, l, key(id), ledger.Sent)
	}
	setupState(t, l, key("111-0000003-0000003"), ledger.Scheduled)
	path := filepath.Join(t.TempDir(), "backup.db")
	n, err := l.Backup(path)
	if err != nil || n == 0 {
		t.Fatalf("Backup = %d, %v", n, err)
	}
	if _, err := l.Backup(path); !errors.Is(err, ledger.ErrExists) {
		t.Fatalf("second Backup to the same file = %v, want ErrExists", err)
	}
	b, err := ledger.Open(path, ledger.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Check(); err != nil {
		t.Fatalf("backup fails the invariants: %v", err)
	}
	want, got := new(bytes.Buffer), new(bytes.Buffer)
	must(t, l.Export(want))
	must(t, b.Export(got))
	if want.String() != got.String() || want.Len() == 0 {
		t.Fatalf("backup export differs:\n%s\nvs\n%s", got, want)
	}
	c, err := b.Counts()
	if err != nil || c.Total != 3 || c.ByState[ledger.Sent] != 2 {
		t.Fatalf("backup counts %+v, %v", c, err)
	}
}
