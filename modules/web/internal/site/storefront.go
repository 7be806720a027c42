package site

import (
	"fmt"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	catalog "github.com/modshop/modshop/modules/catalog/api"
	search "github.com/modshop/modshop/modules/search/api"
	"github.com/modshop/modshop/platform/errs"
)

// storefrontPages are the shop's browsing pages: home, categories,
// search and products. They read published products through
// catalog.Storefront (the catalog's read cache, stock included) and search
// through search.Searcher (its cache): a warm page costs no query.
func (s *Site) storefrontPages() []Page {
	return []Page{
		{Method: http.MethodGet, Path: "/", Handle: s.home},
		{Method: http.MethodGet, Path: "/categories/:slug", Handle: s.category},
		{Method: http.MethodGet, Path: "/search", Handle: s.search},
		{Method: http.MethodGet, Path: "/products/:slug", Handle: s.product},
	}
}

// Page sizes: a grid of 2, 3 or 4 columns fills evenly.
const (
	homeProducts = 8
	listPageSize = 24
)

// LowStock is the availability at or below which a variant shows "Only N
// left".
const LowStock = 5

// card is a product as a grid shows it.
type card struct {
	Slug, Title        string
	PriceFrom, PriceTo catalog.Money
	InStock            bool
	Snippet            template.HTML // search only: the description with the matches marked
}

// Ranged reports whether the variants have different prices ("from €X").
func (c card) Ranged() bool { return c.PriceTo.Amount > c.PriceFrom.Amount }

func cardsOf(items []catalog.ProductSummary) []card {
	out := make([]card, len(items))
	for i, p := range items {
		out[i] = card{Slug: p.Slug, Title: p.Title, PriceFrom: p.PriceFrom, PriceTo: p.PriceTo, InStock: p.InStock()}
	}
	return out
}

type homePage struct {
	Departments []department
	Products    []card
}

// department is a top-level category with the categories right under it:
// the home page shows the tree's first two levels, not one long list.
type department struct {
	catalog.Category
	Children []catalog.Category
}

// departments groups categories under their top-level parents, in the
// catalog's order.
func departments(cats []catalog.Category) []department {
	var out []department
	at := map[string]int{}
	for _, c := range cats {
		if c.ParentID == nil {
			at[c.ID] = len(out)
			out = append(out, department{Category: c})
		}
	}
	for _, c := range cats {
		if c.ParentID != nil {
			if i, ok := at[*c.ParentID]; ok {
				out[i].Children = append(out[i].Children, c)
			}
		}
	}
	return out
}

func (s *Site) home(_ echo.Context, v *Visit) error {
	cats, err := s.d.Storefront.ShopCategories(v.Ctx())
	if err != nil {
		return err
	}
	newest, err := s.d.Storefront.Browse(v.Ctx(), catalog.BrowseQuery{Sort: catalog.SortNewest, Limit: homeProducts})
	if err != nil {
		return err
	}
	return v.Render(http.StatusOK, "home", "Home", homePage{Departments: departments(cats), Products: cardsOf(newest.Items)})
}

// option is one choice of a select.
type option struct{ Value, Label string }

var browseSorts = []option{
	{catalog.SortNewest, "Newest first"},
	{catalog.SortPriceAsc, "Price: low to high"},
	{catalog.SortPriceDesc, "Price: high to low"},
	{catalog.SortTitle, "Name: A to Z"},
}

type categoryPage struct {
	Category catalog.Category
	Products []card
	// The form as the visitor filled it in, and what was wrong with it.
	Sort, MinPrice, MaxPrice string
	Sorts                    []option
	Fields                   []errs.FieldError
	Filtered                 bool   // a price filter is applied
	Next, First              string // pager links; "" when there is none
	Children                 []catalog.Category
}

