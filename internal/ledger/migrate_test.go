package ledger_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"campaignd/internal/ledger"

	bolt "go.etcd.io/bbolt"
)

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	must(t, err)
	must(t, os.WriteFile(to, b, 0o600))
}

// A schema-1 ledger written by the previous build (testdata/schema1.db)
// opens, converts, and holds the same orders, histories, problems and
// files; the old file is kept beside it.
func TestMigrateSchema1Fixture(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "campaignd.db")
	copyFile(t, "testdata/schema1.db", path)
	old, err := os.ReadFile(path)
	must(t, err)

	ro, err := ledger.Open(path, ledger.Options{ReadOnly: true})
	if err == nil {
		ro.Close()
	}
	wantErr(t, err, ledger.ErrSchema)

	l := MustOpenPath(t, path)
	kept, err := os.ReadFile(path + ledger.BackupSuffix)
	must(t, err)
	if !bytes.Equal(kept, old) {
		t.Error("the kept schema-1 file differs from the original")
	}

	// the records: as exported before, less buyer data (an export leaves it
	// out, and the outbox channel never needed it)
	var got bytes.Buffer
	must(t, l.Export(&got))
	want, err := os.ReadFile("testdata/schema1.export.jsonl")
	must(t, err)
	gotLines, wantLines := jsonLines(t, got.Bytes()), jsonLines(t, want)
	if len(gotLines) != len(wantLines) {
		t.Fatalf("%d orders after conversion, %d before", len(gotLines), len(wantLines))
	}
	for i := range wantLines {
		// the schema-1 build exported these times under their Go names;
		// exports now name every key in snake case
		for old, now := range map[string]string{"CreatedAt": "created_at", "UpdatedAt": "updated_at", "ClaimedAt": "claimed_at", "SentAt": "sent_at"} {
			if v, ok := wantLines[i][old]; ok {
				wantLines[i][now] = v
				delete(wantLines[i], old)
			}
		}
		o := wantLines[i]["order"].(map[string]any)
		delete(o, "buyer_email")
		delete(o, "buyer_name")
		if wantLines[i]["state"] == "claimed" {
			// claimed by a build that did not record the point of no
			// return: from now on treated as past it (in doubt after a
			// crash, never resent as surely unsent)
			wantLines[i]["delivering_at"] = wantLines[i]["claimed_at"]
		}
		if g, w := mustJSON(t, gotLines[i]), mustJSON(t, wantLines[i]); g != w {
			t.Errorf("order %d after conversion:\n%s\nbefore:\n%s", i, g, w)
		}
	}

	// the histories and the problems, event by event
	var before struct {
		History  map[string][]ledger.Event
		Problems []ledger.Event
	}
	raw, err := os.ReadFile("testdata/schema1.history.json")
	must(t, err)
	must(t, json.Unmarshal(raw, &before))
	for id, evs := range before.History {
		got, err := l.Events(key(id))
		must(t, err)
		if g, w := mustJSON(t, got), mustJSON(t, evs); g != w {
			t.Errorf("history of %s after conversion:\n%s\nbefore:\n%s", id, g, w)
		}
	}
	probs, err := l.RecentProblems(100)
	must(t, err)
	if g, w := mustJSON(t, probs), mustJSON(t, before.Problems); g != w {
		t.Errorf("problems after conversion:\n%s\nbefore:\n%s", g, w)
	}
	files, err := l.RecentFiles(10)
	must(t, err)
	if len(files) != 2 || files[0].Name != "x.bin" || files[1].RowErrors[0] != "all-orders.txt:9: amazon-order-id: bad id" {
		t.Errorf("files after conversion = %+v", files)
	}
	if _, ok, err := l.File("aa11"); err != nil || !ok {
		t.Errorf("file aa11 after conversion: %v %v", ok, err)
	}

	// the indexes work: what was due is due, and the ledger takes new writes
	due := dueIDs(t, l, t0.Add(6*day))
	if len(due) == 0 {
		t.Error("nothing due after conversion")
	}
	mustUpsert(t, l, t0.Add(2*time.Hour), order("111-0000001-0000099"))
	counts, err := l.Counts()
	must(t, err)
	if counts.Total != len(wantLines)+1 {
		t.Errorf("counts after conversion and one new order = %+v", counts)
	}
}

func jsonLines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		must(t, json.Unmarshal(sc.Bytes(), &m))
		out = append(out, m)
	}
	return out
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	must(t, err)
	return string(b)
}

// writeSchema1 writes a schema-1 ledger of n scheduled orders the way the
// previous build stored them: JSON records keyed by account + NUL + id, one
// JSON creation event per order with its order_events entry, and every
// index and counter.
func writeSchema1(t *testing.T, path string, n int) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	must(t, err)
	defer db.Close()
	for start := 0; start < n; start += 20_000 {
		must(t, db.Update(func(tx *bolt.Tx) error {
			b := map[string]*bolt.Bucket{}
			for _, name := range []string{"meta", "orders", "due", "deadlines", "states", "counts", "events", "order_events", "problems", "files", "files_by_time"} {
				bk, err := tx.CreateBucketIfNotExists([]byte(name))
				if err != nil {
					return err
				}
				b[name] = bk
			}
			if err := b["meta"].Put([]byte("schema"), []byte("1")); err != nil {
				return err
			}
			for i := start; i < min(n, start+20_000); i++ {
				if err := putSchema1Order(b, i); err != nil {
					return err
				}
			}
			return b["counts"].Put([]byte("scheduled"), binary.BigEndian.AppendUint64(nil, uint64(min(n, start+20_000))))
		}))
	}
}

