package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// validateHome refuses a path written with "~": no shell reads the config
// to expand it, so "~/reports" would be a folder named "~" beside the
// config file.
func (c *Config) validateHome() []error {
	var errs []error
	for _, f := range c.pathFields() {
		v := *f.p
		if !strings.HasPrefix(v, "~") {
			continue
		}
		example := "/home/you" + strings.TrimPrefix(v, "~")
		if name, rest, _ := strings.Cut(strings.TrimPrefix(v, "~"), "/"); name != "" {
			example = "/home/" + name + "/" + rest // ~alice/reports
		}
		errs = append(errs, fieldError(f.key, "%q starts with \"~\", which campaignd does not expand (it would be a folder named \"~\" beside the config file): write the absolute path, such as %q", v, strings.TrimSuffix(example, "/")))
	}
	return errs
}

// Folder is a folder the daemon writes in, and the key that names it.
type Folder struct {
	Key  string // "inbox.dir", or "ledger.path" for the ledger's folder
	Path string
}

// Folders are the folders the daemon writes in: the inbox and the folders
// files go to, the outbox when a campaign uses it, the ledger's folder and,
// when the daemon serves its control socket, the socket's folder.
func (c *Config) Folders(socket bool) []Folder {
	out := []Folder{
		{"inbox.dir", c.Inbox.Dir}, {"inbox.processed_dir", c.Inbox.ProcessedDir},
		{"inbox.rejected_dir", c.Inbox.RejectedDir}, {"ledger.path", filepath.Dir(c.Ledger.Path)},
	}
	if c.Uses("outbox") {
		out = append(out, Folder{"channel.outbox.dir", c.Channel.Outbox.Dir})
	}
	if socket {
		out = append(out, Folder{"control.socket", filepath.Dir(c.Control.Socket)})
	}
	return out
}

// PrepareFolders creates each of Folders that is missing (mode 0750) and
// checks that the running user can create files in it, by creating one
// (named .campaignd-write-check-*, which the inbox never reads) and
// removing it. It is the daemon's check at start-up and on reload: unlike
// Load, it writes. Each error names the key, the folder, the user and the
// way to fix it, one line each.
func (c *Config) PrepareFolders(socket bool) error {
	var errs []error
	for _, f := range c.Folders(socket) {
		if err := prepareFolder(f.Path); err != nil {
			errs = append(errs, fmt.Errorf("%s: %s: %w", c.Path, f.Key, err))
		}
	}
	return errors.Join(errs...)
}

// prepareFolder creates dir if it is missing and checks that a file can be
// created in it.
func prepareFolder(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) && errors.Is(err, syscall.ENOTDIR) {
			if filepath.Clean(pe.Path) == filepath.Clean(dir) {
				return fmt.Errorf("%s is a file, not a folder", dir)
			}
			return fmt.Errorf("%s: %s is a file, not a folder", dir, pe.Path)
		}
		return folderError(dir, "cannot create the folder", err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return folderError(dir, "cannot look at the folder", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is a file, not a folder", dir)
	}
	f, err := os.CreateTemp(dir, ".campaignd-write-check-*")
	if err != nil {
		return folderError(dir, "cannot create files in the folder", err)
	}
	name := f.Name()
	f.Close()
	if err := os.Remove(name); err != nil {
		return folderError(dir, "cannot remove files from the folder", err)
	}
	return nil
}

// folderError says what the running user cannot do in dir, and how to fix it.
func folderError(dir, what string, err error) error {
	who := runningUser()
	switch {
	case errors.Is(err, syscall.EROFS):
		return fmt.Errorf("%s: %s as %s: a read-only file system. Under systemd campaignd may write only in /var/lib/campaignd and /run/campaignd (ProtectSystem=strict): choose a folder there, or add this one to ReadWritePaths= in a drop-in (systemctl edit campaignd)", dir, what, who)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%s: %s as %s: permission denied. Give the folder to that user (chown), or choose one it owns, such as one under /var/lib/campaignd", dir, what, who)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err // the path is said already
	}
	return fmt.Errorf("%s: %s as %s: %w", dir, what, who, err)
}

// runningUser names the user campaignd runs as: "user campaignd (uid 998)".
func runningUser() string {
	uid := os.Getuid()
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return fmt.Sprintf("user %s (uid %d)", u.Username, uid)
	}
	return fmt.Sprintf("uid %d", uid)
}