func (s *Site) category(c echo.Context, v *Visit) error {
	slug := c.Param("slug")
	if slug == "" || len(slug) > 200 {
		return catalog.ErrCategoryNotFound
	}
	sort := c.QueryParam("sort")
	if sort == "" {
		sort = catalog.SortNewest
	}
	page := categoryPage{Sort: sort, Sorts: browseSorts,
		MinPrice: strings.TrimSpace(c.QueryParam("min_price")), MaxPrice: strings.TrimSpace(c.QueryParam("max_price"))}
	var fe errs.Fields
	q := catalog.BrowseQuery{Category: slug, Sort: sort, Limit: listPageSize, Cursor: c.QueryParam("cursor")}
	q.MinPrice = parseMoney(&fe, "min_price", page.MinPrice)
	q.MaxPrice = parseMoney(&fe, "max_price", page.MaxPrice)
	if q.MinPrice != nil && q.MaxPrice != nil && *q.MinPrice > *q.MaxPrice {
		fe.Add("max_price", "must not be below the lowest price")
	}
	if !validSort(sort) {
		fe.Add("sort", "choose one of the listed orders")
	}
	page.Filtered = q.MinPrice != nil || q.MaxPrice != nil
	// invalid is the form again, with what is wrong, and no products; the
	// category is still named (and an unknown one is still 404).
	invalid := func(fields []errs.FieldError) error {
		res, err := s.d.Storefront.Browse(v.Ctx(), catalog.BrowseQuery{Category: slug, Limit: 1})
		if err != nil {
			return err
		}
		page.Category, page.Fields = *res.Category, fields
		return v.Render(http.StatusUnprocessableEntity, "category", page.Category.Name, page)
	}
	if len(fe) > 0 {
		return invalid(fe)
	}
	res, err := s.d.Storefront.Browse(v.Ctx(), q)
	if e := errs.As(err); e != nil && e.Kind == errs.KindValidation {
		// What the catalog refused that the form did not (a price out of
		// its range, a cursor that is not one).
		return invalid(e.Fields)
	}
	if err != nil {
		return err
	}
	page.Category, page.Products = *res.Category, cardsOf(res.Items)
	// Its subcategories (their products are listed here too).
	cats, err := s.d.Storefront.ShopCategories(v.Ctx())
	if err != nil {
		return err
	}
	for _, ch := range cats {
		if ch.ParentID != nil && *ch.ParentID == res.Category.ID {
			page.Children = append(page.Children, ch)
		}
	}
	base := "/categories/" + url.PathEscape(res.Category.Slug)
	keep := url.Values{}
	if sort != catalog.SortNewest {
		keep.Set("sort", sort)
	}
	if page.MinPrice != "" {
		keep.Set("min_price", page.MinPrice)
	}
	if page.MaxPrice != "" {
		keep.Set("max_price", page.MaxPrice)
	}
	page.Next, page.First = pager(base, keep, q.Cursor, res.Next)
	return v.Render(http.StatusOK, "category", res.Category.Name, page)
}

func validSort(s string) bool {
	for _, o := range browseSorts {
		if o.Value == s {
			return true
		}
	}
	return false
}

// pager is the links to the next page (when there is one) and back to the
// first (when this is not it), with the list's other parameters kept.
func pager(base string, keep url.Values, cursor, next string) (nextURL, firstURL string) {
	link := func(cursor string) string {
		q := url.Values{}
		for k, vs := range keep {
			q[k] = vs
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		if len(q) == 0 {
			return base
		}
		return base + "?" + q.Encode()
	}
	if next != "" {
		nextURL = link(next)
	}
	if cursor != "" {
		firstURL = link("")
	}
	return nextURL, firstURL
}

// maxAmount bounds a price a visitor types (minor units), well above any
// real price and far from overflowing.
const maxAmount = 1_000_000_000

// parseMoney reads an amount in the shop currency as a visitor types it
// ("12", "12.5", "12.50", "12,50") into minor units; "" is no amount. What
// is not an amount is a field error.
func parseMoney(f *errs.Fields, field, s string) *int64 {
	if s == "" {
		return nil
	}
	bad := func() *int64 { f.Add(field, "must be an amount such as 25 or 19.99"); return nil }
	whole, frac, hasFrac := strings.Cut(strings.Replace(s, ",", ".", 1), ".")
	if whole == "" && !hasFrac || len(whole) > 9 || len(frac) > 2 || hasFrac && frac == "" {
		return bad()
	}
	if whole == "" {
		whole = "0"
	}
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return bad()
		}
	}
	units, _ := strconv.ParseInt(whole, 10, 64)
	cents := int64(0)
	if frac != "" {
		cents, _ = strconv.ParseInt(frac, 10, 64)
		if len(frac) == 1 {
			cents *= 10
		}
	}
	amount := units*100 + cents
	if amount > maxAmount {
		f.Add(field, "is too large")
		return nil
	}
	return &amount
}

