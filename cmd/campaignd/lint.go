package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
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
	cfg, err := lintConfig(fs, *cfgPath)
	if err != nil {
		return err
	}
	files, markets := lintTargets(cfg, fs.Args())
	if len(files) == 0 {
		return usagef("no templates to lint: name FILEs or a config with campaigns")
	}
	failed := false
	for _, f := range files {
		ok, err := lintFile(a.stdout, f, markets)
		if err != nil {
			return err
		}
		failed = failed || !ok
	}
	if failed {
		return silent(exitProblem)
	}
	return nil
}

// lintConfig loads the config. Linting named files needs none: without
// one (and no --config), there are no marketplaces to check against.
func lintConfig(fs *flag.FlagSet, path string) (*config.Config, error) {
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" })
	cfg, err := config.Load(path)
	switch {
	case err == nil:
		return cfg, nil
	case fs.NArg() > 0 && !explicit && errors.Is(err, config.ErrRead):
		return nil, nil
	default:
		return nil, invalid(err)
	}
}

// lintTargets returns the files to lint (those named, or else every
// template the config uses) and, by template path, the marketplaces of the
// campaigns that use it.
func lintTargets(cfg *config.Config, named []string) ([]string, map[string][]marketplace.Marketplace) {
	files := named
	markets := map[string][]marketplace.Marketplace{}
	if cfg == nil {
		return files, markets
	}
	for _, cp := range cfg.Campaigns {
		if cp.Template == "" {
			continue
		}
		if _, seen := markets[cp.Template]; !seen && len(named) == 0 {
			files = append(files, cp.Template)
		}
		markets[cp.Template] = append(markets[cp.Template], cp.Marketplaces()...)
	}
	return files, markets
}

// lintFile checks one template and prints its violations; ok is false when
// there are some. A file that is missing is a usage error.
func lintFile(w io.Writer, f string, markets map[string][]marketplace.Marketplace) (ok bool, err error) {
	if _, err := os.Stat(f); err != nil {
		return false, usagef("%v", err)
	}
	t, err := policy.LoadTemplate(f)
	if err != nil {
		fmt.Fprintln(w, err)
		return false, nil
	}
	abs, _ := filepath.Abs(f)
	ms := markets[abs]
	if ms == nil {
		ms = markets[f]
	}
	ok = true
	for _, v := range policy.CheckTemplate(t, ms) {
		fmt.Fprintln(w, v)
		ok = false
	}
	return ok, nil
}
