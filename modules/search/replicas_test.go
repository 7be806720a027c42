package search_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	catalog "github.com/modshop/modshop/modules/catalog/api"
	inventory "github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/testkit"
)

// Replicas of search share the read model in the database; each keeps an
// index of its own in its own data folder. Whichever replica's consumer
// writes a change into the read model, every replica's index follows it.
func TestEveryReplicaKeepsAWholeIndex(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		a, ua, _ := startSearch(t, db, t.TempDir())
		b, ub, _ := startSearch(t, db, t.TempDir())
		replicas := map[string]*testkit.Shop{"a": a, "b": b}
		everywhere := func(query string, check func(result) bool, what string) {
			t.Helper()
			for name, shop := range replicas {
				within(t, shop, query, check, what+" on replica "+name)
			}
		}

		ua.publish(t, catalog.ProductPublished{ProductSnapshot: snapshot("p1", "Running Shoes", "Light.", "c-shoes", 8999, 1, catalog.StatusPublished)})
		ub.publish(t, catalog.ProductPublished{ProductSnapshot: snapshot("p2", "Trail Jacket", "Warm.", "c-apparel", 12999, 1, catalog.StatusPublished)})
		everywhere("", func(r result) bool { return r.Total == 2 }, "products published through either replica show")

		ub.publish(t, catalog.ProductUpdated{ProductSnapshot: snapshot("p1", "Racing Flats", "Light.", "c-shoes", 8999, 2, catalog.StatusPublished)})
		everywhere("q=racing", func(r result) bool { return r.Total == 1 && r.Items[0].ProductID == "p1" }, "a rename shows")
		everywhere("q=running", func(r result) bool { return r.Total == 0 }, "the old name is gone")

		ua.publish(t, inventory.StockChanged{SKU: "SKU-p2", OnHand: 3, Available: 3, Version: 1})
		everywhere("in_stock=true", func(r result) bool { return r.Total == 1 && r.Items[0].ProductID == "p2" }, "stock shows")

		ua.publish(t, catalog.ProductArchived{ProductSnapshot: snapshot("p2", "Trail Jacket", "Warm.", "c-apparel", 12999, 2, catalog.StatusArchived)})
		everywhere("", func(r result) bool { return r.Total == 1 && r.Items[0].ProductID == "p1" }, "an archived product is gone")
	})
}

// A replica that starts with an empty data folder answers /readyz 503,
// naming its index, until its index holds the whole read model; from its
// first 200 on, its searches find everything.
func TestNewReplicaIsReadyOnlyOnceItCaughtUp(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		a, ua, _ := startSearch(t, db, t.TempDir())
		const n = 1000
		for start := 0; start < n; start += 250 {
			var evts []events.Event
			for i := start; i < start+250; i++ {
				id := fmt.Sprintf("p%04d", i)
				evts = append(evts, catalog.ProductPublished{ProductSnapshot: snapshot(id, "Product "+id, "A thing.", "c-home", 1000+int64(i), 1, catalog.StatusPublished)})
			}
			ua.publish(t, evts...)
		}
		testkit.Eventually(t, 60*time.Second, func() bool { return find(t, a, "").Total == n }, "replica a indexes %d products", n)

		// On PostgreSQL the read model can be held still, so the new
		// replica is caught in the middle of catching up for sure.
		release := func() {}
		if db.Name == "postgres" {
			release = holdReadModel(t, db)
		}
		b, _, _ := startSearch(t, db, t.TempDir())
		if db.Name == "postgres" {
			status, body := readyz(t, b)
			if status != http.StatusServiceUnavailable || !strings.Contains(body, "search_index") || !strings.Contains(body, "catching up") {
				t.Fatalf("a replica whose index is empty answers /readyz %d %s", status, body)
			}
		}
		release()
		deadline := time.Now().Add(60 * time.Second)
		for {
			status, body := readyz(t, b)
			if status == http.StatusOK {
				break
			}
			if status != http.StatusServiceUnavailable || !strings.Contains(body, "search_index") {
				t.Fatalf("/readyz while catching up: %d %s", status, body)
			}
			if time.Now().After(deadline) {
				t.Fatalf("not ready within 60s: %s", body)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if total := find(t, b, "").Total; total != n {
			t.Fatalf("ready with %d of %d products in its index", total, n)
		}
	})
}

// An index built from another read model (a data folder moved to another
// database, or the database recreated) is not trusted: the replica starts
// it over, and never shows the other database's products.
func TestIndexFromAnotherDatabaseStartsOver(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first, u, _ := startSearch(t, testkit.SQLite(t), dir)
	u.publish(t, catalog.ProductPublished{ProductSnapshot: snapshot("old", "Garden Hose", "Green.", "c-home", 999, 1, catalog.StatusPublished)})
	within(t, first, "q=hose", func(r result) bool { return r.Total == 1 }, "indexed")
	first.Stop()

	second, u, _ := startSearch(t, testkit.SQLite(t), dir)
	u.publish(t, catalog.ProductPublished{ProductSnapshot: snapshot("new", "Watering Can", "Zinc.", "c-home", 1999, 1, catalog.StatusPublished)})
	within(t, second, "", func(r result) bool { return r.Total == 1 && r.Items[0].ProductID == "new" },
		"only the new database's product")
}

func readyz(t *testing.T, shop *testkit.Shop) (int, string) {
	t.Helper()
	resp, err := http.Get(shop.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// holdReadModel locks the read model's documents on PostgreSQL until the
// returned function is called: reads of search_documents wait.
func holdReadModel(t *testing.T, db testkit.DB) (release func()) {
	t.Helper()
	g, err := gorm.Open(postgres.Open(db.URL), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	tx := g.Begin()
	if err := tx.Exec("LOCK TABLE search_documents IN ACCESS EXCLUSIVE MODE").Error; err != nil {
		t.Fatal(err)
	}
	done := false
	release = func() {
		if !done {
			done = true
			tx.Rollback()
			if s, err := g.DB(); err == nil {
				s.Close()
			}
		}
	}
	t.Cleanup(release)
	return release
}
