#!/usr/bin/env bash
# HTTP load benchmark of the catalog and search read paths, against the same
# process's /healthz in the same run: seed N products (default 100,000) on a
# fresh SQLite database, serve, wait until search has indexed everything, then
# wrk -t2 -c64 each endpoint. Needs wrk (apt-get install wrk) and python3.
#
#   bash docs/bench/http/run.sh            # from the repository root
#   N=20000 DUR=10s bash docs/bench/http/run.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
N=${N:-100000}
DUR=${DUR:-15s}
PORT=${PORT:-18080}
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"' EXIT
pid=

go build -o "$dir/modshop" ./cmd/modshop
export MODSHOP_DATA_DIR="$dir/data" MODSHOP_HTTP_ADDR="127.0.0.1:$PORT" MODSHOP_LOG_LEVEL=warn
base="http://127.0.0.1:$PORT"

echo "== seed $N products"
/usr/bin/time -f "seed: %e s wall, %M KiB max RSS" "$dir/modshop" seed --products "$N"

"$dir/modshop" serve 2>"$dir/serve.log" &
pid=$!
for _ in $(seq 100); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.1; done

echo "== waiting for events to be relayed and the search index to catch up"
start=$SECONDS
json() { python3 -c "import sys,json; d=json.load(sys.stdin); print($1)"; }
while :; do
	depth=$(curl -s "$base/metrics" | awk '/^modshop_outbox_depth/ {s+=$2} END {print s+0}')
	listed=$(curl -s "$base/v1/search?limit=1" | json 'd["total"]')
	if [ "$depth" = 0 ] && [ "$listed" = "${last:-x}" ] && [ "$listed" != 0 ]; then break; fi
	last=$listed
	sleep 2
done
echo "caught up after $((SECONDS - start)) s: outbox empty, $listed products searchable"

slug=$(curl -s "$base/v1/products?limit=1&sort=title" | json 'd["items"][0]["slug"]')
cat >"$dir/search.lua" <<'LUA'
local qs = {"leather boots", "cotton shirt", "wool sweater", "runing shoes", "linen dress", "steel bottle", "canvas bag", "silk scarf"}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/v1/search?q=" .. qs[(i % #qs) + 1]:gsub(" ", "+"))
end
LUA

bench() { # name url [script]
	local name=$1 url=$2 script=${3:-}
	local out
	if [ -n "$script" ]; then out=$(wrk -t2 -c64 -d"$DUR" --latency -s "$script" "$url"); else out=$(wrk -t2 -c64 -d"$DUR" --latency "$url"); fi
	local rps p50 p99 non2xx
	rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
	p50=$(echo "$out" | awk '$1=="50%" {print $2}')
	p99=$(echo "$out" | awk '$1=="99%" {print $2}')
	non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
	printf '%-16s %10s req/s   p50 %8s   p99 %8s   non-2xx %s\n' "$name" "$rps" "$p50" "$p99" "${non2xx:-0}"
}

echo "== wrk -t2 -c64 -d$DUR (machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
bench healthz "$base/healthz"
bench list "$base/v1/products?limit=20"
bench list-category "$base/v1/products?limit=20&sort=price_asc&category=$(curl -s "$base/v1/categories" | json 'd["items"][0]["slug"]')"
bench detail "$base/v1/products/$slug"
bench search "$base/v1/search" "$dir/search.lua"
# The same endpoints with answers the caches cannot have: every request a
# new price floor (list), a new word pair and price cap (search).
cat >"$dir/list-varied.lua" <<'LUA'
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/v1/products?limit=20&min_price=" .. math.random(1, 2000000))
end
LUA
cat >"$dir/search-varied.lua" <<'LUA'
math.randomseed(os.time())
local words = {"leather","cotton","wool","linen","steel","canvas","silk","running","trail","classic","boots","shirt",
  "sweater","shoes","dress","bottle","bag","scarf","jacket","tent","lamp","chair","mug","watch","hat","socks","gloves",
  "belt","wallet","backpack","blue","green","black","red","grey","light","heavy","soft","warm","compact"}
request = function()
  local q = words[math.random(#words)] .. "+" .. words[math.random(#words)] .. "&max_price=" .. math.random(100000, 10000000)
  return wrk.format("GET", "/v1/search?q=" .. q)
end
LUA
bench list-varied "$base/v1/products" "$dir/list-varied.lua"
bench search-varied "$base/v1/search" "$dir/search-varied.lua"
bench healthz-again "$base/healthz"
echo "serve RSS after the run: $(ps -o rss= -p "$pid") KiB"
