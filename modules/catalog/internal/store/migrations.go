package store

import (
	"strings"

	"github.com/modshop/modshop/platform/database"
)

// schemaV1 is written once for both engines. {C} marks the text columns that
// are compared and sorted (ids, the title sort key): PostgreSQL gets
// COLLATE "C" there, so ordering is byte order on both engines, whatever
// the database's default collation, and keyset pages agree with Go's
// string order. Times are unix microseconds in BIGINT columns, so sorting
// by them is exact on SQLite too. {WITHOUT ROWID} keeps SQLite from adding
// a rowid tree beside the primary key of a table of small rows.
//
// catalog_category_listing is the category filter's index: one row per
// published product and category on its category's path (a product in
// shoes/running is listed under both), carrying the sort keys. A filter by
// category, descendants included, is then one equality on category_id
// followed by an index range in sort order — no IN list over descendants,
// which neither engine can read in sort order without sorting.
const schemaV1 = `
CREATE TABLE catalog_categories (
	id TEXT{C} PRIMARY KEY,
	slug TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	parent_id TEXT{C} REFERENCES catalog_categories (id),
	path TEXT{C} NOT NULL,
	created_at BIGINT NOT NULL
);
CREATE INDEX catalog_categories_parent ON catalog_categories (parent_id);

CREATE TABLE catalog_products (
	id TEXT{C} PRIMARY KEY,
	slug TEXT NOT NULL UNIQUE,
	title TEXT NOT NULL,
	title_key TEXT{C} NOT NULL,
	description TEXT NOT NULL,
	category_id TEXT{C} REFERENCES catalog_categories (id),
	status TEXT NOT NULL CHECK (status IN ('draft', 'published', 'archived')),
	price_from BIGINT NOT NULL,
	version BIGINT NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX catalog_products_status_newest ON catalog_products (status, created_at, id);
CREATE INDEX catalog_products_status_price ON catalog_products (status, price_from, id);
CREATE INDEX catalog_products_status_title ON catalog_products (status, title_key, id);
CREATE INDEX catalog_products_newest ON catalog_products (created_at, id);

CREATE TABLE catalog_variants (
	id TEXT{C} PRIMARY KEY,
	product_id TEXT{C} NOT NULL REFERENCES catalog_products (id),
	position INTEGER NOT NULL,
	sku TEXT NOT NULL UNIQUE,
	title TEXT NOT NULL,
	price BIGINT NOT NULL CHECK (price >= 0),
	attributes TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX catalog_variants_product ON catalog_variants (product_id, position);

CREATE TABLE catalog_category_listing (
	category_id TEXT{C} NOT NULL,
	product_id TEXT{C} NOT NULL,
	price_from BIGINT NOT NULL,
	created_at BIGINT NOT NULL,
	title_key TEXT{C} NOT NULL,
	PRIMARY KEY (product_id, category_id)
){WITHOUT ROWID};
CREATE INDEX catalog_category_listing_newest ON catalog_category_listing (category_id, created_at, product_id);
CREATE INDEX catalog_category_listing_price ON catalog_category_listing (category_id, price_from, product_id);
CREATE INDEX catalog_category_listing_title ON catalog_category_listing (category_id, title_key, product_id);
`

// changesV2 is the catalog's change counter (see CountChange): one row,
// created with the table, so a write never has to insert it.
const changesV2 = `
CREATE TABLE catalog_changes (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	n BIGINT NOT NULL
);
INSERT INTO catalog_changes (id, n) VALUES (1, 0);
`

// Migrations are the catalog's own tables.
func Migrations() database.MigrationSet {
	return database.MigrationSet{Module: "catalog", Component: "module", Migrations: []database.Migration{
		portable(1, "catalog", schemaV1),
		{Version: 2, Name: "changes", SQL: changesV2},
	}}
}

// portable renders a script with {C} and {WITHOUT ROWID} marks for both
// engines.
func portable(version int, name, script string) database.Migration {
	pg := strings.NewReplacer("{C}", ` COLLATE "C"`, "{WITHOUT ROWID}", "").Replace(script)
	sqlite := strings.NewReplacer("{C}", "", "{WITHOUT ROWID}", " WITHOUT ROWID").Replace(script)
	return database.Migration{Version: version, Name: name, SQL: pg, Postgres: pg, SQLite: sqlite}
}
