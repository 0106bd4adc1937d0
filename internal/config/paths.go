package config

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
)

// validateSocket checks that control.socket does not collide with a path
// the daemon keeps something else at: at start-up the daemon replaces a
// stale socket there, and must never be led to remove a ledger or a report.
func (c *Config) validateSocket() []error {
	sock := filepath.Clean(c.Control.Socket)
	if c.Control.Socket == "" {
		return nil
	}
	var errs []error
	for _, o := range c.pathFields() {
		if o.key != "control.socket" && *o.p != "" && filepath.Clean(*o.p) == sock {
			errs = append(errs, fieldError("control.socket", "%q is also %s: the socket needs a path of its own", c.Control.Socket, c.display(o.key)))
		}
	}
	if c.Inbox.Dir != "" && filepath.Dir(sock) == filepath.Clean(c.Inbox.Dir) {
		errs = append(errs, fieldError("control.socket", "%q is inside inbox.dir: put the socket outside the watched folder", c.Control.Socket))
	}
	return errs
}

// display names a key in a message: a campaign's key by the campaign's
// name (campaign "de" template), any other as it is.
func (c *Config) display(key string) string {
	m := campaignKeyRe.FindStringSubmatch(key)
	if m == nil {
		return key
	}
	i, _ := strconv.Atoi(m[1])
	name := fmt.Sprintf("campaign[%d]", i)
	if i < len(c.Campaigns) && c.Campaigns[i].Name != "" {
		name = fmt.Sprintf("campaign %q", c.Campaigns[i].Name)
	}
	if m[2] == "" {
		return name
	}
	return name + " " + m[2]
}

// checkEndpoint accepts an https URL, or plain http to a loopback address
// (a test server on this machine): over any other http, the client secret
// and the tokens would cross the network unencrypted. The value is not
// repeated in the error: it may carry credentials.
func checkEndpoint(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("not a URL: want https://HOST")
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if isLoopbackHost(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("plain http to %s would send the client secret and tokens unencrypted: use https (http is accepted only for loopback addresses)", u.Hostname())
	default:
		return fmt.Errorf("want an https URL, got scheme %q", u.Scheme)
	}
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
