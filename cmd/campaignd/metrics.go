package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"campaignd/internal/config"
	"campaignd/internal/inbox"
	"campaignd/internal/ledger"
	"campaignd/internal/marketplace"
	"campaignd/internal/scheduler"
)

// metrics are the daemon's Prometheus metrics, on a registry of its own:
// counters of what it did since it started (they start at 0 with the
// process, which rate() and increase() expect), the durations of its
// passes, its build, the process's own (memory, CPU, descriptors), and
// gauges read at each scrape (orders by state from the ledger, the last
// and next pass, the inbox's files waiting).
type metrics struct {
	reg *prometheus.Registry

	requests                                     map[scheduler.Outcome]*prometheus.CounterVec
	filesIngested, filesDuplicate, filesRejected prometheus.Counter
	rowsRejected                                 prometheus.Counter
	passes                                       prometheus.Histogram
	passFailures                                 prometheus.Counter
}

// requestHelp describes each counter of sends, by outcome.
var requestHelp = map[scheduler.Outcome]string{
	scheduler.OutcomeSent:    "Review requests sent, by the order's marketplace and the channel.",
	scheduler.OutcomeRefused: "Review requests the policy checks refused to send (the rendered message broke a rule), by marketplace and channel.",
	scheduler.OutcomeFailed:  "Review requests that failed for good (the order is failed), by marketplace and channel.",
	scheduler.OutcomeInDoubt: "Review requests that may or may not have gone (the order is in doubt until an operator settles it), by marketplace and channel.",
	scheduler.OutcomeRetried: "Review requests that failed for now and go again later (a network error, a 4xx from the mail server, a 429), by marketplace and channel.",
}

// newMetrics registers every metric; d answers the gauges.
func newMetrics(d *daemon) *metrics {
	reg := prometheus.NewRegistry()
	f := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: "campaignd_" + name, Help: help})
		reg.MustRegister(c)
		return c
	}
	m := &metrics{reg: reg, requests: map[scheduler.Outcome]*prometheus.CounterVec{},
		filesIngested:  f("files_ingested_total", "Report files read into the ledger (a file seen before is not counted)."),
		filesDuplicate: f("files_duplicate_total", "Report files whose bytes were ingested before (nothing changed)."),
		filesRejected:  f("files_rejected_total", "Files rejected whole (not a report campaignd reads, damaged): they are in rejected/ with a .error.txt."),
		rowsRejected:   f("rows_rejected_total", "Rows of ingested reports that were rejected (listed in the file's .report.txt)."),
		passFailures:   f("pass_failures_total", "Send passes that ended with an error (the ledger, or a channel that cannot send at all)."),
		passes: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "campaignd_pass_duration_seconds",
			Help:    "How long each send pass took.",
			Buckets: []float64{0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300}}),
	}
	for o, help := range requestHelp {
		m.requests[o] = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "campaignd_requests_" + string(o) + "_total", Help: help},
			[]string{"marketplace", "channel"})
		reg.MustRegister(m.requests[o])
	}
	reg.MustRegister(m.passes, buildInfo(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), gauges{d})
	return m
}

// buildInfo is campaignd_build_info: 1, with the version, commit and Go
// version as labels.
func buildInfo() prometheus.Collector {
	rev, goVersion := commit, "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && rev == "" {
				rev = s.Value
			}
		}
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "campaignd_build_info",
		Help:        "Always 1: the version, commit and Go version of the running campaignd.",
		ConstLabels: prometheus.Labels{"version": version, "revision": rev, "goversion": goVersion}})
	g.Set(1)
	return g
}

// observeSend counts one send's outcome.
func (m *metrics) observeSend(market, channel string, o scheduler.Outcome) {
	if c, ok := m.requests[o]; ok {
		c.WithLabelValues(marketLabel(market), channel).Inc()
	}
}

// initSeries makes every counter of sends exist, at 0, for each
// marketplace and channel of cfg's campaigns: a series that appears only
// at its first event hides that event from increase() and rate(), so an
// alert on the first refusal would never fire.
func (m *metrics) initSeries(cfg *config.Config) {
	for _, cp := range cfg.Campaigns {
		for _, mk := range cp.SalesChannels {
			for _, c := range m.requests {
				c.WithLabelValues(marketLabel(mk), cp.Channel)
			}
		}
	}
}

