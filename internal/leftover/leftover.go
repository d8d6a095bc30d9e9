// Package leftover tells whether a user or group that a clean-up deleted is
// really gone. A target may accept a DELETE and keep the resource: Slack
// deactivates the user, who still reads back with active=false; Atlassian
// deactivates the user, who then answers 404 by id but is still listed by
// userName. So after a DELETE (RFC 7644 §3.6) the clean-up reads the
// resource back by id and looks it up by its name (RFC 7644 §3.4.2.2), and
// whatever still answers is left over, with the reason. The suites' and the
// simulator's clean-ups send the requests their own way and judge the
// answers here.
package leftover

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// Kind is a resource type as a clean-up looks it up.
type Kind struct {
	// Endpoint is the path below the base URL, without a slash: "Users".
	Endpoint string
	// Attr is the attribute that names a resource of the kind uniquely
	// enough to find it again: userName (RFC 7643 §4.1.1, uniqueness
	// server) or displayName.
	Attr string
	// Noun names one resource in a reason: "user".
	Noun string
}

// The kinds a clean-up removes.
var (
	Users  = Kind{Endpoint: "Users", Attr: "userName", Noun: "user"}
	Groups = Kind{Endpoint: "Groups", Attr: "displayName", Noun: "group"}
)

// Of returns the kind and id of the resource at path, relative to the SCIM
// base URL ("/Users/2819c223", "Groups/e9e3"); ok is false for any other
// path. The id is unescaped.
func Of(path string) (k Kind, id string, ok bool) {
	kind, esc, found := strings.Cut(strings.Trim(path, "/"), "/")
	if !found || esc == "" || strings.Contains(esc, "/") {
		return Kind{}, "", false
	}
	id, err := url.PathUnescape(esc)
	if err != nil {
		return Kind{}, "", false
	}
	switch kind {
	case Users.Endpoint:
		return Users, id, true
	case Groups.Endpoint:
		return Groups, id, true
	}
	return Kind{}, "", false
}

// resource is what a judgement reads from a resource document.
type resource struct {
	ID          string      `json:"id"`
	UserName    string      `json:"userName"`
	DisplayName string      `json:"displayName"`
	Active      activeValue `json:"active"`
}

// activeValue is a resource's active as the target wrote it: a JSON
// boolean, or anything else (the string "True" some targets send, a
// number) kept as its JSON text, so that reading it never fails and a
// wrongly typed active never makes the whole resource unreadable (which
// would leave it undeleted).
type activeValue struct{ raw string }

func (a *activeValue) UnmarshalJSON(b []byte) error {
	a.raw = string(b)
	if a.raw == "null" {
		a.raw = ""
	}
	return nil
}

// Name returns the id and the name (Attr) of a resource document, or ""
// for what it lacks or when body is not one.
func (k Kind) Name(body []byte) (id, name string) {
	var r resource
	if json.Unmarshal(body, &r) != nil {
		return "", ""
	}
	if k == Users {
		return r.ID, r.UserName
	}
	return r.ID, r.DisplayName
}

// Lookup is the path and query that list the resources named name:
// "/Users?filter=userName%20eq%20%22…%22".
func (k Kind) Lookup(name string) (path, query string) {
	f := k.Attr + " eq " + quote(name)
	return "/" + k.Endpoint, "filter=" + strings.ReplaceAll(url.QueryEscape(f), "+", "%20")
}

// quote returns s as a SCIM filter string literal (RFC 7644 §3.4.2.2: JSON
// string rules).
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Deleted says how the resource was deleted, to start a reason: "DELETE
// answered 204".
func Deleted(status int) string { return fmt.Sprintf("DELETE answered %d", status) }

// ReadBack is the reason a resource is left over when, after it was
// deleted as was says (Deleted), a GET by id answered 200 with body.
func ReadBack(was string, body []byte) string {
	var r resource
	_ = json.Unmarshal(body, &r)
	return fmt.Sprintf("%s, but GET still answers 200%s", was, activeNote(r.Active))
}

// Listed judges the answer to Lookup(name) after the resource with id was
// deleted as was says: the reason it is left over when the list still
// holds it, "" when it does not. err is set when body is not a
// ListResponse: the lookup could not tell.
func (k Kind) Listed(was, name, id string, body []byte) (reason string, err error) {
	list, err := listOf(body)
	if err != nil {
		return "", err
	}
	for _, r := range list {
		if r.ID != id {
			continue
		}
		return fmt.Sprintf("%s, but the %s is still listed by %s eq %s%s", was, k.Noun, k.Attr, quote(name), activeNote(r.Active)), nil
	}
	return "", nil
}

// Named returns the ids of the resources in body, the answer to
// Lookup(name), that are named name (Attr, compared ignoring case as
// userName is, RFC 7643 §4.1.1): what a create of name that got no answer
// left on the target. A resource of another name is never among them,
// even when the target ignored the filter. err is set when body is not a
// ListResponse.
func (k Kind) Named(name string, body []byte) (ids []string, err error) {
	list, err := listOf(body)
	if err != nil {
		return nil, err
	}
	for _, r := range list {
		got := r.DisplayName
		if k == Users {
			got = r.UserName
		}
		if r.ID != "" && strings.EqualFold(got, name) {
			ids = append(ids, r.ID)
		}
	}
	return ids, nil
}

// listOf returns the resources of a ListResponse (RFC 7644 §3.4.2); an
// answer with totalResults and no Resources lists none.
func listOf(body []byte) ([]resource, error) {
	var list struct {
		Resources *[]resource `json:"Resources"`
		Total     *int        `json:"totalResults"`
	}
	if err := json.Unmarshal(body, &list); err != nil || (list.Resources == nil && list.Total == nil) {
		return nil, fmt.Errorf("the answer is not a ListResponse")
	}
	if list.Resources == nil {
		return nil, nil
	}
	return *list.Resources, nil
}

func activeNote(active activeValue) string {
	if active.raw == "" {
		return ""
	}
	return fmt.Sprintf(" (active=%s)", active.raw)
}
