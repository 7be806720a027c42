package service

import (
	"context"

	"github.com/modshop/modshop/modules/orders/api"
	"github.com/modshop/modshop/modules/orders/internal/domain"
	"github.com/modshop/modshop/platform/errs"
)

// The admin's order desk (api.BackOffice): the same list and commands the
// /v1/admin/orders routes run.

// AdminOrders pages through every order, or one customer's, newest first.
func (s *Service) AdminOrders(ctx context.Context, q api.OrderQuery) (api.AdminOrderPage, error) {
	limit := q.Limit
	if limit == 0 {
		limit = api.DefaultPageSize
	}
	if limit < 1 || limit > 100 {
		return api.AdminOrderPage{}, errs.Invalid(errs.FieldError{Field: "limit", Message: "must be between 1 and 100"})
	}
	items, next, err := s.ListOrders(ctx, q.CustomerID, string(q.Status), q.Cursor, limit)
	if err != nil {
		return api.AdminOrderPage{}, err
	}
	page := api.AdminOrderPage{Items: items}
	if page.Items == nil {
		page.Items = []api.Order{}
	}
	if next != nil {
		page.NextCursor = *next
	}
	return page, nil
}

// AdminShip ships a placed order.
func (s *Service) AdminShip(ctx context.Context, id, tracking string) (api.Order, error) {
	if err := CheckTracking(tracking); err != nil {
		return api.Order{}, err
	}
	return s.Apply(ctx, id, domain.Ship, Reader{Admin: true}, &tracking)
}

// CheckTracking is the rule for a tracking number: 1..100 characters.
func CheckTracking(tracking string) error {
	n := len([]rune(tracking))
	if n == 0 || n > 100 {
		return errs.Invalid(errs.FieldError{Field: "tracking_number", Message: "is required (1..100 characters)"})
	}
	return nil
}

// AdminDeliver marks a shipped order delivered.
func (s *Service) AdminDeliver(ctx context.Context, id string) (api.Order, error) {
	return s.Apply(ctx, id, domain.Deliver, Reader{Admin: true}, nil)
}

// AdminCancel cancels a placed order.
func (s *Service) AdminCancel(ctx context.Context, id string) (api.Order, error) {
	return s.Apply(ctx, id, domain.Cancel, Reader{Admin: true}, nil)
}

// AdminRefund refunds a shipped or delivered order.
func (s *Service) AdminRefund(ctx context.Context, id string) (api.Order, error) {
	return s.Apply(ctx, id, domain.Refund, Reader{Admin: true}, nil)
}
