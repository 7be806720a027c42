package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
)

// Later runs a write of the transaction tx whose result the transaction
// does not need (an outbox row, a ledger line). On PostgreSQL it is sent
// with the COMMIT, in one network write, instead of costing a round trip
// of its own; it is part of the transaction all the same: if it fails,
// nothing of the transaction is kept and Transact returns its error.
// Elsewhere (SQLite, or tx not a transaction of Transact) it runs at once.
// sql uses gorm's placeholders (?).
func Later(tx *gorm.DB, sql string, args ...any) error {
	p, ok := tx.Statement.ConnPool.(*pipeTx)
	if !ok {
		return tx.Exec(sql, args...).Error
	}
	// Built, not run: gorm turns ? into $n and expands slices.
	built := tx.Session(&gorm.Session{DryRun: true, NewDB: true}).Exec(sql, args...)
	if built.Error != nil {
		return built.Error
	}
	p.later = append(p.later, laterStmt{sql: built.Statement.SQL.String(), args: built.Statement.Vars})
	return nil
}

type laterStmt struct {
	sql  string
	args []any
}

// pipeBeginner begins the PostgreSQL transactions of Transact: gorm's
// Transaction calls BeginTx, then Commit or Rollback on what it returns.
type pipeBeginner struct {
	db       *sql.DB
	counters *counters
}

func (b pipeBeginner) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return b.db.PrepareContext(ctx, query)
}

func (b pipeBeginner) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return b.db.ExecContext(ctx, query, args...)
}

func (b pipeBeginner) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return b.db.QueryContext(ctx, query, args...)
}

func (b pipeBeginner) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return b.db.QueryRowContext(ctx, query, args...)
}

// BeginTx takes a connection of the pool for the transaction and begins it.
// Options other than the default are refused: Transact never sets any.
func (b pipeBeginner) BeginTx(ctx context.Context, opts *sql.TxOptions) (gorm.ConnPool, error) {
	if opts != nil && (opts.Isolation != sql.LevelDefault || opts.ReadOnly) {
		return nil, errors.New("database: transaction options are not supported")
	}
	conn, err := b.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		discard(conn)
		return nil, err
	}
	return &pipeTx{ctx: ctx, conn: conn, counters: b.counters}, nil
}

// pipeTx is a transaction on one connection that it holds from BEGIN to
// COMMIT or ROLLBACK; what Later queued goes out with the COMMIT.
type pipeTx struct {
	ctx      context.Context
	conn     *sql.Conn
	counters *counters
	later    []laterStmt
	done     bool
}

func (t *pipeTx) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return t.conn.PrepareContext(ctx, query)
}

func (t *pipeTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.conn.ExecContext(ctx, query, args...)
}

func (t *pipeTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.conn.QueryContext(ctx, query, args...)
}

func (t *pipeTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return t.conn.QueryRowContext(ctx, query, args...)
}

// Commit sends the queued writes and COMMIT as one pipeline: one round
// trip. A failure of any of them aborts the transaction: it is rolled back.
func (t *pipeTx) Commit() error {
	if t.done {
		return sql.ErrTxDone
	}
	t.done = true
	if len(t.later) == 0 {
		_, err := t.conn.ExecContext(t.ctx, "COMMIT")
		return t.release(err)
	}
	err := t.conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("database: a PostgreSQL connection is a %T", dc)
		}
		b := &pgx.Batch{}
		for _, s := range t.later {
			b.Queue(s.sql, s.args...)
		}
		b.Queue("COMMIT")
		err := c.Conn().SendBatch(t.ctx, b).Close()
		if err == nil && c.Conn().PgConn().TxStatus() != 'I' {
			err = errors.New("database: the transaction did not end at COMMIT")
		}
		return err
	})
	if t.counters != nil {
		t.counters.pipelined.Add(float64(len(t.later)))
	}
	if err != nil {
		err = fmt.Errorf("commit: %w", err)
	}
	return t.release(err)
}

// Rollback ends the transaction unless Commit did.
func (t *pipeTx) Rollback() error {
	if t.done {
		return sql.ErrTxDone
	}
	t.done = true
	_, err := t.conn.ExecContext(context.WithoutCancel(t.ctx), "ROLLBACK")
	return t.release(err)
}

// release gives the connection back to the pool when the transaction
// ended cleanly, and closes it otherwise: a connection must never go back
// inside a transaction, or aborted in one.
func (t *pipeTx) release(err error) error {
	if err == nil {
		return t.conn.Close()
	}
	ok := t.conn.Raw(func(dc any) error {
		if c, isPgx := dc.(*stdlib.Conn); isPgx && c.Conn().PgConn().TxStatus() == 'E' {
			// The pipeline failed inside the transaction: end it here.
			if _, rerr := c.Conn().Exec(context.WithoutCancel(t.ctx), "ROLLBACK"); rerr != nil {
				return driver.ErrBadConn
			}
		}
		if c, isPgx := dc.(*stdlib.Conn); !isPgx || c.Conn().PgConn().TxStatus() != 'I' {
			return driver.ErrBadConn
		}
		return nil
	})
	if ok == nil {
		_ = t.conn.Close()
	} // else Raw has closed it, and the pool drops it
	return err
}

// discard makes the pool close conn instead of reusing it.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close()
}

// Values builds a multi-row INSERT: head (up to and without VALUES), then
// one (?, …) group of width placeholders for each of n rows, whose
// arguments row(i) gives.
func Values(head string, n, width int, row func(i int) []any) (string, []any) {
	group := "(" + strings.Repeat("?, ", width-1) + "?)"
	var sql strings.Builder
	sql.Grow(len(head) + 8 + n*(len(group)+2))
	sql.WriteString(head)
	sql.WriteString(" VALUES ")
	args := make([]any, 0, n*width)
	for i := range n {
		if i > 0 {
			sql.WriteString(", ")
		}
		sql.WriteString(group)
		args = append(args, row(i)...)
	}
	return sql.String(), args
}
