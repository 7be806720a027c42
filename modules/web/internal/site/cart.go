package site

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	cart "github.com/modshop/modshop/modules/cart/api"
	catalog "github.com/modshop/modshop/modules/catalog/api"
	customers "github.com/modshop/modshop/modules/customers/api"
	inventory "github.com/modshop/modshop/modules/inventory/api"
	orders "github.com/modshop/modshop/modules/orders/api"
	payments "github.com/modshop/modshop/modules/payments/api"
	"github.com/modshop/modshop/modules/web/internal/store"
	"github.com/modshop/modshop/platform/errs"
)

// cartPages are the cart, checkout and order pages.
func (s *Site) cartPages() []Page {
	return []Page{
		{Method: http.MethodGet, Path: "/cart", Handle: s.cartPage},
		{Method: http.MethodPost, Path: "/cart/items", Handle: s.addToCart},
		{Method: http.MethodPost, Path: "/cart/items/:id", Handle: s.updateCartItem},
		{Method: http.MethodPost, Path: "/cart/items/:id/remove", Handle: s.removeCartItem},
		{Method: http.MethodGet, Path: "/checkout", Handle: s.checkoutPage},
		{Method: http.MethodPost, Path: "/checkout", Handle: s.placeOrder},
		{Method: http.MethodGet, Path: "/orders/:id", Handle: s.orderPage},
	}
}

// cartCount is the number of items in the visitor's cart, shown in the
// header (0 when it has none or the cart cannot be read: the header is no
// reason to fail a page).
func (s *Site) cartCount(v *Visit) int64 {
	c, ok, err := s.currentCart(v)
	if err != nil || !ok {
		return 0
	}
	return c.ItemCount
}

// cartKey keeps the request's cart on its echo context, so the header's
// count and the page ask the cart module once.
const cartKey = "web.cart"

type cachedCart struct {
	cart cart.Cart
	ok   bool
}

// currentCart is the visitor's active cart: a signed-in customer's (made on
// first use), or the guest's from its cookie. A guest cart that is gone or
// no longer active (it became an order) is forgotten: ok is false.
func (s *Site) currentCart(v *Visit) (cart.Cart, bool, error) {
	if got, ok := v.c.Get(cartKey).(cachedCart); ok {
		return got.cart, got.ok, nil
	}
	var c cart.Cart
	var err error
	switch {
	case v.Visitor.SignedIn():
		c, err = s.d.Shopping.MyCart(v.Ctx(), v.Visitor.CustomerID)
	case v.GuestCart != "":
		c, err = s.d.Carts.CartFor(v.Ctx(), v.GuestCart, "")
		if errors.Is(err, cart.ErrCartNotFound) || (err == nil && c.Status != cart.StatusActive) {
			v.SetGuestCart("")
			v.c.Set(cartKey, cachedCart{})
			return cart.Cart{}, false, nil
		}
	default:
		v.c.Set(cartKey, cachedCart{})
		return cart.Cart{}, false, nil
	}
	if err != nil {
		return cart.Cart{}, false, err
	}
	v.c.Set(cartKey, cachedCart{cart: c, ok: true})
	return c, true, nil
}

// setCart remembers a cart the request just changed.
func setCart(v *Visit, c cart.Cart) { v.c.Set(cartKey, cachedCart{cart: c, ok: true}) }

// cartForWriting is the cart a change goes to, made when the visitor has
// none: a guest's new cart is remembered in its cookie.
func (s *Site) cartForWriting(v *Visit) (cart.Cart, error) {
	c, ok, err := s.currentCart(v)
	if err != nil || ok {
		return c, err
	}
	c, err = s.d.Shopping.Create(v.Ctx(), "")
	if err != nil {
		return c, err
	}
	v.SetGuestCart(c.ID)
	setCart(v, c)
	return c, nil
}

// parseQuantity reads a form's quantity: a whole number in min..MaxQuantity.
func parseQuantity(raw string, min int64) (int64, error) {
	raw = strings.TrimSpace(raw)
	q, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || q < min || q > cart.MaxQuantity {
		return 0, errs.Invalid(errs.FieldError{Field: "quantity",
			Message: fmt.Sprintf("must be a whole number from %d to %d", min, cart.MaxQuantity)})
	}
	return q, nil
}

