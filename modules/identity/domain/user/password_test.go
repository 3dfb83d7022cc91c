package user_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/taskd/taskd/modules/identity/domain/user"
)

// testParams keep hashing fast in tests; production uses DefaultHashParams.
var testParams = user.HashParams{Time: 1, Memory: 64, Threads: 1}

func mustEmail(t *testing.T, s string) user.Email {
	t.Helper()
	e, err := user.EmailFromString(s)
	if err != nil {
		t.Fatalf("EmailFromString(%q): %v", s, err)
	}
	return e
}

func TestCheckPasswordPolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		password string
		email    string
		wantErr  error
	}{
		{"10 characters", "abcdefghij", "alice@example.com", nil},
		{"9 characters", "abcdefghi", "alice@example.com", user.ErrPasswordTooShort},
		{"empty", "", "alice@example.com", user.ErrPasswordTooShort},
		{"10 Hangul runes", "가나다라마바사아자차", "alice@example.com", nil},
		{"9 Hangul runes, 27 bytes", "가나다라마바사아자", "alice@example.com", user.ErrPasswordTooShort},
		{"256 characters", strings.Repeat("x", 256), "alice@example.com", nil},
		{"257 characters", strings.Repeat("x", 257), "alice@example.com", user.ErrPasswordTooLong},
		{"the e-mail", "alice@example.com", "alice@example.com", user.ErrPasswordIsEmail},
		{"the e-mail, other case", "ALICE@Example.com", "alice@example.com", user.ErrPasswordIsEmail},
		{"the e-mail with spaces", "  alice@example.com ", "alice@example.com", user.ErrPasswordIsEmail},
		{"contains the e-mail", "alice@example.com!", "alice@example.com", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := user.CheckPasswordPolicy(tt.password, mustEmail(t, tt.email))
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("CheckPasswordPolicy = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestHashAndVerifyPassword(t *testing.T) {
	t.Parallel()
	const pw = "correct horse battery staple"
	h1, err := user.HashPassword(pw, testParams)
	if err != nil {
		t.Fatal(err)
	}
	h2, err := user.HashPassword(pw, testParams)
	if err != nil {
		t.Fatal(err)
	}
	if h1 == h2 {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	if want := "$argon2id$v=19$m=64,t=1,p=1$"; !strings.HasPrefix(h1, want) {
		t.Errorf("hash %q does not start with %q", h1, want)
	}
	if strings.Contains(h1, pw) {
		t.Error("the hash contains the password")
	}
	tests := []struct {
		password string
		want     bool
	}{
		{pw, true},
		{"correct horse battery stapl", false},
		{"Correct horse battery staple", false},
		{pw + " ", false},
		{"", false},
	}
	for _, tt := range tests {
		for _, h := range []string{h1, h2} {
			if got := user.VerifyPassword(tt.password, h); got != tt.want {
				t.Errorf("VerifyPassword(%q) = %v, want %v", tt.password, got, tt.want)
			}
		}
	}
}

func TestVerifyPasswordRejectsMalformedHashes(t *testing.T) {
	t.Parallel()
	const pw = "correct horse battery staple"
	good, err := user.HashPassword(pw, testParams)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$") // "", argon2id, v=19, m=64,t=1,p=1, salt, key
	salt, key := parts[4], parts[5]
	with := func(alg, ver, params, salt, key string) string {
		return strings.Join([]string{"", alg, ver, params, salt, key}, "$")
	}
	tests := map[string]string{
		"empty":                  "",
		"plain text":             pw,
		"bcrypt":                 "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"too few parts":          strings.Join(parts[:5], "$"),
		"too many parts":         good + "$x",
		"argon2i":                with("argon2i", "v=19", "m=64,t=1,p=1", salt, key),
		"version 16":             with("argon2id", "v=16", "m=64,t=1,p=1", salt, key),
		"no version":             with("argon2id", "19", "m=64,t=1,p=1", salt, key),
		"params missing":         with("argon2id", "v=19", "m=64,t=1", salt, key),
		"params garbage":         with("argon2id", "v=19", "memory=64", salt, key),
		"threads out of range":   with("argon2id", "v=19", "m=64,t=1,p=256", salt, key),
		"salt not base64":        with("argon2id", "v=19", "m=64,t=1,p=1", "!!!", key),
		"key not base64":         with("argon2id", "v=19", "m=64,t=1,p=1", salt, "!!!"),
		"empty key":              with("argon2id", "v=19", "m=64,t=1,p=1", salt, ""),
		"other params, same key": with("argon2id", "v=19", "m=128,t=1,p=1", salt, key),
		"zero time":              with("argon2id", "v=19", "m=64,t=0,p=1", salt, key),
		"zero threads":           with("argon2id", "v=19", "m=64,t=1,p=0", salt, key),
		"huge memory":            with("argon2id", "v=19", fmt.Sprintf("m=%d,t=1,p=1", uint32(1<<32-1)), salt, key),
		"huge time":              with("argon2id", "v=19", "m=64,t=4294967295,p=1", salt, key),
	}
	for name, h := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("VerifyPassword panicked on %q: %v", h, r)
				}
			}()
			if user.VerifyPassword(pw, h) {
				t.Errorf("VerifyPassword accepted %q", h)
			}
		})
	}
}

func TestHashPasswordRejectsBadParams(t *testing.T) {
	t.Parallel()
	for _, p := range []user.HashParams{
		{},
		{Time: 0, Memory: 64, Threads: 1},
		{Time: 1, Memory: 64, Threads: 0},
		{Time: 1, Memory: 0, Threads: 1},
		{Time: 1, Memory: 1<<32 - 1, Threads: 1},
	} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("HashPassword(%+v) panicked: %v", p, r)
				}
			}()
			if h, err := user.HashPassword("long enough password", p); err == nil {
				t.Errorf("HashPassword(%+v) = %q, want an error", p, h)
			}
		}()
	}
	if _, err := user.HashPassword("long enough password", user.DefaultHashParams); err != nil {
		t.Errorf("HashPassword(DefaultHashParams): %v", err)
	}
}
