package site

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	catalog "github.com/modshop/modshop/modules/catalog/api"
	inventory "github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/platform/errs"
)

// The back office of products and stock: the product list of every
// status, a new product, a product's edit page (its fields, status,
// variants and their stock), the stock levels and one SKU's level with its
// ledger and an adjustment form. Every change is a form POST answered by a
// 303 back to the page with a flash; invalid input re-renders the form
// with the error next to its field and the input kept.

// adminCatalogPages are the back office's product and stock pages.
func (s *Site) adminCatalogPages() []Page {
	return []Page{
		{Method: http.MethodGet, Path: "/admin/products", Access: Admin, Handle: s.adminProducts},
		{Method: http.MethodGet, Path: "/admin/products/new", Access: Admin, Handle: s.adminNewProduct},
		{Method: http.MethodPost, Path: "/admin/products", Access: Admin, Handle: s.adminCreateProduct},
		{Method: http.MethodGet, Path: "/admin/products/:id", Access: Admin, Handle: s.adminProduct},
		{Method: http.MethodPost, Path: "/admin/products/:id", Access: Admin, Handle: s.adminUpdateProduct},
		{Method: http.MethodPost, Path: "/admin/products/:id/status", Access: Admin, Handle: s.adminProductStatus},
		{Method: http.MethodPost, Path: "/admin/products/:id/variants", Access: Admin, Handle: s.adminAddVariant},
		{Method: http.MethodPost, Path: "/admin/products/:id/variants/:variant", Access: Admin, Handle: s.adminUpdateVariant},
		{Method: http.MethodGet, Path: "/admin/inventory", Access: Admin, Handle: s.adminInventory},
		{Method: http.MethodGet, Path: "/admin/inventory/:sku", Access: Admin, Handle: s.adminStock},
		{Method: http.MethodPost, Path: "/admin/inventory/:sku", Access: Admin, Handle: s.adminAdjust},
	}
}

// Page sizes of the back office's lists.
const (
	adminProductLimit = 30
	adminStockLimit   = 50
	adminLedgerLimit  = 30
	// adminLowStock is the availability at or below which a level is shown as
	// low (zero is shown as out of stock).
	adminLowStock = 3
)

// adminProductStatuses are the filters of the product list.
var adminProductStatuses = []catalog.Status{catalog.StatusDraft, catalog.StatusPublished, catalog.StatusArchived}

// adminProductsPage is admin_products.html's data.
type adminProductsPage struct {
	Products []catalog.Product
	Statuses []catalog.Status
	Status   string // the filter; "" for every status
	Cursor   string // this page's cursor; "" for the first
	Next     string // the next page's cursor; "" on the last
}

func (s *Site) adminProducts(c echo.Context, v *Visit) error {
	status, cursor := c.QueryParam("status"), c.QueryParam("cursor")
	page, err := s.d.CatalogBackOffice.AdminProducts(v.Ctx(), catalog.AdminProductQuery{
		Status: catalog.Status(status), Cursor: cursor, Limit: adminProductLimit})
	if err != nil {
		return err
	}
	return v.Render(http.StatusOK, "admin_products", "Products", adminProductsPage{
		Products: page.Products, Statuses: adminProductStatuses, Status: status, Cursor: cursor, Next: page.Next})
}

// adminForm is a submitted form with its errors, for re-rendering it: Val is
// what the user typed (or the stored value when the form was not the one
// submitted), Err the message of a field.
type adminForm struct {
	Name    string // which form of the page was submitted ("" for none)
	Input   url.Values
	Fields  []errs.FieldError
	Message string // an error that belongs to no field
}

// Val is the input of field name when this form was submitted, else def.
func (f adminForm) Val(name, field, def string) string {
	if f.Name == name && f.Input != nil {
		return f.Input.Get(field)
	}
	return def
}

// Err is the error of the field of form name, "" if none.
func (f adminForm) Err(name, field string) string {
	if f.Name != name {
		return ""
	}
	for _, fe := range f.Fields {
		if fe.Field == field {
			return fe.Message
		}
	}
	return ""
}