// cartProblem is what a shopper is told when a cart change was refused for
// a reason of theirs (no such product, not enough stock, a bad quantity);
// "" for an error that is the shop's (the page fails with it).
func cartProblem(err error) string {
	var short []inventory.Unavailable
	switch {
	case errors.Is(err, cart.ErrUnknownSKU):
		return "Sorry, that product is not available."
	case errors.Is(err, cart.ErrItemNotFound):
		return "That line is no longer in your cart."
	case errors.Is(err, inventory.ErrOutOfStock):
		short = unavailableOf(err)
		if len(short) == 1 && short[0].Available > 0 {
			return fmt.Sprintf("Sorry, only %d left in stock.", short[0].Available)
		}
		return "Sorry, that is out of stock."
	}
	if e := errs.As(err); e != nil && e.Kind == errs.KindValidation {
		if len(e.Fields) > 0 {
			return "The quantity " + e.Fields[0].Message + "."
		}
		return e.Message
	}
	return ""
}

// unavailableOf reads the lines of an out_of_stock error (its
// "unavailable" member), in process or decoded from the wire.
func unavailableOf(err error) []inventory.Unavailable {
	e := errs.As(err)
	if e == nil {
		return nil
	}
	switch u := e.Extra["unavailable"].(type) {
	case []inventory.Unavailable:
		return u
	case []any:
		var out []inventory.Unavailable
		for _, x := range u {
			m, _ := x.(map[string]any)
			sku, _ := m["sku"].(string)
			req, _ := m["requested"].(float64)
			av, _ := m["available"].(float64)
			out = append(out, inventory.Unavailable{SKU: sku, Requested: int64(req), Available: int64(av)})
		}
		return out
	}
	return nil
}

// backTo is where a refused add-to-cart returns: the page the form was on
// (a path of this site), else the cart.
func backTo(c echo.Context) string {
	ref, err := url.Parse(c.Request().Referer())
	if err != nil || ref.Host != c.Request().Host || !strings.HasPrefix(ref.Path, "/") || strings.HasPrefix(ref.Path, "//") {
		return "/cart"
	}
	if ref.RawQuery != "" {
		return ref.Path + "?" + ref.RawQuery
	}
	return ref.Path
}

func (s *Site) addToCart(c echo.Context, v *Visit) error {
	sku := strings.TrimSpace(c.FormValue("sku"))
	raw := c.FormValue("quantity")
	if strings.TrimSpace(raw) == "" {
		raw = "1"
	}
	q, err := parseQuantity(raw, cart.MinQuantity)
	if err != nil {
		return v.Redirect(backTo(c), cartProblem(err))
	}
	if sku == "" {
		return v.Redirect(backTo(c), "Choose a product to add.")
	}
	cr, err := s.cartForWriting(v)
	if err != nil {
		return err
	}
	cr, err = s.d.Shopping.AddItem(v.Ctx(), cr.ID, v.Visitor.CustomerID, cart.NewItem{SKU: sku, Quantity: q})
	if errors.Is(err, cart.ErrNotActive) && !v.Visitor.SignedIn() {
		// The guest's cart became an order meanwhile: start a new one.
		v.SetGuestCart("")
		v.c.Set(cartKey, nil)
		if cr, err = s.cartForWriting(v); err == nil {
			cr, err = s.d.Shopping.AddItem(v.Ctx(), cr.ID, "", cart.NewItem{SKU: sku, Quantity: q})
		}
	}
	if msg := cartProblem(err); msg != "" {
		return v.Redirect(backTo(c), msg)
	}
	if err != nil {
		return err
	}
	title := sku
	for _, it := range cr.Items {
		if it.SKU == sku {
			title = it.Title
		}
	}
	return v.Redirect("/cart", fmt.Sprintf("Added %d × %s to your cart.", q, title))
}

