package orders_test

import (
	"errors"
	"net/http"
	"testing"

	"go.uber.org/fx"

	"github.com/modshop/modshop/modules/orders"
	"github.com/modshop/modshop/modules/orders/api"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/remote"
	"github.com/modshop/modshop/platform/testkit"
)

// The contract of api.BackOffice, run in process and through the HTTP
// client, each in a shop of the real modules: both must answer what the
// JSON API's admin routes answer, and change orders as they do.
func TestBackOfficeContract(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		t.Run("local", func(t *testing.T) {
			var bo api.BackOffice
			e := startWith(t, db, options{extra: []fx.Option{fx.Populate(&bo)}})
			backOfficeContract(t, e, bo)
		})
		t.Run("http", func(t *testing.T) {
			e := start(t, testkit.Fresh(t, db))
			backOfficeContract(t, e, orders.NewClient(remote.NewClient(orders.Name, e.shop.URL, internalToken)))
		})
	})
}

func backOfficeContract(t *testing.T, e *env, bo api.BackOffice) {
	e.product(t, 2500, 20, "LAMP")
	a := e.place(t, item{"LAMP", 1})
	b := e.place(t, item{"LAMP", 2})
	cust := e.register(t, "kim@example.com")
	var c api.Order
	testkit.Expect(t, e.order(e.checkout(t, e.cart(t, cust.token, item{"LAMP", 1}), cust.token).ID, "pm_card_visa", "k-kim", cust.token),
		http.StatusCreated).JSON(t, &c)

	// Pages, newest first, as the JSON API lists them.
	page, err := bo.AdminOrders(ctx, api.OrderQuery{Limit: 2})
	if err != nil || len(page.Items) != 2 || page.Items[0].ID != c.ID || page.Items[1].ID != b.ID || page.NextCursor == "" {
		t.Fatalf("first page %+v %v", page, err)
	}
	var viaJSON struct {
		Items []api.Order `json:"items"`
	}
	testkit.Expect(t, e.shop.Get("/v1/admin/orders?limit=2", e.shop.AdminToken()), http.StatusOK).JSON(t, &viaJSON)
	for i := range viaJSON.Items {
		sameOrder(t, "the first page as the JSON API lists it", page.Items[i], viaJSON.Items[i])
	}
	page, err = bo.AdminOrders(ctx, api.OrderQuery{Limit: 2, Cursor: page.NextCursor})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != a.ID || page.NextCursor != "" {
		t.Fatalf("second page %+v %v", page, err)
	}
	if page.Items[0].GuestToken != nil {
		t.Fatal("the back office sees a guest's token")
	}
	// One customer's; the default page size.
	page, err = bo.AdminOrders(ctx, api.OrderQuery{CustomerID: cust.id})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != c.ID {
		t.Fatalf("the customer's orders %+v %v", page, err)
	}

	// Ship needs a tracking number; a refused command changes nothing.
	expectProblem(t, "ship without a tracking number", errOf(bo.AdminShip(ctx, a.ID, "")), http.StatusUnprocessableEntity, "tracking_number")
	expectProblem(t, "deliver a placed order", errOf(bo.AdminDeliver(ctx, a.ID)), http.StatusConflict, "")
	if _, err := bo.AdminDeliver(ctx, a.ID); !errors.Is(err, api.ErrInvalidState) {
		t.Fatalf("deliver a placed order: %v, want ErrInvalidState", err)
	}
	checkOrder(t, e, e.orders, "an order after refused commands", withoutToken(a))

	shipped, err := bo.AdminShip(ctx, a.ID, "TRK-9")
	if err != nil || shipped.Status != api.StatusShipped || shipped.TrackingNumber == nil || *shipped.TrackingNumber != "TRK-9" ||
		shipped.Payment.Status != api.PaymentCaptured {
		t.Fatalf("shipped %+v %v", shipped, err)
	}
	checkOrder(t, e, e.orders, "a shipped order", shipped)
	delivered, err := bo.AdminDeliver(ctx, a.ID)
	if err != nil || delivered.Status != api.StatusDelivered {
		t.Fatalf("delivered %+v %v", delivered, err)
	}
	refunded, err := bo.AdminRefund(ctx, a.ID)
	if err != nil || refunded.Status != api.StatusRefunded || refunded.Payment.Status != api.PaymentRefunded {
		t.Fatalf("refunded %+v %v", refunded, err)
	}
	checkOrder(t, e, e.orders, "a refunded order", refunded)
	cancelled, err := bo.AdminCancel(ctx, b.ID)
	if err != nil || cancelled.Status != api.StatusCancelled || cancelled.Payment.Status != api.PaymentVoided {
		t.Fatalf("cancelled %+v %v", cancelled, err)
	}
	checkOrder(t, e, e.orders, "a cancelled order", cancelled)
	if _, err := bo.AdminRefund(ctx, b.ID); !errors.Is(err, api.ErrInvalidState) {
		t.Fatalf("refund a cancelled order: %v", err)
	}
	page, err = bo.AdminOrders(ctx, api.OrderQuery{Status: api.StatusCancelled})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != b.ID {
		t.Fatalf("the cancelled orders %+v %v", page, err)
	}

	// Bad input is a 422 naming the field; an unknown order a 404.
	expectProblem(t, "a bad status", errOf(bo.AdminOrders(ctx, api.OrderQuery{Status: "lost"})), http.StatusUnprocessableEntity, "status")
	expectProblem(t, "a bad cursor", errOf(bo.AdminOrders(ctx, api.OrderQuery{Cursor: "x"})), http.StatusUnprocessableEntity, "cursor")
	expectProblem(t, "a bad limit", errOf(bo.AdminOrders(ctx, api.OrderQuery{Limit: 101})), http.StatusUnprocessableEntity, "limit")
	if _, err := bo.AdminCancel(ctx, "nope"); !errors.Is(err, api.ErrOrderNotFound) {
		t.Fatalf("cancel an unknown order: %v", err)
	}
}

func errOf[T any](_ T, err error) error { return err }

func withoutToken(o api.Order) api.Order {
	o.GuestToken = nil
	return o
}

// expectProblem fails unless err is an api error of the status, naming
// field when field is not "".
func expectProblem(t *testing.T, what string, err error, status int, field string) {
	t.Helper()
	e := errs.As(err)
	if e == nil || e.Kind.Status() != status {
		t.Fatalf("%s: %v, want %d", what, err, status)
	}
	if field != "" && (len(e.Fields) != 1 || e.Fields[0].Field != field) {
		t.Fatalf("%s: fields %+v, want %s", what, e.Fields, field)
	}
}
