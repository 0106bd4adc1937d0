package inbox

import "errors"

// ErrInvalidConfig is returned when Open finds a Watcher field missing or
// out of range.
var ErrInvalidConfig = errors.New("invalid inbox config")

// ErrNotOpen is returned when Scan, Run or Process is called on a Watcher
// whose Open has not succeeded.
var ErrNotOpen = errors.New("inbox watcher not open")

// ErrNotRegular is returned when Process is given a path that is not a
// regular file (a directory, a symbolic link, a device...).
var ErrNotRegular = errors.New("not a regular file")
