package catalog_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/modshop/modshop/platform/testkit"
)

// listed is what the test knows of a product it created.
type listed struct {
	product
	priceFrom int64
	category  string // slug, "" for none
}

func priceFrom(p product) int64 {
	low := p.Variants[0].Price.Amount
	for _, v := range p.Variants {
		low = min(low, v.Price.Amount)
	}
	return low
}

// before reports whether a comes before b in the sort (ties broken by id).
func before(sort string, a, b product) bool {
	var c int
	switch sort {
	case "newest":
		c = b.CreatedAt.Compare(a.CreatedAt)
		if c == 0 {
			return a.ID > b.ID
		}
	case "price_asc":
		c = int(priceFrom(a) - priceFrom(b))
	case "price_desc":
		c = int(priceFrom(b) - priceFrom(a))
		if c == 0 {
			return a.ID > b.ID
		}
	case "title":
		c = strings.Compare(strings.ToLower(a.Title), strings.ToLower(b.Title))
	}
	if c == 0 {
		return a.ID < b.ID
	}
	return c < 0
}

// walkPages follows next_cursor to the end, calling between before each
// next page, and returns every product served.
func walkPages(t *testing.T, e *env, query string, between func(page int)) []product {
	t.Helper()
	var out []product
	cursor := ""
	for page := 0; ; page++ {
		if page > 500 {
			t.Fatal("pagination does not end")
		}
		q := query
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		l := e.list("/v1/products?" + q)
		out = append(out, l.Items...)
		if l.NextCursor == nil {
			return out
		}
		cursor = *l.NextCursor
		if between != nil {
			between(page)
		}
	}
}

