package service

import (
	"context"
	"strings"
	"time"

	"github.com/modshop/modshop/modules/customers/api"
	"github.com/modshop/modshop/platform/errs"
)

// ListCustomers pages through the accounts newest first (api.BackOffice).
// The cursor is opaque to callers: the last account's creation time and id.
func (s *Service) ListCustomers(ctx context.Context, q api.CustomerQuery) (api.CustomerPage, error) {
	var fe errs.Fields
	limit := q.Limit
	if limit == 0 {
		limit = api.DefaultPageSize
	}
	fe.Check(limit >= 1 && limit <= 100, "limit", "must be between 1 and 100")
	var afterAt time.Time
	var afterID string
	if q.Cursor != "" {
		at, id, ok := parseAccountCursor(q.Cursor)
		fe.Check(ok, "cursor", "is not a cursor this list returned")
		afterAt, afterID = at, id
	}
	prefix := strings.ToLower(strings.TrimSpace(q.EmailPrefix))
	fe.Check(len(prefix) <= 254, "email_prefix", "must be at most 254 characters")
	if err := fe.Err(); err != nil {
		return api.CustomerPage{}, err
	}
	rows, err := s.store.ListAccounts(ctx, prefix, afterAt, afterID, limit+1)
	if err != nil {
		return api.CustomerPage{}, err
	}
	page := api.CustomerPage{Items: make([]api.Customer, 0, min(len(rows), limit))}
	for i, r := range rows {
		if i == limit {
			last := rows[i-1]
			page.NextCursor = cursorEncoding.EncodeToString([]byte(last.CreatedAt.UTC().Format(time.RFC3339Nano) + "|" + last.ID))
			break
		}
		page.Items = append(page.Items, customerOf(r))
	}
	return page, nil
}

func parseAccountCursor(c string) (time.Time, string, bool) {
	b, err := cursorEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", false
	}
	at, id, ok := strings.Cut(string(b), "|")
	if !ok || id == "" {
		return time.Time{}, "", false
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return time.Time{}, "", false
	}
	return t, id, true
}
