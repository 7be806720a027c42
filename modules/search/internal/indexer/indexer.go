// Package indexer keeps one replica's full-text index in step with the read
// model that every replica shares. It is the only writer of the index: it
// reads the documents changed after the position its index has applied
// (store.Changes, in change order), writes them, and stores the new position
// inside the index in the same atomic write. The position is this index's
// own, so any number of replicas, each with an index of its own, follow the
// one read model without marking anything in it; and an index that was
// lost, deleted or copied from elsewhere simply starts over from its own
// position (none, or one of another read model) until it has caught up.
package indexer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	catalog "github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/modules/search/internal/engine"
	"github.com/modshop/modshop/modules/search/internal/store"
	"github.com/modshop/modshop/platform/modkit"
)

const (
	// batchSize is how many changed documents one index write takes.
	batchSize = 1000
	// tick is how often the indexer looks for changes it was not woken for:
	// those that another replica's consumer wrote into the read model. With
	// the event's way there, it keeps a change well inside the 2 seconds in
	// which the contract promises it shows in search.
	tick = 250 * time.Millisecond
	// compactAfter is the size of a sync (a rebuild, a bulk load) after
	// which the index's segments are merged, so queries stay fast.
	compactAfter = 5000
	quiet        = 5 * time.Second
)

// checkpoint is what the index remembers of the read model: which one it
// was built from, and the last change it applied.
type checkpoint struct {
	Model string `json:"model"`
	store.Position
}

// Indexer moves changed documents into one replica's engine.
type Indexer struct {
	store  *store.Store
	engine engine.Engine
	log    *slog.Logger
	worker *modkit.Periodic // Sync every tick, and when woken
	mu     sync.Mutex       // one Sync at a time
	gen    atomic.Uint64    // see Generation

	// synced is the read model's change number up to which this index has
	// applied everything; Sync skips reading changes while the head is
	// there. Guarded by mu.
	synced int64
	// unmerged counts the documents written since the last compaction,
	// the last at wrote. Guarded by mu.
	unmerged int
	wrote    time.Time
	// state is what Ready reports.
	state atomic.Pointer[progress]
}

// progress is how far the index is, for readiness and metrics.
type progress struct {
	applied, head int64
	caughtUp      bool // a sync reached the head since the process started
	err           error
}

// New makes an indexer; reg (may be nil) gets its metrics.
func New(st *store.Store, e engine.Engine, reg prometheus.Registerer, log *slog.Logger) *Indexer {
	ix := &Indexer{store: st, engine: e, log: log}
	pass := func(ctx context.Context) error { _, err := ix.Sync(ctx); return err }
	ix.worker = modkit.NewPeriodic("search.indexer", tick, pass, modkit.WithLogger(log))
	ix.state.Store(&progress{})
	if reg != nil {
		reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "modshop_search_index_changes_behind",
				Help: "Changes of the search read model that this replica's index has not applied yet (at its last look)."},
				func() float64 { p := ix.state.Load(); return float64(max(p.head-p.applied, 0)) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "modshop_search_index_documents",
				Help: "Documents in this replica's search index."},
				func() float64 { n, _ := e.Count(); return float64(n) }),
		)
	}
	return ix
}

// Generation grows every time the indexer has written to the index, after
// the write is visible to searches. A search that read generation g before
// it ran, and finds it still g, saw every write that ended before it began:
// results cached at an older generation are stale.
func (ix *Indexer) Generation() uint64 { return ix.gen.Load() }

// Wake asks for a sync soon.
func (ix *Indexer) Wake() { ix.worker.Wake() }

// Ready is nil once the index has caught up with the read model since the
// process started; until then it says how far it is. A replica that starts
// with an empty or old index is not ready to answer searches until then.
func (ix *Indexer) Ready(context.Context) error {
	p := ix.state.Load()
	switch {
	case p.caughtUp:
		return nil
	case p.err != nil:
		return errors.New("catching up: the read model cannot be read") // the cause, which may name the database, is logged
	case p.head == 0:
		return errors.New("catching up: reading the read model")
	default:
		return fmt.Errorf("catching up: the index has applied change %d of %d", p.applied, p.head)
	}
}

// Worker is the indexer's background worker: a Sync at once (which
// catches up; Start does not wait for it), then one every tick and
// whenever a consumer's commit wakes it.
func (ix *Indexer) Worker() modkit.Worker { return ix.worker.Worker() }

