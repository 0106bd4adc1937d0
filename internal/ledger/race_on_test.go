//go:build race

package ledger_test

// raceEnabled shortens the long randomized test under the race detector.
const raceEnabled = true
