package domain

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/platform/errs"
)

func validProduct() api.NewProduct {
	return api.NewProduct{
		Slug: "trail-shoe", Title: "Trail Shoe", Description: "Grippy.", Status: api.StatusPublished,
		Variants: []api.NewVariant{{SKU: "TS-42", Title: "42", Price: 9999, Attributes: map[string]string{"size": "42"}}},
	}
}

func variants(n int) []api.NewVariant {
	out := make([]api.NewVariant, n)
	for i := range out {
		out[i] = api.NewVariant{SKU: fmt.Sprintf("SKU-%d", i), Title: "v", Price: 100}
	}
	return out
}

func attrs(n int) map[string]string {
	m := map[string]string{}
	for i := 0; i < n; i++ {
		m[fmt.Sprintf("k%d", i)] = "v"
	}
	return m
}

// fieldsOf returns the field names of a validation error, or nil.
func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	e := errs.As(err)
	if e == nil || e.Code != "validation_failed" {
		t.Fatalf("error %v is not validation_failed", err)
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestValidateNewProduct(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		change func(p *api.NewProduct)
		fields []string // nil: valid
	}{
		{"valid", func(p *api.NewProduct) {}, nil},
		{"no status means draft", func(p *api.NewProduct) { p.Status = "" }, nil},
		{"slug of 120", func(p *api.NewProduct) { p.Slug = strings.Repeat("a", 120) }, nil},
		{"slug of 121", func(p *api.NewProduct) { p.Slug = strings.Repeat("a", 121) }, []string{"slug"}},
		{"empty slug", func(p *api.NewProduct) { p.Slug = "" }, []string{"slug"}},
		{"slug with upper case", func(p *api.NewProduct) { p.Slug = "Trail" }, []string{"slug"}},
		{"slug with space", func(p *api.NewProduct) { p.Slug = "trail shoe" }, []string{"slug"}},
		{"slug with underscore", func(p *api.NewProduct) { p.Slug = "trail_shoe" }, []string{"slug"}},
		{"slug with umlaut", func(p *api.NewProduct) { p.Slug = "schuh-grün" }, []string{"slug"}},
		{"slug digits and dashes", func(p *api.NewProduct) { p.Slug = "0-9-a-z" }, nil},
		{"title of 200", func(p *api.NewProduct) { p.Title = strings.Repeat("é", 200) }, nil},
		{"title of 201", func(p *api.NewProduct) { p.Title = strings.Repeat("é", 201) }, []string{"title"}},
		{"empty title", func(p *api.NewProduct) { p.Title = "" }, []string{"title"}},
		{"blank title", func(p *api.NewProduct) { p.Title = "   " }, []string{"title"}},
		{"description of 10000", func(p *api.NewProduct) { p.Description = strings.Repeat("ß", 10_000) }, nil},
		{"description of 10001", func(p *api.NewProduct) { p.Description = strings.Repeat("ß", 10_001) }, []string{"description"}},
		{"empty description", func(p *api.NewProduct) { p.Description = "" }, nil},
		{"empty category id", func(p *api.NewProduct) { s := ""; p.CategoryID = &s }, []string{"category_id"}},
		{"archived on create", func(p *api.NewProduct) { p.Status = api.StatusArchived }, []string{"status"}},
		{"unknown status", func(p *api.NewProduct) { p.Status = "sold" }, []string{"status"}},
		{"price -1", func(p *api.NewProduct) { p.Variants[0].Price = -1 }, []string{"variants[0].price"}},
		{"price 0", func(p *api.NewProduct) { p.Variants[0].Price = 0 }, nil},
		{"price 10^9", func(p *api.NewProduct) { p.Variants[0].Price = 1_000_000_000 }, nil},
		{"price 10^9+1", func(p *api.NewProduct) { p.Variants[0].Price = 1_000_000_001 }, []string{"variants[0].price"}},
		{"0 variants", func(p *api.NewProduct) { p.Variants = nil }, []string{"variants"}},
		{"1 variant", func(p *api.NewProduct) { p.Variants = variants(1) }, nil},
		{"100 variants", func(p *api.NewProduct) { p.Variants = variants(100) }, nil},
		{"101 variants", func(p *api.NewProduct) { p.Variants = variants(101) }, []string{"variants"}},
		{"third variant's SKU", func(p *api.NewProduct) { p.Variants = variants(3); p.Variants[2].SKU = "" }, []string{"variants[2].sku"}},
		{"SKU with slash", func(p *api.NewProduct) { p.Variants[0].SKU = "A/B" }, []string{"variants[0].sku"}},
		{"SKU of 65", func(p *api.NewProduct) { p.Variants[0].SKU = strings.Repeat("A", 65) }, []string{"variants[0].sku"}},
		{"variant title of 201", func(p *api.NewProduct) { p.Variants[0].Title = strings.Repeat("x", 201) }, []string{"variants[0].title"}},
		{"20 attributes", func(p *api.NewProduct) { p.Variants[0].Attributes = attrs(20) }, nil},
		{"21 attributes", func(p *api.NewProduct) { p.Variants[0].Attributes = attrs(21) }, []string{"variants[0].attributes"}},
		{"attribute key of 50", func(p *api.NewProduct) { p.Variants[0].Attributes = map[string]string{strings.Repeat("k", 50): "v"} }, nil},
		{"attribute key of 51", func(p *api.NewProduct) { p.Variants[0].Attributes = map[string]string{strings.Repeat("k", 51): "v"} }, []string{"variants[0].attributes"}},
		{"empty attribute key", func(p *api.NewProduct) { p.Variants[0].Attributes = map[string]string{"": "v"} }, []string{"variants[0].attributes"}},
		{"attribute value of 200", func(p *api.NewProduct) { p.Variants[0].Attributes = map[string]string{"k": strings.Repeat("v", 200)} }, nil},
		{"attribute value of 201", func(p *api.NewProduct) {
			p.Variants[0].Attributes = map[string]string{"colour": strings.Repeat("v", 201)}
		}, []string{"variants[0].attributes.colour"}},
		{"several at once", func(p *api.NewProduct) { p.Slug = ""; p.Title = ""; p.Variants[0].Price = -5 }, []string{"slug", "title", "variants[0].price"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := validProduct()
			c.change(&p)
			got := fieldsOf(t, ValidateNewProduct(p))
			if strings.Join(got, ",") != strings.Join(c.fields, ",") {
				t.Fatalf("fields %v, want %v", got, c.fields)
			}
		})
	}
}