// Sync applies every change the index has not applied and returns how many
// documents it wrote. Once the index has taken compactAfter documents or
// more and then nothing for five seconds (a bulk load, a rebuild, a replica
// catching up is over), it merges the index's segments, so queries stay
// fast; merging after every large sync of a bulk load merged the whole
// growing index again and again (14 of a 100,000-product load's seconds).
func (ix *Indexer) Sync(ctx context.Context) (int, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	total, err := ix.sync(ctx)
	if err != nil {
		p := *ix.state.Load()
		p.err = err
		ix.state.Store(&p)
	}
	if total > 0 {
		ix.unmerged += total
		ix.wrote = time.Now()
	}
	if err == nil && ix.unmerged >= compactAfter && time.Since(ix.wrote) >= quiet {
		if c, ok := ix.engine.(interface{ Compact(context.Context) error }); ok {
			start := time.Now()
			if cerr := c.Compact(ctx); cerr != nil {
				ix.log.Warn("search index compaction failed", "err", cerr)
			} else {
				ix.log.Info("search index compacted", "documents", ix.unmerged, "took", time.Since(start).String())
				ix.unmerged = 0
			}
		}
	}
	return total, err
}

func (ix *Indexer) sync(ctx context.Context) (int, error) {
	model, head, err := ix.store.Head(ctx)
	if err != nil {
		return 0, err
	}
	if head == ix.synced && ix.state.Load().caughtUp {
		return 0, nil
	}
	cp, err := ix.position(model, head)
	if err != nil {
		return 0, err
	}
	start, total := time.Now(), 0
	for {
		ix.state.Store(&progress{applied: cp.Seq, head: max(head, cp.Seq), caughtUp: ix.state.Load().caughtUp})
		docs, err := ix.store.Changes(ctx, cp.Position, batchSize)
		if err != nil {
			return total, fmt.Errorf("read changes after %d: %w", cp.Seq, err)
		}
		if len(docs) > 0 {
			last := docs[len(docs)-1]
			cp.Position = store.Position{Seq: last.ChangeSeq, ProductID: last.ProductID}
			if err := ix.apply(ctx, docs, cp); err != nil {
				return total, err
			}
			total += len(docs)
		}
		if len(docs) < batchSize {
			break
		}
	}
	// Every change up to the head read above had committed before the
	// changes were read (change numbers follow commit order), so all of
	// them are in.
	ix.synced = head
	if !ix.state.Load().caughtUp && total > 0 {
		ix.log.Info("search index caught up", "documents", total, "took", time.Since(start).Round(time.Millisecond).String())
	}
	ix.state.Store(&progress{applied: max(head, cp.Seq), head: max(head, cp.Seq), caughtUp: true})
	return total, nil
}

// position is where the index stands in the read model named model, whose
// latest change is head. An index without a checkpoint starts at the
// beginning; one built from another read model, or from this one at a
// change it has not reached (a database restored from a backup), is emptied
// first.
func (ix *Indexer) position(model string, head int64) (checkpoint, error) {
	raw, err := ix.engine.Checkpoint()
	if err != nil {
		return checkpoint{}, err
	}
	fresh := checkpoint{Model: model}
	if raw == nil {
		return fresh, nil
	}
	var cp checkpoint
	if err := json.Unmarshal(raw, &cp); err == nil && cp.Model == model && cp.Seq <= head {
		return cp, nil
	}
	ix.log.Warn("search index was built from another read model; starting over",
		"index_model", cp.Model, "index_change", cp.Seq, "read_model", model, "read_model_change", head)
	if err := ix.engine.Reset(); err != nil {
		return checkpoint{}, err
	}
	ix.gen.Add(1)
	return fresh, nil
}

func (ix *Indexer) apply(ctx context.Context, docs []store.Doc, cp checkpoint) error {
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.ProductID
	}
	inStock, err := ix.store.InStock(ctx, ids)
	if err != nil {
		return err
	}
	var c engine.Changes
	for _, d := range docs {
		if d.Status != string(catalog.StatusPublished) {
			c.Delete = append(c.Delete, d.ProductID)
			continue
		}
		c.Upsert = append(c.Upsert, engine.Document{
			ProductID: d.ProductID, Slug: d.Slug, Title: d.Title, Description: d.Description,
			CategoryID: d.CategoryID, CategoryPath: d.Path(), PriceFrom: d.PriceFrom,
			InStock: inStock[d.ProductID], CreatedAt: d.CreatedAt,
		})
	}
	if c.Checkpoint, err = json.Marshal(cp); err != nil {
		return err
	}
	err = ix.engine.Apply(ctx, c)
	ix.gen.Add(1) // even after an error: a failed write may have been partly visible
	return err
}
