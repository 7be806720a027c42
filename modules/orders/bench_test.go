package orders_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modshop/modshop/platform/testkit"
	"github.com/modshop/modshop/platform/testkit/cputime"
)

// BenchmarkCheckoutAndOrder measures what a buyer waits for at the end of a
// purchase: POST /v1/carts/{id}/checkout then POST /v1/orders, over real
// HTTP, from 32 concurrent buyers, each on a keep-alive connection of its
// own, each with a guest cart of 1..3 lines of SKUs spread over 500 (the
// carts are filled before the timer starts). It reports the p50 and p99 of
// the pair, orders per second, and the CPU each purchase cost (this
// process, and PostgreSQL's processes).
func BenchmarkCheckoutAndOrder(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { checkoutBench(b, testkit.SQLite(b)) })
	b.Run("postgres", func(b *testing.B) { checkoutBench(b, testkit.Postgres(b)) })
	b.Run("postgres-unix-socket", func(b *testing.B) { checkoutBench(b, overSocket(b, testkit.Postgres(b))) })
}

// overSocket is db reached over the Unix socket of a PostgreSQL server on
// this machine (MODSHOP_TEST_POSTGRES_SOCKET, default /var/run/postgresql),
// the way a shop next to its database can be configured: the same server
// and database, without the TCP stack's round trip.
func overSocket(b *testing.B, db testkit.DB) testkit.DB {
	dir := cmp.Or(os.Getenv("MODSHOP_TEST_POSTGRES_SOCKET"), "/var/run/postgresql")
	u, err := url.Parse(db.URL)
	if err != nil {
		b.Fatal(err)
	}
	port := cmp.Or(u.Port(), "5432")
	if _, err := os.Stat(filepath.Join(dir, ".s.PGSQL."+port)); err != nil {
		b.Skipf("no PostgreSQL socket in %s (set MODSHOP_TEST_POSTGRES_SOCKET): %v", dir, err)
	}
	q := u.Query()
	q.Set("host", dir)
	u.Host, u.RawQuery = "", q.Encode()
	db.URL = u.String()
	return db
}

const (
	benchBuyers = 32
	benchSKUs   = 500
)

func checkoutBench(b *testing.B, db testkit.DB) {
	e := startWith(b, db, options{noProbe: true})
	skus := make([]string, benchSKUs)
	for i := range skus {
		skus[i] = fmt.Sprintf("B-%03d", i)
	}
	for i := 0; i < benchSKUs; i += 100 {
		e.product(b, 1999, 1_000_000, skus[i:i+100]...)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchBuyers, MaxConnsPerHost: benchBuyers}}

	b.Run("32-buyers", func(b *testing.B) { purchaseRun(b, e, client, skus, 0) })
	// 300/s is the target; 100/s shows the latency of a purchase when the
	// machine is not saturated.
	for _, rate := range []int{300, 100} {
		b.Run(fmt.Sprintf("32-buyers-at-%d-per-s", rate), func(b *testing.B) { purchaseRun(b, e, client, skus, rate) })
	}
}

