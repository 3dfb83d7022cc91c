// Package query holds the notifications module's queries: a user's inbox
// and unread count, their preferences, and the admins' view of deliveries.
package query

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/taskd/taskd/modules/kernel/errs"
)

// Cursor is a position in a list ordered newest first by (time, id).
type Cursor struct {
	At time.Time
	ID string
}

// ErrInvalidCursor is returned for a cursor no list made.
var ErrInvalidCursor = errs.BadRequest("invalid_cursor", "cursor", "cursor is not valid for this list")

// Encode makes the opaque text a client sends back.
func (c Cursor) Encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.At.UnixMicro(), 10) + "|" + c.ID))
}

// DecodeCursor reads a cursor; "" is the start (nil).
func DecodeCursor(s string) (*Cursor, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, ErrInvalidCursor
	}
	at, id, ok := strings.Cut(string(b), "|")
	micros, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil || id == "" || len(id) > 64 {
		return nil, ErrInvalidCursor
	}
	return &Cursor{At: time.UnixMicro(micros).UTC(), ID: id}, nil
}

// Page sizes.
const (
	DefaultLimit = 30
	MaxLimit     = 100
)

var ErrInvalidLimit = errs.Invalid("invalid_limit", "limit", "limit must be between 1 and 100")

func limitOf(l int) (int, error) {
	switch {
	case l == 0:
		return DefaultLimit, nil
	case l < 1 || l > MaxLimit:
		return 0, ErrInvalidLimit
	}
	return l, nil
}
