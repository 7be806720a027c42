package service

import (
	"context"
	"fmt"

	"github.com/modshop/modshop/modules/orders/api"
	"github.com/modshop/modshop/platform/errs"
)

// CustomerOrders is api.History: one customer's orders, newest first. An
// empty customer id is refused, since ListOrders would read it as "every
// customer's".
func (s *Service) CustomerOrders(ctx context.Context, customerID, cursor string, limit int) (api.OrderPage, error) {
	var fe errs.Fields
	fe.Check(customerID != "", "customer_id", "is required")
	fe.Check(limit >= 1 && limit <= api.MaxOrderPage, "limit", fmt.Sprintf("must be between 1 and %d", api.MaxOrderPage))
	if err := fe.Err(); err != nil {
		return api.OrderPage{}, err
	}
	items, next, err := s.ListOrders(ctx, customerID, "", cursor, limit)
	if err != nil {
		return api.OrderPage{}, err
	}
	page := api.OrderPage{Items: items}
	if page.Items == nil {
		page.Items = []api.Order{}
	}
	if next != nil {
		page.NextCursor = *next
	}
	return page, nil
}
