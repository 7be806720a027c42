package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modshop/modshop/platform/testkit"
)

// Moving inventory out of a running shop, as docs/extraction.md says: real
// traffic on the monolith (orders, a checkout still holding its
// reservation, ledger entries, outbox rows), `modshop move` refused while
// the monolith runs, the monolith stopped, inventory moved to a database of
// its own and started alone there, the rest pointed at it. The inventory
// answers as before, the checkout made before the move is placed after it,
// and a new purchase works across the split.
func TestMoveInventoryOutOfTheMonolith(t *testing.T) {
	nats := natsForTests(t)
	for _, from := range []string{"sqlite", "postgres"} {
		t.Run(from+"_to_postgres", func(t *testing.T) {
			var shopDB testkit.DB
			if from == "sqlite" {
				shopDB = testkit.SQLite(t)
			} else {
				shopDB = testkit.Postgres(t)
			}
			invDB := testkit.Postgres(t)
			fl := newFleet(t, nats, false)
			fl.serve("shop", "MODSHOP_DATABASE_URL="+shopDB.URL)
			fl.waitReady("shop", 60*time.Second)
			f := newFront(t, fl.url("shop"))

			sku := prepareStock(t, f, 20)
			buyOne(t, f, sku, "before-1")
			buyOne(t, f, sku, "before-2")
			testkit.Expect(t, f.do(http.MethodPost, "/v1/admin/inventory/"+sku+"/adjustments", f.admin, map[string]any{"delta": -1, "reason": "damaged"}), http.StatusCreated)
			// A checkout that holds its reservation across the move.
			cartID := newCart(t, f)
			testkit.Expect(t, f.do(http.MethodPost, "/v1/carts/"+cartID+"/items", "", map[string]any{"sku": sku, "quantity": 2}), http.StatusCreated)
			var co struct {
				ID string `json:"id"`
			}
			testkit.Expect(t, f.do(http.MethodPost, "/v1/carts/"+cartID+"/checkout", "", map[string]any{"email": "c@example.com", "shipping_address": e2eAddress}), http.StatusCreated).JSON(t, &co)
			answers := func(f front) map[string]any {
				out := map[string]any{}
				for _, p := range []string{"/v1/admin/inventory/" + sku, "/v1/admin/inventory/" + sku + "/adjustments", "/v1/admin/inventory?limit=100"} {
					var v any
					testkit.Expect(t, f.do(http.MethodGet, p, f.admin, nil), http.StatusOK).JSON(t, &v)
					out[p] = v
				}
				return out
			}
			before := answers(f)
			var level struct {
				OnHand   int64 `json:"on_hand"`
				Reserved int64 `json:"reserved"`
			}
			f.do(http.MethodGet, "/v1/admin/inventory/"+sku, f.admin, nil).JSON(t, &level)
			if level.OnHand != 17 || level.Reserved != 2 {
				t.Fatalf("before the move: on hand %d, reserved %d; want 17 and 2", level.OnHand, level.Reserved)
			}

			moveCmd := func() (int, string, string) {
				cmd := exec.Command(binary(t), "move", "inventory", "--to", invDB.URL)
				cmd.Env = append(os.Environ(), "MODSHOP_DATABASE_URL="+shopDB.URL, "MODSHOP_DATA_DIR="+t.TempDir(), "MODSHOP_LOG_LEVEL=warn")
				var out, errOut strings.Builder
				cmd.Stdout, cmd.Stderr = &out, &errOut
				err := cmd.Run()
				code := 0
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					code = ee.ExitCode()
				} else if err != nil {
					t.Fatal(err)
				}
				return code, out.String(), errOut.String()
			}
			// Refused while the monolith runs inventory.
			if code, out, errOut := moveCmd(); code != 1 || out != "" || !strings.Contains(errOut, "refused: inventory is still running") || strings.Count(errOut, "\n") != 1 {
				t.Fatalf("move while running: exit %d\n%s%s", code, out, errOut)
			}
			// A graceful stop gives the lease back at once.
			p := fl.procs["shop"]
			fl.killed = append(fl.killed, "shop") // stopped on purpose
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case <-p.done:
			case <-time.After(60 * time.Second):
				t.Fatal("the monolith did not stop within 60s")
			}
			code, out, errOut := moveCmd()
			if code != 0 {
				t.Fatalf("move: exit %d\n%s%s", code, out, errOut)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			for _, table := range []string{"inventory_levels", "inventory_adjustments", "inventory_reservations", "inventory_outbox", "inventory_inbox", "inventory_dead_letters", "inventory_schema_migrations"} {
				found := false
				for _, l := range lines {
					found = found || strings.HasPrefix(l, table+" ") && strings.Contains(l, "verified")
				}
				if !found {
					t.Errorf("no line for %s in\n%s", table, out)
				}
			}
			// Moving again finds the target full.
			if code, _, errOut := moveCmd(); code != 1 || !strings.Contains(errOut, "refused: the target already holds rows of inventory") {
				t.Fatalf("second move: exit %d, %s", code, errOut)
			}

			// The split: inventory alone on its new database, the rest on the old one.
			fl.serve("inventory", "MODSHOP_MODULES=inventory", "MODSHOP_DATABASE_URL="+invDB.URL, "MODSHOP_REMOTE_CATALOG="+fl.url("rest"))
			fl.serve("rest", "MODSHOP_MODULES=catalog,search,cart,customers,payments,orders", "MODSHOP_DATABASE_URL="+shopDB.URL,
				"MODSHOP_REMOTE_INVENTORY="+fl.url("inventory"))
			fl.waitReady("inventory", 60*time.Second)
			fl.waitReady("rest", 60*time.Second)
			f = newFront(t, fl.url("rest"))
			after := answers(f)
			b1, _ := json.Marshal(before)
			b2, _ := json.Marshal(after)
			if from == "sqlite" {
				// PostgreSQL keeps timestamps to the microsecond; SQLite kept
				// the nanoseconds of some, which the move rounds.
				b1 = []byte(roundTimes(string(b1)))
			}
			if string(b1) != string(b2) {
				t.Fatalf("the inventory answers differently after the move:\nbefore %s\nafter  %s", b1, b2)
			}
			// The checkout of before the move, then a new purchase.
			testkit.Expect(t, f.do(http.MethodPost, "/v1/orders", "", map[string]any{"checkout_id": co.ID, "payment_method": "pm_card_visa"}, "Idempotency-Key", "across-1"), http.StatusCreated)
			buyOne(t, f, sku, "after-1")
			f.do(http.MethodGet, "/v1/admin/inventory/"+sku, f.admin, nil).JSON(t, &level)
			if level.OnHand != 14 || level.Reserved != 0 {
				t.Fatalf("after the purchases across the split: on hand %d, reserved %d; want 14 and 0", level.OnHand, level.Reserved)
			}
			if problems := fl.ended(); len(problems) > 0 {
				t.Fatal(strings.Join(problems, "\n"))
			}
		})
	}
}