// marketLabel is a marketplace's name as the marketplace table writes it
// ("Amazon.de", whether a report or the config said "amazon.de" or its id).
func marketLabel(name string) string {
	if m, ok := marketplace.Lookup(name); ok {
		return m.Name
	}
	if name == "" {
		return "unknown"
	}
	return name
}

// observeFile counts one file filed from the inbox.
func (m *metrics) observeFile(_ string, res inbox.Result) {
	got, _ := res.Detail.(ingested)
	switch {
	case res.Rejected:
		m.filesRejected.Inc()
	case got.rep.Duplicate:
		m.filesDuplicate.Inc()
	default:
		m.filesIngested.Inc()
	}
	m.rowsRejected.Add(float64(got.rep.Summary.RejectedCount))
}

// observePass records one send pass.
func (m *metrics) observePass(took time.Duration, err error) {
	m.passes.Observe(took.Seconds())
	if err != nil {
		m.passFailures.Inc()
	}
}

// gauges are read from the daemon at each scrape.
type gauges struct{ d *daemon }

var (
	ordersDesc   = prometheus.NewDesc("campaignd_orders", "Orders in the ledger by state.", []string{"state"}, nil)
	lastPassDesc = prometheus.NewDesc("campaignd_last_pass_timestamp_seconds", "When the last send pass started (0 before the first).", nil, nil)
	nextPassDesc = prometheus.NewDesc("campaignd_next_pass_timestamp_seconds", "When the next send pass is due.", nil, nil)
	tickDesc     = prometheus.NewDesc("campaignd_schedule_interval_seconds", "Time between the next two ticks of schedule.tick (alerts compare the last pass's age with it).", nil, nil)
	pendingDesc  = prometheus.NewDesc("campaignd_inbox_pending", "Files in the inbox waiting to settle.", nil, nil)
	retryingDesc = prometheus.NewDesc("campaignd_inbox_retrying", "Files in the inbox that could not be read now (a full disk, a busy ledger) and wait for a retry.", nil, nil)
)

func (gauges) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{ordersDesc, lastPassDesc, nextPassDesc, tickDesc, pendingDesc, retryingDesc} {
		ch <- d
	}
}

func (g gauges) Collect(ch chan<- prometheus.Metric) {
	c, err := g.d.ledger.Counts()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(ordersDesc, fmt.Errorf("ledger: %w", err))
	} else {
		for _, s := range ledger.States {
			ch <- prometheus.MustNewConstMetric(ordersDesc, prometheus.GaugeValue, float64(c.ByState[s]), string(s))
		}
	}
	info := g.d.info()
	ch <- prometheus.MustNewConstMetric(lastPassDesc, prometheus.GaugeValue, unixSeconds(info.LastPass))
	ch <- prometheus.MustNewConstMetric(nextPassDesc, prometheus.GaugeValue, unixSeconds(info.NextPass))
	ch <- prometheus.MustNewConstMetric(tickDesc, prometheus.GaugeValue, g.d.tickInterval().Seconds())
	ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(len(info.Pending)))
	ch <- prometheus.MustNewConstMetric(retryingDesc, prometheus.GaugeValue, float64(len(info.Retrying)))
}

func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.Unix())
}

// tickInterval is the time between the next two ticks of the schedule.
func (d *daemon) tickInterval() time.Duration {
	d.mu.Lock()
	spec := d.cfg.Schedule.Tick
	d.mu.Unlock()
	sched, err := scheduler.ParseSpec(spec)
	if err != nil {
		return 0
	}
	next := sched.Next(d.now().UTC())
	return sched.Next(next).Sub(next)
}

// metricsServer serves Prometheus-format /metrics and /healthz on loopback.
type metricsServer struct {
	srv *http.Server
}

func startMetrics(d *daemon) (*metricsServer, error) {
	ln, err := net.Listen("tcp", d.cfg.Metrics.Listen)
	if err != nil {
		return nil, fmt.Errorf("metrics.listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		info := d.info()
		fmt.Fprintf(w, "ok\nlast_pass %s\n", stamp(info.LastPass))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.metrics.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError}))
	m := &metricsServer{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}
	go m.srv.Serve(ln)
	return m, nil
}

func (m *metricsServer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return m.srv.Shutdown(ctx)
}
