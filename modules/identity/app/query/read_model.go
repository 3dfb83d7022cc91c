// Package query holds the identity module's queries.
package query

import (
	"context"
	"time"

	"github.com/taskd/taskd/modules/identity/contracts"
)

// Principal is what authorising a request needs about a user.
type Principal struct {
	UserID       string
	Email        string
	Role         string
	TokenVersion int64
}

// UsersReadModel serves the identity queries. Lookups of a missing user
// return user.ErrNotFound ("user_not_found").
type UsersReadModel interface {
	UserByID(ctx context.Context, id string) (contracts.User, error)
	UserByEmail(ctx context.Context, email string) (contracts.User, error)
	// UsersByIDs returns the users that exist among ids, in any order.
	UsersByIDs(ctx context.Context, ids []string) ([]contracts.User, error)
	PrincipalByID(ctx context.Context, id string) (Principal, error)
	// PrincipalByRefreshToken returns the owner of a live (not revoked, not
	// expired at now) refresh token with the given hash.
	PrincipalByRefreshToken(ctx context.Context, hash string, now time.Time) (Principal, error)
	// ListUsers returns users whose name or e-mail contains q, by name.
	ListUsers(ctx context.Context, q string, limit int) ([]contracts.User, error)
}
