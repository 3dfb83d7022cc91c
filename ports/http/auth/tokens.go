// Package auth is the HTTP port's authentication: HS256 access tokens
// (golang-jwt/jwt/v5, algorithm pinned, exp/nbf/iat/iss/aud checked), opaque
// refresh tokens, and the middleware that turns a Bearer token into the
// actor.Actor the modules see.
package auth

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/taskd/taskd/modules/kernel/errs"
)

// Errors of authentication, all 401.
var (
	ErrMissingToken = errs.Unauthorized("missing_token", "an access token is required: Authorization: Bearer <token>")
	ErrInvalidToken = errs.Unauthorized("invalid_token", "the access token is not valid")
	ErrTokenExpired = errs.Unauthorized("token_expired", "the access token has expired; refresh it")
	ErrTokenRevoked = ErrInvalidToken.WithMessage("the access token was revoked (password or role changed, or the account was deleted)")
)

// MinSecretLength is the shortest HS256 key accepted (256 bits).
const MinSecretLength = 32

// Defaults.
const (
	DefaultAccessTTL = 15 * time.Minute
	DefaultLeeway    = 5 * time.Second
	maxTokenLength   = 4096
)

// TokensConfig configures Tokens.
type TokensConfig struct {
	Secret    []byte // at least 32 bytes
	Issuer    string // "iss", required
	Audience  string // "aud", required
	AccessTTL time.Duration
	// Leeway is the clock skew tolerated on exp, nbf and iat (default 5 s).
	Leeway time.Duration
	Clock  func() time.Time // default time.Now
	NewID  func() string    // "jti"; default UUIDv7
}

// Claims are an access token's claims: the subject is the user id, role the
// user's role and tv the user's token version when the token was issued.
type Claims struct {
	Role         string `json:"role"`
	TokenVersion int64  `json:"tv"`
	jwt.RegisteredClaims
}

// Tokens issues and verifies access tokens.
type Tokens struct {
	secret    []byte
	issuer    string
	audience  string
	ttl       time.Duration
	clock     func() time.Time
	newID     func() string
	parser    *jwt.Parser
	parserKey jwt.Keyfunc
	// validator checks the claims (exp, nbf, iat, iss, aud) with the
	// parser's options; verified remembers tokens whose signature checked
	// out, so a client sending the same token again is spared the parse
	// and the HMAC (a tenth of a small request's CPU), never the claims.
	validator *jwt.Validator
	verified  verifiedTokens
}

// verifiedTokens maps a token, byte for byte, to its claims once its
// signature was verified. Bounded: emptied when full.
type verifiedTokens struct {
	mu sync.Mutex
	m  map[string]Claims
}

const maxVerifiedTokens = 4096

func (v *verifiedTokens) get(token string) (Claims, bool) {
	v.mu.Lock()
	c, ok := v.m[token]
	v.mu.Unlock()
	return c, ok
}

func (v *verifiedTokens) put(token string, c Claims) {
	v.mu.Lock()
	if v.m == nil || len(v.m) >= maxVerifiedTokens {
		v.m = make(map[string]Claims, 64)
	}
	v.m[token] = c
	v.mu.Unlock()
}

func (v *verifiedTokens) drop(token string) {
	v.mu.Lock()
	delete(v.m, token)
	v.mu.Unlock()
}