func (s *Site) updateCartItem(c echo.Context, v *Visit) error {
	q, err := parseQuantity(c.FormValue("quantity"), 0)
	if err != nil {
		return v.Redirect("/cart", cartProblem(err))
	}
	cr, ok, err := s.currentCart(v)
	if err != nil {
		return err
	}
	if !ok {
		return v.Redirect("/cart", "Your cart is empty.")
	}
	_, err = s.d.Shopping.UpdateItem(v.Ctx(), cr.ID, v.Visitor.CustomerID, cart.ItemChange{ItemID: c.Param("id"), Quantity: q})
	if msg := cartProblem(err); msg != "" {
		return v.Redirect("/cart", msg)
	}
	if err != nil {
		return err
	}
	if q == 0 {
		return v.Redirect("/cart", "Removed the line from your cart.")
	}
	return v.Redirect("/cart", "Updated the quantity.")
}

func (s *Site) removeCartItem(c echo.Context, v *Visit) error {
	cr, ok, err := s.currentCart(v)
	if err != nil {
		return err
	}
	if !ok {
		return v.Redirect("/cart", "Your cart is empty.")
	}
	_, err = s.d.Shopping.RemoveItem(v.Ctx(), cr.ID, v.Visitor.CustomerID, c.Param("id"))
	if msg := cartProblem(err); msg != "" {
		return v.Redirect("/cart", msg)
	}
	if err != nil {
		return err
	}
	return v.Redirect("/cart", "Removed the line from your cart.")
}

// cartLine is a cart's line as the pages show it.
type cartLine struct {
	cart.Item
	ProductPath string // "" when the product cannot be linked
	// Problem is why the line cannot be bought as it is ("" when it can):
	// "Out of stock", "Only 2 left", "No longer sold".
	Problem string
}

// cartView is a cart with what the pages say about its lines.
type cartView struct {
	Cart  cart.Cart
	Lines []cartLine
	// Problems counts the lines that stop a checkout.
	Problems int
	Shipping catalog.Money
	Total    catalog.Money
}

// viewCart flags the lines that cannot be bought: the cart's unavailable
// lines (archived, unpublished) and the lines asking more than the
// inventory has available now.
func (s *Site) viewCart(v *Visit, c cart.Cart) (cartView, error) {
	out := cartView{Cart: c}
	skus := make([]string, 0, len(c.Items))
	for _, it := range c.Items {
		skus = append(skus, it.SKU)
	}
	var levels map[string]inventory.Level
	if len(skus) > 0 {
		var err error
		if levels, err = s.d.Inventory.Availability(v.Ctx(), skus); err != nil {
			return out, err
		}
	}
	slugs := map[string]string{}
	for _, it := range c.Items {
		l := cartLine{Item: it}
		if it.ProductID != "" {
			slug, seen := slugs[it.ProductID]
			if !seen {
				if p, err := s.d.Catalog.Product(v.Ctx(), it.ProductID); err == nil {
					slug = p.Slug
				}
				slugs[it.ProductID] = slug
			}
			if slug != "" {
				l.ProductPath = "/products/" + url.PathEscape(slug)
			}
		}
		avail := levels[it.SKU].Available
		switch {
		case !it.Available:
			l.Problem = "No longer sold"
		case avail <= 0:
			l.Problem = "Out of stock"
		case avail < it.Quantity:
			l.Problem = fmt.Sprintf("Only %d left", avail)
		}
		if l.Problem != "" {
			out.Problems++
		}
		out.Lines = append(out.Lines, l)
	}
	out.Shipping = catalog.Money{Currency: c.Subtotal.Currency}
	if c.Subtotal.Amount < orders.FreeShippingFrom {
		out.Shipping.Amount = orders.ShippingFee
	}
	out.Total = catalog.Money{Amount: c.Subtotal.Amount + out.Shipping.Amount, Currency: c.Subtotal.Currency}
	return out, nil
}

func (s *Site) cartPage(_ echo.Context, v *Visit) error {
	c, ok, err := s.currentCart(v)
	if err != nil {
		return err
	}
	var view cartView
	if ok {
		if view, err = s.viewCart(v, c); err != nil {
			return err
		}
	}
	return v.Render(http.StatusOK, "cart", "Your cart", view)
}

// PaymentMethod is a test payment method the payments provider knows.
type PaymentMethod struct {
	ID, Label string
}

