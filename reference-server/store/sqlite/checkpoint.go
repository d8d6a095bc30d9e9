package sqlite

import (
	"context"
	"database/sql"
)

// ckptEvery is how many commits pass between two checkpoints.
const ckptEvery = 256

// startCheckpointer moves WAL checkpoints off the writer. By default SQLite
// checkpoints inside the COMMIT that takes the WAL past 1,000 pages: it
// copies them into the database and syncs both files while the writer, and
// every request queued behind it, waits (a few milliseconds every ~100
// batches, about a tenth of the writer's time under load). Here the write
// connection never checkpoints; a goroutine with its own connection runs a
// PASSIVE checkpoint, which does not block the writer, every ckptEvery
// commits. The WAL starts over from its beginning once a checkpoint has
// caught up and no reader still needs it.
func (s *Store) startCheckpointer(ctx context.Context, dsn string) error {
	if _, err := s.wc.ExecContext(ctx, "PRAGMA wal_autocheckpoint=0"); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
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
			s.checkpoints.Add(1)
		}
	}()
	return nil
}

// committed tells the checkpointer about a commit.
func (s *Store) committed() {
	if s.commits.Add(1)%ckptEvery == 0 && s.ckptDB != nil {
		select {
		case s.ckpt <- struct{}{}:
		default: // one is running or queued already
		}
	}
}
