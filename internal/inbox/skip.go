package inbox

import (
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
)

// Skip is an entry of the inbox that is never read, and why.
type Skip struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// Skipped lists the entries of the inbox dir that campaignd never reads
// because they are not regular files (symbolic links, named pipes,
// folders...), with the reason, by name. Names it ignores on purpose
// (partial uploads, dot-files, its own reports) are not listed. A missing
// dir has no entries; nothing is created.
func Skipped(dir string) ([]Skip, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Skip
	for _, de := range ents {
		if Ignored(de.Name()) || de.Type().IsRegular() {
			continue
		}
		out = append(out, Skip{Name: de.Name(), Reason: SkipReason(de.Type())})
	}
	slices.SortFunc(out, func(a, b Skip) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// SkipReason says why an inbox entry of this type is never read, and what
// to do instead.
func SkipReason(mode fs.FileMode) string {
	const todo = "; put the report itself in the inbox, or run `campaignd ingest FILE`"
	switch {
	case mode&fs.ModeSymlink != 0:
		return "a symbolic link: campaignd reads only regular files, never through a link" + todo
	case mode.IsDir():
		return "a folder: campaignd does not look inside folders" + todo
	case mode&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO): campaignd reads only regular files" + todo
	case mode&fs.ModeSocket != 0:
		return "a socket: campaignd reads only regular files"
	case mode&fs.ModeDevice != 0:
		return "a device: campaignd reads only regular files"
	default:
		return "not a regular file: campaignd reads only regular files" + todo
	}
}
