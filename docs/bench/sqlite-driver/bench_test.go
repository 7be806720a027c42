// Package sqlitedriver benchmarks the two gorm SQLite dialectors the shop can
// use: the pure-Go github.com/libtnb/sqlite (modernc.org/sqlite) and the cgo
// gorm.io/driver/sqlite (mattn/go-sqlite3).
//
// It is a separate module so that the shop's own module never depends on cgo.
// The cgo driver is registered only in a `cgo`-tagged file, so
//
//	CGO_ENABLED=0 go test -run '^$' -bench .
//
// builds without a C compiler and measures the pure-Go driver alone.
//
// Run (see README.md):
//
//	go test -run '^$' -bench . -benchtime 2s -count 3 | tee results.txt
package sqlitedriver

import (
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

const (
	seedRows        = 100_000
	seedBatch       = 1_000
	numCategories   = 50
	pageSize        = 20
	batchRows       = 1_000 // rows per transaction in BatchInsert
	batchChunk      = 100   // rows per INSERT statement inside that transaction
	maxOpenParallel = 8     // pool size for the parallel read benchmarks
	// goroutines per GOMAXPROCS in the parallel benchmarks: 4 x 2 cores = 8
	// goroutines, i.e. enough to keep all 8 pooled connections busy.
	parallelism = 4
)

// driver describes one gorm dialector under test. Drivers register
// themselves from init() in driver_*_test.go.
type driver struct {
	name string
	// dsnQuery is the query string appended to the database path.
	dsnQuery string
	// openDSN opens a gorm DB on a complete DSN.
	openDSN func(dsn string) (*gorm.DB, error)
}

// open opens the database file at path with the benchmark's DSN query.
// txlock overrides the _txlock parameter ("" keeps dsnQuery's).
func (d driver) open(path, txlock string) (*gorm.DB, error) {
	q := d.dsnQuery
	if txlock != "" {
		q = strings.Replace(q, "_txlock=immediate", "_txlock="+txlock, 1)
	}
	return d.openDSN(path + "?" + q)
}

var drivers []driver

func registerDriver(d driver) {
	drivers = append(drivers, d)
	sort.Slice(drivers, func(i, j int) bool { return drivers[i].name > drivers[j].name })
}

// Product maps the catalog_products table exactly as created by createSchema.
type Product struct {
	ID         string `gorm:"primaryKey"`
	Slug       string
	Title      string
	Price      int64
	CategoryID string
	Status     string
	CreatedAt  time.Time
}

func (Product) TableName() string { return "catalog_products" }

const schemaDDL = `CREATE TABLE catalog_products (
	id TEXT PRIMARY KEY,
	slug TEXT UNIQUE,
	title TEXT,
	price INTEGER,
	category_id TEXT,
	status TEXT,
	created_at TIMESTAMP
)`

const indexDDL = `CREATE INDEX idx_catalog_products_listing
	ON catalog_products (status, category_id, price, id)`

const rangeWhere = "status = 'published' AND category_id = ? AND price >= ?"

// gormConfig is the shop's own gorm configuration (platform/database):
// no implicit write transactions, no prepared-statement cache, translated
// errors, UTC timestamps.
func gormConfig() *gorm.Config {
	return &gorm.Config{
		Logger:                 logger.Discard,
		TranslateError:         true,
		SkipDefaultTransaction: true,
		PrepareStmt:            false,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		DisableAutomaticPing:   true,
	}
}

// seedIDs are the primary keys of the seeded rows, so that the read benchmark
// does not format ids inside the timed loop.
var seedIDs = func() []string {
	ids := make([]string, seedRows)
	for i := range ids {
		ids[i] = fmt.Sprintf("p%06d", i)
	}
	return ids
}()

func categoryID(n int) string { return fmt.Sprintf("cat-%02d", n) }

var categoryIDs = func() []string {
	c := make([]string, numCategories)
	for i := range c {
		c[i] = categoryID(i)
	}
	return c
}()

// seedProducts returns the deterministic seed data: uniform prices in
// [0, 100000), 50 categories, 80% published / 20% draft.
func seedProducts() []Product {
	r := rand.New(rand.NewPCG(42, 4242))
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	ps := make([]Product, seedRows)
	for i := range ps {
		status := "published"
		if r.IntN(10) >= 8 {
			status = "draft"
		}
		ps[i] = Product{
			ID:         seedIDs[i],
			Slug:       fmt.Sprintf("product-%06d", i),
			Title:      fmt.Sprintf("Product %d", i),
			Price:      int64(r.IntN(100_000)),
			CategoryID: categoryIDs[r.IntN(numCategories)],
			Status:     status,
			CreatedAt:  base.Add(time.Duration(i) * time.Minute),
		}
	}
	return ps
}

// ---------------------------------------------------------------------------
// Seeding: once per driver per process, into a template file. Each -count
// repetition copies the template into its own b.TempDir(), so every
// repetition starts from the same 100,000-row database and the four
// sub-benchmarks of that repetition share it (the path is handed down).

var (
	templateRoot string
	templateMu   sync.Mutex
	templates    = map[string]string{} // driver name -> seeded template path
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sqlite-driver-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	templateRoot = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func createSchema(db *gorm.DB) error {
	if err := db.Exec(schemaDDL).Error; err != nil {
		return err
	}
	return db.Exec(indexDDL).Error
}

func seedTemplate(tb testing.TB, d driver) string {
	tb.Helper()
	templateMu.Lock()
	defer templateMu.Unlock()
	if p, ok := templates[d.name]; ok {
		return p
	}
	path := filepath.Join(templateRoot, d.name+".db")
	db, err := d.open(path, "")
	if err != nil {
		tb.Fatalf("%s: open: %v", d.name, err)
	}
	defer closeDB(tb, db)
	if err := checkPragmas(db); err != nil {
		tb.Fatalf("%s: %v", d.name, err)
	}
	if err := createSchema(db); err != nil {
		tb.Fatalf("%s: schema: %v", d.name, err)
	}
	ps := seedProducts()
	err = db.Transaction(func(tx *gorm.DB) error {
		return tx.CreateInBatches(ps, seedBatch).Error
	})
	if err != nil {
		tb.Fatalf("%s: seed: %v", d.name, err)
	}
	if err := db.Exec("ANALYZE").Error; err != nil {
		tb.Fatalf("%s: analyze: %v", d.name, err)
	}
	// Move everything into the main file so that copying it is enough.
	if err := db.Exec("PRAGMA wal_checkpoint(TRUNCATE)").Error; err != nil {
		tb.Fatalf("%s: checkpoint: %v", d.name, err)
	}
	templates[d.name] = path
	return path
}

// freshDB returns the path of a private copy of d's seeded database inside
// tb.TempDir().
func freshDB(tb testing.TB, d driver) string {
	tb.Helper()
	src := seedTemplate(tb, d)
	dst := filepath.Join(tb.TempDir(), "shop.db")
	if err := copyFile(src, dst); err != nil {
		tb.Fatal(err)
	}
	return dst
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func closeDB(tb testing.TB, db *gorm.DB) {
	sqlDB, err := db.DB()
	if err != nil {
		tb.Error(err)
		return
	}
	if err := sqlDB.Close(); err != nil {
		tb.Error(err)
	}
}

func openPool(tb testing.TB, d driver, path string, maxOpen int) *gorm.DB {
	tb.Helper()
	db, err := d.open(path, "")
	if err != nil {
		tb.Fatalf("%s: open: %v", d.name, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		tb.Fatal(err)
	}
	sqlDB.SetMaxOpenConns(maxOpen)
	sqlDB.SetMaxIdleConns(maxOpen)
	sqlDB.SetConnMaxLifetime(0)
	sqlDB.SetConnMaxIdleTime(0)
	tb.Cleanup(func() { closeDB(tb, db) })
	return db
}

// checkPragmas fails unless the connection runs with the configured pragmas.
func checkPragmas(db *gorm.DB) error {
	got, err := readPragmas(db)
	if err != nil {
		return err
	}
	for k, want := range wantPragmas {
		if got[k] != want {
			return fmt.Errorf("PRAGMA %s = %q, want %q", k, got[k], want)
		}
	}
	return nil
}

var wantPragmas = map[string]string{
	"journal_mode": "wal",
	"synchronous":  "1", // NORMAL
	"busy_timeout": "10000",
	"foreign_keys": "1",
}

func readPragmas(db *gorm.DB) (map[string]string, error) {
	out := map[string]string{}
	for k := range wantPragmas {
		var v string
		if err := db.Raw("PRAGMA " + k).Row().Scan(&v); err != nil {
			return nil, fmt.Errorf("PRAGMA %s: %w", k, err)
		}
		out[k] = v
	}
	return out, nil
}

// ---------------------------------------------------------------------------
// Benchmarks

func BenchmarkSQLite(b *testing.B) {
	if len(drivers) == 0 {
		b.Skip("no driver registered")
	}
	for _, d := range drivers {
		b.Run(d.name, func(b *testing.B) {
			path := freshDB(b, d)
			b.Run("IndexedReadByPK", func(b *testing.B) { benchReadByPK(b, d, path) })
			b.Run("IndexedRangePage", func(b *testing.B) { benchRangePage(b, d, path) })
			b.Run("InsertTx", func(b *testing.B) { benchInsertTx(b, d, path) })
			b.Run("BatchInsert", func(b *testing.B) { benchBatchInsert(b, d, path) })
		})
	}
}

// cpuNow returns the user+system CPU time consumed so far by this process.
// Reported per op as cpu-ns/op: unlike ns/op (wall time) it is not inflated
// when other processes compete for the machine's cores.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, cpu time.Duration) {
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
}

var rngSeq atomic.Uint64

func newRand() *rand.Rand {
	return rand.New(rand.NewPCG(7, rngSeq.Add(1)))
}

// benchReadByPK: gorm First by primary key, random seeded ids, parallel.
func benchReadByPK(b *testing.B, d driver, path string) {
	db := openPool(b, d, path, maxOpenParallel)
	b.ReportAllocs()
	b.SetParallelism(parallelism)
	b.ResetTimer()
	cpu0 := cpuNow()
	defer func() { reportCPU(b, cpuNow()-cpu0) }()
	b.RunParallel(func(pb *testing.PB) {
		r := newRand()
		var p Product
		for pb.Next() {
			id := seedIDs[r.IntN(seedRows)]
			p = Product{}
			if err := db.First(&p, "id = ?", id).Error; err != nil {
				b.Error(err)
				return
			}
			if p.ID != id {
				b.Errorf("got id %q, want %q", p.ID, id)
				return
			}
		}
	})
}

// benchRangePage: one listing page through the composite index, parallel.
func benchRangePage(b *testing.B, d driver, path string) {
	db := openPool(b, d, path, maxOpenParallel)
	b.ReportAllocs()
	b.SetParallelism(parallelism)
	b.ResetTimer()
	cpu0 := cpuNow()
	defer func() { reportCPU(b, cpuNow()-cpu0) }()
	b.RunParallel(func(pb *testing.PB) {
		r := newRand()
		page := make([]Product, 0, pageSize)
		for pb.Next() {
			cat := categoryIDs[r.IntN(numCategories)]
			minPrice := r.IntN(95_000) // keeps (almost) every page full
			page = page[:0]
			err := db.Where(rangeWhere, cat, minPrice).
				Order("price, id").Limit(pageSize).Find(&page).Error
			if err != nil {
				b.Error(err)
				return
			}
			if len(page) == 0 {
				b.Errorf("empty page for %s >= %d", cat, minPrice)
				return
			}
		}
	})
}

var insertSeq atomic.Int64

// benchInsertTx: one row per explicit transaction, serial, one connection.
func benchInsertTx(b *testing.B, d driver, path string) {
	db := openPool(b, d, path, 1)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuNow()
	defer func() { reportCPU(b, cpuNow()-cpu0) }()
	for i := 0; i < b.N; i++ {
		n := strconv.FormatInt(insertSeq.Add(1), 10)
		p := Product{
			ID: "ins-" + n, Slug: "ins-" + n, Title: "Inserted",
			Price: 1999, CategoryID: "cat-07", Status: "published", CreatedAt: now,
		}
		err := db.Transaction(func(tx *gorm.DB) error { return tx.Create(&p).Error })
		if err != nil {
			b.Fatal(err)
		}
	}
}

var batchSeq atomic.Int64

// benchBatchInsert: 1,000 rows per transaction through CreateInBatches (10
// INSERT statements of 100 rows inside one explicit transaction: with
// SkipDefaultTransaction, CreateInBatches alone would commit each statement),
// serial, one connection. One op = one 1,000-row transaction.
func benchBatchInsert(b *testing.B, d driver, path string) {
	db := openPool(b, d, path, 1)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rows := make([]Product, batchRows)
	var cpu time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer() // building the 1,000 structs is not the driver's cost
		for j := range rows {
			n := strconv.FormatInt(batchSeq.Add(1), 10)
			rows[j] = Product{
				ID: "bat-" + n, Slug: "bat-" + n, Title: "Batch",
				Price: int64(j), CategoryID: categoryIDs[j%numCategories],
				Status: "published", CreatedAt: now,
			}
		}
		b.StartTimer()
		cpu0 := cpuNow()
		err := db.Transaction(func(tx *gorm.DB) error {
			return tx.CreateInBatches(rows, batchChunk).Error
		})
		if err != nil {
			b.Fatal(err)
		}
		cpu += cpuNow() - cpu0
	}
	b.StopTimer()
	reportCPU(b, cpu)
}

// ---------------------------------------------------------------------------
// Correctness checks for the configuration the benchmarks rely on.

func forEachDriver(t *testing.T, f func(t *testing.T, d driver)) {
	if len(drivers) == 0 {
		t.Skip("no driver registered")
	}
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) { f(t, d) })
	}
}

