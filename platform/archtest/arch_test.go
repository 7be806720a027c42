// Package archtest proves that the boundary check can fail: it runs arch-go
// on a copy of the repository as it is (it must pass) and on a copy with
// forbidden imports planted in it (it must fail and name each of them).
package archtest

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const modulePath = "github.com/modshop/modshop"

// leak is a forbidden import planted in a copy of the tree.
type leak struct {
	name    string
	file    string // relative to the repository root
	pkg     string // the package clause of the file
	imports string // the forbidden import
	want    string // what arch-go must print about it
}

var leaks = []leak{
	{
		name:    "api imports gorm",
		file:    "modules/inventory/api/leak.go",
		pkg:     "api",
		imports: "gorm.io/gorm",
		want:    "ShouldNotDependsOn.External rule contains imported package 'gorm.io/gorm'",
	},
	{
		name:    "api imports platform/database",
		file:    "modules/inventory/api/leak.go",
		pkg:     "api",
		imports: modulePath + "/platform/database",
		want:    "ShouldOnlyDependsOn.Internal rule doesn't contains imported package '" + modulePath + "/platform/database'",
	},
	{
		name:    "platform imports a module",
		file:    "platform/leak/leak.go",
		pkg:     "leak",
		imports: modulePath + "/modules/inventory/api",
		want:    "ShouldNotDependsOn.Internal rule contains imported package '" + modulePath + "/modules/inventory/api'",
	},
	{
		name:    "module internal imports another module's root",
		file:    "modules/orders/internal/leak/leak.go",
		pkg:     "leak",
		imports: modulePath + "/modules/inventory",
		want:    "ShouldOnlyDependsOn.Internal rule doesn't contains imported package '" + modulePath + "/modules/inventory'",
	},
	{
		name:    "domain imports echo",
		file:    "modules/inventory/internal/domain/leak.go",
		pkg:     "domain",
		imports: "github.com/labstack/echo/v4",
		want:    "ShouldNotDependsOn.External rule contains imported package 'github.com/labstack/echo/v4'",
	},
	{
		name:    "service imports gorm",
		file:    "modules/customers/internal/service/leak.go",
		pkg:     "service",
		imports: "gorm.io/gorm",
		want:    "ShouldNotDependsOn.External rule contains imported package 'gorm.io/gorm'",
	},
	{
		name:    "httpapi imports gorm",
		file:    "modules/customers/internal/httpapi/leak.go",
		pkg:     "httpapi",
		imports: "gorm.io/gorm",
		want:    "ShouldNotDependsOn.External rule contains imported package 'gorm.io/gorm'",
	},
	{
		name:    "search imports catalog internals",
		file:    "modules/search/internal/leak/leak.go",
		pkg:     "leak",
		imports: modulePath + "/modules/catalog/internal/store",
		want:    "ShouldNotDependsOn.Internal rule contains imported package '" + modulePath + "/modules/catalog/internal/store'",
	},
}

func TestArchitecture(t *testing.T) {
	if testing.Short() {
		t.Skip("architecture test skipped in -short mode: it builds arch-go and runs it on copies of the tree (make arch checks the tree itself)")
	}
	root := repoRoot(t)
	archGo := buildArchGo(t, root)

	// Two copies, checked side by side: arch-go takes seconds per run.
	t.Run("the tree as it is passes", func(t *testing.T) {
		t.Parallel()
		out, err := run(archGo, copyTree(t, root))
		if err != nil {
			t.Fatalf("arch-go fails on the unchanged tree (%v):\n%s", err, out)
		}
	})
	t.Run("forbidden imports fail", func(t *testing.T) {
		t.Parallel()
		dir := copyTree(t, root)
		for i, l := range leaks {
			// One file per leak, so two leaks can share a package.
			file := strings.TrimSuffix(l.file, ".go") + strconv.Itoa(i) + ".go"
			src := "package " + l.pkg + "\n\nimport _ \"" + l.imports + "\"\n"
			writeFile(t, filepath.Join(dir, filepath.FromSlash(file)), src)
		}
		out, err := run(archGo, dir)
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("arch-go accepted every forbidden import (err %v):\n%s", err, out)
		}
		failed := failures(out)
		for _, l := range leaks {
			t.Run(l.name, func(t *testing.T) {
				pkg := modulePath + "/" + path.Dir(l.file)
				if !slices.Contains(failed[pkg], l.want) {
					t.Errorf("arch-go did not reject %s importing %s; it said about %s: %q\nwhole output:\n%s",
						l.file, l.imports, pkg, failed[pkg], out)
					return
				}
				t.Logf("rejected: package %s: %s", pkg, l.want)
			})
		}
	})
}

// failures reads arch-go's report: for each package that fails a rule, the
// lines that say why.
func failures(out string) map[string][]string {
	failed := map[string][]string{}
	pkg := ""
	for _, line := range strings.Split(out, "\n") {
		l := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(l, "Package '") && strings.HasSuffix(l, "' fails"):
			pkg = strings.TrimSuffix(strings.TrimPrefix(l, "Package '"), "' fails")
		case pkg != "" && strings.HasPrefix(line, "\t\t"):
			failed[pkg] = append(failed[pkg], l)
		default:
			pkg = ""
		}
	}
	return failed
}

// repoRoot is the folder of the main module's go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(b, []byte("module "+modulePath+"\n")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod of %s above the test's folder", modulePath)
		}
		dir = parent
	}
}

// buildArchGo builds the arch-go version pinned in go.mod (a tool
// dependency) once, into the test's temporary folder.
func buildArchGo(t *testing.T, root string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "arch-go")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/arch-go/arch-go")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build arch-go: %v\n%s", err, out)
	}
	return bin
}

// run runs arch-go in dir and returns what it printed.
func run(archGo, dir string) (string, error) {
	cmd := exec.Command(archGo, "--color", "no")
	cmd.Dir = dir
	start := time.Now()
	out, err := cmd.CombinedOutput()
	return string(out) + "(arch-go took " + time.Since(start).Round(time.Millisecond).String() + ")", err
}

// skipDirs are folders that hold no code of the main module.
var skipDirs = map[string]bool{".git": true, "data": true, "bin": true, "testdata": true, "node_modules": true}

// copyTree copies what arch-go reads (non-test Go files, go.mod, go.sum,
// arch-go.yml) into a temporary folder, leaving out nested modules.
func copyTree(t *testing.T, root string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel == "." {
				return nil
			}
			if skipDirs[d.Name()] || strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // another module
			}
			return nil
		}
		name := d.Name()
		keep := rel == "go.mod" || rel == "go.sum" || rel == "arch-go.yml" ||
			(strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go"))
		if !keep || !d.Type().IsRegular() {
			return nil
		}
		return copyFile(path, filepath.Join(dst, rel))
	})
	if err != nil {
		t.Fatalf("copy tree: %v", err)
	}
	return dst
}

func copyFile(from, to string) error {
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
