package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"campaignd/internal/ledger"
)

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
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		c, err := d.ledger.Counts()
		if err != nil {
			http.Error(w, "ledger: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintln(w, "# HELP campaignd_orders Orders in the ledger by state.")
		fmt.Fprintln(w, "# TYPE campaignd_orders gauge")
		for _, s := range ledger.States {
			fmt.Fprintf(w, "campaignd_orders{state=%q} %d\n", s, c.ByState[s])
		}
		info := d.info()
		fmt.Fprintln(w, "# HELP campaignd_last_pass_timestamp_seconds When the last send pass started.")
		fmt.Fprintln(w, "# TYPE campaignd_last_pass_timestamp_seconds gauge")
		var last int64
		if !info.LastPass.IsZero() {
			last = info.LastPass.Unix()
		}
		fmt.Fprintf(w, "campaignd_last_pass_timestamp_seconds %d\n", last)
		fmt.Fprintln(w, "# HELP campaignd_inbox_pending Files in the inbox waiting to settle.")
		fmt.Fprintln(w, "# TYPE campaignd_inbox_pending gauge")
		fmt.Fprintf(w, "campaignd_inbox_pending %d\n", len(info.Pending))
	})
	m := &metricsServer{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}
	go m.srv.Serve(ln)
	return m, nil
}

func (m *metricsServer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return m.srv.Shutdown(ctx)
}
