package secrets

import (
	"context"
	"fmt"

	"github.com/windsock/windsock/internal/fernet"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// Variable is a variable as users see it: its value decrypted.
type Variable struct {
	Key         string
	Value       string
	Description string
}

// Variables reads and writes variables. Environ is the environment to look
// secrets up in (os.Environ() in production), injected so that tests and
// services never depend on the process environment.
type Variables struct {
	Store   store.Queries
	Keys    *fernet.Keys
	Environ []string
}

// Get returns the value of a variable: from WINDSOCK_VAR_<KEY>, else
// AIRFLOW_VAR_<KEY> (key upper-cased), else the store, decrypted. A
// variable found nowhere is an ENOTFOUND error.
func (v *Variables) Get(ctx context.Context, key string) (string, error) {
	if value, _, ok := lookupSecretEnv(v.Environ, windsockVarPrefix, airflowVarPrefix, key); ok {
		return value, nil
	}
	stored, err := v.Stored(ctx, key)
	if err != nil {
		return "", err
	}
	return stored.Value, nil
}

// Stored returns a variable from the store only, decrypted, with its
// description: what the REST API and UI show and edit.
func (v *Variables) Stored(ctx context.Context, key string) (*Variable, error) {
	row, err := v.Store.VariableGet(ctx, key)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return nil, windsock.Errorf(windsock.ENOTFOUND, "variable %q does not exist", key)
	}
	if err != nil {
		return nil, fmt.Errorf("get variable: %w", err)
	}
	return v.decrypt(row)
}

// Set creates or replaces a variable, encrypting its value when a Fernet
// key is configured.
func (v *Variables) Set(ctx context.Context, key, value, description string) error {
	if err := validateKey("variable key", key); err != nil {
		return err
	}
	row := &windsock.Variable{Key: key, Val: value, Description: description}
	if v.Keys.Enabled() {
		enc, err := v.Keys.Encrypt([]byte(value))
		if err != nil {
			return fmt.Errorf("set variable %q: %w", key, err)
		}
		row.Val, row.IsEncrypted = enc, true
	}
	if err := v.Store.VariableSet(ctx, row); err != nil {
		return fmt.Errorf("set variable: %w", err)
	}
	return nil
}

// Delete removes a variable from the store; ENOTFOUND if it is not there.
func (v *Variables) Delete(ctx context.Context, key string) error {
	err := v.Store.VariableDelete(ctx, key)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return windsock.Errorf(windsock.ENOTFOUND, "variable %q does not exist", key)
	}
	if err != nil {
		return fmt.Errorf("delete variable: %w", err)
	}
	return nil
}

// List returns every variable of the store, decrypted, ordered by key.
// Variables defined only in the environment are not listed, as in Airflow.
func (v *Variables) List(ctx context.Context) ([]Variable, error) {
	rows, err := v.Store.VariableList(ctx)
	if err != nil {
		return nil, fmt.Errorf("list variables: %w", err)
	}
	out := make([]Variable, 0, len(rows))
	for _, row := range rows {
		dec, err := v.decrypt(row)
		if err != nil {
			return nil, err
		}
		out = append(out, *dec)
	}
	return out, nil
}

func (v *Variables) decrypt(row *windsock.Variable) (*Variable, error) {
	out := &Variable{Key: row.Key, Value: row.Val, Description: row.Description}
	if row.IsEncrypted && row.Val != "" {
		plain, err := v.Keys.Decrypt(row.Val)
		if err != nil {
			return nil, fmt.Errorf("decrypt variable %q: %w", row.Key, err)
		}
		out.Value = string(plain)
	}
	return out, nil
}

// validateKey checks what the metadata schema requires of a key.
func validateKey(what, key string) error {
	if key == "" {
		return windsock.Errorf(windsock.EINVALID, "%s must not be empty", what)
	}
	if len(key) > maxKeyLength {
		return windsock.Errorf(windsock.EINVALID, "%s must be at most %d characters, got %d", what, maxKeyLength, len(key))
	}
	return nil
}
