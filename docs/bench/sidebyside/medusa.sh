#!/usr/bin/env bash
# Medusa v2 (npm @medusajs/*, backend only) for the side-by-side bench:
#
#   medusa.sh install          install it into $MEDUSA_DIR unless it is there
#   medusa.sh prepare CATALOG  a fresh database $MEDUSA_DB, migrations, and
#                              the store seeded from CATALOG (seed.ts); the
#                              ids the harness needs go to $MEDUSA_DIR/bench-seed.json
#   medusa.sh start            start the production build on $MEDUSA_ADDR,
#                              wait for /health; its pid goes to $MEDUSA_DIR/medusa.pid
#   medusa.sh stop             stop the process `start` started
#
# Configuration: the backend only, PostgreSQL only, no Redis (so Medusa's
# defaults: in-memory event bus, cache, workflow engine and locking), the
# admin dashboard off, NODE_ENV=production, one process. It needs Node
# ^20.19 or >= 22.12, npm registry access, and PostgreSQL on
# $PGHOST:$PGPORT where `psql -U postgres` may create a role and a database.
#
# Environment: MEDUSA_DIR (default /var/tmp/modshop-sidebyside/medusa),
# MEDUSA_VERSION (2.21.2), MEDUSA_DB (medusa_sidebyside), MEDUSA_ADDR
# (127.0.0.1:9000), PGHOST (127.0.0.1), PGPORT (5432).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
MEDUSA_DIR=${MEDUSA_DIR:-/var/tmp/modshop-sidebyside/medusa}
MEDUSA_VERSION=${MEDUSA_VERSION:-2.21.2}
MEDUSA_DB=${MEDUSA_DB:-medusa_sidebyside}
MEDUSA_ADDR=${MEDUSA_ADDR:-127.0.0.1:9000}
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
export MEDUSA_DISABLE_TELEMETRY=true npm_config_audit=false npm_config_fund=false
db_url="postgres://medusa:medusa@$PGHOST:$PGPORT/$MEDUSA_DB"

log() { echo "medusa.sh: $*" >&2; }

install() {
	node -e 'const [a,b]=process.versions.node.split(".").map(Number); if(!(a>22||(a===22&&b>=12)||(a===20&&b>=19))){console.error("Medusa needs Node ^20.19 or >= 22.12, this is "+process.version);process.exit(1)}'
	# A marker per version: an install that stopped half-way is redone.
	if [[ -f $MEDUSA_DIR/.installed-$MEDUSA_VERSION ]]; then
		cp "$here/seed.ts" "$MEDUSA_DIR/src/scripts/seed.ts"
		return
	fi
	log "installing @medusajs/* $MEDUSA_VERSION into $MEDUSA_DIR (npm; a few minutes)"
	mkdir -p "$MEDUSA_DIR/src/scripts"
	cd "$MEDUSA_DIR"
	cat >package.json <<-EOF
	{
	  "name": "modshop-sidebyside-medusa",
	  "private": true,
	  "version": "0.0.0",
	  "engines": { "node": ">=20" },
	  "dependencies": {
	    "@medusajs/admin-sdk": "$MEDUSA_VERSION",
	    "@medusajs/cli": "$MEDUSA_VERSION",
	    "@medusajs/framework": "$MEDUSA_VERSION",
	    "@medusajs/medusa": "$MEDUSA_VERSION"
	  },
	  "devDependencies": {
	    "@swc/core": "^1.7.28",
	    "@types/node": "^20.12.11",
	    "react": "^18.3.1",
	    "react-dom": "^18.3.1",
	    "ts-node": "^10.9.2",
	    "typescript": "^5.6.2",
	    "vite": "^5.4.14"
	  }
	}
	EOF
	cat >medusa-config.ts <<-'EOF'
	import { defineConfig, loadEnv } from "@medusajs/framework/utils"

	loadEnv(process.env.NODE_ENV || "development", process.cwd())

	// No redisUrl: Medusa's in-memory event bus, cache, workflow engine and
	// locking. No admin dashboard: the bench drives the store API only.
	module.exports = defineConfig({
	  projectConfig: {
	    databaseUrl: process.env.DATABASE_URL,
	    http: {
	      storeCors: "http://localhost:8000",
	      adminCors: "http://localhost:9000",
	      authCors: "http://localhost:9000",
	      jwtSecret: process.env.JWT_SECRET || "bench-only",
	      cookieSecret: process.env.COOKIE_SECRET || "bench-only",
	    },
	  },
	  admin: { disable: true },
	})
	EOF
	cat >tsconfig.json <<-'EOF'
	{
	  "compilerOptions": {
	    "target": "ES2021", "module": "Node16", "moduleResolution": "Node16",
	    "esModuleInterop": true, "experimentalDecorators": true, "emitDecoratorMetadata": true,
	    "skipLibCheck": true, "declaration": false, "sourceMap": false, "inlineSourceMap": true,
	    "outDir": "./.medusa/server", "rootDir": "./", "resolveJsonModule": true, "strictNullChecks": true
	  },
	  "ts-node": { "swc": true },
	  "include": ["**/*", ".medusa/types/*"],
	  "exclude": ["node_modules", ".medusa/server", ".medusa/admin", ".cache"]
	}
	EOF
	cp "$here/seed.ts" src/scripts/seed.ts
	npm install --no-audit --no-fund
	touch "$MEDUSA_DIR/.installed-$MEDUSA_VERSION"
}