// PaymentMethods are the payments provider's test methods (its
// internal/provider): two cards that approve and two that decline.
var PaymentMethods = []PaymentMethod{
	{"pm_card_visa", "Visa ending 4242 (test card, approves)"},
	{"pm_card_mastercard", "Mastercard ending 4444 (test card, approves)"},
	{"pm_card_chargeDeclined", "Visa ending 0002 (test card, declined)"},
	{"pm_card_insufficientFunds", "Visa ending 9995 (test card, insufficient funds)"},
}

// declineReasons say the provider's decline codes in words.
var declineReasons = map[string]string{
	"card_declined":      "The card was declined.",
	"insufficient_funds": "The card has insufficient funds.",
}

// checkoutForm is what a shopper entered at checkout.
type checkoutForm struct {
	Email     string
	AddressID string // a saved address's id, or "new"
	Address   orders.Address
	Method    string
}

// checkoutPageData is the checkout page.
type checkoutPageData struct {
	Cart      cartView
	Form      checkoutForm
	Saved     []customers.Address
	Methods   []PaymentMethod
	Key       string // the form's Idempotency-Key, new with every render
	Alert     string
	Fields    []errs.FieldError
	CanPlace  bool
	EmptyCart bool
}

func (s *Site) checkoutPage(_ echo.Context, v *Visit) error {
	form := checkoutForm{Email: v.Visitor.Email, AddressID: "new", Method: PaymentMethods[0].ID}
	return s.renderCheckout(v, http.StatusOK, form, "", nil)
}

// renderCheckout shows the checkout form with the cart, the visitor's
// input, an alert and field errors, and a fresh key: a form re-rendered
// after a decline or an error is a new attempt.
func (s *Site) renderCheckout(v *Visit, status int, form checkoutForm, alert string, fields []errs.FieldError) error {
	data := checkoutPageData{Form: form, Methods: PaymentMethods, Key: randomToken(), Alert: alert, Fields: fields}
	c, ok, err := s.currentCart(v)
	if err != nil {
		return err
	}
	if !ok || len(c.Items) == 0 {
		data.EmptyCart = true
		return v.Render(status, "checkout", "Checkout", data)
	}
	if data.Cart, err = s.viewCart(v, c); err != nil {
		return err
	}
	data.CanPlace = data.Cart.Problems == 0
	if v.Visitor.SignedIn() {
		if data.Saved, err = s.d.Customers.AddressBook(v.Ctx(), v.Visitor.CustomerID); err != nil {
			return err
		}
		if form.AddressID == "new" && len(data.Saved) > 0 && form.Address == (orders.Address{}) {
			data.Form.AddressID = data.Saved[0].ID
		}
	}
	return v.Render(status, "checkout", "Checkout", data)
}

// readCheckoutForm reads the form as entered; address_id "new" (or none)
// means the address fields.
func readCheckoutForm(c echo.Context) checkoutForm {
	f := checkoutForm{Email: strings.TrimSpace(c.FormValue("email")), AddressID: c.FormValue("address_id"), Method: c.FormValue("payment_method"),
		Address: orders.Address{Name: c.FormValue("name"), Line1: c.FormValue("line1"), Line2: c.FormValue("line2"), City: c.FormValue("city"),
			PostalCode: c.FormValue("postal_code"), Country: c.FormValue("country"), Phone: c.FormValue("phone")}}
	if f.AddressID == "" {
		f.AddressID = "new"
	}
	return f
}

// addressOf is the address an order ships to: a saved one of the
// customer's, or the fields.
func (s *Site) addressOf(v *Visit, f checkoutForm) (orders.Address, error) {
	if f.AddressID == "new" || !v.Visitor.SignedIn() {
		return f.Address, nil
	}
	book, err := s.d.Customers.AddressBook(v.Ctx(), v.Visitor.CustomerID)
	if err != nil {
		return orders.Address{}, err
	}
	for _, a := range book {
		if a.ID == f.AddressID {
			return orders.Address{Name: a.Name, Line1: a.Line1, Line2: a.Line2, City: a.City, PostalCode: a.PostalCode,
				Country: a.Country, Phone: a.Phone}, nil
		}
	}
	return orders.Address{}, errs.Invalid(errs.FieldError{Field: "address_id", Message: "choose one of your addresses or a new one"})
}

