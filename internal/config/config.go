// Package config loads campaignd's TOML configuration: defaults first, then a
// strict decode (an unknown key is an error), then Validate, whose errors name
// the dotted key and the bad value. Load adds the file and the line of each
// problem, names a campaign's keys by the campaign's name, and says which
// key an unknown one most likely meant. Relative paths resolve against the
// folder of the config file.
//
// Loading is pure apart from reading the file and checking that the template
// and secret files it names exist: it sets up no logging and creates nothing.
// The daemon then calls PrepareFolders, which creates the folders it writes
// in and checks that its user can write there.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/robfig/cron/v3"

	"campaignd/internal/marketplace"
	"campaignd/internal/orders"
)

// DefaultPath is where the daemon looks for its config when --config is not given.
const DefaultPath = "/etc/campaignd/campaignd.toml"

// MaxWindowDays is Amazon's limit: no request 30 days or more after purchase.
// A config may shorten the window, never lengthen it.
const MaxWindowDays = 30

// ErrRead is returned when the config file cannot be read.
var ErrRead = errors.New("cannot read config")

// ErrInvalid is returned when the config file is not valid TOML, has an
// unknown key, or a value fails validation.
var ErrInvalid = errors.New("invalid config")

// Duration is a time.Duration written in TOML as a string ("90s", "5m").
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("not a duration (want e.g. \"90s\", \"5m\"): %q", b)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration back as a string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Config is the whole configuration.
type Config struct {
	// Path is the file the config was loaded from; Dir is its folder.
	Path string `toml:"-"`
	Dir  string `toml:"-"`

	SellerName string           `toml:"seller_name"`
	Ledger     LedgerConfig     `toml:"ledger"`
	Inbox      InboxConfig      `toml:"inbox"`
	Schedule   ScheduleConfig   `toml:"schedule"`
	Control    ControlConfig    `toml:"control"`
	Log        LogConfig        `toml:"log"`
	Metrics    MetricsConfig    `toml:"metrics"`
	Exclude    ExcludeConfig    `toml:"exclude"`
	Generic    GenericConfig    `toml:"generic"`
	Campaigns  []CampaignConfig `toml:"campaign"`
	Channel    ChannelConfig    `toml:"channel"`
	Fetch      FetchConfig      `toml:"fetch"`
}

// LedgerConfig places the bbolt ledger.
type LedgerConfig struct {
	Path        string   `toml:"path"`
	LockTimeout Duration `toml:"lock_timeout"`
}

// InboxConfig is the watched folder and where files go afterwards.
type InboxConfig struct {
	Dir          string   `toml:"dir"`
	ProcessedDir string   `toml:"processed_dir"`
	RejectedDir  string   `toml:"rejected_dir"`
	Rescan       Duration `toml:"rescan"`
	Settle       Duration `toml:"settle"`
}

// ScheduleConfig sets when passes run and the sending window.
type ScheduleConfig struct {
	// Tick is a robfig/cron spec, evaluated in UTC.
	Tick string `toml:"tick"`
	// WindowDays: no request at or after purchase + WindowDays days (at most 30).
	WindowDays int `toml:"window_days"`
	// QuietHours "HH:MM-HH:MM" in each marketplace's local time: nothing is sent inside it.
	QuietHours string `toml:"quiet_hours"`
	// Retry is the first backoff after a transient failure; it doubles per attempt.
	Retry Duration `toml:"retry"`
	// BatchSize caps how many due orders one pass sends.
	BatchSize int `toml:"batch_size"`
	// PurgeAfterDays: buyer data is dropped this many days after delivery at the latest.
	PurgeAfterDays int `toml:"purge_after_days"`
}

// ControlConfig is the daemon's unix socket for status, reload and ledger commands.
type ControlConfig struct {
	Socket string `toml:"socket"`
	// Timeout is how long a command waits for the daemon to say anything
	// (it says it is working every 2 seconds while a command runs).
	Timeout Duration `toml:"timeout"`
}

