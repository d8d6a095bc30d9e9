package backend

import (
	"strings"
	"testing"
)

func TestIsPostgres(t *testing.T) {
	for dsn, want := range map[string]bool{
		"postgres://u@h/db":          true,
		"postgresql://u:p@h:5432/db": true,
		" POSTGRES://h/db":           true,
		"scimlab.db":                 false,
		":memory:":                   false,
		"file:x.db?mode=memory":      false,
		"mysql://h/db":               false,
		"postgres.db":                false,
	} {
		if got := IsPostgres(dsn); got != want {
			t.Errorf("IsPostgres(%q) = %v, want %v", dsn, got, want)
		}
	}
}

func TestRedact(t *testing.T) {
	if got := Redact("postgres://scimlab:s3cret@127.0.0.1:5432/db?sslmode=disable"); strings.Contains(got, "s3cret") || !strings.Contains(got, "127.0.0.1:5432/db") {
		t.Errorf("Redact kept the password or lost the address: %s", got)
	}
	for _, dsn := range []string{
		"postgres://h/db?password=s3cret",
		"postgresql://u:s3cret@h1:5432,h2:5432/db",
		"POSTGRES://u:s3cret@h/db",
		"mysql://u:s3cret@h/db",
	} {
		if got := Redact(dsn); strings.Contains(got, "s3cret") {
			t.Errorf("Redact(%q) = %q keeps the password", dsn, got)
		}
	}
	for _, dsn := range []string{"scimlab.db", "postgres://scimlab@h/db", ":memory:"} {
		if got := Redact(dsn); got != dsn {
			t.Errorf("Redact(%q) = %q, want it unchanged", dsn, got)
		}
	}
}

func TestOpenSQLite(t *testing.T) {
	st, err := Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenPostgresErrorHidesPassword(t *testing.T) {
	_, err := Open("postgres://scimlab:s3cret-pw@127.0.0.1:1/db?connect_timeout=2")
	if err == nil {
		t.Fatal("Open of a closed port succeeded")
	}
	if strings.Contains(err.Error(), "s3cret-pw") || strings.Contains(err.Error(), "\n") {
		t.Errorf("error shows the password or spans lines: %q", err)
	}
}
