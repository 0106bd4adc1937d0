package inbox

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// An upload that pauses longer than Settle looks finished: the watcher
// reads it and files it, and the uploader, which still holds the file
// open, then writes the rest into processed/NAME. So the watcher keeps an
// eye on what it filed lately, and a file that changed since it was read
// is moved back into the inbox and read again whole once it settles; the
// log says so. A file that comes again under the same name, longer and
// beginning with exactly the bytes read before (a new upload of the whole
// report), is read whole as any file is, and the log says the earlier one
// was cut short.
const (
	filedWatch = 24 * time.Hour // how long a filed file is watched
	maxFiled   = 100            // at most this many are watched, the newest
)

// filedFile is a file the watcher filed from the inbox, as it was read.
type filedFile struct {
	name   string // its name in the inbox
	dest   string // where it was filed
	size   int64
	mtime  time.Time
	sha256 string // of the bytes the handler read, when it said
	at     time.Time
}

// remember records a file just filed from the inbox. The caller holds runMu.
func (w *Watcher) remember(name, dest string, e *entry, res Result, now time.Time) {
	w.filed = append(w.filed, &filedFile{name: name, dest: dest, size: e.size, mtime: e.mtime, sha256: res.SHA256, at: now})
	if len(w.filed) > maxFiled {
		w.filed = w.filed[len(w.filed)-maxFiled:]
	}
}

// recheckFiled moves each file filed lately that changed since it was read
// back into the inbox, to be read again whole. The caller holds runMu.
func (w *Watcher) recheckFiled(now time.Time) []error {
	var errs []error
	kept := w.filed[:0]
	for _, f := range w.filed {
		if now.Sub(f.at) >= filedWatch {
			continue
		}
		fi, err := os.Lstat(f.dest)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue // moved away by someone: nothing left to watch
		case err != nil:
			errs = append(errs, fmt.Errorf("stat %s: %w", f.dest, err))
		case !fi.Mode().IsRegular() || (fi.Size() == f.size && fi.ModTime().Equal(f.mtime)):
		default:
			if err := w.readAgain(f, fi, now); err == nil {
				continue
			} else {
				errs = append(errs, err)
			}
		}
		kept = append(kept, f)
	}
	clear(w.filed[len(kept):])
	w.filed = kept
	return errs
}

// readAgain moves the filed file f, which changed after it was read, back
// into the inbox under its name (or a free one).
func (w *Watcher) readAgain(f *filedFile, fi fs.FileInfo, now time.Time) error {
	back, err := freeName(w.Dir, f.name, now)
	if err != nil {
		return err
	}
	moved, err := w.move(f.dest, back)
	if !moved {
		return fmt.Errorf("move %s back into the inbox: %w", f.dest, err)
	}
	w.Logger.Warn("inbox file changed after it was filed, reading it again whole", keyFile, f.name, keyDest, f.dest,
		"read_bytes", f.size, "bytes", fi.Size(), "filed_at", f.at.UTC().Format(time.RFC3339))
	return err
}

// noteLongerCopy warns when the candidate name, of size bytes, is longer
// than a file of that name filed lately and begins with exactly its bytes.
func (w *Watcher) noteLongerCopy(name string, size int64) {
	var f *filedFile
	for i := len(w.filed) - 1; i >= 0 && f == nil; i-- {
		if w.filed[i].name == name {
			f = w.filed[i]
		}
	}
	if f == nil || f.sha256 == "" || size <= f.size {
		return
	}
	if same, err := holds(w.path(name), f.sha256, f.size, false); err != nil || !same {
		return
	}
	w.Logger.Warn("inbox file begins with a file of its name filed before, which was cut short; reading this one whole", keyFile, name,
		"earlier", f.dest, "earlier_bytes", f.size, "bytes", size)
}

// holds reports whether the file at path begins with the size bytes whose
// SHA-256 is sha (hex) and, when whole, holds nothing more.
func holds(path, sha string, size int64, whole bool) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyN(h, f, size); errors.Is(err, io.EOF) {
		return false, nil // shorter
	} else if err != nil {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	if whole {
		if n, err := f.Read(make([]byte, 1)); n > 0 || (err != nil && !errors.Is(err, io.EOF)) {
			return false, err // longer, or unreadable
		}
	}
	return hex.EncodeToString(h.Sum(nil)) == sha, nil
}