// How long a second submit of a checkout form waits for the first.
const (
	checkoutWait = 15 * time.Second
	checkoutPoll = 100 * time.Millisecond
)

// placeOrder checks the cart out and places its order, as the JSON API
// does (POST /v1/carts/{id}/checkout, then POST /v1/orders with an
// Idempotency-Key). The form's key is bound to the checkout its first
// submit made (web_checkout_keys), so a second submit of the same form
// places from the same checkout with the same key, and the orders module
// answers it with the first order: never two.
func (s *Site) placeOrder(c echo.Context, v *Visit) error {
	f := readCheckoutForm(c)
	key := c.FormValue("idempotency_key")
	if key == "" || len(key) > 255 {
		return s.renderCheckout(v, http.StatusUnprocessableEntity, f, "The form has expired; please check your details and place the order again.", nil)
	}
	// A browser that sends the form again (a double click without
	// JavaScript) drops the first request: its work goes on regardless, so
	// the key is never left bound to a checkout half made.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(v.Ctx()), 2*checkoutWait)
	defer cancel()
	claimed, err := s.d.Sessions.ClaimCheckoutKey(ctx, key, s.d.Clock.Now())
	if err != nil {
		return err
	}
	var checkoutID string
	if claimed {
		if checkoutID, err = s.checkOut(ctx, v, f, key); err != nil || checkoutID == "" {
			return err
		}
	} else if checkoutID, err = s.waitForCheckout(v, key); err != nil {
		return err
	}
	if checkoutID == "" {
		// The first submit failed and let its key go: this one is a new attempt.
		return s.renderCheckout(v, http.StatusConflict, f, "This form was already sent. Please check your details and place the order again.", nil)
	}
	req := orders.PlaceOrderRequest{CheckoutID: checkoutID, PaymentMethod: f.Method}
	var o orders.Order
	deadline := time.Now().Add(checkoutWait) // waiting is real time, whatever the shop's clock says
	for {
		o, err = s.d.Shop.PlaceOrder(ctx, v.Visitor.CustomerID, key, req)
		if !errors.Is(err, orders.ErrRequestInProgress) || !time.Now().Before(deadline) {
			break
		}
		if !sleep(v, checkoutPoll) {
			break
		}
	}
	if err != nil {
		return s.placeFailed(v, f, err)
	}
	if !v.Visitor.SignedIn() {
		v.SetGuestCart("") // the cart became the order
	}
	v.c.Set(cartKey, cachedCart{})
	target := "/orders/" + url.PathEscape(o.ID)
	if o.GuestToken != nil {
		target += "?token=" + url.QueryEscape(*o.GuestToken)
	}
	return v.Redirect(target, "Thank you! Your order "+o.Number+" is placed.")
}

// checkOut makes the checkout of the visitor's cart for a key just
// claimed; when it fails, the key is let go and the form shown again
// (checkoutID "" with a nil error: the answer is sent).
func (s *Site) checkOut(ctx context.Context, v *Visit, f checkoutForm, key string) (string, error) {
	forget := func() { _ = s.d.Sessions.ForgetCheckoutKey(ctx, key) }
	cr, ok, err := s.currentCart(v)
	if err != nil {
		forget()
		return "", err
	}
	if !ok || len(cr.Items) == 0 {
		forget()
		return "", v.Redirect("/cart", "Your cart is empty.")
	}
	addr, err := s.addressOf(v, f)
	var co orders.Checkout
	if err == nil {
		co, err = s.d.Shop.Checkout(ctx, cr.ID, v.Visitor.CustomerID, orders.CheckoutRequest{Email: f.Email, ShippingAddress: &addr})
	}
	if err != nil {
		forget()
		return "", s.checkoutFailed(v, f, err)
	}
	if err := s.d.Sessions.SetCheckoutKey(ctx, key, co.ID); err != nil {
		return "", err
	}
	return co.ID, nil
}

// waitForCheckout is the checkout an earlier submit of the same form made,
// waiting while it is being made; "" when that submit failed.
func (s *Site) waitForCheckout(v *Visit, key string) (string, error) {
	deadline := time.Now().Add(checkoutWait)
	for {
		id, err := s.d.Sessions.CheckoutOfKey(v.Ctx(), key)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return "", nil
		case err != nil:
			return "", err
		case id != "":
			return id, nil
		case !time.Now().Before(deadline) || !sleep(v, checkoutPoll):
			return "", orders.ErrRequestInProgress
		}
	}
}

