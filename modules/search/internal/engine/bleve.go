package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/modshop/modshop/platform/fsmode"
)

// defaultBatchSize is the number of documents per bleve batch in Upsert
// and Delete.
const defaultBatchSize = 2000

// Bleve is the Engine implemented with a bleve scorch index.
//
// It is safe for concurrent use. Each search runs on one consistent snapshot
// of the index and never waits for writers. Writes are applied in batches of
// defaultBatchSize documents; an Upsert or Delete of more documents is not
// atomic as a whole.
//
// On disk (OpenBleve with a path), each batch is persisted (fsync) before
// Upsert and Delete return, and a background merger keeps the number of
// segments bounded; Compact merges them after a bulk load. In memory (path
// ""), nothing is persisted and scorch runs no merger: every write call adds
// a segment and search cost grows with the number of write calls, so use the
// in-memory index for tests and short-lived indexes only.
//
// Performance notes. Search cost is roughly proportional to the number of
// matching documents, since Total and the facets cover all of them: about
// 0.3–1 µs per match on one core, plus a fixed ~0.5 ms (query setup, stored
// fields and snippets of the page) and ~0.2–1 ms per typo-matched word (its
// Levenshtein automaton). What keeps it there:
//   - bleve's query-string parser and its FuzzyQuery/PrefixQuery are not
//     used: typo and prefix matches are resolved once per word against one
//     dictionary (expand.go);
//   - the AND over words runs on one combined stemmed field, and title
//     matches are optional scoring clauses evaluated on matches only
//     (buildQuery);
//   - a lean collector replaces bleve's TopN collector and facet builders,
//     reading a single uncompressed doc-value field per match (collect.go,
//     schema.go);
//   - snippets are computed from the stored text of the page's hits, without
//     term vectors (snippet.go).
//
// Cursors are positions in the sort order, so pages stay consistent while
// documents are added or removed, with one caveat: relevance scores depend on
// index-wide statistics (TF-IDF), so writes between two page requests can
// move documents across the cursor position of a relevance-sorted query with
// text, giving a rare duplicate or miss. The other sort orders, and relevance
// without text, are exact.
type Bleve struct {
	mu     sync.RWMutex // read-held by every operation, write-held by Close
	closed bool

	idx     bleve.Index
	path    string            // "" in memory
	stem    analysis.Analyzer // English: stemmed fields
	raw     analysis.Analyzer // lower case only: *_raw fields
	keyword analysis.Analyzer // whole value as one term

	typos     typoCache
	batchSize int
}

var _ Engine = (*Bleve)(nil)

// OpenBleve opens the on-disk scorch index at path, creating it if it does not
// exist. With path "" the index lives in memory only. It returns
// ErrSchemaMismatch for an index written by an incompatible version of this
// package.
func OpenBleve(path string) (*Bleve, error) {
	m, err := newIndexMapping()
	if err != nil {
		return nil, fmt.Errorf("engine: mapping: %w", err)
	}

	var idx bleve.Index
	switch {
	case path == "":
		idx, err = bleve.NewUsing("", m, scorch.Name, scorch.Name, nil)
		if err != nil {
			return nil, fmt.Errorf("engine: create in-memory index: %w", err)
		}
		if err := idx.SetInternal([]byte(schemaVersionKey), []byte(schemaVersion)); err != nil {
			_ = idx.Close()
			return nil, fmt.Errorf("engine: write schema version: %w", err)
		}
	default:
		idx, err = bleve.OpenUsing(path, openConfig())
		if errors.Is(err, bleve.ErrorIndexPathDoesNotExist) {
			idx, err = createOnDisk(path, m)
		}
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("%w (is another modshop running with this data folder?)", ErrIndexInUse)
		}
		if err != nil {
			return nil, fmt.Errorf("engine: open index %q: %w", path, err)
		}
		v, err := idx.GetInternal([]byte(schemaVersionKey))
		if err != nil {
			_ = idx.Close()
			return nil, fmt.Errorf("engine: read schema version: %w", err)
		}
		if string(v) != schemaVersion {
			_ = idx.Close()
			return nil, fmt.Errorf("%w: index %q has %q, want %q", ErrSchemaMismatch, path, v, schemaVersion)
		}
		// bleve writes index_meta.json 0644: the index holds the shop's
		// data, private to its user like the database (platform/fsmode).
		if err := fsmode.Tree(path); err != nil {
			_ = idx.Close()
			return nil, fmt.Errorf("engine: %w", err)
		}
	}

	// Index- and query-time analysis use the analyzers of our own mapping;
	// the schema version guarantees the index was built with the same ones.
	b := &Bleve{
		idx:       idx,
		path:      path,
		stem:      m.AnalyzerNamed(analyzerStem),
		raw:       m.AnalyzerNamed(analyzerRaw),
		keyword:   m.AnalyzerNamed(keyword.Name),
		batchSize: defaultBatchSize,
	}
	if b.stem == nil || b.raw == nil || b.keyword == nil {
		_ = idx.Close()
		return nil, errors.New("engine: analyzers not registered")
	}
	return b, nil
}

