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

// ClearFailures forgets a subject's failures.
func (q queries) ClearFailures(subject string) error {
	return translate("clear sign-in failures", q.db.Exec("DELETE FROM customers_login_failures WHERE subject = ?", subject).Error)
}

// DeleteEndedWindows removes counters whose window is over; they would
// start afresh anyway.
func (q queries) DeleteEndedWindows(now time.Time) error {
	err := q.db.Exec("DELETE FROM customers_login_failures WHERE window_ends_at <= ?", now.UnixMilli()).Error
	return translate("delete ended sign-in windows", err)
}
