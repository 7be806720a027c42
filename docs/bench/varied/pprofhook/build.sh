#!/usr/bin/env bash
# Builds the modshop binary with net/http/pprof served on $MODSHOP_BENCH_PPROF
# (a benchmark-only build: pprof.go.txt joins cmd/modshop through
# `go build -overlay`; the repository's code is not changed).
#
#   bash docs/bench/varied/pprofhook/build.sh [OUT]   # default bin/modshop-pprof
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
out=${1:-$root/bin/modshop-pprof}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf '{"Replace":{"%s":"%s"}}\n' "$root/cmd/modshop/zz_bench_pprof.go" "$here/pprof.go.txt" >"$tmp/overlay.json"
cd "$root" && go build -overlay "$tmp/overlay.json" -o "$out" ./cmd/modshop
echo "$out"
