package store

import (
	"context"
	"strconv"
	"testing"

	"github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/platform/testkit"
)

// BenchmarkListProducts reads product pages from a SQLite catalog of 10,000
// products (about 14,000 listing rows): the first page and a page deep in
// the list, for every sort, with and without a category filter. Each page
// is two queries (products, then their variants) whatever its size; the
// queries/op metric shows it.
//
//	go test -run '^$' -bench BenchmarkListProducts ./modules/catalog/internal/store/
func BenchmarkListProducts(b *testing.B) {
	db := openStore(b, testkit.SQLite(b))
	tr := makeTree(b, db)
	makeProducts(b, db, tr, 10_000, 42)
	ctx := context.Background()
	for _, s := range Sorts {
		for _, cat := range []struct {
			name string
			id   string
		}{{"all", ""}, {"category", tr.clothing.ID}} {
			for _, limit := range []int{20, 100} {
				q := ListQuery{Status: api.StatusPublished, CategoryID: cat.id, Sort: s, Limit: limit}
				// A cursor about half way down the list.
				deep := q
				deep.Limit = 100
				for i := 0; i < 20; i++ {
					page, err := db.List(ctx, deep)
					if err != nil {
						b.Fatal(err)
					}
					deep.After = page.Next
				}
				deep.Limit = limit
				for _, pos := range []struct {
					name string
					q    ListQuery
				}{{"first", q}, {"deep", deep}} {
					b.Run(string(s)+"/"+cat.name+"/"+pos.name+"/limit="+strconv.Itoa(limit), func(b *testing.B) {
						before := db.queries.n.Load()
						b.ReportAllocs()
						for b.Loop() {
							page, err := db.List(ctx, pos.q)
							if err != nil || len(page.Products) != limit {
								b.Fatalf("page of %d: %v", len(page.Products), err)
							}
						}
						b.ReportMetric(float64(db.queries.n.Load()-before)/float64(b.N), "queries/op")
					})
				}
			}
		}
	}
}
