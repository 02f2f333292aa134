package mwaatoken_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/mwaatoken"
)

func TestMintVerify(t *testing.T) {
	t.Parallel()
	secret := []byte("0123456789abcdef0123456789abcdef")
	now := time.Unix(1_800_000_000, 0)
	c := mwaatoken.Claims{Kind: mwaatoken.KindWeb, Environment: "dev", Role: "Op", User: "alice",
		Expires: now.Add(mwaatoken.WebTokenTTL).Unix()}
	tok, err := mwaatoken.Mint(secret, c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := mwaatoken.Verify(secret, tok, mwaatoken.KindWeb, "dev", now)
	if err != nil || got.Role != "Op" || got.User != "alice" {
		t.Fatalf("Verify = %+v, %v", got, err)
	}
	payload, sig, _ := strings.Cut(tok, ".")
	refused := map[string]func() error{
		"expired": func() error {
			_, err := mwaatoken.Verify(secret, tok, mwaatoken.KindWeb, "dev", now.Add(mwaatoken.WebTokenTTL))
			return err
		},
		"other kind": func() error { _, err := mwaatoken.Verify(secret, tok, mwaatoken.KindCLI, "dev", now); return err },
		"other environment": func() error {
			_, err := mwaatoken.Verify(secret, tok, mwaatoken.KindWeb, "prod", now)
			return err
		},
		"other secret": func() error {
			_, err := mwaatoken.Verify([]byte("another secret"), tok, mwaatoken.KindWeb, "dev", now)
			return err
		},
		"no secret": func() error { _, err := mwaatoken.Verify(nil, tok, mwaatoken.KindWeb, "dev", now); return err },
		"payload changed": func() error {
			forged, _ := mwaatoken.Mint([]byte("mine"), mwaatoken.Claims{Kind: "web", Environment: "dev", Role: "Admin", Expires: c.Expires})
			p, _, _ := strings.Cut(forged, ".")
			_, err := mwaatoken.Verify(secret, p+"."+sig, mwaatoken.KindWeb, "dev", now)
			return err
		},
		"garbage": func() error { _, err := mwaatoken.Verify(secret, payload, mwaatoken.KindWeb, "dev", now); return err },
	}
	for name, f := range refused {
		if err := f(); !errors.Is(err, mwaatoken.ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
	}
}
