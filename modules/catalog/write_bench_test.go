package catalog_test

import (
	"context"
	"log/slog"
	"net/http"
	"testing"

	"github.com/modshop/modshop/modules/catalog/internal/store"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/testkit"
)

// BenchmarkAdminWrite is one catalog write over real HTTP, one after the
// other: a variant's price changed (a locked read of the product, two
// updates, an event, and the count of the change that tells the other
// processes' caches). It reports the catalog's statements with a round
// trip of their own per write.
//
//	go test -run '^$' -bench AdminWrite -benchtime 2000x ./modules/catalog/
func BenchmarkAdminWrite(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			db := testkit.SQLite(b)
			if name == "postgres" {
				db = testkit.Postgres(b)
			}
			e := startWith(b, db, fakeModule(&fakeInventory{}), nil)
			p := e.createProduct(newProduct("bench", "published", 1000))
			path := "/v1/admin/variants/" + p.Variants[0].ID
			statements := func() float64 { return metric(b, e.Shop, `modshop_db_statements_total{module="catalog"}`) }
			before := statements()
			b.ResetTimer()
			for i := range b.N {
				testkit.Expect(b, e.patch(path, map[string]any{"price": 1001 + i%2}), http.StatusOK)
			}
			b.StopTimer()
			// The watcher's reads (4 a second) are counted too.
			b.ReportMetric((statements()-before)/float64(b.N), "statements/op")
		})
	}
}

// BenchmarkChangeCountRead is what each catalog process's watcher does
// every service.WatchEvery: one primary-key read of the change count.
//
//	go test -run '^$' -bench ChangeCountRead ./modules/catalog/
func BenchmarkChangeCountRead(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			db := testkit.SQLite(b)
			if name == "postgres" {
				db = testkit.Postgres(b)
			}
			h := testkit.Migrated(b, db, store.Migrations())
			log := slog.New(slog.DiscardHandler)
			st := store.New(events.NewBus(events.NewGoChannel(log), nil, log).Outbox(h))
			ctx := context.Background()
			b.ResetTimer()
			for range b.N {
				if _, err := st.Changes(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