// LogConfig sets logging.
type LogConfig struct {
	Level  string `toml:"level"`  // debug | info | warn | error
	Format string `toml:"format"` // auto | text | json
}

// MetricsConfig enables /metrics and /healthz on a loopback address.
type MetricsConfig struct {
	Listen string `toml:"listen"`
}

// ExcludeConfig lists what the seller never wants a request sent for
// (README, "How it works": Decide).
type ExcludeConfig struct {
	SKUs          []string `toml:"skus"`
	ASINs         []string `toml:"asins"`
	Orders        []string `toml:"orders"`
	BuyerEmails   []string `toml:"buyer_emails"`
	BlockListFile string   `toml:"block_list_file"`
}

// GenericConfig maps the columns of a seller's own CSV export.
type GenericConfig struct {
	Columns     map[string]string `toml:"columns"`
	DateLayouts []string          `toml:"date_layouts"`
}

// CampaignConfig picks a template and channel for a set of marketplaces.
type CampaignConfig struct {
	Name          string   `toml:"name"`
	SalesChannels []string `toml:"sales_channels"`
	Template      string   `toml:"template"`
	Channel       string   `toml:"channel"`
	// DelayDays after (estimated) delivery before the request goes.
	DelayDays *int `toml:"delay_days"`
	// TransitDays estimate delivery from the ship date when no report says it.
	TransitDays *int `toml:"transit_days"`
}

// Marketplaces returns the marketplaces the campaign sends to: its sales
// channels looked up in the marketplace table, in order. Validate refuses a
// name the table does not know, so none is left out of a loaded config.
func (c CampaignConfig) Marketplaces() []marketplace.Marketplace {
	out := make([]marketplace.Marketplace, 0, len(c.SalesChannels))
	for _, sc := range c.SalesChannels {
		if m, ok := marketplace.Lookup(sc); ok {
			out = append(out, m)
		}
	}
	return out
}

// Delay returns the campaign's delay after delivery.
func (c CampaignConfig) Delay() time.Duration { return days(*c.DelayDays) }

// Transit returns the campaign's assumed transit time.
func (c CampaignConfig) Transit() time.Duration { return days(*c.TransitDays) }

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// ChannelConfig holds every channel's settings.
type ChannelConfig struct {
	Outbox OutboxConfig `toml:"outbox"`
	SMTP   SMTPConfig   `toml:"smtp"`
	SPAPI  SPAPIConfig  `toml:"spapi"`
}

// OutboxConfig is the folder channel.
type OutboxConfig struct {
	Dir  string `toml:"dir"`
	From string `toml:"from"`
}

// SMTPConfig is the mail channel. Password is secret and never printed.
type SMTPConfig struct {
	Host          string   `toml:"host"`
	Port          int      `toml:"port"`
	From          string   `toml:"from"`
	TLS           string   `toml:"tls"`
	Username      string   `toml:"username"`
	Password      string   `toml:"password"`
	PasswordFile  string   `toml:"password_file"`
	Timeout       Duration `toml:"timeout"`
	RatePerMinute int      `toml:"rate_per_minute"`
}

// SPAPIConfig is the Solicitations API channel. Secrets are never printed.
type SPAPIConfig struct {
	Endpoint         string `toml:"endpoint"`
	TokenEndpoint    string `toml:"token_endpoint"`
	ClientID         string `toml:"client_id"`
	ClientSecret     string `toml:"client_secret"`
	ClientSecretFile string `toml:"client_secret_file"`
	RefreshToken     string `toml:"refresh_token"`
	RefreshTokenFile string `toml:"refresh_token_file"`
}