func TestListPagination(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		t.Parallel()
		e := start(t, db)
		clothing := e.createCategory("clothing", nil)
		shirts := e.createCategory("shirts", &clothing)
		oxford := e.createCategory("oxford", &shirts)
		home := e.createCategory("home", nil)
		cats := []*category{&clothing, &shirts, &oxford, &home, nil}
		titles := []string{"Apple", "apple", "Banana", "cherry", "Zebra"}
		var all []listed
		for i := 0; i < 46; i++ {
			status := "published"
			if i%9 == 4 {
				status = "draft"
			}
			prices := []int64{int64(100 * (1 + i%7)), int64(100*(1+i%7)) + 50} // ties on price_from
			body := newProduct(fmt.Sprintf("item-%02d", i), status, prices...)
			body["title"] = fmt.Sprintf("%s %d", titles[i%len(titles)], i%3) // ties on title
			c := cats[i%len(cats)]
			if c != nil {
				body["category_id"] = c.ID
			}
			p := e.createProduct(body)
			l := listed{product: p, priceFrom: prices[0]}
			if c != nil {
				l.category = c.Slug
			}
			all = append(all, l)
		}
		published := func(keep func(l listed) bool) []string {
			var ids []string
			for _, l := range all {
				if l.Status == "published" && keep(l) {
					ids = append(ids, l.ID)
				}
			}
			slices.Sort(ids)
			return ids
		}
		idsOf := func(ps []product) []string {
			ids := make([]string, len(ps))
			for i, p := range ps {
				ids[i] = p.ID
			}
			slices.Sort(ids)
			return ids
		}

		for _, sort := range []string{"newest", "price_asc", "price_desc", "title"} {
			t.Run("walk "+sort, func(t *testing.T) {
				inserted := 0
				got := walkPages(t, e, "limit=6&sort="+sort, func(page int) {
					// New products arrive between requests, priced and
					// titled all over the order.
					for k := 0; k < 2; k++ {
						body := newProduct(fmt.Sprintf("late-%s-%d-%d", strings.ReplaceAll(sort, "_", "-"), page, k), "published", int64(100+150*((page+k)%6)))
						body["title"] = titles[(page+k)%len(titles)] + " late"
						e.createProduct(body)
						inserted++
					}
				})
				seen := map[string]int{}
				for i, p := range got {
					seen[p.ID]++
					if seen[p.ID] > 1 {
						t.Fatalf("product %s served twice", p.Slug)
					}
					if i > 0 && !before(sort, got[i-1], p) {
						t.Fatalf("position %d: %s (%d, %q) served after %s (%d, %q)", i, p.Slug, priceFrom(p), p.Title,
							got[i-1].Slug, priceFrom(got[i-1]), got[i-1].Title)
					}
					if p.Status != "published" {
						t.Fatalf("served a %s product", p.Status)
					}
				}
				for _, id := range published(func(listed) bool { return true }) {
					if seen[id] != 1 {
						t.Errorf("product %s served %d times, want once", id, seen[id])
					}
				}
				if inserted == 0 {
					t.Fatal("no product was inserted while walking")
				}
			})
		}

		// The products below were created before the walks; the filters
		// are checked against them only.
		original := func(ps []product) []product {
			var out []product
			for _, p := range ps {
				if !strings.HasPrefix(p.Slug, "late-") {
					out = append(out, p)
				}
			}
			return out
		}

		t.Run("price filters are inclusive", func(t *testing.T) {
			got := original(walkPages(t, e, "limit=5&sort=price_asc&min_price=300&max_price=500", nil))
			want := published(func(l listed) bool { return l.priceFrom >= 300 && l.priceFrom <= 500 })
			if !slices.Equal(idsOf(got), want) {
				t.Fatalf("got %d products, want %d (price_from 300..500 inclusive)", len(got), len(want))
			}
			has := map[int64]bool{}
			for _, p := range got {
				has[priceFrom(p)] = true
			}
			if !has[300] || !has[500] {
				t.Errorf("the bounds themselves are missing: %v", has)
			}
			for _, sort := range []string{"newest", "title", "price_desc"} {
				if got := original(walkPages(t, e, "limit=4&min_price=300&max_price=500&sort="+sort, nil)); !slices.Equal(idsOf(got), want) {
					t.Errorf("sort %s with price filters: %d products, want %d", sort, len(got), len(want))
				}
			}
		})

		t.Run("category includes descendants", func(t *testing.T) {
			inClothing := published(func(l listed) bool {
				return l.category == "clothing" || l.category == "shirts" || l.category == "oxford"
			})
			for _, ref := range []string{"clothing", clothing.ID} {
				got := original(walkPages(t, e, "limit=4&category="+url.QueryEscape(ref), nil))
				if !slices.Equal(idsOf(got), inClothing) {
					t.Errorf("category=%s: %d products, want %d", ref, len(got), len(inClothing))
				}
			}
			onlyOxford := published(func(l listed) bool { return l.category == "oxford" })
			if got := original(walkPages(t, e, "limit=3&category=oxford&sort=price_desc", nil)); !slices.Equal(idsOf(got), onlyOxford) {
				t.Errorf("category=oxford: %d products, want %d", len(got), len(onlyOxford))
			}
			both := published(func(l listed) bool {
				return (l.category == "shirts" || l.category == "oxford") && l.priceFrom <= 400
			})
			if got := original(walkPages(t, e, "limit=2&category="+shirts.ID+"&max_price=400&sort=title", nil)); !slices.Equal(idsOf(got), both) {
				t.Errorf("category and price: %d products, want %d", len(got), len(both))
			}
		})

		t.Run("moving a product moves it in the category list", func(t *testing.T) {
			p := all[1] // published, in shirts
			testkit.Expect(t, e.patch("/v1/admin/products/"+p.ID, map[string]any{"category_id": home.ID, "status": "published"}), 200)
			if got := walkPages(t, e, "limit=100&category=home", nil); !containsID(got, p.ID) {
				t.Errorf("not listed under its new category")
			}
			if p.category != "home" {
				if got := walkPages(t, e, "limit=100&category="+p.category, nil); containsID(got, p.ID) {
					t.Errorf("still listed under %s", p.category)
				}
			}
		})
	})
}
