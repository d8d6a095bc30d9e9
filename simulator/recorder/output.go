package recorder

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ErrBusy is the error of a Claim on a file that another recorder holds.
var ErrBusy = errors.New("another scimlab record is writing it")

// Output is a file that a recording will be written to, claimed before the
// recording starts. Claiming leaves the file as it was: a recorder does every
// step that can fail (binding its address, claiming each output, checking
// the upstream) first, and only then calls Begin, which empties the file. So
// a recorder that cannot start leaves a previous recording byte for byte as it
// was, and creates no file.
type Output struct {
	f       *os.File
	path    string
	created bool // Claim created the file: Release removes it
	regular bool // a regular file, which Begin empties (not /dev/null, a pipe, …)
}

// claimTries bounds how often Claim opens the file again when the name it
// locked was removed or replaced before the lock was held.
const claimTries = 10

// Claim opens path for a recording without changing it, creating it when it
// does not exist. Where the platform has advisory locks, a regular file is
// locked as well, so that while one recorder writes it a second one is
// refused with ErrBusy instead of emptying or interleaving with it; the
// kernel drops the lock when the process ends, however it ends.
func Claim(path string) (*Output, error) {
	for range claimTries {
		o, retry, err := claimOnce(path)
		if !retry {
			return o, err
		}
	}
	return nil, fmt.Errorf("%s: another process keeps replacing it", path)
}

// claimOnce makes one attempt at Claim; retry is true when path no longer
// names the file it opened and locked.
func claimOnce(path string) (o *Output, retry bool, err error) {
	o = &Output{path: path}
	o.f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	o.created = err == nil
	if errors.Is(err, fs.ErrExist) {
		o.f, err = os.OpenFile(path, os.O_WRONLY, 0)
	}
	if err != nil {
		return nil, false, err
	}
	st, err := o.f.Stat()
	if err != nil {
		o.f.Close()
		return nil, false, err
	}
	o.regular = st.Mode().IsRegular()
	if !o.regular {
		return o, false, nil
	}
	if err := lockFile(o.f); err != nil {
		// Never remove a file another recorder holds, even one this call
		// created: it may have opened and locked it first.
		o.f.Close()
		if errors.Is(err, ErrBusy) {
			return nil, false, fmt.Errorf("%s: %w", path, err)
		}
		return nil, false, fmt.Errorf("%s: lock: %w", path, err)
	}
	// A recorder that created the file and then failed may have removed it
	// between the open and the lock: the lock is then on a file no name
	// leads to, and the recording would be lost. Open path again.
	if now, err := os.Stat(path); err != nil || !os.SameFile(st, now) {
		o.f.Close()
		return nil, true, nil
	}
	return o, false, nil
}

// File is the claimed file, for writing once Begin has emptied it.
func (o *Output) File() *os.File { return o.f }

// Begin starts the recording: it empties a regular file (a previous
// recording is replaced) and writes from its start.
func (o *Output) Begin() error {
	if !o.regular {
		return nil
	}
	if err := o.f.Truncate(0); err != nil {
		return err
	}
	_, err := o.f.Seek(0, 0)
	return err
}

// Release gives up a claim whose recording did not begin: the file is
// closed, and removed if Claim created it, so that a recorder that could not
// start leaves nothing behind.
func (o *Output) Release() {
	if o == nil {
		return
	}
	if o.created {
		// Removed while still locked, so no other recorder is writing it.
		_ = os.Remove(o.path)
	}
	_ = o.f.Close()
}

// Close closes the file, which ends the claim.
func (o *Output) Close() error { return o.f.Close() }
