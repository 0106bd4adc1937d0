package main

import (
	"encoding/json"
	"os"
	"testing"
)

// dashboardExprs are the queries of contrib/grafana/campaignd-dashboard.json,
// which must be a dashboard Grafana can import: JSON, panels with a
// Prometheus query each, the data source an input.
func dashboardExprs(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../contrib/grafana/campaignd-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Inputs []struct{ Name, PluginID string } `json:"__inputs"`
		Panels []struct {
			Type, Title string
			Targets     []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	if len(d.Inputs) != 1 || d.Inputs[0].PluginID != "prometheus" {
		t.Errorf("the dashboard's data source input: %+v", d.Inputs)
	}
	var exprs []string
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	return exprs
}

// TestDashboard: the dashboard parses and every panel has queries.
func TestDashboard(t *testing.T) {
	if n := len(dashboardExprs(t)); n < 15 {
		t.Fatalf("the dashboard has %d queries", n)
	}
}
