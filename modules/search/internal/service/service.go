// Package service is the search module's use cases: keep the read model from
// events, answer queries, rebuild from the catalog.
package service

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	catalog "github.com/modshop/modshop/modules/catalog/api"
	inventory "github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/modules/search/internal/engine"
	"github.com/modshop/modshop/modules/search/internal/indexer"
	"github.com/modshop/modshop/modules/search/internal/store"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/events"
)

// Service is the search module.
type Service struct {
	store     *store.Store
	engine    engine.Engine
	indexer   *indexer.Indexer
	catalog   catalog.Catalog
	inventory inventory.Inventory

	catMu      sync.Mutex
	cats       map[string]catalog.Category // by id and by slug
	catsLoaded time.Time
}

// New makes the service.
func New(st *store.Store, e engine.Engine, ix *indexer.Indexer, c catalog.Catalog, inv inventory.Inventory) *Service {
	return &Service{store: st, engine: e, indexer: ix, catalog: c, inventory: inv}
}

// Consumer is the search module's event consumer: it reads catalog and
// inventory events into the read model.
func (s *Service) Consumer(ob *events.Outbox) events.Consumer {
	changed := func(tx *store.Tx) {
		tx.StampBeforeCommit()
		tx.AfterCommit(s.indexer.Wake)
	}
	snapshots := func(etx *events.Tx, snaps []catalog.ProductSnapshot) error {
		tx := s.store.Join(etx)
		if err := tx.ApplySnapshots(snaps); err != nil {
			return err
		}
		changed(tx)
		return nil
	}
	// The catalog's snapshots carry every variant's SKU, so search needs no
	// catalog.variant_created.v1.
	return ob.Consumer("read_model",
		events.OnBatch(func(ctx context.Context, tx *events.Tx, es []catalog.ProductPublished) error {
			return snapshots(tx, snapshotsOf(es, func(e catalog.ProductPublished) catalog.ProductSnapshot { return e.ProductSnapshot }))
		}),
		events.OnBatch(func(ctx context.Context, tx *events.Tx, es []catalog.ProductUpdated) error {
			return snapshots(tx, snapshotsOf(es, func(e catalog.ProductUpdated) catalog.ProductSnapshot { return e.ProductSnapshot }))
		}),
		events.OnBatch(func(ctx context.Context, tx *events.Tx, es []catalog.ProductArchived) error {
			return snapshots(tx, snapshotsOf(es, func(e catalog.ProductArchived) catalog.ProductSnapshot { return e.ProductSnapshot }))
		}),
		events.OnBatch(func(ctx context.Context, tx *events.Tx, es []inventory.StockChanged) error {
			changes := make([]store.StockChange, len(es))
			for i, e := range es {
				changes[i] = store.StockChange{SKU: e.SKU, Available: e.Available, Version: e.Version}
			}
			stx := s.store.Join(tx)
			marked, err := stx.ApplyStock(changes)
			if marked {
				changed(stx)
			}
			return err
		}),
	)
}

func snapshotsOf[E any](es []E, snap func(E) catalog.ProductSnapshot) []catalog.ProductSnapshot {
	out := make([]catalog.ProductSnapshot, len(es))
	for i, e := range es {
		out[i] = snap(e)
	}
	return out
}

// Query is a shopper's search.
type Query struct {
	engine.Query
	Category string // slug or id
}

// IndexGeneration grows whenever the index changes (indexer.Generation).
func (s *Service) IndexGeneration() uint64 { return s.indexer.Generation() }

// ErrUnknownCategory is a category filter naming no category.
var ErrUnknownCategory = errors.New("unknown category")

// Search answers a query.
func (s *Service) Search(ctx context.Context, q Query) (engine.Result, error) {
	if q.Category != "" {
		c, err := s.Category(ctx, q.Category)
		if err != nil {
			return engine.Result{}, err
		}
		q.CategoryIDs = []string{c.ID}
	}
	res, err := s.engine.Search(ctx, q.Query)
	switch {
	case errors.Is(err, engine.ErrBadCursor):
		return res, errs.Invalid(errs.FieldError{Field: "cursor", Message: "is not a cursor of this search"})
	case errors.Is(err, engine.ErrBadQuery):
		return res, errs.Invalid(errs.FieldError{Field: "sort", Message: "is not a known sort order"})
	case err != nil:
		return res, fmt.Errorf("search: %w", err)
	}
	return res, nil
}

