package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The back-office account the harness gives the modshop it starts
// (MODSHOP_BOOTSTRAP_ADMIN_*), to top up the stock purchases take.
const (
	benchAdminEmail    = "bench-admin@example.com"
	benchAdminPassword = "varied-bench-admin-password"
)

// target is the shop under load: modshop (which the harness started) or a
// running Medusa.
type target struct {
	shop   string // "modshop" or "medusa"
	base   string
	health string            // the path of its cheapest answer
	header map[string]string // sent with every request (Medusa's publishable key)
	pid    int               // sampled for memory and CPU; 0: not sampled
	c      *http.Client

	// Medusa's store, from its seed
	region, shippingOption string
	purchases              atomic.Int64 // numbers the Idempotency-Keys
}

func newClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1024, MaxConnsPerHost: 0}}
}

func newGet(u string, header map[string]string) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return req, nil
}

// get sends a GET and expects 200.
func (t *target) get(path string) error {
	req, err := newGet(t.base+path, t.header)
	if err != nil {
		return err
	}
	resp, err := t.c.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET: %d", resp.StatusCode)
	}
	return nil
}

// post sends body as JSON and expects a 2xx; it decodes the answer into out
// (if not nil). header holds pairs of extra header names and values.
func (t *target) post(path string, body, out any, header ...string) error {
	var rd io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(http.MethodPost, t.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range t.header {
		req.Header.Set(k, v)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := t.c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		if len(b) > 300 {
			b = b[:300]
		}
		return fmt.Errorf("%d %s", resp.StatusCode, bytes.TrimSpace(b))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// steps collects how long each step of the successful purchases took, and
// how many failed at which step.
type steps struct {
	mu     sync.Mutex
	names  []string
	lat    map[string][]time.Duration
	failed map[string]int
	first  map[string]string // the first error of each step
}

// stepError is a purchase that failed at a step.
type stepError struct {
	step string
	err  error
}

func (e *stepError) Error() string { return e.step + ": " + e.err.Error() }

// run times one step of a purchase; the durations are kept in *mine until
// the purchase has succeeded.
func (s *steps) run(mine *[]time.Duration, name string, f func() error) error {
	t0 := time.Now()
	if err := f(); err != nil {
		return &stepError{name, err}
	}
	*mine = append(*mine, time.Since(t0))
	return nil
}

// done records the steps of a purchase that succeeded.
func (s *steps) done(names []string, d []time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.names == nil {
		s.names, s.lat = names, map[string][]time.Duration{}
	}
	for i, n := range names {
		s.lat[n] = append(s.lat[n], d[i])
	}
}

func (s *steps) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed == nil {
		s.failed, s.first = map[string]int{}, map[string]string{}
	}
	step := "request"
	var se *stepError
	if errors.As(err, &se) {
		step = se.step
	}
	s.failed[step]++
	if _, ok := s.first[step]; !ok {
		s.first[step] = err.Error()
	}
}

// lines are the steps' p50 and p99, and the failures with a sample error.
func (s *steps) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, n := range s.names {
		l := slices.Sorted(slices.Values(s.lat[n]))
		if len(l) == 0 {
			continue
		}
		r := &result{lat: l}
		out = append(out, fmt.Sprintf("    step %-22s p50 %9s  p99 %9s  (%d)", n, r.q(0.5), r.q(0.99), len(l)))
	}
	for _, k := range slices.Sorted(maps.Keys(s.failed)) {
		out = append(out, fmt.Sprintf("    failed at %s: %d, first: %s", k, s.failed[k], s.first[k]))
	}
	return out
}

// purchase is one whole guest purchase of one unit of sku.
func (t *target) purchase(sku string, st *steps) error {
	if t.shop == "medusa" {
		return t.medusaPurchase(sku, st)
	}
	var mine []time.Duration
	var cart, checkout struct {
		ID string `json:"id"`
	}
	err := st.run(&mine, "cart", func() error { return t.post("/v1/carts", nil, &cart) })
	if err == nil {
		err = st.run(&mine, "item", func() error {
			return t.post("/v1/carts/"+cart.ID+"/items", map[string]any{"sku": sku, "quantity": 1}, nil)
		})
	}
	if err == nil {
		err = st.run(&mine, "checkout", func() error {
			return t.post("/v1/carts/"+cart.ID+"/checkout", map[string]any{
				"email": "buyer@example.com",
				"shipping_address": map[string]any{"name": "Ann Lee", "line1": "Main St 1", "city": "Berlin",
					"postal_code": "10115", "country": "de"},
			}, &checkout)
		})
	}
	if err == nil {
		err = st.run(&mine, "order", func() error {
			return t.post("/v1/orders", map[string]any{"checkout_id": checkout.ID, "payment_method": "pm_card_visa"}, nil,
				"Idempotency-Key", "varied-"+cart.ID)
		})
	}
	if err != nil {
		return err
	}
	st.done([]string{"cart", "item", "checkout", "order"}, mine)
	return nil
}

// purchaseLoop runs buyers, each starting its next purchase as soon as its
// last one ended, for d. Latency is each purchase's, start to end.
func purchaseLoop(t *target, sku func() string, buyers int, d time.Duration) (*result, time.Duration) {
	res := &result{steps: &steps{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for range buyers {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				t0 := time.Now()
				err := t.purchase(sku(), res.steps)
				lat := time.Since(t0)
				mu.Lock()
				if err == nil {
					res.ok++
					res.lat = append(res.lat, lat)
				} else {
					res.failed++
					res.steps.fail(err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	wall := time.Since(start)
	slices.Sort(res.lat)
	return res, wall
}

// topUp adds stock to each SKU purchases pick from, as the bench's admin,
// so no purchase fails for want of stock (a seeded SKU has 1..60 units).
func topUp(t *target, skus []string, units int64) error {
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := t.post("/v1/auth/login", map[string]any{"email": benchAdminEmail, "password": benchAdminPassword}, &tok); err != nil {
		return fmt.Errorf("admin login: %w", err)
	}
	start := time.Now()
	var next atomic.Int64
	errc := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(skus)); i = next.Add(1) - 1 {
				if err := t.post("/v1/admin/inventory/"+skus[i]+"/adjustments", map[string]any{"delta": units, "reason": "varied bench: stock for purchases"}, nil,
					"Authorization", "Bearer "+tok.AccessToken); err != nil {
					errc <- fmt.Errorf("top up %s: %w", skus[i], err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return err
	}
	fmt.Printf("stock of %d SKUs topped up by %d each in %s\n", len(skus), units, time.Since(start).Round(time.Millisecond))
	return nil
}

// record appends a line of results for -table.
// cpu and pg are the shop's CPU and all PostgreSQL processes' CPU per
// answer.
func record(shop, load, mode string, perSec float64, p50, p99 time.Duration, errors int64, cpu, pg time.Duration) {
	if opts.results == "" {
		return
	}
	f, err := os.OpenFile(opts.results, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, "varied:", err)
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s\t%s\t%s\t%.1f\t%d\t%d\t%d\t%d\t%d\n", shop, load, mode, perSec, p50.Microseconds(), p99.Microseconds(), errors,
		cpu.Microseconds(), pg.Microseconds())
}

// printTable prints a -results file with one row per load and mode and
// the shops side by side, with modshop's rate as a multiple of Medusa's and
// Medusa's p50 as a multiple of modshop's. (In an open loop both answer the
// same offered rate, unless one falls behind; the latency tells them apart.)
func printTable(file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	type cell struct {
		rate              float64
		p50, p99, cpu, pg time.Duration
		errors            int64
	}
	type row struct{ load, mode string }
	var rows []row
	cells := map[row]map[string]cell{}
	for line := range strings.Lines(string(b)) {
		f := strings.Split(strings.TrimSpace(line), "\t")
		if len(f) != 9 {
			continue
		}
		r := row{f[1], f[2]}
		if cells[r] == nil {
			rows = append(rows, r)
			cells[r] = map[string]cell{}
		}
		rate, _ := strconv.ParseFloat(f[3], 64)
		p50, _ := strconv.ParseInt(f[4], 10, 64)
		p99, _ := strconv.ParseInt(f[5], 10, 64)
		n, _ := strconv.ParseInt(f[6], 10, 64)
		cpu, _ := strconv.ParseInt(f[7], 10, 64)
		pg, _ := strconv.ParseInt(f[8], 10, 64)
		us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
		cells[r][f[0]] = cell{rate, us(p50), us(p99), us(cpu), us(pg), n}
	}
	ms := func(d time.Duration) string {
		return strconv.FormatFloat(float64(d.Round(10*time.Microsecond).Microseconds())/1000, 'f', -1, 64)
	}
	show := func(c cell, ok bool) string {
		if !ok {
			return fmt.Sprintf("%8s %9s %9s %6s %15s", "-", "-", "-", "-", "-")
		}
		return fmt.Sprintf("%8.1f %9s %9s %6d %15s", c.rate, ms(c.p50), ms(c.p99), c.errors, ms(c.cpu)+" / "+ms(c.pg))
	}
	fmt.Printf("%-26s %-18s | %-51s | %-51s | %s\n", "", "", "modshop", "Medusa", "modshop's advantage")
	fmt.Printf("%-26s %-18s | %8s %9s %9s %6s %15s | %8s %9s %9s %6s %15s | %s\n", "load", "mode",
		"per s", "p50 ms", "p99 ms", "errors", "cpu ms shop/pg", "per s", "p50 ms", "p99 ms", "errors", "cpu ms shop/pg", "rate × / p50 ×")
	for _, r := range rows {
		m, okM := cells[r]["modshop"]
		d, okD := cells[r]["medusa"]
		ratio := "-"
		if okM && okD && d.rate > 0 && m.p50 > 0 {
			ratio = fmt.Sprintf("%.1f× / %.0f×", m.rate/d.rate, float64(d.p50)/float64(m.p50))
		}
		fmt.Printf("%-26s %-18s | %s | %s | %s\n", r.load, r.mode, show(m, okM), show(d, okD), ratio)
	}
	return nil
}

func writeJSON(file string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(file, b, 0o644)
}

// wrkDuration parses a latency as wrk prints it (812.00us, 1.23ms, 2.01s).
func wrkDuration(s string) time.Duration {
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"m", time.Minute}, {"s", time.Second}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return 0
			}
			return time.Duration(f * float64(u.unit))
		}
	}
	return 0
}
