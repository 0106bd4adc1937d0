package inbox

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// stagePrefix names the private folders Stage makes inside the inbox. Their
// names start with a dot, so scans never take them for reports.
const stagePrefix = ".campaignd-import-"

// MaxImport is the largest file Stage copies (a year of a large seller's
// All Orders report is well under a gigabyte).
const MaxImport = 4 << 30

// Stage copies r (a report a caller opened, such as the descriptor a
// client passed over the control socket) into a new private folder inside
// Dir, under the base of name, and returns the copy's path for Process:
// the copy, not the caller's file, is then filed as processed/NAME or
// rejected/NAME, so nothing campaignd does moves or removes the caller's
// file. cleanup removes the folder and whatever is left in it (the copy,
// when Process did not file it); call it once done.
func (w *Watcher) Stage(ctx context.Context, r io.Reader, name string) (path string, cleanup func(), err error) {
	if err := w.ready(); err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp(w.Dir, stagePrefix+"*")
	if err != nil {
		return "", nil, fmt.Errorf("stage a copy of %s: %w", name, err)
	}
	cleanup = func() { _ = os.RemoveAll(dir) }
	path = filepath.Join(dir, SafeName(name))
	if err := copyNew(ctx, path, r); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("stage a copy of %s: %w", name, err)
	}
	return path, cleanup, nil
}

// SafeName is the base of name, usable as a file name in a folder:
// never empty, ".", "..", nor a path.
func SafeName(name string) string {
	base := filepath.Base(filepath.Clean("/" + strings.ReplaceAll(name, "\x00", "")))
	if base == "/" || base == "." || base == ".." {
		return "report"
	}
	return base
}

// copyNew copies r into a new file at path, at most MaxImport bytes, and
// fsyncs it.
func copyNew(ctx context.Context, path string, r io.Reader) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	n, err := io.Copy(f, io.LimitReader(ctxReader{ctx, r}, MaxImport+1))
	if err != nil {
		return err
	}
	if n > MaxImport {
		return fmt.Errorf("larger than %d GiB: put it in the inbox folder instead", MaxImport>>30)
	}
	return f.Sync()
}

// ctxReader stops a copy when ctx is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// removeStaleStaging removes the private folders a crash left in dir.
func removeStaleStaging(dir string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, de := range ents {
		if de.IsDir() && strings.HasPrefix(de.Name(), stagePrefix) {
			_ = os.RemoveAll(filepath.Join(dir, de.Name()))
		}
	}
}