// decimal is minor units as the price inputs take them ("25", "19.99").
func decimal(amount int64) string {
	if amount%100 == 0 {
		return strconv.FormatInt(amount/100, 10)
	}
	return fmt.Sprintf("%d.%02d", amount/100, amount%100)
}

type searchPage struct {
	Text     string
	Sort     string
	Sorts    []option
	Result   search.Result
	Products []card
	Fields   []errs.FieldError
	Problems []string // Fields as sentences
	// Facets as links that add a filter, and the filters applied, each
	// with the link that removes it.
	Categories, Prices, Stock []facetLink
	Applied                   []facetLink
	Searched                  bool // a query was run (q was not empty)
	Next, First               string
	// Hidden are the filters the sort form keeps.
	Hidden []param
}

// searchFieldNames are the search's parameters as a shopper calls them.
var searchFieldNames = map[string]string{"min_price": "The lowest price", "max_price": "The highest price",
	"in_stock": "Availability", "category": "The category", "sort": "The order", "cursor": "The page", "q": "The search"}

// problems are a search's field errors as sentences.
func problems(fields []errs.FieldError) []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		name, ok := searchFieldNames[f.Field]
		if !ok {
			name = f.Field
		}
		msg := f.Message
		if f.Field == "category" {
			msg = "does not exist in this shop" // search says "no such category"
		}
		out[i] = name + " " + msg + "."
	}
	return out
}

// param is one URL parameter, kept by a form as a hidden input.
type param struct{ Name, Value string }

// facetLink is one facet value: its label, how many match, and the link.
type facetLink struct {
	Label string
	Count int
	URL   string
}

var searchSorts = []option{
	{search.SortRelevance, "Best match"},
	{search.SortPriceAsc, "Price: low to high"},
	{search.SortPriceDesc, "Price: high to low"},
	{search.SortNewest, "Newest first"},
}

// searchParams are the URL parameters of a search that facets and the
// pager keep (cursor is not one: a change of filter starts again).
var searchParams = append(append([]string{"q"}, searchFilters...), "sort")

// searchFilters are the parameters that narrow a search down.
var searchFilters = []string{"category", "min_price", "max_price", "in_stock"}

func (s *Site) search(c echo.Context, v *Visit) error {
	text := strings.TrimSpace(c.QueryParam("q"))
	page := searchPage{Text: text, Sort: c.QueryParam("sort"), Sorts: searchSorts}
	if page.Sort == "" {
		page.Sort = search.SortRelevance
	}
	if text == "" {
		return v.Render(http.StatusOK, "search", "Search", page)
	}
	// The search's parameters as they came, cleaned of empty ones.
	params := url.Values{}
	for _, k := range searchParams {
		if val := strings.TrimSpace(c.QueryParam(k)); val != "" {
			params.Set(k, val)
		}
	}
	params.Set("q", text)
	if page.Sort == search.SortRelevance {
		params.Del("sort")
	}
	var fe errs.Fields
	q := search.Query{Text: text, Category: params.Get("category"), Sort: params.Get("sort"),
		Limit: listPageSize, Cursor: c.QueryParam("cursor")}
	q.MinPrice = parseMoney(&fe, "min_price", params.Get("min_price"))
	q.MaxPrice = parseMoney(&fe, "max_price", params.Get("max_price"))
	switch params.Get("in_stock") {
	case "":
	case "true", "false":
		b := params.Get("in_stock") == "true"
		q.InStock = &b
	default:
		fe.Add("in_stock", "must be true or false")
	}
	for _, k := range searchFilters {
		if val := params.Get(k); val != "" {
			page.Hidden = append(page.Hidden, param{Name: k, Value: val})
		}
	}
	if len(fe) > 0 {
		page.Fields, page.Problems = fe, problems(fe)
		return v.Render(http.StatusUnprocessableEntity, "search", "Search", page)
	}
	res, err := s.d.Search.Query(v.Ctx(), q)
	if e := errs.As(err); e != nil && e.Kind == errs.KindValidation {
		page.Fields, page.Problems = e.Fields, problems(e.Fields)
		return v.Render(http.StatusUnprocessableEntity, "search", "Search", page)
	}
	if err != nil {
		return err
	}
	page.Searched, page.Result = true, res
	for _, h := range res.Items {
		page.Products = append(page.Products, card{Slug: h.Slug, Title: h.Title, PriceFrom: h.PriceFrom, PriceTo: h.PriceFrom,
			InStock: h.InStock, Snippet: markOnly(h.Snippet)})
	}
	s.facets(&page, params, res)
	page.Next, page.First = pager("/search", params, q.Cursor, res.Next)
	return v.Render(http.StatusOK, "search", "Search: "+text, page)
}

