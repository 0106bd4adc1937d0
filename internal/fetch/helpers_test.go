package fetch_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"campaignd/internal/fetch"
	"campaignd/internal/fetch/fetchtest"
)

// The marketplaces the tests fetch.
const (
	us = "ATVPDKIKX0DER"
	ca = "A2EUQ1WTGCTBG2"
)

// harness runs Fetchers against the local Amazon with a fake pacing
// clock, an in-memory state and an inbox in a temporary folder. Its Ingest
// hook reads each file as the inbox would and moves it to processed/.
type harness struct {
	t         *testing.T
	amz       *fetchtest.Server
	state     *fetch.MemState
	inbox     string
	processed string
	clock     *fakeClock
	tokens    *tokenSource

	mu       sync.Mutex
	sent     []sentRequest
	ingested []ingestedFile
	// ingestErr, when set, is what the hook returns (leaving the file).
	ingestErr error
	// onIngest, when set, runs first in the hook.
	onIngest func(ctx context.Context, f fetch.File)
}

// sentRequest is a request the fetcher made, stamped with the pacing clock.
type sentRequest struct {
	method, path string
	at           time.Time
}

// recorder is the fetcher's HTTP transport in tests: it notes every request.
type recorder struct{ h *harness }

func (r recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.h.mu.Lock()
	r.h.sent = append(r.h.sent, sentRequest{req.Method, req.URL.Path, r.h.clock.Now()})
	r.h.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

// times returns when requests whose path starts with prefix were sent.
func (h *harness) times(method, prefix string) []time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []time.Time
	for _, s := range h.sent {
		if s.method == method && strings.HasPrefix(s.path, prefix) {
			out = append(out, s.at)
		}
	}
	return out
}

// ingestedFile is what the hook saw: the file, its bytes as they lay in
// the inbox, and its text (decompressed).
type ingestedFile struct {
	fetch.File
	raw, text []byte
}

func newHarness(t *testing.T, now time.Time) *harness {
	dir := t.TempDir()
	h := &harness{
		t: t, amz: fetchtest.New(t, now), state: &fetch.MemState{},
		inbox: filepath.Join(dir, "inbox"), processed: filepath.Join(dir, "processed"),
		clock: newClock(), tokens: &tokenSource{},
	}
	for _, d := range []string{h.inbox, h.processed} {
		if err := os.Mkdir(d, 0o750); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// config returns a Config for reports × marketplaces against the harness.
func (h *harness) config(reports, marketplaces []string) fetch.Config {
	return fetch.Config{
		Endpoint: h.amz.API.URL, Tokens: h.tokens, State: h.state, Ingest: h.ingest,
		InboxDir: h.inbox, Reports: reports, MarketplaceIDs: marketplaces,
		UserAgent: "campaignd/test (Language=Go; Platform=Linux)",
		Clock:     h.clock.Now, Sleep: h.clock.Sleep,
		HTTPClient: &http.Client{Transport: recorder{h}},
	}
}

func (h *harness) fetcher(cfg fetch.Config) *fetch.Fetcher {
	h.t.Helper()
	f, err := fetch.New(cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { f.Close() })
	return f
}

func (h *harness) ingest(ctx context.Context, f fetch.File) error {
	h.mu.Lock()
	hook, fail := h.onIngest, h.ingestErr
	h.mu.Unlock()
	if hook != nil {
		hook(ctx, f)
	}
	if fail != nil {
		return fail
	}
	raw, err := os.ReadFile(f.Path)
	if err != nil {
		return err
	}
	text := raw
	if f.Gzip {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return err
		}
		if text, err = io.ReadAll(zr); err != nil {
			return err
		}
	}
	if err := os.Rename(f.Path, filepath.Join(h.processed, f.Name)); err != nil {
		return err
	}
	h.mu.Lock()
	h.ingested = append(h.ingested, ingestedFile{File: f, raw: raw, text: text})
	h.mu.Unlock()
	return nil
}

// files returns what the hook ingested, sorted by name.
func (h *harness) files() []ingestedFile {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := append([]ingestedFile(nil), h.ingested...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// inboxNames lists every name in the inbox, hidden ones included.
func (h *harness) inboxNames() []string {
	h.t.Helper()
	ents, err := os.ReadDir(h.inbox)
	if err != nil {
		h.t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func (h *harness) load(k fetch.Key) fetch.ReportState {
	h.t.Helper()
	st, err := h.state.Load(context.Background(), k)
	if err != nil {
		h.t.Fatal(err)
	}
	return st
}

// mustRun runs f and fails the test unless every stream ended well.
func mustRun(t *testing.T, f *fetch.Fetcher, now time.Time) fetch.Result {
	t.Helper()
	res, err := f.Run(context.Background(), now)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func key(rt, m string) fetch.Key { return fetch.Key{ReportType: rt, MarketplaceID: m} }
