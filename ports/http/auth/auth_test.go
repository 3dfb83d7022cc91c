package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	identityquery "github.com/taskd/taskd/modules/identity/app/query"
	"github.com/taskd/taskd/modules/kernel/actor"
	"github.com/taskd/taskd/modules/kernel/errs"
	"github.com/taskd/taskd/ports/http/auth"
)

var (
	secret = []byte("0123456789abcdef0123456789abcdef")
	now    = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
)

const (
	iss = "taskd"
	aud = "taskd-api"
)

type principals struct {
	mu    sync.Mutex
	users map[string]identityquery.Principal
	calls int
}

func (p *principals) Handle(_ context.Context, q identityquery.PrincipalByID) (identityquery.Principal, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	u, ok := p.users[q.UserID]
	if !ok {
		return identityquery.Principal{}, errs.NotFound("user_not_found", "user not found")
	}
	return u, nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func setup(t *testing.T, cacheTTL time.Duration) (*auth.Tokens, *auth.Authenticator, *principals, *clock, string) {
	t.Helper()
	clk := &clock{t: now}
	tokens, err := auth.NewTokens(auth.TokensConfig{Secret: secret, Issuer: iss, Audience: aud, AccessTTL: 15 * time.Minute, Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.NewString()
	p := &principals{users: map[string]identityquery.Principal{id: {UserID: id, Email: "kim@example.com", Role: "member", TokenVersion: 3}}}
	return tokens, auth.NewAuthenticator(tokens, p, 2*time.Second, clk.Now), p, clk, id
}

func claims(sub string) jwt.MapClaims {
	return jwt.MapClaims{
		"sub": sub, "role": "member", "tv": 3, "iss": iss, "aud": []string{aud},
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(15 * time.Minute).Unix(), "jti": uuid.NewString(),
	}
}

func sign(t *testing.T, m jwt.SigningMethod, c jwt.MapClaims, key any) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func with(c jwt.MapClaims, k string, v any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for kk, vv := range c {
		out[kk] = vv
	}
	if v == nil {
		delete(out, k)
	} else {
		out[k] = v
	}
	return out
}

// handMade builds header.payload.HMAC-SHA256(key) with any header.
func handMade(header map[string]any, c jwt.MapClaims, key []byte) string {
	enc := base64.RawURLEncoding
	h, _ := json.Marshal(header)
	p, _ := json.Marshal(c)
	text := enc.EncodeToString(h) + "." + enc.EncodeToString(p)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(text))
	return text + "." + enc.EncodeToString(mac.Sum(nil))
}

func TestJWTAttacks(t *testing.T) {
	tokens, authn, _, _, id := setup(t, 2*time.Second)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	pub, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good := claims(id)

	valid := sign(t, jwt.SigningMethodHS256, good, secret)
	parts := strings.Split(valid, ".")
	forged := with(good, "role", "admin")
	forgedPayload, _ := json.Marshal(forged)

	cases := []struct {
		name, header, code string
	}{
		{"no header", "", "missing_token"},
		{"empty bearer", "Bearer ", "missing_token"},
		{"basic scheme", "Basic " + base64.StdEncoding.EncodeToString([]byte("a:b")), "invalid_token"},
		{"garbage", "Bearer not.a.jwt", "invalid_token"},
		{"too long", "Bearer " + strings.Repeat("a", 5000), "invalid_token"},
		{"alg none", "Bearer " + sign(t, jwt.SigningMethodNone, good, jwt.UnsafeAllowNoneSignatureType), "invalid_token"},
		{"alg none, no signature", "Bearer " + parts[0][:0] + base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + ".", "invalid_token"},
		{"HS256 wrong key", "Bearer " + sign(t, jwt.SigningMethodHS256, good, []byte("another secret of thirty-two bytes!")), "invalid_token"},
		{"HS512 right key (algorithm pinned)", "Bearer " + sign(t, jwt.SigningMethodHS512, good, secret), "invalid_token"},
		{"HS384 right key", "Bearer " + sign(t, jwt.SigningMethodHS384, good, secret), "invalid_token"},
		{"RS256", "Bearer " + sign(t, jwt.SigningMethodRS256, good, rsaKey), "invalid_token"},
		{"ES256", "Bearer " + sign(t, jwt.SigningMethodES256, good, ecKey), "invalid_token"},
		{"RS/HS confusion: alg RS256, HMAC with the public key", "Bearer " + handMade(map[string]any{"alg": "RS256", "typ": "JWT"}, good, pubPEM), "invalid_token"},
		{"alg RS256, HMAC with the real secret", "Bearer " + handMade(map[string]any{"alg": "RS256", "typ": "JWT"}, good, secret), "invalid_token"},
		{"HS256 with the public key as secret", "Bearer " + sign(t, jwt.SigningMethodHS256, good, pubPEM), "invalid_token"},
		{"tampered payload", "Bearer " + parts[0] + "." + base64.RawURLEncoding.EncodeToString(forgedPayload) + "." + parts[2], "invalid_token"},
		{"signature stripped", "Bearer " + parts[0] + "." + parts[1] + ".", "invalid_token"},
		{"expired", "Bearer " + sign(t, jwt.SigningMethodHS256, with(good, "exp", now.Add(-time.Minute).Unix()), secret), "token_expired"},
		{"expired with a wrong key", "Bearer " + sign(t, jwt.SigningMethodHS256, with(good, "exp", now.Add(-time.Minute).Unix()), []byte("another secret of thirty-two bytes!")), "invalid_token"},
		{"no exp", "Bearer " + sign(t, jwt.SigningMethodHS256, with(good, "exp", nil), secret), "invalid_token"},
		{"nbf in the future", "Bearer " + sign(t, jwt.SigningMethodHS256, with(good, "nbf", now.Add(time.Hour).Unix()), secret), "invalid_token"},
		{"iat in the future", "Bearer " + sign(t, jwt.SigningMethodHS256, with(good, "iat", now.Add(time.Hour).Unix()), secret), "invalid_token"},
		{"wrong issuer", "Bearer " + sign(t, jwt.SigningMethodHS256, with(good, "iss", "evil"), secret), "invalid_token"},
		{"no issuer", "Bearer " + sign(t, jwt.SigningMethodHS256, with(good, "iss", nil), secret), "invalid_token"},
		{"wrong audience", "Bearer " + sign(t, jwt.SigningMethodHS256, with(good, "aud", "other-api"), secret), "invalid_token"},
		{"no audience", "Bearer " + sign(t, jwt.SigningMethodHS256, with(good, "aud", nil), secret), "invalid_token"},
		{"subject not a uuid", "Bearer " + sign(t, jwt.SigningMethodHS256, with(good, "sub", "admin"), secret), "invalid_token"},
		{"no token version", "Bearer " + sign(t, jwt.SigningMethodHS256, with(good, "tv", nil), secret), "invalid_token"},
		{"tv as a string", "Bearer " + sign(t, jwt.SigningMethodHS256, with(good, "tv", "3"), secret), "invalid_token"},
		{"stale token version", "Bearer " + sign(t, jwt.SigningMethodHS256, with(good, "tv", 2), secret), "invalid_token"},
		{"deleted user", "Bearer " + sign(t, jwt.SigningMethodHS256, with(good, "sub", uuid.NewString()), secret), "invalid_token"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := authn.Authenticate(context.Background(), c.header)
			e, ok := errs.As(err)
			if !ok || e.Code != c.code || e.Kind != errs.KindUnauthorized {
				t.Fatalf("err = %v, want %s", err, c.code)
			}
		})
	}
	t.Run("valid, any case of the scheme", func(t *testing.T) {
		for _, h := range []string{"Bearer " + valid, "bearer " + valid, "  Bearer   " + valid + " "} {
			a, err := authn.Authenticate(context.Background(), h)
			if err != nil || a.UserID != id || a.Role != "member" {
				t.Fatalf("%q: %+v %v", h, a, err)
			}
		}
	})
	t.Run("the role is the user's current one, not the claim's", func(t *testing.T) {
		a, err := authn.Authenticate(context.Background(), "Bearer "+sign(t, jwt.SigningMethodHS256, forged, secret))
		if err != nil || a.Role != "member" {
			t.Fatalf("%+v %v", a, err)
		}
	})
	t.Run("issued tokens verify", func(t *testing.T) {
		tok, exp, err := tokens.Issue(id, "member", 3)
		if err != nil || !exp.Equal(now.Add(15*time.Minute)) {
			t.Fatal(err, exp)
		}
		c, err := tokens.Verify(tok)
		if err != nil || c.Subject != id || c.Issuer != iss || c.Audience[0] != aud || c.ID == "" || c.TokenVersion != 3 {
			t.Fatalf("%+v %v", c, err)
		}
	})
}

func TestPrincipalCache(t *testing.T) {
	tokens, authn, p, clk, id := setup(t, 2*time.Second)
	tok, _, _ := tokens.Issue(id, "member", 3)
	h := "Bearer " + tok
	for range 5 {
		if _, err := authn.Authenticate(context.Background(), h); err != nil {
			t.Fatal(err)
		}
	}
	if p.calls != 1 {
		t.Fatalf("%d PrincipalByID calls within the cache TTL", p.calls)
	}
	// The user is deleted elsewhere: within 2 s the token stops working.
	p.mu.Lock()
	delete(p.users, id)
	p.mu.Unlock()
	clk.Advance(2 * time.Second)
	if _, err := authn.Authenticate(context.Background(), h); err == nil {
		t.Fatal("a deleted user's token still works after 2 s")
	}
	// Forget drops the entry at once.
	p.mu.Lock()
	p.users[id] = identityquery.Principal{UserID: id, Role: "member", TokenVersion: 3}
	p.mu.Unlock()
	if _, err := authn.Authenticate(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.users[id] = identityquery.Principal{UserID: id, Role: "member", TokenVersion: 4}
	p.mu.Unlock()
	authn.Forget(id)
	if _, err := authn.Authenticate(context.Background(), h); err == nil {
		t.Fatal("a forgotten principal served from the cache")
	}
}

func TestCacheTTLIsCapped(t *testing.T) {
	tokens, _, p, clk, id := setup(t, 0)
	authn := auth.NewAuthenticator(tokens, p, time.Hour, clk.Now)
	tok, _, _ := tokens.Issue(id, "member", 3)
	if _, err := authn.Authenticate(context.Background(), "Bearer "+tok); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	delete(p.users, id)
	p.mu.Unlock()
	clk.Advance(auth.MaxPrincipalCacheTTL)
	if _, err := authn.Authenticate(context.Background(), "Bearer "+tok); err == nil {
		t.Fatal("cache TTL not capped at 2 s")
	}
}

func TestRequireMiddleware(t *testing.T) {
	tokens, authn, _, _, id := setup(t, 0)
	var got actor.Actor
	h := authn.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = actor.FromContext(r.Context())
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 401 || rec.Header().Get("WWW-Authenticate") != "Bearer" || !strings.Contains(rec.Body.String(), `"missing_token"`) {
		t.Fatalf("%d %q %s", rec.Code, rec.Header().Get("WWW-Authenticate"), rec.Body.String())
	}
	tok, _, _ := tokens.Issue(id, "member", 3)
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != 200 || got.UserID != id {
		t.Fatalf("%d %+v", rec.Code, got)
	}
}

func TestNewTokensChecksConfig(t *testing.T) {
	_, err := auth.NewTokens(auth.TokensConfig{Secret: []byte("short")})
	if err == nil || !strings.Contains(err.Error(), "32 bytes") || !strings.Contains(err.Error(), "issuer") || !strings.Contains(err.Error(), "audience") {
		t.Fatalf("err = %v", err)
	}
}

func TestRefreshTokens(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok, err := auth.NewRefreshToken()
		if err != nil {
			t.Fatal(err)
		}
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(raw) != 32 || seen[tok] {
			t.Fatalf("%q", tok)
		}
		seen[tok] = true
	}
}
