package api

import "context"

// BackOffice is what the admin's back office asks of accounts beyond
// Customers: the list of every account.
type BackOffice interface {
	// ListCustomers pages through the accounts, newest first. A cursor this
	// list did not give out is a 422 naming "cursor"; a limit outside
	// 1..100 one naming "limit".
	ListCustomers(ctx context.Context, q CustomerQuery) (CustomerPage, error)
}

// CustomerQuery selects a page of accounts. Zero fields do not filter.
type CustomerQuery struct {
	// EmailPrefix keeps the accounts whose (normalized, lower-case) e-mail
	// starts with it; it is matched case-insensitively.
	EmailPrefix string `json:"email_prefix"`
	// Cursor is a page's NextCursor, "" for the first page.
	Cursor string `json:"cursor"`
	// Limit is the page size, 1..100; 0 is DefaultPageSize.
	Limit int `json:"limit"`
}

// DefaultPageSize is a page of accounts when the query gives no limit.
const DefaultPageSize = 20

// CustomerPage is a page of accounts, newest first.
type CustomerPage struct {
	Items []Customer `json:"items"`
	// NextCursor continues the list; "" on the last page.
	NextCursor string `json:"next_cursor"`
}
