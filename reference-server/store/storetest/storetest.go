// Package storetest is the conformance suite every store.Store backend
// passes: call Run from the backend's tests.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimlab/scimlab/reference-server/store"
)

// Run runs the suite. open must return a new, empty store each time it is
// called; Run closes every store it opens (Close must tolerate a second call
// from the backend's own cleanup). Subtests run in parallel.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"CreateGet", testCreateGet},
		{"DocRoundTrip", testDocRoundTrip},
		{"DocIsCopied", testDocIsCopied},
		{"Conflict", testConflict},
		{"Update", testUpdate},
		{"UpdateUnchanged", testUpdateUnchanged},
		{"UpdateRollback", testUpdateRollback},
		{"IfVersion", testIfVersion},
		{"NotFound", testNotFound},
		{"Delete", testDelete},
		{"List", testList},
		{"Paging", testPaging},
		{"ListMembers", testListMembers},
		{"Members", testMembers},
		{"SetMembers", testSetMembers},
		{"GroupVersionFollowsMembers", testGroupVersion},
		{"UserVersionFollowsGroups", testUserVersion},
		{"GroupsOf", testGroupsOf},
		{"Write", testWrite},
		{"TxCreate", testTxCreate},
		{"UnstorableLookups", testUnstorableLookups},
		{"ConcurrentMemberAdds", testConcurrentMemberAdds},
		{"ConcurrentDocUpdates", testConcurrentDocUpdates},
		{"ConcurrentCreateSameKey", testConcurrentCreateSameKey},
		{"Tokens", testTokens},
		{"UpdateTokens", testUpdateTokens},
		{"Settings", testSettings},
		{"PutSettingIfAbsentOnce", testPutSettingIfAbsentOnce},
		{"Context", testContext},
		{"Closed", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			t.Cleanup(func() { _ = s.Close() })
			tc.fn(t, s)
		})
	}
}

func user(id, userName string) *store.Resource {
	return &store.Resource{Type: "User", ID: id, Key: strings.ToLower(userName),
		Doc: map[string]any{"userName": userName, "active": true}}
}

func group(id, name string) *store.Resource {
	return &store.Resource{Type: "Group", ID: id, Key: strings.ToLower(name),
		Doc: map[string]any{"displayName": name}}
}

func mustCreate(t *testing.T, s store.Store, r *store.Resource, ms ...store.Member) *store.Resource {
	t.Helper()
	if err := s.Create(t.Context(), r, ms); err != nil {
		t.Fatalf("Create %s %s: %v", r.Type, r.ID, err)
	}
	return r
}

func mustGet(t *testing.T, s store.Store, typ, id string, members bool) *store.Resource {
	t.Helper()
	r, err := s.Get(t.Context(), typ, id, members)
	if err != nil {
		t.Fatalf("Get %s %s: %v", typ, id, err)
	}
	return r
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

func noErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func members(t *testing.T, s store.Store, group string) []store.Member {
	t.Helper()
	var ms []store.Member
	noErr(t, "Write/Members", s.Write(t.Context(), func(tx store.Tx) error {
		var err error
		ms, err = tx.Members(group)
		return err
	}))
	return ms
}

func values(ms []store.Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Value
	}
	return out
}

func ids(rs []*store.Resource) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func equalStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s: got %q, want %q", what, got, want)
	}
}

func testCreateGet(t *testing.T, s store.Store) {
	before := time.Now().Add(-time.Second)
	u := user("u1", "Alice")
	u.ExternalID = "ext-1"
	mustCreate(t, s, u)
	if u.Version != 1 || u.Seq <= 0 || u.Created.IsZero() || !u.Created.Equal(u.Modified) || u.Created.Before(before) {
		t.Fatalf("Create set Version=%d Seq=%d Created=%v Modified=%v", u.Version, u.Seq, u.Created, u.Modified)
	}
	if u.Created.Location() != time.UTC || u.Created.Nanosecond()%1000 != 0 {
		t.Errorf("Created %v: want UTC to the microsecond", u.Created)
	}
	got := mustGet(t, s, "User", "u1", true)
	if got.Type != "User" || got.ID != "u1" || got.Key != "alice" || got.ExternalID != "ext-1" ||
		got.Version != 1 || got.Seq != u.Seq || !got.Created.Equal(u.Created) || !got.Modified.Equal(u.Modified) {
		t.Fatalf("Get = %+v, want what Create set: %+v", got, u)
	}
	if !reflect.DeepEqual(got.Doc, map[string]any{"userName": "Alice", "active": true}) {
		t.Fatalf("Doc = %#v", got.Doc)
	}
	u2 := mustCreate(t, s, user("u2", "Bob"))
	if u2.Seq <= u.Seq {
		t.Fatalf("Seq %d after %d: want increasing", u2.Seq, u.Seq)
	}

	g := group("g1", "Admins")
	mustCreate(t, s, g, store.Member{Value: "u1", Type: "User", Display: "Alice"}, store.Member{Value: "u2"})
	if g.Version != 1 {
		t.Fatalf("group created with members: Version %d, want 1", g.Version)
	}
	got = mustGet(t, s, "Group", "g1", true)
	want := []any{
		map[string]any{"value": "u1", "type": "User", "display": "Alice"},
		map[string]any{"value": "u2"},
	}
	if !reflect.DeepEqual(got.Doc["members"], want) {
		t.Fatalf(`Doc["members"] = %#v, want %#v`, got.Doc["members"], want)
	}
	if got = mustGet(t, s, "Group", "g1", false); got.Doc["members"] != nil {
		t.Fatalf("Get without members: Doc has members %v", got.Doc["members"])
	}
	if got = mustGet(t, s, "User", "u1", true); got.Doc["members"] != nil {
		t.Fatalf("user without members: Doc has members %v", got.Doc["members"])
	}
	if err := s.Create(t.Context(), &store.Resource{Type: "User"}, nil); err == nil {
		t.Fatal("Create without ID: no error")
	}
	if err := s.Create(t.Context(), group("g2", "x"), []store.Member{{Value: ""}}); err == nil {
		t.Fatal("Create with an empty member value: no error")
	}
}

