package httpapi

import catalog "github.com/modshop/modshop/modules/catalog/api"

// exampleResult is the answer of GET /v1/search in the OpenAPI document.
var exampleResult = Result{
	Items: []Item{{ProductID: "01JQ4PRODUCT00000000000001", Slug: "leather-boots", Title: "Leather Boots",
		Snippet: "Hand-stitched <mark>boots</mark> of full-grain <mark>leather</mark>.", PriceFrom: catalog.Money{Amount: 12900, Currency: "EUR"},
		InStock: true, Score: 3.42}},
	Total: 1,
	Facets: Facets{
		Category: []CategoryCount{{Value: "01JQ4CATEGORY0000000000001", Count: 1, Slug: "boots", Name: "Boots"}},
		Price:    []PriceBand{{From: 10000, To: nil, Count: 1}},
		InStock:  []StockCount{{Value: true, Count: 1}},
	},
}
