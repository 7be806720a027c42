package engine

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"
)

// The index schema. Documents are built field by field (bleve's
// IndexAdvanced) rather than through a bleve mapping, to set per-field
// options a mapping cannot express and to skip the _all field.
//
// Searching, sorting and faceting read, for every matching document, the
// postings of the query terms and the doc values the collector needs, so
// the schema keeps both small:
//
//   - No term vectors anywhere: snippets are computed from the stored text of
//     the returned hits.
//   - One doc-value field, fieldDocValues, holds everything the collector
//     reads per hit, as "d\x1fvalue" terms (like Lucene's $facets field):
//     the facet dimensions, the sort keys and the product id. Each extra
//     doc-value field costs one more lookup per matching document.
//   - Doc values are unchunked and uncompressed. bleve's default
//     (snappy-compressed chunks of 1024 documents) decodes a whole chunk for
//     every matching document that falls in a new chunk, which made sparse
//     queries 3x slower.
//   - Sort keys are fixed-width strings (sortableInt64). bleve's numeric and
//     datetime fields keep 16 prefix-coded terms per value as doc values.
//     fieldPrice stays numeric for range filters, without doc values.
const (
	fieldTitle        = "title"         // English-stemmed title, stored: title boost
	fieldTitleRaw     = "title_raw"     // lower-cased title words: title boost of typo/prefix matches
	fieldText         = "text"          // English-stemmed title and description: matching
	fieldTextRaw      = "text_raw"      // lower-cased words of title and description: typo/prefix
	fieldDesc         = "description"   // stored only
	fieldSlug         = "slug"          // stored only
	fieldCategoryPath = "category_path" // every category id on the path: filter
	fieldPrice        = "price"         // numeric: range filter; stored
	fieldInStock      = "in_stock"      // stored only (the filter uses fieldDocValues)
	fieldDocValues    = "dv"            // per-hit values, see dv* below
)

// Dimensions of fieldDocValues terms: dim, dvSep, value.
const (
	dvSep        = 0x1f
	dvCategory   = 'c' // leaf category id
	dvPriceBand  = 'p' // index into priceBandStarts
	dvStock      = 's' // "1" in stock, "0" not
	dvPriceKey   = 'k' // sortableInt64(PriceFrom)
	dvCreatedKey = 't' // sortableInt64(CreatedAt in ns)
	dvPID        = 'i' // ProductID
)

func dvTerm(dim byte, value string) string { return string([]byte{dim, dvSep}) + value }

var (
	termInStock  = dvTerm(dvStock, "1")
	termOutStock = dvTerm(dvStock, "0")
)

const (
	// analyzerStem is bleve's English analyzer: Unicode words, possessives
	// removed, lower case, English stop words removed, Porter stemmer.
	analyzerStem = en.AnalyzerName
	// analyzerRaw keeps words as typed, lower-cased: typo and prefix
	// matching must see "running", not the stem "run".
	analyzerRaw = "engine_raw"

	// schemaVersion is stored in the index; bump it whenever buildDoc or an
	// analyzer changes.
	schemaVersion    = "5"
	schemaVersionKey = "engine.schema_version"
)

// Field options.
const (
	// optText is searchable text, with term frequencies and norms for
	// scoring.
	optText = index.IndexField
	// optStoredText is optText, also returned with hits.
	optStoredText = index.IndexField | index.StoreField
	// optFilter is a keyword only filtered on.
	optFilter = index.IndexField | index.SkipFreqNorm
	// optDocValue is a keyword read per matching document by the collector.
	// bleve builds doc values from indexed terms, hence IndexField.
	optDocValue = index.IndexField | index.SkipFreqNorm | index.DocValues |
		index.SkipDVChunking | index.SkipDVCompression
)

