package customers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/modshop/modshop/modules/customers"
	"github.com/modshop/modshop/modules/customers/api"
	"github.com/modshop/modshop/modules/customers/internal/domain"
	"github.com/modshop/modshop/modules/customers/internal/service"
	platformapp "github.com/modshop/modshop/platform/app"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/modkit"
	"github.com/modshop/modshop/platform/testkit"
)

func TestBootstrapAdminIsCreatedOnce(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		env := map[string]string{"MODSHOP_BOOTSTRAP_ADMIN_EMAIL": " Root@Example.com", "MODSHOP_BOOTSTRAP_ADMIN_PASSWORD": "first-password"}
		first := start(t, db, opts{env: env})
		admin := mustLogin(t, first, "root@example.com", "first-password")
		var me map[string]any
		testkit.Expect(t, first.Get("/v1/me", admin.AccessToken), 200).JSON(t, &me)
		if me["role"] != "admin" || me["email"] != "root@example.com" {
			t.Fatalf("bootstrap account = %v", me)
		}
		// The issued admin token passes the platform's admin check.
		c := register(t, first, "uma@example.com", "password1", "Uma")
		testkit.Expect(t, first.Get("/v1/admin/customers/"+c.Customer.ID, admin.AccessToken), 200)
		testkit.ExpectProblem(t, first.Get("/v1/admin/customers/"+c.Customer.ID, c.AccessToken), 403, "forbidden")
		first.Stop()

		// A restart, even with another password configured, neither adds an
		// account nor touches the existing one.
		env["MODSHOP_BOOTSTRAP_ADMIN_PASSWORD"] = "second-password"
		second := start(t, db, opts{env: env})
		if n := count(t, rawDB(t, db), "SELECT COUNT(*) FROM customers_accounts WHERE role = 'admin'"); n != 1 {
			t.Fatalf("%d admin accounts after a restart, want 1", n)
		}
		mustLogin(t, second, "root@example.com", "first-password")
		testkit.ExpectProblem(t, login(second, "root@example.com", "second-password"), 401, "invalid_credentials")
	})
}

func TestNoBootstrapAdminWithoutConfiguration(t *testing.T) {
	db := testkit.SQLite(t)
	start(t, db, opts{})
	if n := count(t, rawDB(t, db), "SELECT COUNT(*) FROM customers_accounts"); n != 0 {
		t.Fatalf("%d accounts without MODSHOP_BOOTSTRAP_ADMIN_*", n)
	}
}

// Stored hashes carry their cost; after the cost is raised, the next
// successful sign-in stores a hash at the new cost.
func TestSignInRehashesWhenTheCostWasRaised(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		old := start(t, db, opts{cfg: service.Config{Hashing: cheap}})
		register(t, old, "val@example.com", "password1", "Val")
		old.Stop()

		raised := cheap
		raised.Memory, raised.Time = 256, 2
		shop := start(t, db, opts{cfg: service.Config{Hashing: raised}})
		d := rawDB(t, db)
		hashOf := func() string {
			var h string
			if err := d.Gorm.Raw("SELECT password_hash FROM customers_accounts WHERE email = ?", "val@example.com").Scan(&h).Error; err != nil {
				t.Fatal(err)
			}
			return h
		}
		before := hashOf()
		if !strings.HasPrefix(before, "$argon2id$v=19$m=64,t=1,p=1$") {
			t.Fatalf("stored hash %q", before)
		}
		testkit.ExpectProblem(t, login(shop, "val@example.com", "wrong"), 401, "invalid_credentials")
		if hashOf() != before {
			t.Fatal("a failed sign-in replaced the hash")
		}
		mustLogin(t, shop, "val@example.com", "password1")
		after := hashOf()
		if !strings.HasPrefix(after, "$argon2id$v=19$m=256,t=2,p=1$") {
			t.Fatalf("after sign-in the hash is %q, want one at m=256,t=2", after)
		}
		mustLogin(t, shop, "val@example.com", "password1")
		if hashOf() != after {
			t.Fatal("a hash at the current cost was replaced again")
		}
	})
}

func TestRegistrationPublishesCustomerRegistered(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		got := make(chan api.CustomerRegistered, 4)
		// A stand-in consumer module, reading the event off the real bus.
		probe := fx.Module("probe",
			modkit.Storage("probe"),
			modkit.Consumer(func(ob *events.Outbox) events.Consumer {
				return ob.Consumer("registrations", events.On(func(_ context.Context, _ *events.Tx, e api.CustomerRegistered) error {
					got <- e
					return nil
				}))
			}),
		)
		shop := start(t, db, opts{extra: []platformapp.Module{{Name: "probe", Local: probe}}})
		s := register(t, shop, "Wes@Example.com", "password1", "Wes")
		select {
		case e := <-got:
			if e.CustomerID != s.Customer.ID || e.Email != "wes@example.com" || e.Name != "Wes" || !e.RegisteredAt.Equal(s.Customer.CreatedAt) {
				t.Fatalf("event %+v, customer %+v", e, s.Customer)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no customers.customer_registered.v1 within 5s")
		}
		// A refused registration publishes nothing.
		testkit.ExpectProblem(t, shop.Post("/v1/auth/register", "", map[string]string{"email": "wes@example.com", "password": "password1", "name": "Wes"}), 409, "email_taken")
		if err := shop.Runtime.Bus().Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
		select {
		case e := <-got:
			t.Fatalf("a refused registration published %+v", e)
		case <-time.After(100 * time.Millisecond):
		}
	})
}

// The module as cmd/modshop wires it hashes at the production cost.
func TestModuleHashesAtTheProductionCost(t *testing.T) {
	db := testkit.SQLite(t)
	shop := testkit.Start(t, []platformapp.Module{{Name: customers.Name, Local: customers.Module}}, testkit.Options{DB: &db})
	register(t, shop, "xia@example.com", "password1", "Xia")
	var h string
	if err := rawDB(t, db).Gorm.Raw("SELECT password_hash FROM customers_accounts").Scan(&h).Error; err != nil {
		t.Fatal(err)
	}
	want := testkit.Fmt("$argon2id$v=19$m=%d,t=%d,p=%d$", domain.DefaultParams.Memory, domain.DefaultParams.Time, domain.DefaultParams.Threads)
	if !strings.HasPrefix(h, want) {
		t.Fatalf("stored hash %q, want the prefix %s", h, want)
	}
}
