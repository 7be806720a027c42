package web_test

import (
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/modshop/modshop/platform/testkit"
)

// The browsing pages against the demo catalog: what a shopper sees, in the
// order the shop gives it.
func TestStorefront(t *testing.T) {
	shop := startShop(t, testkit.Options{})
	b := newBrowser(t, shop)

	t.Run("home lists the categories and the newest products", func(t *testing.T) {
		p := b.get("/").expect(t, 200).contains(t,
			`href="/categories/shoes">Shoes</a>`, `href="/categories/knitwear">Knitwear</a>`,
			`href="/products/leather-boots">Leather Boots</a>`, `href="/products/cotton-scarf">Cotton Scarf</a>`,
			`href="/products/wool-sweater">Wool Sweater</a>`, `href="/products/running-shoes">Running Shoes</a>`,
			"€129.00", "€19.00", "In stock")
		// Newest first: the scarf was made last.
		before(t, p, "/products/cotton-scarf", "/products/leather-boots")
		if n := strings.Count(p.Body, `class="card product-card"`); n != 4 {
			t.Fatalf("%d product cards, want 4", n)
		}
	})

	t.Run("category sorts by price both ways", func(t *testing.T) {
		p := b.get("/categories/knitwear?sort=price_asc").expect(t, 200).contains(t, "<h1>Knitwear</h1>",
			`<option value="price_asc" selected>`, `id="filters"`, `<label for="min_price">`, `<label for="max_price">`, `<label for="sort">`)
		before(t, p, "/products/cotton-scarf", "/products/wool-sweater")
		if strings.Contains(p.Body, "/products/leather-boots") {
			t.Fatal("a shoe in knitwear")
		}
		p = b.get("/categories/knitwear?sort=price_desc").expect(t, 200)
		before(t, p, "/products/wool-sweater", "/products/cotton-scarf")
	})

	t.Run("category filters by price in the shop currency", func(t *testing.T) {
		p := b.get("/categories/shoes?min_price=100").expect(t, 200).contains(t, "/products/leather-boots", `value="100"`)
		lacks(t, p, "/products/running-shoes")
		p = b.get("/categories/shoes?max_price=89,00").expect(t, 200).contains(t, "/products/running-shoes")
		lacks(t, p, "/products/leather-boots")
		p = b.get("/categories/shoes?min_price=89.01&max_price=128.99").expect(t, 200).contains(t, "No products in this category match")
		lacks(t, p, "/products/running-shoes", "/products/leather-boots")
	})

	t.Run("invalid prices are 422 with the field's message", func(t *testing.T) {
		p := b.get("/categories/shoes?min_price=abc&sort=price_desc").expect(t, 422).contains(t,
			"Lowest price must be an amount such as 25 or 19.99", `value="abc"`, `aria-invalid="true"`, `<option value="price_desc" selected>`)
		lacks(t, p, "/products/leather-boots")
		b.get("/categories/shoes?min_price=50&max_price=20").expect(t, 422).contains(t, "Highest price must not be below the lowest price")
		b.get("/categories/shoes?min_price=-5").expect(t, 422).contains(t, "must be an amount")
		b.get("/categories/shoes?cursor=not-a-cursor").expect(t, 422).contains(t, `start from the <a href="/categories/shoes">first page</a>`)
	})

	t.Run("category lists its subcategories and their products", func(t *testing.T) {
		admin := shop.AdminToken()
		var shoes struct{ Items []struct{ ID, Slug string } }
		testkit.Expect(t, shop.Get("/v1/categories", ""), 200).JSON(t, &shoes)
		parent := ""
		for _, c := range shoes.Items {
			if c.Slug == "shoes" {
				parent = c.ID
			}
		}
		var sandals struct{ ID string }
		testkit.Expect(t, shop.Post("/v1/admin/categories", admin, map[string]any{"slug": "sandals", "name": "Sandals", "parent_id": parent}), 201).JSON(t, &sandals)
		testkit.Expect(t, shop.Post("/v1/admin/products", admin, map[string]any{"slug": "beach-sandals", "title": "Beach Sandals",
			"category_id": sandals.ID, "status": "published", "variants": []map[string]any{{"sku": "SAND-1", "title": "EU 40", "price": 2900}}}), 201)
		b.get("/categories/shoes").expect(t, 200).contains(t, `id="subcategories"`, `href="/categories/sandals">Sandals</a>`,
			"/products/beach-sandals", "/products/leather-boots")
		p := b.get("/categories/sandals").expect(t, 200).contains(t, "<h1>Sandals</h1>", "/products/beach-sandals", "Out of stock")
		lacks(t, p, "/products/leather-boots", `id="subcategories"`)
	})

	t.Run("unknown category and product are 404 pages", func(t *testing.T) {
		b.get("/categories/no-such-category").expect(t, 404).contains(t, "Not found")
		b.get("/products/no-such-product").expect(t, 404).contains(t, "Not found")
		// A draft exists, but not for shoppers.
		admin := shop.AdminToken()
		testkit.Expect(t, shop.Post("/v1/admin/products", admin, map[string]any{"slug": "secret-socks", "title": "Secret Socks",
			"variants": []map[string]any{{"sku": "SOCK-1", "title": "One size", "price": 500}}}), 201)
		b.get("/products/secret-socks").expect(t, 404).contains(t, "Not found")
	})

	t.Run("product page shows each variant's availability", func(t *testing.T) {
		p := b.get("/products/wool-sweater").expect(t, 200).contains(t, "<h1>Wool Sweater</h1>",
			`href="/categories/knitwear"`, "The wool sweater of the demo shop.", "€69.00",
			`<form id="add-to-cart" class="buy" action="/cart/items" method="post">`, `name="csrf" value="`,
			`<label for="quantity">Quantity</label>`, `name="quantity" type="number" min="1" max="100"`,
			`<button type="submit">Add to cart</button>`, `<label for="sku-SWT-M">`, `<label for="sku-SWT-L">`)
		if !regexp.MustCompile(`<input type="radio" name="sku" id="sku-SWT-L" value="SWT-L"[^>]* disabled`).MatchString(p.Body) {
			t.Fatal("the out-of-stock variant can be chosen")
		}
		if !regexp.MustCompile(`<input type="radio" name="sku" id="sku-SWT-M" value="SWT-M" checked required>`).MatchString(p.Body) {
			t.Fatal("the variant in stock is not chosen, or is disabled")
		}
		if !regexp.MustCompile(`id="stock-SWT-L">Out of stock<`).MatchString(p.Body) || !strings.Contains(p.Body, `id="stock-SWT-M">Only 3 left<`) {
			t.Fatal("availability of the variants is not shown")
		}
		b.get("/products/leather-boots").expect(t, 200).contains(t, `id="stock-BOOT-42">In stock<`, `id="stock-BOOT-43">Only 5 left<`, `href="/categories/shoes"`)
	})

	t.Run("search tolerates typos and shows facets", func(t *testing.T) {
		p := b.get("/search?q=lether+boots").expect(t, 200).contains(t, "/products/leather-boots", "1 product found",
			`id="facet-category"`, ">Shoes</a>", `id="facet-stock"`, `id="facet-price"`, "€100.00 to €250.00", `value="lether boots"`)
		lacks(t, p, "/products/wool-sweater")
		// Following the category facet filters by it, and offers to remove it.
		cat := link(t, p, `<a href="(/search\?[^"]*category=shoes[^"]*)">Shoes</a>`)
		p = b.get(cat).expect(t, 200).contains(t, "/products/leather-boots", "Category: Shoes", `id="applied-filters"`)
		remove := link(t, p, `<a href="([^"]*)" aria-label="Remove filter Category: Shoes">`)
		if strings.Contains(remove, "category=") || !strings.Contains(remove, "q=lether+boots") {
			t.Fatalf("the remove link %q", remove)
		}
		// The price facet's band is a filter in the shop currency.
		band := link(t, p, `<a href="(/search\?[^"]*)">€100.00 to €250.00</a>`)
		if !strings.Contains(band, "min_price=100") || !strings.Contains(band, "max_price=249.99") {
			t.Fatalf("price band link %q", band)
		}
		b.get(band).expect(t, 200).contains(t, "/products/leather-boots", "Price: €100.00 to €249.99")
		// Only what is out of stock: nothing here.
		b.get("/search?q=lether+boots&in_stock=false").expect(t, 200).contains(t, "No products match", "Out of stock only")
		// Several results, in the order asked.
		p = b.get("/search?q=shoes&sort=price_asc").expect(t, 200).contains(t, `<option value="price_asc" selected>`)
		before(t, p, "/products/running-shoes", "/products/leather-boots")
	})

	t.Run("search without words or results", func(t *testing.T) {
		b.get("/search").expect(t, 200).contains(t, "Type what you are looking for")
		b.get("/search?q=+++").expect(t, 200).contains(t, "Type what you are looking for")
		b.get("/search?q=xylophone").expect(t, 200).contains(t, "No products match “xylophone”")
		b.get("/search?q=boots&min_price=cheap").expect(t, 422).contains(t, "The lowest price must be an amount such as 25 or 19.99.")
		b.get("/search?q=boots&category=no-such-category").expect(t, 422).contains(t, "The category does not exist in this shop.")
	})

	t.Run("category pages by cursor", func(t *testing.T) {
		admin := shop.AdminToken()
		var cats struct{ Items []struct{ ID, Slug string } }
		testkit.Expect(t, shop.Get("/v1/categories", ""), 200).JSON(t, &cats)
		knitwear := ""
		for _, c := range cats.Items {
			if c.Slug == "knitwear" {
				knitwear = c.ID
			}
		}
		// 24 more knitwear products: 26 in all, more than a page.
		for i := range 24 {
			testkit.Expect(t, shop.Post("/v1/admin/products", admin, map[string]any{
				"slug": fmt.Sprintf("mitten-%02d", i), "title": fmt.Sprintf("Mitten %02d", i), "category_id": knitwear, "status": "published",
				"variants": []map[string]any{{"sku": fmt.Sprintf("MIT-%02d", i), "title": "One size", "price": 2000 + i}}}), 201)
		}
		p := b.get("/categories/knitwear?sort=price_asc").expect(t, 200)
		first := productLinks(p)
		if len(first) != 24 || first[0] != "/products/cotton-scarf" || first[1] != "/products/mitten-00" || first[23] != "/products/mitten-22" {
			t.Fatalf("page 1: %v", first)
		}
		lacks(t, p, `id="first-page"`)
		next := link(t, p, `<a id="next-page" rel="next" href="([^"]+)">Next page</a>`)
		if !strings.Contains(next, "sort=price_asc") || !strings.Contains(next, "cursor=") {
			t.Fatalf("next page link %q keeps not the sort", next)
		}
		p = b.get(next).expect(t, 200)
		if second := productLinks(p); len(second) != 2 || second[0] != "/products/mitten-23" || second[1] != "/products/wool-sweater" {
			t.Fatalf("page 2: %v", second)
		}
		lacks(t, p, `id="next-page"`)
		if firstPage := link(t, p, `<a id="first-page" href="([^"]+)">First page</a>`); firstPage != "/categories/knitwear?sort=price_asc" {
			t.Fatalf("first page link %q", firstPage)
		}
		// The price filter travels with the pages too.
		p = b.get("/categories/knitwear?sort=price_desc&min_price=19&max_price=20.30").expect(t, 200)
		if got := productLinks(p); len(got) != 24 || got[0] != "/products/mitten-23" {
			t.Fatalf("filtered page 1: %d products, first %v", len(got), got)
		}
		next = link(t, p, `<a id="next-page" rel="next" href="([^"]+)">Next page</a>`)
		if !strings.Contains(next, "min_price=19") || !strings.Contains(next, "max_price=20.30") {
			t.Fatalf("next page link %q drops the filter", next)
		}
		if got := productLinks(b.get(next).expect(t, 200)); len(got) != 1 || got[0] != "/products/cotton-scarf" {
			t.Fatalf("filtered page 2: %v", got)
		}
	})
}

var productLink = regexp.MustCompile(`<h3><a href="(/products/[^"]+)">`)

// productLinks are the product cards' links, in page order.
func productLinks(p page) []string {
	var out []string
	for _, m := range productLink.FindAllStringSubmatch(p.Body, -1) {
		out = append(out, m[1])
	}
	return out
}

// link is the first group of re in the page, unescaped as a browser reads
// an attribute.
func link(t testing.TB, p page, re string) string {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no link matching %s", re)
	}
	u := html.UnescapeString(m[1])
	if _, err := url.Parse(u); err != nil {
		t.Fatalf("link %q: %v", u, err)
	}
	return u
}

// before fails unless a comes before b in the page.
func before(t testing.TB, p page, a, b string) {
	t.Helper()
	i, j := strings.Index(p.Body, a), strings.Index(p.Body, b)
	if i < 0 || j < 0 || i > j {
		t.Fatalf("%q (at %d) is not before %q (at %d)", a, i, b, j)
	}
}

// lacks fails if the page holds any s.
func lacks(t testing.TB, p page, ss ...string) {
	t.Helper()
	for _, s := range ss {
		if strings.Contains(p.Body, s) {
			t.Fatalf("the page has %q", s)
		}
	}
}