// facets makes the facet links: each adds its filter to the search (and
// drops the cursor); an applied filter is listed with a link that removes
// it.
func (s *Site) facets(page *searchPage, params url.Values, res search.Result) {
	with := func(set map[string]string) string {
		q := url.Values{}
		for k, vs := range params {
			q[k] = vs
		}
		for k, val := range set {
			if val == "" {
				q.Del(k)
			} else {
				q.Set(k, val)
			}
		}
		return "/search?" + q.Encode()
	}
	if cat := params.Get("category"); cat != "" {
		label := cat
		for _, f := range res.Facets.Category {
			if f.Slug == cat || f.ID == cat {
				label = f.Name
			}
		}
		page.Applied = append(page.Applied, facetLink{Label: "Category: " + label, URL: with(map[string]string{"category": ""})})
	} else {
		for _, f := range res.Facets.Category {
			ref, name := f.Slug, f.Name
			if ref == "" {
				continue // a category the catalog no longer has
			}
			page.Categories = append(page.Categories, facetLink{Label: name, Count: f.Count, URL: with(map[string]string{"category": ref})})
		}
	}
	currency := ""
	if len(res.Items) > 0 {
		currency = res.Items[0].PriceFrom.Currency
	}
	money := func(a int64) string { return Money(catalog.Money{Amount: a, Currency: currency}) }
	if params.Get("min_price") != "" || params.Get("max_price") != "" {
		label := "Price: "
		lo, hi := params.Get("min_price"), params.Get("max_price")
		if currency != "" { // as the prices show; the input was checked
			var fe errs.Fields
			if a := parseMoney(&fe, "", lo); a != nil {
				lo = money(*a)
			}
			if a := parseMoney(&fe, "", hi); a != nil {
				hi = money(*a)
			}
		}
		switch {
		case lo != "" && hi != "":
			label += lo + " to " + hi
		case lo != "":
			label += "from " + lo
		default:
			label += "up to " + hi
		}
		page.Applied = append(page.Applied, facetLink{Label: label, URL: with(map[string]string{"min_price": "", "max_price": ""})})
	} else {
		for _, b := range res.Facets.Price {
			if b.Count == 0 {
				continue
			}
			set := map[string]string{"min_price": decimal(b.From)}
			label := money(b.From) + " and up"
			if b.To != nil {
				// Bands end below To; the filter's maximum is inclusive.
				set["max_price"] = decimal(*b.To - 1)
				label = money(b.From) + " to " + money(*b.To)
				if b.From == 0 {
					delete(set, "min_price")
					label = "Under " + money(*b.To)
				}
			}
			page.Prices = append(page.Prices, facetLink{Label: label, Count: b.Count, URL: with(set)})
		}
	}
	if st := params.Get("in_stock"); st != "" {
		label := "In stock only"
		if st == "false" {
			label = "Out of stock only"
		}
		page.Applied = append(page.Applied, facetLink{Label: label, URL: with(map[string]string{"in_stock": ""})})
	} else {
		for _, f := range res.Facets.InStock {
			label := "In stock"
			if !f.InStock {
				label = "Out of stock"
			}
			page.Stock = append(page.Stock, facetLink{Label: label, Count: f.Count, URL: with(map[string]string{"in_stock": strconv.FormatBool(f.InStock)})})
		}
	}
}