func TestValidateNewProductRepeatedSKU(t *testing.T) {
	t.Parallel()
	p := validProduct()
	p.Variants = variants(3)
	p.Variants[2].SKU = p.Variants[0].SKU
	err := ValidateNewProduct(p)
	if !errors.Is(err, api.ErrSKUTaken) {
		t.Fatalf("err = %v, want sku_taken", err)
	}
	if !strings.Contains(err.Error(), "SKU-0") {
		t.Errorf("message %q does not name the SKU", err)
	}
	// A field error wins: it is reported first, as a 422.
	p.Slug = ""
	if got := fieldsOf(t, ValidateNewProduct(p)); len(got) != 1 || got[0] != "slug" {
		t.Fatalf("fields %v, want [slug]", got)
	}
}

func TestValidateImport(t *testing.T) {
	t.Parallel()
	a, b := validProduct(), validProduct()
	b.Slug, b.Variants = "other", []api.NewVariant{{SKU: "OTHER", Title: "o", Price: 1}}
	if err := ValidateImport([]api.NewProduct{a, b}); err != nil {
		t.Fatalf("valid batch: %v", err)
	}
	bad := b
	bad.Variants = []api.NewVariant{{SKU: "", Title: "o", Price: 1}}
	if got := fieldsOf(t, ValidateImport([]api.NewProduct{a, bad})); len(got) != 1 || got[0] != "[1].variants[0].sku" {
		t.Fatalf("fields %v, want [[1].variants[0].sku]", got)
	}
	sameSlug := b
	sameSlug.Slug = a.Slug
	if err := ValidateImport([]api.NewProduct{a, sameSlug}); !errors.Is(err, api.ErrSlugTaken) {
		t.Fatalf("repeated slug: %v, want slug_taken", err)
	}
	sameSKU := b
	sameSKU.Variants = a.Variants
	if err := ValidateImport([]api.NewProduct{a, sameSKU}); !errors.Is(err, api.ErrSKUTaken) {
		t.Fatalf("repeated SKU across products: %v, want sku_taken", err)
	}
}

