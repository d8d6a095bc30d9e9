package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"

	"github.com/scimlab/scimlab/internal/fsync"
)

// walSync makes committed transactions durable by syncing the database's
// write-ahead log itself, so that the writer need not wait for the disk.
//
// The write connection runs with synchronous=NORMAL: COMMIT writes the
// transaction's WAL frames (to the page cache) and returns without fsync.
// The leader of the batch (writer.go) then calls fdatasync on the WAL file
// without holding the write lock, so the next batch runs meanwhile, and
// only then answers the batch's callers.
//
// What this keeps and what it changes (against synchronous=FULL):
//   - A write is acknowledged only once its WAL frames are on disk, and
//     acknowledgements go out in commit order, so an acknowledged write
//     never depends on one that could still be lost.
//   - SQLite stays crash-safe: NORMAL is corruption-free in WAL mode, and
//     checkpoints sync the WAL before copying it into the database.
//   - Other clients can read a committed write up to one fdatasync before it
//     is durable (the early-lock-release argument of group-commit databases:
//     only reads can observe it, and any write that depends on it commits
//     later and is therefore acknowledged later). A power loss in that
//     window loses a write whose own client was never told it succeeded.
type walSync struct {
	path string
	f    *os.File
}

// openWALSync opens the WAL file of the database the write connection has
// open. It must be called after the connection has written (the WAL exists).
func openWALSync(ctx context.Context, c *sql.Conn) (*walSync, error) {
	var seq int
	var name, file string
	if err := c.QueryRowContext(ctx, "PRAGMA database_list").Scan(&seq, &name, &file); err != nil {
		return nil, err
	}
	if file == "" {
		return nil, errors.New("the database has no file name")
	}
	w := &walSync{path: file + "-wal"}
	if err := w.open(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *walSync) open() error {
	f, err := os.OpenFile(w.path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open the write-ahead log: %w", err)
	}
	if w.f != nil {
		_ = w.f.Close()
	}
	w.f = f
	return nil
}

// sync makes everything written to the WAL so far durable. The WAL is the
// same file for the life of the store (SQLite deletes it only when its last
// connection closes, and the store holds one open); should it ever have been
// replaced, the new file is opened and synced instead.
func (w *walSync) sync() error {
	if err := fsync.Data(w.f); err != nil {
		return fmt.Errorf("sync the write-ahead log: %w", err)
	}
	cur, err := w.f.Stat()
	if err != nil {
		return err
	}
	onDisk, err := os.Stat(w.path)
	if err == nil && os.SameFile(cur, onDisk) {
		return nil
	}
	if err := w.open(); err != nil {
		return err
	}
	if err := fsync.Data(w.f); err != nil {
		return fmt.Errorf("sync the write-ahead log: %w", err)
	}
	return nil
}

func (w *walSync) close() error {
	if w == nil || w.f == nil {
		return nil
	}
	return w.f.Close()
}
