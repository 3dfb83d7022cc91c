// Package user is the User aggregate of the identity module.
package user

import (
	"time"

	"github.com/taskd/taskd/modules/identity/contracts"
	"github.com/taskd/taskd/modules/kernel/errs"
	"github.com/taskd/taskd/modules/kernel/event"
)

var (
	ErrNotFound           = errs.NotFound("user_not_found", "user not found")
	ErrEmailTaken         = errs.Conflict("email_taken", "an account with this e-mail address already exists")
	ErrInvalidCredentials = errs.Unauthorized("invalid_credentials", "e-mail or password is incorrect")
	ErrWrongPassword      = errs.Unauthorized("wrong_password", "the password is incorrect")
)

// User is the aggregate root of identity.
type User struct {
	id           string
	email        Email
	name         string
	phone        Phone
	passwordHash string
	role         Role
	locale       Locale
	tokenVersion int64
	createdAt    time.Time
	updatedAt    time.Time
	lastSequence int64
	deleted      bool

	newEventID func() string
	event.Recorder
}

// NewUserParams are the sign-up fields, already parsed into value objects.
type NewUserParams struct {
	ID           string
	Email        Email
	Name         string
	Phone        Phone
	PasswordHash string
}

// NewUser registers a user and records UserRegistered.
func NewUser(p NewUserParams, now time.Time, newEventID func() string) (*User, error) {
	if p.ID == "" {
		return nil, errs.Invalid("invalid_user_id", "User_id", "user id is required")
	}
	if p.Email.IsZero() {
		return nil, ErrInvalidEmail
	}
	if p.PasswordHash == "" {
		return nil, errs.Invalid("password_required", "password", "password is required")
	}
	name, err := validName(p.Name)
	if err != nil {
		return nil, err
	}
	now = now.UTC()
	u := &User{
		id: p.ID, email: p.Email, name: name, phone: p.Phone, passwordHash: p.PasswordHash,
		role: RoleMember, locale: LocaleKorean, tokenVersion: 1, createdAt: now, updatedAt: now,
		newEventID: newEventID,
	}
	u.record(contracts.NameUserRegistered, p.ID, now, nil)
	return u, nil
}

// Snapshot is a user's stored state.
type Snapshot struct {
	ID, Email, Name, Phone, PasswordHash, Role, Locale string
	TokenVersion                                       int64
	CreatedAt, UpdatedAt                               time.Time
	LastSequence                                       int64
}

// UnmarshalUserFromDatabase rebuilds a user from storage.
func UnmarshalUserFromDatabase(s Snapshot, newEventID func() string) (*User, error) {
	email, err := EmailFromString(s.Email)
	if err != nil {
		return nil, err
	}
	phone, err := PhoneFromString(s.Phone)
	if err != nil {
		return nil, err
	}
	role, err := RoleFromString(s.Role)
	if err != nil {
		return nil, err
	}
	locale, err := LocaleFromString(s.Locale)
	if err != nil {
		return nil, err
	}
	return &User{
		id: s.ID, email: email, name: s.Name, phone: phone, passwordHash: s.PasswordHash, role: role,
		locale: locale, tokenVersion: s.TokenVersion, createdAt: s.CreatedAt.UTC(), updatedAt: s.UpdatedAt.UTC(),
		lastSequence: s.LastSequence, newEventID: newEventID,
	}, nil
}

func (u *User) Snapshot() Snapshot {
	return Snapshot{
		ID: u.id, Email: u.email.String(), Name: u.name, Phone: u.phone.String(), PasswordHash: u.passwordHash,
		Role: u.role.String(), Locale: u.locale.String(), TokenVersion: u.tokenVersion,
		CreatedAt: u.createdAt, UpdatedAt: u.updatedAt, LastSequence: u.lastSequence,
	}
}

func (u *User) ID() string          { return u.id }
func (u *User) Email() Email        { return u.email }
func (u *User) Name() string        { return u.name }
func (u *User) Role() Role          { return u.role }
func (u *User) TokenVersion() int64 { return u.tokenVersion }
func (u *User) IsDeleted() bool     { return u.deleted }

// CheckPassword fails with err unless password is the user's password.
func (u *User) CheckPassword(password string, err error) error {
	if !VerifyPassword(password, u.passwordHash) {
		return err
	}
	return nil
}

// ProfileEdit is a partial profile update.
type ProfileEdit struct {
	Name   *string
	Phone  *Phone
	Locale *Locale
}

