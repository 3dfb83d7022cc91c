package httpport

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/taskd/taskd/modules/kernel/errs"
	"github.com/taskd/taskd/ports/http/httpio"
)

// IdempotencyStore remembers the answers to POSTs sent with an
// Idempotency-Key, per user and key. The storage adapters implement it.
type IdempotencyStore interface {
	// Lookup returns the answer saved for (userID, key) at or after
	// notBefore; found is false when there is none.
	Lookup(ctx context.Context, userID, key string, notBefore time.Time) (requestHash string, status int, body []byte, found bool, err error)
	// Save remembers the answer to the request with requestHash.
	Save(ctx context.Context, userID, key, requestHash string, status int, body []byte, at time.Time) error
}

// Headers of idempotent requests.
const (
	IdempotencyKeyHeader      = "Idempotency-Key"
	IdempotentReplayedHeader  = "Idempotent-Replayed"
	maxIdempotencyKeyLength   = 255
	idempotentReplayedHeaderV = "true"
)

var (
	ErrInvalidIdempotencyKey = errs.BadRequest("invalid_idempotency_key", IdempotencyKeyHeader,
		"Idempotency-Key must be 1 to 255 visible ASCII characters")
	ErrIdempotencyKeyReused = errs.Invalid("idempotency_key_reused", IdempotencyKeyHeader,
		"this Idempotency-Key was used with another request; use a new key for a new request")
)

// taskIDNamespace names the UUIDv5 ids of tasks created with an
// Idempotency-Key: the same user, key and request give the same task id, so
// two concurrent duplicates cannot both insert.
var taskIDNamespace = uuid.MustParse("0b9a8e34-5f7d-4c1e-9a53-6d2f1c8b7e40")

// idempotencyKey returns the request's key; ok is false without one.
func idempotencyKey(r *http.Request) (key string, ok bool, err error) {
	vals := r.Header.Values(IdempotencyKeyHeader)
	if len(vals) == 0 {
		return "", false, nil
	}
	if len(vals) > 1 {
		return "", false, ErrInvalidIdempotencyKey
	}
	key = vals[0]
	if key == "" || len(key) > maxIdempotencyKeyLength {
		return "", false, ErrInvalidIdempotencyKey
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return "", false, ErrInvalidIdempotencyKey
		}
	}
	return key, true, nil
}

// requestHash identifies a request: route and exact body bytes.
func requestHash(route string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(route))
	h.Write([]byte{'\n'})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// idempotentID is the id of the resource a keyed request creates.
func idempotentID(userID, key, hash string) string {
	return uuid.NewSHA1(taskIDNamespace, []byte(userID+"\x00"+key+"\x00"+hash)).String()
}

// replay answers from the store when (user, key) was seen within the
// window: the saved answer for the same request, 422 for another request.
// done reports whether an answer was written. location, when not empty, is
// the Location of the resource the first request created.
func replay(w http.ResponseWriter, r *http.Request, store IdempotencyStore, userID, key, hash, location string, now time.Time) (done bool) {
	savedHash, status, body, found, err := store.Lookup(r.Context(), userID, key, now.Add(-IdempotencyWindow))
	if err != nil {
		httpio.Error(w, r, err)
		return true
	}
	if !found {
		return false
	}
	if savedHash != hash {
		httpio.Error(w, r, ErrIdempotencyKeyReused)
		return true
	}
	writeReplay(w, status, body, location)
	return true
}

func writeReplay(w http.ResponseWriter, status int, body []byte, location string) {
	w.Header().Set(IdempotentReplayedHeader, idempotentReplayedHeaderV)
	if location != "" && status == http.StatusCreated {
		w.Header().Set("Location", location)
	}
	httpio.RawJSON(w, status, body)
}
