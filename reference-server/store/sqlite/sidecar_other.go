//go:build !unix

package sqlite

// sidecar is not used where shared mappings and flock are not available:
// a server there sees token changes made by other processes after its
// token cache's lifetime.
type sidecar struct{}

func openSidecar(string) (*sidecar, error) { return nil, nil }

func (c *sidecar) close() error { return nil }

// ServeAlone does nothing where flock is not available.
func (s *Store) ServeAlone() error { return nil }

// AuthEpoch implements store.AuthEpoch within this process.
func (s *Store) AuthEpoch() uint64 { return s.memEpoch.Load() }

func (s *Store) authChanged() { s.memEpoch.Add(1) }
