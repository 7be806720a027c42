// Package api is the search module's public face. Search keeps its own read
// model, built only from catalog and inventory events; other modules do not
// call it, but an operator (the `modshop search reindex` command) can rebuild
// it from the catalog.
package api

import "context"

// Search is what the search module offers besides its HTTP route.
type Search interface {
	// Reindex rebuilds the read model and the index from api.Catalog and
	// api.Inventory, and returns how many products it read.
	Reindex(ctx context.Context) (int, error)
}
