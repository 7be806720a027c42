package customers_test

import (
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modshop/modshop/modules/customers/internal/service"
	"github.com/modshop/modshop/platform/testkit"
)

// BenchmarkSignInDuringRegistrationFlood measures sign-ins at the
// production argon2id cost while 16 clients register accounts as fast as
// the shop lets them. flood=one-address is the attack as found (48 parallel
// registrations from one address: the per-address limit answers 429 after
// 20, cheaply); flood=many-addresses is the worst case the limit cannot
// stop (every request from a new address), where the hasher keeps a slot
// for sign-ins. Reports the sign-in p50 and p99 in ms and the accounts
// created per second.
//
//	go test -run '^$' -bench SignInDuringRegistrationFlood -benchtime 100x ./modules/customers/
func BenchmarkSignInDuringRegistrationFlood(b *testing.B) {
	for _, flood := range []string{"none", "one-address", "many-addresses"} {
		many := flood == "many-addresses"
		name := "flood=" + flood
		b.Run(name, func(b *testing.B) {
			shop := startB(b)
			testkit.Expect(b, registerB(shop, "10.9.0.1", "owner@example.com"), 201)
			stop := make(chan struct{})
			var created, seq atomic.Int64
			var wg sync.WaitGroup
			for range map[bool]int{true: 0, false: 16}[flood == "none"] {
				wg.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
						}
						i := seq.Add(1)
						addr := "198.51.100.1"
						if many {
							addr = testkit.Fmt("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
						}
						if registerB(shop, addr, testkit.Fmt("flood%d@example.com", i)).Status == http.StatusCreated {
							created.Add(1)
						}
					}
				})
			}
			time.Sleep(500 * time.Millisecond) // the flood is on
			var lat []time.Duration
			t0 := time.Now()
			for b.Loop() {
				s := time.Now()
				r := shop.Do(testkit.Req{Method: http.MethodPost, Path: "/v1/auth/login",
					Body:   map[string]string{"email": "owner@example.com", "password": "password1"},
					Header: map[string]string{"X-Forwarded-For": "10.9.0.1"}})
				lat = append(lat, time.Since(s))
				if r.Status != http.StatusOK {
					b.Fatalf("sign-in: %d %s", r.Status, r.Body)
				}
			}
			elapsed := time.Since(t0)
			close(stop)
			wg.Wait()
			slices.Sort(lat)
			q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
			b.ReportMetric(q(0.50), "p50-ms")
			b.ReportMetric(q(0.99), "p99-ms")
			b.ReportMetric(float64(created.Load())/elapsed.Seconds(), "accounts/s")
		})
	}
}

func startB(b *testing.B) *testkit.Shop {
	b.Helper()
	return start(b, testkit.SQLite(b), opts{cfg: service.Config{Hashing: defaultParams()},
		env: map[string]string{"MODSHOP_TRUSTED_PROXIES": "127.0.0.1/32,::1/128"}})
}

func registerB(shop *testkit.Shop, addr, email string) testkit.Response {
	return shop.Do(testkit.Req{Method: http.MethodPost, Path: "/v1/auth/register",
		Body:   map[string]string{"email": email, "password": "password1", "name": "N"},
		Header: map[string]string{"X-Forwarded-For": addr}})
}
