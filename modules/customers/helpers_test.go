package customers_test

import (
	"context"
	"maps"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/modshop/modshop/modules/customers"
	"github.com/modshop/modshop/modules/customers/internal/domain"
	"github.com/modshop/modshop/modules/customers/internal/service"
	platformapp "github.com/modshop/modshop/platform/app"
	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/testkit"
)

// cheap is a valid argon2id cost that keeps tests fast; tests about the cost
// itself use the production default.
var cheap = domain.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// clock is a test clock that several processes can share.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// opts are what a test may change about the process it starts.
type opts struct {
	cfg   service.Config
	env   map[string]string
	extra []platformapp.Module
	fx    []fx.Option
}

// start runs the customers module (and any extra modules) in a process of
// its own on db. Unless the test sets a cost, hashing is cheap.
func start(t testing.TB, db testkit.DB, o opts) *testkit.Shop {
	t.Helper()
	if o.cfg.Hashing == (domain.Params{}) {
		o.cfg.Hashing = cheap
	}
	settings := map[string]string{"MODSHOP_INTERNAL_TOKEN": internalToken}
	maps.Copy(settings, o.env)
	mods := append([]platformapp.Module{{Name: customers.Name, Local: customers.NewModule(o.cfg)}}, o.extra...)
	return testkit.Start(t, mods, testkit.Options{DB: &db, Env: settings, Extra: o.fx})
}

// internalToken lets the contract suite call the module over HTTP.
const internalToken = "customers-test-internal-token"

// rawDB opens the test's database directly, to look at what the module
// stored (its own tables only).
func rawDB(t *testing.T, db testkit.DB) *database.DB {
	t.Helper()
	d, err := database.Open(db.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func count(t *testing.T, d *database.DB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := d.Gorm.WithContext(context.Background()).Raw(query, args...).Scan(&n).Error; err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// session is the answer of register, login and refresh.
type session struct {
	Customer struct {
		ID        string    `json:"id"`
		Email     string    `json:"email"`
		Name      string    `json:"name"`
		Role      string    `json:"role"`
		CreatedAt time.Time `json:"created_at"`
	} `json:"customer"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
}

func register(t *testing.T, shop *testkit.Shop, email, password, name string) session {
	t.Helper()
	var s session
	testkit.Expect(t, shop.Post("/v1/auth/register", "", map[string]string{"email": email, "password": password, "name": name}), 201).JSON(t, &s)
	return s
}

func login(shop *testkit.Shop, email, password string) testkit.Response {
	return shop.Post("/v1/auth/login", "", map[string]string{"email": email, "password": password})
}

func mustLogin(t *testing.T, shop *testkit.Shop, email, password string) session {
	t.Helper()
	var s session
	testkit.Expect(t, login(shop, email, password), 200).JSON(t, &s)
	return s
}

func refresh(shop *testkit.Shop, token string) testkit.Response {
	return shop.Post("/v1/auth/refresh", "", map[string]string{"refresh_token": token})
}

func defaultParams() domain.Params { return domain.DefaultParams }
