package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/taskd/taskd/modules/kernel/errs"
)

// MaxIdempotencyKeyLength is the longest Idempotency-Key stored (characters).
const MaxIdempotencyKeyLength = 255

// ErrIdempotencyKeyTooLong is returned by Save for a key over MaxIdempotencyKeyLength.
var ErrIdempotencyKeyTooLong = errs.Invalid("idempotency_key_too_long", "Idempotency-Key", "the Idempotency-Key is at most 255 characters")

// IdempotencyStore keeps the responses of requests made with an
// Idempotency-Key, per user, so a retried request gets the first answer.
// Its methods use primitive types: the HTTP port declares the interface.
type IdempotencyStore struct {
	db *DB
}

func NewIdempotencyStore(db *DB) *IdempotencyStore { return &IdempotencyStore{db: db} }

// Lookup returns the response saved for (userID, key) at or after notBefore.
func (s *IdempotencyStore) Lookup(ctx context.Context, userID, key string, notBefore time.Time) (requestHash string, status int, body []byte, found bool, err error) {
	err = s.db.Conn(ctx).QueryRowContext(ctx, `SELECT request_hash, status, body FROM idempotency_keys
		WHERE user_id = ? AND idem_key = ? AND created_at >= ?`, userID, key, micros(notBefore)).Scan(&requestHash, &status, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, nil, false, nil
	}
	if err != nil {
		return "", 0, nil, false, fmt.Errorf("looking up idempotency key: %w", err)
	}
	if body == nil {
		body = []byte{}
	}
	return requestHash, status, body, true, nil
}

// Save records a response. The first writer wins: saving a key already
// saved is not an error and changes nothing. (An expired row keeps its key
// until Purge removes it.)
func (s *IdempotencyStore) Save(ctx context.Context, userID, key, requestHash string, status int, body []byte, at time.Time) error {
	if utf8.RuneCountInString(key) > MaxIdempotencyKeyLength {
		return ErrIdempotencyKeyTooLong
	}
	if body == nil {
		body = []byte{}
	}
	_, err := s.db.Conn(ctx).ExecContext(ctx, `INSERT INTO idempotency_keys (user_id, idem_key, request_hash, status, body, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, userID, key, requestHash, status, body, micros(at))
	if err != nil && !s.db.Dialect.IsDuplicate(err) {
		return fmt.Errorf("saving idempotency key: %w", err)
	}
	return nil
}

// Purge deletes the responses saved before before and returns how many.
func (s *IdempotencyStore) Purge(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.Conn(ctx).ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at < ?`, micros(before))
	if err != nil {
		return 0, fmt.Errorf("purging idempotency keys: %w", err)
	}
	return res.RowsAffected()
}