// roundTimes rounds the RFC 3339 timestamps in s to the microsecond.
func roundTimes(s string) string {
	return timestamp.ReplaceAllStringFunc(s, func(m string) string {
		tm, err := time.Parse(time.RFC3339Nano, m)
		if err != nil {
			return m
		}
		return tm.Round(time.Microsecond).Format(time.RFC3339Nano)
	})
}

var timestamp = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)

// Usage mistakes of move exit 2 with one line.
func TestMoveUsage(t *testing.T) {
	t.Setenv("MODSHOP_DATA_DIR", t.TempDir())
	for _, args := range [][]string{
		{"move"},
		{"move", "inventory"},
		{"move", "warehouse", "--to", "postgres://x@127.0.0.1/db"},
		{"move", "inventory", "--to", "mysql://x"},
		{"move", "inventory", "extra", "--to", "postgres://x@127.0.0.1/db"},
	} {
		code, _, stderr := runCmd(t, args...)
		if code != exitConfig || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, %q", args, code, stderr)
		}
	}
	// A source that does not exist is refused, not created.
	code, _, stderr := runCmd(t, "move", "inventory", "--to", "sqlite://"+t.TempDir()+"/new.db")
	if code != 1 || !strings.Contains(stderr, "refused: the source database") {
		t.Fatalf("exit %d, %q", code, stderr)
	}
}
