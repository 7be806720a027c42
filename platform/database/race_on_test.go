//go:build race

package database_test

// raceDetector: the race detector makes modernc's SQLite (C translated to
// Go) about 40 times slower; stress tests keep their concurrency but run
// fewer transactions per goroutine.
const raceDetector = true
