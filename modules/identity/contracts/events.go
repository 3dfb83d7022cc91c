// Package contracts is what the identity module publishes: its events and
// the user DTO other modules may read.
package contracts

import (
	"time"

	"github.com/taskd/taskd/modules/kernel/event"
)

const (
	AggregateType = "user"
	SchemaVersion = 1

	NameUserRegistered = "UserRegistered"
	NameUserUpdated    = "UserUpdated"
	NameUserDeleted    = "UserDeleted"
)

// AllEventNames lists every identity event name.
var AllEventNames = []string{NameUserRegistered, NameUserUpdated, NameUserDeleted}

// User is the public view of a user: never a password hash.
type User struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Phone     string    `json:"phone,omitempty"`
	Role      string    `json:"role"`
	Locale    string    `json:"locale"`
	CreatedAt time.Time `json:"created_at"`
}

// UserEvent is the shape shared by identity events.
type UserEvent struct {
	event.Meta
	User    User           `json:"user"`
	Changes []event.Change `json:"changes,omitempty"`
}

type UserRegistered struct{ UserEvent }
type UserUpdated struct{ UserEvent }
type UserDeleted struct{ UserEvent }

func (UserRegistered) Name() string { return NameUserRegistered }
func (UserUpdated) Name() string    { return NameUserUpdated }
func (UserDeleted) Name() string    { return NameUserDeleted }
