// Package domain holds the catalog's rules in plain Go: what a valid
// category, product and variant is, how a product's status may change, and
// what each change means for the product's events. It knows nothing of
// databases or HTTP; field errors are named by their JSON path
// ("variants[2].sku") so the HTTP layer can pass them on unchanged.
package domain

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/platform/errs"
)

// Limits of the catalog's values.
const (
	MaxSlugLen        = 120
	MaxTitleLen       = 200
	MaxDescriptionLen = 10_000
	MaxPrice          = 1_000_000_000 // minor units
	MinVariants       = 1
	MaxVariants       = 100
	MaxSKULen         = 64
	MaxAttributes     = 20
	MaxAttrKeyLen     = 50
	MaxAttrValueLen   = 200
	// MaxCategoryDepth bounds the tree, because every published product is
	// listed once under each category on its path.
	MaxCategoryDepth = 8
)

// ErrTooManyVariants refuses a variant beyond MaxVariants.
var ErrTooManyVariants = errs.Conflict("conflict", fmt.Sprintf("a product has at most %d variants", MaxVariants))

// ErrInvalidTransition refuses a status change the lifecycle does not allow.
var ErrInvalidTransition = errs.Conflict("invalid_state", "the product's status cannot change that way")

// CheckSlug records an error unless s is 1..120 characters of [a-z0-9-].
func CheckSlug(f *errs.Fields, field, s string) {
	if s == "" || len(s) > MaxSlugLen {
		f.Add(field, fmt.Sprintf("must be 1 to %d characters", MaxSlugLen))
		return
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			f.Add(field, "may contain only lowercase letters a-z, digits and '-'")
			return
		}
	}
}

// CheckTitle records an error unless s has 1..200 characters, not all blank.
func CheckTitle(f *errs.Fields, field, s string) {
	checkText(f, field, s, MaxTitleLen)
}

func checkText(f *errs.Fields, field, s string, max int) {
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0 || n > max:
		f.Add(field, fmt.Sprintf("must be 1 to %d characters", max))
	case strings.TrimSpace(s) == "":
		f.Add(field, "must not be blank")
	}
}

// CheckDescription records an error when s is over 10,000 characters.
func CheckDescription(f *errs.Fields, field, s string) {
	if utf8.RuneCountInString(s) > MaxDescriptionLen {
		f.Add(field, fmt.Sprintf("must be at most %d characters", MaxDescriptionLen))
	}
}

// CheckPrice records an error unless 0 <= p <= 10^9 minor units.
func CheckPrice(f *errs.Fields, field string, p int64) {
	if p < 0 || p > MaxPrice {
		f.Add(field, fmt.Sprintf("must be from 0 to %d minor units", MaxPrice))
	}
}

// CheckSKU records an error unless s is 1..64 characters of letters, digits,
// '-', '_' and '.': a SKU appears in URLs (/v1/admin/inventory/{sku}) and on
// labels, so it is kept to characters that need no escaping.
func CheckSKU(f *errs.Fields, field, s string) {
	if s == "" || len(s) > MaxSKULen {
		f.Add(field, fmt.Sprintf("must be 1 to %d characters", MaxSKULen))
		return
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'
		if !ok {
			f.Add(field, "may contain only letters, digits, '-', '_' and '.'")
			return
		}
	}
}

// CheckAttributes records errors for more than 20 keys, a key outside 1..50
// characters or a value over 200 characters.
func CheckAttributes(f *errs.Fields, field string, attrs map[string]string) {
	if len(attrs) > MaxAttributes {
		f.Add(field, fmt.Sprintf("must have at most %d keys", MaxAttributes))
	}
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys) // a stable order of errors
	for _, k := range keys {
		if n := utf8.RuneCountInString(k); n == 0 || n > MaxAttrKeyLen || strings.TrimSpace(k) == "" {
			f.Add(field, fmt.Sprintf("key %q must be 1 to %d characters", truncate(k, MaxAttrKeyLen), MaxAttrKeyLen))
			continue
		}
		if utf8.RuneCountInString(attrs[k]) > MaxAttrValueLen {
			f.Add(field+"."+k, fmt.Sprintf("must be at most %d characters", MaxAttrValueLen))
		}
	}
}

// CheckCategoryID records an error for an empty id; whether the category
// exists is the store's question.
func CheckCategoryID(f *errs.Fields, field string, id *string) {
	if id != nil && *id == "" {
		f.Add(field, "must be a category id or null")
	}
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// CanTransition reports whether a product may go from one status to another.
// Draft and published go back and forth; either may be archived; an archived
// product comes back only as a draft, so that republishing is a deliberate
// second step after it is reviewed.
func CanTransition(from, to api.Status) bool {
	if from == to {
		return true
	}
	switch from {
	case api.StatusDraft:
		return to == api.StatusPublished || to == api.StatusArchived
	case api.StatusPublished:
		return to == api.StatusDraft || to == api.StatusArchived
	case api.StatusArchived:
		return to == api.StatusDraft
	}
	return false
}

// ValidStatus reports a known status.
func ValidStatus(s api.Status) bool {
	return s == api.StatusDraft || s == api.StatusPublished || s == api.StatusArchived
}
