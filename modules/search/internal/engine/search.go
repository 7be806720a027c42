package engine

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/blevesearch/bleve/v2/search"
	index "github.com/blevesearch/bleve_index_api"
)

// Search implements Engine.
func (b *Bleve) Search(ctx context.Context, q Query) (Result, error) {
	if err := b.begin(); err != nil {
		return Result{}, err
	}
	defer b.end()

	sortName := q.Sort
	if sortName == "" {
		sortName = SortRelevance
	}
	if _, ok := orders[sortName]; !ok {
		return Result{}, fmt.Errorf("%w: unknown sort %q", ErrBadQuery, q.Sort)
	}
	limit := q.Limit
	switch {
	case limit <= 0:
		limit = DefaultLimit
	case limit > MaxLimit:
		limit = MaxLimit
	}
	var after *hitKey
	if q.Cursor != "" {
		var err error
		if after, err = decodeCursor(q.Cursor, sortName); err != nil {
			return Result{}, err
		}
	}

	res, err := b.search(ctx, q, sortName, limit, after)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return Result{}, ctxErr
		}
		return Result{}, fmt.Errorf("engine: search: %w", err)
	}
	return res, nil
}

func (b *Bleve) search(ctx context.Context, q Query, sortName string, limit int, after *hitKey) (Result, error) {
	// Everything below reads one consistent snapshot of the index.
	adv, err := b.idx.Advanced()
	if err != nil {
		return Result{}, err
	}
	r, err := adv.Reader()
	if err != nil {
		return Result{}, err
	}
	defer func() { _ = r.Close() }()

	words := b.parseText(q.Text)
	if err := b.expand(ctx, r, words); err != nil {
		return Result{}, err
	}
	score := len(words) > 0 && sortName == SortRelevance
	opts := search.SearcherOptions{}
	if !score {
		// Without scores bleve merges postings as bitmaps.
		opts.Score = "none"
	}
	s, err := buildQuery(words, q, score).Searcher(ctx, r, b.idx.Mapping(), opts)
	if err != nil {
		return Result{}, err
	}
	defer func() { _ = s.Close() }()

	// One extra hit tells whether there is a next page.
	c, err := collect(ctx, r, s, sortName, limit+1, after)
	if err != nil {
		return Result{}, err
	}

	out := Result{Total: c.total, Facets: c.facets}
	hits := c.hits
	if len(hits) > limit {
		hits = hits[:limit]
		if out.NextCursor, err = encodeCursor(sortName, hits[len(hits)-1]); err != nil {
			return Result{}, err
		}
	}
	m := b.newMatcher(words)
	out.Items = make([]Hit, 0, len(hits))
	for _, h := range hits {
		doc, err := r.Document(h.pid)
		if err != nil {
			return Result{}, err
		}
		if doc == nil {
			continue // cannot happen within one snapshot
		}
		out.Items = append(out.Items, b.toHit(h, doc, m))
	}
	return out, nil
}

// toHit builds a Hit from the stored fields of doc.
func (b *Bleve) toHit(h hitKey, doc index.Document, m *matcher) Hit {
	hit := Hit{ProductID: h.pid, Score: h.score}
	var desc string
	doc.VisitFields(func(f index.Field) {
		switch f.Name() {
		case fieldTitle:
			hit.Title = string(f.Value())
		case fieldDesc:
			desc = string(f.Value())
		case fieldSlug:
			hit.Slug = string(f.Value())
		case fieldPrice:
			if nf, ok := f.(index.NumericField); ok {
				if v, err := nf.Number(); err == nil {
					hit.PriceFrom = int64(v)
				}
			}
		case fieldInStock:
			if bf, ok := f.(index.BooleanField); ok {
				hit.InStock, _ = bf.Boolean()
			}
		}
	})
	hit.Snippet = b.snippet(m, hit.Title, desc)
	return hit
}

// sortValueCounts orders by count desc, then value asc.
func sortValueCounts(v []ValueCount) {
	slices.SortFunc(v, func(a, b ValueCount) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
}
