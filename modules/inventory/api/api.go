// Package api is the inventory module's public face. Until the inventory
// module itself is built, only availability exists, answered by a stand-in
// that reports nothing in stock.
package api

import "context"

// Inventory answers stock questions for other modules.
type Inventory interface {
	// Availability returns the stock level of each SKU in one call; a SKU the
	// inventory does not know is absent from the map.
	Availability(ctx context.Context, skus []string) (map[string]Level, error)
}

// Level is the stock of one SKU.
type Level struct {
	SKU       string `json:"sku"`
	OnHand    int64  `json:"on_hand"`
	Reserved  int64  `json:"reserved"`
	Available int64  `json:"available"`
}

// Event names of the inventory.
const EventStockChanged = "inventory.stock_changed.v1"

// StockChanged: the available quantity of a SKU changed.
type StockChanged struct {
	SKU       string `json:"sku"`
	OnHand    int64  `json:"on_hand"`
	Reserved  int64  `json:"reserved"`
	Available int64  `json:"available"`
	Version   int64  `json:"version"`
}

func (StockChanged) EventName() string  { return EventStockChanged }
func (e StockChanged) EventKey() string { return e.SKU }
