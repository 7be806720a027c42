// Package domain holds the inventory's rules, in plain Go: what a valid
// request is and what each call means for a reservation in a given state.
package domain

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/platform/errs"
)

// MaxLines bounds one reservation; a cart has far fewer.
const MaxLines = 1000

// NormalizeLines validates lines and returns them with one line per SKU,
// sorted by SKU. Sorting is what keeps concurrent callers from deadlocking:
// every transaction takes the level rows in the same order.
func NormalizeLines(lines []api.Line) ([]api.Line, error) {
	var fe errs.Fields
	if len(lines) == 0 || len(lines) > MaxLines {
		fe.Add("lines", fmt.Sprintf("must hold 1 to %d lines", MaxLines))
		return nil, fe.Err()
	}
	sum := make(map[string]int64, len(lines))
	for i, l := range lines {
		field := fmt.Sprintf("lines[%d]", i)
		fe.Check(l.SKU != "", field+".sku", "must not be empty")
		fe.Check(l.Quantity > 0 && l.Quantity <= api.MaxAdjustment, field+".quantity", fmt.Sprintf("must be from 1 to %d", api.MaxAdjustment))
		sum[l.SKU] += l.Quantity
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	out := make([]api.Line, 0, len(sum))
	for sku, q := range sum {
		out = append(out, api.Line{SKU: sku, Quantity: q})
	}
	slices.SortFunc(out, func(a, b api.Line) int { return strings.Compare(a.SKU, b.SKU) })
	return out, nil
}

// SameLines reports whether two normalized line lists are equal.
func SameLines(a, b []api.Line) bool { return slices.Equal(a, b) }

// CheckAdjustment validates an admin adjustment and returns the reason
// trimmed of surrounding space.
func CheckAdjustment(delta int64, reason string) (string, error) {
	var fe errs.Fields
	fe.Check(delta != 0 && delta >= -api.MaxAdjustment && delta <= api.MaxAdjustment,
		"delta", fmt.Sprintf("must be a non-zero whole number from -%d to %d", api.MaxAdjustment, api.MaxAdjustment))
	reason = strings.TrimSpace(reason)
	fe.Check(reason != "" && utf8.RuneCountInString(reason) <= api.MaxReasonLen,
		"reason", fmt.Sprintf("must be 1 to %d characters", api.MaxReasonLen))
	return reason, fe.Err()
}

// CommitOutcome is what Commit means for a reservation that is no longer
// active: nil for one already committed (a retry), else the error.
func CommitOutcome(s api.ReservationStatus) error {
	if s == api.StatusCommitted {
		return nil
	}
	return api.ErrReservationExpired // released, expired, or active but past its expiry

}

// ReleaseOutcome is what Release means for a reservation that is no longer
// active: nil for one already given back, ErrInvalidState for a sale.
func ReleaseOutcome(s api.ReservationStatus) error {
	if s == api.StatusCommitted {
		return api.ErrInvalidState
	}
	return nil
}

// ReserveOutcome is what a repeated Reserve returns for an existing
// reservation with the same lines: the reservation while it holds stock or
// was sold, else the error that says why it holds nothing.
func ReserveOutcome(s api.ReservationStatus) error {
	switch s {
	case api.StatusActive, api.StatusCommitted:
		return nil
	case api.StatusReleased:
		return api.ErrInvalidState.WithCause(fmt.Errorf("reservation was released"))
	default:
		return api.ErrReservationExpired
	}
}

// Ledger reasons of the changes other modules cause.
const (
	ReasonReserve = "reserve"
	ReasonCommit  = "commit"
	ReasonRelease = "release"
	ReasonExpire  = "expire"
	ReasonRestock = "restock"
)
