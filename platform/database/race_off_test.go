//go:build !race

package database_test

const raceDetector = false
