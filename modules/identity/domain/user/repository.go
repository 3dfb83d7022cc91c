package user

import (
	"context"
	"github.com/taskd/taskd/modules/kernel/errs"
	"time"
)

// Repository stores users and, in the same transaction, their events.
type Repository interface {
	// Add stores a new user; ErrEmailTaken when the e-mail is in use.
	Add(ctx context.Context, u *User) error
	// Update loads and locks the user by id, calls fn and saves the user and
	// its events when fn succeeds. When fn called Delete, the user is removed.
	Update(ctx context.Context, id string, fn func(ctx context.Context, u *User) error) error
	// ByEmail returns the user with the e-mail, or ErrNotFound.
	ByEmail(ctx context.Context, email Email) (*User, error)
	// ByID returns the user, or ErrNotFound.
	ByID(ctx context.Context, id string) (*User, error)
}

// RefreshToken is a stored refresh token: only its SHA-256 hash is kept.
type RefreshToken struct {
	Hash      string
	UserID    string
	FamilyID  string // all tokens rotated from one sign-in
	ExpiresAt time.Time
	CreatedAt time.Time
}

// ErrRefreshTokenInvalid is returned for an unknown, expired, revoked or reused token.
var ErrRefreshTokenInvalid = errs.Unauthorized("invalid_refresh_token", "the refresh token is invalid, expired or revoked")

// RefreshTokenStore keeps refresh tokens.
type RefreshTokenStore interface {
	Save(ctx context.Context, t RefreshToken) error
	// Rotate marks the token with oldHash used and stores next in its family,
	// atomically. A token used twice revokes its whole family (theft).
	Rotate(ctx context.Context, oldHash string, next RefreshToken, now time.Time) (userID string, err error)
	// Revoke revokes the family of the token with hash.
	Revoke(ctx context.Context, hash string) error
	// RevokeUser revokes every token of the user.
	RevokeUser(ctx context.Context, userID string) error
}
