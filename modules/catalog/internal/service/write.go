package service

import (
	"context"
	"fmt"

	"github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/modules/catalog/internal/domain"
	"github.com/modshop/modshop/modules/catalog/internal/store"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/events"
)

// CreateCategory adds a category under its parent (api.Admin).
func (s *Service) CreateCategory(ctx context.Context, in api.NewCategory) (api.Category, error) {
	if err := domain.ValidateNewCategory(in); err != nil {
		return api.Category{}, err
	}
	var created domain.Category
	err := s.write(ctx, func(tx *store.Tx) error {
		var parent *domain.Category
		if in.ParentID != nil {
			found, err := tx.CategoriesByID([]string{*in.ParentID})
			if err != nil {
				return err
			}
			p, ok := found[*in.ParentID]
			if !ok {
				return errs.Invalid(errs.FieldError{Field: "parent_id", Message: "no such category"})
			}
			parent = &p
		}
		c, err := domain.NewCategory(s.newID(), in, parent)
		if err != nil {
			return err
		}
		created = c
		return tx.InsertCategory(c, s.now())
	})
	if err != nil {
		return api.Category{}, err
	}
	return created.API(), nil
}

// CreateProduct adds a product with its variants (api.Admin).
func (s *Service) CreateProduct(ctx context.Context, in api.NewProduct) (api.Product, error) {
	if err := domain.ValidateNewProduct(in); err != nil {
		return api.Product{}, err
	}
	p := domain.NewProduct(in, s.newID, s.now())
	err := s.write(ctx, func(tx *store.Tx) error {
		paths, err := s.categoryPaths(tx, []domain.Product{p}, func(int) string { return "category_id" })
		if err != nil {
			return err
		}
		return s.insertProducts(tx, []domain.Product{p}, paths)
	})
	if err != nil {
		return api.Product{}, err
	}
	return p.API(s.currency), nil
}

// ImportProducts creates the products whose slugs are free (api.Admin).
func (s *Service) ImportProducts(ctx context.Context, in []api.NewProduct) (int, error) {
	if len(in) > api.MaxImportBatch {
		return 0, errs.Invalid(errs.FieldError{Field: "products", Message: fmt.Sprintf("at most %d per call", api.MaxImportBatch)})
	}
	if err := domain.ValidateImport(in); err != nil {
		return 0, err
	}
	now := s.now()
	created := 0
	err := s.write(ctx, func(tx *store.Tx) error {
		slugs := make([]string, len(in))
		for i, np := range in {
			slugs[i] = np.Slug
		}
		taken, err := tx.ExistingSlugs(slugs)
		if err != nil {
			return err
		}
		var ps []domain.Product
		var index []int // index of each new product in the input, for field names
		for i, np := range in {
			if !taken[np.Slug] {
				ps = append(ps, domain.NewProduct(np, s.newID, now))
				index = append(index, i)
			}
		}
		paths, err := s.categoryPaths(tx, ps, func(i int) string { return fmt.Sprintf("[%d].category_id", index[i]) })
		if err != nil {
			return err
		}
		created = len(ps)
		return s.insertProducts(tx, ps, paths)
	})
	if err != nil {
		return 0, err
	}
	return created, nil
}

// insertProducts stores new products and publishes a variant_created for
// each of their variants and then each one's product event. The events go
// out grouped by name: every variant_created first, then the product events
// of each kind. A product still gets its variants' events before its own,
// and no product has two events here, so no product's events change order;
// but the relay sends a run of one event name as one message, and a bulk
// import written product by product (two variants, a product, two
// variants...) made a message, and a transaction in each consumer, of every
// one or two events.
func (s *Service) insertProducts(tx *store.Tx, ps []domain.Product, paths [][]string) error {
	rows := make([]store.NewProduct, len(ps))
	for i, p := range ps {
		rows[i] = store.NewProduct{Product: p, CategoryPath: paths[i]}
	}
	if err := tx.InsertProducts(rows); err != nil {
		return err
	}
	for _, p := range ps {
		for _, v := range p.Variants {
			if err := tx.Publish(s.variantCreated(p, v)); err != nil {
				return err
			}
		}
	}
	byName := map[string][]events.Event{}
	var names []string
	for i, p := range ps {
		e := s.productEvent("", true, p, paths[i])
		if _, seen := byName[e.EventName()]; !seen {
			names = append(names, e.EventName())
		}
		byName[e.EventName()] = append(byName[e.EventName()], e)
	}
	for _, name := range names {
		if err := tx.Publish(byName[name]...); err != nil {
			return err
		}
	}
	return nil
}

// categoryPaths resolves the products' categories in one query; a category
// that does not exist is a field error (field names the field of product i).
func (s *Service) categoryPaths(tx *store.Tx, ps []domain.Product, field func(i int) string) ([][]string, error) {
	var ids []string
	for _, p := range ps {
		if p.CategoryID != nil {
			ids = append(ids, *p.CategoryID)
		}
	}
	found, err := tx.CategoriesByID(ids)
	if err != nil {
		return nil, err
	}
	paths := make([][]string, len(ps))
	var f errs.Fields
	for i, p := range ps {
		if p.CategoryID == nil {
			continue
		}
		c, ok := found[*p.CategoryID]
		if !ok {
			f.Add(field(i), "no such category")
			continue
		}
		paths[i] = c.Path
	}
	return paths, f.Err()
}

