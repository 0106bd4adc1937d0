package inbox

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// stampFormat is the time stamp put before the extension when a name is taken.
const stampFormat = "20060102T150405Z"

// maxNameTries bounds the search for a free destination name.
const maxNameTries = 10000

// file moves src to ProcessedDir or RejectedDir under a free name derived
// from name, writing the report or error file first. It returns where the
// file went, or "" if it did not move; an error with a non-empty path means
// the file moved but a later step (fsync) failed.
func (w *Watcher) file(src, name string, res Result, now time.Time) (string, error) {
	dir, suffix, text := w.ProcessedDir, ReportSuffix, res.Report
	if res.Rejected {
		dir, suffix, text = w.RejectedDir, ErrorSuffix, errorText(res)
	}
	dest, err := freeName(dir, name, now)
	if err != nil {
		return "", err
	}
	companion := ""
	if text != "" {
		companion = dest + suffix
		if err := writeNew(companion, text); err != nil {
			return "", err
		}
	}
	moved, err := w.move(src, dest)
	if !moved {
		if companion != "" {
			// Our own report, never written anywhere else: drop it so the
			// next attempt can use the name.
			_ = os.Remove(companion)
		}
		return "", err
	}
	return dest, errors.Join(err, syncDir(dir))
}

// errorText is the content of a rejected file's .error.txt.
func errorText(res Result) string {
	reason := res.Reason
	if reason == "" {
		reason = "rejected (no reason given)"
	}
	var b strings.Builder
	b.WriteString("reason: " + reason + "\n")
	if res.Report != "" {
		b.WriteString("\nrejected rows:\n")
		b.WriteString(res.Report)
	}
	return b.String()
}

// freeName returns a path in dir for name that is not taken, nor are its
// report and error files: name, then name with the time stamp before its
// extension, then with -2, -3...
func freeName(dir, name string, now time.Time) (string, error) {
	ext := filepath.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	stamp := now.UTC().Format(stampFormat)
	for i := 0; i < maxNameTries; i++ {
		var n string
		switch i {
		case 0:
			n = name
		case 1:
			n = stem + "." + stamp + ext
		default:
			n = fmt.Sprintf("%s.%s-%d%s", stem, stamp, i, ext)
		}
		p := filepath.Join(dir, n)
		free, err := absent(p, p+ReportSuffix, p+ErrorSuffix)
		if err != nil {
			return "", err
		}
		if free {
			return p, nil
		}
	}
	return "", fmt.Errorf("no free name for %s in %s", name, dir)
}

func absent(paths ...string) (bool, error) {
	for _, p := range paths {
		_, err := os.Lstat(p)
		if err == nil {
			return false, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return false, err
		}
	}
	return true, nil
}

// writeNew creates path (which must not exist) with text, newline-terminated,
// and fsyncs it.
func writeNew(path, text string) (err error) {
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	if _, err := f.WriteString(text); err != nil {
		return err
	}
	return f.Sync()
}

// move renames src to dst, or copies and removes it when they are on
// different filesystems. moved reports whether dst now holds the file; an
// error with moved set means a later step failed (the original may remain).
func (w *Watcher) move(src, dst string) (moved bool, err error) {
	rename := w.rename
	if rename == nil {
		rename = os.Rename
	}
	err = rename(src, dst)
	if errors.Is(err, syscall.EXDEV) {
		return copyMove(src, dst)
	}
	return err == nil, err
}

// copyMove copies src to a temporary file next to dst, fsyncs it, renames it
// to dst, fsyncs the directory, and only then removes src.
func copyMove(src, dst string) (moved bool, err error) {
	tmp, err := copyToTemp(src, filepath.Dir(dst), "."+filepath.Base(dst)+".*.tmp")
	if err != nil {
		return false, err
	}
	if err = os.Rename(tmp, dst); err != nil {
		_ = os.Remove(tmp)
		return false, err
	}
	// dst is complete from here on; the copy must be durable before the
	// original goes.
	if err := syncDir(filepath.Dir(dst)); err != nil {
		return true, fmt.Errorf("original kept: %w", err)
	}
	if err := os.Remove(src); err != nil {
		return true, fmt.Errorf("remove copied original: %w", err)
	}
	return true, syncDir(filepath.Dir(src))
}

// copyToTemp copies src into a new temporary file in dir (named after
// pattern) with src's permissions and modification time, fsyncs and closes
// it, and returns its path. On an error nothing is left behind.
func copyToTemp(src, dir, pattern string) (path string, err error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = io.Copy(tmp, in); err != nil {
		return "", fmt.Errorf("copy: %w", err)
	}
	if err = tmp.Chmod(fi.Mode().Perm()); err != nil {
		return "", err
	}
	if err = tmp.Sync(); err != nil {
		return "", err
	}
	if err = tmp.Close(); err != nil {
		return "", err
	}
	return tmp.Name(), os.Chtimes(tmp.Name(), fi.ModTime(), fi.ModTime())
}

// syncDir fsyncs a directory so renames into or out of it are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if errors.Is(err, syscall.EINVAL) {
		err = nil // filesystems that cannot sync directories
	}
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
