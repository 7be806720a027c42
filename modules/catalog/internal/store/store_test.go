package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/modules/catalog/internal/domain"
	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/testkit"
)

// queryCounter is a gorm logger that counts the statements it sees.
type queryCounter struct {
	logger.Interface
	n atomic.Int64
}

func (c *queryCounter) Trace(context.Context, time.Time, func() (string, int64), error) { c.n.Add(1) }
func (c *queryCounter) LogMode(logger.LogLevel) logger.Interface                        { return c }

type testDB struct {
	*Store
	h       *database.Handle
	queries *queryCounter
}

// openStore opens a fresh database of the kind, with the catalog's tables.
func openStore(t testing.TB, db testkit.DB) testDB {
	t.Helper()
	d, err := database.Open(db.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	qc := &queryCounter{Interface: logger.Discard}
	d.Gorm = d.Gorm.Session(&gorm.Session{Logger: qc})
	h := &database.Handle{Module: "catalog", DB: d}
	if _, err := database.Migrate(context.Background(), h, Migrations()); err != nil {
		t.Fatal(err)
	}
	return testDB{Store: New(outboxOf(h)), h: h, queries: qc}
}

// outboxOf is an outbox on h, on an in-process bus that is never started:
// the store's transactions run through it, and these tests publish nothing.
func outboxOf(h *database.Handle) *events.Outbox {
	log := slog.New(slog.DiscardHandler)
	return events.NewBus(events.NewGoChannel(log), nil, log).Outbox(h)
}

// tree is a small category tree: clothing > shirts > {oxford, flannel};
// home (a root with no children).
type tree struct{ clothing, shirts, oxford, flannel, home domain.Category }

func makeTree(t testing.TB, db testDB) tree {
	t.Helper()
	mk := func(id string, parent *domain.Category) domain.Category {
		c, err := domain.NewCategory(id, api.NewCategory{Slug: id, Name: strings.ToUpper(id)}, parent)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.InTx(context.Background(), func(tx *Tx) error { return tx.InsertCategory(c, time.Now()) }); err != nil {
			t.Fatal(err)
		}
		return c
	}
	var tr tree
	tr.clothing = mk("clothing", nil)
	tr.shirts = mk("shirts", &tr.clothing)
	tr.oxford = mk("oxford", &tr.shirts)
	tr.flannel = mk("flannel", &tr.shirts)
	tr.home = mk("home", nil)
	return tr
}

var idSeq atomic.Int64

// testID is a unique id in creation order, like the service's UUIDv7s.
func testID() string { return fmt.Sprintf("%016d", idSeq.Add(1)) }

// makeProducts inserts n products with a fixed seed: several share a title,
// a price or a creation time, so ties must be broken by id; some are drafts
// or archived; some have no category.
func makeProducts(t testing.TB, db testDB, tr tree, n int, seed uint64) []domain.Product {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	cats := []*domain.Category{&tr.oxford, &tr.flannel, &tr.shirts, &tr.home, nil}
	titles := []string{"apple", "Apple", "banana", "Cherry", "cherry", "Äpfel", "zebra"}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var batch []NewProduct
	var out []domain.Product
	for i := 0; i < n; i++ {
		c := cats[r.IntN(len(cats))]
		status := api.StatusPublished
		switch r.IntN(8) {
		case 0:
			status = api.StatusDraft
		case 1:
			status = api.StatusArchived
		}
		created := base.Add(time.Duration(r.IntN(n/3+1)) * time.Second) // ties on purpose
		p := domain.Product{
			ID: testID(), Slug: fmt.Sprintf("p-%d-%d", seed, i), Title: titles[r.IntN(len(titles))] + fmt.Sprint(r.IntN(3)),
			Status: status, Version: 1, CreatedAt: created, UpdatedAt: created,
		}
		for v := 0; v < 1+r.IntN(3); v++ {
			p.Variants = append(p.Variants, domain.Variant{ID: testID(), SKU: fmt.Sprintf("S-%d-%d-%d", seed, i, v), Title: "v",
				Price: int64(100 * (1 + r.IntN(20))), Attributes: map[string]string{"n": fmt.Sprint(v)}})
		}
		np := NewProduct{Product: p}
		if c != nil {
			id := c.ID
			np.Product.CategoryID = &id
			np.CategoryPath = c.Path
		}
		batch = append(batch, np)
		out = append(out, np.Product)
	}
	err := db.InTx(context.Background(), func(tx *Tx) error { return tx.InsertProducts(batch) })
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// inCategory reports whether p is in category c or below it.
func inCategory(p domain.Product, c domain.Category, tr tree) bool {
	if p.CategoryID == nil {
		return false
	}
	for _, x := range []domain.Category{tr.clothing, tr.shirts, tr.oxford, tr.flannel, tr.home} {
		if x.ID == *p.CategoryID {
			return slices.Contains(x.Path, c.ID)
		}
	}
	return false
}

// less is the list order of each sort, written independently of the SQL.
func less(s Sort) func(a, b domain.Product) int {
	cmpID := func(a, b domain.Product) int { return strings.Compare(a.ID, b.ID) }
	return func(a, b domain.Product) int {
		var c int
		switch s {
		case SortNewest:
			c = -a.CreatedAt.Compare(b.CreatedAt)
			if c == 0 {
				c = -cmpID(a, b)
			}
			return c
		case SortPriceAsc:
			c = int(a.PriceFrom() - b.PriceFrom())
		case SortPriceDesc:
			c = int(b.PriceFrom() - a.PriceFrom())
			if c == 0 {
				return -cmpID(a, b)
			}
			return c
		case SortTitle:
			c = strings.Compare(strings.ToLower(a.Title), strings.ToLower(b.Title))
		}
		if c == 0 {
			c = cmpID(a, b)
		}
		return c
	}
}

// walk reads every page of q and returns the ids in the order served.
func walk(t *testing.T, db testDB, q ListQuery) []string {
	t.Helper()
	var ids []string
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("pagination does not end")
		}
		page, err := db.List(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Products) > q.Limit {
			t.Fatalf("page of %d, limit %d", len(page.Products), q.Limit)
		}
		for _, p := range page.Products {
			ids = append(ids, p.ID)
		}
		if page.Next == nil {
			return ids
		}
		// The cursor goes through its text form, as a client would send it.
		k, err := DecodeCursor(page.Next.Encode(), q.Sort)
		if err != nil {
			t.Fatal(err)
		}
		q.After = &k
	}
}