// TestPragmas checks that every pooled connection (not just the first one)
// runs with WAL, synchronous=NORMAL, busy_timeout=10000 and foreign_keys=1,
// and that foreign keys are actually enforced.
func TestPragmas(t *testing.T) {
	forEachDriver(t, func(t *testing.T, d driver) {
		db := openPool(t, d, filepath.Join(t.TempDir(), "p.db"), 4)
		var version string
		if err := db.Raw("select sqlite_version()").Row().Scan(&version); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: SQLite %s, DSN query %q", d.name, version, d.dsnQuery)

		sqlDB, _ := db.DB()
		// Hold 4 connections at once so the pool really opens 4.
		ctx := t.Context()
		var conns []*sql.Conn
		for i := 0; i < 4; i++ {
			c, err := sqlDB.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
			for k, want := range wantPragmas {
				var got string
				if err := c.QueryRowContext(ctx, "PRAGMA "+k).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("conn %d: PRAGMA %s = %q, want %q", i, k, got, want)
				} else {
					t.Logf("conn %d: PRAGMA %s = %s", i, k, got)
				}
			}
		}

		if st := sqlDB.Stats(); st.OpenConnections != 4 {
			t.Errorf("pool has %d open connections, want 4", st.OpenConnections)
		}
		for _, c := range conns {
			c.Close()
		}

		// foreign_keys really enforced.
		for _, q := range []string{
			"CREATE TABLE parent(id INTEGER PRIMARY KEY)",
			"CREATE TABLE child(id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id))",
		} {
			if err := db.Exec(q).Error; err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Exec("INSERT INTO child(id, parent_id) VALUES (1, 999)").Error; err == nil {
			t.Error("foreign key violation was accepted")
		} else {
			t.Logf("FK violation rejected: %v", err)
		}
	})
}

