package site

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	customers "github.com/modshop/modshop/modules/customers/api"
	orders "github.com/modshop/modshop/modules/orders/api"
	payments "github.com/modshop/modshop/modules/payments/api"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/events"
)

// adminPages are the back office, for the admin role only: the dashboard,
// orders and their commands, customers, this process's dead letters, and
// (admin_catalog*.go) products and stock.
func (s *Site) adminPages() []Page {
	pages := []Page{
		{http.MethodGet, "/admin", Admin, s.adminHome},
		{http.MethodGet, "/admin/orders", Admin, s.adminOrders},
		{http.MethodGet, "/admin/orders/:id", Admin, s.adminOrder},
		{http.MethodPost, "/admin/orders/:id/ship", Admin, s.adminOrderCommand("ship")},
		{http.MethodPost, "/admin/orders/:id/deliver", Admin, s.adminOrderCommand("deliver")},
		{http.MethodPost, "/admin/orders/:id/cancel", Admin, s.adminOrderCommand("cancel")},
		{http.MethodPost, "/admin/orders/:id/refund", Admin, s.adminOrderCommand("refund")},
		{http.MethodGet, "/admin/customers", Admin, s.adminCustomers},
		{http.MethodGet, "/admin/customers/:id", Admin, s.adminCustomer},
		{http.MethodGet, "/admin/dead-letters", Admin, s.adminDeadLetters},
		{http.MethodPost, "/admin/dead-letters/:module/:id/replay", Admin, s.adminReplay},
	}
	pages = append(pages, s.adminCatalogPages()...)
	return pages
}

// adminPageSize is a back-office list's page.
const adminPageSize = 25

// dashboardScan is how many placed orders the dashboard counts before it
// says "more than": a count needs no query of its own that way.
const dashboardScan = 100

// AdminHome is the dashboard.
type AdminHome struct {
	AwaitingShipment     int
	AwaitingShipmentMore bool // more than AwaitingShipment
	Oldest               []orders.Order
	DeadLetters          int
}

func (s *Site) adminHome(c echo.Context, v *Visit) error {
	page, err := s.d.OrderDesk.AdminOrders(v.Ctx(), orders.OrderQuery{Status: orders.StatusPlaced, Limit: dashboardScan})
	if err != nil {
		return err
	}
	dls, err := s.d.Bus.DeadLetters(v.Ctx(), false)
	if err != nil {
		return err
	}
	home := AdminHome{AwaitingShipment: len(page.Items), AwaitingShipmentMore: page.NextCursor != "", DeadLetters: len(dls)}
	// The longest waiting of those seen first: the list is newest first.
	for i := len(page.Items) - 1; i >= 0 && len(home.Oldest) < 5; i-- {
		home.Oldest = append(home.Oldest, page.Items[i])
	}
	return v.Render(http.StatusOK, "admin_home", "Back office", home)
}

// orderStatuses are the list's filters, "" being all.
var orderStatuses = []orders.Status{orders.StatusPlaced, orders.StatusShipped, orders.StatusDelivered, orders.StatusCancelled, orders.StatusRefunded}

// AdminOrderList is the orders page.
type AdminOrderList struct {
	Status   string
	Statuses []orders.Status
	Orders   []orders.Order
	Next     string // the next page's URL, "" on the last
	Paged    bool   // not the first page
}

func (s *Site) adminOrders(c echo.Context, v *Visit) error {
	status := c.QueryParam("status")
	if status == "all" {
		status = ""
	}
	cursor := c.QueryParam("cursor")
	page, err := s.d.OrderDesk.AdminOrders(v.Ctx(), orders.OrderQuery{Status: orders.Status(status), Cursor: cursor, Limit: adminPageSize})
	if err != nil {
		return err
	}
	data := AdminOrderList{Status: status, Statuses: orderStatuses, Orders: page.Items, Paged: cursor != ""}
	if page.NextCursor != "" {
		q := url.Values{"cursor": {page.NextCursor}}
		if status != "" {
			q.Set("status", status)
		}
		data.Next = "/admin/orders?" + q.Encode()
	}
	return v.Render(http.StatusOK, "admin_orders", "Orders", data)
}

// AdminOrder is one order's page.
type AdminOrder struct {
	Order orders.Order
	// Payment is the payment as the payments module has it, with its
	// history; nil when it could not be read (the order's own view of it
	// is still shown).
	Payment *payments.Payment
	// Actions are the commands the order's status allows.
	Actions []string
	// Problem is why the last command was refused (409), shown above the
	// order; Fields and Tracking are the ship form's errors and input.
	Problem  string
	Fields   []errs.FieldError
	Tracking string
}

// Can reports whether the order's status allows a command.
func (a AdminOrder) Can(cmd string) bool {
	for _, c := range a.Actions {
		if c == cmd {
			return true
		}
	}
	return false
}

func (s *Site) adminOrderPage(v *Visit, id string) (AdminOrder, error) {
	o, err := s.d.Orders.Order(v.Ctx(), id)
	if err != nil {
		return AdminOrder{}, err
	}
	data := AdminOrder{Order: o, Actions: orders.Transitions[o.Status]}
	if o.Payment.ID != "" {
		if p, err := s.d.Payments.Payment(v.Ctx(), o.Payment.ID); err == nil {
			data.Payment = &p
		} else {
			s.d.Log.Warn("back office: payment not readable", "order", o.ID, "payment", o.Payment.ID, "err", err)
		}
	}
	return data, nil
}

func (s *Site) adminOrder(c echo.Context, v *Visit) error {
	data, err := s.adminOrderPage(v, c.Param("id"))
	if err != nil {
		return err
	}
	return v.Render(http.StatusOK, "admin_orders_detail", "Order "+data.Order.Number, data)
}

