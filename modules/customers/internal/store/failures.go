package store

import (
	"time"
)

// Sign-in failure counters: customers_login_failures holds one row per
// subject (a hashed e-mail or client address) with the failures counted in
// its current window. Windows are unix milliseconds, so the arithmetic is
// the same on SQLite and PostgreSQL.

// TakeAttempt counts one attempt for subject, unless the subject already
// used up limit attempts in its window. A window opens with the first
// attempt and lasts window; once over, the next attempt opens a new one.
// The check and the increment are one statement, so concurrent attempts,
// from this process or another on the same database, can never exceed the
// limit. It returns whether the attempt may proceed and when the window
// ends.
func (q queries) TakeAttempt(subject string, limit int, window time.Duration, now time.Time) (bool, time.Time, error) {
	nowMs := now.UnixMilli()
	var ends []int64
	err := q.db.Raw(`INSERT INTO customers_login_failures AS f (subject, failures, window_ends_at) VALUES (?, 1, ?)
		ON CONFLICT (subject) DO UPDATE SET
			failures = CASE WHEN f.window_ends_at <= ? THEN 1 ELSE f.failures + 1 END,
			window_ends_at = CASE WHEN f.window_ends_at <= ? THEN excluded.window_ends_at ELSE f.window_ends_at END
		WHERE f.window_ends_at <= ? OR f.failures < ?
		RETURNING window_ends_at`,
		subject, nowMs+window.Milliseconds(), nowMs, nowMs, nowMs, limit).Scan(&ends).Error
	if err != nil {
		return false, time.Time{}, translate("count sign-in attempt", err)
	}
	if len(ends) == 1 {
		return true, time.UnixMilli(ends[0]), nil
	}
	// Limited: the row was left alone; say when its window ends.
	err = q.db.Raw("SELECT window_ends_at FROM customers_login_failures WHERE subject = ?", subject).Scan(&ends).Error
	if err != nil {
		return false, time.Time{}, translate("read sign-in window", err)
	}
	if len(ends) == 0 {
		return false, now, nil // swept at this very moment: try again
	}
	return false, time.UnixMilli(ends[0]), nil
}

// GiveBackAttempt uncounts an attempt that succeeded, if its window is
// still the one it was counted in.
func (q queries) GiveBackAttempt(subject string, windowEnds time.Time) error {
	err := q.db.Exec("UPDATE customers_login_failures SET failures = failures - 1 WHERE subject = ? AND window_ends_at = ? AND failures > 0",
		subject, windowEnds.UnixMilli()).Error
	return translate("give back sign-in attempt", err)
}

// DeleteEndedWindows removes counters whose window is over; they would
// start afresh anyway.
func (q queries) DeleteEndedWindows(now time.Time) error {
	err := q.db.Exec("DELETE FROM customers_login_failures WHERE window_ends_at <= ?", now.UnixMilli()).Error
	return translate("delete ended sign-in windows", err)
}

// Sign-in delays: customers_signin_delays holds one row per subject (a
// hashed account and client address) with its failures, when the next
// attempt may be made and when the row is forgotten. Times are unix
// milliseconds, as above.

// Delay is a growing-delay policy: the first Free attempts of a subject go
// at once; after the n-th (n ≥ Free) the next waits Base·2^(n−Free), at
// most Max. A subject quiet for Memory starts afresh.
type Delay struct {
	Free   int
	Base   time.Duration
	Max    time.Duration
	Memory time.Duration
}

// After is the wait that follows the n-th attempt.
func (d Delay) After(n int) time.Duration {
	if n < d.Free {
		return 0
	}
	w := d.Base
	for i := d.Free; i < n && w < d.Max; i++ {
		w *= 2
	}
	return min(w, d.Max)
}

// TakeDelayedAttempt counts one attempt for subject if its wait is over,
// and sets the wait that follows it. The row is created first and locked
// (FOR UPDATE on PostgreSQL; SQLite runs one writer at a time) for the
// rest of the caller's transaction, so concurrent attempts, from this
// process or another on the same database, take their turns and a burst
// gets exactly the allowance. It returns whether the attempt may proceed
// and, when not, when it may be made.
func (q queries) TakeDelayedAttempt(subject string, d Delay, now time.Time) (bool, time.Time, error) {
	nowMs := now.UnixMilli()
	if err := q.db.Exec(`INSERT INTO customers_signin_delays (subject, failures, next_at, forget_at) VALUES (?, 0, 0, 0)
		ON CONFLICT (subject) DO NOTHING`, subject).Error; err != nil {
		return false, time.Time{}, translate("count sign-in attempt", err)
	}
	lock := ""
	if q.db.Dialector.Name() == "postgres" {
		lock = " FOR UPDATE"
	}
	var rows []struct {
		Failures int
		NextAt   int64
		ForgetAt int64
	}
	if err := q.db.Raw("SELECT failures, next_at, forget_at FROM customers_signin_delays WHERE subject = ?"+lock, subject).Scan(&rows).Error; err != nil {
		return false, time.Time{}, translate("read sign-in delay", err)
	}
	seen := 0
	if len(rows) == 1 && rows[0].ForgetAt > nowMs { // a forgotten row starts afresh
		if rows[0].NextAt > nowMs {
			return false, time.UnixMilli(rows[0].NextAt), nil
		}
		seen = rows[0].Failures
	}
	n := seen + 1
	// No wait within the allowance: next_at stays 0, not "now". Concurrent
	// attempts read the clock before they queue for the row, so a "now"
	// written by one could lie in the future of another and refuse it.
	wait := d.After(n).Milliseconds()
	next := int64(0)
	if wait > 0 {
		next = nowMs + wait
	}
	err := q.db.Exec("UPDATE customers_signin_delays SET failures = ?, next_at = ?, forget_at = ? WHERE subject = ?",
		n, next, nowMs+wait+d.Memory.Milliseconds(), subject).Error
	if err != nil {
		return false, time.Time{}, translate("count sign-in attempt", err)
	}
	return true, time.Time{}, nil
}

// ClearDelay forgets a subject's failures.
func (q queries) ClearDelay(subject string) error {
	return translate("clear sign-in delay", q.db.Exec("DELETE FROM customers_signin_delays WHERE subject = ?", subject).Error)
}

// DeleteForgottenDelays removes rows past their memory.
func (q queries) DeleteForgottenDelays(now time.Time) error {
	err := q.db.Exec("DELETE FROM customers_signin_delays WHERE forget_at <= ?", now.UnixMilli()).Error
	return translate("delete forgotten sign-in delays", err)
}
