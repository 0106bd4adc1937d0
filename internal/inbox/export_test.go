package inbox

// SetRename replaces os.Rename in w's moves, to simulate failures such as
// EXDEV.
func SetRename(w *Watcher, rename func(oldpath, newpath string) error) {
	w.rename = rename
}
