package catalog_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/modshop/modshop/platform/testkit"
)

// TestHTTP drives every catalog route through a real HTTP server, on SQLite
// and (when MODSHOP_TEST_POSTGRES_URL is set) on PostgreSQL, covering each
// status and problem code the contract names.
func TestHTTP(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		t.Parallel()
		e := start(t, db)
		shoes := e.createCategory("shoes", nil)
		running := e.createCategory("running", &shoes)

		t.Run("categories", func(t *testing.T) { testCategories(t, e, shoes, running) })
		t.Run("create product", func(t *testing.T) { testCreateProduct(t, e, running) })
		t.Run("request errors", func(t *testing.T) { testRequestErrors(t, e) })
		t.Run("access", func(t *testing.T) { testAccess(t, e) })
		t.Run("public reads", func(t *testing.T) { testPublicReads(t, e) })
		t.Run("admin list", func(t *testing.T) { testAdminList(t, e) })
		t.Run("update product", func(t *testing.T) { testUpdateProduct(t, e, shoes) })
		t.Run("archive", func(t *testing.T) { testArchive(t, e) })
		t.Run("variants", func(t *testing.T) { testVariants(t, e) })
		t.Run("list query errors", func(t *testing.T) { testListQueryErrors(t, e) })
		t.Run("openapi", func(t *testing.T) { testOpenAPI(t, e) })
		t.Run("concurrent creates", func(t *testing.T) { testConcurrentCreates(t, e) })
	})
}

func testCategories(t *testing.T, e *env, shoes, running category) {
	if running.ParentID == nil || *running.ParentID != shoes.ID || shoes.ParentID != nil {
		t.Fatalf("parents: shoes %+v running %+v", shoes, running)
	}
	var list struct{ Items []category }
	testkit.Expect(t, e.Get("/v1/categories", ""), http.StatusOK).JSON(t, &list)
	if len(list.Items) < 2 || list.Items[0].ID != shoes.ID {
		t.Fatalf("categories %+v: want parents first", list.Items)
	}
	testkit.ExpectProblem(t, e.Post("/v1/admin/categories", e.admin, map[string]any{"slug": "shoes", "name": "Again"}), 409, "slug_taken")
	r := e.Post("/v1/admin/categories", e.admin, map[string]any{"slug": "x", "name": "X", "parent_id": "no-such-id"})
	testkit.ExpectProblem(t, r, 422, "validation_failed")
	expectFields(t, r, "parent_id")
	r = e.Post("/v1/admin/categories", e.admin, map[string]any{"slug": "Bad Slug", "name": ""})
	testkit.ExpectProblem(t, r, 422, "validation_failed")
	expectFields(t, r, "slug", "name")
}

