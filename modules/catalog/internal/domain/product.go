package domain

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/platform/errs"
)

// Product is a product with its variants, in the order they were added.
type Product struct {
	ID          string
	Slug        string
	Title       string
	Description string
	CategoryID  *string
	Status      api.Status
	Variants    []Variant
	Version     int64 // grows with every change; events carry it
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Variant is a purchasable version of a product.
type Variant struct {
	ID         string
	SKU        string
	Title      string
	Price      int64 // minor units of the store currency
	Attributes map[string]string
}

// IDs makes new identifiers; the service passes one in so the domain stays
// free of how ids look.
type IDs func() string

// ValidateNewProduct checks a new product: field errors first (422), then
// SKUs repeated inside the request (409 sku_taken, as if the first one had
// been stored already).
func ValidateNewProduct(in api.NewProduct) error {
	return validateNewProduct(in, "")
}

func validateNewProduct(in api.NewProduct, prefix string) error {
	var f errs.Fields
	CheckSlug(&f, prefix+"slug", in.Slug)
	CheckTitle(&f, prefix+"title", in.Title)
	CheckDescription(&f, prefix+"description", in.Description)
	CheckCategoryID(&f, prefix+"category_id", in.CategoryID)
	if in.Status != "" && in.Status != api.StatusDraft && in.Status != api.StatusPublished {
		f.Add(prefix+"status", "must be draft or published")
	}
	if n := len(in.Variants); n < MinVariants || n > MaxVariants {
		f.Add(prefix+"variants", fmt.Sprintf("must have %d to %d variants", MinVariants, MaxVariants))
	}
	for i, v := range in.Variants {
		checkNewVariant(&f, fmt.Sprintf("%svariants[%d].", prefix, i), v)
	}
	if err := f.Err(); err != nil {
		return err
	}
	return checkRepeatedSKUs(in.Variants, nil)
}

// ValidateNewVariant checks a variant added on its own (field names without
// a prefix).
func ValidateNewVariant(in api.NewVariant) error {
	var f errs.Fields
	checkNewVariant(&f, "", in)
	return f.Err()
}

func checkNewVariant(f *errs.Fields, prefix string, v api.NewVariant) {
	CheckSKU(f, prefix+"sku", v.SKU)
	CheckTitle(f, prefix+"title", v.Title)
	CheckPrice(f, prefix+"price", v.Price)
	CheckAttributes(f, prefix+"attributes", v.Attributes)
}

// checkRepeatedSKUs reports the first SKU of vs that repeats one before it
// or one in seen (which it extends).
func checkRepeatedSKUs(vs []api.NewVariant, seen map[string]bool) error {
	if seen == nil {
		seen = make(map[string]bool, len(vs))
	}
	for _, v := range vs {
		if seen[v.SKU] {
			return SKUTaken(v.SKU)
		}
		seen[v.SKU] = true
	}
	return nil
}

// SKUTaken is api.ErrSKUTaken naming the SKU.
func SKUTaken(sku string) error {
	e := *api.ErrSKUTaken
	e.Message = fmt.Sprintf("the SKU %q is already taken", sku)
	return &e
}

// SlugTaken is api.ErrSlugTaken naming the slug.
func SlugTaken(slug string) error {
	e := *api.ErrSlugTaken
	e.Message = fmt.Sprintf("the slug %q is already taken", slug)
	return &e
}

// ValidateImport checks a batch of new products: each one as
// ValidateNewProduct does, with field names prefixed by its index ("[3].slug"),
// then slugs and SKUs repeated across the batch.
func ValidateImport(in []api.NewProduct) error {
	var fields errs.Fields
	for i, p := range in {
		err := validateNewProduct(p, fmt.Sprintf("[%d].", i))
		if e := errs.As(err); e != nil && e.Kind == errs.KindValidation {
			fields = append(fields, e.Fields...)
		} else if err != nil {
			return err
		}
	}
	if err := fields.Err(); err != nil {
		return err
	}
	slugs := make(map[string]bool, len(in))
	skus := make(map[string]bool, len(in)*2)
	for _, p := range in {
		if slugs[p.Slug] {
			return SlugTaken(p.Slug)
		}
		slugs[p.Slug] = true
		if err := checkRepeatedSKUs(p.Variants, skus); err != nil {
			return err
		}
	}
	return nil
}

// NewProduct makes a product from validated input (see ValidateNewProduct).
// A product without a status starts as a draft.
func NewProduct(in api.NewProduct, newID IDs, now time.Time) Product {
	status := in.Status
	if status == "" {
		status = api.StatusDraft
	}
	p := Product{
		ID: newID(), Slug: in.Slug, Title: in.Title, Description: in.Description,
		CategoryID: cloneID(in.CategoryID), Status: status, Version: 1, CreatedAt: now, UpdatedAt: now,
		Variants: make([]Variant, len(in.Variants)),
	}
	for i, v := range in.Variants {
		p.Variants[i] = newVariant(newID(), v)
	}
	return p
}

func newVariant(id string, in api.NewVariant) Variant {
	return Variant{ID: id, SKU: in.SKU, Title: in.Title, Price: in.Price, Attributes: cloneAttrs(in.Attributes)}
}

// PriceFrom is the lowest variant price: what the product list sorts and
// filters by.
func (p Product) PriceFrom() int64 {
	if len(p.Variants) == 0 {
		return 0
	}
	low := p.Variants[0].Price
	for _, v := range p.Variants[1:] {
		low = min(low, v.Price)
	}
	return low
}

// TitleKey is the title's sort key: sorting by title ignores case.
func TitleKey(title string) string { return strings.ToLower(title) }

// Patch is a partial change of a product's own fields; nil leaves a field
// as it is. CategoryID is set when the request names the category, and
// NewCategoryID nil then removes it.
type Patch struct {
	Slug          *string
	Title         *string
	Description   *string
	Status        *api.Status
	CategoryIDSet bool
	NewCategoryID *string
}

// Validate checks the fields the patch sets.
func (pt Patch) Validate() error {
	var f errs.Fields
	if pt.Slug != nil {
		CheckSlug(&f, "slug", *pt.Slug)
	}
	if pt.Title != nil {
		CheckTitle(&f, "title", *pt.Title)
	}
	if pt.Description != nil {
		CheckDescription(&f, "description", *pt.Description)
	}
	if pt.Status != nil && !ValidStatus(*pt.Status) {
		f.Add("status", "must be draft, published or archived")
	}
	if pt.CategoryIDSet {
		CheckCategoryID(&f, "category_id", pt.NewCategoryID)
	}
	return f.Err()
}

// Apply changes the product as the (validated) patch says and reports
// whether anything changed. A status change the lifecycle forbids is
// ErrInvalidTransition and changes nothing.
func (p *Product) Apply(pt Patch, now time.Time) (bool, error) {
	if pt.Status != nil && !CanTransition(p.Status, *pt.Status) {
		return false, ErrInvalidTransition
	}
	changed := false
	set := func(dst *string, v *string) {
		if v != nil && *dst != *v {
			*dst, changed = *v, true
		}
	}
	set(&p.Slug, pt.Slug)
	set(&p.Title, pt.Title)
	set(&p.Description, pt.Description)
	if pt.Status != nil && p.Status != *pt.Status {
		p.Status, changed = *pt.Status, true
	}
	if pt.CategoryIDSet && !sameID(p.CategoryID, pt.NewCategoryID) {
		p.CategoryID, changed = cloneID(pt.NewCategoryID), true
	}
	if changed {
		p.touch(now)
	}
	return changed, nil
}

// AddVariant appends a new variant (validated with ValidateNewVariant).
func (p *Product) AddVariant(id string, in api.NewVariant, now time.Time) (Variant, error) {
	if len(p.Variants) >= MaxVariants {
		return Variant{}, ErrTooManyVariants
	}
	for _, v := range p.Variants {
		if v.SKU == in.SKU {
			return Variant{}, SKUTaken(in.SKU)
		}
	}
	v := newVariant(id, in)
	p.Variants = append(p.Variants, v)
	p.touch(now)
	return v, nil
}

// VariantPatch is a partial change of a variant; nil leaves a field as it is.
type VariantPatch struct {
	Title      *string
	Price      *int64
	Attributes *map[string]string
}

// Validate checks the fields the patch sets.
func (vp VariantPatch) Validate() error {
	var f errs.Fields
	if vp.Title != nil {
		CheckTitle(&f, "title", *vp.Title)
	}
	if vp.Price != nil {
		CheckPrice(&f, "price", *vp.Price)
	}
	if vp.Attributes != nil {
		CheckAttributes(&f, "attributes", *vp.Attributes)
	}
	return f.Err()
}

// VariantChange is what UpdateVariant did.
type VariantChange struct {
	Before, After Variant
	Changed       bool
}

// PriceChanged reports a new price.
func (c VariantChange) PriceChanged() bool { return c.Before.Price != c.After.Price }

// UpdateVariant applies a (validated) patch to the variant with the id.
func (p *Product) UpdateVariant(id string, vp VariantPatch, now time.Time) (VariantChange, error) {
	i := slices.IndexFunc(p.Variants, func(v Variant) bool { return v.ID == id })
	if i < 0 {
		return VariantChange{}, api.ErrVariantNotFound
	}
	before := p.Variants[i]
	after := before
	after.Attributes = cloneAttrs(before.Attributes)
	if vp.Title != nil {
		after.Title = *vp.Title
	}
	if vp.Price != nil {
		after.Price = *vp.Price
	}
	if vp.Attributes != nil {
		after.Attributes = cloneAttrs(*vp.Attributes)
	}
	ch := VariantChange{Before: before, After: after,
		Changed: before.Title != after.Title || before.Price != after.Price || !maps.Equal(before.Attributes, after.Attributes)}
	if ch.Changed {
		p.Variants[i] = after
		p.touch(now)
	}
	return ch, nil
}

// touch records a change: a new version and time.
func (p *Product) touch(now time.Time) {
	p.Version++
	p.UpdatedAt = now
}

// EventKind is which product event a change publishes.
type EventKind int

const (
	EventUpdated EventKind = iota
	EventPublished
	EventArchived
)

// ProductEvent says which event a change from status before to the product's
// current status publishes: becoming published or archived has its own
// event; every other change, back to draft included, is an update. A new
// product has no status before (created is true).
func ProductEvent(before, after api.Status, created bool) EventKind {
	switch {
	case after == api.StatusPublished && (created || before != api.StatusPublished):
		return EventPublished
	case after == api.StatusArchived && !created && before != api.StatusArchived:
		return EventArchived
	default:
		return EventUpdated
	}
}

func cloneID(id *string) *string {
	if id == nil {
		return nil
	}
	v := *id
	return &v
}

func sameID(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// cloneAttrs copies attributes; the result is never nil, so "no attributes"
// is {} everywhere.
func cloneAttrs(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	maps.Copy(out, m)
	return out
}