// Category finds a category by id or slug, from a cache of the catalog's
// tree that is refreshed at most every few seconds.
func (s *Service) Category(ctx context.Context, idOrSlug string) (catalog.Category, error) {
	s.catMu.Lock()
	defer s.catMu.Unlock()
	c, ok := s.cats[idOrSlug]
	if ok && time.Since(s.catsLoaded) < time.Minute {
		return c, nil
	}
	if !ok && time.Since(s.catsLoaded) < 2*time.Second {
		return catalog.Category{}, errs.Invalid(errs.FieldError{Field: "category", Message: "no such category"})
	}
	cats, err := s.catalog.Categories(ctx)
	if err != nil {
		if ok {
			return c, nil // a stale answer beats none
		}
		return catalog.Category{}, fmt.Errorf("load categories: %w", err)
	}
	s.cats = make(map[string]catalog.Category, 2*len(cats))
	for _, c := range cats {
		s.cats[c.ID], s.cats[c.Slug] = c, c
	}
	s.catsLoaded = time.Now()
	if c, ok = s.cats[idOrSlug]; !ok {
		return catalog.Category{}, errs.Invalid(errs.FieldError{Field: "category", Message: "no such category"})
	}
	return c, nil
}

// CategoryLabel is a category's slug and name for facets ("" if unknown).
func (s *Service) CategoryLabel(ctx context.Context, id string) (slug, name string) {
	c, err := s.Category(ctx, id)
	if err != nil {
		return "", ""
	}
	return c.Slug, c.Name
}

// Reindex rebuilds the read model from the catalog (every product, every
// status) and the current stock, then the whole index, and returns how many
// products it read. A failed rebuild returns 0 with its error, whatever it
// read before failing, as it does over HTTP (where an error has no count).
func (s *Service) Reindex(ctx context.Context) (int, error) {
	n, err := s.reindex(ctx)
	if err != nil {
		return 0, err
	}
	return n, nil
}

func (s *Service) reindex(ctx context.Context) (int, error) {
	cats, err := s.catalog.Categories(ctx)
	if err != nil {
		return 0, fmt.Errorf("reindex: categories: %w", err)
	}
	parent := map[string]*string{}
	for _, c := range cats {
		parent[c.ID] = c.ParentID
	}
	n, cursor := 0, ""
	for {
		page, next, err := s.catalog.Products(ctx, cursor, 500)
		if err != nil {
			return n, fmt.Errorf("reindex: products: %w", err)
		}
		var skus []string
		for _, p := range page {
			for _, v := range p.Variants {
				skus = append(skus, v.SKU)
			}
		}
		levels, err := s.inventory.Availability(ctx, skus)
		if err != nil {
			return n, fmt.Errorf("reindex: availability: %w", err)
		}
		err = s.store.InTx(ctx, func(tx *store.Tx) error {
			snaps := make([]catalog.ProductSnapshot, len(page))
			for i, p := range page {
				snaps[i] = snapshotOf(p, parent)
			}
			if err := tx.ApplySnapshots(snaps); err != nil {
				return err
			}
			for _, p := range page {
				for _, v := range p.Variants {
					if err := tx.SetStock(v.SKU, p.ID, levels[v.SKU].Available); err != nil {
						return err
					}
				}
			}
			return tx.Stamp()
		})
		if err != nil {
			return n, fmt.Errorf("reindex: store: %w", err)
		}
		n += len(page)
		if next == "" {
			break
		}
		cursor = next
	}
	// Every document again, stock included: SetStock changed no document.
	if err := s.store.InTx(ctx, func(tx *store.Tx) error { return tx.ChangeAll() }); err != nil {
		return n, fmt.Errorf("reindex: %w", err)
	}
	_, err = s.indexer.Sync(ctx)
	return n, err
}

func snapshotOf(p catalog.Product, parent map[string]*string) catalog.ProductSnapshot {
	var path []string
	if p.CategoryID != nil {
		seen := map[string]bool{}
		for id := p.CategoryID; id != nil && !seen[*id]; id = parent[*id] {
			seen[*id] = true
			path = append([]string{*id}, path...)
		}
	}
	vs := make([]catalog.VariantPayload, len(p.Variants))
	for i, v := range p.Variants {
		vs[i] = catalog.VariantPayload{VariantID: v.ID, SKU: v.SKU, Title: v.Title, Price: v.Price}
	}
	return catalog.ProductSnapshot{ProductID: p.ID, Slug: p.Slug, Title: p.Title, Description: p.Description,
		CategoryID: p.CategoryID, CategoryPath: path, Status: p.Status, Variants: vs,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, Version: p.Version}
}
