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
		if err := a.daemon.reload(ctx); err != nil {
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
