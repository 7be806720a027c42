// Package indexer keeps the full-text index in step with the read model. It
// is the only writer of the index: event handlers change rows and wake it; it
// takes the rows the index has not caught up with, (re)indexes or removes
// them, and records the generation it indexed. A crash between the two leaves
// rows dirty, so they are indexed again on the next run.
package indexer

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	catalog "github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/modules/search/internal/engine"
	"github.com/modshop/modshop/modules/search/internal/store"
	"github.com/modshop/modshop/platform/database"
)

const (
	batchSize = 500
	tick      = 500 * time.Millisecond // catches changes made by other processes
	// compactAfter is the size of a sync (a rebuild, a bulk load) after
	// which the index's segments are merged, so queries stay fast.
	compactAfter = 5000
)

// Indexer moves dirty rows into the engine.
type Indexer struct {
	db     *database.Handle
	engine engine.Engine
	log    *slog.Logger
	wake   chan struct{}
	mu     sync.Mutex // one Sync at a time
	cancel context.CancelFunc
	done   chan struct{}
	gen    atomic.Uint64 // see Generation
}

// New makes an indexer.
func New(db *database.Handle, e engine.Engine, log *slog.Logger) *Indexer {
	return &Indexer{db: db, engine: e, log: log, wake: make(chan struct{}, 1)}
}

// Generation grows every time the indexer has written to the index, after
// the write is visible to searches. A search that read generation g before
// it ran, and finds it still g, saw every write that ended before it began:
// results cached at an older generation are stale.
func (ix *Indexer) Generation() uint64 { return ix.gen.Load() }

// Wake asks for a sync soon.
func (ix *Indexer) Wake() {
	select {
	case ix.wake <- struct{}{}:
	default:
	}
}

// Start checks the index against the read model (rebuilding it when they
// disagree, e.g. after the index folder was lost) and starts the loop.
func (ix *Indexer) Start(context.Context) error {
	ctx, cancel := context.WithCancel(context.Background())
	ix.cancel, ix.done = cancel, make(chan struct{})
	if err := ix.reconcile(ctx); err != nil {
		ix.log.Warn("search index check failed; rebuilding", "err", err)
	}
	go ix.loop(ctx)
	return nil
}

// Stop ends the loop after the sync in progress.
func (ix *Indexer) Stop(context.Context) error {
	if ix.cancel != nil {
		ix.cancel()
		<-ix.done
	}
	return nil
}

func (ix *Indexer) loop(ctx context.Context) {
	defer close(ix.done)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		if _, err := ix.Sync(ctx); err != nil && ctx.Err() == nil {
			ix.log.Warn("search indexing failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-ix.wake:
		case <-t.C:
		}
	}
}

func (ix *Indexer) reconcile(ctx context.Context) error {
	want, err := store.CountIndexable(ctx, ix.db.Gorm)
	if err != nil {
		return err
	}
	have, err := ix.engine.Count()
	if err != nil || int64(have) != want {
		ix.log.Info("search index differs from the read model; rebuilding", "indexed", have, "products", want)
		return store.MarkAllDirty(ctx, ix.db.Gorm)
	}
	return nil
}

// Sync indexes every dirty row and returns how many it handled.
func (ix *Indexer) Sync(ctx context.Context) (int, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	total, err := ix.syncAll(ctx)
	if total >= compactAfter {
		if c, ok := ix.engine.(interface{ Compact(context.Context) error }); ok {
			start := time.Now()
			if cerr := c.Compact(ctx); cerr != nil {
				ix.log.Warn("search index compaction failed", "err", cerr)
			} else {
				ix.log.Info("search index compacted", "documents", total, "took", time.Since(start).String())
			}
		}
	}
	return total, err
}

func (ix *Indexer) syncAll(ctx context.Context) (int, error) {
	total := 0
	for {
		docs, err := store.Dirty(ctx, ix.db.Gorm, batchSize)
		if err != nil || len(docs) == 0 {
			return total, err
		}
		if err := ix.apply(ctx, docs); err != nil {
			return total, err
		}
		total += len(docs)
		if len(docs) < batchSize {
			return total, nil
		}
	}
}

func (ix *Indexer) apply(ctx context.Context, docs []store.Doc) error {
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.ProductID
	}
	inStock, err := store.InStock(ctx, ix.db.Gorm, ids)
	if err != nil {
		return err
	}
	var upsert []engine.Document
	var remove []string
	for _, d := range docs {
		if d.Status != string(catalog.StatusPublished) {
			remove = append(remove, d.ProductID)
			continue
		}
		upsert = append(upsert, engine.Document{
			ProductID: d.ProductID, Slug: d.Slug, Title: d.Title, Description: d.Description,
			CategoryID: d.CategoryID, CategoryPath: d.Path(), PriceFrom: d.PriceFrom,
			InStock: inStock[d.ProductID], CreatedAt: d.CreatedAt,
		})
	}
	err = errors.Join(ix.engine.Upsert(ctx, upsert...), ix.engine.Delete(ctx, remove...))
	ix.gen.Add(1) // even after an error: part of the batch may be written
	if err != nil {
		return err
	}
	return ix.db.Transact(ctx, func(tx *gorm.DB) error { return store.MarkIndexed(tx, docs) })
}