func TestListWalksEveryOrder(t *testing.T) {
	// Price ranges are read both ways: from the price index when few
	// products fall in them (the fixture's are "few" under the default
	// probe), from the sort's index when many do (probe 1).
	for _, probe := range []int{sparseProbe, 1} {
		t.Run(fmt.Sprintf("probe=%d", probe), func(t *testing.T) { listWalksEveryOrder(t, probe) })
	}
}

func listWalksEveryOrder(t *testing.T, probe int) {
	old := sparseProbe
	sparseProbe = probe
	t.Cleanup(func() { sparseProbe = old })
	testkit.ForEachDB(t, func(t *testing.T, kind testkit.DB) {
		db := openStore(t, kind)
		tr := makeTree(t, db)
		all := makeProducts(t, db, tr, 230, 7)
		minP, maxP := int64(500), int64(1500)
		type filter struct {
			name     string
			category *domain.Category
			min, max *int64
		}
		filters := []filter{
			{name: "all"},
			{name: "category root", category: &tr.clothing},
			{name: "category leaf", category: &tr.oxford},
			{name: "prices", min: &minP, max: &maxP},
			{name: "category and prices", category: &tr.shirts, min: &minP, max: &maxP},
		}
		for _, s := range Sorts {
			for _, f := range filters {
				t.Run(string(s)+"/"+f.name, func(t *testing.T) {
					var want []domain.Product
					for _, p := range all {
						if p.Status != api.StatusPublished ||
							(f.category != nil && !inCategory(p, *f.category, tr)) ||
							(f.min != nil && p.PriceFrom() < *f.min) || (f.max != nil && p.PriceFrom() > *f.max) {
							continue
						}
						want = append(want, p)
					}
					slices.SortFunc(want, less(s))
					q := ListQuery{Status: api.StatusPublished, Sort: s, Limit: 7, MinPrice: f.min, MaxPrice: f.max}
					if f.category != nil {
						q.CategoryID = f.category.ID
					}
					got := walk(t, db, q)
					if len(want) == 0 {
						t.Fatal("the fixture has no product for this filter")
					}
					if len(got) != len(want) {
						t.Fatalf("got %d products, want %d", len(got), len(want))
					}
					for i := range want {
						if got[i] != want[i].ID {
							t.Fatalf("position %d: got %s, want %s", i, got[i], want[i].ID)
						}
					}
				})
			}
		}
		t.Run("every status by id", func(t *testing.T) {
			got := walk(t, db, ListQuery{Sort: SortID, Limit: 50})
			if len(got) != len(all) || !slices.IsSorted(got) {
				t.Fatalf("got %d ids (sorted %v), want %d in order", len(got), slices.IsSorted(got), len(all))
			}
		})
	})
}

