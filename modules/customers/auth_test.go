package customers_test

import (
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/modshop/modshop/modules/customers/internal/service"
	"github.com/modshop/modshop/modules/customers/internal/store"
	"github.com/modshop/modshop/platform/auth"
	"github.com/modshop/modshop/platform/testkit"
)

func TestRegisterSignsInAndEmailIsCaseInsensitive(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		shop := start(t, db, opts{})
		before := time.Now().UTC().Add(-time.Second)
		res := testkit.Expect(t, shop.Post("/v1/auth/register", "", map[string]string{
			"email": "  Ann.Lee@Example.COM ", "password": "correct horse", "name": " Ann Lee "}), 201)
		if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control %q on a token answer, want no-store", cc)
		}
		var s session
		res.JSON(t, &s)
		c := s.Customer
		if c.ID == "" || c.Email != "ann.lee@example.com" || c.Name != "Ann Lee" || c.Role != "customer" || c.CreatedAt.Before(before) {
			t.Fatalf("customer = %+v", c)
		}
		if s.TokenType != "Bearer" || s.ExpiresIn != 900 || s.RefreshToken == "" {
			t.Fatalf("tokens = %+v", s)
		}
		m := res.Map(t)
		for _, k := range []string{"customer", "access_token", "refresh_token", "token_type", "expires_in"} {
			if _, ok := m[k]; !ok {
				t.Errorf("register answer lacks %q: %s", k, res.Body)
			}
		}
		p, err := shop.Keys.Verify(s.AccessToken)
		if err != nil || p.Subject != c.ID || p.Role != auth.RoleCustomer {
			t.Fatalf("access token: %+v, %v", p, err)
		}

		var me map[string]any
		testkit.Expect(t, shop.Get("/v1/me", s.AccessToken), 200).JSON(t, &me)
		if me["id"] != c.ID || me["email"] != c.Email || me["role"] != "customer" || me["created_at"] == nil {
			t.Fatalf("/v1/me = %v", me)
		}

		// The same address in another case is the same account.
		testkit.ExpectProblem(t, shop.Post("/v1/auth/register", "", map[string]string{
			"email": "ANN.LEE@example.com", "password": "another password", "name": "Impostor"}), 409, "email_taken")
		var l session
		testkit.Expect(t, login(shop, "ann.LEE@EXAMPLE.com", "correct horse"), 200).JSON(t, &l)
		if l.TokenType != "Bearer" || l.ExpiresIn != 900 || l.RefreshToken == "" || l.RefreshToken == s.RefreshToken {
			t.Fatalf("login tokens = %+v", l)
		}
		if p, err := shop.Keys.Verify(l.AccessToken); err != nil || p.Subject != c.ID {
			t.Fatalf("login access token: %+v, %v", p, err)
		}
		if n := count(t, rawDB(t, db), "SELECT COUNT(*) FROM customers_accounts WHERE email = ?", "ann.lee@example.com"); n != 1 {
			t.Fatalf("%d accounts for one e-mail", n)
		}
	})
}

func TestEmailUniquenessIsADatabaseConstraint(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		start(t, db, opts{})
		d := rawDB(t, db)
		insert := "INSERT INTO customers_accounts (id, email, name, role, password_hash, created_at, updated_at) VALUES (?, ?, 'x', 'customer', 'x', ?, ?)"
		now := time.Now().UTC()
		if err := d.Gorm.Exec(insert, "a1", "bo@example.com", now, now).Error; err != nil {
			t.Fatal(err)
		}
		if err := d.Gorm.Exec(insert, "a2", "bo@example.com", now, now).Error; err == nil {
			t.Fatal("a second row with the same normalized e-mail was accepted")
		}
	})
}