// NewTokens checks c and builds Tokens.
func NewTokens(c TokensConfig) (*Tokens, error) {
	var problems []error
	if len(c.Secret) < MinSecretLength {
		problems = append(problems, fmt.Errorf("auth: the JWT secret must be at least %d bytes", MinSecretLength))
	}
	if strings.TrimSpace(c.Issuer) == "" {
		problems = append(problems, errors.New("auth: the JWT issuer is required"))
	}
	if strings.TrimSpace(c.Audience) == "" {
		problems = append(problems, errors.New("auth: the JWT audience is required"))
	}
	if c.AccessTTL < 0 || c.Leeway < 0 {
		problems = append(problems, errors.New("auth: token lifetimes must not be negative"))
	}
	if err := errors.Join(problems...); err != nil {
		return nil, err
	}
	if c.AccessTTL == 0 {
		c.AccessTTL = DefaultAccessTTL
	}
	if c.Leeway == 0 {
		c.Leeway = DefaultLeeway
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.NewID == nil {
		c.NewID = func() string { return uuid.Must(uuid.NewV7()).String() }
	}
	t := &Tokens{
		secret: append([]byte(nil), c.Secret...), issuer: c.Issuer, audience: c.Audience,
		ttl: c.AccessTTL, clock: c.Clock, newID: c.NewID,
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(c.Issuer),
		jwt.WithAudience(c.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(c.Leeway),
		jwt.WithTimeFunc(c.Clock),
	}
	t.parser = jwt.NewParser(opts...)
	t.validator = jwt.NewValidator(opts...)
	t.parserKey = func(tok *jwt.Token) (any, error) {
		// WithValidMethods already pins HS256; checking the method's type
		// too costs nothing and keeps a key from ever meeting another algorithm.
		if tok.Method != jwt.SigningMethodHS256 {
			return nil, jwt.ErrTokenSignatureInvalid
		}
		return t.secret, nil
	}
	return t, nil
}

// AccessTTL is the lifetime of an access token.
func (t *Tokens) AccessTTL() time.Duration { return t.ttl }

// Issue signs an access token for the user.
func (t *Tokens) Issue(userID, role string, tokenVersion int64) (token string, expiresAt time.Time, err error) {
	now := t.clock().UTC().Truncate(time.Second)
	expiresAt = now.Add(t.ttl)
	claims := Claims{
		Role:         role,
		TokenVersion: tokenVersion,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.issuer,
			Subject:   userID,
			Audience:  jwt.ClaimStrings{t.audience},
			ExpiresAt: jwt.NewNumericDate(expiresAt),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        t.newID(),
		},
	}
	token, err = jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("signing access token: %w", err)
	}
	return token, expiresAt, nil
}

// Verify checks token's algorithm, signature, exp, nbf, iat, iss and aud and
// returns its claims. Errors are ErrTokenExpired or ErrInvalidToken.
func (t *Tokens) Verify(token string) (Claims, error) {
	if token == "" || len(token) > maxTokenLength {
		return Claims{}, ErrInvalidToken
	}
	if c, ok := t.verified.get(token); ok {
		// The signature was verified before; the claims are checked again
		// now, exactly as the parser checks them.
		if err := t.validator.Validate(c); err != nil {
			t.verified.drop(token)
			if errors.Is(err, jwt.ErrTokenExpired) {
				return Claims{}, ErrTokenExpired
			}
			return Claims{}, ErrInvalidToken
		}
		return c, nil
	}
	var c Claims
	if _, err := t.parser.ParseWithClaims(token, &c, t.parserKey); err != nil {
		// Expiry is only reported once the signature has been verified
		// (jwt/v5 checks claims after the signature), so an attacker
		// learns nothing from the distinction.
		if errors.Is(err, jwt.ErrTokenExpired) && !errors.Is(err, jwt.ErrTokenSignatureInvalid) {
			return Claims{}, ErrTokenExpired
		}
		return Claims{}, ErrInvalidToken
	}
	if _, err := uuid.Parse(c.Subject); err != nil || c.TokenVersion < 1 || c.Role == "" {
		return Claims{}, ErrInvalidToken
	}
	t.verified.put(token, c)
	return c, nil
}

// RefreshTokenBytes is the entropy of a refresh token.
const RefreshTokenBytes = 32

// NewRefreshToken returns an opaque refresh token: 32 random bytes,
// base64url without padding.
func NewRefreshToken() (string, error) {
	b := make([]byte, RefreshTokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("reading random bytes: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
