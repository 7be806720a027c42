#!/usr/bin/env bash
# The storefront's product page against the same process's /healthz, in one
# run: seed N products (default 10,000) on a fresh SQLite database, serve,
# collect the slugs of every published product, then wrk -t2 -c64 /healthz
# and /products/{slug} with a random slug per request (so the page is built
# for a different product nearly every time, not served from one cached
# answer). Prints both rates and their ratio (the issue's target: the product
# page at >= 30 % of /healthz), and the bytes of the main pages.
# Needs wrk (apt-get install wrk) and python3.
#
#   bash docs/bench/web/run.sh             # from the repository root
#   N=2000 DUR=10s bash docs/bench/web/run.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
N=${N:-10000}
DUR=${DUR:-15s}
PORT=${PORT:-18081}
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"' EXIT
pid=

go build -o "$dir/modshop" ./cmd/modshop
export MODSHOP_DATA_DIR="$dir/data" MODSHOP_HTTP_ADDR="127.0.0.1:$PORT" MODSHOP_LOG_LEVEL=warn
base="http://127.0.0.1:$PORT"

echo "== seed $N products"
"$dir/modshop" seed --products "$N" >/dev/null
"$dir/modshop" serve 2>"$dir/serve.log" &
pid=$!
for _ in $(seq 100); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.1; done

echo "== collect the published products' slugs"
python3 - "$base" "$dir/slugs.lua" <<'PY'
import json, sys, urllib.request
base, out = sys.argv[1], sys.argv[2]
slugs, cursor = [], ""
while True:
    url = base + "/v1/products?limit=100" + ("&cursor=" + cursor if cursor else "")
    d = json.load(urllib.request.urlopen(url))
    slugs += [p["slug"] for p in d["items"]]
    cursor = d.get("next_cursor") or ""
    if not cursor:
        break
with open(out, "w") as f:
    f.write("slugs = {" + ",".join(json.dumps(s) for s in slugs) + "}\n")
    f.write("math.randomseed(os.time())\n")
    f.write('request = function() return wrk.format("GET", "/products/" .. slugs[math.random(#slugs)]) end\n')
print(len(slugs), "slugs")
PY

bench() { # name url [script] → prints a line, sets $rps
	local name=$1 url=$2 script=${3:-} out
	if [ -n "$script" ]; then out=$(wrk -t2 -c64 -d"$DUR" --latency -s "$script" "$url"); else out=$(wrk -t2 -c64 -d"$DUR" --latency "$url"); fi
	rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
	local p50 p99 non2xx
	p50=$(echo "$out" | awk '$1=="50%" {print $2}')
	p99=$(echo "$out" | awk '$1=="99%" {print $2}')
	non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
	printf '%-16s %10s req/s   p50 %8s   p99 %8s   non-2xx %s\n' "$name" "$rps" "$p50" "$p99" "${non2xx:-0}"
}

echo "== wrk -t2 -c64 -d$DUR (machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
bench healthz "$base/healthz"
healthz=$rps
bench product-page "$base" "$dir/slugs.lua"
page=$rps
python3 -c "print(f'product page / healthz: {100*$page/$healthz:.1f} %')"

echo "== page weight (HTML + CSS + JS, before compression)"
slug=$(curl -s "$base/v1/products?limit=1" | python3 -c 'import sys,json; print(json.load(sys.stdin)["items"][0]["slug"])')
assets=0
for a in $(curl -s "$base/" | grep -o '/assets/[^"]*'); do assets=$((assets + $(curl -s "$base$a" | wc -c))); done
for p in / "/products/$slug" "/search?q=leather+boots" /cart /signin; do
	html=$(curl -s "$base$p" | wc -c)
	printf '%-40s %7d bytes HTML + %6d CSS/JS = %7d\n' "$p" "$html" "$assets" $((html + assets))
done
