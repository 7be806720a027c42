package sqlitedriver

import (
	libtnb "github.com/libtnb/sqlite"
	"gorm.io/gorm"
)

// moderncQuery is the DSN query string for the pure-Go driver
// (github.com/libtnb/sqlite over modernc.org/sqlite).
const moderncQuery = "_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)" +
	"&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate"

func init() {
	registerDriver(driver{
		name:     "modernc",
		dsnQuery: moderncQuery,
		openDSN: func(dsn string) (*gorm.DB, error) {
			return gorm.Open(libtnb.Open(dsn), gormConfig())
		},
	})
}