func testCreateProduct(t *testing.T, e *env, running category) {
	body := newProduct("road-runner", "published", 12999, 9999)
	body["category_id"] = running.ID
	r := testkit.Expect(t, e.Post("/v1/admin/products", e.admin, body), http.StatusCreated)
	var p product
	r.JSON(t, &p)
	if p.ID == "" || p.Slug != "road-runner" || p.Status != "published" || p.CategoryID == nil || *p.CategoryID != running.ID {
		t.Fatalf("created %+v", p)
	}
	if len(p.Variants) != 2 || p.Variants[1].Price != (money{9999, "EUR"}) || p.Variants[0].Attributes["size"] != "40" {
		t.Fatalf("variants %+v", p.Variants)
	}
	if p.Variants[0].Available != 0 || p.Variants[0].InStock {
		t.Errorf("a new SKU has no stock: %+v", p.Variants[0])
	}
	if p.CreatedAt.IsZero() || p.CreatedAt.Location().String() != "UTC" {
		t.Errorf("created_at %v", p.CreatedAt)
	}
	for _, k := range []string{"id", "slug", "title", "description", "category_id", "status", "variants", "created_at", "updated_at"} {
		if !keys(t, r.Body)[k] {
			t.Errorf("product JSON lacks %q: %s", k, r.Body)
		}
	}
	var raw struct{ Variants []json.RawMessage }
	r.JSON(t, &raw)
	for _, k := range []string{"id", "sku", "title", "price", "attributes", "available", "in_stock"} {
		if !keys(t, raw.Variants[0])[k] {
			t.Errorf("variant JSON lacks %q: %s", k, raw.Variants[0])
		}
	}

	// A product without attributes shows {} and starts as a draft.
	minimal := map[string]any{"slug": "minimal", "title": "Minimal", "variants": []map[string]any{{"sku": "MIN-1", "title": "One", "price": 0}}}
	var m product
	testkit.Expect(t, e.Post("/v1/admin/products", e.admin, minimal), http.StatusCreated).JSON(t, &m)
	if m.Status != "draft" || m.Variants[0].Attributes == nil || m.CategoryID != nil {
		t.Errorf("minimal product %+v", m)
	}

	dupSlug := newProduct("road-runner", "draft", 100)
	dupSlug["variants"].([]map[string]any)[0]["sku"] = "FRESH-SKU"
	testkit.ExpectProblem(t, e.Post("/v1/admin/products", e.admin, dupSlug), 409, "slug_taken")
	takenSKU := newProduct("other-runner", "draft", 100)
	takenSKU["variants"].([]map[string]any)[0]["sku"] = "road-runner-1"
	testkit.ExpectProblem(t, e.Post("/v1/admin/products", e.admin, takenSKU), 409, "sku_taken")
	twice := newProduct("twice", "draft", 100, 200)
	twice["variants"].([]map[string]any)[1]["sku"] = "twice-0"
	testkit.ExpectProblem(t, e.Post("/v1/admin/products", e.admin, twice), 409, "sku_taken")
	if r := e.Get("/v1/admin/products?limit=100", e.admin); strings.Contains(string(r.Body), "other-runner") || strings.Contains(string(r.Body), `"twice"`) {
		t.Errorf("a refused product was stored")
	}

	bad := newProduct("bad", "draft", 1, 2, 3)
	bad["variants"].([]map[string]any)[2]["sku"] = "has space"
	bad["variants"].([]map[string]any)[0]["price"] = 1_000_000_001
	bad["title"] = strings.Repeat("t", 201)
	r = e.Post("/v1/admin/products", e.admin, bad)
	testkit.ExpectProblem(t, r, 422, "validation_failed")
	expectFields(t, r, "title", "variants[0].price", "variants[2].sku")

	noCat := newProduct("no-cat", "draft", 1)
	noCat["category_id"] = "no-such-category"
	r = e.Post("/v1/admin/products", e.admin, noCat)
	testkit.ExpectProblem(t, r, 422, "validation_failed")
	expectFields(t, r, "category_id")

	r = e.Post("/v1/admin/products", e.admin, map[string]any{"slug": "empty", "title": "Empty", "variants": []any{}})
	testkit.ExpectProblem(t, r, 422, "validation_failed")
	expectFields(t, r, "variants")
}

func testRequestErrors(t *testing.T, e *env) {
	post := func(body string, ctype string) testkit.Response {
		req := testkit.Req{Method: http.MethodPost, Path: "/v1/admin/products", Token: e.admin, Body: body}
		if ctype != "" {
			req.Header = map[string]string{"Content-Type": ctype}
		}
		return e.Do(req)
	}
	testkit.ExpectProblem(t, post(`{"slug": "x",`, ""), 400, "bad_request")
	testkit.ExpectProblem(t, post(`{"slug": "x", "colour": "red"}`, ""), 400, "bad_request")
	testkit.ExpectProblem(t, post(`{"slug": 12}`, ""), 400, "bad_request")
	testkit.ExpectProblem(t, post(`{"slug": "x", "variants": [{"sku": "A", "price": "12"}]}`, ""), 400, "bad_request")
	testkit.ExpectProblem(t, post(`{"slug": "x", "variants": [{"sku": "A", "price": 12.5}]}`, ""), 400, "bad_request")
	testkit.ExpectProblem(t, post(`{} {}`, ""), 400, "bad_request")
	testkit.ExpectProblem(t, post(`{"slug": "x"}`, "text/plain"), 415, "unsupported_media_type")
	testkit.ExpectProblem(t, e.Do(testkit.Req{Method: http.MethodPost, Path: "/v1/admin/products", Token: e.admin, Body: `{}`, NoCType: true}),
		415, "unsupported_media_type")
	huge := `{"slug": "big", "title": "Big", "description": "` + strings.Repeat("x", 1<<20+10) + `", "variants": []}`
	testkit.ExpectProblem(t, post(huge, ""), 413, "payload_too_large")
	// Every body-taking route binds strictly.
	for _, r := range []testkit.Req{
		{Method: http.MethodPost, Path: "/v1/admin/categories"},
		{Method: http.MethodPatch, Path: "/v1/admin/products/some-id"},
		{Method: http.MethodPost, Path: "/v1/admin/products/some-id/variants"},
		{Method: http.MethodPatch, Path: "/v1/admin/variants/some-id"},
	} {
		r.Token, r.Body = e.admin, `{"nope": 1}`
		testkit.ExpectProblem(t, e.Do(r), 400, "bad_request")
	}
	testkit.ExpectProblem(t, e.patch("/v1/admin/products/some-id", map[string]any{"category_id": 5}), 400, "bad_request")
}

