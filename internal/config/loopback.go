package config

import (
	"fmt"
	"net"
)

// checkLoopback accepts only host:port addresses on the loopback interface:
// metrics carry nothing personal, but they are nobody else's business.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want host:port, got %q", addr)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("must be a loopback address (127.0.0.1:PORT or [::1]:PORT), got %q", addr)
	}
	return nil
}