// Alert is the error of form name that belongs to no field.
func (f adminForm) Alert(name string) string {
	if f.Name != name {
		return ""
	}
	return f.Message
}

// adminNewProductPage is admin_product_new.html's data.
type adminNewProductPage struct {
	Form       adminForm
	Categories []catalog.Category
	Currency   string
}

func (s *Site) adminNewProduct(c echo.Context, v *Visit) error {
	return s.renderNewProduct(v, http.StatusOK, adminForm{})
}

func (s *Site) renderNewProduct(v *Visit, status int, f adminForm) error {
	cats, err := s.d.Catalog.Categories(v.Ctx())
	if err != nil {
		return err
	}
	return v.Render(status, "admin_product_new", "New product", adminNewProductPage{Form: f, Categories: cats, Currency: s.d.Currency})
}

func (s *Site) adminCreateProduct(c echo.Context, v *Visit) error {
	in, _ := c.FormParams()
	f := adminForm{Name: "new", Input: in}
	var fe errs.Fields
	price := adminParsePrice(&fe, "price", in.Get("price"))
	status := catalog.Status(in.Get("status"))
	if status != catalog.StatusDraft && status != catalog.StatusPublished {
		fe.Add("status", "must be draft or published")
	}
	np := catalog.NewProduct{Slug: strings.TrimSpace(in.Get("slug")), Title: strings.TrimSpace(in.Get("title")),
		Description: strings.TrimSpace(in.Get("description")), Status: status,
		Variants: []catalog.NewVariant{{SKU: strings.TrimSpace(in.Get("sku")), Title: strings.TrimSpace(in.Get("variant_title")), Price: price}}}
	if id := in.Get("category"); id != "" {
		np.CategoryID = &id
	}
	if err := fe.Err(); err != nil {
		f.Fields = errs.As(err).Fields
		return s.renderNewProduct(v, http.StatusUnprocessableEntity, f)
	}
	p, err := s.d.CatalogAdmin.CreateProduct(v.Ctx(), np)
	if err != nil {
		if status, ok := adminFormError(&f, err, adminNewProductFields); ok {
			return s.renderNewProduct(v, status, f)
		}
		return err
	}
	return v.Redirect("/admin/products/"+url.PathEscape(p.ID), "Product "+p.Title+" created.")
}

// adminNewProductFields name the new-product form's inputs by the catalog's
// field names.
var adminNewProductFields = map[string]string{
	"category_id": "category", "variants": "sku",
	"variants[0].sku": "sku", "variants[0].title": "variant_title", "variants[0].price": "price",
}

// adminFormError puts an api error that the user can fix into the form: its
// fields (renamed to the form's inputs), or a taken slug or SKU as the
// error of that input. It answers the status to re-render the form with,
// and false for an error that is not about the input.
func adminFormError(f *adminForm, err error, rename map[string]string) (int, bool) {
	e := errs.As(err)
	switch {
	case e == nil:
		return 0, false
	// A taken slug or SKU is a conflict to the api and a field to fix to
	// the form: shown as the field's error, 422 like the form's others.
	case errors.Is(err, catalog.ErrSlugTaken):
		f.Fields = append(f.Fields, errs.FieldError{Field: "slug", Message: "is already taken"})
		return http.StatusUnprocessableEntity, true
	case errors.Is(err, catalog.ErrSKUTaken):
		f.Fields = append(f.Fields, errs.FieldError{Field: "sku", Message: "is already taken"})
		return http.StatusUnprocessableEntity, true
	case e.Kind == errs.KindValidation && len(e.Fields) > 0:
		for _, fe := range e.Fields {
			if to, ok := rename[fe.Field]; ok {
				fe.Field = to
			}
			f.Fields = append(f.Fields, fe)
		}
	case e.Kind == errs.KindValidation || e.Kind == errs.KindConflict:
		f.Message = e.Message
	default:
		return 0, false
	}
	return e.Kind.Status(), true
}

