package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	identityquery "github.com/taskd/taskd/modules/identity/app/query"
	"github.com/taskd/taskd/modules/kernel/actor"
	"github.com/taskd/taskd/modules/kernel/errs"
	"github.com/taskd/taskd/ports/http/httpio"
)

// MaxPrincipalCacheTTL is the longest a user's existence and token version
// may be cached: a deleted user's token must stop working at once.
const MaxPrincipalCacheTTL = 2 * time.Second

const maxCacheEntries = 10000

// Authenticator is the middleware of the routes that need a signed-in user.
type Authenticator struct {
	tokens     *Tokens
	principals identityquery.PrincipalByIDHandler
	clock      func() time.Time
	ttl        time.Duration

	mu    sync.Mutex
	cache map[string]cachedPrincipal
}

type cachedPrincipal struct {
	p       identityquery.Principal
	expires time.Time
}

// NewAuthenticator builds the middleware. Each request's token is verified,
// then the identity query PrincipalByID checks the user still exists and the
// token's version is current. cacheTTL (≤ 0 disables, capped at 2 s) caches
// that answer per user.
func NewAuthenticator(tokens *Tokens, principals identityquery.PrincipalByIDHandler, cacheTTL time.Duration, clock func() time.Time) *Authenticator {
	if tokens == nil || principals == nil {
		panic("auth: NewAuthenticator needs tokens and the PrincipalByID query")
	}
	if clock == nil {
		clock = time.Now
	}
	if cacheTTL > MaxPrincipalCacheTTL {
		cacheTTL = MaxPrincipalCacheTTL
	}
	return &Authenticator{tokens: tokens, principals: principals, clock: clock, ttl: cacheTTL, cache: map[string]cachedPrincipal{}}
}

// Require lets a request through only with a valid Bearer token; the
// handler finds the caller with actor.FromContext.
func (a *Authenticator) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		act, err := a.Authenticate(r.Context(), r.Header.Get("Authorization"))
		if err != nil {
			if e, ok := errs.As(err); ok && e.Kind == errs.KindUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
				if e.Code == ErrMissingToken.Code {
					w.Header().Set("WWW-Authenticate", `Bearer`)
				}
			}
			httpio.Error(w, r, err)
			return
		}
		httpio.Info(r.Context()).SetUserID(act.UserID)
		ctx := actor.WithActor(r.Context(), act)
		ctx = httpio.WithLogger(ctx, httpio.Logger(ctx).With(slog.String("user_id", act.UserID)))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// Authenticate turns an Authorization header into the actor.
func (a *Authenticator) Authenticate(ctx context.Context, header string) (actor.Actor, error) {
	token, err := bearer(header)
	if err != nil {
		return actor.Actor{}, err
	}
	c, err := a.tokens.Verify(token)
	if err != nil {
		return actor.Actor{}, err
	}
	p, err := a.principal(ctx, c.Subject)
	if err == nil && c.TokenVersion > p.TokenVersion {
		// A token newer than the cached answer: the version rose elsewhere
		// (another instance, `taskd users promote`) and the user signed in
		// again. Ask again rather than refuse a fresh token for the cache's
		// lifetime.
		a.Forget(c.Subject)
		p, err = a.principal(ctx, c.Subject)
	}
	if err != nil {
		if e, ok := errs.As(err); ok && e.Kind == errs.KindNotFound {
			return actor.Actor{}, ErrTokenRevoked
		}
		return actor.Actor{}, err
	}
	if p.TokenVersion != c.TokenVersion {
		return actor.Actor{}, ErrTokenRevoked
	}
	return actor.Actor{UserID: p.UserID, Role: p.Role}, nil
}

// Forget drops the cached principal of a user whose token version or
// existence this process just changed.
func (a *Authenticator) Forget(userID string) {
	a.mu.Lock()
	delete(a.cache, userID)
	a.mu.Unlock()
}

func (a *Authenticator) principal(ctx context.Context, userID string) (identityquery.Principal, error) {
	now := a.clock()
	if a.ttl > 0 {
		a.mu.Lock()
		c, ok := a.cache[userID]
		a.mu.Unlock()
		if ok && now.Before(c.expires) {
			return c.p, nil
		}
	}
	p, err := a.principals.Handle(ctx, identityquery.PrincipalByID{UserID: userID})
	if err != nil {
		return identityquery.Principal{}, err
	}
	if p.UserID != userID {
		// A read model must answer for the user asked about.
		return identityquery.Principal{}, errors.New("auth: PrincipalByID answered for another user")
	}
	if a.ttl > 0 {
		a.mu.Lock()
		if len(a.cache) >= maxCacheEntries {
			for k, v := range a.cache {
				if !now.Before(v.expires) {
					delete(a.cache, k)
				}
			}
			if len(a.cache) >= maxCacheEntries {
				clear(a.cache)
			}
		}
		a.cache[userID] = cachedPrincipal{p: p, expires: now.Add(a.ttl)}
		a.mu.Unlock()
	}
	return p, nil
}

func bearer(header string) (string, error) {
	header = strings.TrimSpace(header)
	if header == "" {
		return "", ErrMissingToken
	}
	if strings.EqualFold(header, "Bearer") {
		return "", ErrMissingToken
	}
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", ErrInvalidToken.WithMessage("the Authorization header must be: Bearer <token>")
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return "", ErrMissingToken
	}
	return token, nil
}
