#!/usr/bin/env bash
# Lints docs/openapi.json (the document the binary serves; see
# cmd/modshop/openapi_test.go) with the two linters API teams use most, at
# pinned versions, installed with npm into .cache/npm-tools (ignored by git).
# Both must report 0 errors and 0 warnings. Needs Node.js and npm; `make test`
# does not.
set -euo pipefail
cd "$(dirname "$0")/.."

REDOCLY=@redocly/cli@2.77.0
SPECTRAL=@stoplight/spectral-cli@6.16.3
tools=.cache/npm-tools
stamp="$tools/.installed-redocly-2.77.0-spectral-6.16.3"

if [ ! -f "$stamp" ]; then
	mkdir -p "$tools"
	[ -f "$tools/package.json" ] || echo '{"name":"modshop-npm-tools","private":true}' >"$tools/package.json"
	npm install --prefix "$tools" --no-audit --no-fund --save-exact "$REDOCLY" "$SPECTRAL" >/dev/null
	touch "$stamp"
fi

export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
echo "redocly lint (recommended, redocly.yaml):"
"$tools/node_modules/.bin/redocly" lint --config redocly.yaml --max-problems 1000 docs/openapi.json
# Warnings count as failures too.
if "$tools/node_modules/.bin/redocly" lint --config redocly.yaml --format=summary docs/openapi.json 2>&1 | grep -qE '^warning'; then
	echo "redocly: warnings found" >&2
	exit 1
fi
echo "spectral lint (spectral:oas, .spectral.yaml):"
"$tools/node_modules/.bin/spectral" lint --ruleset .spectral.yaml --fail-severity hint docs/openapi.json
