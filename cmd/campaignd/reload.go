package main

import (
	"context"
	"fmt"
)

func cmdReload(ctx context.Context, a *app, args []string) error {
	fs := newFlags("reload", "", "Ask the running daemon to reload its config and templates, and wait for the\nanswer. A config or template that fails validation is refused: the daemon\nkeeps the old one, and this command prints why and exits 2.", a)
	cfgPath := a.configFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("reload takes no arguments")
	}
	if a.daemon != nil {
		if err := a.daemon.reloadBy(ctx, a.who); err != nil {
			return invalid(fmt.Errorf("reload refused, the old config stays in force:\n%v", err))
		}
		fmt.Fprintln(a.stdout, "reloaded")
		return nil
	}
	cfg, err := a.config(*cfgPath)
	if err != nil {
		return err
	}
	if done, err := a.forward(ctx, cfg, fs); done {
		return err
	}
	return fmt.Errorf("no daemon answers on %s", cfg.Control.Socket)
}

// reloadBy reloads for who asked (SIGHUP, or a client of the control
// socket) and logs a refusal as a warning, with why; a reload that takes
// effect logs "config reloaded".
func (d *daemon) reloadBy(ctx context.Context, who string) error {
	err := d.reload(ctx)
	if err != nil {
		d.logger.Warn("reload refused; the old config stays in force", "by", who, keyErr, err.Error())
		return err
	}
	d.mu.Lock()
	cfg := d.cfg
	d.mu.Unlock()
	d.metrics.initSeries(cfg) // its campaigns' counters, from 0
	return nil
}
