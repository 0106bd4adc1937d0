package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape reads the daemon's /metrics and parses it as Prometheus does.
func scrape(t *testing.T, addr string) (string, map[string]*dto.MetricFamily) {
	t.Helper()
	body := get(t, "http://"+addr+"/metrics")
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v\n%s", err, body)
	}
	return body, mfs
}

// value is the value of the metric name with exactly labels ("k=v"
// pairs), or -1 when there is none.
func value(mfs map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	mf := mfs[name]
	if mf == nil {
		return -1
	}
	for _, m := range mf.Metric {
		var have []string
		for _, l := range m.Label {
			have = append(have, l.GetName()+"="+l.GetValue())
		}
		slices.Sort(have)
		want := slices.Sorted(slices.Values(labels))
		if !slices.Equal(have, want) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

// TestMetrics runs the daemon with /metrics and checks that what it did is
// counted (sends by outcome, marketplace and channel; files ingested,
// duplicate and rejected; rows rejected; passes), that the exposition
// follows Prometheus' conventions (promlint, the linter of promtool check
// metrics, and promtool itself when installed), that every metric the
// contrib rules and dashboard use exists, and that the counters start
// again at 0 with the process.
func TestMetrics(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := testConfig(t, dir, fmt.Sprintf("[schedule]\ntick = \"@every 1s\"\n[metrics]\nlisten = %q\n", addr))
	d := startDaemon(t, cfg)
	inbox := filepath.Join(dir, "var", "inbox")
	report := allOrdersHeader +
		line("111-0000001-0000001", "2026-11-01T10:00:00Z", "2026-11-04T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", "Bottle", "Shipped") +
		line("302-0000002-0000002", "2026-11-01T10:00:00Z", "2026-11-04T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.de", "Flasche", "Shipped") +
		line("111-0000003-0000003", "2026-11-01T10:00:00Z", "2026-11-04T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", "Bottle, see www.example.com/deal", "Shipped") +
		line("not-an-order-id", "2026-11-01T10:00:00Z", "2026-11-04T10:00:00Z", "Shipped", "Amazon.com", "Bottle", "Shipped")
	writeFile(t, filepath.Join(inbox, "orders.txt"), report)
	d.waitLog(t, "inbox file filed")
	writeFile(t, filepath.Join(inbox, "notes.txt"), "not a report\n")
	d.waitLog(t, "inbox file rejected")
	writeFile(t, filepath.Join(inbox, "again.txt"), report)
	d.waitLog(t, "file=again.txt dest=") // logged once counted
	d.waitLogCount(t, "review request sent", 2)
	d.waitLogCount(t, "message refused", 1)
	d.waitLogCount(t, `msg="send pass"`, 1)
	// A reload runs a pass and answers once it is over, observed included.
	if r := cli(t, "reload", "--config", cfg); r.code != exitOK {
		t.Fatalf("reload: exit %d\n%s", r.code, r.stderr)
	}

	body, mfs := scrape(t, addr)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"campaignd_requests_sent_total", []string{"marketplace=Amazon.com", "channel=outbox"}, 1},
		{"campaignd_requests_sent_total", []string{"marketplace=Amazon.de", "channel=outbox"}, 1},
		{"campaignd_requests_refused_total", []string{"marketplace=Amazon.com", "channel=outbox"}, 1},
		{"campaignd_requests_refused_total", []string{"marketplace=Amazon.co.jp", "channel=outbox"}, 0}, // exists before its first event
		{"campaignd_requests_failed_total", []string{"marketplace=Amazon.com", "channel=outbox"}, 0},
		{"campaignd_requests_in_doubt_total", []string{"marketplace=Amazon.com", "channel=outbox"}, 0},
		{"campaignd_requests_retried_total", []string{"marketplace=Amazon.com", "channel=outbox"}, 0},
		{"campaignd_files_ingested_total", nil, 1},
		{"campaignd_files_duplicate_total", nil, 1},
		{"campaignd_files_rejected_total", nil, 1},
		{"campaignd_rows_rejected_total", nil, 1},
		{"campaignd_pass_failures_total", nil, 0},
		{"campaignd_orders", []string{"state=sent"}, 2},
		{"campaignd_orders", []string{"state=scheduled"}, 1},
		{"campaignd_schedule_interval_seconds", nil, 1},
		{"campaignd_inbox_pending", nil, 0},
		{"campaignd_inbox_retrying", nil, 0},
	} {
		if got := value(mfs, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if n := value(mfs, "campaignd_pass_duration_seconds"); n < 1 {
		t.Errorf("campaignd_pass_duration_seconds counts %v passes, want at least 1", n)
	}
	if v := value(mfs, "campaignd_last_pass_timestamp_seconds"); v < float64(testEpoch.Unix()) {
		t.Errorf("campaignd_last_pass_timestamp_seconds = %v", v)
	}
	if bi := mfs["campaignd_build_info"]; bi == nil || bi.Metric[0].Gauge.GetValue() != 1 || !strings.Contains(body, `version="dev"`) {
		t.Errorf("campaignd_build_info missing or wrong:\n%s", body)
	}
	if problems, err := promlint.New(strings.NewReader(body)).Lint(); err != nil || len(problems) > 0 {
		t.Errorf("promlint: %v %v", err, problems)
	}
	if promtool, err := exec.LookPath("promtool"); err == nil {
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(body)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
	}
	for _, name := range contribMetrics(t) {
		if mfs[name] == nil {
			t.Errorf("contrib/ uses %s, which /metrics does not have", name)
		}
	}

	// A new process counts from 0; the ledger's gauges stay.
	d.stop()
	if code := d.wait(t); code != exitOK {
		t.Fatalf("daemon exit %d", code)
	}
	startDaemon(t, cfg)
	_, mfs = scrape(t, addr)
	if got := value(mfs, "campaignd_requests_sent_total", "marketplace=Amazon.com", "channel=outbox"); got != 0 {
		t.Errorf("after a restart campaignd_requests_sent_total = %v, want 0", got)
	}
	if got := value(mfs, "campaignd_orders", "state=sent"); got != 2 {
		t.Errorf("after a restart campaignd_orders{state=sent} = %v, want 2", got)
	}
}

// metricRe finds the metrics a rule or a panel queries.
var metricRe = regexp.MustCompile(`\b(?:campaignd|process)_[a-z_]+\b`)

// contribMetrics are the metrics contrib/'s alert rules and dashboard use,
// without the _bucket, _sum and _count of a histogram.
func contribMetrics(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, f := range []string{"../../contrib/prometheus/campaignd-alerts.yml", "../../contrib/grafana/campaignd-dashboard.json"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range metricRe.FindAllString(string(b), -1) {
			n = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(n, "_bucket"), "_sum"), "_count")
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	if len(names) < 10 {
		t.Fatalf("contrib/ uses only %v", names)
	}
	return names
}

// TestContribRules checks the example alert rules with promtool (check
// rules, and their unit tests), and every query of the Grafana dashboard as
// PromQL, with Grafana's variables given values. It needs promtool
// (Debian: apt-get install prometheus; CI installs it).
func TestContribRules(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (Debian: apt-get install prometheus); .ci/run installs it")
	}
	dir := "../../contrib/prometheus"
	for _, args := range [][]string{{"check", "rules", "campaignd-alerts.yml"}, {"test", "rules", "campaignd-alerts.test.yml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	exprs := dashboardExprs(t)
	var rules bytes.Buffer
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	vars := strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1d", "$instance", ".*")
	for i, e := range exprs {
		fmt.Fprintf(&rules, "      - record: dashboard:query%d\n        expr: %q\n", i, vars.Replace(e))
	}
	f := filepath.Join(t.TempDir(), "dashboard.rules.yml")
	if err := os.WriteFile(f, rules.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "rules", f).CombinedOutput(); err != nil {
		t.Errorf("a dashboard query is not PromQL: %v\n%s", err, out)
	}
}