func TestRegisterRefusesBadInputAndChangesNothing(t *testing.T) {
	shop := start(t, testkit.SQLite(t), opts{})
	d := rawDB(t, testkit.DB{URL: shop.Config.DatabaseURL})
	valid := func() map[string]any {
		return map[string]any{"email": "cy@example.com", "password": "password1", "name": "Cy"}
	}
	with := func(k string, v any) map[string]any { m := valid(); m[k] = v; return m }
	without := func(k string) map[string]any { m := valid(); delete(m, k); return m }
	cases := []struct {
		name   string
		body   any
		status int
		code   string
		field  string
	}{
		{"no e-mail", without("email"), 422, "validation_failed", "email"},
		{"not an e-mail", with("email", "cy at example.com"), 422, "validation_failed", "email"},
		{"display-name form", with("email", "Cy <cy@example.com>"), 422, "validation_failed", "email"},
		{"password of 7", with("password", "1234567"), 422, "validation_failed", "password"},
		{"password of 257", with("password", strings.Repeat("p", 257)), 422, "validation_failed", "password"},
		{"password of a megabyte-ish", with("password", strings.Repeat("p", 900_000)), 422, "validation_failed", "password"},
		{"no name", without("name"), 422, "validation_failed", "name"},
		{"blank name", with("name", "   "), 422, "validation_failed", "name"},
		{"name of 201", with("name", strings.Repeat("n", 201)), 422, "validation_failed", "name"},
		{"unknown field", with("role", "admin"), 400, "bad_request", ""},
		{"wrong type", with("password", 12345678), 400, "bad_request", ""},
		{"malformed JSON", `{"email": "cy@example.com",`, 400, "bad_request", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := shop.Post("/v1/auth/register", "", c.body)
			testkit.ExpectProblem(t, res, c.status, c.code)
			if c.field != "" {
				var p struct {
					Errors []struct{ Field string } `json:"errors"`
				}
				res.JSON(t, &p)
				if len(p.Errors) != 1 || p.Errors[0].Field != c.field {
					t.Fatalf("field errors %+v, want one on %s", p.Errors, c.field)
				}
			}
		})
	}
	res := shop.Do(testkit.Req{Method: http.MethodPost, Path: "/v1/auth/register", Body: valid(), NoCType: true})
	testkit.ExpectProblem(t, res, 415, "unsupported_media_type")
	if n := count(t, d, "SELECT COUNT(*) FROM customers_accounts"); n != 0 {
		t.Fatalf("refused registrations left %d accounts", n)
	}
}

func TestLoginAnswersAlikeForUnknownEmailAndWrongPassword(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		shop := start(t, db, opts{})
		register(t, shop, "dee@example.com", "right password", "Dee")
		unknown := login(shop, "nobody@example.com", "right password")
		wrong := login(shop, "dee@example.com", "wrong password")
		testkit.ExpectProblem(t, unknown, 401, "invalid_credentials")
		testkit.ExpectProblem(t, wrong, 401, "invalid_credentials")
		if string(unknown.Body) != string(wrong.Body) {
			t.Fatalf("the answers differ:\n unknown e-mail: %s\n wrong password: %s", unknown.Body, wrong.Body)
		}
		// Checks before the password: refused without counting or hashing.
		testkit.ExpectProblem(t, login(shop, "dee@example.com", strings.Repeat("p", 257)), 422, "validation_failed")
		testkit.ExpectProblem(t, login(shop, "dee@example.com", ""), 422, "validation_failed")
		testkit.ExpectProblem(t, login(shop, "not-an-email", "right password"), 422, "validation_failed")
		mustLogin(t, shop, "dee@example.com", "right password")
	})
}

// An unknown e-mail costs the same argon2id verification as a wrong
// password, so the answer time does not tell them apart. This runs at the
// production cost, where hashing dominates.
func TestLoginTakesAboutAsLongForUnknownEmailAndWrongPassword(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	loose := service.Limits{PerAccountAddress: store.Delay{Free: 100, Base: time.Second, Max: time.Second, Memory: time.Minute}, PerAddress: service.Limit{Max: 100, Window: time.Minute}}
	shop := start(t, testkit.SQLite(t), opts{cfg: service.Config{Hashing: defaultParams(), Limits: loose}})
	register(t, shop, "eve@example.com", "right password", "Eve")
	timeIt := func(email string) time.Duration {
		t0 := time.Now()
		testkit.ExpectProblem(t, login(shop, email, "wrong password"), 401, "invalid_credentials")
		return time.Since(t0)
	}
	const tries = 7
	var unknown, wrong []time.Duration
	for i := range tries { // interleaved, so load drifts hit both alike
		unknown = append(unknown, timeIt(testkit.Fmt("nobody%d@example.com", i)))
		wrong = append(wrong, timeIt("eve@example.com"))
	}
	mu, mw := median(unknown), median(wrong)
	ratio := float64(max(mu, mw)) / float64(min(mu, mw))
	t.Logf("median sign-in time: unknown e-mail %s, wrong password %s (ratio %.2f)", mu, mw, ratio)
	if ratio > 2 {
		t.Fatalf("unknown e-mail median %s vs wrong password median %s: more than a factor 2 apart", mu, mw)
	}
	if mu < 5*time.Millisecond {
		t.Fatalf("an unknown e-mail answered in %s: no dummy hash was verified", mu)
	}
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