// Default returns the configuration every file starts from.
func Default() *Config {
	return &Config{
		Ledger: LedgerConfig{Path: "/var/lib/campaignd/campaignd.db", LockTimeout: Duration{time.Second}},
		Inbox: InboxConfig{
			Dir:          "/var/lib/campaignd/inbox",
			ProcessedDir: "/var/lib/campaignd/processed",
			RejectedDir:  "/var/lib/campaignd/rejected",
			Rescan:       Duration{time.Minute},
			Settle:       Duration{2 * time.Second},
		},
		Schedule: ScheduleConfig{
			Tick:           "@every 1m",
			WindowDays:     MaxWindowDays,
			Retry:          Duration{15 * time.Minute},
			BatchSize:      500,
			PurgeAfterDays: 30,
		},
		Control: ControlConfig{Socket: "/run/campaignd/campaignd.sock", Timeout: Duration{30 * time.Second}},
		Log:     LogConfig{Level: "info", Format: "auto"},
		Fetch:   defaultFetch(),
		Channel: ChannelConfig{
			Outbox: OutboxConfig{Dir: "/var/lib/campaignd/outbox"},
			SMTP:   SMTPConfig{Port: 587, TLS: "starttls", Timeout: Duration{30 * time.Second}},
			SPAPI: SPAPIConfig{
				Endpoint:      "https://sellingpartnerapi-na.amazon.com",
				TokenEndpoint: "https://api.amazon.com/auth/o2/token",
			},
		},
	}
}

// Load reads, decodes and validates the config file at path.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRead, err)
	}
	return Parse(path, b)
}

// Parse decodes and validates config bytes as if read from path. Every
// error names the file, the line when the key is written in it, and the
// key (a campaign's key with the campaign's name).
func Parse(path string, b []byte) (*Config, error) {
	c := Default()
	src := scan(b)
	md, err := toml.Decode(string(b), c)
	if err != nil {
		return nil, src.decodeError(path, b, err)
	}
	if lines := src.unknownKeys(path, md); len(lines) > 0 {
		return nil, invalidLines(lines)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, path, err)
	}
	c.Path, c.Dir = path, filepath.Dir(abs)
	if errs := c.validateHome(); len(errs) > 0 {
		return nil, src.invalid(path, errors.Join(errs...))
	}
	c.resolve()
	if err := c.Validate(); err != nil {
		return nil, src.invalid(path, err)
	}
	return c, nil
}

// invalid turns every problem Validate found into its own line naming the
// file, the line and the key, wrapping ErrInvalid.
func (s *source) invalid(path string, err error) error {
	list := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	}
	lines := make([]string, len(list))
	for i, e := range list {
		lines[i] = s.locate(path, e)
	}
	return invalidLines(lines)
}

// invalidLines is one error of several lines, each a problem, wrapping
// ErrInvalid.
func invalidLines(lines []string) error {
	return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(lines, "\n"+ErrInvalid.Error()+": "))
}

// Abs resolves p against the config's folder.
func (c *Config) Abs(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.Dir, p)
}

// pathField is a key whose value is a path, and where it is kept.
type pathField struct {
	key string
	p   *string
}

// pathFields are the keys of the config that hold paths.
func (c *Config) pathFields() []pathField {
	fields := []pathField{
		{"ledger.path", &c.Ledger.Path}, {"inbox.dir", &c.Inbox.Dir},
		{"inbox.processed_dir", &c.Inbox.ProcessedDir}, {"inbox.rejected_dir", &c.Inbox.RejectedDir},
		{"control.socket", &c.Control.Socket}, {"exclude.block_list_file", &c.Exclude.BlockListFile},
		{"channel.outbox.dir", &c.Channel.Outbox.Dir}, {"channel.smtp.password_file", &c.Channel.SMTP.PasswordFile},
		{"channel.spapi.client_secret_file", &c.Channel.SPAPI.ClientSecretFile},
		{"channel.spapi.refresh_token_file", &c.Channel.SPAPI.RefreshTokenFile},
	}
	for i := range c.Campaigns {
		fields = append(fields, pathField{fmt.Sprintf("campaign[%d].template", i), &c.Campaigns[i].Template})
	}
	return fields
}

