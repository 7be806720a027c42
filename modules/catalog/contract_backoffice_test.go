package catalog_test

import (
	"context"
	"net/http"
	"testing"

	"go.uber.org/fx"

	"github.com/modshop/modshop/modules/catalog"
	"github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/modules/inventory"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/remote"
	"github.com/modshop/modshop/platform/testkit"
)

// The contract of api.BackOffice, in process (as fx provides it) and
// through the HTTP client; every answer is compared with what the catalog
// reads back.
func TestContractBackOffice(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		t.Run("local", func(t *testing.T) {
			var bo api.BackOffice
			e := startWith(t, db, inventory.Module, nil, fx.Populate(&bo))
			backOfficeContract(t, e, bo)
		})
		t.Run("http", func(t *testing.T) {
			e := start(t, testkit.Fresh(t, db))
			backOfficeContract(t, e, catalog.NewClient(remote.NewClient(catalog.Name, e.URL, internalToken)))
		})
	})
}

func backOfficeContract(t *testing.T, e *env, bo api.BackOffice) {
	ctx := context.Background()
	cat, err := e.adm.CreateCategory(ctx, api.NewCategory{Slug: "tools", Name: "Tools"})
	if err != nil {
		t.Fatalf("category: %v", err)
	}
	mk := func(slug string, status api.Status) api.Product {
		p, err := e.adm.CreateProduct(ctx, api.NewProduct{Slug: slug, Title: slug, Status: status,
			Variants: []api.NewVariant{{SKU: "SKU-" + slug, Title: "One", Price: 1000}}})
		if err != nil {
			t.Fatalf("create %s: %v", slug, err)
		}
		return p
	}
	draft := mk("bo-draft", api.StatusDraft)
	pub := mk("bo-pub", api.StatusPublished)
	gone := mk("bo-gone", api.StatusPublished)

	// ArchiveProduct, twice: the second changes nothing.
	for range 2 {
		if err := bo.ArchiveProduct(ctx, gone.ID); err != nil {
			t.Fatalf("archive: %v", err)
		}
	}
	if p, _ := e.catalog.Product(ctx, gone.ID); p.Status != api.StatusArchived {
		t.Fatalf("archived product has status %s", p.Status)
	}
	wantErr(t, "archive an unknown product", bo.ArchiveProduct(ctx, "no-such-id"), api.ErrProductNotFound, http.StatusNotFound)

	// AdminProducts: every status, newest first, a page at a time.
	first, err := bo.AdminProducts(ctx, api.AdminProductQuery{Limit: 2})
	if err != nil || len(first.Products) != 2 || first.Next == "" || first.Products[0].ID != gone.ID || first.Products[1].ID != pub.ID {
		t.Fatalf("first page: %+v %v", first, err)
	}
	rest, err := bo.AdminProducts(ctx, api.AdminProductQuery{Limit: 2, Cursor: first.Next})
	if err != nil || len(rest.Products) != 1 || rest.Next != "" || !sameProduct(rest.Products[0], draft) {
		t.Fatalf("second page: %+v %v", rest, err)
	}
	drafts, err := bo.AdminProducts(ctx, api.AdminProductQuery{Status: api.StatusDraft})
	if err != nil || len(drafts.Products) != 1 || drafts.Products[0].ID != draft.ID {
		t.Fatalf("drafts: %+v %v", drafts, err)
	}
	archived, err := bo.AdminProducts(ctx, api.AdminProductQuery{Status: api.StatusArchived})
	if err != nil || len(archived.Products) != 1 || archived.Products[0].ID != gone.ID {
		t.Fatalf("archived: %+v %v", archived, err)
	}
	wantFields(t, "bad query", second(bo.AdminProducts(ctx, api.AdminProductQuery{Status: "sold", Limit: 1000, Cursor: "??"})),
		"limit", "status", "cursor")

	// UpdateProduct: the fields set change, the others stay.
	title, published := "Renamed", api.StatusPublished
	got, err := bo.UpdateProduct(ctx, draft.ID, api.ProductPatch{Title: &title, Status: &published, SetCategory: true, CategoryID: &cat.ID})
	if err != nil || got.Title != "Renamed" || got.Status != api.StatusPublished || got.CategoryID == nil || *got.CategoryID != cat.ID ||
		got.Slug != draft.Slug || got.Version != draft.Version+1 {
		t.Fatalf("update: %+v %v", got, err)
	}
	sameAsStored(t, e, got)
	if got, err = bo.UpdateProduct(ctx, draft.ID, api.ProductPatch{SetCategory: true}); err != nil || got.CategoryID != nil {
		t.Fatalf("remove the category: %+v %v", got, err)
	}
	taken, empty := pub.Slug, ""
	wantErr(t, "slug of another product", second(bo.UpdateProduct(ctx, draft.ID, api.ProductPatch{Slug: &taken})), api.ErrSlugTaken, http.StatusConflict)
	wantFields(t, "empty title", second(bo.UpdateProduct(ctx, draft.ID, api.ProductPatch{Title: &empty})), "title")
	if e := errs.As(second(bo.UpdateProduct(ctx, gone.ID, api.ProductPatch{Status: &published}))); e == nil || e.Kind.Status() != http.StatusConflict {
		t.Fatalf("archived -> published: %v, want a 409", e)
	}
	wantErr(t, "update an unknown product", second(bo.UpdateProduct(ctx, "no-such-id", api.ProductPatch{Title: &title})), api.ErrProductNotFound, http.StatusNotFound)

	// AddVariant and UpdateVariant.
	withTwo, err := bo.AddVariant(ctx, pub.ID, api.NewVariant{SKU: "SKU-bo-pub-2", Title: "Two", Price: 2500})
	if err != nil || len(withTwo.Variants) != 2 || withTwo.Variants[1].SKU != "SKU-bo-pub-2" || withTwo.Variants[1].Price.Amount != 2500 {
		t.Fatalf("add variant: %+v %v", withTwo, err)
	}
	sameAsStored(t, e, withTwo)
	wantErr(t, "variant with a taken SKU", second(bo.AddVariant(ctx, pub.ID, api.NewVariant{SKU: "SKU-bo-draft", Title: "x", Price: 1})),
		api.ErrSKUTaken, http.StatusConflict)
	wantFields(t, "variant with a negative price", second(bo.AddVariant(ctx, pub.ID, api.NewVariant{SKU: "NEG", Title: "x", Price: -1})), "price")
	price, vtitle := int64(1999), "One, renamed"
	v, err := bo.UpdateVariant(ctx, withTwo.Variants[0].ID, api.VariantPatch{Price: &price, Title: &vtitle})
	if err != nil || v.Price.Amount != 1999 || v.Title != vtitle || v.SKU != "SKU-bo-pub" {
		t.Fatalf("update variant: %+v %v", v, err)
	}
	if p, _ := e.catalog.Product(ctx, pub.ID); p.Variants[0].Price.Amount != 1999 || p.Variants[1].Price.Amount != 2500 {
		t.Fatalf("stored after the price change: %+v", p.Variants)
	}
	negative := int64(-5)
	wantFields(t, "negative price", second(bo.UpdateVariant(ctx, v.ID, api.VariantPatch{Price: &negative})), "price")
	wantErr(t, "update an unknown variant", second(bo.UpdateVariant(ctx, "no-such-id", api.VariantPatch{Price: &price})),
		api.ErrVariantNotFound, http.StatusNotFound)
}
