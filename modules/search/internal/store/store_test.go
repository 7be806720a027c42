package store

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"

	catalog "github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/platform/testkit"
)

// open migrates the module's tables into a fresh database.
func open(t *testing.T, db testkit.DB) *gorm.DB { return testkit.Migrated(t, db, Migrations).Gorm }

// A product is indexed again when one of its SKUs runs out or comes back,
// not for every quantity in between; an older change changes nothing.
func TestStockMarksForIndexingOnlyWhenInStockChanges(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		g := open(t, db)
		snap := catalog.ProductSnapshot{ProductID: "p1", Slug: "p1", Title: "P1", Status: catalog.StatusPublished, Version: 1,
			Variants: []catalog.VariantPayload{{VariantID: "v1", SKU: "SKU-1"}}, CreatedAt: time.Now().UTC()}
		if _, err := ApplySnapshot(g, snap); err != nil {
			t.Fatal(err)
		}
		indexed := func() int64 {
			docs, err := Dirty(context.Background(), g, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(docs) == 0 {
				return -1
			}
			if err := MarkIndexed(g, docs); err != nil {
				t.Fatal(err)
			}
			return docs[0].DirtyGen
		}
		if indexed() < 0 {
			t.Fatal("a new product is not marked for indexing")
		}
		for _, c := range []struct {
			available, version int64
			dirty              bool
		}{
			{5, 1, true},   // comes in stock
			{4, 2, false},  // a unit sold: still in stock
			{9, 3, false},  // restocked
			{0, 5, true},   // runs out
			{7, 4, false},  // older than what is stored
			{0, 6, false},  // still out
			{1, 7, true},   // back
			{-2, 8, true},  // oversold (a negative quantity is out of stock)
			{-1, 9, false}, // still out
		} {
			marked, err := ApplyStock(g, "SKU-1", c.available, c.version)
			if err != nil {
				t.Fatal(err)
			}
			if dirty := indexed() >= 0; dirty != c.dirty || marked != c.dirty {
				t.Fatalf("available %d (version %d): marked for indexing %v (said %v), want %v", c.available, c.version, dirty, marked, c.dirty)
			}
		}
	})
}