// UpdateProduct changes a product's own fields (HTTP PATCH).
func (s *Service) UpdateProduct(ctx context.Context, id string, patch domain.Patch) (api.Product, error) {
	if err := patch.Validate(); err != nil {
		return api.Product{}, err
	}
	return s.change(ctx, id, func(tx *store.Tx, p *domain.Product) (bool, error) {
		return p.Apply(patch, s.now())
	})
}

// ArchiveProduct archives a product; archiving an archived product changes
// nothing (HTTP DELETE).
func (s *Service) ArchiveProduct(ctx context.Context, id string) error {
	archived := api.StatusArchived
	_, err := s.change(ctx, id, func(tx *store.Tx, p *domain.Product) (bool, error) {
		return p.Apply(domain.Patch{Status: &archived}, s.now())
	})
	return err
}

// AddVariant adds a variant to a product and returns the product.
func (s *Service) AddVariant(ctx context.Context, productID string, in api.NewVariant) (api.Product, error) {
	if err := domain.ValidateNewVariant(in); err != nil {
		return api.Product{}, err
	}
	return s.change(ctx, productID, func(tx *store.Tx, p *domain.Product) (bool, error) {
		v, err := p.AddVariant(s.newID(), in, s.now())
		if err != nil {
			return false, err
		}
		if err := tx.InsertVariant(*p, len(p.Variants)-1); err != nil {
			return false, err
		}
		return true, tx.Publish(s.variantCreated(*p, v))
	})
}

// UpdateVariant changes a variant's title, price or attributes and returns
// it.
func (s *Service) UpdateVariant(ctx context.Context, variantID string, patch domain.VariantPatch) (api.Variant, error) {
	if err := patch.Validate(); err != nil {
		return api.Variant{}, err
	}
	var out domain.Variant
	err := s.write(ctx, func(tx *store.Tx) error {
		p, err := tx.LockProductOfVariant(variantID)
		if err != nil {
			return err
		}
		return s.changeLoaded(tx, &p, func(tx *store.Tx, p *domain.Product) (bool, error) {
			now := s.now()
			ch, err := p.UpdateVariant(variantID, patch, now)
			if err != nil {
				return false, err
			}
			out = ch.After
			if !ch.Changed {
				return false, nil
			}
			if err := tx.UpdateVariant(ch.After, now); err != nil {
				return false, err
			}
			if !ch.PriceChanged() {
				return true, nil
			}
			return true, tx.Publish(api.VariantPriceChanged{
				VariantID: ch.After.ID, ProductID: p.ID, SKU: ch.After.SKU,
				OldPrice: s.money(ch.Before.Price), NewPrice: s.money(ch.After.Price),
			})
		})
	})
	if err != nil {
		return api.Variant{}, err
	}
	return out.API(s.currency), nil
}

// mutation changes a loaded product in tx, writing what only it knows about
// (a new variant, a variant's row), and reports whether anything changed.
type mutation func(tx *store.Tx, p *domain.Product) (bool, error)

// change runs a mutation of one product in one transaction.
func (s *Service) change(ctx context.Context, id string, m mutation) (api.Product, error) {
	var out domain.Product
	err := s.write(ctx, func(tx *store.Tx) error {
		p, err := tx.LockProduct(id)
		if err != nil {
			return err
		}
		out = p
		return s.changeLoaded(tx, &out, m)
	})
	if err != nil {
		return api.Product{}, err
	}
	return out.API(s.currency), nil
}

// changeLoaded applies m to p, then, if it changed anything, saves the
// product row (with its new version, price_from and listing rows) and
// publishes the product event.
func (s *Service) changeLoaded(tx *store.Tx, p *domain.Product, m mutation) error {
	before := p.Status
	changed, err := m(tx, p)
	if err != nil || !changed {
		return err
	}
	var path []string
	if p.CategoryID != nil {
		paths, err := s.categoryPaths(tx, []domain.Product{*p}, func(int) string { return "category_id" })
		if err != nil {
			return err
		}
		path = paths[0]
	}
	if err := tx.SaveProduct(*p, path); err != nil {
		return err
	}
	return s.publishProduct(tx, before, false, *p, path)
}

// publishProduct publishes the product event the change calls for.
func (s *Service) publishProduct(tx *store.Tx, before api.Status, created bool, p domain.Product, path []string) error {
	return tx.Publish(s.productEvent(before, created, p, path))
}

// productEvent is the product event a change calls for, with the product's
// full snapshot.
func (s *Service) productEvent(before api.Status, created bool, p domain.Product, path []string) events.Event {
	snap := p.Snapshot(s.currency, path)
	switch domain.ProductEvent(before, p.Status, created) {
	case domain.EventPublished:
		return api.ProductPublished{ProductSnapshot: snap}
	case domain.EventArchived:
		return api.ProductArchived{ProductSnapshot: snap}
	default:
		return api.ProductUpdated{ProductSnapshot: snap}
	}
}

func (s *Service) variantCreated(p domain.Product, v domain.Variant) api.VariantCreated {
	return api.VariantCreated{VariantID: v.ID, ProductID: p.ID, SKU: v.SKU, Title: v.Title, Price: s.money(v.Price)}
}

func (s *Service) money(amount int64) api.Money {
	return api.Money{Amount: amount, Currency: s.currency}
}
