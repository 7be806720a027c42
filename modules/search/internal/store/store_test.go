package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	catalog "github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/testkit"
)

// open migrates the module's tables into a fresh database.
func open(t *testing.T, db testkit.DB) *database.Handle { return testkit.Migrated(t, db, Migrations) }

// changeIn runs fn and Stamp in one transaction, as the consumer does.
func changeIn(t testing.TB, h *database.Handle, fn func(tx *gorm.DB) error) {
	t.Helper()
	if err := h.Transact(context.Background(), func(tx *gorm.DB) error {
		if err := fn(tx); err != nil {
			return err
		}
		return stampChanges(tx)
	}); err != nil {
		t.Fatal(err)
	}
}

func snap(id string, version int64, title string) catalog.ProductSnapshot {
	return catalog.ProductSnapshot{ProductID: id, Slug: id, Title: title, Status: catalog.StatusPublished, Version: version,
		Variants: []catalog.VariantPayload{{VariantID: "v-" + id, SKU: "SKU-" + id}}, CreatedAt: time.Now().UTC()}
}

// A product is changed again when one of its SKUs runs out or comes back,
// not for every quantity in between; an older change changes nothing.
func TestStockChangesTheDocumentOnlyWhenInStockChanges(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		h := open(t, db)
		g := h.Gorm
		changeIn(t, h, func(tx *gorm.DB) error { return applySnapshots(tx, []catalog.ProductSnapshot{snap("p1", 1, "P1")}) })
		var pos Position
		changed := func() bool {
			docs, err := readChanges(context.Background(), g, pos, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(docs) == 0 {
				return false
			}
			pos = Position{Seq: docs[len(docs)-1].ChangeSeq, ProductID: docs[len(docs)-1].ProductID}
			return true
		}
		if !changed() {
			t.Fatal("a new product is not in the change log")
		}
		for _, c := range []struct {
			available, version int64
			changed            bool
		}{
			{0, 0, false},  // a new SKU without stock: the product was out of stock already
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
			var marked bool
			changeIn(t, h, func(tx *gorm.DB) error {
				var err error
				marked, err = applyStock(tx, []StockChange{{SKU: "SKU-p1", Available: c.available, Version: c.version}})
				return err
			})
			if got := changed(); got != c.changed || marked != c.changed {
				t.Fatalf("available %d (version %d): in the change log %v (said %v), want %v", c.available, c.version, got, marked, c.changed)
			}
		}
	})
}

// A reader that follows the change log from its own position while many
// transactions change documents at once ends with every document as the
// last transaction left it: change numbers follow commit order, so no
// change is skipped, however the transactions interleave. Two readers
// (two replicas' indexes) each see everything.
func TestChangeLogMissesNothingUnderConcurrentWriters(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		h := open(t, db)
		g := h.Gorm
		const writers, rounds, products = 6, 25, 40
		ctx, stop := context.WithCancel(context.Background())
		type seen map[string]string // product → title applied
		follow := func(into seen) func(context.Context) error {
			var pos Position
			return func(ctx context.Context) error {
				for {
					docs, err := readChanges(ctx, g, pos, 7) // small pages: positions inside one change number
					if err != nil {
						return err
					}
					for _, d := range docs {
						into[d.ProductID] = d.Title
						pos = Position{Seq: d.ChangeSeq, ProductID: d.ProductID}
					}
					if len(docs) < 7 {
						return nil
					}
				}
			}
		}
		readers := []seen{{}, {}}
		var rwg sync.WaitGroup
		for _, r := range readers {
			step := follow(r)
			rwg.Add(1)
			go func() {
				defer rwg.Done()
				for ctx.Err() == nil {
					if err := step(ctx); err != nil && ctx.Err() == nil {
						t.Error(err)
						return
					}
				}
				if err := step(context.Background()); err != nil { // the last changes, after the writers stopped
					t.Error(err)
				}
			}()
		}
		var version atomic.Int64
		// Every product exists before the writers start: they pick products
		// at random and need not touch each one.
		if err := h.Transact(context.Background(), func(tx *gorm.DB) error {
			for id := range products {
				if err := applySnapshots(tx, []catalog.ProductSnapshot{snap(fmt.Sprintf("p%02d", id), version.Add(1), "first")}); err != nil {
					return err
				}
			}
			return stampChanges(tx)
		}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := range rounds {
					err := h.Transact(context.Background(), func(tx *gorm.DB) error {
						// Products in order, as writers of one row set do, so
						// writers wait for each other but never deadlock.
						first := rand.IntN(products)
						for id := first; id < min(first+1+rand.IntN(3), products); id++ {
							title := fmt.Sprintf("w%d r%d", w, r)
							if err := applySnapshots(tx, []catalog.ProductSnapshot{snap(fmt.Sprintf("p%02d", id), version.Add(1), title)}); err != nil {
								return err
							}
							time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond) // hold the row a while
						}
						if err := stampChanges(tx); err != nil {
							return err
						}
						time.Sleep(time.Duration(rand.IntN(1000)) * time.Microsecond) // the commit takes its time
						return nil
					})
					if err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		stop()
		rwg.Wait()
		var final []Doc
		if err := g.Raw("SELECT * FROM search_documents").Scan(&final).Error; err != nil {
			t.Fatal(err)
		}
		for i, r := range readers {
			for _, d := range final {
				if r[d.ProductID] != d.Title {
					t.Errorf("reader %d holds %s as %q, the read model as %q", i, d.ProductID, r[d.ProductID], d.Title)
				}
			}
		}
		var unstamped int64
		g.Raw("SELECT COUNT(*) FROM search_documents WHERE change_seq IS NULL").Scan(&unstamped)
		if unstamped != 0 || len(final) != products {
			t.Fatalf("%d documents, %d without a change number", len(final), unstamped)
		}
	})
}

