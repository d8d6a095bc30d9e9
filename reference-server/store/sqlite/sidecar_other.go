//go:build !unix

package sqlite

// ServeAlone does nothing where flock is not available.
func (s *Store) ServeAlone() error { return nil }