env_file() {
	printf 'DATABASE_URL=%s\nJWT_SECRET=bench-only\nCOOKIE_SECRET=bench-only\nMEDUSA_DISABLE_TELEMETRY=true\n' "$db_url" >"$MEDUSA_DIR/.env"
}

prepare() {
	local catalog
	catalog=$(realpath "$1")
	install
	log "fresh database $MEDUSA_DB"
	PGOPTIONS=--client-min-messages=warning psql -q -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres >/dev/null <<-SQL
	DO \$\$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'medusa')
	  THEN CREATE ROLE medusa LOGIN PASSWORD 'medusa' CREATEDB; END IF; END\$\$;
	SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '$MEDUSA_DB' AND pid <> pg_backend_pid();
	DROP DATABASE IF EXISTS $MEDUSA_DB;
	CREATE DATABASE $MEDUSA_DB OWNER medusa;
	SQL
	cd "$MEDUSA_DIR"
	env_file
	log "migrations"
	npx medusa db:migrate >"$MEDUSA_DIR/migrate.log" 2>&1 || { tail -30 "$MEDUSA_DIR/migrate.log"; exit 1; }
	log "seeding $(node -p "require('$catalog').length") products"
	BENCH_CATALOG=$catalog BENCH_OUT=$MEDUSA_DIR/bench-seed.json npx medusa exec ./src/scripts/seed.ts \
		>"$MEDUSA_DIR/seed.log" 2>&1 || { tail -30 "$MEDUSA_DIR/seed.log"; exit 1; }
	grep -a "seed: " "$MEDUSA_DIR/seed.log" | tail -1 >&2
	# The production build, served from .medusa/server as Medusa's docs
	# deploy it; it uses the project's node_modules instead of an `npm ci`
	# of its own (the same packages).
	log "build"
	npx medusa build >"$MEDUSA_DIR/build.log" 2>&1 || { tail -30 "$MEDUSA_DIR/build.log"; exit 1; }
	ln -sfn ../../node_modules .medusa/server/node_modules
	cp .env .medusa/server/.env
}

start() {
	cd "$MEDUSA_DIR/.medusa/server"
	NODE_ENV=production setsid node node_modules/@medusajs/cli/cli.js start \
		-H "${MEDUSA_ADDR%:*}" -p "${MEDUSA_ADDR##*:}" >"$MEDUSA_DIR/server.log" 2>&1 &
	echo $! >"$MEDUSA_DIR/medusa.pid"
	for _ in $(seq 1 480); do
		if curl -sf "http://$MEDUSA_ADDR/health" >/dev/null; then
			log "serving on $MEDUSA_ADDR, pid $(cat "$MEDUSA_DIR/medusa.pid")"
			return
		fi
		kill -0 "$(cat "$MEDUSA_DIR/medusa.pid")" 2>/dev/null || { tail -30 "$MEDUSA_DIR/server.log"; exit 1; }
		sleep 0.5
	done
	log "no /health after 240 s"
	exit 1
}

stop() {
	local pid
	pid=$(cat "$MEDUSA_DIR/medusa.pid" 2>/dev/null) || return 0
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
	fi
	rm -f "$MEDUSA_DIR/medusa.pid"
}

case ${1:-} in
install) install ;;
prepare) prepare "${2:?medusa.sh prepare CATALOG.json}" ;;
start) start ;;
stop) stop ;;
*) echo "usage: medusa.sh install | prepare CATALOG.json | start | stop" >&2; exit 2 ;;
esac
