package auth_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/taskd/taskd/ports/http/auth"
)

// A token verified once is remembered by its exact bytes; the claims are
// checked again on every use, so it still expires on time, and nothing
// else (a token differing in one character) rides on it.
func TestVerifiedTokensStillExpireAndMatchExactly(t *testing.T) {
	tokens, _, _, clk, id := setup(t, 0)
	tok, _, err := tokens.Issue(id, "member", 3)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // the second Verify is answered from the cache
		c, err := tokens.Verify(tok)
		if err != nil || c.Subject != id || c.TokenVersion != 3 {
			t.Fatalf("verify %d: %+v, %v", i, c, err)
		}
	}
	// Flip one character of the signature: refused, cache or not.
	last := tok[len(tok)-2:]
	flipped := strings.TrimSuffix(tok, last) + string(last[0]^1) + last[1:]
	if _, err := tokens.Verify(flipped); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("tampered token: %v, want invalid", err)
	}
	// Claims signed with another key, same shape: refused.
	forged := sign(t, jwt.SigningMethodHS256, with(claims(id), "tv", 3), []byte(strings.Repeat("x", 40)))
	if _, err := tokens.Verify(forged); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("forged token: %v, want invalid", err)
	}
	clk.Advance(16 * time.Minute)
	if _, err := tokens.Verify(tok); !errors.Is(err, auth.ErrTokenExpired) {
		t.Fatalf("remembered token after its expiry: %v, want expired", err)
	}
	if _, err := tokens.Verify(tok); !errors.Is(err, auth.ErrTokenExpired) {
		t.Fatalf("again after its expiry: %v, want expired", err)
	}
}
