package site

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	customers "github.com/modshop/modshop/modules/customers/api"
	orders "github.com/modshop/modshop/modules/orders/api"
	"github.com/modshop/modshop/platform/errs"
)

// accountPages are register, sign-in, sign-out and the account: profile,
// address book and order history. Registration and sign-in go through
// customers.Accounts, which applies the same rules and failure limits as
// the JSON API's /v1/auth routes; the session is the web module's own.
func (s *Site) accountPages() []Page {
	return []Page{
		{Method: http.MethodGet, Path: "/register", Handle: s.registerForm},
		{Method: http.MethodPost, Path: "/register", Handle: s.register},
		{Method: http.MethodGet, Path: "/signin", Handle: s.signInForm},
		{Method: http.MethodPost, Path: "/signin", Handle: s.signIn},
		{Method: http.MethodPost, Path: "/signout", Handle: s.signOut},
		{Method: http.MethodGet, Path: "/account", Access: SignedIn, Handle: s.account},
		{Method: http.MethodPost, Path: "/account/profile", Access: SignedIn, Handle: s.updateProfile},
		{Method: http.MethodPost, Path: "/account/addresses", Access: SignedIn, Handle: s.addAddress},
		{Method: http.MethodGet, Path: "/account/addresses/:id", Access: SignedIn, Handle: s.editAddressForm},
		{Method: http.MethodPost, Path: "/account/addresses/:id", Access: SignedIn, Handle: s.updateAddress},
		{Method: http.MethodPost, Path: "/account/addresses/:id/delete", Access: SignedIn, Handle: s.deleteAddress},
	}
}

// OrdersPerPage is how many orders the account page lists at once.
const OrdersPerPage = 20

// formError is what a form shows of a failed submission: a message per
// field, and Message for what belongs to no field (shown in role=alert).
type formError struct {
	Fields  []errs.FieldError
	Message string
}

// authForm is the register and sign-in forms' data. The password is never
// sent back.
type authForm struct {
	Name, Email, Next string
	Error             formError
}

func (s *Site) registerForm(c echo.Context, v *Visit) error {
	if v.Visitor.SignedIn() {
		return v.Redirect(SafeNext(c.QueryParam("next")), "")
	}
	return v.Render(http.StatusOK, "account-register", "Register", authForm{Next: c.QueryParam("next")})
}

func (s *Site) register(c echo.Context, v *Visit) error {
	f := authForm{Name: c.FormValue("name"), Email: c.FormValue("email"), Next: c.FormValue("next")}
	cu, err := s.d.Accounts.Register(v.Ctx(), customers.Registration{Name: f.Name, Email: f.Email,
		Password: c.FormValue("password"), ClientIP: c.RealIP()})
	if err != nil {
		status, fe, ok := s.formFailure(c, err)
		if !ok {
			return err
		}
		if errors.Is(err, customers.ErrEmailTaken) {
			fe = formError{Fields: []errs.FieldError{{Field: "email", Message: "is already registered: sign in instead, or use another e-mail"}}}
		}
		f.Error = fe
		return v.Render(status, "account-register", "Register", f)
	}
	if err := s.startSession(v, cu); err != nil {
		return err
	}
	return v.Redirect(SafeNext(f.Next), "Welcome, "+cu.Name+"! Your account is ready.")
}

func (s *Site) signInForm(c echo.Context, v *Visit) error {
	if v.Visitor.SignedIn() {
		return v.Redirect(SafeNext(c.QueryParam("next")), "")
	}
	return v.Render(http.StatusOK, "account-signin", "Sign in", authForm{Next: c.QueryParam("next")})
}

// signInFailed is the one message for an unknown e-mail and a wrong
// password: the page must not tell which accounts exist.
const signInFailed = "The e-mail or password is wrong."