// newIndexMapping registers the analyzers; it maps no fields (see
// buildDoc), is static, and has no _all field.
func newIndexMapping() (*mapping.IndexMappingImpl, error) {
	im := bleve.NewIndexMapping()
	err := im.AddCustomAnalyzer(analyzerRaw, map[string]interface{}{
		"type":          custom.Name,
		"tokenizer":     unicode.Name,
		"token_filters": []interface{}{lowercase.Name},
	})
	if err != nil {
		return nil, err
	}
	im.DefaultAnalyzer = analyzerStem
	im.DefaultMapping = bleve.NewDocumentStaticMapping()
	im.IndexDynamic = false
	im.StoreDynamic = false
	im.DocValuesDynamic = false
	return im, im.Validate()
}

// buildDoc turns a Document into bleve fields.
func (b *Bleve) buildDoc(d Document) *document.Document {
	doc := document.NewDocument(d.ProductID)
	text := func(name, value string, opts index.FieldIndexingOptions, a analysis.Analyzer) {
		doc.AddField(document.NewTextFieldCustom(name, nil, []byte(value), opts, a))
	}

	// Queries require every word in the text fields and add the title
	// fields' score on top (see buildQuery). text_raw's dictionary is also
	// the whole vocabulary for typo and prefix expansion (see expand.go).
	title, desc := cleanText(d.Title), cleanText(d.Description)
	all := title + "\n" + desc
	text(fieldTitle, title, optStoredText, b.stem)
	text(fieldTitleRaw, title, optText, b.raw)
	text(fieldText, all, optText, b.stem)
	text(fieldTextRaw, all, optText, b.raw)
	text(fieldDesc, desc, index.StoreField, b.keyword)
	if slug := cleanText(d.Slug); slug != "" {
		text(fieldSlug, slug, index.StoreField, b.keyword)
	}

	leaf := cleanText(d.CategoryID)
	hasLeaf := false
	for _, c := range d.CategoryPath {
		if c = cleanText(c); c != "" {
			text(fieldCategoryPath, c, optFilter, b.keyword)
			hasLeaf = hasLeaf || c == leaf
		}
	}
	if leaf != "" && !hasLeaf {
		text(fieldCategoryPath, leaf, optFilter, b.keyword)
	}

	dv := func(dim byte, value string) { text(fieldDocValues, dvTerm(dim, value), optDocValue, b.keyword) }
	if leaf != "" {
		dv(dvCategory, leaf)
	}
	if band := priceBand(d.PriceFrom); band >= 0 {
		dv(dvPriceBand, strconv.Itoa(band))
	}
	if d.InStock {
		dv(dvStock, "1")
	} else {
		dv(dvStock, "0")
	}
	dv(dvPriceKey, sortableInt64(d.PriceFrom))
	dv(dvCreatedKey, sortableInt64(clampTime(d.CreatedAt).UnixNano()))
	dv(dvPID, d.ProductID)

	doc.AddField(document.NewNumericFieldWithIndexingOptions(fieldPrice, nil, float64(d.PriceFrom),
		index.IndexField|index.StoreField))
	doc.AddField(document.NewBooleanFieldWithIndexingOptions(fieldInStock, nil, d.InStock, index.StoreField))
	return doc
}

// minTime and maxTime bound CreatedAt to int64 nanoseconds since the epoch
// (years 1678 to 2262).
var (
	minTime = time.Unix(0, math.MinInt64).UTC()
	maxTime = time.Unix(0, math.MaxInt64).UTC()
)

func clampTime(t time.Time) time.Time {
	switch {
	case t.Before(minTime):
		return minTime
	case t.After(maxTime):
		return maxTime
	}
	return t
}

// sortableInt64 encodes v so that byte order is numeric order: offset
// binary as 16 lower-case hex digits.
func sortableInt64(v int64) string {
	return fmt.Sprintf("%016x", uint64(v)^(1<<63))
}

// isSortableInt64 reports whether s can be an output of sortableInt64.
func isSortableInt64(s string) bool {
	if len(s) != 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// priceBand is the index in priceBandStarts of the band holding p, or -1.
func priceBand(p int64) int {
	for i := len(priceBandStarts) - 1; i >= 0; i-- {
		if p >= priceBandStarts[i] {
			return i
		}
	}
	return -1
}

// cleanText makes s valid UTF-8; invalid bytes become U+FFFD.
func cleanText(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