// markOnly makes a search snippet safe to show as HTML whoever wrote it:
// the text around the <mark> tags is unescaped and escaped again, so
// nothing but <mark> survives as markup.
func markOnly(snippet string) template.HTML {
	var b strings.Builder
	text := func(s string) {
		s = strings.ReplaceAll(strings.ReplaceAll(s, "<mark>", ""), "</mark>", "")
		b.WriteString(template.HTMLEscapeString(html.UnescapeString(s)))
	}
	rest := snippet
	for {
		before, after, ok := strings.Cut(rest, "<mark>")
		text(before)
		if !ok {
			break
		}
		inside, tail, _ := strings.Cut(after, "</mark>")
		b.WriteString("<mark>")
		text(inside)
		b.WriteString("</mark>")
		rest = tail
	}
	return template.HTML(b.String()) //nolint:gosec // escaped above: only <mark> is markup
}

type productPage struct {
	Product            catalog.ProductView
	Variants           []variantRow
	PriceFrom, PriceTo catalog.Money
	InStock            bool   // some variant can be bought
	Selected           string // the SKU chosen at first: the first in stock
	MaxQuantity        int
}

// variantRow is a variant with its availability as the page says it.
type variantRow struct {
	SKU, Title string
	Price      catalog.Money
	Available  int64
	Stock      string // in, low or out: the CSS class stock-…
	Label      string // "In stock", "Only 3 left", "Out of stock"
}

// MaxQuantity is the most of one variant a visitor adds at once.
const MaxQuantity = 100

// productKey names everything a product page's content shows: the product
// at its version (which grows with every change of it), its category (which
// changes on its own) and each variant's stock.
func productKey(p catalog.ProductView) string {
	var b strings.Builder
	b.WriteString(p.ID)
	b.WriteByte(':')
	b.WriteString(strconv.FormatInt(p.Version, 10))
	if c := p.Category; c != nil {
		b.WriteString(":" + c.ID + ":" + c.Slug + ":" + c.Name)
	}
	for _, n := range p.Availability {
		b.WriteByte(':')
		b.WriteString(strconv.FormatInt(n, 10))
	}
	return b.String()
}

func (s *Site) product(c echo.Context, v *Visit) error {
	slug := c.Param("slug")
	if slug == "" || len(slug) > 200 {
		return catalog.ErrProductNotFound
	}
	p, err := s.d.Storefront.PublishedProduct(v.Ctx(), slug)
	if err != nil {
		return err
	}
	page := productPage{Product: p, MaxQuantity: MaxQuantity}
	for i, vr := range p.Variants {
		row := variantRow{SKU: vr.SKU, Title: vr.Title, Price: vr.Price, Available: p.Available(i)}
		switch {
		case row.Available <= 0:
			row.Stock, row.Label = "out", "Out of stock"
		case row.Available <= LowStock:
			row.Stock, row.Label = "low", fmt.Sprintf("Only %d left", row.Available)
		default:
			row.Stock, row.Label = "in", "In stock"
		}
		if row.Available > 0 && !page.InStock {
			page.InStock, page.Selected = true, vr.SKU
		}
		if i == 0 || vr.Price.Amount < page.PriceFrom.Amount {
			page.PriceFrom = vr.Price
		}
		if i == 0 || vr.Price.Amount > page.PriceTo.Amount {
			page.PriceTo = vr.Price
		}
		page.Variants = append(page.Variants, row)
	}
	content, err := s.content(v, "product", productKey(p), page)
	if err != nil {
		return err
	}
	return s.renderContent(c, v, http.StatusOK, "product", p.Title, page, content)
}
