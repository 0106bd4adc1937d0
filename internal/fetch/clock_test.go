package fetch_test

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// fakeClock is the pacing clock: Sleep advances it at once and records
// the wait, so no test waits on the real clock.
type fakeClock struct {
	mu      sync.Mutex
	t       time.Time
	sleeps  []time.Duration
	onSleep func(n int) // called with the number of sleeps so far, outside the lock
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.sleeps = append(c.sleeps, d)
	n, hook := len(c.sleeps), c.onSleep
	c.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	return ctx.Err()
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// tokenSource hands out numbered access tokens and records invalidations,
// as *lwa.Source does at this seam.
type tokenSource struct {
	mu          sync.Mutex
	n           int
	current     string
	invalidated []string
}

func (s *tokenSource) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current == "" {
		s.n++
		s.current = fmt.Sprintf("Atza|token-%d", s.n)
	}
	return s.current, nil
}

func (s *tokenSource) Invalidate(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.invalidated = append(s.invalidated, tok)
	if tok == s.current {
		s.current = ""
	}
}
