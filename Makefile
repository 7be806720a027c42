# modshop: `make run` starts the shop on :8080, `make test` runs the tests.
# `make` alone lists the targets.

VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X github.com/modshop/modshop/platform/app.Version=$(VERSION)
BIN       := bin/modshop

# Benchmarks: some build a 100k-product search index before they start, so a
# whole run takes minutes. Narrow it with e.g.
#   make bench BENCH=SearchTwoWords PKG=./modules/search/...
BENCH     ?= .
BENCHTIME ?= 1s
PKG       ?= ./...

.DEFAULT_GOAL := help

# Fuzz targets (go test -fuzz), PACKAGE:TARGET; `make fuzz` runs each for
# FUZZTIME. Their seed corpora are in each package's testdata/fuzz.
FUZZTIME  ?= 5s
FUZZ      := ./platform/httpx:FuzzBind ./modules/catalog/internal/store:FuzzDecodeCursor \
             ./modules/search/internal/engine:FuzzSearch ./platform/idempotency:FuzzCheck \
             ./platform/database:FuzzSplitStatements ./platform/events:FuzzDecodeMessage

.PHONY: help run build test test-race arch lint lint-openapi openapi bench fuzz tidy clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# The seed marker lives in the data folder the binary uses.
DATA_DIR  := $(or $(MODSHOP_DATA_DIR),data)

# The demo shop's back-office account, made at the first `make run` unless
# MODSHOP_BOOTSTRAP_ADMIN_* say otherwise. A demo's only: a deployment sets
# its own (docs/deploy.md).
DEMO_ADMIN_EMAIL    := admin@example.com
DEMO_ADMIN_PASSWORD := modshop-demo-admin

run: build ## build, migrate, seed a demo catalog once (marker $MODSHOP_DATA_DIR/.seeded), serve the shop on :8080
	./$(BIN) migrate
	@if [ ! -f "$(DATA_DIR)/.seeded" ]; then \
		./$(BIN) seed --products 200 && mkdir -p "$(DATA_DIR)" && touch "$(DATA_DIR)/.seeded"; \
	fi
	@echo "shop: http://localhost:8080/   back office: http://localhost:8080/admin ($${MODSHOP_BOOTSTRAP_ADMIN_EMAIL:-$(DEMO_ADMIN_EMAIL)})"
	MODSHOP_BOOTSTRAP_ADMIN_EMAIL="$${MODSHOP_BOOTSTRAP_ADMIN_EMAIL:-$(DEMO_ADMIN_EMAIL)}" \
	MODSHOP_BOOTSTRAP_ADMIN_PASSWORD="$${MODSHOP_BOOTSTRAP_ADMIN_PASSWORD:-$(DEMO_ADMIN_PASSWORD)}" \
	./$(BIN) serve

build: ## build bin/modshop (static, no cgo)
	CGO_ENABLED=0 go build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/modshop

test: ## run every test (PostgreSQL/NATS suites skip unless MODSHOP_TEST_*_URL is set)
	go test ./...

test-race: ## run every test with the race detector (needs cgo: gcc)
	go test -race ./...

arch: ## check module boundaries (arch-go.yml)
	go tool arch-go --color no

lint: ## go vet and golangci-lint (.golangci.yml)
	go vet ./...
	go tool golangci-lint run

lint-openapi: ## lint docs/openapi.json with redocly and spectral (needs npm; pinned, cached in .cache/)
	bash scripts/lint-openapi.sh

openapi: ## regenerate docs/openapi.json (and the generated client) from the code
	go test ./cmd/modshop -run TestOpenAPIDocumentIsCheckedIn -count=1 -update-openapi
	go generate ./cmd/modshop/internal/apiclient

bench: ## run benchmarks (BENCH, BENCHTIME, PKG narrow them)
	go test -run '^$$' -bench '$(BENCH)' -benchmem -benchtime $(BENCHTIME) -timeout 60m $(PKG)

fuzz: ## run each fuzz target for FUZZTIME (default 5s) and print its executions
	@set -e; for t in $(FUZZ); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		out=$$(go test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 100x $$pkg 2>&1) || { echo "$$out"; exit 1; }; \
		echo "$$name ($$pkg): $$(echo "$$out" | grep -o 'execs: [0-9]*' | tail -1)"; \
	done

tidy: ## go mod tidy
	go mod tidy

clean: ## remove build output (keeps data/, the local database: rm -rf data to start over)
	rm -rf bin .arch-go
