package storetest

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/scimlab/scimlab/reference-server/store"
)

// Fill creates n users ("u0", "u1", …; Key "user0", …) from 32 goroutines.
func Fill(tb testing.TB, s store.Store, n int) {
	tb.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				if err := s.Create(context.Background(), benchUser(i), nil); err != nil {
					tb.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func benchUser(i int64) *store.Resource {
	return &store.Resource{Type: "User", ID: fmt.Sprintf("u%d", i), Key: fmt.Sprintf("user%d", i), ExternalID: fmt.Sprintf("ext%d", i),
		Doc: map[string]any{
			"schemas":  []any{"urn:ietf:params:scim:schemas:core:2.0:User"},
			"userName": fmt.Sprintf("user%d@example.org", i),
			"name":     map[string]any{"givenName": "Given", "familyName": fmt.Sprintf("Family%d", i)},
			"emails":   []any{map[string]any{"value": fmt.Sprintf("user%d@example.org", i), "type": "work", "primary": true}},
			"active":   true,
		}}
}

// HeapAfter fills s with n users and returns the live heap afterwards.
func HeapAfter(tb testing.TB, s store.Store, n int) runtime.MemStats {
	tb.Helper()
	Fill(tb, s, n)
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	runtime.KeepAlive(s)
	return m
}

// BenchCreate measures Create from parallel callers.
func BenchCreate(b *testing.B, s store.Store) {
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.Create(context.Background(), benchUser(next.Add(1)), nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

const benchUsers = 1000

// BenchGet measures Get of a random one of 1,000 users.
func BenchGet(b *testing.B, s store.Store) {
	Fill(b, s, benchUsers)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i = (i + 7919) % benchUsers
		if _, err := s.Get(context.Background(), "User", fmt.Sprintf("u%d", i), false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchGetParallel measures Get from parallel callers.
func BenchGetParallel(b *testing.B, s store.Store) {
	Fill(b, s, benchUsers)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i = (i + 7919) % benchUsers
			if _, err := s.Get(context.Background(), "User", fmt.Sprintf("u%d", i), false); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchLookupKey measures List by Key (userName eq …) among 1,000 users.
func BenchLookupKey(b *testing.B, s store.Store) {
	Fill(b, s, benchUsers)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i = (i + 7919) % benchUsers
		page, total, err := s.List(context.Background(), store.Query{Type: "User", Key: fmt.Sprintf("user%d", i), Limit: -1})
		if err != nil || total != 1 || len(page) != 1 {
			b.Fatal(total, err)
		}
	}
}

// BenchListMatch measures a filter that no index serves: a Match over
// 1,000 users, one page of 100 and the exact total.
func BenchListMatch(b *testing.B, s store.Store) {
	Fill(b, s, benchUsers)
	b.ReportAllocs()
	match := func(r *store.Resource) bool { return r.Doc["active"] == true }
	for b.Loop() {
		_, total, err := s.List(context.Background(), store.Query{Type: "User", Match: match, Offset: 100, Limit: 100})
		if err != nil || total != benchUsers {
			b.Fatal(total, err)
		}
	}
}

// BenchAddMemberLargeGroup measures adding one member to a group of 10,000;
// compare with BenchUpdateUser: it must not cost more than rewriting a group.
func BenchAddMemberLargeGroup(b *testing.B, s store.Store) {
	const size = 10000
	ms := make([]store.Member, size)
	for i := range ms {
		ms[i] = store.Member{Value: fmt.Sprintf("m%d", i), Type: "User", Display: fmt.Sprintf("Member %d", i)}
	}
	g := &store.Resource{Type: "Group", ID: "big", Key: "big", Doc: map[string]any{"displayName": "Big"}}
	if err := s.Create(context.Background(), g, ms); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		_, err := s.Update(context.Background(), "Group", "big", 0, func(tx store.Tx, r *store.Resource) error {
			n, err := tx.AddMembers("big", []store.Member{{Value: fmt.Sprintf("new%d", i), Type: "User"}})
			if err == nil && n != 1 {
				err = fmt.Errorf("added %d", n)
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchUpdateUser measures a read-modify-write of one user's document.
func BenchUpdateUser(b *testing.B, s store.Store) {
	Fill(b, s, 1)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		_, err := s.Update(context.Background(), "User", "u0", 0, func(tx store.Tx, r *store.Resource) error {
			r.Doc["nickName"] = fmt.Sprint("n", i)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
