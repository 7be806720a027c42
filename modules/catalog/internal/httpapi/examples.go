package httpapi

import (
	"time"

	"github.com/modshop/modshop/modules/catalog/api"
)

// Examples of requests and answers for the OpenAPI document: a Route's
// Request or Response that is not a zero value is shown as its example.

var (
	exampleTime     = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	exampleCategory = "01JQ4CATEGORY0000000000001"
	exampleVariant  = Variant{ID: "01JQ4VARIANT00000000000001", SKU: "BOOT-LTH-42", Title: "Brown, EU 42",
		Price: api.Money{Amount: 12900, Currency: "EUR"}, Attributes: map[string]string{"colour": "brown", "size": "42"}, Available: 7, InStock: true}
	exampleProduct = Product{ID: "01JQ4PRODUCT00000000000001", Slug: "leather-boots", Title: "Leather Boots",
		Description: "Hand-stitched boots of full-grain leather.", CategoryID: &exampleCategory, Status: api.StatusPublished,
		Variants: []Variant{exampleVariant}, CreatedAt: exampleTime, UpdatedAt: exampleTime}
	exampleCursor      = "eyJrIjoiMDFKUTRQUk9EVUNUIn0"
	exampleProductList = ProductList{Items: []Product{exampleProduct}, NextCursor: &exampleCursor}

	exampleNewCategory = api.NewCategory{Slug: "boots", Name: "Boots"}
	exampleNewProduct  = api.NewProduct{Slug: "leather-boots", Title: "Leather Boots", Description: "Hand-stitched boots of full-grain leather.",
		CategoryID: &exampleCategory, Status: api.StatusPublished, Variants: []api.NewVariant{exampleNewVariant}}
	exampleNewVariant   = api.NewVariant{SKU: "BOOT-LTH-42", Title: "Brown, EU 42", Price: 12900, Attributes: map[string]string{"colour": "brown", "size": "42"}}
	exampleTitle        = "Leather Boots, resoled"
	exampleProductPatch = ProductPatch{Title: &exampleTitle}
	examplePrice        = int64(11900)
	exampleVariantPatch = VariantPatch{Price: &examplePrice}
)