func TestCanTransition(t *testing.T) {
	t.Parallel()
	d, p, a := api.StatusDraft, api.StatusPublished, api.StatusArchived
	cases := []struct {
		from, to api.Status
		ok       bool
	}{
		{d, p, true}, {d, a, true}, {p, d, true}, {p, a, true}, {a, d, true},
		{a, p, false}, {d, d, true}, {a, a, true},
	}
	for _, c := range cases {
		if got := CanTransition(c.from, c.to); got != c.ok {
			t.Errorf("%s -> %s: %v, want %v", c.from, c.to, got, c.ok)
		}
	}
}

func newTestProduct() Product {
	n := 0
	ids := func() string { n++; return fmt.Sprintf("id-%d", n) }
	in := validProduct()
	in.Variants = append(in.Variants, api.NewVariant{SKU: "TS-43", Title: "43", Price: 8999})
	return NewProduct(in, ids, time.Unix(100, 0))
}

func TestNewProduct(t *testing.T) {
	t.Parallel()
	p := newTestProduct()
	if p.Version != 1 || p.Status != api.StatusPublished || p.ID != "id-1" || p.Variants[1].ID != "id-3" {
		t.Fatalf("unexpected product %+v", p)
	}
	if p.PriceFrom() != 8999 {
		t.Errorf("PriceFrom = %d, want the lowest variant price 8999", p.PriceFrom())
	}
	in := validProduct()
	in.Status = ""
	if d := NewProduct(in, func() string { return "x" }, time.Now()); d.Status != api.StatusDraft {
		t.Errorf("status %q, want draft by default", d.Status)
	}
}

