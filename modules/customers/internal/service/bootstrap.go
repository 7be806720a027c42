package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/modshop/modshop/modules/customers/api"
	"github.com/modshop/modshop/modules/customers/internal/domain"
	"github.com/modshop/modshop/modules/customers/internal/store"
)

// BootstrapAdminName is the name the bootstrap admin account gets.
const BootstrapAdminName = "Administrator"

// EnsureAdmin creates an admin account with the e-mail and password unless
// an account with that e-mail exists; an existing account is left exactly
// as it is (its password and role are not touched). It reports whether it
// created the account. Several processes starting at once create one: the
// unique e-mail decides.
func (s *Service) EnsureAdmin(ctx context.Context, rawEmail, password string) (bool, error) {
	email, err := domain.NormalizeEmail(rawEmail)
	if err != nil {
		return false, fmt.Errorf("bootstrap admin e-mail %q: %w", rawEmail, err)
	}
	if msg := domain.CheckNewPassword(password); msg != "" {
		return false, fmt.Errorf("bootstrap admin password: %s", msg)
	}
	_, err = s.store.AccountByEmail(ctx, email)
	switch {
	case err == nil:
		return false, nil
	case !errors.Is(err, store.ErrNotFound):
		return false, err
	}
	_, err = s.createAccount(ctx, email, password, BootstrapAdminName, api.RoleAdmin, nil)
	if errors.Is(err, api.ErrEmailTaken) {
		return false, nil
	}
	return err == nil, err
}