func testAccess(t *testing.T, e *env) {
	admin := []testkit.Req{
		{Method: http.MethodPost, Path: "/v1/admin/categories", Body: map[string]any{"slug": "a", "name": "A"}},
		{Method: http.MethodGet, Path: "/v1/admin/products"},
		{Method: http.MethodGet, Path: "/v1/admin/products/x"},
		{Method: http.MethodPost, Path: "/v1/admin/products", Body: newProduct("a", "draft", 1)},
		{Method: http.MethodPatch, Path: "/v1/admin/products/x", Body: map[string]any{}},
		{Method: http.MethodDelete, Path: "/v1/admin/products/x"},
		{Method: http.MethodPost, Path: "/v1/admin/products/x/variants", Body: map[string]any{}},
		{Method: http.MethodPatch, Path: "/v1/admin/variants/x", Body: map[string]any{}},
	}
	for _, r := range admin {
		r.Token = ""
		testkit.ExpectProblem(t, e.Do(r), 401, "unauthorized")
		r.Token = "not-a-token"
		testkit.ExpectProblem(t, e.Do(r), 401, "unauthorized")
		r.Token = e.customerToken()
		testkit.ExpectProblem(t, e.Do(r), 403, "forbidden")
	}
	// Public routes ignore a token, even a bad one.
	testkit.Expect(t, e.Get("/v1/products", "not-a-token"), http.StatusOK)
	testkit.Expect(t, e.Get("/v1/categories", e.customerToken()), http.StatusOK)
}

func testPublicReads(t *testing.T, e *env) {
	pub := e.createProduct(newProduct("visible", "published", 500))
	draft := e.createProduct(newProduct("hidden", "draft", 500))
	var got product
	testkit.Expect(t, e.Get("/v1/products/"+pub.ID, ""), http.StatusOK).JSON(t, &got)
	if got.ID != pub.ID || got.Slug != "visible" {
		t.Fatalf("by id: %+v", got)
	}
	testkit.Expect(t, e.Get("/v1/products/visible", ""), http.StatusOK).JSON(t, &got)
	if got.ID != pub.ID {
		t.Fatalf("by slug: %+v", got)
	}
	testkit.ExpectProblem(t, e.Get("/v1/products/"+draft.ID, ""), 404, "not_found")
	testkit.ExpectProblem(t, e.Get("/v1/products/hidden", ""), 404, "not_found")
	testkit.ExpectProblem(t, e.Get("/v1/products/no-such-product", ""), 404, "not_found")
	// The admin sees the draft.
	testkit.Expect(t, e.Get("/v1/admin/products/"+draft.ID, e.admin), http.StatusOK).JSON(t, &got)
	if got.Status != "draft" {
		t.Fatalf("admin read of the draft: %+v", got)
	}
	testkit.ExpectProblem(t, e.Get("/v1/admin/products/no-such-product", e.admin), 404, "not_found")
	l := e.list("/v1/products?limit=100")
	for _, p := range l.Items {
		if p.Status != "published" {
			t.Errorf("public list shows a %s product %s", p.Status, p.Slug)
		}
		if p.ID == draft.ID {
			t.Errorf("public list shows the draft")
		}
	}
}