func (s *Site) signIn(c echo.Context, v *Visit) error {
	f := authForm{Email: c.FormValue("email"), Next: c.FormValue("next")}
	cu, err := s.d.Accounts.Authenticate(v.Ctx(), f.Email, c.FormValue("password"), c.RealIP())
	if err != nil {
		status, fe, ok := s.formFailure(c, err)
		if !ok {
			return err
		}
		if errors.Is(err, customers.ErrInvalidCredentials) {
			fe = formError{Message: signInFailed}
		}
		f.Error = fe
		return v.Render(status, "account-signin", "Sign in", f)
	}
	if err := s.startSession(v, cu); err != nil {
		return err
	}
	return v.Redirect(SafeNext(f.Next), "Signed in. Welcome back, "+cu.Name+"!")
}

// startSession signs the customer in and merges the visitor's guest cart
// into theirs. A merge that fails (the cart is gone, was merged or checked
// out already, or the cart module is down) is logged and forgotten: it is
// no reason to refuse a sign-in.
func (s *Site) startSession(v *Visit, cu customers.Customer) error {
	if err := v.SignIn(cu); err != nil {
		return errs.Internal(fmt.Errorf("start session: %w", err))
	}
	if v.GuestCart == "" {
		return nil
	}
	if _, err := s.d.Merger.Merge(v.Ctx(), cu.ID, v.GuestCart); err != nil {
		// The cart's id is its capability: it stays out of the log.
		s.d.Log.Warn("guest cart not merged at sign-in", "customer", cu.ID, "err", err)
	}
	v.SetGuestCart("")
	return nil
}

// formFailure is how a form shows an api error: field errors (422), a
// conflict or a limit in words (with Retry-After for a limit), or a
// credentials error. ok is false for anything else (a 5xx), which the
// caller returns as the error page.
func (s *Site) formFailure(c echo.Context, err error) (status int, fe formError, ok bool) {
	e := errs.As(err)
	if e == nil {
		return 0, fe, false
	}
	switch e.Kind {
	case errs.KindValidation:
		fe.Fields = e.Fields
		if len(fe.Fields) == 0 {
			fe.Message = e.Message
		}
	case errs.KindRateLimited:
		secs := retryAfter(e)
		c.Response().Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		what := "attempts"
		if errors.Is(err, customers.ErrTooManySignIns) {
			what = "failed sign-ins"
		} else if errors.Is(err, customers.ErrTooManyRegistrations) {
			what = "registrations from your address"
		}
		fe.Message = fmt.Sprintf("Too many %s. Please try again in %s.", what, seconds(secs))
	case errs.KindConflict, errs.KindUnauthorized, errs.KindNotFound:
		fe.Message = e.Message
	default:
		return 0, fe, false
	}
	return e.Kind.Status(), fe, true
}

// retryAfter reads a limit's wait, in whole seconds (at least 1): an
// int64 in process, a JSON number over HTTP.
func retryAfter(e *errs.Error) int64 {
	var n int64
	switch v := e.Extra["retry_after"].(type) {
	case int64:
		n = v
	case int:
		n = int64(v)
	case float64:
		n = int64(v)
	}
	return max(n, 1)
}

func seconds(n int64) string {
	if n == 1 {
		return "1 second"
	}
	return strconv.FormatInt(n, 10) + " seconds"
}

func (s *Site) signOut(_ echo.Context, v *Visit) error {
	if err := v.SignOut(); err != nil {
		return errs.Internal(fmt.Errorf("end session: %w", err))
	}
	return v.Redirect("/", "You are signed out.")
}

// addressForm is an address form's input and errors; Address.ID names the
// address being edited.
type addressForm struct {
	Address customers.Address
	Error   formError
}

// accountPage is what account.html shows.
type accountPage struct {
	Customer    customers.Customer
	Profile     authForm // Name and Error
	Addresses   []customers.Address
	BookFull    bool
	MaxAddress  int
	NewAddress  addressForm
	Orders      []orders.Order
	OrderCursor string // the page shown ("" for the newest)
	NextCursor  string // the next (older) page, "" when none
}