// ErrIndexInUse is an on-disk index another process holds open: bolt locks
// the index's root file, and a second process would otherwise wait for it
// forever.
var ErrIndexInUse = errors.New("the search index is in use by another process")

// lockWait is how long opening an index waits for another process's lock.
const lockWait = time.Second

func openConfig() map[string]any {
	return map[string]any{"bolt_timeout": lockWait.String()}
}

func createOnDisk(path string, m mapping.IndexMapping) (bleve.Index, error) {
	idx, err := bleve.NewUsing(path, m, scorch.Name, scorch.Name, openConfig())
	if err != nil {
		return nil, err
	}
	if err := idx.SetInternal([]byte(schemaVersionKey), []byte(schemaVersion)); err != nil {
		_ = idx.Close()
		_ = os.RemoveAll(path) //nolint:gosec // G703: path is the configured index folder this call just created
		return nil, err
	}
	return idx, nil
}

func validDoc(d Document) error {
	if d.ProductID == "" || len(d.ProductID) > MaxProductIDBytes || !utf8.ValidString(d.ProductID) {
		return fmt.Errorf("%w: ProductID %.40q must be 1..%d bytes of valid UTF-8",
			ErrBadDocument, d.ProductID, MaxProductIDBytes)
	}
	return nil
}

func (b *Bleve) begin() error {
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return ErrClosed
	}
	return nil
}

func (b *Bleve) end() { b.mu.RUnlock() }

// Upsert implements Engine. Documents are written in batches; a later
// document in docs wins over an earlier one with the same ProductID.
func (b *Bleve) Upsert(ctx context.Context, docs ...Document) error {
	for _, d := range docs {
		if err := validDoc(d); err != nil {
			return err
		}
	}
	if err := b.begin(); err != nil {
		return err
	}
	defer b.end()

	for start := 0; start < len(docs); start += b.batchSize {
		if err := ctx.Err(); err != nil {
			return err
		}
		chunk := docs[start:min(start+b.batchSize, len(docs))]
		batch := b.idx.NewBatch()
		for _, d := range chunk {
			if err := batch.IndexAdvanced(b.buildDoc(d)); err != nil {
				return fmt.Errorf("engine: index %q: %w", d.ProductID, err)
			}
		}
		if err := b.idx.Batch(batch); err != nil {
			return fmt.Errorf("engine: write batch: %w", err)
		}
		b.typos.written() // new words must become reachable through misspellings
	}
	return nil
}

// checkpointKey is where Apply keeps its checkpoint among the index's
// internal values.
const checkpointKey = "engine.checkpoint"