// adminParsePrice reads a price typed in the shop currency as minor units
// (parseMoney's rules, the storefront's price filter's), recording a field
// error when it is missing or not an amount.
func adminParsePrice(fe *errs.Fields, field, s string) int64 {
	s = strings.TrimSpace(s)
	if s == "" {
		fe.Add(field, "is required")
		return 0
	}
	if p := parseMoney(fe, field, s); p != nil {
		return *p
	}
	return 0
}

// adminDecimal shows minor units as the price form takes them: 1290 is "12.90".
func adminDecimal(minor int64) string {
	return strconv.FormatInt(minor/100, 10) + "." + strconv.FormatInt(minor%100/10, 10) + strconv.FormatInt(minor%10, 10)
}

// adminProductPage is admin_product.html's data.
type adminProductPage struct {
	Product    catalog.Product
	Categories []catalog.Category
	Stock      map[string]inventory.Level
	Form       adminForm
	Currency   string
}

func (s *Site) adminProduct(c echo.Context, v *Visit) error {
	return s.renderProduct(c, v, http.StatusOK, adminForm{})
}

func (s *Site) renderProduct(c echo.Context, v *Visit, status int, f adminForm) error {
	ctx := v.Ctx()
	p, err := s.d.Catalog.Product(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	cats, err := s.d.Catalog.Categories(ctx)
	if err != nil {
		return err
	}
	skus := make([]string, len(p.Variants))
	for i, vr := range p.Variants {
		skus[i] = vr.SKU
	}
	stock, err := s.d.Inventory.Availability(ctx, skus)
	if err != nil {
		return err
	}
	return v.Render(status, "admin_product", p.Title, adminProductPage{Product: p, Categories: cats, Stock: stock, Form: f, Currency: s.d.Currency})
}

// adminUpdateProduct saves the product form: title, description, category.
func (s *Site) adminUpdateProduct(c echo.Context, v *Visit) error {
	in, _ := c.FormParams()
	title, desc := strings.TrimSpace(in.Get("title")), strings.TrimSpace(in.Get("description"))
	patch := catalog.ProductPatch{Title: &title, Description: &desc, SetCategory: true}
	if id := in.Get("category"); id != "" {
		patch.CategoryID = &id
	}
	p, err := s.d.CatalogBackOffice.UpdateProduct(v.Ctx(), c.Param("id"), patch)
	if err != nil {
		f := adminForm{Name: "product", Input: in}
		if status, ok := adminFormError(&f, err, map[string]string{"category_id": "category"}); ok {
			return s.renderProduct(c, v, status, f)
		}
		return err
	}
	return v.Redirect(adminProductPath(p.ID), "Product saved.")
}

// adminProductStatus publishes, unpublishes (to draft) or archives.
func (s *Site) adminProductStatus(c echo.Context, v *Visit) error {
	id := c.Param("id")
	var err error
	var notice string
	switch st := catalog.Status(c.FormValue("status")); st {
	case catalog.StatusArchived:
		err, notice = s.d.CatalogBackOffice.ArchiveProduct(v.Ctx(), id), "Product archived: it is no longer in the shop."
	case catalog.StatusPublished, catalog.StatusDraft:
		_, err = s.d.CatalogBackOffice.UpdateProduct(v.Ctx(), id, catalog.ProductPatch{Status: &st})
		notice = "Product published: it is in the shop."
		if st == catalog.StatusDraft {
			notice = "Product is a draft: it is not in the shop."
		}
	default:
		err = errs.Invalid(errs.FieldError{Field: "status", Message: "must be draft, published or archived"})
	}
	if err != nil {
		f := adminForm{Name: "status"}
		if status, ok := adminFormError(&f, err, nil); ok {
			if f.Message == "" && len(f.Fields) > 0 {
				f.Message = f.Fields[0].Field + " " + f.Fields[0].Message
			}
			return s.renderProduct(c, v, status, f)
		}
		return err
	}
	return v.Redirect(adminProductPath(id), notice)
}

// adminAddVariant adds a variant to the product.
func (s *Site) adminAddVariant(c echo.Context, v *Visit) error {
	in, _ := c.FormParams()
	f := adminForm{Name: "add-variant", Input: in}
	var fe errs.Fields
	price := adminParsePrice(&fe, "price", in.Get("price"))
	if err := fe.Err(); err != nil {
		f.Fields = errs.As(err).Fields
		return s.renderProduct(c, v, http.StatusUnprocessableEntity, f)
	}
	nv := catalog.NewVariant{SKU: strings.TrimSpace(in.Get("sku")), Title: strings.TrimSpace(in.Get("title")), Price: price}
	if _, err := s.d.CatalogBackOffice.AddVariant(v.Ctx(), c.Param("id"), nv); err != nil {
		if status, ok := adminFormError(&f, err, nil); ok {
			return s.renderProduct(c, v, status, f)
		}
		return err
	}
	return v.Redirect(adminProductPath(c.Param("id")), "Variant "+nv.SKU+" added.")
}

// adminUpdateVariant saves one row of the variants table: title and price.
func (s *Site) adminUpdateVariant(c echo.Context, v *Visit) error {
	in, _ := c.FormParams()
	vid := c.Param("variant")
	f := adminForm{Name: "variant-" + vid, Input: in}
	p, err := s.d.Catalog.Product(v.Ctx(), c.Param("id"))
	if err != nil {
		return err
	}
	if !adminHasVariant(p, vid) {
		return catalog.ErrVariantNotFound
	}
	var fe errs.Fields
	price := adminParsePrice(&fe, "price", in.Get("price"))
	if err := fe.Err(); err != nil {
		f.Fields = errs.As(err).Fields
		return s.renderProduct(c, v, http.StatusUnprocessableEntity, f)
	}
	title := strings.TrimSpace(in.Get("title"))
	vr, err := s.d.CatalogBackOffice.UpdateVariant(v.Ctx(), vid, catalog.VariantPatch{Title: &title, Price: &price})
	if err != nil {
		if status, ok := adminFormError(&f, err, nil); ok {
			return s.renderProduct(c, v, status, f)
		}
		return err
	}
	return v.Redirect(adminProductPath(p.ID), "Variant "+vr.SKU+" saved: "+Money(vr.Price)+".")
}

func adminHasVariant(p catalog.Product, id string) bool {
	for _, v := range p.Variants {
		if v.ID == id {
			return true
		}
	}
	return false
}

func adminProductPath(id string) string { return "/admin/products/" + url.PathEscape(id) }

// adminInventoryPage is admin_inventory.html's data.
type adminInventoryPage struct {
	Levels []inventory.Level
	After  string // this page's cursor ("" for the first)
	Next   string // the next page's cursor ("" on the last)
	Low    int64
}

func (s *Site) adminInventory(c echo.Context, v *Visit) error {
	after := c.QueryParam("after")
	// One more than a page tells whether there is a next one.
	levels, err := s.d.InventoryBackOffice.Levels(v.Ctx(), after, adminStockLimit+1)
	if err != nil {
		return err
	}
	page := adminInventoryPage{Levels: levels, After: after, Low: adminLowStock}
	if len(levels) > adminStockLimit {
		page.Levels = levels[:adminStockLimit]
		page.Next = page.Levels[adminStockLimit-1].SKU
	}
	return v.Render(http.StatusOK, "admin_inventory", "Stock", page)
}

// adminStockPage is admin_stock.html's data.
type adminStockPage struct {
	Level  inventory.Level
	Ledger []inventory.Adjustment
	Before string // this ledger page's cursor ("" for the newest)
	Next   string // the next (older) page's cursor ("" on the last)
	Key    string // the adjustment form's idempotency key
	Form   adminForm
	Low    int64
}

func (s *Site) adminStock(c echo.Context, v *Visit) error {
	return s.renderStock(c, v, http.StatusOK, adminForm{}, "")
}

// renderStock shows a SKU's level, ledger and adjustment form. key is the
// form's idempotency key: a new one for a fresh form, the submitted one
// when the form is shown again with an error (so that fixing the reason
// and sending again still books once).
func (s *Site) renderStock(c echo.Context, v *Visit, status int, f adminForm, key string) error {
	ctx, sku := v.Ctx(), c.Param("sku")
	lvl, err := s.d.InventoryBackOffice.Level(ctx, sku)
	if err != nil {
		return err
	}
	before := c.QueryParam("before")
	ledger, err := s.d.InventoryBackOffice.Ledger(ctx, sku, before, adminLedgerLimit+1)
	if err != nil {
		return err
	}
	if key == "" {
		key = randomToken()
	}
	page := adminStockPage{Level: lvl, Ledger: ledger, Before: before, Key: key, Form: f, Low: adminLowStock}
	if len(ledger) > adminLedgerLimit {
		page.Ledger = ledger[:adminLedgerLimit]
		page.Next = page.Ledger[adminLedgerLimit-1].ID
	}
	return v.Render(status, "admin_stock", "Stock of "+sku, page)
}

// adminAdjust books an adjustment once per form (its idempotency key): a
// double submit shows the first one's outcome and books nothing more.
func (s *Site) adminAdjust(c echo.Context, v *Visit) error {
	in, _ := c.FormParams()
	sku, key := c.Param("sku"), in.Get("key")
	f := adminForm{Name: "adjust", Input: in}
	var fe errs.Fields
	delta, err := strconv.ParseInt(strings.TrimSpace(in.Get("delta")), 10, 64)
	if err != nil || delta == 0 {
		fe.Add("delta", "must be a whole number other than 0, such as 5 or -2")
	}
	reason := strings.TrimSpace(in.Get("reason"))
	if reason == "" {
		fe.Add("reason", "is required: say why the stock changes")
	}
	if err := fe.Err(); err != nil {
		f.Fields = errs.As(err).Fields
		return s.renderStock(c, v, http.StatusUnprocessableEntity, f, key)
	}
	adj, lvl, err := s.d.InventoryAdmin.Adjust(v.Ctx(), sku, delta, reason, s.adminActor(v), key)
	if err != nil {
		e := errs.As(err)
		switch {
		case errors.Is(err, inventory.ErrBelowReserved):
			f.Message = "Not adjusted: on hand would drop below zero or below what is reserved for checkouts. Nothing was changed."
		case errors.Is(err, inventory.ErrIdempotencyKeyReused):
			// The form was sent before with other values: a new form (key)
			// books the new values.
			f.Message = "This form was already used for another adjustment. Nothing was changed; check the values and send again."
			key = ""
		case e != nil && e.Kind == errs.KindValidation:
			// Too large, a reason too long: the inventory's own limits,
			// shown next to their fields.
			f.Fields = e.Fields
			if len(f.Fields) == 0 {
				f.Message = e.Message
			}
		default:
			return err
		}
		return s.renderStock(c, v, e.Kind.Status(), f, key)
	}
	return v.Redirect("/admin/inventory/"+url.PathEscape(sku),
		"Adjusted "+sku+" by "+strconv.FormatInt(adj.Delta, 10)+": "+strconv.FormatInt(lvl.OnHand, 10)+" on hand.")
}

// adminActor names the admin in the ledger: the e-mail address, else the id.
func (s *Site) adminActor(v *Visit) string {
	if v.Visitor.Email != "" {
		return v.Visitor.Email
	}
	return v.Visitor.CustomerID
}

// adminFieldView is what the admin_field partial shows: an input named
// Name with the id ID (the name, unless a prefix keeps ids unique on a page
// of several forms).
type adminFieldView struct{ ID, Name, Label, Value, Error, Hint string }

func init() {
	// adminDecimal shows minor units as the price inputs take them (12.90).
	funcs["adminDecimal"] = adminDecimal
	funcs["adminField"] = func(name, label, value, err, hint string) adminFieldView {
		return adminFieldView{ID: name, Name: name, Label: label, Value: value, Error: err, Hint: hint}
	}
	// adminFieldIn is adminField with its id prefixed (a form of several on the page).
	funcs["adminFieldIn"] = func(prefix, name, label, value, err, hint string) adminFieldView {
		return adminFieldView{ID: prefix + "-" + name, Name: name, Label: label, Value: value, Error: err, Hint: hint}
	}
}