func (c *Config) resolve() {
	for _, f := range c.pathFields() {
		*f.p = c.Abs(*f.p)
	}
	for i := range c.Campaigns {
		if c.Campaigns[i].DelayDays == nil {
			c.Campaigns[i].DelayDays = ptr(5)
		}
		if c.Campaigns[i].TransitDays == nil {
			c.Campaigns[i].TransitDays = ptr(3)
		}
	}
}

func ptr(n int) *int { return &n }

var quietRe = regexp.MustCompile(`^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-3]):([0-5][0-9])$`)

// Validate checks every value and returns every problem it finds (joined
// with errors.Join), each naming its key.
func (c *Config) Validate() error {
	var errs []error
	for _, check := range []func() []error{
		c.validatePaths, c.validateSchedule, c.validateMisc, c.validateSocket, c.validateEndpoints,
		c.validateCampaigns, c.validateChannels, c.validateFetch,
	} {
		errs = append(errs, check()...)
	}
	return errors.Join(errs...)
}

// validatePaths checks the ledger, inbox and socket settings.
func (c *Config) validatePaths() []error {
	var errs []error
	for _, r := range []struct{ key, v string }{
		{"ledger.path", c.Ledger.Path}, {"inbox.dir", c.Inbox.Dir}, {"inbox.processed_dir", c.Inbox.ProcessedDir},
		{"inbox.rejected_dir", c.Inbox.RejectedDir}, {"control.socket", c.Control.Socket},
	} {
		if strings.TrimSpace(r.v) == "" {
			errs = append(errs, fieldError(r.key, "must be set"))
		}
	}
	if c.Inbox.Dir != "" && (c.Inbox.Dir == c.Inbox.ProcessedDir || c.Inbox.Dir == c.Inbox.RejectedDir) {
		errs = append(errs, fieldError("inbox.processed_dir", "must differ from inbox.dir"))
	}
	for _, d := range []struct {
		key string
		v   Duration
	}{{"control.timeout", c.Control.Timeout}, {"ledger.lock_timeout", c.Ledger.LockTimeout}, {"inbox.rescan", c.Inbox.Rescan}} {
		if d.v.Duration <= 0 {
			errs = append(errs, fieldError(d.key, "must be positive, got %s", d.v))
		}
	}
	if c.Inbox.Settle.Duration < 0 {
		errs = append(errs, fieldError("inbox.settle", "must not be negative, got %s", c.Inbox.Settle))
	}
	return errs
}

// validateSchedule checks [schedule].
func (c *Config) validateSchedule() []error {
	var errs []error
	add := func(key, format string, a ...any) { errs = append(errs, fieldError(key, format, a...)) }
	sc := c.Schedule
	if _, err := cron.ParseStandard(sc.Tick); err != nil {
		add("schedule.tick", "bad cron spec %q: %v", sc.Tick, err)
	}
	if sc.WindowDays < 1 || sc.WindowDays > MaxWindowDays {
		add("schedule.window_days", "must be 1 to %d (Amazon forbids requests %d days or more after purchase), got %d", MaxWindowDays, MaxWindowDays, sc.WindowDays)
	}
	if sc.QuietHours != "" && !quietRe.MatchString(sc.QuietHours) {
		add("schedule.quiet_hours", "want \"HH:MM-HH:MM\", got %q", sc.QuietHours)
	}
	if sc.Retry.Duration <= 0 {
		add("schedule.retry", "must be positive, got %s", sc.Retry)
	}
	if sc.BatchSize < 1 {
		add("schedule.batch_size", "must be at least 1, got %d", sc.BatchSize)
	}
	if sc.PurgeAfterDays < 1 || sc.PurgeAfterDays > 30 {
		add("schedule.purge_after_days", "must be 1 to 30, got %d", sc.PurgeAfterDays)
	}
	return errs
}

