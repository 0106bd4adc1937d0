package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Defaults of Config.
const (
	DefaultWindow           = 30 * 24 * time.Hour
	DefaultPollFirst        = 10 * time.Second
	DefaultPollMax          = 2 * time.Minute
	DefaultPollTimeout      = time.Hour
	DefaultMaxRetries       = 5
	DefaultMaxDocumentBytes = 1 << 30
	DefaultPendingMaxAge    = 24 * time.Hour
	DefaultUserAgent        = "campaignd/dev (Language=Go; Platform=Linux)"
)

const (
	// endLag keeps dataEndTime a little behind the clock: Amazon refuses a
	// range that ends in the future, and clocks differ by a little. The
	// next fetch's overlap covers the gap.
	endLag = time.Minute
	// maxReportAttempts is how many failed downloads or ingests of one
	// report's document are tried on later runs before the report is given
	// up and a new one requested for the same range.
	maxReportAttempts = 3
)

// Log attribute keys.
const (
	keyReport   = "report"
	keyReportID = "report_id"
	keyRange    = "range"
	keyFile     = "file"
	keyError    = "err"
)

// Tokens gives LWA access tokens for the account. It is satisfied by
// *lwa.Source, which the spapi channel shares, so both keep one token cache.
type Tokens interface {
	// Token returns a valid access token, cached until shortly before it
	// expires. It is called concurrently.
	Token(ctx context.Context) (string, error)
	// Invalidate drops a token Amazon refused, so the next Token call asks
	// LWA for a new one.
	Invalidate(token string)
}

// IngestFunc reads a file the fetcher wrote into the inbox into the ledger,
// the same way a file dropped by hand is read, and returns nil once the
// file's orders are recorded (rejected rows included). Until it has
// returned nil, the report's range is not recorded as fetched: an error
// leaves the report pending, and a later run downloads and ingests it
// again. It may be called concurrently for different reports.
type IngestFunc func(ctx context.Context, f File) error

// Config configures a Fetcher for one seller account. Endpoint, Tokens,
// State, Ingest, InboxDir, Reports and MarketplaceIDs are required.
type Config struct {
	// Endpoint is the regional SP-API base URL, e.g.
	// "https://sellingpartnerapi-eu.amazon.com"; every marketplace must
	// belong to its region.
	Endpoint string
	Tokens   Tokens
	State    State
	Ingest   IngestFunc
	// InboxDir is the watched folder; documents are written there.
	InboxDir string
	// Reports are report types (see ReportTypes); MarketplaceIDs are SP-API
	// marketplace ids. Every report type is fetched for every marketplace.
	Reports        []string
	MarketplaceIDs []string

	// Window is how far back the first fetch reaches (default 30 days); no
	// fetch asks for data older than Window before now.
	Window time.Duration
	// HTTPClient is used for the API and the downloads; it should have no
	// overall Timeout (documents can be large): the fetcher bounds each
	// request itself. Default: connection, TLS and header timeouts only.
	HTTPClient *http.Client
	// UserAgent is sent on every request; Amazon requires
	// "AppName/Version (Language=Go; Platform=Linux)".
	UserAgent string
	Logger    *slog.Logger
	// Clock and Sleep pace requests and waits on the real, monotonic clock
	// (defaults time.Now and a timer). They are never the run's logical
	// time; tests replace both.
	Clock func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Plans override the published usage plans (PublishedPlan), per operation.
	Plans map[Operation]Plan
	// PollFirst is the first wait between two getReport calls on the same
	// report; it doubles up to PollMax. A run waits at most PollTimeout for
	// a report, then leaves it pending for the next run.
	PollFirst, PollMax, PollTimeout time.Duration
	// MaxRetries is how often a request answered 429 or 5xx, or lost to the
	// network, is retried within a run.
	MaxRetries int
	// MaxDocumentBytes bounds a document, as downloaded and as decompressed.
	MaxDocumentBytes int64
	// PendingMaxAge: a report requested longer ago than this and still not
	// done is given up and a new one requested.
	PendingMaxAge time.Duration
}

// Fetcher fetches the configured reports of one seller account. Build it
// with New; call Run on every tick.
type Fetcher struct {
	cfg     Config
	api     *api
	keys    []Key
	log     *slog.Logger
	sleep   func(context.Context, time.Duration) error
	clock   func() time.Time
	running sync.Mutex
}

// marketplaceID is what an SP-API marketplace id looks like.
var marketplaceID = regexp.MustCompile(`^[A-Z0-9]{5,20}$`)

