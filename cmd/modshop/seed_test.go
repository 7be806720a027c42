package main

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/modshop/modshop/platform/app"
	"github.com/modshop/modshop/platform/config"
	"github.com/modshop/modshop/platform/testkit"
)

func TestDemoCatalogIsDeterministicAndRealistic(t *testing.T) {
	t.Parallel()
	leaves := []leaf{}
	for _, r := range demoTree {
		for _, m := range r.children {
			for _, l := range m.leaves {
				l.id, l.root = "id-"+l.slug, r
				leaves = append(leaves, l)
			}
		}
	}
	cats := len(demoTree)
	for _, r := range demoTree {
		cats += len(r.children)
		for _, m := range r.children {
			cats += len(m.leaves)
		}
	}
	if cats != 40 {
		t.Errorf("%d categories, want 40", cats)
	}
	slugs, skus := map[string]bool{}, map[string]bool{}
	lowest, highest := int64(1<<62), int64(0)
	for i := 0; i < 3000; i++ {
		p := demoProduct(i, leaves)
		if !reflect.DeepEqual(p, demoProduct(i, leaves)) {
			t.Fatalf("product %d differs between runs", i)
		}
		if slugs[p.Slug] {
			t.Fatalf("slug %s repeats", p.Slug)
		}
		slugs[p.Slug] = true
		if n := len(strings.Fields(p.Description)); n < 20 || n > 60 {
			t.Errorf("product %d: description of %d words", i, n)
		}
		if n := len(p.Variants); n < 1 || n > 4 {
			t.Errorf("product %d: %d variants", i, n)
		}
		for _, v := range p.Variants {
			if skus[v.SKU] {
				t.Fatalf("SKU %s repeats", v.SKU)
			}
			skus[v.SKU] = true
			lowest, highest = min(lowest, v.Price), max(highest, v.Price)
			if len(v.Attributes) == 0 {
				t.Errorf("variant %s has no attributes", v.SKU)
			}
		}
	}
	if lowest < 199 || highest > 199_999 || lowest > 1_000 || highest < 100_000 {
		t.Errorf("prices spread %d..%d, want across 199..199999", lowest, highest)
	}
}

// TestSeed runs the command twice on a fresh database: the second run finds
// everything in place and creates nothing.
func TestSeed(t *testing.T) {
	t.Parallel()
	n := 1200
	if s := os.Getenv("MODSHOP_TEST_SEED_PRODUCTS"); s != "" { // for profiling: go test -run TestSeed -cpuprofile
		n, _ = strconv.Atoi(s)
	}
	db := testkit.SQLite(t)
	dir := t.TempDir()
	env := map[string]string{"MODSHOP_DATABASE_URL": db.URL, "MODSHOP_DATA_DIR": dir, "MODSHOP_LOG_LEVEL": "warn"}
	cfg, err := config.Load(func(k string) string { return env[k] }, nil, app.Names(modules))
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := seed(cfg, n, true, &out, &errOut); code != 0 {
		t.Fatalf("seed: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), fmt.Sprintf("seeded %d of %d products", n, n)) || !strings.Contains(out.String(), "40 new categories") ||
		strings.Contains(out.String(), "stock for 0 SKUs") {
		t.Fatalf("first run (products, categories and stock): %s", out.String())
	}
	if !strings.Contains(errOut.String(), "(50%)") && n >= 2000 {
		t.Errorf("no progress line: %s", errOut.String())
	}
	out.Reset()
	if code := seed(cfg, n, true, &out, &errOut); code != 0 {
		t.Fatalf("second seed: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), fmt.Sprintf("seeded 0 of %d products (%d were there already), stock for 0 SKUs and 0 new categories", n, n)) {
		t.Fatalf("second run: %s", out.String())
	}
}
