package database_test

import (
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"gorm.io/gorm"

	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/testkit"
)

// Two modules on one database are counted apart: statements run through
// Conn and inside transactions, and transactions by how they ended.
func TestMetricsCountStatementsAndTransactionsPerModule(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		m, hs := metered(t, db.URL, "alpha", "beta")
		a, b := hs[0], hs[1]
		ctx := t.Context()
		if err := a.Conn(ctx).Exec("CREATE TABLE alpha_things (id INTEGER PRIMARY KEY, name TEXT)").Error; err != nil {
			t.Fatal(err)
		}
		if err := a.Transact(ctx, func(tx *gorm.DB) error {
			if err := tx.Exec("INSERT INTO alpha_things (id, name) VALUES (1, 'one')").Error; err != nil {
				return err
			}
			return tx.Table("alpha_things").Create(map[string]any{"id": 2, "name": "two"}).Error
		}); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		if err := b.Transact(ctx, func(tx *gorm.DB) error {
			var n int64
			if err := tx.Raw("SELECT COUNT(*) FROM alpha_things").Scan(&n).Error; err != nil {
				return err
			}
			return boom
		}); !errors.Is(err, boom) {
			t.Fatalf("transaction: %v", err)
		}
		var names []string
		if err := b.Conn(ctx).Table("alpha_things").Order("id").Pluck("name", &names).Error; err != nil || len(names) != 2 {
			t.Fatalf("read: %v %v", names, err)
		}

		for _, c := range []struct {
			what string
			got  float64
			want float64
		}{
			{"alpha statements", value(m.Statements("alpha")), 3},
			{"beta statements", value(m.Statements("beta")), 2},
			{"alpha commits", value(m.Transactions("alpha", "commit")), 1},
			{"alpha rollbacks", value(m.Transactions("alpha", "rollback")), 0},
			{"beta commits", value(m.Transactions("beta", "commit")), 0},
			{"beta rollbacks", value(m.Transactions("beta", "rollback")), 1},
		} {
			if c.got != c.want {
				t.Errorf("%s: %v, want %v", c.what, c.got, c.want)
			}
		}
	})
}

func value(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

// metered opens handles of modules on url through a registry that counts
// their statements and transactions in m.
func metered(t *testing.T, url string, modules ...string) (m *database.Metrics, hs []*database.Handle) {
	t.Helper()
	m = database.NewMetrics(prometheus.NewRegistry())
	r := database.NewRegistry(func(string) string { return url }, discard, m)
	t.Cleanup(func() { r.Close() })
	for _, module := range modules {
		h, err := r.For(module)
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
	}
	return m, hs
}
