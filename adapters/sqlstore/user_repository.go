package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/taskd/taskd/modules/identity/domain/user"
	"github.com/taskd/taskd/modules/kernel/errs"
)

// ErrUserExists is returned by Add for a user id already stored.
var ErrUserExists = errs.Conflict("user_exists", "a user with this id already exists")

// UserRepository stores users and, in the same transaction, their events.
type UserRepository struct {
	db         *DB
	newEventID func() string
}

var _ user.Repository = (*UserRepository)(nil)

func NewUserRepository(db *DB, newEventID func() string) *UserRepository {
	return &UserRepository{db: db, newEventID: newEventID}
}

// userRow is the users table's row.
type userRow struct {
	ID, Email, Name      string
	Phone                sql.NullString
	PasswordHash         string
	Role, Locale         string
	TokenVersion         int64
	CreatedAt, UpdatedAt int64
	LastSequence         int64
}

const userColumns = `id, email, name, phone, password_hash, role, locale, token_version, created_at, updated_at, last_sequence`

func (r *userRow) scanArgs() []any {
	return []any{&r.ID, &r.Email, &r.Name, &r.Phone, &r.PasswordHash, &r.Role, &r.Locale, &r.TokenVersion,
		&r.CreatedAt, &r.UpdatedAt, &r.LastSequence}
}

func userRowFrom(s user.Snapshot) userRow {
	return userRow{
		ID: s.ID, Email: s.Email, Name: s.Name, Phone: nullString(s.Phone), PasswordHash: s.PasswordHash,
		Role: s.Role, Locale: s.Locale, TokenVersion: s.TokenVersion,
		CreatedAt: micros(s.CreatedAt), UpdatedAt: micros(s.UpdatedAt), LastSequence: s.LastSequence,
	}
}

func (r userRow) snapshot() user.Snapshot {
	return user.Snapshot{
		ID: r.ID, Email: r.Email, Name: r.Name, Phone: r.Phone.String, PasswordHash: r.PasswordHash,
		Role: r.Role, Locale: r.Locale, TokenVersion: r.TokenVersion,
		CreatedAt: fromMicros(r.CreatedAt), UpdatedAt: fromMicros(r.UpdatedAt), LastSequence: r.LastSequence,
	}
}

// Add stores a new user and its events; user.ErrEmailTaken when the e-mail
// is in use, decided by the unique index (so also between concurrent sign-ups).
func (r *UserRepository) Add(ctx context.Context, u *user.User) error {
	row := userRowFrom(u.Snapshot())
	evs := u.PendingEvents()
	return r.db.WithinTransaction(ctx, func(ctx context.Context) error {
		tx, err := tx(ctx)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO users (`+userColumns+`) VALUES (`+placeholders(11)+`)`,
			row.ID, row.Email, row.Name, row.Phone, row.PasswordHash, row.Role, row.Locale, row.TokenVersion,
			row.CreatedAt, row.UpdatedAt, row.LastSequence)
		if err != nil {
			if r.db.Dialect.IsDuplicate(err) {
				// The message names the index: users_email (MySQL, MariaDB)
				// or the column users.email (SQLite).
				if msg := err.Error(); strings.Contains(msg, "users_email") || strings.Contains(msg, "users.email") {
					return user.ErrEmailTaken
				}
				return ErrUserExists
			}
			return fmt.Errorf("inserting user %s: %w", row.ID, err)
		}
		return r.db.Outbox.Append(ctx, tx, evs)
	})
}

// Update loads and locks the user, applies fn and saves the user and its
// events; a user fn deleted is removed.
func (r *UserRepository) Update(ctx context.Context, id string, fn func(ctx context.Context, u *user.User) error) error {
	return r.db.WithinTransaction(ctx, func(ctx context.Context) error {
		tx, err := tx(ctx)
		if err != nil {
			return err
		}
		var row userRow
		err = tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`+r.db.Dialect.ForUpdate, id).Scan(row.scanArgs()...)
		if errors.Is(err, sql.ErrNoRows) {
			return user.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("loading user %s: %w", id, err)
		}
		u, err := user.UnmarshalUserFromDatabase(row.snapshot(), r.newEventID)
		if err != nil {
			return fmt.Errorf("loading user %s: %w", id, err)
		}
		if err := fn(ctx, u); err != nil {
			return err
		}
		if u.Len() == 0 {
			return nil
		}
		deleted := u.IsDeleted()
		evs := u.PendingEvents()
		var res sql.Result
		if deleted {
			res, err = tx.ExecContext(ctx, `DELETE FROM users WHERE id = ? AND last_sequence = ?`, id, row.LastSequence)
		} else {
			n := userRowFrom(u.Snapshot())
			res, err = tx.ExecContext(ctx, `UPDATE users SET email = ?, name = ?, phone = ?, password_hash = ?, role = ?,
				locale = ?, token_version = ?, updated_at = ?, last_sequence = ? WHERE id = ? AND last_sequence = ?`,
				n.Email, n.Name, n.Phone, n.PasswordHash, n.Role, n.Locale, n.TokenVersion, n.UpdatedAt, n.LastSequence,
				id, row.LastSequence)
		}
		if err != nil {
			return fmt.Errorf("saving user %s: %w", id, err)
		}
		if err := oneRow(res, id); err != nil {
			return err
		}
		return r.db.Outbox.Append(ctx, tx, evs)
	})
}

// ByEmail returns the user with the e-mail, or user.ErrNotFound.
func (r *UserRepository) ByEmail(ctx context.Context, email user.Email) (*user.User, error) {
	return r.one(ctx, `email = ?`, email.String())
}

// ByID returns the user, or user.ErrNotFound.
func (r *UserRepository) ByID(ctx context.Context, id string) (*user.User, error) {
	return r.one(ctx, `id = ?`, id)
}

func (r *UserRepository) one(ctx context.Context, cond string, arg any) (*user.User, error) {
	var row userRow
	err := r.db.Conn(ctx).QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE `+cond, arg).Scan(row.scanArgs()...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, user.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("loading user: %w", err)
	}
	return user.UnmarshalUserFromDatabase(row.snapshot(), r.newEventID)
}
