package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	catalogapi "github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/modules/payments"
	paymentsapi "github.com/modshop/modshop/modules/payments/api"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/remote"
	"github.com/modshop/modshop/platform/testkit"
)

// recorder stands in front of a shop and remembers the path of the last
// request it passed on.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	last string
}

func newRecorder(t *testing.T, target string) *recorder {
	t.Helper()
	r := &recorder{}
	r.Server = testkit.Proxy(t, target, func(_ http.ResponseWriter, req *http.Request) bool {
		r.mu.Lock()
		r.last = req.URL.Path
		r.mu.Unlock()
		return false
	})
	return r
}

func (r *recorder) take() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.last
	r.last = ""
	return p
}

// snake is the operation name of an api method: VariantsBySKU is
// variants_by_sku.
func snake(name string) string {
	var b strings.Builder
	rs := []rune(name)
	for i, r := range rs {
		if unicode.IsUpper(r) && i > 0 && (unicode.IsLower(rs[i-1]) || i+1 < len(rs) && unicode.IsLower(rs[i+1])) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// Every method of every api interface a module's Remote provides calls, over
// the wire, the operation named after it, and the module's internal routes
// serve that operation: a method without an operation, one calling
// another's, or an operation the module does not serve fails here.
func TestEveryAPIMethodHasAServedOperation(t *testing.T) {
	shop := testkit.Start(t, modules, testkit.Options{Env: map[string]string{"MODSHOP_INTERNAL_TOKEN": splitToken}})
	rec := newRecorder(t, shop.URL)
	methods := 0
	for _, m := range modules {
		if m.Remote == nil {
			continue // a module that offers no api (web): nothing calls it
		}
		apis := remote.APIs(remote.NewClient(m.Name, rec.URL, splitToken))
		if len(apis) == 0 {
			t.Errorf("%s: its Remote provides no api interface", m.Name)
		}
		for typ, impl := range apis {
			v := reflect.ValueOf(impl)
			for i := range typ.NumMethod() {
				method := typ.Method(i)
				methods++
				ft := method.Type
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				args := []reflect.Value{reflect.ValueOf(ctx)}
				for j := 1; j < ft.NumIn(); j++ {
					args = append(args, reflect.Zero(ft.In(j))) // a call with zero values: an error is fine
				}
				out := v.MethodByName(method.Name).Call(args)
				cancel()
				err, _ := out[len(out)-1].Interface().(error)
				name := typ.String() + "." + method.Name
				if got, want := rec.take(), remote.Path(m.Name, snake(method.Name)); got != want {
					t.Errorf("%s calls %q, want %q", name, got, want)
				}
				if remote.IsUnavailable(err) {
					t.Errorf("%s: the module does not serve its operation: %v", name, err)
				}
			}
		}
	}
	if methods < 25 {
		t.Fatalf("%d api methods checked; the seven modules have more", methods)
	}
}

// Two api errors of one code are not each other, in process and across the
// wire: a not_found of the catalog is not payments' "never authorized".
func TestAPIErrorsKeepTheirIdentityAcrossTheWire(t *testing.T) {
	for _, c := range []struct {
		name        string
		err, target error
	}{
		{"variant / category", catalogapi.ErrVariantNotFound, catalogapi.ErrCategoryNotFound},
		{"product / payment", catalogapi.ErrProductNotFound, paymentsapi.ErrNotFound},
		{"payment / product", paymentsapi.ErrNotFound, catalogapi.ErrProductNotFound},
	} {
		if errors.Is(c.err, c.target) {
			t.Errorf("%s: errors.Is(%v, %v) is true", c.name, c.err, c.target)
		}
		if !errors.Is(c.err, c.err) || errs.As(c.err).Code != errs.As(c.target).Code {
			t.Errorf("%s: the two are not both not_found, or one is not itself", c.name)
		}
	}

	shop := testkit.Start(t, modules, testkit.Options{Env: map[string]string{"MODSHOP_INTERNAL_TOKEN": splitToken}})
	ctx := t.Context()
	cat := remote.APIs(remote.NewClient("catalog", shop.URL, splitToken))[reflect.TypeFor[catalogapi.Catalog]()].(catalogapi.Catalog)
	_, err := cat.Product(ctx, "no-such-product")
	if !errors.Is(err, catalogapi.ErrProductNotFound) || errors.Is(err, catalogapi.ErrVariantNotFound) || errors.Is(err, paymentsapi.ErrNotFound) {
		t.Fatalf("catalog.Product over the wire: %#v, want catalog.ErrProductNotFound and nothing else", err)
	}
	if e := errs.As(err); e.Code != "not_found" || e.Kind != errs.KindNotFound || e.ID() != "catalog.product_not_found" {
		t.Fatalf("catalog.Product over the wire: %#v", e)
	}
	// The id is for module-to-module answers only: clients see what they
	// always saw.
	public := testkit.Expect(t, shop.Get("/v1/products/no-such-product", ""), http.StatusNotFound).Map(t)
	if _, ok := public[remote.ErrorIDMember]; ok || public["code"] != "not_found" {
		t.Fatalf("public problem: %v, want code not_found and no %s", public, remote.ErrorIDMember)
	}
	pay := payments.NewClient(remote.NewClient(payments.Name, shop.URL, splitToken))
	if _, err := pay.Payment(ctx, "no-such-payment"); !errors.Is(err, paymentsapi.ErrNotFound) || errors.Is(err, catalogapi.ErrProductNotFound) {
		t.Fatalf("payments.Payment over the wire: %#v, want payments.ErrNotFound", err)
	}
}
