package fetch

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// Operation names a Reports API operation; each has its own usage plan.
type Operation string

// The Reports API operations the fetcher calls.
const (
	OpCreateReport      Operation = "createReport"
	OpGetReport         Operation = "getReport"
	OpGetReportDocument Operation = "getReportDocument"
)

var operations = []Operation{OpCreateReport, OpGetReport, OpGetReportDocument}

// Plan is a usage plan: a steady rate in requests per second and a burst.
type Plan struct {
	Rate  float64
	Burst int
}

// PublishedPlan returns the usage plan that reports_2021-06-30.json gives
// in the operation's description.
func PublishedPlan(op Operation) Plan {
	switch op {
	case OpGetReport:
		return Plan{Rate: 2, Burst: 15}
	default: // createReport, getReportDocument
		return Plan{Rate: 0.0167, Burst: 15}
	}
}

// pacer keeps one operation to its usage plan with a token bucket. It reads
// the time through clock and waits through sleep, both real in production:
// pacing follows the monotonic clock, never the run's logical time.
type pacer struct {
	op    Operation
	lim   *rate.Limiter
	clock func() time.Time
	sleep func(context.Context, time.Duration) error
}

func newPacer(op Operation, p Plan, clock func() time.Time, sleep func(context.Context, time.Duration) error) *pacer {
	return &pacer{op: op, lim: rate.NewLimiter(rate.Limit(p.Rate), p.Burst), clock: clock, sleep: sleep}
}

// wait takes a token, sleeping until there is one. The token is reserved
// before the sleep, so concurrent callers queue up behind each other.
func (p *pacer) wait(ctx context.Context) error {
	now := p.clock()
	r := p.lim.ReserveN(now, 1)
	if !r.OK() {
		return fmt.Errorf("%s: usage plan allows no request (burst %d)", p.op, p.lim.Burst())
	}
	d := r.DelayFrom(now)
	if d <= 0 {
		return ctx.Err()
	}
	if err := p.sleep(ctx, d); err != nil {
		r.CancelAt(p.clock())
		return err
	}
	return nil
}

// observe applies the rate Amazon says it applied (x-amzn-RateLimit-Limit,
// requests per second), up or down. A missing or unreadable value changes
// nothing.
func (p *pacer) observe(header string) {
	if header == "" {
		return
	}
	r, err := strconv.ParseFloat(strings.TrimSpace(header), 64)
	if err != nil || r <= 0 || math.IsInf(r, 0) || math.IsNaN(r) {
		return
	}
	if rate.Limit(r) != p.lim.Limit() {
		p.lim.SetLimitAt(p.clock(), rate.Limit(r))
	}
}

// throttled empties the bucket after a 429: Amazon's bucket is empty, so
// ours must not let a burst through; requests continue at the steady rate.
func (p *pacer) throttled() {
	now := p.clock()
	if n := int(p.lim.TokensAt(now)); n > 0 {
		p.lim.ReserveN(now, n)
	}
}

// sleepCtx waits d on the real clock, or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
