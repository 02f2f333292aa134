package auth

import "testing"

func TestPasswordHashRoundTrip(t *testing.T) {
	t.Parallel()
	pw, err := GeneratePassword(16)
	if err != nil {
		t.Fatal(err)
	}
	if len(pw) != 16 {
		t.Fatalf("len = %d, want 16", len(pw))
	}
	h, err := HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	if h == pw {
		t.Fatal("hash equals the password")
	}
	if !CheckPassword(h, pw) {
		t.Error("the right password was refused")
	}
	if CheckPassword(h, pw+"x") {
		t.Error("a wrong password was accepted")
	}
	other, _ := GeneratePassword(16)
	if other == pw {
		t.Error("two generated passwords are equal")
	}
}
