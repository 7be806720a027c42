package domain

import (
	"testing"

	"github.com/modshop/modshop/modules/cart/api"
	catalog "github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/platform/errs"
)

func TestMergedQuantity(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                     string
		mine, theirs, avail, out int64
		known                    bool
	}{
		{"quantities add", 2, 3, 50, 5, true},
		{"capped at 100", 98, 5, 500, 100, true},
		{"capped at what is available", 4, 2, 5, 5, true},
		{"never below what the customer had", 4, 2, 1, 4, true},
		{"a new line with no stock is not added", 0, 3, 0, 0, true},
		{"a SKU not asked about is capped at 100 only", 0, 120, 0, 100, false},
	} {
		if got := MergedQuantity(tc.mine, tc.theirs, tc.avail, tc.known); got != tc.out {
			t.Errorf("%s: MergedQuantity(%d, %d, %d) = %d, want %d", tc.name, tc.mine, tc.theirs, tc.avail, got, tc.out)
		}
	}
}

func TestCheckQuantity(t *testing.T) {
	t.Parallel()
	q := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		q           *int64
		zeroRemoves bool
		ok          bool
	}{
		{q(1), false, true}, {q(100), false, true}, {q(0), false, false}, {q(101), false, false},
		{nil, false, false}, {q(0), true, true}, {q(-1), true, false}, {nil, true, false},
	} {
		err := CheckQuantity(tc.q, tc.zeroRemoves)
		if (err == nil) != tc.ok || (err != nil && !errs.HasCode(err, "validation_failed")) {
			t.Errorf("CheckQuantity(%v, %v) = %v", tc.q, tc.zeroRemoves, err)
		}
	}
}

func TestPrice(t *testing.T) {
	t.Parallel()
	v := func(status catalog.Status, price int64) catalog.VariantInfo {
		return catalog.VariantInfo{VariantID: "v", ProductID: "p", ProductTitle: "Shirt", Title: "Red", ProductStatus: status,
			Price: catalog.Money{Amount: price, Currency: "EUR"}}
	}
	lines := []Line{{ID: "1", SKU: "a", Quantity: 2}, {ID: "2", SKU: "b", Quantity: 1}, {ID: "3", SKU: "c", Quantity: 4}, {ID: "4", SKU: "d", Quantity: 1}}
	items, count, subtotal := Price(lines, map[string]catalog.VariantInfo{
		"a": v(catalog.StatusPublished, 500), "b": v(catalog.StatusArchived, 700), "c": v(catalog.StatusDraft, 100),
	}, "EUR")
	if count != 8 || subtotal != (catalog.Money{Amount: 1000, Currency: "EUR"}) {
		t.Fatalf("count %d subtotal %+v", count, subtotal)
	}
	want := []struct {
		available bool
		reason    string
		total     int64
	}{{true, "", 1000}, {false, api.ReasonArchived, 0}, {false, api.ReasonUnpublished, 0}, {false, api.ReasonUnknown, 0}}
	for i, w := range want {
		if it := items[i]; it.Available != w.available || it.UnavailableReason != w.reason || it.LineTotal.Amount != w.total {
			t.Errorf("item %d = %+v, want %+v", i, it, w)
		}
	}
	if items[0].Title != "Shirt – Red" || items[1].UnitPrice.Amount != 700 || items[3].UnitPrice.Currency != "EUR" {
		t.Errorf("items = %+v", items)
	}
}

func TestNewCartIDHas128RandomBits(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 1000 {
		id := NewCartID()
		if len(id) != 26 || seen[id] {
			t.Fatalf("id %q: 128 bits in base32 are 26 characters, and never repeat", id)
		}
		seen[id] = true
	}
}
