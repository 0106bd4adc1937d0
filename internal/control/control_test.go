package control_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"campaignd/internal/control"
)

func TestCallRoundTrip(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "c.sock")
	srv := &control.Server{Path: sock, Handler: func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
		fmt.Fprintf(stdout, "got %s", strings.Join(args, ","))
		fmt.Fprint(stderr, "warn")
		return 3
	}}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	defer srv.Close()

	resp, err := control.Call(context.Background(), sock, []string{"status", "--json"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Stdout != "got status,--json" || resp.Stderr != "warn" || resp.Code != 3 {
		t.Fatalf("resp = %+v", resp)
	}

	second := &control.Server{Path: sock, Handler: srv.Handler}
	if err := second.Listen(); !errors.Is(err, control.ErrInUse) {
		t.Fatalf("second Listen = %v, want ErrInUse", err)
	}
}

func TestCallNoDaemon(t *testing.T) {
	_, err := control.Call(context.Background(), filepath.Join(t.TempDir(), "none.sock"), []string{"status"})
	if !errors.Is(err, control.ErrNoDaemon) {
		t.Fatalf("err = %v, want ErrNoDaemon", err)
	}
}
