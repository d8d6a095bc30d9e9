package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/scimlab/scimlab/reference-server/store"
)

func TestPageMarks(t *testing.T) {
	var m pageMarks
	type want struct {
		pos   int
		after int64
		ok    bool
	}
	find := func(typ string, removed int64, offset int, w want) {
		t.Helper()
		pos, after, ok := m.find(typ, removed, offset)
		if (want{pos, after, ok}) != w {
			t.Fatalf("find(%s, %d, %d) = %d, %d, %v; want %+v", typ, removed, offset, pos, after, ok, w)
		}
	}
	find("User", 0, 50, want{})
	m.record("User", 0, 0, 10) // position 0 needs no mark
	find("User", 0, 0, want{})
	m.record("User", 0, 100, 140)
	m.record("User", 0, 200, 250)
	find("User", 0, 99, want{})
	find("User", 0, 100, want{100, 140, true})
	find("User", 0, 150, want{100, 140, true})
	find("User", 0, 200, want{200, 250, true})
	find("User", 0, 9999, want{200, 250, true})
	find("Group", 0, 150, want{})
	find("User", 1, 150, want{}) // a row left the type: positions moved
	m.record("User", 1, 300, 390)
	find("User", 1, 250, want{}) // the older marks were dropped
	find("User", 1, 300, want{300, 390, true})
	m.record("User", 0, 100, 140) // from an older snapshot: ignored
	find("User", 1, 100, want{})
	find("User", 0, 100, want{})
	for i := 1; i <= maxMarks+1; i++ {
		m.record("Group", 0, i, int64(i))
	}
	if n := len(m.types["Group"].pos); n > maxMarks {
		t.Fatalf("%d marks kept, at most %d", n, maxMarks)
	}
}

// TestPagingUsesMarks shows a full listing's later pages starting from a
// mark and its total coming from type_stats, consistent with COUNT(*).
func TestPagingUsesMarks(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "p.db"))
	ctx := t.Context()
	for i := range 25 {
		if err := s.Create(ctx, &store.Resource{Type: "User", ID: fmt.Sprintf("u%02d", i), Key: fmt.Sprintf("user%02d", i), Doc: map[string]any{}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	for off := 0; off < 25; off += 10 {
		if _, _, err := s.List(ctx, store.Query{Type: "User", Offset: off, Limit: 10}); err != nil {
			t.Fatal(err)
		}
	}
	for _, off := range []int{10, 20, 25} {
		if _, _, ok := s.marks.find("User", 0, off); !ok {
			t.Errorf("no mark at %d after a pass", off)
		}
	}
	checkStats(t, s.rdb, map[string]int{"User": 25})
}

// checkStats compares type_stats with COUNT(*) per type.
func checkStats(t *testing.T, db *sql.DB, want map[string]int) {
	t.Helper()
	perType := func(q string) map[string]int {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		m := map[string]int{}
		for rows.Next() {
			var typ string
			var n int
			if err := rows.Scan(&typ, &n); err != nil {
				t.Fatal(err)
			}
			m[typ] = n
		}
		return m
	}
	got := perType("SELECT type, live FROM type_stats WHERE live <> 0")
	counted := perType("SELECT type, COUNT(*) FROM resources GROUP BY type")
	if fmt.Sprint(got) != fmt.Sprint(want) || fmt.Sprint(counted) != fmt.Sprint(want) {
		t.Fatalf("type_stats %v, COUNT(*) %v, want %v", got, counted, want)
	}
}

// TestMigrateCountsExistingRows opens a database written by schema version
// 1 (before type_stats) and finds its rows counted.
func TestMigrateCountsExistingRows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	stmts := []string{migrations[0], "PRAGMA user_version = 1"}
	for i := range 7 {
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO resources (type, id, key, doc, created, modified, version) VALUES ('User', 'u%d', 'user%d', '{}', 1, 1, 1)`, i, i))
	}
	stmts = append(stmts, `INSERT INTO resources (type, id, key, doc, created, modified, version) VALUES ('Group', 'g1', 'G1', '{}', 1, 1, 1)`)
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s := openT(t, path)
	checkStats(t, s.rdb, map[string]int{"User": 7, "Group": 1})
	page, total, err := s.List(t.Context(), store.Query{Type: "User", Offset: 5, Limit: 10})
	if err != nil || total != 7 || len(page) != 2 || page[0].ID != "u5" {
		t.Fatalf("List after migration: %d of %d, %v", len(page), total, err)
	}
	if err := s.Delete(t.Context(), "User", "u0", 0); err != nil {
		t.Fatal(err)
	}
	checkStats(t, s.rdb, map[string]int{"User": 6, "Group": 1})
}

// TestPagingUnderConcurrentWrites pages through users while others are
// created and deleted. Each List reads one snapshot, so each page must be as
// long as that snapshot's total allows and in seq order, whatever marks the
// other readers left: a mark kept across a delete starts a page at the wrong
// row and breaks the first rule near the end of the listing.
func TestPagingUnderConcurrentWrites(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "c.db"))
	ctx := t.Context()
	create := func(i int) {
		if err := s.Create(ctx, &store.Resource{Type: "User", ID: fmt.Sprintf("c%05d", i), Key: fmt.Sprintf("c%05d@example.test", i), Doc: map[string]any{}}, nil); err != nil {
			t.Error(err)
		}
	}
	for i := range 300 {
		create(i)
	}
	done := make(chan struct{})
	var writers sync.WaitGroup
	writers.Add(1)
	go func() {
		defer writers.Done()
		for i := 300; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			create(i)
			if err := s.Delete(ctx, "User", fmt.Sprintf("c%05d", (i*37)%i), 0); err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Error(err)
			}
		}
	}()
	var readers sync.WaitGroup
	for r := range 4 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			const limit = 25
			for pass := range 25 {
				for off := 0; off < 400; off += limit {
					page, total, err := s.List(ctx, store.Query{Type: "User", Offset: off + (r+pass)%3, Limit: limit})
					if err != nil {
						t.Error(err)
						return
					}
					o := off + (r+pass)%3
					if want := min(limit, max(0, total-o)); len(page) != want {
						t.Errorf("offset %d of %d: %d resources, want %d", o, total, len(page), want)
						return
					}
					for i := 1; i < len(page); i++ {
						if page[i].Seq <= page[i-1].Seq {
							t.Errorf("offset %d: not in seq order", o)
							return
						}
					}
				}
			}
		}()
	}
	readers.Wait()
	close(done)
	writers.Wait()
}