// New checks cfg, applies the defaults and returns a Fetcher.
func New(cfg Config) (*Fetcher, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	cfg.defaults()
	f := &Fetcher{cfg: cfg, log: cfg.Logger.With("component", "fetch"), sleep: cfg.Sleep, clock: cfg.Clock}
	f.api = &api{
		base:       strings.TrimRight(cfg.Endpoint, "/"),
		client:     cfg.HTTPClient,
		tokens:     cfg.Tokens,
		userAgent:  cfg.UserAgent,
		pacers:     map[Operation]*pacer{},
		clock:      cfg.Clock,
		sleep:      cfg.Sleep,
		maxRetries: cfg.MaxRetries,
		log:        f.log,
	}
	for _, op := range operations {
		plan, ok := cfg.Plans[op]
		if !ok {
			plan = PublishedPlan(op)
		}
		f.api.pacers[op] = newPacer(op, plan, cfg.Clock, cfg.Sleep)
	}
	for _, rt := range cfg.Reports {
		for _, m := range cfg.MarketplaceIDs {
			f.keys = append(f.keys, Key{ReportType: rt, MarketplaceID: m})
		}
	}
	return f, nil
}

// check reports every required field that is missing or wrong.
func (c *Config) check() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("fetch: "+format, a...)) }
	if u, err := url.Parse(c.Endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad("endpoint %q is not an http(s) URL", c.Endpoint)
	}
	if c.Tokens == nil || c.State == nil || c.Ingest == nil {
		bad("Tokens, State and Ingest are required")
	}
	if c.InboxDir == "" {
		bad("inbox folder is required")
	}
	if len(c.Reports) == 0 || len(c.MarketplaceIDs) == 0 {
		bad("at least one report type and one marketplace id are required")
	}
	for _, r := range c.Reports {
		if _, ok := Lookup(r); !ok {
			bad("unknown report type %q (known: %s)", r, strings.Join(ReportTypes(), ", "))
		}
	}
	for _, m := range c.MarketplaceIDs {
		if !marketplaceID.MatchString(m) {
			bad("marketplace id %q is not an SP-API marketplace id", m)
		}
	}
	for op, p := range c.Plans {
		if p.Rate <= 0 || p.Burst < 1 {
			bad("usage plan of %s: rate %v and burst %d must be positive", op, p.Rate, p.Burst)
		}
	}
	return errors.Join(errs...)
}

func (c *Config) defaults() {
	setDur := func(p *time.Duration, d time.Duration) {
		if *p <= 0 {
			*p = d
		}
	}
	setDur(&c.Window, DefaultWindow)
	setDur(&c.PollFirst, DefaultPollFirst)
	setDur(&c.PollMax, DefaultPollMax)
	setDur(&c.PollTimeout, DefaultPollTimeout)
	setDur(&c.PendingMaxAge, DefaultPendingMaxAge)
	if c.MaxRetries <= 0 {
		c.MaxRetries = DefaultMaxRetries
	}
	if c.MaxDocumentBytes <= 0 {
		c.MaxDocumentBytes = DefaultMaxDocumentBytes
	}
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = sleepCtx
	}
	if c.HTTPClient == nil {
		c.HTTPClient = defaultClient()
	}
}

// defaultClient has no overall timeout (a document may take minutes) but
// bounds connecting, the TLS handshake and the wait for an answer's header.
// It refuses to follow a redirect with the access token on it.
func defaultClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 30 * time.Second
	t.ResponseHeaderTimeout = 60 * time.Second
	return &http.Client{Transport: t, CheckRedirect: noTokenRedirect}
}

// noTokenRedirect stops a redirect of an SP-API request: Go forwards custom
// headers such as x-amz-access-token to the redirect's host.
func noTokenRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if via[0].Header.Get(headerToken) != "" {
		return http.ErrUseLastResponse
	}
	return nil
}

// Close releases idle connections.
func (f *Fetcher) Close() error {
	f.cfg.HTTPClient.CloseIdleConnections()
	return nil
}

// Keys returns the report streams the Fetcher works on, in order.
func (f *Fetcher) Keys() []Key { return append([]Key(nil), f.keys...) }

// States returns the state of every stream, in Keys order, for status.
func (f *Fetcher) States(ctx context.Context) ([]ReportState, error) {
	out := make([]ReportState, 0, len(f.keys))
	for _, k := range f.keys {
		st, err := f.cfg.State.Load(ctx, k)
		if err != nil {
			return nil, fmt.Errorf("load fetch state %s: %w", k, err)
		}
		st.Key = k
		out = append(out, st)
	}
	return out, nil
}

// ensure the inbox is a folder before writing into it.
func (f *Fetcher) checkInbox() error {
	st, err := os.Stat(f.cfg.InboxDir)
	if err != nil {
		return fmt.Errorf("inbox: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("inbox: %s is not a folder", f.cfg.InboxDir)
	}
	return nil
}
