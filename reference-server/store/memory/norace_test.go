//go:build !race

package memory_test

const race = false
