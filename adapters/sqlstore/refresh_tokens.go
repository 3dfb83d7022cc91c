package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/taskd/taskd/modules/identity/domain/user"
)

// RefreshTokenStore keeps refresh tokens (their hashes only).
type RefreshTokenStore struct {
	db    *DB
	clock func() time.Time
}

var _ user.RefreshTokenStore = (*RefreshTokenStore)(nil)

// NewRefreshTokenStore returns the store. Revocations by Revoke and
// RevokeUser are stamped with the wall clock (Rotate uses the caller's now).
func NewRefreshTokenStore(db *DB) *RefreshTokenStore {
	return &RefreshTokenStore{db: db, clock: time.Now}
}

// Save stores a new token.
func (s *RefreshTokenStore) Save(ctx context.Context, t user.RefreshToken) error {
	_, err := s.db.Conn(ctx).ExecContext(ctx, `INSERT INTO refresh_tokens (hash, user_id, family_id, expires_at, created_at)
		VALUES (?, ?, ?, ?, ?)`, t.Hash, t.UserID, t.FamilyID, micros(t.ExpiresAt), micros(t.CreatedAt))
	if err != nil {
		return fmt.Errorf("saving refresh token: %w", err)
	}
	return nil
}

// Rotate spends the token oldHash and stores next in its family for its
// user, atomically. An unknown or expired token is user.ErrRefreshTokenInvalid.
// A token already spent or revoked is a replay (a stolen token, or a lost
// race between two clients): the whole family is revoked, that revocation
// is committed, and the answer is user.ErrRefreshTokenInvalid too.
//
// Call it outside a transaction: inside one, the revocation commits only if
// the caller's transaction does.
func (s *RefreshTokenStore) Rotate(ctx context.Context, oldHash string, next user.RefreshToken, now time.Time) (string, error) {
	var (
		userID string
		replay bool
	)
	err := s.db.WithinTransaction(ctx, func(ctx context.Context) error {
		userID, replay = "", false
		tx, err := tx(ctx)
		if err != nil {
			return err
		}
		var (
			uid, family       string
			expires           int64
			usedAt, revokedAt sql.NullInt64
		)
		err = tx.QueryRowContext(ctx, `SELECT user_id, family_id, expires_at, used_at, revoked_at FROM refresh_tokens
			WHERE hash = ?`+s.db.Dialect.ForUpdate, oldHash).Scan(&uid, &family, &expires, &usedAt, &revokedAt)
		if errors.Is(err, sql.ErrNoRows) {
			return user.ErrRefreshTokenInvalid
		}
		if err != nil {
			return fmt.Errorf("loading refresh token: %w", err)
		}
		if usedAt.Valid || revokedAt.Valid {
			replay = true
			// Returning nil commits the revocation; the error is given after.
			return s.revokeFamily(ctx, tx, family, now)
		}
		if expires <= micros(now) {
			return user.ErrRefreshTokenInvalid
		}
		if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET used_at = ? WHERE hash = ?`, micros(now), oldHash); err != nil {
			return fmt.Errorf("spending refresh token: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO refresh_tokens (hash, user_id, family_id, expires_at, created_at)
			VALUES (?, ?, ?, ?, ?)`, next.Hash, uid, family, micros(next.ExpiresAt), micros(next.CreatedAt)); err != nil {
			return fmt.Errorf("saving refresh token: %w", err)
		}
		userID = uid
		return nil
	})
	if err != nil {
		return "", err
	}
	if replay {
		return "", user.ErrRefreshTokenInvalid
	}
	return userID, nil
}

// Revoke revokes the family of the token with hash; an unknown hash is not an error.
func (s *RefreshTokenStore) Revoke(ctx context.Context, hash string) error {
	return s.db.WithinTransaction(ctx, func(ctx context.Context) error {
		tx, err := tx(ctx)
		if err != nil {
			return err
		}
		var family string
		err = tx.QueryRowContext(ctx, `SELECT family_id FROM refresh_tokens WHERE hash = ?`+s.db.Dialect.ForUpdate, hash).Scan(&family)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("loading refresh token: %w", err)
		}
		return s.revokeFamily(ctx, tx, family, s.clock())
	})
}

// RevokeUser revokes every token of the user.
func (s *RefreshTokenStore) RevokeUser(ctx context.Context, userID string) error {
	_, err := s.db.Conn(ctx).ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`,
		micros(s.clock()), userID)
	if err != nil {
		return fmt.Errorf("revoking the tokens of user %s: %w", userID, err)
	}
	return nil
}

func (s *RefreshTokenStore) revokeFamily(ctx context.Context, tx *sql.Tx, family string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL`,
		micros(now), family); err != nil {
		return fmt.Errorf("revoking refresh token family: %w", err)
	}
	return nil
}
