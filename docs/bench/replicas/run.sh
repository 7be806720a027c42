#!/usr/bin/env bash
# Read throughput with one and with two replicas of the monolith, in one
# run: seed N products (default 20,000) into a PostgreSQL database of the
# run's own, index them, then serve them from replica 1 alone and from
# replicas 1 and 2 together, both on NATS JetStream and behind HAProxy with
# the configuration of docker-compose.yml's "replicas" profile
# (deploy/replicas/haproxy.cfg, its servers replaced by the two local
# ports). Each phase runs wrk -t2 -c64 on three endpoints with varied keys:
# product pages of random slugs, product lists of a random category, sort
# and price floor, and searches for two random words of the seeded titles.
# It prints requests/s, latency and the CPU per request of every process:
# each replica, HAProxy, PostgreSQL (every postgres process of the machine)
# and NATS (every nats-server process), from /proc.
#
# Needs: PostgreSQL (PG_URL, default the test database on 127.0.0.1:5432;
# a database modshop_bench_<pid> is made beside it and dropped after), NATS
# with JetStream (NATS_URL, default nats://127.0.0.1:4222; the run uses a
# stream of its own), wrk, haproxy, psql and python3
# (apt-get install wrk haproxy postgresql-client python3).
#
#   bash docs/bench/replicas/run.sh                  # from the repository root
#   N=5000 DUR=10s bash docs/bench/replicas/run.sh
#
# On a shared machine the PostgreSQL and NATS figures include what others
# make them do; run it on an otherwise idle one.
set -euo pipefail
cd "$(dirname "$0")/../../.."
N=${N:-20000}
DUR=${DUR:-15s}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
NATS_URL=${NATS_URL:-nats://127.0.0.1:4222}
LB_PORT=${LB_PORT:-18100}
R1_PORT=${R1_PORT:-18101}
R2_PORT=${R2_PORT:-18102}

for tool in wrk haproxy psql python3; do
	command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install $tool)" >&2; exit 1; }
done

dir=$(mktemp -d)
db=modshop_bench_$$
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT

base=${PG_URL%%\?*}
query=${PG_URL#"$base"}
export MODSHOP_DATABASE_URL="${base%/*}/$db$query"
export MODSHOP_JWT_SECRET=bench-replicas-jwt-secret-0123456789abcdef
export MODSHOP_LOG_LEVEL=warn
psql "$PG_URL" -qc "CREATE DATABASE $db"

CGO_ENABLED=0 go build -o "$dir/modshop" ./cmd/modshop
lb="http://127.0.0.1:$LB_PORT"
json() { python3 -c "import sys,json; d=json.load(sys.stdin); print($1)"; }
ready() { curl -sf "$1/readyz" >/dev/null; }
wait_until() { # seconds command...: polls every 0.5 s
	local limit=$1
	shift
	for _ in $(seq $((limit * 2))); do "$@" && return 0; sleep 0.5; done
	return 1
}
outbox_empty() { [ "$(curl -s "$1/metrics" | awk '/^modshop_outbox_depth/ {s+=$2} END {print s+0}')" = 0 ]; }
search_total() { curl -s "$1/v1/search?limit=1" | json 'd["total"]'; }

echo "== seed $N products with stock into $db"
/usr/bin/time -f "seed: %e s wall" "$dir/modshop" seed --products "$N"

# The seed's events go through the in-process bus once, fast, into the
# read model and replica 1's search index; the replicas then start on NATS
# with nothing left to relay.
echo "== relay the seed's events and index them (in process)"
start=$SECONDS
MODSHOP_HTTP_ADDR=127.0.0.1:$R1_PORT MODSHOP_DATA_DIR=$dir/r1 "$dir/modshop" serve 2>"$dir/prep.log" &
prep=$!
pids+=("$prep")
wait_until 60 ready "http://127.0.0.1:$R1_PORT"
python3 - "http://127.0.0.1:$R1_PORT" "$dir" <<'PY'
# The keys of the run, from the public API: every published product's slug,
# the words of their titles, the categories.
import json, re, sys, urllib.request
base, out = sys.argv[1], sys.argv[2]
get = lambda p: json.load(urllib.request.urlopen(base + p))
slugs, words, cursor = [], set(), ""
while True:
    page = get("/v1/products?limit=100" + ("&cursor=" + urllib.parse.quote(cursor) if cursor else ""))
    for p in page["items"]:
        slugs.append(p["slug"])
        words.update(w for w in re.findall(r"[a-z]+", p["title"].lower()) if len(w) > 2)
    cursor = page["next_cursor"]
    if not cursor:
        break
cats = [c["slug"] for c in get("/v1/categories")["items"]]
for name, xs in (("slugs", slugs), ("words", sorted(words)), ("categories", cats)):
    open(f"{out}/{name}.txt", "w").write("\n".join(xs) + "\n")
print(len(slugs), file=open(f"{out}/published", "w"))
PY
published=$(cat "$dir/published")
indexed() { outbox_empty "$1" && [ "$(search_total "$1")" = "$published" ]; }
if ! wait_until 1800 indexed "http://127.0.0.1:$R1_PORT"; then
	echo "the index did not reach $published products" >&2
	exit 1
fi
echo "$published published products indexed after $((SECONDS - start)) s; $(wc -l <"$dir/words.txt") title words"
kill "$prep"
wait "$prep" || true

# HAProxy as in docker-compose.yml, with the two local replicas as servers
# and no request log (the replicas log warnings only).
awk -v r1="127.0.0.1:$R1_PORT" -v r2="127.0.0.1:$R2_PORT" -v lb=":$LB_PORT" '
	/^resolvers / { skip = 1 } skip && /^$/ { skip = 0; next } skip { next }
	/^[[:space:]]*log / || /option httplog/ { next }
	/^[[:space:]]*bind / { print "    bind " lb; next }
	/^[[:space:]]*server-template / {
		print "    server replica1 " r1 " check inter 1s fall 2 rise 2"
		print "    server replica2 " r2 " check inter 1s fall 2 rise 2"
		next
	}
	{ print }' deploy/replicas/haproxy.cfg >"$dir/haproxy.cfg"
haproxy -c -q -f "$dir/haproxy.cfg"
haproxy -f "$dir/haproxy.cfg" >"$dir/haproxy.log" 2>&1 &
haproxy_pid=$!
pids+=("$haproxy_pid")

export MODSHOP_NATS_URL=$NATS_URL MODSHOP_NATS_STREAM=BENCH_$$
replica() { # n port: serve on NATS with data folder rn
	MODSHOP_HTTP_ADDR=127.0.0.1:$2 MODSHOP_DATA_DIR=$dir/r$1 "$dir/modshop" serve 2>"$dir/r$1.log" &
	pids+=("$!")
	eval "r$1_pid=$!"
}
replica 1 "$R1_PORT"
wait_until 60 ready "http://127.0.0.1:$R1_PORT"
wait_until 10 ready "$lb"

# wrk scripts: each thread draws its keys at random from the seeded catalog.
lua_head() {
	cat <<LUA
local n = 0
function setup(thread) n = n + 1; thread:set("id", n) end
local function lines(f) local t = {}; for l in io.lines("$dir/" .. f .. ".txt") do if l ~= "" then t[#t + 1] = l end end; return t end
LUA
}
{ lua_head; cat <<'LUA'; } >"$dir/product.lua"
function init() math.randomseed(os.time() * 100 + id); slugs = lines("slugs") end
request = function() return wrk.format("GET", "/v1/products/" .. slugs[math.random(#slugs)]) end
LUA
{ lua_head; cat <<'LUA'; } >"$dir/list.lua"
local sorts = {"newest", "price_asc", "price_desc", "title"}
function init() math.randomseed(os.time() * 100 + id); cats = lines("categories") end
request = function()
  return wrk.format("GET", "/v1/products?limit=20&category=" .. cats[math.random(#cats)] .. "&sort=" .. sorts[math.random(#sorts)] ..
    "&min_price=" .. math.random(0, 50) * 100)
end
LUA
{ lua_head; cat <<'LUA'; } >"$dir/search.lua"
function init() math.randomseed(os.time() * 100 + id); words = lines("words") end
request = function()
  return wrk.format("GET", "/v1/search?q=" .. words[math.random(#words)] .. "+" .. words[math.random(#words)])
end
LUA

# cpu PID...: user + system CPU ticks (1/100 s) of the processes, summed.
cpu() {
	local t=0 p
	for p in "$@"; do
		[ -r "/proc/$p/stat" ] && t=$((t + $(awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$p/stat")))
	done
	echo "$t"
}
named() { pgrep -x "$1" | tr '\n' ' '; }

bench() { # phase endpoint script
	local phase=$1 name=$2 script=$3 procs=() labels=() before=() out i
	labels=(replica1 replica2 haproxy postgres nats)
	procs=("${r1_pid:-}" "${r2_pid:-}" "$haproxy_pid" "$(named postgres)" "$(named nats-server)")
	for i in "${!procs[@]}"; do before[i]=$(cpu ${procs[i]}); done
	out=$(wrk -t2 -c64 -d"$DUR" --latency -s "$script" "$lb")
	procs[3]=$(named postgres)
	local requests rps p50 p99 non2xx line
	requests=$(echo "$out" | awk '/requests in/ {print $1}')
	rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
	p50=$(echo "$out" | awk '$1=="50%" {print $2}')
	p99=$(echo "$out" | awk '$1=="99%" {print $2}')
	non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
	line=$(printf '%-10s %-8s %9s req/s  p50 %8s  p99 %8s  non-2xx %-5s CPU µs/req:' "$phase" "$name" "$rps" "$p50" "$p99" "${non2xx:-0}")
	for i in "${!procs[@]}"; do
		[ -n "${procs[i]// /}" ] || continue
		line+=$(awk -v l="${labels[i]}" -v a="$(cpu ${procs[i]})" -v b="${before[i]}" -v n="$requests" 'BEGIN { printf " %s %.0f", l, (a - b) * 10000 / n }')
	done
	echo "$line"
}

phase() {
	echo "== $1: wrk -t2 -c64 -d$DUR through HAProxy (machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
	bench "$1" product "$dir/product.lua"
	bench "$1" list "$dir/list.lua"
	bench "$1" search "$dir/search.lua"
}

phase "1 replica"

echo "== replica 2 starts with an empty data folder"
start=$SECONDS
replica 2 "$R2_PORT"
wait_until 1800 ready "http://127.0.0.1:$R2_PORT"
echo "replica 2 ready after $((SECONDS - start)) s, holding $(search_total "http://127.0.0.1:$R2_PORT") of $published products in its index"
wait_until 10 ready "$lb"
sleep 3 # HAProxy's checks: two in a row (rise 2, one a second)
phase "2 replicas"
echo "RSS after the run: replica 1 $(ps -o rss= -p "$r1_pid") KiB, replica 2 $(ps -o rss= -p "$r2_pid") KiB"
