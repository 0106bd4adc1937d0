package inbox_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"campaignd/internal/inbox"
)

// start is the fake clock's first instant.
var start = time.Date(2026, 11, 26, 10, 15, 0, 0, time.UTC)

// clock is a fake clock driven by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// call is one handler call: the path given and the content read then.
type call struct {
	path, content string
}

// recorder is a Handler that records its calls and answers from a script.
type recorder struct {
	mu       sync.Mutex
	calls    []call
	script   map[string][]inbox.Result // by base name, used in order; the last repeats
	active   int                       // calls running now
	overlaps int                       // calls that started while another ran
	called   chan string               // base names, if not nil
}

func newRecorder() *recorder {
	return &recorder{script: map[string][]inbox.Result{}, called: make(chan string, 100)}
}

func (r *recorder) answer(name string, results ...inbox.Result) {
	r.mu.Lock()
	r.script[name] = results
	r.mu.Unlock()
}

func (r *recorder) Handle(ctx context.Context, path string) inbox.Result {
	r.mu.Lock()
	r.active++
	if r.active > 1 {
		r.overlaps++
	}
	r.mu.Unlock()

	b, err := os.ReadFile(path)
	content := string(b)
	if err != nil {
		content = "read error: " + err.Error()
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	r.active--
	r.calls = append(r.calls, call{path: path, content: content})
	name := filepath.Base(path)
	var res inbox.Result
	if s := r.script[name]; len(s) > 0 {
		res = s[0]
		if len(s) > 1 {
			r.script[name] = s[1:]
		}
	}
	select {
	case r.called <- name:
	default:
	}
	return res
}

func (r *recorder) Calls() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// fixture is a Watcher on temporary directories with a fake clock.
type fixture struct {
	w                        *inbox.Watcher
	clock                    *clock
	rec                      *recorder
	dir, processed, rejected string
}

const settle = 2 * time.Second

func newFixture(t *testing.T, opts ...func(*inbox.Watcher)) *fixture {
	t.Helper()
	root := t.TempDir()
	f := &fixture{
		clock:     &clock{t: start},
		rec:       newRecorder(),
		dir:       filepath.Join(root, "inbox"),
		processed: filepath.Join(root, "processed"),
		rejected:  filepath.Join(root, "rejected"),
	}
	f.w = &inbox.Watcher{
		Dir:          f.dir,
		ProcessedDir: f.processed,
		RejectedDir:  f.rejected,
		Settle:       settle,
		Handle:       f.rec.Handle,
		Now:          f.clock.Now,
	}
	for _, o := range opts {
		o(f.w)
	}
	if err := f.w.Open(); err != nil {
		t.Fatalf("Open: %v", err)
	}
	return f
}

// scan advances the clock by d, then scans and returns the number filed.
func (f *fixture) scan(t *testing.T, d time.Duration) int {
	t.Helper()
	f.clock.Advance(d)
	n, err := f.w.Scan(context.Background())
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return n
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o640); err != nil {
		t.Fatal(err)
	}
}

// contents returns the regular files in dir by name with their content.
func contents(t *testing.T, dir string) map[string]string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

func assertContents(t *testing.T, dir string, want map[string]string) {
	t.Helper()
	got := contents(t, dir)
	for name, w := range want {
		g, ok := got[name]
		switch {
		case !ok:
			t.Errorf("%s: missing %s; have %v", filepath.Base(dir), name, keys(got))
		case g != w:
			t.Errorf("%s/%s = %q, want %q", filepath.Base(dir), name, g, w)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s: unexpected %s", filepath.Base(dir), name)
		}
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
