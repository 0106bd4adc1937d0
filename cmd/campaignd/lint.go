package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"campaignd/internal/config"
	"campaignd/internal/marketplace"
	"campaignd/internal/policy"
)

func cmdLint(_ context.Context, a *app, args []string) error {
	fs := newFlags("lint", "[FILE...]", "Check template files against the Amazon policy rules and print one line per\nviolation: FILE:LINE:COL: RULE: message. With no FILE, check every template\nthe config uses, for the marketplaces of the campaigns that use it.\nExit 0 when all pass, 1 when any rule fails, 2 on usage errors.", a)
	cfgPath := a.configFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" })
	cfg, err := config.Load(*cfgPath)
	switch {
	case err == nil:
	case fs.NArg() > 0 && !explicit && errors.Is(err, config.ErrRead):
		cfg = nil // linting files needs no config; without one there are no marketplaces to check against
	default:
		return invalid(err)
	}
	files := fs.Args()
	markets := map[string][]marketplace.Marketplace{}
	if cfg != nil {
		for _, cp := range cfg.Campaigns {
			if cp.Template == "" {
				continue
			}
			if len(fs.Args()) == 0 {
				if _, seen := markets[cp.Template]; !seen {
					files = append(files, cp.Template)
				}
			}
			for _, sc := range cp.SalesChannels {
				if m, ok := marketplace.Lookup(sc); ok {
					markets[cp.Template] = append(markets[cp.Template], m)
				}
			}
		}
	}
	if len(files) == 0 {
		return usagef("no templates to lint: name FILEs or a config with campaigns")
	}
	failed := false
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			return usagef("%v", err)
		}
		t, err := policy.LoadTemplate(f)
		if err != nil {
			fmt.Fprintln(a.stdout, err)
			failed = true
			continue
		}
		abs, _ := filepath.Abs(f)
		ms := markets[abs]
		if ms == nil {
			ms = markets[f]
		}
		for _, v := range policy.CheckTemplate(t, ms) {
			fmt.Fprintln(a.stdout, v)
			failed = true
		}
	}
	if failed {
		return silent(exitProblem)
	}
	return nil
}