// validateMisc checks [log], [metrics], [exclude] and [generic].
func (c *Config) validateMisc() []error {
	var errs []error
	add := func(key, format string, a ...any) { errs = append(errs, fieldError(key, format, a...)) }
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		add("log.level", "want debug, info, warn or error, got %q", c.Log.Level)
	}
	if !slices.Contains([]string{"auto", "text", "json"}, c.Log.Format) {
		add("log.format", "want auto, text or json, got %q", c.Log.Format)
	}
	if c.Metrics.Listen != "" {
		if err := checkLoopback(c.Metrics.Listen); err != nil {
			add("metrics.listen", "%v", err)
		}
	}
	if c.Exclude.BlockListFile != "" {
		if err := checkFile(c.Exclude.BlockListFile); err != nil {
			add("exclude.block_list_file", "%v", err)
		}
	}
	known := orders.GenericFields()
	for field := range c.Generic.Columns {
		if !slices.Contains(known, field) {
			add("generic.columns."+field, "unknown field (known: %s)", strings.Join(known, ", "))
		}
	}
	if len(c.Generic.Columns) > 0 && (c.Generic.Columns["order_id"] == "" || c.Generic.Columns["purchase_date"] == "") {
		add("generic.columns", "must map order_id and purchase_date")
	}
	return errs
}

func (c *Config) validateCampaigns() []error {
	var errs []error
	if len(c.Campaigns) == 0 {
		errs = append(errs, fieldError("campaign", "at least one [[campaign]] is needed"))
	}
	names := map[string]bool{}
	for i, cp := range c.Campaigns {
		key := fmt.Sprintf("campaign[%d]", i)
		if cp.Name == "" {
			errs = append(errs, fieldError(key+".name", "must be set"))
		} else if names[cp.Name] {
			errs = append(errs, fieldError(key+".name", "duplicate campaign name %q", cp.Name))
		}
		names[cp.Name] = true
		errs = append(errs, cp.validate(key)...)
	}
	return errs
}

// validate checks one campaign, named key in errors.
func (cp CampaignConfig) validate(key string) []error {
	var errs []error
	add := func(field, format string, a ...any) { errs = append(errs, fieldError(key+"."+field, format, a...)) }
	if len(cp.SalesChannels) == 0 {
		add("sales_channels", "must list at least one marketplace")
	}
	for _, sc := range cp.SalesChannels {
		if _, ok := marketplace.Lookup(sc); !ok {
			add("sales_channels", "%s", unknownMarketplace(sc))
		}
	}
	if !slices.Contains([]string{"outbox", "smtp", "spapi"}, cp.Channel) {
		add("channel", "want outbox, smtp or spapi, got %q", cp.Channel)
	}
	if cp.Channel != "spapi" || cp.Template != "" {
		if cp.Template == "" {
			add("template", "must be set for channel %q", cp.Channel)
		} else if err := checkFile(cp.Template); err != nil {
			add("template", "%v", err)
		}
	}
	if d := *cp.DelayDays; d < 0 || d > MaxWindowDays {
		add("delay_days", "must be 0 to %d, got %d", MaxWindowDays, d)
	}
	if d := *cp.TransitDays; d < 0 || d > MaxWindowDays {
		add("transit_days", "must be 0 to %d, got %d", MaxWindowDays, d)
	}
	return errs
}

// Uses reports whether any campaign sends through channel.
func (c *Config) Uses(channel string) bool {
	for _, cp := range c.Campaigns {
		if cp.Channel == channel {
			return true
		}
	}
	return false
}

