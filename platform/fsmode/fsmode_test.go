package fsmode_test

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/modshop/modshop/platform/fsmode"
)

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Mode().Perm()
}

func TestModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX modes")
	}
	base := t.TempDir()
	dir := filepath.Join(base, "a", "data")
	if err := fsmode.Dir(dir); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, dir); m != 0o700 {
		t.Errorf("new folder %o, want 700", m)
	}
	f := filepath.Join(dir, "db")
	if err := fsmode.File(f); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, f); m != 0o600 {
		t.Errorf("new file %o, want 600", m)
	}
	loose, strict := filepath.Join(dir, "loose"), filepath.Join(dir, "strict")
	_ = os.WriteFile(loose, nil, 0o644)
	_ = os.WriteFile(strict, nil, 0o400)
	_ = os.Chmod(loose, 0o664)
	if err := fsmode.Tree(dir); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, loose); m != 0o600 {
		t.Errorf("loose file %o, want 600", m)
	}
	if m := mode(t, strict); m != 0o400 {
		t.Errorf("strict file %o, want 400 kept", m)
	}
	// Parent leaves a folder that exists alone: it may be shared.
	_ = os.Chmod(base, 0o755)
	if err := fsmode.Parent(filepath.Join(base, "x.db")); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, base); m != 0o755 {
		t.Errorf("Parent changed an existing folder to %o", m)
	}
}
