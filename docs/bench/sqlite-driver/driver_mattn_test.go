//go:build cgo

package sqlitedriver

import (
	cgosqlite "gorm.io/driver/sqlite"
	"gorm.io/gorm"
)

// mattnQuery is the DSN query string for the cgo driver
// (gorm.io/driver/sqlite over github.com/mattn/go-sqlite3).
const mattnQuery = "_journal_mode=WAL&_busy_timeout=10000&_synchronous=NORMAL" +
	"&_foreign_keys=1&_txlock=immediate"

func init() {
	registerDriver(driver{
		name:     "mattn",
		dsnQuery: mattnQuery,
		openDSN: func(dsn string) (*gorm.DB, error) {
			return gorm.Open(cgosqlite.Open(dsn), gormConfig())
		},
	})
}
