package memory

import (
	"context"
	"fmt"
	"time"

	"github.com/taskd/taskd/modules/identity/domain/user"
)

type tokenRow struct {
	userID, familyID     string
	expiresAt, createdAt int64
	usedAt, revokedAt    *int64
}

// RefreshTokenStore is the in-memory user.RefreshTokenStore.
type RefreshTokenStore struct {
	s     *Store
	clock func() time.Time
}

var _ user.RefreshTokenStore = (*RefreshTokenStore)(nil)

// NewRefreshTokenStore returns the store (revocations stamped with the wall clock).
func NewRefreshTokenStore(s *Store) *RefreshTokenStore {
	return &RefreshTokenStore{s: s, clock: time.Now}
}

func (r *RefreshTokenStore) Save(ctx context.Context, t user.RefreshToken) error {
	return r.s.WithinTransaction(ctx, func(ctx context.Context) error {
		if _, ok := r.s.d.tokens[t.Hash]; ok {
			return fmt.Errorf("saving refresh token: duplicate hash")
		}
		r.s.d.tokens[t.Hash] = tokenRow{userID: t.UserID, familyID: t.FamilyID, expiresAt: t.ExpiresAt.UnixMicro(), createdAt: t.CreatedAt.UnixMicro()}
		return nil
	})
}

func (r *RefreshTokenStore) Rotate(ctx context.Context, oldHash string, next user.RefreshToken, now time.Time) (string, error) {
	var (
		userID string
		replay bool
	)
	err := r.s.WithinTransaction(ctx, func(ctx context.Context) error {
		userID, replay = "", false
		d := r.s.d
		old, ok := d.tokens[oldHash]
		if !ok {
			return user.ErrRefreshTokenInvalid
		}
		if old.usedAt != nil || old.revokedAt != nil {
			replay = true
			d.revokeFamily(old.familyID, now)
			return nil // commit the revocation
		}
		if old.expiresAt <= now.UnixMicro() {
			return user.ErrRefreshTokenInvalid
		}
		if _, dup := d.tokens[next.Hash]; dup {
			return fmt.Errorf("saving refresh token: duplicate hash")
		}
		n := now.UnixMicro()
		old.usedAt = &n
		d.tokens[oldHash] = old
		d.tokens[next.Hash] = tokenRow{userID: old.userID, familyID: old.familyID, expiresAt: next.ExpiresAt.UnixMicro(), createdAt: next.CreatedAt.UnixMicro()}
		userID = old.userID
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

func (d *data) revokeFamily(family string, now time.Time) {
	n := now.UnixMicro()
	for h, t := range d.tokens {
		if t.familyID == family && t.revokedAt == nil {
			t.revokedAt = &n
			d.tokens[h] = t
		}
	}
}

func (r *RefreshTokenStore) Revoke(ctx context.Context, hash string) error {
	return r.s.WithinTransaction(ctx, func(ctx context.Context) error {
		if t, ok := r.s.d.tokens[hash]; ok {
			r.s.d.revokeFamily(t.familyID, r.clock())
		}
		return nil
	})
}

func (r *RefreshTokenStore) RevokeUser(ctx context.Context, userID string) error {
	return r.s.WithinTransaction(ctx, func(ctx context.Context) error {
		n := r.clock().UnixMicro()
		for h, t := range r.s.d.tokens {
			if t.userID == userID && t.revokedAt == nil {
				t.revokedAt = &n
				r.s.d.tokens[h] = t
			}
		}
		return nil
	})
}