// purchaseRun runs b.N purchases from 32 buyers: as fast as they go (a
// closed loop: each buyer starts its next purchase when the last one
// ended), or, with rate > 0, started at that many per second in total (an
// open loop, as real shoppers arrive), at most 32 at a time.
func purchaseRun(b *testing.B, e *env, client *http.Client, skus []string, rate int) {
	carts := make([]string, b.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range benchBuyers {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(b.N); i = next.Add(1) - 1 {
				carts[i] = benchCart(b, client, e.shop.URL, skus, int(i))
			}
		})
	}
	wg.Wait()
	next.Store(0)
	var mu sync.Mutex
	var lat []time.Duration
	var tick <-chan time.Time
	if rate > 0 {
		t := time.NewTicker(time.Second / time.Duration(rate))
		defer t.Stop()
		tick = t.C
	}
	b.ResetTimer()
	cpu0, pg0 := cputime.Process(), cputime.Commands("postgres")
	db0 := dbWork(b, client, e.shop.URL)
	begin := time.Now()
	for range benchBuyers {
		wg.Go(func() {
			var mine []time.Duration
			for i := next.Add(1) - 1; i < int64(b.N); i = next.Add(1) - 1 {
				if tick != nil {
					<-tick
				}
				d, err := benchPurchase(client, e.shop.URL, carts[i], fmt.Sprintf("bench-%d-%d", begin.UnixNano(), i))
				if err != nil {
					b.Error(err)
					return
				}
				mine = append(mine, d)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(begin)
	b.StopTimer()
	// CPU per purchase is far less distorted by other load than wall time:
	// this process (server and buyers) and, on PostgreSQL, the database.
	b.ReportMetric(float64((cputime.Process()-cpu0).Microseconds())/1000/float64(b.N), "go-cpu-ms/op")
	if pg := cputime.Commands("postgres") - pg0; strings.HasPrefix(e.shop.Config.DatabaseURL, "postgres") {
		b.ReportMetric(float64(pg.Microseconds())/1000/float64(b.N), "pg-cpu-ms/op")
	}
	// Round trips to the database per purchase: what a purchase costs on
	// any machine (the events it causes, relayed and consumed meanwhile,
	// included). A transaction is two more, BEGIN and COMMIT.
	db1 := dbWork(b, client, e.shop.URL)
	statements, transactions := (db1.statements-db0.statements)/float64(b.N), (db1.transactions-db0.transactions)/float64(b.N)
	b.ReportMetric(statements, "db-statements/op")
	b.ReportMetric(transactions, "db-transactions/op")
	b.ReportMetric(statements+2*transactions, "db-round-trips/op")
	for _, k := range slices.Sorted(maps.Keys(db1.by)) {
		b.Logf("%-40s %6.2f/purchase", k, (db1.by[k]-db0.by[k])/float64(b.N))
	}
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(ms(lat[len(lat)*50/100]), "p50-ms")
	b.ReportMetric(ms(lat[min(len(lat)-1, len(lat)*99/100)]), "p99-ms")
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "orders/s")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func benchPost(client *http.Client, url string, body any, header ...string) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(http.MethodPost, url, rd)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// benchCart makes a guest cart of 1..3 lines.
func benchCart(b *testing.B, client *http.Client, base string, skus []string, i int) string {
	status, body, err := benchPost(client, base+"/v1/carts", nil)
	var c struct {
		ID string `json:"id"`
	}
	if err != nil || status != http.StatusCreated || json.Unmarshal(body, &c) != nil {
		b.Fatalf("create cart: %d %v %s", status, err, body)
	}
	for l := range 1 + i%3 {
		sku := skus[(i*7+l*131)%len(skus)]
		if status, body, err := benchPost(client, base+"/v1/carts/"+c.ID+"/items", map[string]any{"sku": sku, "quantity": 1}); err != nil || status != http.StatusCreated {
			b.Fatalf("add item: %d %v %s", status, err, body)
		}
	}
	return c.ID
}

// benchPurchase checks a cart out and places its order; it returns how
// long the two requests took.
func benchPurchase(client *http.Client, base, cartID, key string) (time.Duration, error) {
	start := time.Now()
	status, body, err := benchPost(client, base+"/v1/carts/"+cartID+"/checkout", checkoutBody("bench@example.com"))
	if err != nil {
		return 0, fmt.Errorf("checkout: %w", err)
	}
	if status != http.StatusCreated {
		return 0, fmt.Errorf("checkout: %d %s", status, body)
	}
	var c struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &c); err != nil {
		return 0, err
	}
	status, body, err = benchPost(client, base+"/v1/orders", map[string]any{"checkout_id": c.ID, "payment_method": "pm_card_visa"}, "Idempotency-Key", key)
	if err != nil {
		return 0, fmt.Errorf("order: %w", err)
	}
	if status != http.StatusCreated {
		return 0, fmt.Errorf("order: %d %s", status, body)
	}
	return time.Since(start), nil
}

type dbCounts struct {
	statements, transactions float64
	by                       map[string]float64 // each series, by its labels
}

// dbWork sums the shop's database counters, read from its /metrics.
func dbWork(b *testing.B, client *http.Client, base string) dbCounts {
	resp, err := client.Get(base + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	c := dbCounts{by: map[string]float64{}}
	for line := range strings.Lines(string(body)) {
		name, rest, _ := strings.Cut(line, "{")
		labels, val, _ := strings.Cut(rest, "} ")
		v, _ := strconv.ParseFloat(strings.TrimSpace(val), 64)
		switch name {
		case "modshop_db_statements_total":
			c.statements += v
		case "modshop_db_transactions_total":
			c.transactions += v
		default:
			continue
		}
		c.by[strings.TrimPrefix(name, "modshop_db_")+"{"+labels+"}"] = v
	}
	if c.statements == 0 {
		b.Fatal("/metrics has no modshop_db_statements_total")
	}
	return c
}
