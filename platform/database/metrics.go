package database

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"
)

// Metrics count what each module asks of its database: statements (each a
// round trip) and transactions (two more: BEGIN and COMMIT or ROLLBACK). On
// a small machine round trips are what a request costs, so these are the
// numbers to watch when a change makes a path cheaper or dearer.
type Metrics struct {
	statements   *prometheus.CounterVec
	transactions *prometheus.CounterVec
}

// NewMetrics registers the database metrics.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		statements: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "modshop_db_statements_total",
			Help: "SQL statements a module ran (BEGIN and COMMIT not included)."}, []string{"module"}),
		transactions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "modshop_db_transactions_total",
			Help: "Transactions a module ran, by outcome (commit or rollback)."}, []string{"module", "outcome"}),
	}
	reg.MustRegister(m.statements, m.transactions)
	return m
}

// counters are one module's; a handle puts them in the context of every
// statement it runs, where the gorm callback finds them.
type counters struct {
	statements prometheus.Counter
	commits    prometheus.Counter
	rollbacks  prometheus.Counter
}

type countersKey struct{}

func (m *Metrics) counters(module string) *counters {
	return &counters{
		statements: m.statements.WithLabelValues(module),
		commits:    m.transactions.WithLabelValues(module, "commit"),
		rollbacks:  m.transactions.WithLabelValues(module, "rollback"),
	}
}

// countStatements makes a gorm instance count every statement it runs
// against the counters in the statement's context.
func countStatements(g *gorm.DB) error {
	count := func(db *gorm.DB) {
		if c, ok := db.Statement.Context.Value(countersKey{}).(*counters); ok {
			c.statements.Inc()
		}
	}
	cb := g.Callback()
	for _, err := range []error{
		cb.Create().After("gorm:create").Register("modshop:count", count),
		cb.Query().After("gorm:query").Register("modshop:count", count),
		cb.Update().After("gorm:update").Register("modshop:count", count),
		cb.Delete().After("gorm:delete").Register("modshop:count", count),
		cb.Row().After("gorm:row").Register("modshop:count", count),
		cb.Raw().After("gorm:raw").Register("modshop:count", count),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// withCounters is ctx carrying the handle's counters, when it has any.
func (h *Handle) withCounters(ctx context.Context) context.Context {
	if h.counters == nil {
		return ctx
	}
	return context.WithValue(ctx, countersKey{}, h.counters)
}

// countTransaction records how a transaction ended.
func (h *Handle) countTransaction(err error) {
	switch {
	case h.counters == nil:
	case err == nil:
		h.counters.commits.Inc()
	default:
		h.counters.rollbacks.Inc()
	}
}

// Statements is a module's statement counter.
func (m *Metrics) Statements(module string) prometheus.Counter {
	return m.statements.WithLabelValues(module)
}

// Transactions is a module's counter of transactions that ended so
// (outcome "commit" or "rollback").
func (m *Metrics) Transactions(module, outcome string) prometheus.Counter {
	return m.transactions.WithLabelValues(module, outcome)
}