// Many changes in one call end as if applied one by one: the newest
// snapshot of a product wins whatever the order, a SKU's quantity is that
// of its newest version, and a product changes only when a SKU's stock
// ran out or came back over the whole batch.
func TestBatchesApplyAsOneByOne(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		h := open(t, db)
		g := h.Gorm
		two := snap("p2", 1, "Two")
		two.Variants = append(two.Variants, catalog.VariantPayload{VariantID: "v-p2b", SKU: "SKU-p2b"})
		changeIn(t, h, func(tx *gorm.DB) error {
			return applySnapshots(tx, []catalog.ProductSnapshot{snap("p1", 2, "One v2"), two, snap("p1", 3, "One v3"), snap("p1", 1, "One v1")})
		})
		var titles []string
		g.Raw("SELECT title FROM search_documents ORDER BY product_id").Scan(&titles)
		if fmt.Sprint(titles) != "[One v3 Two]" {
			t.Fatalf("titles %v, want the newest snapshot of each product", titles)
		}
		var mapped int64
		g.Raw("SELECT COUNT(*) FROM search_variants WHERE product_id = 'p2'").Scan(&mapped)
		if mapped != 2 {
			t.Fatalf("%d SKUs of p2 mapped, want 2", mapped)
		}
		seqOf := func(id string) (n int64) {
			g.Raw("SELECT change_seq FROM search_documents WHERE product_id = ?", id).Scan(&n)
			return n
		}
		changeIn(t, h, func(tx *gorm.DB) error {
			_, err := applyStock(tx, []StockChange{{"SKU-p1", 5, 1}, {"SKU-p2", 0, 1}, {"SKU-p2b", 3, 1}})
			return err
		})
		p1, p2 := seqOf("p1"), seqOf("p2")
		var marked bool
		changeIn(t, h, func(tx *gorm.DB) error {
			var err error
			marked, err = applyStock(tx, []StockChange{
				{"SKU-p1", 0, 2}, {"SKU-p1", 4, 3}, // out and back: still in stock
				{"SKU-p2", 2, 3}, {"SKU-p2", 9, 2}, // in stock at version 3; version 2 is older
			})
			return err
		})
		if !marked || seqOf("p1") != p1 || seqOf("p2") == p2 {
			t.Fatalf("marked %v; p1 changed %v (want false), p2 changed %v (want true)", marked, seqOf("p1") != p1, seqOf("p2") != p2)
		}
		var avail []int64
		g.Raw("SELECT available FROM search_variants WHERE sku IN ('SKU-p1', 'SKU-p2') ORDER BY sku").Scan(&avail)
		if fmt.Sprint(avail) != "[4 2]" {
			t.Fatalf("quantities %v, want [4 2]", avail)
		}
	})
}