// sleep waits d unless the request ends first.
func sleep(v *Visit, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-v.Ctx().Done():
		return false
	}
}

// checkoutFailed answers a checkout the orders module refused: bad input
// next to its fields, lines that cannot be bought in an alert.
func (s *Site) checkoutFailed(v *Visit, f checkoutForm, err error) error {
	e := errs.As(err)
	switch {
	case errors.Is(err, inventory.ErrOutOfStock):
		return s.renderCheckout(v, http.StatusConflict, f,
			"Some items in your cart are no longer available in the quantity you chose. Please update your cart.", nil)
	case errors.Is(err, orders.ErrEmptyCart):
		return v.Redirect("/cart", "Your cart is empty.")
	case errors.Is(err, orders.ErrCheckoutCompleted), errors.Is(err, orders.ErrCartNotActive):
		return v.Redirect("/cart", "That cart has already become an order.")
	case errors.Is(err, orders.ErrRequestInProgress):
		return s.renderCheckout(v, http.StatusConflict, f, "Your order is being placed. Please wait a moment and check your orders.", nil)
	case e != nil && e.Kind == errs.KindValidation:
		var fields []errs.FieldError
		for _, fe := range e.Fields {
			fe.Field = strings.TrimPrefix(fe.Field, "shipping_address.")
			fields = append(fields, fe)
		}
		return s.renderCheckout(v, http.StatusUnprocessableEntity, f, "Please correct the fields marked below.", fields)
	}
	return err
}

// placeFailed answers an order the orders module did not place. A declined
// card shows the provider's reason, and the form comes back with the
// shopper's input and a fresh key, for another card.
func (s *Site) placeFailed(v *Visit, f checkoutForm, err error) error {
	e := errs.As(err)
	switch {
	case errors.Is(err, payments.ErrDeclined):
		code, _ := e.Extra["decline_code"].(string)
		reason := declineReasons[code]
		if reason == "" {
			reason = "The payment was declined"
			if code != "" {
				reason += " (" + code + ")"
			}
			reason += "."
		}
		return s.renderCheckout(v, http.StatusPaymentRequired, f, reason+" No order was placed; please choose another payment method.", nil)
	case errors.Is(err, orders.ErrCheckoutExpired):
		return s.renderCheckout(v, http.StatusConflict, f, "The checkout took too long and its items were released. Please place the order again.", nil)
	case errors.Is(err, orders.ErrIdempotencyKeyReused):
		return s.renderCheckout(v, http.StatusUnprocessableEntity, f,
			"This form was already sent with another payment method. Please check your details and place the order again.", nil)
	case errors.Is(err, orders.ErrCheckoutCompleted):
		return v.Redirect("/cart", "That checkout has already become an order.")
	case errors.Is(err, orders.ErrRequestInProgress):
		return s.renderCheckout(v, http.StatusConflict, f, "Your order is still being placed. Please wait a moment before trying again.", nil)
	case e != nil && e.Kind == errs.KindValidation:
		return s.renderCheckout(v, http.StatusUnprocessableEntity, f, "Please choose a payment method.", e.Fields)
	}
	return err
}

// orderPageData is an order as its page shows it.
type orderPageData struct {
	Order orders.Order
	// GuestLink is the address a guest reads the order at ("" for a
	// customer's order).
	GuestLink string
}

func (s *Site) orderPage(c echo.Context, v *Visit) error {
	token := c.QueryParam("token")
	o, err := s.d.Shop.OrderFor(v.Ctx(), c.Param("id"), v.Visitor.CustomerID, token)
	if err != nil {
		return err
	}
	data := orderPageData{Order: o}
	if o.CustomerID == nil && token != "" {
		data.GuestLink = c.Scheme() + "://" + c.Request().Host + "/orders/" + url.PathEscape(o.ID) + "?token=" + url.QueryEscape(token)
	}
	return v.Render(http.StatusOK, "order", "Order "+o.Number, data)
}
