package memory

import (
	"bytes"
	"context"
	"time"
	"unicode/utf8"

	"github.com/taskd/taskd/modules/kernel/errs"
)

// ErrIdempotencyKeyTooLong is returned by Save for a key over 255 characters (as sqlstore's).
var ErrIdempotencyKeyTooLong = errs.Invalid("idempotency_key_too_long", "Idempotency-Key", "the Idempotency-Key is at most 255 characters")

type idemKey struct{ userID, key string }

type idemRow struct {
	requestHash string
	status      int
	body        []byte
	createdAt   int64
}

// IdempotencyStore is the in-memory twin of sqlstore.IdempotencyStore.
type IdempotencyStore struct {
	s *Store
}

func NewIdempotencyStore(s *Store) *IdempotencyStore { return &IdempotencyStore{s: s} }

func (m *IdempotencyStore) Lookup(ctx context.Context, userID, key string, notBefore time.Time) (requestHash string, status int, body []byte, found bool, err error) {
	m.s.read(ctx, func(d *data) {
		r, ok := d.idem[idemKey{userID, key}]
		if !ok || r.createdAt < notBefore.UnixMicro() {
			return
		}
		requestHash, status, body, found = r.requestHash, r.status, bytes.Clone(r.body), true
		if body == nil {
			body = []byte{}
		}
	})
	return requestHash, status, body, found, nil
}

func (m *IdempotencyStore) Save(ctx context.Context, userID, key, requestHash string, status int, body []byte, at time.Time) error {
	if utf8.RuneCountInString(key) > 255 {
		return ErrIdempotencyKeyTooLong
	}
	return m.s.WithinTransaction(ctx, func(ctx context.Context) error {
		k := idemKey{userID, key}
		if _, ok := m.s.d.idem[k]; ok {
			return nil // first writer wins
		}
		m.s.d.idem[k] = idemRow{requestHash: requestHash, status: status, body: bytes.Clone(body), createdAt: at.UnixMicro()}
		return nil
	})
}

func (m *IdempotencyStore) Purge(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := m.s.WithinTransaction(ctx, func(ctx context.Context) error {
		for k, r := range m.s.d.idem {
			if r.createdAt < before.UnixMicro() {
				delete(m.s.d.idem, k)
				n++
			}
		}
		return nil
	})
	return n, err
}