func TestApply(t *testing.T) {
	t.Parallel()
	now := time.Unix(200, 0)
	p := newTestProduct()
	title := "Trail Shoe 2"
	changed, err := p.Apply(Patch{Title: &title}, now)
	if err != nil || !changed || p.Title != title || p.Version != 2 || !p.UpdatedAt.Equal(now) {
		t.Fatalf("apply title: changed=%v err=%v product=%+v", changed, err, p)
	}
	changed, err = p.Apply(Patch{Title: &title}, now)
	if err != nil || changed || p.Version != 2 {
		t.Fatalf("same title again: changed=%v err=%v version=%d; want no change", changed, err, p.Version)
	}
	cat := "cat-1"
	if changed, _ := p.Apply(Patch{CategoryIDSet: true, NewCategoryID: &cat}, now); !changed || *p.CategoryID != cat {
		t.Fatalf("set category: changed=%v category=%v", changed, p.CategoryID)
	}
	if changed, _ := p.Apply(Patch{CategoryIDSet: true}, now); !changed || p.CategoryID != nil {
		t.Fatalf("remove category: changed=%v category=%v", changed, p.CategoryID)
	}
	archived, published := api.StatusArchived, api.StatusPublished
	if _, err := p.Apply(Patch{Status: &archived}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Apply(Patch{Status: &published, Title: &title}, now); !errors.Is(err, ErrInvalidTransition) {
		t.Fatalf("archived -> published: %v, want invalid_state", err)
	}
	if p.Status != api.StatusArchived {
		t.Errorf("a refused patch changed the status to %s", p.Status)
	}
}

func TestPatchValidate(t *testing.T) {
	t.Parallel()
	bad, long, empty := "Bad Slug", strings.Repeat("t", 201), ""
	unknown := api.Status("gone")
	got := fieldsOf(t, Patch{Slug: &bad, Title: &long, Status: &unknown, CategoryIDSet: true, NewCategoryID: &empty}.Validate())
	if strings.Join(got, ",") != "slug,title,status,category_id" {
		t.Fatalf("fields %v", got)
	}
	if err := (Patch{CategoryIDSet: true}).Validate(); err != nil {
		t.Fatalf("null category is valid: %v", err)
	}
	price := int64(-1)
	if got := fieldsOf(t, VariantPatch{Price: &price}.Validate()); len(got) != 1 || got[0] != "price" {
		t.Fatalf("variant fields %v, want [price]", got)
	}
}

func TestAddAndUpdateVariant(t *testing.T) {
	t.Parallel()
	now := time.Unix(300, 0)
	p := newTestProduct()
	if _, err := p.AddVariant("v-new", api.NewVariant{SKU: "TS-42", Title: "dup", Price: 1}, now); !errors.Is(err, api.ErrSKUTaken) {
		t.Fatalf("SKU repeated in the product: %v, want sku_taken", err)
	}
	v, err := p.AddVariant("v-new", api.NewVariant{SKU: "TS-44", Title: "44", Price: 500}, now)
	if err != nil || v.ID != "v-new" || p.PriceFrom() != 500 || p.Version != 2 {
		t.Fatalf("add: %v %+v price_from=%d version=%d", err, v, p.PriceFrom(), p.Version)
	}
	price := int64(50_000)
	ch, err := p.UpdateVariant("v-new", VariantPatch{Price: &price}, now)
	if err != nil || !ch.Changed || !ch.PriceChanged() || ch.Before.Price != 500 || p.PriceFrom() != 8999 || p.Version != 3 {
		t.Fatalf("update price: %v %+v price_from=%d version=%d", err, ch, p.PriceFrom(), p.Version)
	}
	ch, _ = p.UpdateVariant("v-new", VariantPatch{Price: &price}, now)
	if ch.Changed || p.Version != 3 {
		t.Fatalf("same price again changed the product: %+v version=%d", ch, p.Version)
	}
	a := map[string]string{"size": "44"}
	if ch, _ := p.UpdateVariant("v-new", VariantPatch{Attributes: &a}, now); !ch.Changed || ch.PriceChanged() {
		t.Fatalf("attributes: %+v", ch)
	}
	if _, err := p.UpdateVariant("nope", VariantPatch{}, now); !errors.Is(err, api.ErrVariantNotFound) {
		t.Fatalf("unknown variant: %v", err)
	}
	full := Product{Variants: make([]Variant, MaxVariants)}
	if _, err := full.AddVariant("x", api.NewVariant{SKU: "X", Title: "x"}, now); !errors.Is(err, ErrTooManyVariants) {
		t.Fatalf("101st variant: %v", err)
	}
}

func TestProductEvent(t *testing.T) {
	t.Parallel()
	d, p, a := api.StatusDraft, api.StatusPublished, api.StatusArchived
	cases := []struct {
		before, after api.Status
		created       bool
		want          EventKind
	}{
		{"", p, true, EventPublished},
		{"", d, true, EventUpdated},
		{d, p, false, EventPublished},
		{p, p, false, EventUpdated},
		{p, d, false, EventUpdated},
		{p, a, false, EventArchived},
		{d, a, false, EventArchived},
		{a, d, false, EventUpdated},
		{a, a, false, EventUpdated},
	}
	for _, c := range cases {
		if got := ProductEvent(c.before, c.after, c.created); got != c.want {
			t.Errorf("%q -> %q (created %v): %v, want %v", c.before, c.after, c.created, got, c.want)
		}
	}
}

func TestNewCategory(t *testing.T) {
	t.Parallel()
	root, err := NewCategory("r", api.NewCategory{Slug: "shoes", Name: "Shoes"}, nil)
	if err != nil || root.ParentID != nil || strings.Join(root.Path, "/") != "r" {
		t.Fatalf("root: %v %+v", err, root)
	}
	child, err := NewCategory("c", api.NewCategory{Slug: "running", Name: "Running"}, &root)
	if err != nil || *child.ParentID != "r" || strings.Join(child.Path, "/") != "r/c" {
		t.Fatalf("child: %v %+v", err, child)
	}
	deep := Category{ID: "d", Path: make([]string, MaxCategoryDepth)}
	if got := fieldsOf(t, func() error { _, err := NewCategory("x", api.NewCategory{Slug: "x", Name: "X"}, &deep); return err }()); len(got) != 1 || got[0] != "parent_id" {
		t.Fatalf("too deep: fields %v", got)
	}
	if got := fieldsOf(t, ValidateNewCategory(api.NewCategory{Slug: "Bad!", Name: ""})); strings.Join(got, ",") != "slug,name" {
		t.Fatalf("fields %v", got)
	}
}

func TestSnapshot(t *testing.T) {
	t.Parallel()
	p := newTestProduct()
	s := p.Snapshot("EUR", []string{"root", "leaf"})
	if s.ProductID != p.ID || s.Version != 1 || len(s.Variants) != 2 || s.Variants[1].Price != (api.Money{Amount: 8999, Currency: "EUR"}) ||
		strings.Join(s.CategoryPath, "/") != "root/leaf" {
		t.Fatalf("snapshot %+v", s)
	}
}
