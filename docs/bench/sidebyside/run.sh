#!/usr/bin/env bash
# modshop and Medusa side by side, on the same PostgreSQL and machine, in one
# command: varied reads and whole guest purchases against each shop in turn,
# then one table.
#
#   bash docs/bench/sidebyside/run.sh                 # from anywhere
#   N=2000 DUR=20s BUYERS=16 bash docs/bench/sidebyside/run.sh
#   N=100 DUR=2s CLOSED=0 BUYERS=0 bash docs/bench/sidebyside/run.sh   # a dry run
#
# 1. modshop: builds bin/modshop and the harness (docs/bench/varied), makes a
#    fresh database $MODSHOP_DB on the PostgreSQL at $PGHOST:$PGPORT, and runs
#    the harness, which seeds N demo products there (`modshop seed`, stock
#    included), serves them, reads the catalog back and writes it out for
#    Medusa, tops the purchases' stock up, and runs the loads below.
# 2. Medusa (medusa.sh): installs @medusajs/* $MEDUSA_VERSION unless it is
#    installed (npm, a few minutes the first time), makes a fresh database
#    $MEDUSA_DB on the same PostgreSQL, migrates it, seeds the same catalog
#    (seed.ts: the same products, SKUs, options and prices, stock managed),
#    builds and starts it (one process, no Redis), and runs the same loads
#    through its store API; then stops it.
# 3. Prints one table: per load, each shop's rate, p50, p99, errors and CPU
#    per answer (the shop's process, and all PostgreSQL processes of the
#    machine), modshop's rate as a multiple of Medusa's and Medusa's p50 as a
#    multiple of modshop's.
#
# The loads, each DUR long, per shop:
# - open loop at the same, low arrival rates for both (a request at each
#   scheduled moment, latency from that moment): random product pages
#   ($PRODUCT_RATE/s), random two-word searches ($SEARCH_RATE/s), random list
#   pages ($LIST_RATE/s), whole guest purchases ($PURCHASE_RATE/s);
# - closed loop (CLOSED long, default DUR; 0: none): wrk -t2 -c64 --timeout
#   10s on /healthz (modshop) or /health (Medusa) and the three read loads
#   (random paths through a Lua script), and $BUYERS buyers (0: none) of
#   whole guest purchases, each starting the next when the last ended.
# The open-loop rates are low because Medusa answers a few requests a second
# on two cores: at modshop's rates it would only queue.
# A purchase is modshop's cart, item, checkout and order (pm_card_visa), or
# Medusa's cart, line item, address, shipping method, payment collection,
# payment session and complete (system payment provider); one unit of a
# random variant of 2,000.
#
# Needs: go, wrk, psql, curl, node (^20.19 or >= 22.12) and npm with registry
# access, PostgreSQL where `psql -h $PGHOST -U postgres` may create roles and
# databases. Everything it writes goes to $OUT (default a new directory
# under /tmp), Medusa's install to $MEDUSA_DIR (/var/tmp/modshop-sidebyside/medusa).
# The shops and the load generator share the machine: run it on an idle one.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
N=${N:-1000}
DUR=${DUR:-15s}
PRODUCT_RATE=${PRODUCT_RATE:-5}
SEARCH_RATE=${SEARCH_RATE:-5}
LIST_RATE=${LIST_RATE:-2}
PURCHASE_RATE=${PURCHASE_RATE:-0.5}
BUYERS=${BUYERS:-8}
CLOSED=${CLOSED:-$DUR}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432}
MODSHOP_DB=${MODSHOP_DB:-modshop_sidebyside}
export MEDUSA_ADDR=${MEDUSA_ADDR:-127.0.0.1:9000}
OUT=${OUT:-$(mktemp -d /tmp/sidebyside-XXXXXX)}
mkdir -p "$OUT"

for tool in go wrk psql curl node npm; do
	command -v "$tool" >/dev/null || { echo "run.sh: needs $tool" >&2; exit 1; }
done

echo "side by side: N=$N DUR=$DUR, open loop $PRODUCT_RATE/$SEARCH_RATE/$LIST_RATE/$PURCHASE_RATE per s, $BUYERS buyers; output in $OUT"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); load average $(cut -d' ' -f1-3 /proc/loadavg)"

echo ">>> build"
(cd "$root" && CGO_ENABLED=0 go build -trimpath -o bin/modshop ./cmd/modshop)
(cd "$root/docs/bench/varied" && go build -o "$OUT/varied" .)

harness=("$OUT/varied" -d "$DUR" -phases product,search,list,purchase
	-product-rate "$PRODUCT_RATE" -search-rate "$SEARCH_RATE" -list-rate "$LIST_RATE" -purchase-rate "$PURCHASE_RATE"
	-closed "$CLOSED" -purchase-closed "$BUYERS" -purchase-skus 2000 -after 5s -results "$OUT/results.tsv")
: >"$OUT/results.tsv"

cleanup() {
	bash "$here/medusa.sh" stop || true
	PGOPTIONS=--client-min-messages=warning psql -q -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres -c "DROP DATABASE IF EXISTS $MODSHOP_DB" 2>/dev/null || true
}
trap cleanup EXIT

echo ">>> modshop on PostgreSQL ($MODSHOP_DB)"
PGOPTIONS=--client-min-messages=warning psql -q -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres \
	-c "DROP DATABASE IF EXISTS $MODSHOP_DB" -c "CREATE DATABASE $MODSHOP_DB"
MODSHOP_DATABASE_URL="postgres://postgres@$PGHOST:$PGPORT/$MODSHOP_DB?sslmode=disable" \
	"${harness[@]}" -bin "$root/bin/modshop" -n "$N" -export "$OUT/catalog.json" | tee "$OUT/modshop.txt"

echo ">>> Medusa on PostgreSQL"
bash "$here/medusa.sh" prepare "$OUT/catalog.json"
bash "$here/medusa.sh" start
MEDUSA_DIR=${MEDUSA_DIR:-/var/tmp/modshop-sidebyside/medusa}
"${harness[@]}" -medusa "http://$MEDUSA_ADDR" -medusa-seed "$MEDUSA_DIR/bench-seed.json" \
	-pid "$(cat "$MEDUSA_DIR/medusa.pid")" | tee "$OUT/medusa.txt"
bash "$here/medusa.sh" stop

echo
echo "=== side by side ($N products each; PostgreSQL; $(nproc) cores; load average now $(cut -d' ' -f1-3 /proc/loadavg))"
"$OUT/varied" -table "$OUT/results.tsv" | tee "$OUT/table.txt"