func TestListIsStableUnderInserts(t *testing.T) {
	t.Parallel()
	db := openStore(t, testkit.SQLite(t))
	tr := makeTree(t, db)
	before := makeProducts(t, db, tr, 60, 11)
	for _, s := range Sorts {
		t.Run(string(s), func(t *testing.T) {
			q := ListQuery{Status: api.StatusPublished, Sort: s, Limit: 5}
			seen := map[string]int{}
			for i := 0; ; i++ {
				page, err := db.List(context.Background(), q)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range page.Products {
					seen[p.ID]++
				}
				if page.Next == nil {
					break
				}
				q.After = page.Next
				// Products arrive between page requests, with keys before,
				// after and equal to the cursor's.
				makeProducts(t, db, tr, 3, uint64(1000+i)+uint64(len(s))*100)
			}
			for _, p := range before {
				if p.Status == api.StatusPublished && seen[p.ID] != 1 {
					t.Errorf("product %s seen %d times, want once", p.ID, seen[p.ID])
				}
			}
			for id, n := range seen {
				if n != 1 {
					t.Errorf("product %s seen %d times", id, n)
				}
			}
		})
	}
}

func TestListCostsTwoQueriesPerPage(t *testing.T) {
	t.Parallel()
	db := openStore(t, testkit.SQLite(t))
	tr := makeTree(t, db)
	makeProducts(t, db, tr, 400, 3)
	for _, q := range []ListQuery{
		{Status: api.StatusPublished, Sort: SortPriceAsc, Limit: 100},
		{Status: api.StatusPublished, Sort: SortTitle, Limit: 100, CategoryID: tr.clothing.ID},
		{Sort: SortNewest, Limit: 100},
		{Sort: SortID, Limit: 100},
	} {
		before := db.queries.n.Load()
		page, err := db.List(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		n := db.queries.n.Load() - before
		if len(page.Products) < 50 {
			t.Fatalf("fixture too small: page of %d", len(page.Products))
		}
		if n != 2 {
			t.Errorf("%+v: a page of %d products cost %d queries, want 2 (products, then their variants)", q, len(page.Products), n)
		}
		for _, p := range page.Products {
			if len(p.Variants) == 0 {
				t.Fatalf("product %s came without its variants", p.ID)
			}
		}
	}
}

func TestCursor(t *testing.T) {
	t.Parallel()
	k := Key{Sort: SortTitle, S: "wool / ünïcode \"quoted\"", ID: "0190-abc"}
	enc := k.Encode()
	if strings.ContainsAny(enc, "+/=") {
		t.Errorf("cursor %q is not base64url without padding", enc)
	}
	got, err := DecodeCursor(enc, SortTitle)
	if err != nil || got != k {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	for _, bad := range []string{"x", "%%%", enc + "!", Key{Sort: SortTitle}.Encode()} {
		if _, err := DecodeCursor(bad, SortTitle); !errors.Is(err, ErrBadCursor) {
			t.Errorf("cursor %q: %v, want ErrBadCursor", bad, err)
		}
	}
	if _, err := DecodeCursor(enc, SortPriceAsc); !errors.Is(err, ErrBadCursor) {
		t.Errorf("a title cursor was accepted for price_asc")
	}
}

func TestUniqueConstraints(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, kind testkit.DB) {
		db := openStore(t, kind)
		tr := makeTree(t, db)
		ps := makeProducts(t, db, tr, 2, 5)
		insert := func(p domain.Product) error {
			return db.InTx(context.Background(), func(tx *Tx) error {
				return tx.InsertProducts([]NewProduct{{Product: p}})
			})
		}
		dupSlug := ps[0]
		dupSlug.ID, dupSlug.Variants = testID(), []domain.Variant{{ID: testID(), SKU: "FRESH-1", Price: 1}}
		if err := insert(dupSlug); !errors.Is(err, api.ErrSlugTaken) {
			t.Errorf("taken slug: %v, want slug_taken", err)
		}
		dupSKU := ps[0]
		dupSKU.ID, dupSKU.Slug = testID(), "fresh-slug"
		dupSKU.Variants = []domain.Variant{{ID: testID(), SKU: ps[1].Variants[0].SKU, Price: 1}}
		if err := insert(dupSKU); !errors.Is(err, api.ErrSKUTaken) {
			t.Errorf("taken SKU: %v, want sku_taken", err)
		}
		if _, err := db.Product(context.Background(), dupSKU.ID); !errors.Is(err, api.ErrProductNotFound) {
			t.Errorf("the refused product was stored: %v", err)
		}
		err := db.InTx(context.Background(), func(tx *Tx) error {
			return tx.InsertCategory(domain.Category{ID: testID(), Slug: tr.home.Slug, Name: "x", Path: []string{"x"}}, time.Now())
		})
		if !errors.Is(err, api.ErrSlugTaken) {
			t.Errorf("taken category slug: %v, want slug_taken", err)
		}
	})
}

