package secrets_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/fernet"
	"github.com/windsock/windsock/internal/secrets"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/sqlite"
	"github.com/windsock/windsock/internal/windsock"
)

// openStore returns a fresh, migrated SQLite store for one test.
func openStore(t *testing.T) store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "windsock.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return st
}

func newKeys(t *testing.T) (*fernet.Keys, string) {
	t.Helper()
	key, err := fernet.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := fernet.Parse(key)
	if err != nil {
		t.Fatal(err)
	}
	return keys, key
}

func TestVariablesEncryptedAtRest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	keys, _ := newKeys(t)
	vars := &secrets.Variables{Store: st, Keys: keys}

	if err := vars.Set(ctx, "api_token", "s3cr3t", "the token"); err != nil {
		t.Fatalf("Set: %v", err)
	}
	row, err := st.VariableGet(ctx, "api_token")
	if err != nil {
		t.Fatal(err)
	}
	if !row.IsEncrypted || row.Val == "s3cr3t" || strings.Contains(row.Val, "s3cr3t") {
		t.Fatalf("stored row = %+v, want an encrypted value", row)
	}
	if got, err := keys.Decrypt(row.Val); err != nil || string(got) != "s3cr3t" {
		t.Fatalf("stored value does not decrypt with the key: %q, %v", got, err)
	}

	got, err := vars.Get(ctx, "api_token")
	if err != nil || got != "s3cr3t" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	stored, err := vars.Stored(ctx, "api_token")
	if err != nil || stored.Value != "s3cr3t" || stored.Description != "the token" {
		t.Fatalf("Stored = %+v, %v", stored, err)
	}

	// Replacing keeps one row.
	if err := vars.Set(ctx, "api_token", "new", ""); err != nil {
		t.Fatal(err)
	}
	if err := vars.Set(ctx, "region", "eu-west-1", ""); err != nil {
		t.Fatal(err)
	}
	list, err := vars.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []secrets.Variable{{Key: "api_token", Value: "new"}, {Key: "region", Value: "eu-west-1"}}
	if len(list) != len(want) || list[0] != want[0] || list[1] != want[1] {
		t.Fatalf("List = %+v, want %+v", list, want)
	}

	// Another key cannot read them.
	other, _ := newKeys(t)
	_, err = (&secrets.Variables{Store: st, Keys: other}).Get(ctx, "region")
	if !errors.Is(err, fernet.ErrInvalidToken) {
		t.Fatalf("Get with the wrong key: error = %v, want ErrInvalidToken", err)
	}
	_, err = (&secrets.Variables{Store: st, Keys: nil}).Get(ctx, "region")
	if !errors.Is(err, fernet.ErrNoKey) {
		t.Fatalf("Get without a key: error = %v, want ErrNoKey", err)
	}

	if err := vars.Delete(ctx, "region"); err != nil {
		t.Fatal(err)
	}
	if _, err := vars.Get(ctx, "region"); windsock.ErrorCode(err) != windsock.ENOTFOUND {
		t.Fatalf("Get after Delete: error = %v, want ENOTFOUND", err)
	}
	if err := vars.Delete(ctx, "region"); windsock.ErrorCode(err) != windsock.ENOTFOUND {
		t.Fatalf("Delete twice: error = %v, want ENOTFOUND", err)
	}
}

func TestVariablesWithoutKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	vars := &secrets.Variables{Store: st, Keys: &fernet.Keys{}}
	if err := vars.Set(ctx, "plain", "value", ""); err != nil {
		t.Fatal(err)
	}
	row, err := st.VariableGet(ctx, "plain")
	if err != nil {
		t.Fatal(err)
	}
	if row.IsEncrypted || row.Val != "value" {
		t.Fatalf("row = %+v, want plain text without a key, as Airflow's NullFernet", row)
	}
	if got, err := vars.Get(ctx, "plain"); err != nil || got != "value" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if err := vars.Set(ctx, "", "x", ""); windsock.ErrorCode(err) != windsock.EINVALID {
		t.Fatalf("Set with an empty key: error = %v, want EINVALID", err)
	}
}

func TestVariablesEnvironmentFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	keys, _ := newKeys(t)
	seed := &secrets.Variables{Store: st, Keys: keys}
	for _, k := range []string{"bucket", "region", "stored_only"} {
		if err := seed.Set(ctx, k, "from-store", ""); err != nil {
			t.Fatal(err)
		}
	}
	vars := &secrets.Variables{Store: st, Keys: keys, Environ: []string{
		"AIRFLOW_VAR_BUCKET=from-airflow-env",
		"WINDSOCK_VAR_REGION=from-windsock-env",
		"AIRFLOW_VAR_REGION=from-airflow-env",
		"AIRFLOW_VAR_ENV_ONLY=only-env",
		"airflow_var_stored_only=lower-case names do not count",
	}}
	tests := map[string]string{
		"bucket":      "from-airflow-env",
		"region":      "from-windsock-env",
		"Region":      "from-windsock-env", // the key is upper-cased for the lookup
		"env_only":    "only-env",
		"stored_only": "from-store",
	}
	for key, want := range tests {
		if got, err := vars.Get(ctx, key); err != nil || got != want {
			t.Errorf("Get(%q) = %q, %v; want %q", key, got, err, want)
		}
	}
	if _, err := vars.Get(ctx, "missing"); windsock.ErrorCode(err) != windsock.ENOTFOUND || err.Error() != `variable "missing" does not exist` {
		t.Errorf("Get(missing) = %v", err)
	}
	// List is the store only.
	list, err := vars.List(ctx)
	if err != nil || len(list) != 3 {
		t.Fatalf("List = %+v, %v; want the 3 stored variables", list, err)
	}
}

func TestConnectionsEncryptedAtRest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	keys, _ := newKeys(t)
	conns := &secrets.Connections{Store: st, Keys: keys}

	pg := &secrets.Connection{ConnID: "pg", ConnType: "postgres", Description: "warehouse", Host: "db.internal",
		Schema: "dwh", Login: "etl", Password: "p@ss", Port: 5432, Extra: `{"sslmode": "require"}`}
	if err := conns.Add(ctx, pg); err != nil {
		t.Fatalf("Add: %v", err)
	}
	if err := conns.Add(ctx, pg); windsock.ErrorCode(err) != windsock.ECONFLICT {
		t.Fatalf("Add twice: error = %v, want ECONFLICT", err)
	}
	row, err := st.ConnectionGet(ctx, "pg")
	if err != nil {
		t.Fatal(err)
	}
	if !row.IsEncrypted || !row.IsExtraEncrypted || row.Password == pg.Password || row.Extra == pg.Extra {
		t.Fatalf("stored row = %+v, want password and extra encrypted", row)
	}
	if row.Host != "db.internal" || row.Login != "etl" || row.Port != 5432 {
		t.Fatalf("stored row = %+v, want the other fields in plain text", row)
	}

	got, err := conns.Get(ctx, "pg")
	if err != nil {
		t.Fatal(err)
	}
	if *got != *pg {
		t.Fatalf("Get = %+v, want %+v", got, pg)
	}

	// A connection without password or extra stores nothing encrypted.
	http := &secrets.Connection{ConnID: "web", ConnType: "http", Host: "https://example.com"}
	if err := conns.Add(ctx, http); err != nil {
		t.Fatal(err)
	}
	if row, err := st.ConnectionGet(ctx, "web"); err != nil || row.IsEncrypted || row.IsExtraEncrypted {
		t.Fatalf("row = %+v, %v; empty password and extra should stay unencrypted", row, err)
	}

	updated := *pg
	updated.Password, updated.Extra, updated.Port = "", "", 0
	if err := conns.Update(ctx, &updated); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if got, err := conns.Get(ctx, "pg"); err != nil || *got != updated {
		t.Fatalf("Get after Update = %+v, %v; want %+v", got, err, updated)
	}
	if err := conns.Update(ctx, &secrets.Connection{ConnID: "nope", ConnType: "http"}); windsock.ErrorCode(err) != windsock.ENOTFOUND {
		t.Fatalf("Update(missing): error = %v, want ENOTFOUND", err)
	}

	list, err := conns.List(ctx)
	if err != nil || len(list) != 2 || list[0].ConnID != "pg" || list[1].ConnID != "web" {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if err := conns.Delete(ctx, "pg"); err != nil {
		t.Fatal(err)
	}
	if _, err := conns.Get(ctx, "pg"); windsock.ErrorCode(err) != windsock.ENOTFOUND {
		t.Fatalf("Get after Delete: error = %v, want ENOTFOUND", err)
	}

	for _, bad := range []*secrets.Connection{
		{ConnID: "", ConnType: "http"},
		{ConnID: "has space", ConnType: "http"},
		{ConnID: "no_type"},
		{ConnID: "bad_port", ConnType: "http", Port: 70000},
	} {
		if err := conns.Add(ctx, bad); windsock.ErrorCode(err) != windsock.EINVALID {
			t.Errorf("Add(%+v): error = %v, want EINVALID", bad, err)
		}
	}
}

func TestConnectionsKeyRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	oldKeys, oldKey := newKeys(t)
	if err := (&secrets.Connections{Store: st, Keys: oldKeys}).Add(ctx,
		&secrets.Connection{ConnID: "s3", ConnType: "aws", Login: "AKIA", Password: "secret"}); err != nil {
		t.Fatal(err)
	}
	_, newKey := newKeys(t)
	rotating, err := fernet.Parse(newKey + "," + oldKey)
	if err != nil {
		t.Fatal(err)
	}
	got, err := (&secrets.Connections{Store: st, Keys: rotating}).Get(ctx, "s3")
	if err != nil || got.Password != "secret" {
		t.Fatalf("Get with new,old keys = %+v, %v", got, err)
	}
}

func TestConnectionsEnvironmentFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	keys, _ := newKeys(t)
	conns := &secrets.Connections{Store: st, Keys: keys, Environ: []string{
		"AIRFLOW_CONN_MY_PG=postgresql://user:pa%2Fss@pg.example.com:5433/app",
		"WINDSOCK_CONN_MY_API=" + `{"conn_type": "http", "host": "api.example.com", "extra": {"timeout": 5}}`,
		"AIRFLOW_CONN_MY_API=http://ignored",
		"AIRFLOW_CONN_BROKEN=postgres://u:topsecret@h:port/db",
	}}
	if err := conns.Add(ctx, &secrets.Connection{ConnID: "my_pg", ConnType: "postgres", Host: "stored"}); err != nil {
		t.Fatal(err)
	}

	pg, err := conns.Get(ctx, "my_pg")
	if err != nil {
		t.Fatal(err)
	}
	if want := (secrets.Connection{ConnID: "my_pg", ConnType: "postgres", Host: "pg.example.com", Login: "user", Password: "pa/ss", Port: 5433, Schema: "app"}); *pg != want {
		t.Errorf("Get(my_pg) = %+v, want %+v", pg, want)
	}
	api, err := conns.Get(ctx, "my_api")
	if err != nil {
		t.Fatal(err)
	}
	if api.ConnType != "http" || api.Host != "api.example.com" || api.Extra != `{"timeout":5}` {
		t.Errorf("Get(my_api) = %+v", api)
	}
	_, err = conns.Get(ctx, "broken")
	if err == nil || !strings.Contains(err.Error(), "AIRFLOW_CONN_BROKEN") || strings.Contains(err.Error(), "topsecret") {
		t.Errorf("Get(broken) error = %v: want the variable named and the password not shown", err)
	}
	if _, err := conns.Get(ctx, "missing"); windsock.ErrorCode(err) != windsock.ENOTFOUND {
		t.Errorf("Get(missing) error = %v, want ENOTFOUND", err)
	}
	// List is the store only.
	if list, err := conns.List(ctx); err != nil || len(list) != 1 || list[0].Host != "stored" {
		t.Errorf("List = %+v, %v", list, err)
	}
}

func TestReadsRowsWrittenByAirflow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	// Tokens made by Python's cryptography Fernet with this key, as Airflow
	// stores them in variable.val and connection.password.
	keys, err := fernet.Parse("9Z8xQpKf3yVw2m4N1sT7uL0cR5eH6aJ8bD3gF2kY1oI=")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.VariableSet(ctx, &windsock.Variable{Key: "config", IsEncrypted: true,
		Val: "gAAAAABrBOzaL0fAyc4qyCGu7NMevKXdalQgSnoGePydz3tVMWpA0nNRNzOEKBESereuNnSYs9E8M84gEEHWZZ8Ga16JOqBsnCatBJthF8IHmEImiWXlWfk="}); err != nil {
		t.Fatal(err)
	}
	if err := st.ConnectionInsert(ctx, &windsock.Connection{ConnID: "pg", ConnType: "postgres", IsEncrypted: true,
		Password: "gAAAAABrBOzaA10uILjWuyoGqzkxBQIF5IBehmDC301l54xRjI6mpyJCH7w89mjTqe5f6Vuif587VZctEorp4jk6Ao4EPwo0Xw=="}); err != nil {
		t.Fatal(err)
	}
	v, err := (&secrets.Variables{Store: st, Keys: keys}).Get(ctx, "config")
	if err != nil || v != `{"bucket": "s3://airflow-data"}` {
		t.Errorf("variable = %q, %v", v, err)
	}
	c, err := (&secrets.Connections{Store: st, Keys: keys}).Get(ctx, "pg")
	if err != nil || c.Password != "pg-password" {
		t.Errorf("connection = %+v, %v", c, err)
	}
}