func testAdminList(t *testing.T, e *env) {
	d := e.createProduct(newProduct("admin-list-draft", "draft", 5))
	var all, drafts productList
	testkit.Expect(t, e.Get("/v1/admin/products?limit=100", e.admin), http.StatusOK).JSON(t, &all)
	testkit.Expect(t, e.Get("/v1/admin/products?status=draft&limit=100", e.admin), http.StatusOK).JSON(t, &drafts)
	if len(all.Items) == 0 || all.Items[0].ID != d.ID {
		t.Fatalf("admin list is newest first with every status; first is %+v", all.Items[0])
	}
	statuses := map[string]bool{}
	for _, p := range all.Items {
		statuses[p.Status] = true
	}
	if !statuses["draft"] || !statuses["published"] {
		t.Errorf("admin list statuses %v, want drafts and published", statuses)
	}
	for _, p := range drafts.Items {
		if p.Status != "draft" {
			t.Errorf("status=draft listed a %s product", p.Status)
		}
	}
	// Pages of one follow each other without repeats.
	var page productList
	testkit.Expect(t, e.Get("/v1/admin/products?limit=1", e.admin), http.StatusOK).JSON(t, &page)
	if page.NextCursor == nil {
		t.Fatal("no next_cursor on a full page")
	}
	var page2 productList
	testkit.Expect(t, e.Get("/v1/admin/products?limit=1&cursor="+*page.NextCursor, e.admin), http.StatusOK).JSON(t, &page2)
	if len(page2.Items) != 1 || page2.Items[0].ID == page.Items[0].ID || page2.Items[0].ID != all.Items[1].ID {
		t.Errorf("second page %+v", page2.Items)
	}
	r := e.Get("/v1/admin/products?status=sold", e.admin)
	testkit.ExpectProblem(t, r, 422, "validation_failed")
	expectFields(t, r, "status")
	r = e.Get("/v1/admin/products?cursor=nonsense", e.admin)
	testkit.ExpectProblem(t, r, 422, "validation_failed")
	expectFields(t, r, "cursor")
}

func testUpdateProduct(t *testing.T, e *env, shoes category) {
	p := e.createProduct(newProduct("to-change", "draft", 700))
	path := "/v1/admin/products/" + p.ID
	var got product
	testkit.Expect(t, e.patch(path, map[string]any{"title": "Changed", "status": "published", "category_id": shoes.ID}), http.StatusOK).JSON(t, &got)
	if got.Title != "Changed" || got.Status != "published" || got.CategoryID == nil || *got.CategoryID != shoes.ID ||
		got.Slug != "to-change" || got.Description != p.Description || !got.UpdatedAt.After(p.UpdatedAt) {
		t.Fatalf("patched %+v", got)
	}
	testkit.Expect(t, e.Get("/v1/products/to-change", ""), http.StatusOK)
	// null removes the category; a member left out stays as it is.
	testkit.Expect(t, e.patch(path, map[string]any{"category_id": nil}), http.StatusOK).JSON(t, &got)
	if got.CategoryID != nil || got.Title != "Changed" {
		t.Fatalf("after category null: %+v", got)
	}
	testkit.Expect(t, e.patch(path, map[string]any{"slug": "changed-slug"}), http.StatusOK).JSON(t, &got)
	testkit.Expect(t, e.Get("/v1/products/changed-slug", ""), http.StatusOK)
	testkit.ExpectProblem(t, e.Get("/v1/products/to-change", ""), 404, "not_found")

	e.createProduct(newProduct("taken-slug", "draft", 1))
	testkit.ExpectProblem(t, e.patch(path, map[string]any{"slug": "taken-slug"}), 409, "slug_taken")
	r := e.patch(path, map[string]any{"slug": "Not OK", "title": "", "description": strings.Repeat("d", 10_001), "status": "sold", "category_id": "nope"})
	testkit.ExpectProblem(t, r, 422, "validation_failed")
	expectFields(t, r, "slug", "title", "description", "status")
	r = e.patch(path, map[string]any{"category_id": "no-such-category"})
	testkit.ExpectProblem(t, r, 422, "validation_failed")
	expectFields(t, r, "category_id")
	testkit.ExpectProblem(t, e.patch("/v1/admin/products/no-such-product", map[string]any{"title": "x"}), 404, "not_found")

	testkit.Expect(t, e.patch(path, map[string]any{"status": "archived"}), http.StatusOK)
	testkit.ExpectProblem(t, e.patch(path, map[string]any{"status": "published"}), 409, "invalid_state")
	testkit.Expect(t, e.patch(path, map[string]any{"status": "draft"}), http.StatusOK).JSON(t, &got)
	if got.Status != "draft" {
		t.Fatalf("restored to %s", got.Status)
	}
}