// UpdateProfile applies e, recording UserUpdated with the changed fields.
func (u *User) UpdateProfile(e ProfileEdit, now time.Time) error {
	var changes []event.Change
	if e.Name != nil {
		name, err := validName(*e.Name)
		if err != nil {
			return err
		}
		if name != u.name {
			changes = append(changes, event.Change{Field: "name", Old: u.name, New: name})
			u.name = name
		}
	}
	if e.Phone != nil && *e.Phone != u.phone {
		changes = append(changes, event.Change{Field: "phone", Old: nilIfEmpty(u.phone.String()), New: nilIfEmpty(e.Phone.String())})
		u.phone = *e.Phone
	}
	if e.Locale != nil && *e.Locale != u.locale && *e.Locale != (Locale{}) {
		changes = append(changes, event.Change{Field: "locale", Old: u.locale.String(), New: e.Locale.String()})
		u.locale = *e.Locale
	}
	if len(changes) == 0 {
		return nil
	}
	u.touch(now)
	u.record(contracts.NameUserUpdated, u.id, now, changes)
	return nil
}

// ChangePassword replaces the password after checking the old one. Every
// token issued before stops working (the token version rises).
func (u *User) ChangePassword(oldPassword, newPassword string, hash func(string) (string, error), now time.Time) error {
	if err := u.CheckPassword(oldPassword, ErrWrongPassword); err != nil {
		return err
	}
	if err := CheckPasswordPolicy(newPassword, u.email); err != nil {
		return err
	}
	h, err := hash(newPassword)
	if err != nil {
		return err
	}
	u.passwordHash = h
	u.tokenVersion++
	u.touch(now)
	u.record(contracts.NameUserUpdated, u.id, now, []event.Change{{Field: "password", Old: "***", New: "***"}})
	return nil
}

// ChangeRole sets the role (admin command line or an admin).
func (u *User) ChangeRole(r Role, actorID string, now time.Time) error {
	if r.IsZero() {
		return ErrInvalidRole
	}
	if r == u.role {
		return nil
	}
	old := u.role
	u.role = r
	u.tokenVersion++ // tokens carry the role: re-issue them
	u.touch(now)
	u.record(contracts.NameUserUpdated, actorID, now, []event.Change{{Field: "role", Old: old.String(), New: r.String()}})
	return nil
}

// Delete checks the password and records UserDeleted.
func (u *User) Delete(password string, now time.Time) error {
	if err := u.CheckPassword(password, ErrWrongPassword); err != nil {
		return err
	}
	u.deleted = true
	u.touch(now)
	u.record(contracts.NameUserDeleted, u.id, now, nil)
	return nil
}

// DTO is the public view of the user.
func (u *User) DTO() contracts.User {
	return contracts.User{
		ID: u.id, Email: u.email.String(), Name: u.name, Phone: u.phone.String(),
		Role: u.role.String(), Locale: u.locale.String(), CreatedAt: u.createdAt,
	}
}

func (u *User) touch(now time.Time) {
	now = now.UTC()
	if now.After(u.updatedAt) {
		u.updatedAt = now
	}
}

func (u *User) record(name, actorID string, now time.Time, changes []event.Change) {
	u.lastSequence++
	id := ""
	if u.newEventID != nil {
		id = u.newEventID()
	}
	base := contracts.UserEvent{
		Meta: event.Meta{
			ID: id, Type: name, SchemaVersion: contracts.SchemaVersion, OccurredAt: now.UTC(), ActorID: actorID,
			AggregateType: contracts.AggregateType, AggregateID: u.id, Sequence: u.lastSequence,
		},
		Changes: changes,
	}
	var e event.Event
	switch name {
	case contracts.NameUserRegistered:
		e = contracts.UserRegistered{UserEvent: base}
	case contracts.NameUserUpdated:
		e = contracts.UserUpdated{UserEvent: base}
	default:
		e = contracts.UserDeleted{UserEvent: base}
	}
	u.Recorder.Record(e)
}

// PendingEvents returns the recorded events with the user's current public
// view filled in, and forgets them.
func (u *User) PendingEvents() []event.Event {
	dto := u.DTO()
	evs := u.PopEvents()
	for i, e := range evs {
		switch v := e.(type) {
		case contracts.UserRegistered:
			v.User = dto
			evs[i] = v
		case contracts.UserUpdated:
			v.User = dto
			evs[i] = v
		case contracts.UserDeleted:
			v.User = dto
			evs[i] = v
		}
	}
	return evs
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
