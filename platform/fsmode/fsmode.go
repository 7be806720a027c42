// Package fsmode keeps the shop's local data private to the user that runs
// it: the data folder holds the SQLite database (password hashes, personal
// data), the generated JWT key and the search index. Folders are created
// 0700 and files 0600; what exists with a looser mode loses its group and
// other bits, and a stricter mode already set is kept.
package fsmode

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Dir creates dir (and missing parents) 0700 and takes the group and other
// bits off dir itself. Use it for the shop's own folders only, never for a
// folder the shop merely puts a file in (such as /tmp).
func Dir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	return Tighten(dir)
}

// Parent creates path's folder 0700 when it does not exist yet; a folder
// that exists is left as it is (it may be shared, such as /tmp).
func Parent(path string) error {
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	return nil
}

// File creates path empty with mode 0600 if it does not exist, and takes
// the group and other bits off it if it does.
func File(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		return f.Close()
	}
	if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create %s: %w", path, err)
	}
	return Tighten(path)
}

// Tighten takes the group and other bits off path's mode, if it exists;
// the owner's bits are kept as they are. A path this user may not change
// (another user's) is left alone.
func Tighten(path string) error {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if m := info.Mode().Perm(); m&0o077 != 0 {
		err := os.Chmod(path, m&^0o077)
		if errors.Is(err, fs.ErrPermission) {
			// Not ours to change (a volume mounted by another user): its
			// owner decides; refusing to start would not protect it.
			return nil
		}
		if err != nil {
			return fmt.Errorf("restrict %s: %w", path, err)
		}
	}
	return nil
}

// Tree tightens root and everything below it.
func Tree(root string) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		return Tighten(path)
	})
}
