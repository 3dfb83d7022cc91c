// Package sys names the two things every use case takes from its
// surroundings instead of reaching for them itself: the time and new ids.
package sys

import (
	"time"

	"github.com/google/uuid"
)

// Clock returns the current time; rules take it as a value, never time.Now.
type Clock func() time.Time

// IDGenerator returns a new unique id.
type IDGenerator func() string

// SystemClock is the wall clock, in UTC, to the microsecond (what storage keeps).
func SystemClock() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// NewUUIDv7 returns a time-ordered UUID (RFC 9562 version 7).
func NewUUIDv7() string {
	return uuid.Must(uuid.NewV7()).String()
}
