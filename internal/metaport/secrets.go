package metaport

import (
	"fmt"
)

// secret is one Fernet-protected value of a variable or connection.
type secret struct {
	value     string
	encrypted bool
	// unreadable: encrypted and no source key decrypts it; value is the
	// token as it was.
	unreadable bool
}

// reencrypt decrypts a source value with the source's keys and encrypts
// it with the environment's (plain text when the environment has none).
func (im *importer) reencrypt(value string, encrypted bool) (secret, error) {
	plain := value
	if encrypted && value != "" {
		b, err := im.opts.SourceKeys.Decrypt(value)
		if err != nil {
			return secret{value: value, encrypted: true, unreadable: true}, nil
		}
		plain = string(b)
	}
	if plain == "" || !im.opts.TargetKeys.Enabled() {
		return secret{value: plain}, nil
	}
	tok, err := im.opts.TargetKeys.Encrypt([]byte(plain))
	if err != nil {
		return secret{}, fmt.Errorf("encrypt for the environment: %w", err)
	}
	return secret{value: tok, encrypted: true}, nil
}

// unreadable records a secret no key decrypts: the row is skipped with
// --skip-encrypted, otherwise imported with the token as it was (as
// Airflow would hold a value encrypted with a key it lost).
func (im *importer) unreadable(b *batch, what, rowKey, column, token string) (skip bool) {
	b.keepAside(rowKey, column, "encrypted; no --fernet-key decrypts it", []byte(token))
	if im.opts.SkipEncrypted {
		b.notes = append(b.notes, fmt.Sprintf("%s %s: %s is encrypted and no --fernet-key decrypts it: skipped", what, rowKey, column))
		b.skip(reasonEncrypted)
		return true
	}
	b.notes = append(b.notes, fmt.Sprintf("%s %s: %s is encrypted and no --fernet-key decrypts it: imported unreadable", what, rowKey, column))
	return false
}

func (im *importer) prepVariable(b *batch, r Row) ([]any, error) {
	key := strOf(r["key"])
	if key == "" {
		b.skip(reasonIncomplete)
		return nil, nil
	}
	s, err := im.reencrypt(strOf(r["val"]), boolOr(r["is_encrypted"], false))
	if err != nil {
		return nil, fmt.Errorf("variable %s: %w", key, err)
	}
	if s.unreadable && im.unreadable(b, "variable", key, "val", s.value) {
		return nil, nil
	}
	return []any{key, s.value, nullStr(r["description"]), s.encrypted}, nil
}

func (im *importer) prepConnection(b *batch, r Row) ([]any, error) {
	id := strOf(r["conn_id"])
	if id == "" {
		b.skip(reasonIncomplete)
		return nil, nil
	}
	pw, err := im.reencrypt(strOf(r["password"]), boolOr(r["is_encrypted"], false))
	if err != nil {
		return nil, fmt.Errorf("connection %s: %w", id, err)
	}
	extra, err := im.reencrypt(strOf(r["extra"]), boolOr(r["is_extra_encrypted"], false))
	if err != nil {
		return nil, fmt.Errorf("connection %s: %w", id, err)
	}
	if pw.unreadable && im.unreadable(b, "connection", id, "password", pw.value) {
		return nil, nil
	}
	if extra.unreadable && im.unreadable(b, "connection", id, "extra", extra.value) {
		return nil, nil
	}
	var port any
	if r["port"] != nil {
		if n, ok := intOf(r["port"]); ok {
			port = n
		} else {
			// SQLite's type affinity lets text into the integer column.
			b.keepAside(id, "port", "not a number", []byte(strOf(r["port"])))
			b.notes = append(b.notes, fmt.Sprintf("connection %s: port %q is not a number: imported without it", id, strOf(r["port"])))
		}
	}
	return []any{id, strOf(r["conn_type"]), nullStr(r["description"]), nullStr(r["host"]), nullStr(r["schema"]),
		nullStr(r["login"]), nullStr(pw.value), port, pw.encrypted, extra.encrypted, nullStr(extra.value)}, nil
}
