package engine

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// A second process opening an index that another holds (a second `make run`
// in the same folder) fails fast with ErrIndexInUse instead of waiting
// forever on bolt's file lock.
func TestOpeningAnIndexInUseFailsFast(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "index")
	first, err := OpenBleve(path)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	start := time.Now()
	second, err := OpenBleve(path)
	if err == nil {
		second.Close()
		t.Fatal("the index opened twice")
	}
	if !errors.Is(err, ErrIndexInUse) || time.Since(start) > 2*time.Second {
		t.Fatalf("second open: %v after %s, want ErrIndexInUse within 2 s", err, time.Since(start))
	}
}