func testArchive(t *testing.T, e *env) {
	p := e.createProduct(newProduct("to-archive", "published", 300))
	del := func(id string) testkit.Response {
		return e.Do(testkit.Req{Method: http.MethodDelete, Path: "/v1/admin/products/" + id, Token: e.admin})
	}
	r := testkit.Expect(t, del(p.ID), http.StatusNoContent)
	if len(r.Body) != 0 {
		t.Errorf("204 with a body: %s", r.Body)
	}
	testkit.ExpectProblem(t, e.Get("/v1/products/"+p.ID, ""), 404, "not_found")
	var got product
	testkit.Expect(t, e.Get("/v1/admin/products/"+p.ID, e.admin), http.StatusOK).JSON(t, &got)
	if got.Status != "archived" {
		t.Fatalf("after DELETE the product is %s, want archived", got.Status)
	}
	testkit.Expect(t, del(p.ID), http.StatusNoContent) // archiving twice is fine
	testkit.ExpectProblem(t, del("no-such-product"), 404, "not_found")
}

func testVariants(t *testing.T, e *env) {
	p := e.createProduct(newProduct("with-variants", "published", 5000))
	add := func(id string, body any) testkit.Response {
		return e.Post("/v1/admin/products/"+id+"/variants", e.admin, body)
	}
	var got product
	r := testkit.Expect(t, add(p.ID, map[string]any{"sku": "WV-NEW", "title": "New", "price": 4000, "attributes": map[string]string{"colour": "red"}}), http.StatusCreated)
	r.JSON(t, &got)
	if len(got.Variants) != 2 || got.Variants[1].SKU != "WV-NEW" || got.Variants[1].Attributes["colour"] != "red" {
		t.Fatalf("after adding a variant: %+v", got)
	}
	testkit.ExpectProblem(t, add(p.ID, map[string]any{"sku": "WV-NEW", "title": "Again", "price": 1}), 409, "sku_taken")
	testkit.ExpectProblem(t, add(p.ID, map[string]any{"sku": "with-variants-0", "title": "Again", "price": 1}), 409, "sku_taken")
	testkit.ExpectProblem(t, add("no-such-product", map[string]any{"sku": "ZZ", "title": "Z", "price": 1}), 404, "not_found")
	r = add(p.ID, map[string]any{"sku": "", "title": "", "price": -1})
	testkit.ExpectProblem(t, r, 422, "validation_failed")
	expectFields(t, r, "sku", "title", "price")

	// The new variant is the cheapest: the price filter sees it.
	l := e.list("/v1/products?max_price=4000&limit=100")
	if !containsID(l.Items, p.ID) {
		t.Errorf("price_from did not follow the new variant")
	}

	vid := got.Variants[1].ID
	var v variant
	testkit.Expect(t, e.patch("/v1/admin/variants/"+vid, map[string]any{"price": 6000, "title": "Renamed", "attributes": map[string]string{"colour": "blue"}}), http.StatusOK).JSON(t, &v)
	if v.ID != vid || v.Price.Amount != 6000 || v.Title != "Renamed" || v.Attributes["colour"] != "blue" || v.SKU != "WV-NEW" {
		t.Fatalf("patched variant %+v", v)
	}
	if l := e.list("/v1/products?max_price=4999&limit=100"); containsID(l.Items, p.ID) {
		t.Errorf("price_from did not follow the price change")
	}
	testkit.ExpectProblem(t, e.patch("/v1/admin/variants/no-such-variant", map[string]any{"price": 1}), 404, "not_found")
	r = e.patch("/v1/admin/variants/"+vid, map[string]any{"price": 1_000_000_001, "title": ""})
	testkit.ExpectProblem(t, r, 422, "validation_failed")
	expectFields(t, r, "title", "price")
}

func testListQueryErrors(t *testing.T, e *env) {
	cases := map[string]string{
		"limit=0":                     "limit",
		"limit=101":                   "limit",
		"limit=ten":                   "limit",
		"sort=cheapest":               "sort",
		"min_price=-1":                "min_price",
		"max_price=1000000001":        "max_price",
		"max_price=abc":               "max_price",
		"min_price=500&max_price=100": "min_price",
		"cursor=garbage!":             "cursor",
		"cursor=eyJzIjoibmV3ZXN0In0":  "cursor", // {"s":"newest"}: no id
		"sort=title&cursor=" + cursorOf(t, e, "newest"): "cursor",
	}
	for q, field := range cases {
		r := e.Get("/v1/products?"+q, "")
		testkit.ExpectProblem(t, r, 422, "validation_failed")
		expectFields(t, r, field)
	}
	for _, q := range []string{"limit=1", "limit=100", "min_price=0", "max_price=1000000000", "sort=price_desc", "category=no-such-category"} {
		testkit.Expect(t, e.Get("/v1/products?"+q, ""), http.StatusOK)
	}
	if l := e.list("/v1/products?category=no-such-category"); len(l.Items) != 0 || l.NextCursor != nil {
		t.Errorf("an unknown category lists %d products", len(l.Items))
	}
}

