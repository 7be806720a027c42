package httpapi

import (
	"encoding/json"
	"reflect"
	"time"

	"github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/modules/catalog/internal/domain"
	"github.com/modshop/modshop/modules/catalog/internal/service"
)

// Product is a product as the HTTP API shows it: its variants carry their
// stock.
type Product struct {
	ID          string     `json:"id"`
	Slug        string     `json:"slug"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	CategoryID  *string    `json:"category_id"`
	Status      api.Status `json:"status" doc:"draft, published or archived"`
	Variants    []Variant  `json:"variants"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// Variant is a variant with its availability from inventory.
type Variant struct {
	ID         string            `json:"id"`
	SKU        string            `json:"sku"`
	Title      string            `json:"title"`
	Price      api.Money         `json:"price"`
	Attributes map[string]string `json:"attributes"`
	Available  int64             `json:"available" doc:"units inventory can sell now"`
	InStock    bool              `json:"in_stock"`
}

// ProductList is a page of products.
type ProductList struct {
	Items      []Product `json:"items"`
	NextCursor *string   `json:"next_cursor" doc:"pass as ?cursor= for the next page; null on the last page"`
}

// CategoryList is the whole category tree, flat, parents first.
type CategoryList struct {
	Items []api.Category `json:"items"`
}

// ProductPatch changes some of a product's fields; a field left out stays
// as it is.
type ProductPatch struct {
	Slug        *string     `json:"slug,omitempty"`
	Title       *string     `json:"title,omitempty"`
	Description *string     `json:"description,omitempty"`
	CategoryID  NullableID  `json:"category_id,omitzero" doc:"a category id; null removes the product from its category"`
	Status      *api.Status `json:"status,omitempty" doc:"draft, published or archived; an archived product returns to draft first"`
}

// VariantPatch changes some of a variant's fields.
type VariantPatch struct {
	Title      *string            `json:"title,omitempty"`
	Price      *int64             `json:"price,omitempty" doc:"minor units of the store currency"`
	Attributes *map[string]string `json:"attributes,omitempty" doc:"replaces every attribute"`
}

// NullableID is a JSON member that may be left out, null or an id, so that
// PATCH can tell "leave it" (left out) from "remove it" (null).
type NullableID struct {
	Set bool
	ID  *string
}

// UnmarshalJSON records that the member was present.
func (n *NullableID) UnmarshalJSON(b []byte) error {
	n.Set = true
	if string(b) == "null" {
		n.ID = nil
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return &json.UnmarshalTypeError{Value: "non-string", Type: reflect.TypeOf(s), Field: "category_id"}
	}
	n.ID = &s
	return nil
}

// IsZero leaves an absent member out when encoding.
func (n NullableID) IsZero() bool { return !n.Set }

// MarshalJSON writes the id or null.
func (n NullableID) MarshalJSON() ([]byte, error) { return json.Marshal(n.ID) }

// JSONSchema describes the encoding for the OpenAPI document.
func (NullableID) JSONSchema() map[string]any {
	return map[string]any{"type": []string{"string", "null"}}
}

func (p ProductPatch) domain() domain.Patch {
	return domain.Patch{Slug: p.Slug, Title: p.Title, Description: p.Description, Status: p.Status,
		CategoryIDSet: p.CategoryID.Set, NewCategoryID: p.CategoryID.ID}
}

func (p VariantPatch) domain() domain.VariantPatch {
	return domain.VariantPatch{Title: p.Title, Price: p.Price, Attributes: p.Attributes}
}

func productOut(p api.Product, stock service.Stock) Product {
	out := Product{ID: p.ID, Slug: p.Slug, Title: p.Title, Description: p.Description, CategoryID: p.CategoryID,
		Status: p.Status, Variants: make([]Variant, len(p.Variants)), CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
	for i, v := range p.Variants {
		out.Variants[i] = variantOut(v, stock)
	}
	return out
}

func variantOut(v api.Variant, stock service.Stock) Variant {
	attrs := v.Attributes
	if attrs == nil {
		attrs = map[string]string{}
	}
	n := stock[v.SKU]
	return Variant{ID: v.ID, SKU: v.SKU, Title: v.Title, Price: v.Price, Attributes: attrs, Available: n, InStock: n > 0}
}

func listOut(l service.Listing) ProductList {
	out := ProductList{Items: make([]Product, len(l.Products))}
	for i, p := range l.Products {
		out.Items[i] = productOut(p, l.Stock)
	}
	if l.Next != "" {
		next := l.Next
		out.NextCursor = &next
	}
	return out
}
