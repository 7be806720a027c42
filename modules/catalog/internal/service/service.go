// Package service is the catalog's service: one method per use case, each write
// in one store transaction with the events it publishes. The HTTP handlers,
// the seed command and other modules (through api.Catalog and api.Admin) all
// go through it, so they share one set of rules.
package service

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/modules/catalog/internal/domain"
	"github.com/modshop/modshop/modules/catalog/internal/store"
	inventory "github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/platform/config"
)

// Availability is what the catalog asks of inventory: the stock of many SKUs
// in one call (inventory/api.Inventory has it).
type Availability interface {
	Availability(ctx context.Context, skus []string) (map[string]inventory.Level, error)
}

// Service implements api.Catalog and api.Admin, and the HTTP use cases.
type Service struct {
	store    *store.Store
	stock    Availability
	currency string
	log      *slog.Logger
	now      func() time.Time
	newID    domain.IDs

	// gen grows after every write that may change what shoppers read, this
	// process's at once, other processes' when the watcher sees them (see
	// Generation).
	gen atomic.Uint64
	// changes is what the watcher knows of the catalog's change count.
	changes changeLog
}

var (
	_ api.Catalog = (*Service)(nil)
	_ api.Admin   = (*Service)(nil)
)

// New makes the service.
func New(st *store.Store, stock Availability, cfg config.Config, log *slog.Logger) *Service {
	return &Service{
		store: st, stock: stock, currency: cfg.Currency, log: log,
		// Stored times have microsecond precision; truncating here makes what
		// a write returns equal to what a later read returns.
		now:     func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		newID:   newID,
		changes: changeLog{seen: -1, own: map[int64]bool{}},
	}
}

// newID is a UUIDv7: unique without coordination, and roughly in creation
// order, which keeps the primary key index append-mostly.
func newID() string { return uuid.Must(uuid.NewV7()).String() }

// Currency is the store currency prices are in.
func (s *Service) Currency() string { return s.currency }

// Stock is the available quantity of each SKU; a SKU inventory does not
// know has none.
type Stock map[string]int64

// StockOf asks inventory for the availability of every variant of the
// products in ONE call, however many products there are: a page of 100
// products costs one in-process call, or one HTTP request when inventory
// runs elsewhere. When inventory cannot answer, the catalog still answers
// (shoppers can browse) and shows no stock; the failure is logged.
func (s *Service) StockOf(ctx context.Context, products ...api.Product) Stock {
	var skus []string
	for _, p := range products {
		for _, v := range p.Variants {
			skus = append(skus, v.SKU)
		}
	}
	return s.StockOfSKUs(ctx, skus...)
}

// StockOfSKUs is StockOf for SKUs.
func (s *Service) StockOfSKUs(ctx context.Context, skus ...string) Stock {
	out, _ := s.Stock(ctx, skus)
	return out
}

// Stock is StockOfSKUs that also says whether inventory answered: when it
// did not, the stock is empty (and the failure logged), and a cache must not
// keep it as if it were the truth.
func (s *Service) Stock(ctx context.Context, skus []string) (Stock, error) {
	out := make(Stock, len(skus))
	if len(skus) == 0 {
		return out, nil
	}
	levels, err := s.stock.Availability(ctx, skus)
	if err != nil {
		s.log.WarnContext(ctx, "inventory availability failed; showing variants without stock", "err", err, "skus", len(skus))
		return out, err
	}
	for sku, l := range levels {
		out[sku] = max(l.Available, 0)
	}
	return out, nil
}

// Generation is a counter that grows after every write that may change a
// public read (products, variants, prices, categories): a write of this
// process once its transaction has ended, a write of another process (a
// replica, the seed command) once the watcher has seen the catalog's change
// count move (Follow, run by the Watcher). Either way it moves after the write is visible, so
// rows read after the generation was seen to be g reflect every write that
// made it g: an answer whose rows were read at an older generation than the
// current one may be stale.
func (s *Service) Generation() uint64 { return s.gen.Load() }
