package httpapi

import (
	"time"

	"github.com/modshop/modshop/modules/cart/api"
	catalog "github.com/modshop/modshop/modules/catalog/api"
)

// Examples of requests and answers for the OpenAPI document: a Route's
// Request or Response that is not a zero value is shown as its example.

var (
	exampleQuantity = int64(1)
	exampleAddItem  = AddItemRequest{SKU: "BOOT-LTH-42", Quantity: &exampleQuantity}
	exampleNewQty   = int64(2)
	exampleUpdate   = UpdateItemRequest{Quantity: &exampleNewQty}
	exampleMerge    = MergeRequest{CartID: "c_8Jq2v0XcN4mT7rLp9sWz1e"}
	exampleCart     = api.Cart{ID: "c_8Jq2v0XcN4mT7rLp9sWz1e", Status: api.StatusActive, ItemCount: 1,
		Items: []api.Item{{ID: "01JQ4ITEM00000000000000001", SKU: "BOOT-LTH-42", VariantID: "01JQ4VARIANT00000000000001",
			ProductID: "01JQ4PRODUCT00000000000001", Title: "Leather Boots, Brown, EU 42", Quantity: 1,
			UnitPrice: catalog.Money{Amount: 12900, Currency: "EUR"}, LineTotal: catalog.Money{Amount: 12900, Currency: "EUR"}, Available: true}},
		Subtotal: catalog.Money{Amount: 12900, Currency: "EUR"}, UpdatedAt: time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)}
)