func (c *Config) validateChannels() []error {
	var errs []error
	if c.Uses("outbox") && c.Channel.Outbox.Dir == "" {
		errs = append(errs, fieldError("channel.outbox.dir", "must be set when a campaign uses the outbox"))
	}
	if c.Uses("smtp") {
		errs = append(errs, c.Channel.SMTP.validate()...)
	}
	if c.Uses("spapi") {
		s := c.Channel.SPAPI
		for key, v := range map[string]string{"channel.spapi.endpoint": s.Endpoint, "channel.spapi.token_endpoint": s.TokenEndpoint, "channel.spapi.client_id": s.ClientID} {
			if v == "" {
				errs = append(errs, fieldError(key, "must be set when a campaign uses spapi"))
			}
		}
		errs = append(errs, secretPair("channel.spapi.client_secret", s.ClientSecret, s.ClientSecretFile)...)
		errs = append(errs, secretPair("channel.spapi.refresh_token", s.RefreshToken, s.RefreshTokenFile)...)
	}
	return errs
}

// validate checks [channel.smtp], when a campaign uses it.
func (s SMTPConfig) validate() []error {
	var errs []error
	add := func(field, format string, a ...any) {
		errs = append(errs, fieldError("channel.smtp."+field, format, a...))
	}
	if s.Host == "" {
		add("host", "must be set when a campaign uses smtp")
	}
	if s.Port < 1 || s.Port > 65535 {
		add("port", "must be 1 to 65535, got %d", s.Port)
	}
	if s.From == "" {
		add("from", "must be set: an address approved in Seller Central")
	}
	if !slices.Contains([]string{"starttls", "tls", "none"}, s.TLS) {
		add("tls", "want starttls, tls or none, got %q", s.TLS)
	}
	if s.Password != "" && s.PasswordFile != "" {
		add("password_file", "set password or password_file, not both")
	}
	if s.PasswordFile != "" {
		if err := checkFile(s.PasswordFile); err != nil {
			add("password_file", "%v", err)
		}
	}
	if s.RatePerMinute < 0 {
		add("rate_per_minute", "must not be negative")
	}
	return errs
}

// validateEndpoints requires https for the SP-API and LWA endpoints, except
// on loopback addresses, whether or not a campaign uses them now.
func (c *Config) validateEndpoints() []error {
	var errs []error
	for _, e := range []struct{ key, url string }{
		{"channel.spapi.endpoint", c.Channel.SPAPI.Endpoint},
		{"channel.spapi.token_endpoint", c.Channel.SPAPI.TokenEndpoint},
	} {
		if e.url == "" {
			continue
		}
		if err := checkEndpoint(e.url); err != nil {
			errs = append(errs, fieldError(e.key, "%v", err))
		}
	}
	return errs
}

func secretPair(key, v, file string) []error {
	switch {
	case v != "" && file != "":
		return []error{fieldError(key+"_file", "set %s or %s_file, not both", key, key)}
	case v == "" && file == "":
		return []error{fieldError(key, "must be set (or %s_file)", key)}
	case file != "":
		if err := checkFile(file); err != nil {
			return []error{fieldError(key+"_file", "%v", err)}
		}
	}
	return nil
}

func checkFile(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("file %q does not exist", path)
		}
		return fmt.Errorf("file %q: %v", path, err)
	}
	if st.IsDir() {
		return fmt.Errorf("%q is a folder, not a file", path)
	}
	return nil
}

// ReadSecret returns an inline secret or the trimmed contents of its file.
func ReadSecret(inline, file string) (string, error) {
	if file == "" {
		return inline, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("read secret: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Window returns the sending window after purchase.
func (c *Config) Window() time.Duration { return days(c.Schedule.WindowDays) }

// PurgeAfter returns how long after delivery buyer data is kept at the latest.
func (c *Config) PurgeAfter() time.Duration { return days(c.Schedule.PurgeAfterDays) }

// Quiet returns the quiet hours as minutes after midnight; ok is false when none are set.
func (c *Config) Quiet() (from, to int, ok bool) {
	m := quietRe.FindStringSubmatch(c.Schedule.QuietHours)
	if m == nil {
		return 0, 0, false
	}
	atoi := func(s string) int { n := 0; fmt.Sscanf(s, "%d", &n); return n }
	return atoi(m[1])*60 + atoi(m[2]), atoi(m[3])*60 + atoi(m[4]), true
}