func putSchema1Order(b map[string]*bolt.Bucket, i int) error {
	id := orderID(i)
	kb := append([]byte{0}, id...)
	send, deadline := t0.Add(5*day+time.Duration(i)*time.Second), t0.Add(30*day)
	rec := ledger.Record{Key: key(id), Order: order(id), State: ledger.Scheduled, Reason: "delivered", Campaign: "en",
		Channel: "smtp", SendAt: send, Deadline: deadline, CreatedAt: t0, UpdatedAt: t0}
	v, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	seq, _ := b["events"].NextSequence()
	ev, _ := json.Marshal(ledger.Event{Seq: seq, Time: t0, Key: key(id), To: ledger.Scheduled, Reason: "delivered", Actor: "ingest"})
	tk := func(at time.Time) []byte {
		return append(binary.BigEndian.AppendUint64(nil, uint64(at.UnixNano())), kb...)
	}
	puts := []struct {
		bucket string
		k, v   []byte
	}{
		{"orders", kb, v}, {"events", binary.BigEndian.AppendUint64(nil, seq), ev},
		{"order_events", binary.BigEndian.AppendUint64(append(bytes.Clone(kb), 0), seq), nil},
		{"due", tk(send), nil}, {"deadlines", tk(deadline), nil}, {"states", append([]byte("scheduled\x00"), kb...), nil},
	}
	for _, p := range puts {
		if err := b[p.bucket].Put(p.k, p.v); err != nil {
			return err
		}
	}
	return nil
}

// migrateChildEnv makes TestMigrateKilledChild open (and so convert) the
// ledger it names, in a child process the parent kills.
const migrateChildEnv = "CAMPAIGND_TEST_MIGRATE_CHILD"

func TestMigrateKilledChild(t *testing.T) {
	path := os.Getenv(migrateChildEnv)
	if path == "" {
		t.Skip("run by TestMigrateCrash")
	}
	l, err := ledger.Open(path, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
}

// A conversion killed at any point leaves the old ledger or the new one
// at the path, never a mix; the next open finishes the job. The first
// child converts to the end (its result's size sets the kill points); the
// others are killed once the file being written beside the ledger reaches
// a fraction of that size, from its creation to its end.
func TestMigrateCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a schema-1 ledger of 8,000 orders")
	}
	const n = 8_000
	src := filepath.Join(t.TempDir(), "schema1.db")
	writeSchema1(t, src, n)
	old, err := os.ReadFile(src)
	must(t, err)
	var full int64
	converted := 0
	for round, frac := range []float64{-1, 0, 0.3, 0.6, 0.9} {
		t.Run(strconv.Itoa(round), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "campaignd.db")
			must(t, os.WriteFile(path, old, 0o600))
			killAt := int64(-1)
			if frac >= 0 {
				killAt = int64(frac * float64(full))
			}
			runMigrateChild(t, path, killAt)
			now, err := os.ReadFile(path)
			must(t, err)
			if !bytes.Equal(now, old) {
				converted++
				wantSchema2(t, path, n)
			}
			if frac < 0 {
				full = int64(len(now))
			}
			l := MustOpenPath(t, path)
			c, err := l.Counts()
			must(t, err)
			if c.Total != n || c.ByState[ledger.Scheduled] != n {
				t.Errorf("counts after reopening = %+v", c)
			}
			rec := wantState(t, l, key(orderID(n-1)), ledger.Scheduled)
			if rec.Order.BuyerEmail == "" {
				t.Error("an smtp order lost its relay address in the conversion")
			}
		})
	}
	t.Logf("%d of 5 children left the conversion done", converted)
}

// runMigrateChild opens path in a child process, which converts it, and
// kills the child once the conversion's file beside path holds killAt
// bytes (killAt < 0: lets it finish).
func runMigrateChild(t *testing.T, path string, killAt int64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestMigrateKilledChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), migrateChildEnv+"="+path)
	must(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".schema-2.tmp")
	deadline := time.After(60 * time.Second)
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("child: %v", err)
			}
			return
		case <-deadline:
			_ = cmd.Process.Kill()
			t.Fatal("the conversion did not finish in 60s")
		case <-time.After(time.Millisecond):
		}
		if fi, err := os.Stat(tmp); killAt >= 0 && err == nil && fi.Size() >= killAt {
			_ = cmd.Process.Kill()
			<-done
			return
		}
	}
}

// wantSchema2 checks that path is a whole converted ledger of n orders,
// without converting or repairing it.
func wantSchema2(t *testing.T, path string, n int) {
	t.Helper()
	l, err := ledger.Open(path, ledger.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("the file at the path changed but is not a whole new ledger: %v", err)
	}
	defer l.Close()
	must(t, l.Check())
	c, err := l.Counts()
	must(t, err)
	if c.Total != n {
		t.Fatalf("converted ledger holds %d orders, want %d", c.Total, n)
	}
}