func TestSaveProductRelists(t *testing.T) {
	t.Parallel()
	db := openStore(t, testkit.SQLite(t))
	tr := makeTree(t, db)
	p := makeProducts(t, db, tr, 1, 99)[0]
	ctx := context.Background()
	save := func(p domain.Product, path []string) {
		t.Helper()
		if err := db.InTx(ctx, func(tx *Tx) error { return tx.SaveProduct(p, path) }); err != nil {
			t.Fatal(err)
		}
	}
	listed := func(c domain.Category) bool {
		page, err := db.List(ctx, ListQuery{Status: api.StatusPublished, CategoryID: c.ID, Sort: SortNewest, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(page.Products, func(x domain.Product) bool { return x.ID == p.ID })
	}
	p.Status = api.StatusPublished
	id := tr.flannel.ID
	p.CategoryID = &id
	save(p, tr.flannel.Path)
	if !listed(tr.clothing) || !listed(tr.flannel) || listed(tr.oxford) || listed(tr.home) {
		t.Fatal("a published product in flannel is listed under clothing, shirts and flannel only")
	}
	p.Status = api.StatusDraft
	save(p, tr.flannel.Path)
	if listed(tr.clothing) || listed(tr.flannel) {
		t.Fatal("a draft is still listed")
	}
}

func TestCategoriesInTreeOrder(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, kind testkit.DB) {
		db := openStore(t, kind)
		tr := makeTree(t, db)
		cs, err := db.Categories(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range cs {
			got = append(got, c.Slug)
		}
		// A category comes right before its subtree; siblings in id order
		// (here the ids are the slugs; the service's ids are time-ordered).
		want := []string{tr.clothing.Slug, tr.shirts.Slug, tr.flannel.Slug, tr.oxford.Slug, tr.home.Slug}
		if !slices.Equal(got, want) {
			t.Fatalf("categories %v, want %v", got, want)
		}
		if strings.Join(cs[3].Path, "/") != strings.Join(tr.oxford.Path, "/") || *cs[3].ParentID != tr.shirts.ID {
			t.Errorf("oxford read back as %+v", cs[3])
		}
		for _, ref := range []string{tr.shirts.ID, tr.shirts.Slug} {
			if c, err := db.Category(context.Background(), ref); err != nil || c.ID != tr.shirts.ID {
				t.Errorf("Category(%q) = %+v, %v", ref, c, err)
			}
		}
		if _, err := db.Category(context.Background(), "nope"); !errors.Is(err, api.ErrCategoryNotFound) {
			t.Errorf("unknown category: %v", err)
		}
	})
}