// adminOrderCommand runs a command of the order's life. A command its
// status forbids answers 409 with the order as it is and why; a ship
// without a tracking number answers 422 with the form's error.
func (s *Site) adminOrderCommand(cmd string) Handler {
	return func(c echo.Context, v *Visit) error {
		id := c.Param("id")
		tracking := strings.TrimSpace(c.FormValue("tracking_number"))
		var err error
		switch cmd {
		case "ship":
			_, err = s.d.OrderDesk.AdminShip(v.Ctx(), id, tracking)
		case "deliver":
			_, err = s.d.OrderDesk.AdminDeliver(v.Ctx(), id)
		case "cancel":
			_, err = s.d.OrderDesk.AdminCancel(v.Ctx(), id)
		default:
			_, err = s.d.OrderDesk.AdminRefund(v.Ctx(), id)
		}
		if err == nil {
			return v.Redirect("/admin/orders/"+url.PathEscape(id), adminDone[cmd])
		}
		e := errs.As(err)
		if e.Kind != errs.KindConflict && e.Kind != errs.KindValidation {
			return err
		}
		data, rerr := s.adminOrderPage(v, id)
		if rerr != nil {
			return err
		}
		data.Tracking = tracking
		if e.Kind == errs.KindValidation {
			data.Fields = e.Fields
		} else {
			data.Problem = "The order is " + string(data.Order.Status) + ": it cannot be " + adminVerb[cmd] + ". Nothing was changed."
			if !errors.Is(err, orders.ErrInvalidState) {
				data.Problem = e.Message + ". Nothing was changed."
			}
		}
		return v.Render(e.Kind.Status(), "admin_orders_detail", "Order "+data.Order.Number, data)
	}
}

var adminDone = map[string]string{
	"ship": "The order was shipped.", "deliver": "The order was marked delivered.",
	"cancel": "The order was cancelled.", "refund": "The order was refunded.",
}

var adminVerb = map[string]string{"ship": "shipped", "deliver": "delivered", "cancel": "cancelled", "refund": "refunded"}

// AdminCustomerList is the customers page.
type AdminCustomerList struct {
	Email     string // the e-mail prefix searched for
	Customers []customers.Customer
	Next      string
	Paged     bool
}

func (s *Site) adminCustomers(c echo.Context, v *Visit) error {
	email := strings.TrimSpace(c.QueryParam("email"))
	cursor := c.QueryParam("cursor")
	page, err := s.d.CustomerAccounts.ListCustomers(v.Ctx(), customers.CustomerQuery{EmailPrefix: email, Cursor: cursor, Limit: adminPageSize})
	if err != nil {
		return err
	}
	data := AdminCustomerList{Email: email, Customers: page.Items, Paged: cursor != ""}
	if page.NextCursor != "" {
		q := url.Values{"cursor": {page.NextCursor}}
		if email != "" {
			q.Set("email", email)
		}
		data.Next = "/admin/customers?" + q.Encode()
	}
	return v.Render(http.StatusOK, "admin_customers", "Customers", data)
}

// AdminCustomer is one customer's page.
type AdminCustomer struct {
	Customer  customers.Customer
	Addresses []customers.Address
	Orders    []orders.Order
	Next      string
	Paged     bool
}

func (s *Site) adminCustomer(c echo.Context, v *Visit) error {
	id := c.Param("id")
	cu, err := s.d.Customers.Customer(v.Ctx(), id)
	if err != nil {
		return err
	}
	book, err := s.d.Customers.AddressBook(v.Ctx(), id)
	if err != nil {
		return err
	}
	cursor := c.QueryParam("cursor")
	page, err := s.d.OrderDesk.AdminOrders(v.Ctx(), orders.OrderQuery{CustomerID: id, Cursor: cursor, Limit: adminPageSize})
	if err != nil {
		return err
	}
	data := AdminCustomer{Customer: cu, Addresses: book, Orders: page.Items, Paged: cursor != ""}
	if page.NextCursor != "" {
		data.Next = "/admin/customers/" + url.PathEscape(id) + "?cursor=" + url.QueryEscape(page.NextCursor)
	}
	return v.Render(http.StatusOK, "admin_customers_detail", cu.Email, data)
}

// AdminDeadLetters is the dead letters page.
type AdminDeadLetters struct {
	IncludeReplayed bool
	Letters         []events.DeadLetter
	Next            string
	Paged           bool
}

func (s *Site) adminDeadLetters(c echo.Context, v *Visit) error {
	include := c.QueryParam("include_replayed") != ""
	cursor := c.QueryParam("cursor")
	items, next, err := s.d.Bus.DeadLetterPage(v.Ctx(), include, cursor, adminPageSize)
	if err != nil {
		return err
	}
	data := AdminDeadLetters{IncludeReplayed: include, Letters: items, Paged: cursor != ""}
	if next != "" {
		q := url.Values{"cursor": {next}}
		if include {
			q.Set("include_replayed", "1")
		}
		data.Next = "/admin/dead-letters?" + q.Encode()
	}
	return v.Render(http.StatusOK, "admin_deadletters", "Dead letters", data)
}

// adminReplay hands a dead letter to its consumer again, as the JSON API's
// replay does (the same function): a consumer that fails again is a 409
// and the letter stays.
func (s *Site) adminReplay(c echo.Context, v *Visit) error {
	module := c.Param("module")
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return errs.NotFound("no such dead letter")
	}
	if _, err := s.d.Bus.ReplayDeadLetter(v.Ctx(), module, id); err != nil {
		return err
	}
	return v.Redirect("/admin/dead-letters", "The dead letter was replayed: its consumer handled it.")
}
