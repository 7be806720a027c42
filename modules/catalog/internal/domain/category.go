package domain

import (
	"fmt"

	"github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/platform/errs"
)

// Category is a node of the category tree. Its place in the tree never
// changes after it is created, so its Path can be stored with it.
type Category struct {
	ID       string
	Slug     string
	Name     string
	ParentID *string
	Path     []string // ids from the root to this category, itself included
}

// ValidateNewCategory checks a category's own fields.
func ValidateNewCategory(in api.NewCategory) error {
	var f errs.Fields
	CheckSlug(&f, "slug", in.Slug)
	CheckTitle(&f, "name", in.Name)
	CheckCategoryID(&f, "parent_id", in.ParentID)
	return f.Err()
}

// NewCategory makes a validated category under parent (nil for a root).
func NewCategory(id string, in api.NewCategory, parent *Category) (Category, error) {
	if err := ValidateNewCategory(in); err != nil {
		return Category{}, err
	}
	c := Category{ID: id, Slug: in.Slug, Name: in.Name, Path: []string{id}}
	if parent != nil {
		if len(parent.Path) >= MaxCategoryDepth {
			return Category{}, errs.Invalid(errs.FieldError{Field: "parent_id",
				Message: fmt.Sprintf("the category tree is at most %d levels deep", MaxCategoryDepth)})
		}
		pid := parent.ID
		c.ParentID = &pid
		c.Path = append(append(make([]string, 0, len(parent.Path)+1), parent.Path...), id)
	}
	return c, nil
}

// API is the category as the api package shows it.
func (c Category) API() api.Category {
	return api.Category{ID: c.ID, Slug: c.Slug, Name: c.Name, ParentID: c.ParentID}
}