// docCases are JSON documents that must come back exactly as encoding/json
// decodes them.
var docCases = []struct{ name, json string }{
	{"empty", `{}`},
	{"unicode", `{"displayName":"Zoë Ångström 山田太郎 🚀","emails":[{"value":"ü@example.org"}],"nick":"\u0000\u001f\"\\/<>&\u2028"}`},
	{"nested", `{"name":{"givenName":"A","familyName":"B","x":{"y":{"z":[1,[2,[3,{"w":null}]]]}}},"addresses":[{"type":"work","primary":true},{}]}`},
	{"numbers", `{"a":0,"b":-1,"c":1.5,"d":1e300,"e":-2.2250738585072014e-308,"f":9007199254740993,"g":123456789012345678901234567890,"h":0.1,"i":-0}`},
	{"scalars", `{"t":true,"f":false,"n":null,"s":"","arr":[],"obj":{}}`},
	{"schemas", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"42","manager":{"value":"m"}}}`},
	{"long", `{"s":"` + strings.Repeat("x", 70000) + `"}`},
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var d map[string]any
	noErr(t, "json", json.Unmarshal([]byte(s), &d))
	return d
}

func testDocRoundTrip(t *testing.T, s store.Store) {
	for i, tc := range docCases {
		t.Run(tc.name, func(t *testing.T) {
			want := decode(t, tc.json)
			id := fmt.Sprintf("d%d", i)
			r := &store.Resource{Type: "Doc", ID: id, Doc: decode(t, tc.json)}
			mustCreate(t, s, r)
			if got := mustGet(t, s, "Doc", id, false); !reflect.DeepEqual(got.Doc, want) {
				t.Fatalf("after Create: %#v, want %#v", got.Doc, want)
			}
			page, _, err := s.List(t.Context(), store.Query{Type: "Doc", ID: id, Limit: -1})
			noErr(t, "List", err)
			if len(page) != 1 || !reflect.DeepEqual(page[0].Doc, want) {
				t.Fatalf("List: %#v, want %#v", page, want)
			}
			up, err := s.Update(t.Context(), "Doc", id, 0, func(_ store.Tx, r *store.Resource) error {
				r.Doc = decode(t, tc.json)
				r.Doc["extra"] = "x"
				return nil
			})
			noErr(t, "Update", err)
			want["extra"] = "x"
			if !reflect.DeepEqual(up.Doc, want) {
				t.Fatalf("Update returned %#v, want %#v", up.Doc, want)
			}
			if got := mustGet(t, s, "Doc", id, false); !reflect.DeepEqual(got.Doc, want) {
				t.Fatalf("after Update: %#v, want %#v", got.Doc, want)
			}
		})
	}
	t.Run("normalised", func(t *testing.T) {
		r := &store.Resource{Type: "Doc", ID: "n", Doc: map[string]any{
			"int": 7, "num": json.Number("2.5"), "strs": []string{"a"}, "members": []any{"dropped"}}}
		mustCreate(t, s, r)
		want := map[string]any{"int": 7.0, "num": 2.5, "strs": []any{"a"}}
		if got := mustGet(t, s, "Doc", "n", false); !reflect.DeepEqual(got.Doc, want) {
			t.Fatalf("got %#v, want %#v (JSON-decoded types, no members)", got.Doc, want)
		}
		up, err := s.Update(t.Context(), "Doc", "n", 0, func(_ store.Tx, r *store.Resource) error {
			r.Doc["int"] = 8
			r.Doc["members"] = []any{"dropped"}
			return nil
		})
		noErr(t, "Update", err)
		want["int"] = 8.0
		if !reflect.DeepEqual(up.Doc, want) {
			t.Fatalf("Update returned %#v, want %#v", up.Doc, want)
		}
		if err := s.Create(t.Context(), &store.Resource{Type: "Doc", ID: "c", Doc: map[string]any{"c": make(chan int)}}, nil); err == nil {
			t.Fatal("Create with a channel in Doc: no error")
		}
		if err := s.Create(t.Context(), &store.Resource{Type: "Doc", ID: "nil"}, nil); err != nil {
			t.Fatal(err)
		}
		if got := mustGet(t, s, "Doc", "nil", false); got.Doc == nil || len(got.Doc) != 0 {
			t.Fatalf("nil Doc came back as %#v, want an empty map", got.Doc)
		}
	})
}

func testDocIsCopied(t *testing.T, s store.Store) {
	u := user("u1", "alice")
	u.Doc["emails"] = []any{map[string]any{"value": "a@x"}}
	mustCreate(t, s, u)
	u.Doc["userName"] = "changed"
	u.Doc["emails"].([]any)[0].(map[string]any)["value"] = "changed"
	got := mustGet(t, s, "User", "u1", false)
	got.Doc["active"] = false
	got = mustGet(t, s, "User", "u1", false)
	if got.Doc["userName"] != "alice" || got.Doc["active"] != true || got.Doc["emails"].([]any)[0].(map[string]any)["value"] != "a@x" {
		t.Fatalf("stored doc changed through a caller's map: %#v", got.Doc)
	}
}

func testConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, user("u1", "alice"))
	wantErr(t, "same key", s.Create(ctx, user("u2", "Alice"), nil), store.ErrConflict)
	wantErr(t, "same id", s.Create(ctx, user("u1", "other"), nil), store.ErrConflict)
	mustCreate(t, s, group("g1", "alice")) // other type, same key
	for i := range 3 {
		mustCreate(t, s, &store.Resource{Type: "User", ID: fmt.Sprintf("nokey%d", i)})
	}
	noErr(t, "Delete", s.Delete(ctx, "User", "u1", 0))
	mustCreate(t, s, user("u3", "alice")) // key reusable after delete

	mustCreate(t, s, user("u4", "bob"))
	_, err := s.Update(ctx, "User", "u4", 0, func(tx store.Tx, r *store.Resource) error {
		r.Key = "alice"
		r.Doc["userName"] = "alice"
		return nil
	})
	wantErr(t, "Update to a taken key", err, store.ErrConflict)
	if got := mustGet(t, s, "User", "u4", false); got.Key != "bob" || got.Version != 1 || got.Doc["userName"] != "bob" {
		t.Fatalf("failed Update changed the resource: %+v", got)
	}
	up, err := s.Update(ctx, "User", "u4", 0, func(tx store.Tx, r *store.Resource) error {
		r.Key = "bobby"
		return nil
	})
	noErr(t, "Update key", err)
	if up.Key != "bobby" {
		t.Fatalf("Key = %q", up.Key)
	}
	mustCreate(t, s, user("u5", "bob")) // the old key is free again
	wantErr(t, "new key taken", s.Create(ctx, user("u6", "bobby"), nil), store.ErrConflict)
}

func testUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreate(t, s, user("u1", "alice"))
	time.Sleep(2 * time.Millisecond)
	got, err := s.Update(ctx, "User", "u1", 0, func(tx store.Tx, r *store.Resource) error {
		if r.Version != 1 || r.ID != "u1" || r.Doc["userName"] != "alice" {
			return fmt.Errorf("fn got %+v", r)
		}
		r.Doc["nickName"] = "Al"
		r.ExternalID = "e1"
		return nil
	})
	noErr(t, "Update", err)
	if got.Version != 2 || !got.Modified.After(u.Modified) || !got.Created.Equal(u.Created) || got.Seq != u.Seq || got.ExternalID != "e1" {
		t.Fatalf("Update returned %+v", got)
	}
	stored := mustGet(t, s, "User", "u1", false)
	if stored.Version != 2 || stored.Doc["nickName"] != "Al" || !stored.Modified.Equal(got.Modified) || stored.ExternalID != "e1" {
		t.Fatalf("stored %+v", stored)
	}
	for want := int64(3); want <= 5; want++ {
		got, err = s.Update(ctx, "User", "u1", 0, func(tx store.Tx, r *store.Resource) error { r.Doc["n"] = float64(want); return nil })
		noErr(t, "Update", err)
		if got.Version != want {
			t.Fatalf("Version %d, want %d", got.Version, want)
		}
	}
	// Indexes follow changed fields.
	page, total, err := s.List(ctx, store.Query{Type: "User", ExternalID: "e1", Limit: -1})
	noErr(t, "List", err)
	if total != 1 || len(page) != 1 {
		t.Fatalf("by new externalId: %d", total)
	}
	_, err = s.Update(ctx, "User", "u1", 0, func(tx store.Tx, r *store.Resource) error { r.ExternalID = ""; return nil })
	noErr(t, "Update", err)
	_, total, err = s.List(ctx, store.Query{Type: "User", ExternalID: "e1", Limit: -1})
	noErr(t, "List", err)
	if total != 0 {
		t.Fatalf("old externalId still found")
	}
}

func testUpdateUnchanged(t *testing.T, s store.Store) {
	ctx := t.Context()
	g := mustCreate(t, s, group("g1", "G"))
	mustCreate(t, s, user("u1", "alice"))
	got, err := s.Update(ctx, "Group", "g1", 0, func(tx store.Tx, r *store.Resource) error {
		r.Doc["ignored"] = true
		return store.ErrUnchanged
	})
	noErr(t, "Update ErrUnchanged", err)
	if got.Version != 1 || !got.Modified.Equal(g.Modified) || got.Doc["ignored"] != nil {
		t.Fatalf("ErrUnchanged returned %+v", got)
	}
	if got := mustGet(t, s, "Group", "g1", false); got.Version != 1 || got.Doc["ignored"] != nil {
		t.Fatalf("ErrUnchanged stored %+v", got)
	}
	// Adding a member that is already there is no change either.
	_, err = s.Update(ctx, "Group", "g1", 0, func(tx store.Tx, r *store.Resource) error {
		_, err := tx.AddMembers("g1", []store.Member{{Value: "u1"}})
		return err
	})
	noErr(t, "Update", err)
	got, err = s.Update(ctx, "Group", "g1", 0, func(tx store.Tx, r *store.Resource) error {
		if n, err := tx.AddMembers("g1", []store.Member{{Value: "u1"}}); err != nil || n != 0 {
			return fmt.Errorf("AddMembers existing = %d, %v", n, err)
		}
		return store.ErrUnchanged
	})
	noErr(t, "Update", err)
	if got.Version != 2 {
		t.Fatalf("no-op member add: Version %d, want 2", got.Version)
	}
	// ErrUnchanged with member changes commits them and bumps the version.
	got, err = s.Update(ctx, "Group", "g1", 0, func(tx store.Tx, r *store.Resource) error {
		_, err := tx.RemoveMembers("g1", []string{"u1"})
		if err != nil {
			return err
		}
		return store.ErrUnchanged
	})
	noErr(t, "Update", err)
	if got.Version != 3 {
		t.Fatalf("ErrUnchanged with a member change: Version %d, want 3", got.Version)
	}
	if ms := members(t, s, "g1"); len(ms) != 0 {
		t.Fatalf("members %v, want none", ms)
	}
	if got := mustGet(t, s, "Group", "g1", false); got.Version != 3 {
		t.Fatalf("stored Version %d, want 3", got.Version)
	}
}

func testUpdateRollback(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, group("g1", "G"), store.Member{Value: "a"}, store.Member{Value: "b"})
	mustCreate(t, s, group("g2", "H"), store.Member{Value: "a"})
	boom := errors.New("boom")
	_, err := s.Update(ctx, "Group", "g1", 0, func(tx store.Tx, r *store.Resource) error {
		r.Doc["displayName"] = "changed"
		if _, err := tx.AddMembers("g1", []store.Member{{Value: "c"}}); err != nil {
			return err
		}
		if _, err := tx.RemoveMembers("g1", []string{"a"}); err != nil {
			return err
		}
		if err := tx.SetMembers("g2", []store.Member{{Value: "z"}}); err != nil {
			return err
		}
		return boom
	})
	wantErr(t, "Update", err, boom)
	equalStrings(t, "g1 members", values(members(t, s, "g1")), []string{"a", "b"})
	equalStrings(t, "g2 members", values(members(t, s, "g2")), []string{"a"})
	for _, id := range []string{"g1", "g2"} {
		if got := mustGet(t, s, "Group", id, false); got.Version != 1 {
			t.Fatalf("%s Version %d after a failed update", id, got.Version)
		}
	}
	if got := mustGet(t, s, "Group", "g1", false); got.Doc["displayName"] != "G" {
		t.Fatalf("doc changed by a failed update: %v", got.Doc)
	}
	groups, err := s.GroupsOf(ctx, "a")
	noErr(t, "GroupsOf", err)
	if len(groups) != 2 {
		t.Fatalf("GroupsOf(a) = %v after rollback", groups)
	}
	// The failed write did not poison later ones.
	_, err = s.Update(ctx, "Group", "g1", 0, func(tx store.Tx, r *store.Resource) error {
		_, err := tx.AddMembers("g1", []store.Member{{Value: "c"}})
		return err
	})
	noErr(t, "Update", err)
	equalStrings(t, "g1 members", values(members(t, s, "g1")), []string{"a", "b", "c"})
}

func testIfVersion(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, user("u1", "alice"))
	touch := func(tx store.Tx, r *store.Resource) error { r.Doc["x"] = 1.0; return nil }
	_, err := s.Update(ctx, "User", "u1", 2, touch)
	wantErr(t, "Update ifVersion=2", err, store.ErrVersionMismatch)
	got, err := s.Update(ctx, "User", "u1", 1, touch)
	noErr(t, "Update ifVersion=1", err)
	if got.Version != 2 {
		t.Fatalf("Version %d", got.Version)
	}
	_, err = s.Update(ctx, "User", "u1", 1, touch)
	wantErr(t, "Update stale ifVersion", err, store.ErrVersionMismatch)
	wantErr(t, "Delete stale ifVersion", s.Delete(ctx, "User", "u1", 1), store.ErrVersionMismatch)
	mustGet(t, s, "User", "u1", false)
	noErr(t, "Delete ifVersion=2", s.Delete(ctx, "User", "u1", 2))
	_, err = s.Update(ctx, "User", "u1", 2, touch)
	wantErr(t, "Update deleted", err, store.ErrNotFound)
}

func testNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, user("u1", "alice"))
	_, err := s.Get(ctx, "User", "nope", false)
	wantErr(t, "Get", err, store.ErrNotFound)
	_, err = s.Get(ctx, "Group", "u1", true)
	wantErr(t, "Get with the wrong type", err, store.ErrNotFound)
	_, err = s.Update(ctx, "User", "nope", 0, func(store.Tx, *store.Resource) error { return nil })
	wantErr(t, "Update", err, store.ErrNotFound)
	wantErr(t, "Delete", s.Delete(ctx, "User", "nope", 0), store.ErrNotFound)
	wantErr(t, "Delete with the wrong type", s.Delete(ctx, "Group", "u1", 0), store.ErrNotFound)
	err = s.Write(ctx, func(tx store.Tx) error {
		if _, err := tx.Get("User", "nope"); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("tx.Get: %v", err)
		}
		if ok, err := tx.Exists("User", "nope"); ok || err != nil {
			return fmt.Errorf("tx.Exists(nope) = %v, %v", ok, err)
		}
		if ok, err := tx.Exists("User", "u1"); !ok || err != nil {
			return fmt.Errorf("tx.Exists(u1) = %v, %v", ok, err)
		}
		if r, err := tx.Get("User", "u1"); err != nil || r.Key != "alice" {
			return fmt.Errorf("tx.Get(u1) = %v, %v", r, err)
		}
		if _, err := tx.Members("nope"); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("tx.Members: %v", err)
		}
		if _, err := tx.AddMembers("nope", []store.Member{{Value: "u1"}}); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("tx.AddMembers: %v", err)
		}
		if _, err := tx.RemoveMembers("nope", []string{"u1"}); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("tx.RemoveMembers: %v", err)
		}
		if err := tx.SetMembers("nope", nil); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("tx.SetMembers: %v", err)
		}
		return nil
	})
	noErr(t, "Write", err)
}

func testDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, user("u1", "alice"))
	mustCreate(t, s, user("u2", "bob"))
	mustCreate(t, s, group("g1", "G1"), store.Member{Value: "u1"}, store.Member{Value: "u2"})
	mustCreate(t, s, group("g2", "G2"), store.Member{Value: "u1"}, store.Member{Value: "g1", Type: "Group"})
	noErr(t, "Delete u1", s.Delete(ctx, "User", "u1", 0))
	_, err := s.Get(ctx, "User", "u1", false)
	wantErr(t, "Get deleted", err, store.ErrNotFound)
	equalStrings(t, "g1 members", values(members(t, s, "g1")), []string{"u2"})
	equalStrings(t, "g2 members", values(members(t, s, "g2")), []string{"g1"})
	for _, id := range []string{"g1", "g2"} {
		if got := mustGet(t, s, "Group", id, false); got.Version != 2 {
			t.Fatalf("%s Version %d after its member was deleted, want 2", id, got.Version)
		}
	}
	groups, err := s.GroupsOf(ctx, "u1")
	noErr(t, "GroupsOf", err)
	if len(groups) != 0 {
		t.Fatalf("GroupsOf deleted user = %v", groups)
	}
	// Deleting a group drops its own members and its memberships.
	noErr(t, "Delete g1", s.Delete(ctx, "Group", "g1", 0))
	groups, err = s.GroupsOf(ctx, "u2")
	noErr(t, "GroupsOf", err)
	if len(groups) != 0 {
		t.Fatalf("GroupsOf(u2) after its group was deleted = %v", groups)
	}
	equalStrings(t, "g2 members", values(members(t, s, "g2")), nil)
	page, total, err := s.List(ctx, store.Query{Type: "Group", HasMember: "g1", Limit: -1})
	noErr(t, "List", err)
	if total != 0 || len(page) != 0 {
		t.Fatalf("groups with deleted member g1: %v", ids(page))
	}
	// A re-created group with the same id starts empty.
	mustCreate(t, s, group("g1", "G1"))
	equalStrings(t, "re-created g1 members", values(members(t, s, "g1")), nil)
}

func testList(t *testing.T, s store.Store) {
	ctx := t.Context()
	var want []string
	for i := range 12 {
		u := user(fmt.Sprintf("u%02d", i), fmt.Sprintf("user%02d", i))
		if i%3 == 0 {
			u.ExternalID = "ext-a"
		}
		u.Doc["n"] = float64(i)
		mustCreate(t, s, u)
		want = append(want, u.ID)
		if i == 5 {
			mustCreate(t, s, group("g1", "Group1"))
		}
	}
	list := func(q store.Query) ([]string, int) {
		t.Helper()
		page, total, err := s.List(ctx, q)
		noErr(t, fmt.Sprintf("List(%+v)", q), err)
		var last int64
		for _, r := range page {
			if r.Seq <= last {
				t.Fatalf("List(%+v) not in Seq order", q)
			}
			last = r.Seq
			if r.Type == "" || r.Doc == nil || r.Version != 1 || r.Created.IsZero() {
				t.Fatalf("List returned an incomplete resource %+v", r)
			}
		}
		return ids(page), total
	}
	check := func(q store.Query, wantIDs []string, wantTotal int) {
		t.Helper()
		got, total := list(q)
		equalStrings(t, fmt.Sprintf("List(%+v)", q), got, wantIDs)
		if total != wantTotal {
			t.Fatalf("List(%+v) total %d, want %d", q, total, wantTotal)
		}
	}
	even := func(r *store.Resource) bool { return int(r.Doc["n"].(float64))%2 == 0 }
	check(store.Query{Type: "User", Limit: -1}, want, 12)
	check(store.Query{Type: "User", Limit: 5}, want[:5], 12)
	check(store.Query{Type: "User", Offset: 10, Limit: 5}, want[10:], 12)
	check(store.Query{Type: "User", Offset: 12, Limit: 5}, nil, 12)
	check(store.Query{Type: "User", Offset: 50, Limit: -1}, nil, 12)
	check(store.Query{Type: "User", Limit: 0}, nil, 12)
	check(store.Query{Type: "User", ID: "u03", Limit: -1}, []string{"u03"}, 1)
	check(store.Query{Type: "Group", ID: "u03", Limit: -1}, nil, 0)
	check(store.Query{Type: "User", Key: "user04", Limit: -1}, []string{"u04"}, 1)
	check(store.Query{Type: "User", Key: "nobody", Limit: -1}, nil, 0)
	check(store.Query{Type: "User", ExternalID: "ext-a", Limit: -1}, []string{"u00", "u03", "u06", "u09"}, 4)
	check(store.Query{Type: "User", ExternalID: "ext-a", Offset: 1, Limit: 2}, []string{"u03", "u06"}, 4)
	check(store.Query{Type: "User", Match: even, Limit: -1}, []string{"u00", "u02", "u04", "u06", "u08", "u10"}, 6)
	check(store.Query{Type: "User", Match: even, Offset: 2, Limit: 2}, []string{"u04", "u06"}, 6)
	check(store.Query{Type: "User", Match: even, Limit: 0}, nil, 6)
	check(store.Query{Type: "User", ExternalID: "ext-a", Match: even, Limit: -1}, []string{"u00", "u06"}, 2)
	check(store.Query{Type: "User", Key: "user04", ExternalID: "ext-a", Limit: -1}, nil, 0)
	check(store.Query{Type: "User", ID: "u03", ExternalID: "ext-a", Limit: -1}, []string{"u03"}, 1)
	check(store.Query{Type: "Nothing", Limit: -1}, nil, 0)
	all := append(append(slices.Clone(want[:6]), "g1"), want[6:]...)
	check(store.Query{Limit: -1}, all, 13)
	check(store.Query{ID: "g1", Limit: -1}, []string{"g1"}, 1)
}

// testPaging walks a type's full listing page by page, as an IdP importing
// every user does, while resources of the type are deleted and created
// between passes: every page must match the same slice of a full listing,
// and totals must follow (a store that remembers where pages start must
// notice deletions; creations only add at the end).
func testPaging(t *testing.T, s store.Store) {
	ctx := t.Context()
	n := 0
	add := func(k int) {
		for range k {
			mustCreate(t, s, user(fmt.Sprintf("p%03d", n), fmt.Sprintf("pager%03d", n)))
			n++
		}
	}
	add(40)
	mustCreate(t, s, group("pg", "Pagers"))
	// pass reads every page; backwards, each page comes before the ones
	// that would tell the store where it starts.
	pass := func(step, limit int, backwards bool) {
		t.Helper()
		all, total, err := s.List(ctx, store.Query{Type: "User", Limit: -1})
		noErr(t, "List all", err)
		if total != len(all) {
			t.Fatalf("List all: total %d for %d resources", total, len(all))
		}
		want := ids(all)
		var offsets []int
		for off := 0; off < len(want)+limit; off += step {
			offsets = append(offsets, off)
		}
		if backwards {
			slices.Reverse(offsets)
		}
		for _, off := range offsets {
			page, total, err := s.List(ctx, store.Query{Type: "User", Offset: off, Limit: limit})
			noErr(t, "List page", err)
			if total != len(want) {
				t.Fatalf("page at %d: total %d, want %d", off, total, len(want))
			}
			equalStrings(t, fmt.Sprintf("page at %d (limit %d)", off, limit), ids(page), want[min(off, len(want)):min(off+limit, len(want))])
		}
	}
	pass(7, 7, false)
	pass(7, 7, false) // again, from what the first pass learned
	pass(5, 9, false) // overlapping pages
	for _, id := range []string{"p003", "p010", "p011", "p030"} {
		noErr(t, "Delete "+id, s.Delete(ctx, "User", id, 0))
	}
	pass(7, 7, true)
	add(6)
	pass(7, 7, true)
	pass(3, 4, false)
	noErr(t, "Delete p000", s.Delete(ctx, "User", "p000", 0))
	noErr(t, "Delete pg", s.Delete(ctx, "Group", "pg", 0))
	pass(7, 7, true)
	if _, total, err := s.List(ctx, store.Query{Type: "Group", Limit: 1}); err != nil || total != 0 {
		t.Fatalf("Groups after the only one was deleted: total %d, %v", total, err)
	}
	if _, total, err := s.List(ctx, store.Query{Type: "User", Limit: 0}); err != nil || total != n-5 {
		t.Fatalf("count=0: total %d, %v; want %d", total, err, n-5)
	}
}

func testListMembers(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i := range 6 {
		mustCreate(t, s, user(fmt.Sprintf("u%d", i), fmt.Sprintf("user%d", i)))
	}
	mustCreate(t, s, group("g1", "G1"), store.Member{Value: "u4"}, store.Member{Value: "u1"}, store.Member{Value: "u2"})
	mustCreate(t, s, group("g2", "G2"), store.Member{Value: "u1"}, store.Member{Value: "g1", Type: "Group"})
	mustCreate(t, s, group("g3", "G3"))
	q := func(q store.Query) ([]*store.Resource, int) {
		t.Helper()
		page, total, err := s.List(ctx, q)
		noErr(t, "List", err)
		return page, total
	}
	page, total := q(store.Query{Type: "User", MemberOf: "g1", Limit: -1})
	equalStrings(t, "members of g1 (Seq order)", ids(page), []string{"u1", "u2", "u4"})
	if total != 3 {
		t.Fatalf("total %d", total)
	}
	page, _ = q(store.Query{Type: "User", MemberOf: "g1", Key: "user2", Limit: -1})
	equalStrings(t, "MemberOf+Key", ids(page), []string{"u2"})
	page, _ = q(store.Query{Type: "Group", MemberOf: "g2", Limit: -1})
	equalStrings(t, "groups in g2", ids(page), []string{"g1"})
	page, total = q(store.Query{Type: "Group", HasMember: "u1", Limit: -1})
	equalStrings(t, "groups with u1", ids(page), []string{"g1", "g2"})
	if total != 2 {
		t.Fatalf("total %d", total)
	}
	page, _ = q(store.Query{Type: "Group", HasMember: "u1", Key: "g2", Limit: -1})
	equalStrings(t, "HasMember+Key", ids(page), []string{"g2"})
	page, _ = q(store.Query{Type: "Group", HasMember: "u1", MemberOf: "g2", Limit: -1})
	equalStrings(t, "HasMember+MemberOf", ids(page), []string{"g1"})
	page, _ = q(store.Query{Type: "Group", HasMember: "u5", Limit: -1})
	equalStrings(t, "groups with u5", ids(page), nil)

	hasU2 := func(r *store.Resource) bool {
		ms, _ := r.Doc["members"].([]any)
		for _, m := range ms {
			if m.(map[string]any)["value"] == "u2" {
				return true
			}
		}
		return false
	}
	page, total = q(store.Query{Type: "Group", Match: hasU2, LoadMembers: true, Limit: -1})
	equalStrings(t, "Match on members", ids(page), []string{"g1"})
	if total != 1 || len(page[0].Doc["members"].([]any)) != 3 {
		t.Fatalf("LoadMembers page: total %d, doc %v", total, page[0].Doc)
	}
	page, _ = q(store.Query{Type: "Group", LoadMembers: true, Limit: -1})
	if len(page) != 3 || len(page[1].Doc["members"].([]any)) != 2 || page[2].Doc["members"] != nil {
		t.Fatalf("LoadMembers without Match: %v", page)
	}
	page, _ = q(store.Query{Type: "Group", Limit: -1})
	if page[0].Doc["members"] != nil {
		t.Fatalf("members loaded without LoadMembers")
	}
}

func testMembers(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, group("g1", "G1"))
	add := func(ms ...store.Member) int {
		t.Helper()
		var n int
		_, err := s.Update(ctx, "Group", "g1", 0, func(tx store.Tx, r *store.Resource) error {
			var err error
			n, err = tx.AddMembers("g1", ms)
			return err
		})
		noErr(t, "AddMembers", err)
		return n
	}
	remove := func(vs ...string) int {
		t.Helper()
		var n int
		noErr(t, "RemoveMembers", s.Write(ctx, func(tx store.Tx) error {
			var err error
			n, err = tx.RemoveMembers("g1", vs)
			return err
		}))
		return n
	}
	if n := add(store.Member{Value: "c", Type: "User", Display: "C"}, store.Member{Value: "a"}, store.Member{Value: "c"}); n != 2 {
		t.Fatalf("added %d, want 2 (a repeated value counts once)", n)
	}
	if n := add(store.Member{Value: "a", Display: "new display"}, store.Member{Value: "b"}); n != 1 {
		t.Fatalf("added %d, want 1", n)
	}
	ms := members(t, s, "g1")
	equalStrings(t, "insertion order", values(ms), []string{"c", "a", "b"})
	if ms[0] != (store.Member{Value: "c", Type: "User", Display: "C"}) || ms[1].Display != "" {
		t.Fatalf("members %+v: want type/display kept as first added", ms)
	}
	if n := remove("a", "zz", "a"); n != 1 {
		t.Fatalf("removed %d, want 1", n)
	}
	if n := remove("zz"); n != 0 {
		t.Fatalf("removed %d, want 0", n)
	}
	add(store.Member{Value: "a"})
	equalStrings(t, "re-added goes last", values(members(t, s, "g1")), []string{"c", "b", "a"})
	err := s.Write(ctx, func(tx store.Tx) error {
		_, err := tx.AddMembers("g1", []store.Member{{Value: ""}})
		return err
	})
	if err == nil {
		t.Fatal("AddMembers with an empty value: no error")
	}
	// Many adds and removes keep the order.
	for i := range 80 {
		add(store.Member{Value: fmt.Sprintf("m%02d", i)})
	}
	want := []string{"c", "b", "a"}
	for i := range 80 {
		if i%4 == 3 {
			want = append(want, fmt.Sprintf("m%02d", i))
		} else {
			remove(fmt.Sprintf("m%02d", i))
		}
	}
	equalStrings(t, "after removing most", values(members(t, s, "g1")), want)
	remove("m03", "b")
	add(store.Member{Value: "z"}, store.Member{Value: "m03"})
	want = append(append([]string{"c", "a"}, want[4:]...), "z", "m03")
	equalStrings(t, "after more changes", values(members(t, s, "g1")), want)
	g := mustGet(t, s, "Group", "g1", true)
	if len(g.Doc["members"].([]any)) != len(want) {
		t.Fatalf("Get members: %d, want %d", len(g.Doc["members"].([]any)), len(want))
	}
}

func testSetMembers(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, group("g1", "G1"), store.Member{Value: "a"}, store.Member{Value: "b"}, store.Member{Value: "c"})
	set := func(ms ...store.Member) int64 {
		t.Helper()
		r, err := s.Update(ctx, "Group", "g1", 0, func(tx store.Tx, r *store.Resource) error {
			if err := tx.SetMembers("g1", ms); err != nil {
				return err
			}
			return store.ErrUnchanged
		})
		noErr(t, "SetMembers", err)
		return r.Version
	}
	m := func(vs ...string) []store.Member {
		out := make([]store.Member, len(vs))
		for i, v := range vs {
			out[i] = store.Member{Value: v}
		}
		return out
	}
	if v := set(m("a", "b", "c")...); v != 1 {
		t.Fatalf("same list: Version %d, want 1", v)
	}
	if v := set(m("a", "c", "d", "e", "d")...); v != 2 {
		t.Fatalf("Version %d, want 2", v)
	}
	equalStrings(t, "incremental", values(members(t, s, "g1")), []string{"a", "c", "d", "e"})
	set(m("e", "x", "a")...)
	equalStrings(t, "reordered", values(members(t, s, "g1")), []string{"e", "x", "a"})
	set(store.Member{Value: "e", Display: "E"}, store.Member{Value: "x"}, store.Member{Value: "a", Type: "User"})
	ms := members(t, s, "g1")
	if ms[0].Display != "E" || ms[2].Type != "User" {
		t.Fatalf("SetMembers did not update type/display: %+v", ms)
	}
	set()
	equalStrings(t, "emptied", values(members(t, s, "g1")), nil)
	if g := mustGet(t, s, "Group", "g1", true); g.Doc["members"] != nil {
		t.Fatalf("empty group has members %v", g.Doc["members"])
	}
	set(m("q", "r")...)
	groups, err := s.GroupsOf(ctx, "q")
	noErr(t, "GroupsOf", err)
	if len(groups) != 1 {
		t.Fatalf("GroupsOf(q) = %v", groups)
	}
	groups, err = s.GroupsOf(ctx, "e")
	noErr(t, "GroupsOf", err)
	if len(groups) != 0 {
		t.Fatalf("GroupsOf(e) = %v", groups)
	}
}

func testGroupVersion(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, group("g1", "G1"))
	mustCreate(t, s, group("g2", "G2"))
	noErr(t, "Write", s.Write(ctx, func(tx store.Tx) error {
		for _, v := range []string{"a", "b", "c"} {
			if _, err := tx.AddMembers("g1", []store.Member{{Value: v}}); err != nil {
				return err
			}
		}
		_, err := tx.AddMembers("g2", nil)
		return err
	}))
	if g := mustGet(t, s, "Group", "g1", false); g.Version != 2 {
		t.Fatalf("g1 Version %d after one transaction of member changes, want 2", g.Version)
	}
	if g := mustGet(t, s, "Group", "g2", false); g.Version != 1 {
		t.Fatalf("g2 Version %d with no member change, want 1", g.Version)
	}
	// An update of g2 that changes g1's members bumps both once.
	r, err := s.Update(ctx, "Group", "g2", 0, func(tx store.Tx, r *store.Resource) error {
		_, err := tx.RemoveMembers("g1", []string{"a"})
		if err != nil {
			return err
		}
		_, err = tx.AddMembers("g2", []store.Member{{Value: "a"}})
		return err
	})
	noErr(t, "Update", err)
	if r.Version != 2 {
		t.Fatalf("g2 Version %d, want 2", r.Version)
	}
	if g := mustGet(t, s, "Group", "g1", false); g.Version != 3 {
		t.Fatalf("g1 Version %d, want 3", g.Version)
	}
}

// testUserVersion: a User's groups attribute is computed from memberships
// and group names, so its Version (the ETag, RFC 7643 §3.1) and Modified
// change whenever that attribute would: when it joins or leaves a group
// (by add, remove, a whole new member list, or the group's deletion) and
// when one of its groups is renamed; never for changes that leave its
// groups as they were, and never for a Group member (no groups attribute).
func testUserVersion(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, id := range []string{"u1", "u2", "u3", "u4"} {
		mustCreate(t, s, user(id, id))
	}
	mustCreate(t, s, group("g0", "G0"))
	want := map[string]int64{"u1": 1, "u2": 1, "u3": 1, "u4": 1, "g0": 1}
	check := func(step string) {
		t.Helper()
		for id, v := range want {
			typ := "User"
			if id[0] == 'g' {
				typ = "Group"
			}
			if r := mustGet(t, s, typ, id, false); r.Version != v {
				t.Fatalf("after %s: %s at version %d, want %d", step, id, r.Version, v)
			}
		}
	}
	before := mustGet(t, s, "User", "u1", false).Modified
	mustCreate(t, s, group("g1", "G1"), store.Member{Value: "u1", Type: "User"})
	want["u1"] = 2
	check("creating a group with u1")
	if m := mustGet(t, s, "User", "u1", false).Modified; m.Before(before) {
		t.Fatalf("u1's Modified went back: %v < %v", m, before)
	}
	update := func(step string, fn func(tx store.Tx, r *store.Resource) error) {
		t.Helper()
		_, err := s.Update(ctx, "Group", "g1", 0, fn)
		noErr(t, step, err)
	}
	update("add", func(tx store.Tx, _ *store.Resource) error {
		_, err := tx.AddMembers("g1", []store.Member{{Value: "u1"}, {Value: "u2", Type: "User"}, {Value: "g0", Type: "Group"}})
		return err
	})
	want["u2"] = 2 // u1 was there already; g0 has no groups attribute
	check("adding u1 again, u2 and g0")
	noErr(t, "remove", s.Write(ctx, func(tx store.Tx) error {
		_, err := tx.RemoveMembers("g1", []string{"u1", "nobody"})
		return err
	}))
	want["u1"] = 3
	check("removing u1")
	update("set", func(tx store.Tx, _ *store.Resource) error {
		return tx.SetMembers("g1", []store.Member{{Value: "u3", Type: "User"}, {Value: "u2", Type: "User", Display: "new display"}})
	})
	want["u3"] = 2 // joined; u2 stays (its entry's display is no groups change); g0 left
	check("setting the members to u3 and u2")
	update("rename", func(_ store.Tx, r *store.Resource) error {
		r.Doc["displayName"], r.Key = "G1 renamed", "g1 renamed"
		return nil
	})
	want["u2"], want["u3"] = 3, 3
	check("renaming the group")
	update("externalId", func(_ store.Tx, r *store.Resource) error {
		r.ExternalID = "x"
		return nil
	})
	check("changing the group's externalId")
	_, err := s.Update(ctx, "User", "u4", 0, func(_ store.Tx, r *store.Resource) error {
		r.Doc["title"] = "t"
		return nil
	})
	noErr(t, "Update u4", err)
	want["u4"] = 2
	check("updating u4")
	noErr(t, "Delete g1", s.Delete(ctx, "Group", "g1", 0))
	want["u2"], want["u3"] = 4, 4
	check("deleting the group")
}

func testGroupsOf(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, user("u1", "alice"))
	mustCreate(t, s, group("g1", "Admins"), store.Member{Value: "u1"})
	mustCreate(t, s, group("g2", "Ops"))
	g3 := group("g3", "Zeta")
	g3.Doc["displayName"] = 42.0 // not a string: no display
	mustCreate(t, s, g3, store.Member{Value: "u1"})
	noErr(t, "Write", s.Write(ctx, func(tx store.Tx) error {
		_, err := tx.AddMembers("g2", []store.Member{{Value: "u1"}})
		return err
	}))
	got, err := s.GroupsOf(ctx, "u1")
	noErr(t, "GroupsOf", err)
	want := []store.GroupRef{{ID: "g1", Display: "Admins"}, {ID: "g2", Display: "Ops"}, {ID: "g3"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("GroupsOf = %+v, want %+v (group Seq order)", got, want)
	}
	got, err = s.GroupsOf(ctx, "nobody")
	noErr(t, "GroupsOf", err)
	if len(got) != 0 {
		t.Fatalf("GroupsOf(nobody) = %v", got)
	}
}

// testUnstorableLookups: a value store.Storable refuses (invalid UTF-8, a
// NUL) names nothing, on every backend, wherever it is looked up.
func testUnstorableLookups(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, user("u1", "alice"))
	mustCreate(t, s, group("g1", "G1"), store.Member{Value: "u1", Type: "User"})
	for _, v := range []string{"\xff", "a\x00b", "\xc3\x28"} {
		if store.Storable(v) {
			t.Fatalf("Storable(%q) = true", v)
		}
		_, err := s.Get(ctx, "User", v, false)
		wantErr(t, "Get", err, store.ErrNotFound)
		_, err = s.Update(ctx, "Group", v, 0, func(store.Tx, *store.Resource) error { return nil })
		wantErr(t, "Update", err, store.ErrNotFound)
		wantErr(t, "Delete", s.Delete(ctx, "User", v, 0), store.ErrNotFound)
		for _, q := range []store.Query{{Type: "User", ID: v}, {Type: "User", Key: v}, {Type: "User", ExternalID: v},
			{Type: "User", MemberOf: v}, {Type: "Group", HasMember: v}} {
			page, total, err := s.List(ctx, store.Query{Type: q.Type, ID: q.ID, Key: q.Key, ExternalID: q.ExternalID, MemberOf: q.MemberOf, HasMember: q.HasMember, Limit: -1})
			if err != nil || total != 0 || len(page) != 0 {
				t.Fatalf("List %+v = %d, %v; want none", q, total, err)
			}
		}
		if gs, err := s.GroupsOf(ctx, v); err != nil || len(gs) != 0 {
			t.Fatalf("GroupsOf(%q) = %v, %v", v, gs, err)
		}
		noErr(t, "Write", s.Write(ctx, func(tx store.Tx) error {
			if _, err := tx.Get("User", v); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("tx.Get: %v", err)
			}
			if ok, err := tx.Exists("User", v); ok || err != nil {
				return fmt.Errorf("tx.Exists: %v, %v", ok, err)
			}
			if _, err := tx.Members(v); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("tx.Members: %v", err)
			}
			if n, err := tx.RemoveMembers("g1", []string{v}); n != 0 || err != nil {
				return fmt.Errorf("tx.RemoveMembers: %d, %v", n, err)
			}
			return nil
		}))
	}
	if got := mustGet(t, s, "Group", "g1", true); len(got.Doc["members"].([]any)) != 1 {
		t.Fatalf("members = %v", got.Doc["members"])
	}
}

// testTxCreate: Tx.Create inserts in the transaction, with members, and
// is undone with it.
func testTxCreate(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreate(t, s, user("u1", "alice"))
	boom := errors.New("boom")
	err := s.Write(ctx, func(tx store.Tx) error {
		if _, err := tx.Get("User", "u1"); err != nil {
			return err
		}
		if err := tx.Create(group("g0", "Gone"), []store.Member{{Value: "u1", Type: "User"}}); err != nil {
			return err
		}
		return boom
	})
	wantErr(t, "Write that fails", err, boom)
	_, err = s.Get(ctx, "Group", "g0", false)
	wantErr(t, "Get of a group created in a failed Write", err, store.ErrNotFound)
	if gs, err := s.GroupsOf(ctx, "u1"); err != nil || len(gs) != 0 {
		t.Fatalf("GroupsOf after a failed Write = %v, %v; want none", gs, err)
	}
	if got := mustGet(t, s, "User", "u1", false); got.Version != u.Version {
		t.Fatalf("user version after a failed Write = %d, want %d", got.Version, u.Version)
	}

	g := group("g1", "G1")
	noErr(t, "Write", s.Write(ctx, func(tx store.Tx) error {
		if _, err := tx.Get("User", "u1"); err != nil {
			return err
		}
		return tx.Create(g, []store.Member{{Value: "u1", Type: "User", Display: "alice"}, {Value: "u1", Type: "User"}})
	}))
	if g.Version != 1 || g.Seq == 0 || g.Created.IsZero() {
		t.Fatalf("created group: version %d, seq %d, created %v", g.Version, g.Seq, g.Created)
	}
	got := mustGet(t, s, "Group", "g1", true)
	if got.Version != 1 || got.Seq != g.Seq || got.Doc["displayName"] != "G1" {
		t.Fatalf("Get = version %d seq %d doc %v; want version 1, seq %d", got.Version, got.Seq, got.Doc, g.Seq)
	}
	if ms, _ := got.Doc["members"].([]any); len(ms) != 1 {
		t.Fatalf("members = %v, want u1 once", got.Doc["members"])
	}
	if got := mustGet(t, s, "User", "u1", false); got.Version != u.Version+1 {
		t.Fatalf("member's version = %d, want %d (its groups changed)", got.Version, u.Version+1)
	}
	wantErr(t, "Tx.Create of a taken key", s.Write(ctx, func(tx store.Tx) error {
		return tx.Create(group("g2", "g1"), nil)
	}), store.ErrConflict)
	wantErr(t, "Tx.Create of a taken id", s.Write(ctx, func(tx store.Tx) error {
		return tx.Create(group("g1", "other"), nil)
	}), store.ErrConflict)
	if err := s.Write(ctx, func(tx store.Tx) error { return tx.Create(&store.Resource{Type: "Group"}, nil) }); err == nil {
		t.Fatal("Tx.Create without an id succeeded")
	}
}

func testWrite(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, group("g1", "G1"), store.Member{Value: "a"})
	boom := errors.New("boom")
	err := s.Write(ctx, func(tx store.Tx) error {
		if _, err := tx.AddMembers("g1", []store.Member{{Value: "b"}}); err != nil {
			return err
		}
		ms, err := tx.Members("g1")
		if err != nil || len(ms) != 2 {
			return fmt.Errorf("tx.Members inside the transaction = %v, %v", ms, err)
		}
		return boom
	})
	wantErr(t, "Write", err, boom)
	equalStrings(t, "after failed Write", values(members(t, s, "g1")), []string{"a"})
	if g := mustGet(t, s, "Group", "g1", false); g.Version != 1 {
		t.Fatalf("Version %d after a failed Write", g.Version)
	}
}

func testConcurrentMemberAdds(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, group("g1", "G1"))
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := s.Update(ctx, "Group", "g1", 0, func(tx store.Tx, r *store.Resource) error {
				_, err := tx.AddMembers("g1", []store.Member{{Value: fmt.Sprintf("u%02d", i)}})
				return err
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		noErr(t, "concurrent Update", err)
	}
	ms := members(t, s, "g1")
	if len(ms) != n {
		t.Fatalf("%d members after %d concurrent adds (lost updates)", len(ms), n)
	}
	if g := mustGet(t, s, "Group", "g1", false); g.Version != n+1 {
		t.Fatalf("Version %d, want %d", g.Version, n+1)
	}
}

func testConcurrentDocUpdates(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, user("u1", "alice"))
	const n = 30
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := s.Update(ctx, "User", "u1", 0, func(tx store.Tx, r *store.Resource) error {
				tags, _ := r.Doc["tags"].([]any)
				r.Doc["tags"] = append(tags, fmt.Sprint(i))
				return nil
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		noErr(t, "concurrent Update", err)
	}
	got := mustGet(t, s, "User", "u1", false)
	if tags, _ := got.Doc["tags"].([]any); len(tags) != n || got.Version != n+1 {
		t.Fatalf("%d tags, Version %d after %d concurrent read-modify-writes", len(tags), got.Version, n)
	}
}

func testConcurrentCreateSameKey(t *testing.T, s store.Store) {
	ctx := t.Context()
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() { errs <- s.Create(ctx, user(fmt.Sprintf("u%d", i), "Same"), nil) })
	}
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrConflict):
			t.Fatalf("Create: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d creates with one key succeeded, want 1", ok)
	}
	_, total, err := s.List(ctx, store.Query{Type: "User", Key: "same", Limit: -1})
	noErr(t, "List", err)
	if total != 1 {
		t.Fatalf("%d users with the key", total)
	}
}

func testTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	created := time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.FixedZone("X", 3600))
	tok := store.Token{ID: "t1", Name: "ci", Account: "svc", Hash: "h1", Prefix: "scimlab_ab", Profile: "rfc",
		EmailDomains: []string{"example.org", "example.com"}, Created: created, Expires: created.Add(90 * 24 * time.Hour)}
	noErr(t, "PutToken", s.PutToken(ctx, tok))
	noErr(t, "PutToken", s.PutToken(ctx, store.Token{ID: "t0", Name: "old", Hash: "h0", Created: created.Add(-time.Hour)}))
	got, err := s.TokenByHash(ctx, "h1")
	noErr(t, "TokenByHash", err)
	want := tok
	want.Created = created.UTC().Truncate(time.Microsecond)
	want.Expires = want.Created.Add(90 * 24 * time.Hour)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("TokenByHash = %+v, want %+v", got, want)
	}
	_, err = s.TokenByHash(ctx, "nope")
	wantErr(t, "TokenByHash unknown", err, store.ErrNotFound)
	wantErr(t, "PutToken with another token's hash", s.PutToken(ctx, store.Token{ID: "t2", Hash: "h1"}), store.ErrConflict)

	at := time.Now().UTC().Truncate(time.Microsecond)
	noErr(t, "TouchToken", s.TouchToken(ctx, "t1", at))
	noErr(t, "TouchToken earlier", s.TouchToken(ctx, "t1", at.Add(-time.Minute)))
	wantErr(t, "TouchToken unknown", s.TouchToken(ctx, "nope", at), store.ErrNotFound)
	got, err = s.TokenByHash(ctx, "h1")
	noErr(t, "TokenByHash", err)
	if !got.LastUsed.Equal(at) {
		t.Fatalf("LastUsed %v, want %v", got.LastUsed, at)
	}

	revoked := want
	revoked.Revoked = at
	revoked.LastUsed = at
	noErr(t, "PutToken replace", s.PutToken(ctx, revoked))
	list, err := s.ListTokens(ctx)
	noErr(t, "ListTokens", err)
	if len(list) != 2 || list[0].ID != "t0" || list[1].ID != "t1" || !list[1].Revoked.Equal(at) || list[0].EmailDomains != nil {
		t.Fatalf("ListTokens = %+v", list)
	}
	if !list[0].LastUsed.IsZero() || !list[0].Expires.IsZero() {
		t.Fatalf("zero times came back as %v, %v", list[0].LastUsed, list[0].Expires)
	}
}

// testUpdateTokens: UpdateTokens reads every token and writes what its
// function returns in one step that no other UpdateTokens interleaves with,
// so a rule counting tokens holds under concurrent creations; the
// function's error writes nothing; a hash clash is ErrConflict and writes
// nothing either.
func testUpdateTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	ConcurrentTokenLimit(t, s, s, 2)
	before, err := s.ListTokens(ctx)
	noErr(t, "ListTokens", err)

	refused := errors.New("refused")
	err = s.UpdateTokens(ctx, func(cur []store.Token) ([]store.Token, error) {
		return []store.Token{{ID: "x1", Hash: "hx1"}}, refused
	})
	if !errors.Is(err, refused) {
		t.Fatalf("UpdateTokens returned %v, want the function's error", err)
	}
	err = s.UpdateTokens(ctx, func(cur []store.Token) ([]store.Token, error) {
		return []store.Token{{ID: "x2", Hash: "hx2"}, {ID: "x3", Hash: before[0].Hash}}, nil
	})
	wantErr(t, "UpdateTokens with another token's hash", err, store.ErrConflict)
	after, err := s.ListTokens(ctx)
	noErr(t, "ListTokens", err)
	if len(after) != len(before) {
		t.Fatalf("%d tokens after two refused updates, want %d: %+v", len(after), len(before), after)
	}
	// Revoking and adding in one update.
	err = s.UpdateTokens(ctx, func(cur []store.Token) ([]store.Token, error) {
		old := cur[0]
		old.Revoked = time.Now()
		return []store.Token{old, {ID: "x4", Hash: "hx4", Created: time.Now()}}, nil
	})
	noErr(t, "UpdateTokens", err)
	after, err = s.ListTokens(ctx)
	noErr(t, "ListTokens", err)
	if len(after) != len(before)+1 || after[0].Revoked.IsZero() || after[len(after)-1].ID != "x4" {
		t.Fatalf("after revoking the first and adding x4: %+v", after)
	}
}

// ConcurrentTokenLimit runs 12 concurrent creations, alternating between
// stores a and b (one store twice, or two opened on one database, as two
// processes or replicas would), each adding a token only while fewer than
// limit of its scope exist; exactly limit must exist afterwards.
func ConcurrentTokenLimit(t *testing.T, a, b store.Store, limit int) {
	t.Helper()
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for i := range 12 {
		st := a
		if i%2 == 1 {
			st = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- st.UpdateTokens(ctx, func(cur []store.Token) ([]store.Token, error) {
				n := 0
				for _, tk := range cur {
					if tk.Name == "limited" {
						n++
					}
				}
				if n >= limit {
					return nil, nil
				}
				return []store.Token{{ID: fmt.Sprintf("lim%02d", i), Name: "limited", Hash: fmt.Sprintf("hlim%02d", i), Created: time.Now()}}, nil
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		noErr(t, "UpdateTokens", err)
	}
	all, err := a.ListTokens(ctx)
	noErr(t, "ListTokens", err)
	n := 0
	for _, tk := range all {
		if tk.Name == "limited" {
			n++
		}
	}
	if n != limit {
		t.Fatalf("%d tokens after 12 concurrent creations limited to %d", n, limit)
	}
}

func testSettings(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, ok, err := s.Setting(ctx, "a")
	noErr(t, "Setting", err)
	if ok {
		t.Fatal("missing setting found")
	}
	noErr(t, "PutSetting", s.PutSetting(ctx, "notice/t1/7d", "sent"))
	noErr(t, "PutSetting", s.PutSetting(ctx, "notice/t2/7d", "sent"))
	noErr(t, "PutSetting", s.PutSetting(ctx, "notice/t1/7d", "again"))
	noErr(t, "PutSetting", s.PutSetting(ctx, "notices", "x"))
	noErr(t, "PutSetting", s.PutSetting(ctx, "notice/ü", ""))
	noErr(t, "PutSetting", s.PutSetting(ctx, "profile", "rfc"))
	v, ok, err := s.Setting(ctx, "notice/t1/7d")
	noErr(t, "Setting", err)
	if !ok || v != "again" {
		t.Fatalf("Setting = %q, %v", v, ok)
	}
	m, err := s.SettingsWithPrefix(ctx, "notice/")
	noErr(t, "SettingsWithPrefix", err)
	if !reflect.DeepEqual(m, map[string]string{"notice/t1/7d": "again", "notice/t2/7d": "sent", "notice/ü": ""}) {
		t.Fatalf("SettingsWithPrefix = %v", m)
	}
	m, err = s.SettingsWithPrefix(ctx, "")
	noErr(t, "SettingsWithPrefix", err)
	if len(m) != 5 {
		t.Fatalf("SettingsWithPrefix(\"\") = %v", m)
	}
	stored, err := s.PutSettingIfAbsent(ctx, "profile", "aws")
	noErr(t, "PutSettingIfAbsent", err)
	if stored {
		t.Fatal("PutSettingIfAbsent overwrote")
	}
	if v, _, _ := s.Setting(ctx, "profile"); v != "rfc" {
		t.Fatalf("profile = %q", v)
	}
}

func testPutSettingIfAbsentOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	const n = 25
	var wg sync.WaitGroup
	won := make(chan string, n)
	for i := range n {
		wg.Go(func() {
			v := fmt.Sprint(i)
			ok, err := s.PutSettingIfAbsent(ctx, "notice/once", v)
			if err != nil {
				t.Error(err)
			}
			if ok {
				won <- v
			}
		})
	}
	wg.Wait()
	close(won)
	var winners []string
	for v := range won {
		winners = append(winners, v)
	}
	if len(winners) != 1 {
		t.Fatalf("%d callers stored the setting, want exactly 1", len(winners))
	}
	if v, _, _ := s.Setting(ctx, "notice/once"); v != winners[0] {
		t.Fatalf("stored %q, winner wrote %q", v, winners[0])
	}
}

func testContext(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	wantErr(t, "Create", s.Create(ctx, user("u1", "alice"), nil), context.Canceled)
	wantErr(t, "PutSetting", s.PutSetting(ctx, "k", "v"), context.Canceled)
	_, err := s.Get(t.Context(), "User", "u1", false)
	wantErr(t, "Get after a cancelled Create", err, store.ErrNotFound)
	_, _, err = s.List(ctx, store.Query{Type: "User", Limit: -1})
	wantErr(t, "List", err, context.Canceled)
}

func testClosed(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, user("u1", "alice"))
	noErr(t, "Close", s.Close())
	noErr(t, "second Close", s.Close())
	wantErr(t, "Create", s.Create(ctx, user("u2", "bob"), nil), store.ErrClosed)
	_, err := s.Get(ctx, "User", "u1", false)
	wantErr(t, "Get", err, store.ErrClosed)
	_, _, err = s.List(ctx, store.Query{Type: "User", Limit: -1})
	wantErr(t, "List", err, store.ErrClosed)
	_, err = s.Update(ctx, "User", "u1", 0, func(store.Tx, *store.Resource) error { return nil })
	wantErr(t, "Update", err, store.ErrClosed)
	wantErr(t, "Write", s.Write(ctx, func(store.Tx) error { return nil }), store.ErrClosed)
	wantErr(t, "PutSetting", s.PutSetting(ctx, "k", "v"), store.ErrClosed)
	_, _, err = s.Setting(ctx, "k")
	wantErr(t, "Setting", err, store.ErrClosed)
	_, err = s.ListTokens(ctx)
	wantErr(t, "ListTokens", err, store.ErrClosed)
}
