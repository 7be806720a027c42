package api

import "context"

// BackOffice is what the shop's back office (the web module's stock pages)
// reads: levels one at a time or a page at a time, and a SKU's ledger.
type BackOffice interface {
	// Level is one SKU's stock; ErrUnknownSKU when it has no level.
	Level(ctx context.Context, sku string) (Level, error)
	// Levels pages through levels in SKU order, starting after the SKU
	// given ("" from the first). A limit outside 1..MaxPage is taken as
	// DefaultPage. A page shorter than the limit is the last.
	Levels(ctx context.Context, after string, limit int) ([]Level, error)
	// Ledger pages through a SKU's ledger newest first, starting before the
	// Adjustment.ID given ("" from the newest); ErrUnknownSKU for a SKU
	// without a level, a 422 for a before that is not an adjustment id.
	// The limit is taken as in Levels.
	Ledger(ctx context.Context, sku, before string, limit int) ([]Adjustment, error)
}

// Page sizes of BackOffice.
const (
	DefaultPage = 20
	MaxPage     = 100
)
