//go:build !race

package sqlite_test

const race = false