// accountData reads what the account page shows: the account, its address
// book and one page of its orders (from cursor, the query's "orders").
func (s *Site) accountData(c echo.Context, v *Visit) (accountPage, error) {
	ctx := v.Ctx()
	cu, err := s.d.Customers.Customer(ctx, v.Visitor.CustomerID)
	if err != nil {
		return accountPage{}, err
	}
	book, err := s.d.Customers.AddressBook(ctx, cu.ID)
	if err != nil {
		return accountPage{}, err
	}
	cursor := c.QueryParam("orders")
	page, err := s.d.History.CustomerOrders(ctx, cu.ID, cursor, OrdersPerPage)
	if e := errs.As(err); e != nil && e.Kind == errs.KindValidation && cursor != "" {
		// A cursor the page did not make (edited by hand): the newest orders.
		cursor = ""
		page, err = s.d.History.CustomerOrders(ctx, cu.ID, "", OrdersPerPage)
	}
	if err != nil {
		return accountPage{}, err
	}
	return accountPage{Customer: cu, Profile: authForm{Name: cu.Name}, Addresses: book, BookFull: len(book) >= customers.MaxAddresses,
		MaxAddress: customers.MaxAddresses, NewAddress: addressForm{Address: customers.Address{}},
		Orders: page.Items, OrderCursor: cursor, NextCursor: page.NextCursor}, nil
}

func (s *Site) account(c echo.Context, v *Visit) error {
	d, err := s.accountData(c, v)
	if err != nil {
		return err
	}
	return v.Render(http.StatusOK, "account", "Your account", d)
}

func (s *Site) updateProfile(c echo.Context, v *Visit) error {
	name := c.FormValue("name")
	cu, err := s.d.Accounts.UpdateProfile(v.Ctx(), v.Visitor.CustomerID, name)
	if err != nil {
		status, fe, ok := s.formFailure(c, err)
		if !ok {
			return err
		}
		d, derr := s.accountData(c, v)
		if derr != nil {
			return derr
		}
		d.Profile = authForm{Name: name, Error: fe}
		return v.Render(status, "account", "Your account", d)
	}
	if err := v.Rename(cu.Name); err != nil {
		return errs.Internal(fmt.Errorf("rename sessions: %w", err))
	}
	return v.Redirect("/account", "Your name is now "+cu.Name+".")
}

// addressInput is the address a form sent.
func addressInput(c echo.Context) customers.Address {
	return customers.Address{Name: c.FormValue("name"), Line1: c.FormValue("line1"), Line2: c.FormValue("line2"),
		City: c.FormValue("city"), PostalCode: c.FormValue("postal_code"), Country: c.FormValue("country"), Phone: c.FormValue("phone")}
}

func (s *Site) addAddress(c echo.Context, v *Visit) error {
	in := addressInput(c)
	if _, err := s.d.Accounts.AddAddress(v.Ctx(), v.Visitor.CustomerID, in); err != nil {
		status, fe, ok := s.formFailure(c, err)
		if !ok {
			return err
		}
		d, derr := s.accountData(c, v)
		if derr != nil {
			return derr
		}
		d.NewAddress = addressForm{Address: in, Error: fe}
		return v.Render(status, "account", "Your account", d)
	}
	return v.Redirect("/account#addresses", "Address added.")
}

func (s *Site) editAddressForm(c echo.Context, v *Visit) error {
	a, err := s.d.Customers.Address(v.Ctx(), v.Visitor.CustomerID, c.Param("id"))
	if err != nil {
		return err
	}
	return v.Render(http.StatusOK, "account-address", "Edit address", addressForm{Address: a})
}

func (s *Site) updateAddress(c echo.Context, v *Visit) error {
	in := addressInput(c)
	in.ID = c.Param("id")
	if _, err := s.d.Accounts.UpdateAddress(v.Ctx(), v.Visitor.CustomerID, in); err != nil {
		if errors.Is(err, customers.ErrAddressNotFound) {
			return err
		}
		status, fe, ok := s.formFailure(c, err)
		if !ok {
			return err
		}
		return v.Render(status, "account-address", "Edit address", addressForm{Address: in, Error: fe})
	}
	return v.Redirect("/account#addresses", "Address saved.")
}

func (s *Site) deleteAddress(c echo.Context, v *Visit) error {
	if err := s.d.Accounts.DeleteAddress(v.Ctx(), v.Visitor.CustomerID, c.Param("id")); err != nil {
		return err
	}
	return v.Redirect("/account#addresses", "Address removed.")
}
