package main

import (
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/modshop/modshop/platform/testkit"
)

// TestDataFolderIsPrivate: the data folder holds password hashes, personal
// data and the JWT key. It is created 0700 and what the shop writes in it
// (the SQLite database and its WAL and SHM files, the search index, the
// key) is 0600, or 0700 for folders; a folder created earlier with a looser
// mode is tightened, and a stricter mode already set is kept.
func TestDataFolderIsPrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX modes")
	}
	for _, existing := range []bool{false, true} {
		name := "new folder"
		if existing {
			name = "folder made 0755 earlier"
		}
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			strict := filepath.Join(dir, "operator-notes")
			if existing {
				if err := os.Mkdir(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "modshop.db"), nil, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(strict, []byte("x"), 0o400); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(dir, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			shop := testkit.Start(t, modules, testkit.Options{Env: map[string]string{
				"MODSHOP_DATA_DIR":     dir,
				"MODSHOP_DATABASE_URL": "sqlite://" + filepath.Join(dir, "modshop.db"),
				"MODSHOP_JWT_SECRET":   "",
			}})
			admin := shop.AdminToken()
			testkit.Expect(t, shop.Post("/v1/admin/products", admin, map[string]any{
				"slug": "private-folder", "title": "Private Folder Jacket", "status": "published",
				"variants": []map[string]any{{"sku": "PRIV-1", "title": "M", "price": 1000}},
			}), http.StatusCreated)
			testkit.Eventually(t, 10*time.Second, func() bool {
				r := shop.Get("/v1/search?q=jacket", "")
				return r.Status == 200 && len(r.Map(t)["items"].([]any)) > 0
			}, "the search index never held the product")
			seen := map[string]bool{}
			err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				info, err := d.Info()
				if err != nil {
					return err
				}
				rel, _ := filepath.Rel(dir, path)
				seen[filepath.Base(path)] = true
				mode := info.Mode().Perm()
				switch {
				case path == strict:
					if mode != 0o400 {
						t.Errorf("%s: %o, a stricter mode (400) was not kept", rel, mode)
					}
				case mode&0o077 != 0:
					t.Errorf("%s: mode %o is open to others", rel, mode)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"data", "modshop.db", "modshop.db-wal", "modshop.db-shm", "jwt.key", "search.bleve"} {
				if !seen[want] {
					t.Errorf("%s was not there to check", want)
				}
			}
		})
	}
}