// TestDSNForms checks that the pragmas also apply when the same query is
// given with a "file:" URI, and with the query re-encoded by url.Values
// (parentheses percent-encoded, keys sorted), as platform/database builds it.
func TestDSNForms(t *testing.T) {
	forEachDriver(t, func(t *testing.T, d driver) {
		vals, err := url.ParseQuery(d.dsnQuery)
		if err != nil {
			t.Fatal(err)
		}
		for _, form := range []struct{ name, prefix, query string }{
			{"path", "", d.dsnQuery},
			{"file-uri", "file:", d.dsnQuery},
			{"file-uri-encoded", "file:", vals.Encode()},
		} {
			t.Run(form.name, func(t *testing.T) {
				dsn := form.prefix + filepath.Join(t.TempDir(), "f.db") + "?" + form.query
				db, err := d.openDSN(dsn)
				if err != nil {
					t.Fatal(err)
				}
				defer closeDB(t, db)
				if err := checkPragmas(db); err != nil {
					t.Errorf("%s: %v", dsn, err)
				}
			})
		}
	})
}

// TestSchemaAndPlan seeds the benchmark database and checks the row count,
// the round trip of a row, and that the listing query uses the composite
// index.
func TestSchemaAndPlan(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 100,000 rows")
	}
	forEachDriver(t, func(t *testing.T, d driver) {
		start := time.Now()
		path := freshDB(t, d)
		t.Logf("seed+copy: %v", time.Since(start))
		db := openPool(t, d, path, 1)
		var n int64
		if err := db.Model(&Product{}).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n != seedRows {
			t.Fatalf("rows = %d, want %d", n, seedRows)
		}
		var p Product
		if err := db.First(&p, "id = ?", "p000123").Error; err != nil {
			t.Fatal(err)
		}
		if p.Slug != "product-000123" || p.CreatedAt.IsZero() {
			t.Fatalf("bad row %+v", p)
		}
		var page []Product
		if err := db.Where(rangeWhere, "cat-03", 50_000).Order("price, id").Limit(pageSize).Find(&page).Error; err != nil {
			t.Fatal(err)
		}
		if len(page) != pageSize {
			t.Fatalf("page has %d rows", len(page))
		}
		for i := 1; i < len(page); i++ {
			if page[i].Price < page[i-1].Price || page[i].Status != "published" || page[i].CategoryID != "cat-03" {
				t.Fatalf("bad page order/filter at %d: %+v", i, page[i])
			}
		}
		stmt := db.Session(&gorm.Session{DryRun: true}).Where(rangeWhere, "cat-03", 50_000).
			Order("price, id").Limit(pageSize).Find(&[]Product{}).Statement
		rows, err := db.Raw("EXPLAIN QUERY PLAN "+stmt.SQL.String(), stmt.Vars...).Rows()
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		t.Logf("SQL: %s", stmt.SQL.String())
		t.Logf("plan: %q", plan)
		if len(plan) != 1 || !containsAll(plan[0], "idx_catalog_products_listing", "status=? AND category_id=? AND price>?") {
			t.Errorf("listing query does not use the composite index: %q", plan)
		}
	})
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		found := false
		for i := 0; i+len(sub) <= len(s); i++ {
			if s[i:i+len(sub)] == sub {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// TestTxLock checks whether _txlock=immediate is honoured. Two transactions
// each read a row, then update it. Under BEGIN DEFERRED both take a read
// snapshot; the loser's write then fails with SQLITE_BUSY (BUSY_SNAPSHOT in
// WAL mode: busy_timeout cannot help, its snapshot is stale). Under BEGIN
// IMMEDIATE the second BEGIN waits (busy_timeout) until the first commits,
// and both succeed. The deferred run is the control that shows the test
// can tell the two apart.
func TestTxLock(t *testing.T) {
	forEachDriver(t, func(t *testing.T, d driver) {
		for _, mode := range []string{"deferred", "immediate"} {
			t.Run(mode, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "tx.db")
				db, err := d.open(path, mode)
				if err != nil {
					t.Fatal(err)
				}
				defer closeDB(t, db)
				sqlDB, _ := db.DB()
				sqlDB.SetMaxOpenConns(2)
				if err := checkPragmas(db); err != nil {
					t.Fatal(err)
				}
				if err := db.Exec("CREATE TABLE counter(id INTEGER PRIMARY KEY, n INTEGER)").Error; err != nil {
					t.Fatal(err)
				}
				if err := db.Exec("INSERT INTO counter VALUES (1, 0)").Error; err != nil {
					t.Fatal(err)
				}

				var readers sync.WaitGroup
				readers.Add(2)
				allRead := make(chan struct{})
				go func() { readers.Wait(); close(allRead) }()

				type result struct {
					err     error
					elapsed time.Duration
				}
				res := make([]result, 2)
				var wg sync.WaitGroup
				for i := range 2 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						start := time.Now()
						var once sync.Once
						err := db.Transaction(func(tx *gorm.DB) error {
							var n int
							if err := tx.Raw("SELECT n FROM counter WHERE id = 1").Row().Scan(&n); err != nil {
								return err
							}
							once.Do(readers.Done)
							// Wait until the other transaction has read too,
							// but not forever: under IMMEDIATE it is blocked
							// in BEGIN until this one commits.
							select {
							case <-allRead:
							case <-time.After(300 * time.Millisecond):
							}
							return tx.Exec("UPDATE counter SET n = ? WHERE id = 1", n+1).Error
						})
						once.Do(readers.Done) // BEGIN itself failed
						res[i] = result{err, time.Since(start)}
					}()
				}
				wg.Wait()

				var busy int
				for i, r := range res {
					t.Logf("tx %d: %v after %v", i, r.err, r.elapsed.Round(time.Millisecond))
					if r.err != nil {
						if !isBusy(r.err) {
							t.Errorf("tx %d: unexpected error %v", i, r.err)
						}
						busy++
					}
				}
				var n int
				if err := db.Raw("SELECT n FROM counter WHERE id = 1").Row().Scan(&n); err != nil {
					t.Fatal(err)
				}
				t.Logf("%s: %d of 2 transactions got SQLITE_BUSY, counter = %d", mode, busy, n)
				switch mode {
				case "deferred":
					if busy != 1 || n != 1 {
						t.Errorf("deferred: want exactly one SQLITE_BUSY and counter 1 (lost update avoided by abort), got %d busy, counter %d", busy, n)
					}
				case "immediate":
					if busy != 0 || n != 2 {
						t.Errorf("immediate: want no SQLITE_BUSY and counter 2 (second tx waited), got %d busy, counter %d", busy, n)
					}
				}
			})
		}
	})
}

func isBusy(err error) bool {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if c, ok := e.(interface{ Code() int }); ok && c.Code()&0xff == 5 {
			return true
		}
	}
	s := err.Error()
	return containsAll(s, "database is locked") || containsAll(s, "SQLITE_BUSY")
}