// cursorOf is a real cursor of the first page in a sort.
func cursorOf(t *testing.T, e *env, sort string) string {
	l := e.list("/v1/products?limit=1&sort=" + sort)
	if l.NextCursor == nil {
		t.Fatal("need two published products for a cursor")
	}
	return *l.NextCursor
}

func testOpenAPI(t *testing.T, e *env) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage
	}
	testkit.Expect(t, e.Get("/openapi.json", ""), http.StatusOK).JSON(t, &doc)
	want := map[string][]string{
		"/v1/categories":                   {"get"},
		"/v1/products":                     {"get"},
		"/v1/products/{id-or-slug}":        {"get"},
		"/v1/admin/categories":             {"post"},
		"/v1/admin/products":               {"get", "post"},
		"/v1/admin/products/{id}":          {"get", "patch", "delete"},
		"/v1/admin/products/{id}/variants": {"post"},
		"/v1/admin/variants/{id}":          {"patch"},
	}
	for path, methods := range want {
		for _, m := range methods {
			if _, ok := doc.Paths[path][m]; !ok {
				t.Errorf("openapi.json lacks %s %s", m, path)
			}
		}
	}
	var schemas struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Type any `json:"type"`
				} `json:"properties"`
				Required []string `json:"required"`
			} `json:"schemas"`
		} `json:"components"`
	}
	testkit.Expect(t, e.Get("/openapi.json", ""), http.StatusOK).JSON(t, &schemas)
	patch, ok := schemas.Components.Schemas["ProductPatch"]
	if !ok {
		t.Fatal("openapi.json has no ProductPatch schema")
	}
	if got := fmt.Sprint(patch.Properties["category_id"].Type); got != "[string null]" || len(patch.Required) != 0 {
		t.Errorf("ProductPatch: category_id type %s, required %v; want a nullable string and nothing required", got, patch.Required)
	}
}

// testConcurrentCreates races creates of one slug and of one SKU: the
// unique constraints, not a check before the insert, decide, so exactly one
// of each wins.
func testConcurrentCreates(t *testing.T, e *env) {
	const n = 8
	race := func(body func(i int) map[string]any) map[int]int {
		statuses := make(chan int, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses <- e.Post("/v1/admin/products", e.admin, body(i)).Status
			}()
		}
		wg.Wait()
		close(statuses)
		count := map[int]int{}
		for s := range statuses {
			count[s]++
		}
		return count
	}
	sameSlug := race(func(i int) map[string]any {
		b := newProduct("contended", "published", 100)
		b["variants"].([]map[string]any)[0]["sku"] = fmt.Sprintf("CONTENDED-%d", i)
		return b
	})
	sameSKU := race(func(i int) map[string]any {
		b := newProduct(fmt.Sprintf("sku-race-%d", i), "published", 100)
		b["variants"].([]map[string]any)[0]["sku"] = "RACED-SKU"
		return b
	})
	for name, got := range map[string]map[int]int{"slug": sameSlug, "SKU": sameSKU} {
		if got[http.StatusCreated] != 1 || got[http.StatusConflict] != n-1 {
			t.Errorf("%d creates with one %s: statuses %v, want one 201 and %d 409", n, name, got, n-1)
		}
	}
}

func containsID(ps []product, id string) bool {
	for _, p := range ps {
		if p.ID == id {
			return true
		}
	}
	return false
}

// expectFields checks that a 422 names exactly these fields.
func expectFields(t *testing.T, r testkit.Response, fields ...string) {
	t.Helper()
	var p struct {
		Errors []struct{ Field, Message string }
	}
	r.JSON(t, &p)
	got := map[string]bool{}
	for _, f := range p.Errors {
		got[f.Field] = true
		if f.Message == "" {
			t.Errorf("field %s has no message", f.Field)
		}
	}
	for _, f := range fields {
		if !got[f] {
			t.Errorf("errors %+v lack field %q", p.Errors, f)
		}
	}
	if len(got) != len(fields) {
		t.Errorf("errors %+v, want exactly %v", p.Errors, fields)
	}
}
