package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

const (
	// ckptEvery is how many commits pass between two background checkpoints.
	ckptEvery = 32
	// walBackstop is the WAL size, in pages, at which the write connection
	// checkpoints itself (SQLite's wal_autocheckpoint).
	walBackstop = 4096
)

// startCheckpointer moves the work of WAL checkpoints off the writer. By
// default SQLite checkpoints inside the COMMIT that takes the WAL past 1,000
// pages: it copies them into the database and syncs both files while every
// write waits (a few milliseconds every ~100 batches, about a tenth of the
// writer's time under load). Here a goroutine with its own connection runs a
// PASSIVE checkpoint, which does not block writes, every ckptEvery commits.
//
// A PASSIVE checkpoint never quite catches up while writes go on, and the
// WAL only starts over from its beginning once one has; under a steady load
// it would grow without end (100 MB after 30,000 creates), and every commit
// would append to it, which makes each fdatasync also commit file-system
// metadata. So the write connection keeps SQLite's own checkpoint as a
// backstop at walBackstop pages: by then the background has copied nearly
// everything, the backstop's pause is short, and the WAL restarts and is
// overwritten in place, within a fixed size.
func (s *Store) startCheckpointer(ctx context.Context, dsn string) error {
	if _, err := s.wc.ExecContext(ctx, fmt.Sprintf("PRAGMA wal_autocheckpoint=%d", walBackstop)); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return err
	}
	keepConns(db, 1)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return err
	}
	s.ckptDB = db
	go func() {
		defer close(s.ckptEnd)
		for range s.ckpt {
			// A failure (the disk is full, say) leaves the frames in the
			// WAL, where they stay durable; the next run tries again.
			_, _ = db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
			_, _ = db.ExecContext(context.Background(), "PRAGMA shrink_memory") // see releasePages
			s.checkpoints.Add(1)
		}
	}()
	return nil
}

// releasePages: the checkpointer's "PRAGMA shrink_memory" after each
// checkpoint drops every unused cached page of every connection.
//
// modernc.org/sqlite builds SQLite with one page-cache pool for all the
// connections of the process (pcache1's unified mode, as under
// SQLITE_ENABLE_MEMORY_MANAGEMENT). Pages that idle readers still hold
// count against the pool, and once it is over its limit every page a
// connection releases is freed at once instead of kept: the writer then
// re-read about 12 pages per transaction (index and table roots included)
// for as long as the readers stayed idle, e.g. through a run of PATCHes
// after a run of GETs. shrink_memory on any connection empties the pool's
// unused pages and so ends that state; the writer's cost is re-reading its
// few hot pages once per checkpoint. TestWriterKeepsItsCacheAfterReads
// counts the read system calls per update.

// committed tells the checkpointer about a commit.
func (s *Store) committed() {
	if s.commits.Add(1)%ckptEvery == 0 && s.ckptDB != nil {
		select {
		case s.ckpt <- struct{}{}:
		default: // one is running or queued already
		}
	}
}