// Apply implements Engine: one bleve batch holds the documents and the
// checkpoint, and scorch persists a batch as one snapshot.
func (b *Bleve) Apply(ctx context.Context, c Changes) error {
	for _, d := range c.Upsert {
		if err := validDoc(d); err != nil {
			return err
		}
	}
	if err := b.begin(); err != nil {
		return err
	}
	defer b.end()
	if err := ctx.Err(); err != nil {
		return err
	}
	batch := b.idx.NewBatch()
	for _, d := range c.Upsert {
		if err := batch.IndexAdvanced(b.buildDoc(d)); err != nil {
			return fmt.Errorf("engine: index %q: %w", d.ProductID, err)
		}
	}
	for _, id := range c.Delete {
		if id != "" {
			batch.Delete(id)
		}
	}
	if c.Checkpoint != nil {
		batch.SetInternal([]byte(checkpointKey), c.Checkpoint)
	}
	if err := b.idx.Batch(batch); err != nil {
		return fmt.Errorf("engine: write batch: %w", err)
	}
	if len(c.Upsert) > 0 {
		b.typos.written()
	}
	return nil
}

// Checkpoint implements Engine.
func (b *Bleve) Checkpoint() ([]byte, error) {
	if err := b.begin(); err != nil {
		return nil, err
	}
	defer b.end()
	v, err := b.idx.GetInternal([]byte(checkpointKey))
	if err != nil {
		return nil, fmt.Errorf("engine: read checkpoint: %w", err)
	}
	return v, nil
}

// Reset implements Engine: it waits for running operations, then replaces
// the index with an empty one (on disk: deletes the folder and creates it
// again).
func (b *Bleve) Reset() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	m, err := newIndexMapping()
	if err != nil {
		return fmt.Errorf("engine: mapping: %w", err)
	}
	if err := b.idx.Close(); err != nil {
		return fmt.Errorf("engine: reset: close: %w", err)
	}
	var idx bleve.Index
	if b.path == "" {
		idx, err = bleve.NewUsing("", m, scorch.Name, scorch.Name, nil)
		if err == nil {
			err = idx.SetInternal([]byte(schemaVersionKey), []byte(schemaVersion))
		}
	} else {
		if err = os.RemoveAll(b.path); err == nil {
			idx, err = createOnDisk(b.path, m)
		}
	}
	if err != nil {
		b.closed = true // the old index is closed and there is no new one
		return fmt.Errorf("engine: reset: %w", err)
	}
	b.idx = idx
	b.typos = typoCache{}
	return nil
}

// Delete implements Engine.
func (b *Bleve) Delete(ctx context.Context, productIDs ...string) error {
	if err := b.begin(); err != nil {
		return err
	}
	defer b.end()

	for start := 0; start < len(productIDs); start += b.batchSize {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch := b.idx.NewBatch()
		for _, id := range productIDs[start:min(start+b.batchSize, len(productIDs))] {
			if id != "" {
				batch.Delete(id)
			}
		}
		if batch.Size() == 0 {
			continue
		}
		if err := b.idx.Batch(batch); err != nil {
			return fmt.Errorf("engine: write batch: %w", err)
		}
	}
	return nil
}

// Count implements Engine.
func (b *Bleve) Count() (uint64, error) {
	if err := b.begin(); err != nil {
		return 0, err
	}
	defer b.end()
	return b.idx.DocCount()
}

// Close implements Engine. It waits for running operations to finish.
func (b *Bleve) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	b.closed = true
	return b.idx.Close()
}

// Compact merges the index into as few segments as possible and waits for
// it. Searches get faster with fewer segments (every term lookup visits each
// segment); the background merger only keeps their number bounded. Call it
// after a bulk load. It is a no-op for an in-memory index.
func (b *Bleve) Compact(ctx context.Context) error {
	if err := b.begin(); err != nil {
		return err
	}
	defer b.end()
	adv, err := b.idx.Advanced()
	if err != nil {
		return fmt.Errorf("engine: compact: %w", err)
	}
	s, ok := adv.(*scorch.Scorch)
	if !ok || b.path == "" {
		return nil
	}
	if err := s.ForceMerge(ctx, nil); err != nil {
		return fmt.Errorf("engine: compact: %w", err)
	}
	return ctx.Err()
}
