//go:build race

package sqlite_test

// race is true under the race detector, which makes volume tests slow and
// their heap numbers meaningless.
const race = true
