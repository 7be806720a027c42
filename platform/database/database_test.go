package database_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/testkit"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

func open(t testing.TB, url string) *database.DB {
	t.Helper()
	db, err := database.Open(url)
	if err != nil {
		t.Fatalf("Open(%s): %v", url, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func handle(t testing.TB, url, module string) *database.Handle {
	t.Helper()
	r := database.NewRegistry(func(string) string { return url }, discard, nil)
	t.Cleanup(func() { r.Close() })
	h, err := r.For(module)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// Every connection of the pool must run with the pragmas, not only the first.
func TestSQLitePragmasOnEveryConnection(t *testing.T) {
	t.Parallel()
	db := open(t, testkit.SQLite(t).URL)
	sqlDB, err := db.Gorm.DB()
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	want := map[string]string{"journal_mode": "wal", "busy_timeout": "10000", "foreign_keys": "1", "synchronous": "1",
		"cache_size": fmt.Sprint(-database.DefaultSQLiteCacheKiB)}
	// Hold 8 connections at once so that the pool has to open 8.
	for i := range 8 {
		conn, err := sqlDB.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for pragma, v := range want {
			var got string
			if err := conn.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatalf("conn %d PRAGMA %s: %v", i, pragma, err)
			}
			if got != v {
				t.Errorf("conn %d: PRAGMA %s = %q, want %q", i, pragma, got, v)
			}
		}
	}
	if n := sqlDB.Stats().OpenConnections; n != 8 {
		t.Fatalf("%d connections open, want 8", n)
	}
}

// The memory limits a registry is given reach every connection of the pools
// it opens: the pool never opens more than MaxConns, and each SQLite
// connection's page cache is SQLiteCacheKiB.
func TestRegistryLimitsAreApplied(t *testing.T) {
	t.Parallel()
	url := testkit.SQLite(t).URL
	r := database.NewRegistry(func(string) string { return url }, discard, nil).
		SetLimits(database.Limits{MaxConns: 3, SQLiteCacheKiB: 512})
	t.Cleanup(func() { r.Close() })
	h, err := r.For("limits")
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, err := h.Gorm.DB()
	if err != nil {
		t.Fatal(err)
	}
	if n := sqlDB.Stats().MaxOpenConnections; n != 3 {
		t.Fatalf("MaxOpenConnections = %d, want 3", n)
	}
	ctx := t.Context()
	for i := range 3 {
		conn, err := sqlDB.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var got int
		if err := conn.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != -512 {
			t.Errorf("conn %d: PRAGMA cache_size = %d, want -512 (KiB)", i, got)
		}
	}
	// A fourth connection waits for one of the three.
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if conn, err := sqlDB.Conn(short); err == nil {
		conn.Close()
		t.Fatal("a fourth connection was opened beyond MaxConns 3")
	}
}

func TestSQLiteForeignKeysAreEnforced(t *testing.T) {
	t.Parallel()
	h := handle(t, testkit.SQLite(t).URL, "fk")
	ctx := t.Context()
	err := h.Transact(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec("CREATE TABLE fk_parent (id INTEGER PRIMARY KEY)").Error; err != nil {
			return err
		}
		return tx.Exec("CREATE TABLE fk_child (id INTEGER PRIMARY KEY, parent INTEGER NOT NULL REFERENCES fk_parent(id))").Error
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Conn(ctx).Exec("INSERT INTO fk_child (id, parent) VALUES (1, 42)").Error; err == nil {
		t.Fatal("a child row without its parent was accepted: foreign_keys is off")
	}
}

func TestSQLiteInMemory(t *testing.T) {
	t.Parallel()
	h := handle(t, "sqlite://:memory:", "mem")
	ctx := t.Context()
	if err := h.Conn(ctx).Exec("CREATE TABLE mem_x (id INTEGER)").Error; err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range 8 { // several goroutines must all see the one in-memory database
		wg.Go(func() {
			if err := h.Transact(ctx, func(tx *gorm.DB) error { return tx.Exec("INSERT INTO mem_x VALUES (1)").Error }); err != nil {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	var n int64
	if err := h.Conn(ctx).Table("mem_x").Count(&n).Error; err != nil || n != 8 || failed.Load() != 0 {
		t.Fatalf("count = %d (%v), %d failed; want 8 rows", n, err, failed.Load())
	}
}

func TestSQLiteURLKeepsItsQueryAndOddPaths(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "a dir#with%odd chars")
	db := open(t, "sqlite://"+dir+"/shop.db?_pragma=cache_size(-1000)")
	var cache int
	if err := db.Gorm.Raw("PRAGMA cache_size").Scan(&cache).Error; err != nil || cache != -1000 {
		t.Fatalf("cache_size = %d (%v), want the URL's -1000", cache, err)
	}
	if err := db.Gorm.Exec("CREATE TABLE x (id INTEGER)").Error; err != nil {
		t.Fatal(err)
	}
	if _, err := database.Open("sqlite://?mode=memory"); err == nil {
		t.Fatal("a sqlite URL without a file was accepted")
	}
}

func createCounter(t testing.TB, h *database.Handle) {
	t.Helper()
	id := "id INTEGER PRIMARY KEY"
	if h.Dialect == database.Postgres {
		id = "id BIGSERIAL PRIMARY KEY"
	}
	err := h.Transact(t.Context(), func(tx *gorm.DB) error {
		return tx.Exec("CREATE TABLE IF NOT EXISTS " + h.Module + "_rows (" + id + ", writer INTEGER NOT NULL, n INTEGER NOT NULL)").Error
	})
	if err != nil {
		t.Fatal(err)
	}
}

// hammer runs writers×txs write transactions on h (each reads, then writes
// two statements) while readers query; it returns every error seen.
func hammer(ctx context.Context, h *database.Handle, writer, writers, txs, readers int) []error {
	var mu sync.Mutex
	var errs []error
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range readers {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				var n int64
				if err := h.Conn(ctx).Raw("SELECT COALESCE(MAX(id), 0) FROM " + h.Module + "_rows").Scan(&n).Error; err != nil {
					fail(err)
					return
				}
				time.Sleep(time.Millisecond) // readers of a web request, not a busy loop starving 2 cores
			}
		})
	}
	var ww sync.WaitGroup
	for g := range writers {
		ww.Go(func() {
			for range txs {
				err := h.Transact(ctx, func(tx *gorm.DB) error {
					// Read the newest row, then write two statements: a lost
					// update or a reader's snapshot upgraded to a writer would
					// show as a wrong n or an SQLITE_BUSY. Every statement
					// goes by the rowid: cheap, even under -race.
					var max int64
					if err := tx.Raw("SELECT COALESCE((SELECT n FROM " + h.Module + "_rows ORDER BY id DESC LIMIT 1), 0)").Scan(&max).Error; err != nil {
						return err
					}
					if err := tx.Exec("INSERT INTO "+h.Module+"_rows (writer, n) VALUES (?, ?)", writer*1000+g, max+1).Error; err != nil {
						return err
					}
					return tx.Exec("UPDATE "+h.Module+"_rows SET writer = writer WHERE id = (SELECT MAX(id) FROM "+h.Module+"_rows) AND n = ?", max+1).Error
				})
				if err != nil {
					fail(err)
				}
			}
		})
	}
	ww.Wait()
	close(stop)
	wg.Wait()
	return errs
}

// 50 goroutines × 50 write transactions on one module handle, with readers,
// must all succeed: no SQLITE_BUSY, no lost write.
func TestSQLiteConcurrentWritersOneHandle(t *testing.T) {
	t.Parallel()
	h := handle(t, testkit.SQLite(t).URL, "busy")
	createCounter(t, h)
	txs := 50
	if raceDetector {
		txs = 8
	}
	errs := hammer(t.Context(), h, 0, 50, txs, 4)
	if len(errs) > 0 {
		t.Fatalf("%d transactions failed; first: %v", len(errs), errs[0])
	}
	var n, max int64
	h.Conn(t.Context()).Raw("SELECT COUNT(*), MAX(n) FROM busy_rows").Row().Scan(&n, &max)
	if want := int64(50 * txs); n != want || max != want {
		t.Fatalf("rows = %d, max n = %d; want %d and %d (serialised read-modify-write)", n, max, want, want)
	}
}

// Two database.Open of one file behave like two processes: each has its own
// in-process writer queue, so only BEGIN IMMEDIATE and the busy timeout keep
// them from failing with SQLITE_BUSY.
func TestSQLiteTwoOpensOfOneFile(t *testing.T) {
	t.Parallel()
	url := testkit.SQLite(t).URL
	a, b := handle(t, url, "busy"), handle(t, url, "busy")
	if a.DB == b.DB {
		t.Fatal("the two handles share a pool; the test needs two")
	}
	createCounter(t, a)
	txs := 40
	if raceDetector {
		txs = 8
	}
	var wg sync.WaitGroup
	var errsA, errsB []error
	wg.Go(func() { errsA = hammer(t.Context(), a, 1, 10, txs, 2) })
	wg.Go(func() { errsB = hammer(t.Context(), b, 2, 10, txs, 2) })
	wg.Wait()
	if all := append(errsA, errsB...); len(all) > 0 {
		t.Fatalf("%d transactions failed; first: %v", len(all), all[0])
	}
	var n, max int64
	a.Conn(t.Context()).Raw("SELECT COUNT(*), MAX(n) FROM busy_rows").Row().Scan(&n, &max)
	if want := int64(2 * 10 * txs); n != want || max != want {
		t.Fatalf("rows = %d, max n = %d; want %d and %d", n, max, want, want)
	}
}

func TestNestedTransactionFailsFastOnSQLite(t *testing.T) {
	t.Parallel()
	url := testkit.SQLite(t).URL
	r := database.NewRegistry(func(string) string { return url }, discard, nil)
	t.Cleanup(func() { r.Close() })
	a, _ := r.For("a")
	b, _ := r.For("b") // another module on the same file: the same single writer
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	err := a.Transact(ctx, func(tx *gorm.DB) error {
		return b.Transact(tx.Statement.Context, func(*gorm.DB) error { return nil })
	})
	if !errors.Is(err, database.ErrNestedTransaction) {
		t.Fatalf("nested Transact = %v, want ErrNestedTransaction", err)
	}
	// Sequential transactions with the same outer context are fine.
	for range 2 {
		if err := a.Transact(ctx, func(*gorm.DB) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTransactRollsBackOnError(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		h := handle(t, db.URL, "rb")
		createCounter(t, h)
		boom := errors.New("boom")
		err := h.Transact(t.Context(), func(tx *gorm.DB) error {
			if err := tx.Exec("INSERT INTO rb_rows (writer, n) VALUES (1, 1)").Error; err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Transact = %v, want boom", err)
		}
		var n int64
		h.Conn(t.Context()).Table("rb_rows").Count(&n)
		if n != 0 {
			t.Fatalf("%d rows after a rolled back transaction", n)
		}
	})
}

func TestIsDuplicate(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		h := handle(t, db.URL, "dup")
		ctx := t.Context()
		if err := h.Conn(ctx).Exec("CREATE TABLE dup_x (id TEXT PRIMARY KEY)").Error; err != nil {
			t.Fatal(err)
		}
		if err := h.Conn(ctx).Exec("INSERT INTO dup_x VALUES ('a')").Error; err != nil {
			t.Fatal(err)
		}
		err := h.Conn(ctx).Exec("INSERT INTO dup_x VALUES ('a')").Error
		if !database.IsDuplicate(err) {
			t.Fatalf("IsDuplicate(%v) = false", err)
		}
		if database.IsDuplicate(nil) || database.IsDuplicate(errors.New("other")) {
			t.Fatal("IsDuplicate of nil or another error must be false")
		}
	})
}

func TestRegistrySharesOnePoolPerURL(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	urls := map[string]string{"a": "sqlite://" + dir + "/shared.db", "b": "sqlite://" + dir + "/shared.db", "c": "sqlite://" + dir + "/own.db"}
	r := database.NewRegistry(func(m string) string { return urls[m] }, discard, nil)
	defer r.Close()
	a, _ := r.For("a")
	b, _ := r.For("b")
	c, _ := r.For("c")
	a2, _ := r.For("a")
	if a != a2 || a.DB != b.DB || a.DB == c.DB || a.Module != "a" || b.Module != "b" {
		t.Fatalf("handles: a=%p a2=%p a.DB=%p b.DB=%p c.DB=%p", a, a2, a.DB, b.DB, c.DB)
	}
	if n := len(r.Handles()); n != 3 {
		t.Fatalf("%d handles, want 3", n)
	}
	if err := r.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestPostgresDownDoesNotFailOpen(t *testing.T) {
	t.Parallel()
	db, err := database.Open("postgres://postgres@127.0.0.1:1/x?sslmode=disable&connect_timeout=2")
	if err != nil {
		t.Fatalf("Open must not need the server: %v", err)
	}
	defer db.Close()
	if err := db.Ping(t.Context()); err == nil {
		t.Fatal("Ping of a closed port succeeded")
	}
	if !strings.Contains(db.URL, "127.0.0.1:1") || db.Dialect != database.Postgres {
		t.Fatalf("DB = %+v", db)
	}
}

func TestIsUnavailable(t *testing.T) {
	t.Parallel()
	down, err := database.Open("postgres://postgres@127.0.0.1:1/x?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	var n int
	refused := down.Gorm.Raw("SELECT 1").Scan(&n).Error
	db := open(t, testkit.SQLite(t).URL)
	badQuery := db.Gorm.Exec("SELECT * FROM no_such_table").Error
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", refused, true},
		{"wrapped", fmt.Errorf("load cart: %w", refused), true},
		{"bad query", badQuery, false},
		{"nil", nil, false},
		{"plain", errors.New("x"), false},
	} {
		if got := database.IsUnavailable(tt.err); got != tt.want {
			t.Errorf("%s: IsUnavailable(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}
