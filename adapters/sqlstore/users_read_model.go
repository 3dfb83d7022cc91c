package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/taskd/taskd/adapters/internal/tasklist"
	"github.com/taskd/taskd/modules/identity/app/query"
	"github.com/taskd/taskd/modules/identity/contracts"
	"github.com/taskd/taskd/modules/identity/domain/user"
)

// UsersReadModel serves the identity queries from the users table.
type UsersReadModel struct {
	db *DB
}

var _ query.UsersReadModel = (*UsersReadModel)(nil)

func NewUsersReadModel(db *DB) *UsersReadModel { return &UsersReadModel{db: db} }

const userDTOColumns = `id, email, name, phone, role, locale, created_at`

func scanUserDTO(sc interface{ Scan(...any) error }) (contracts.User, error) {
	var (
		u       contracts.User
		phone   sql.NullString
		created int64
	)
	if err := sc.Scan(&u.ID, &u.Email, &u.Name, &phone, &u.Role, &u.Locale, &created); err != nil {
		return contracts.User{}, err
	}
	u.Phone, u.CreatedAt = phone.String, fromMicros(created)
	return u, nil
}

func (m *UsersReadModel) UserByID(ctx context.Context, id string) (contracts.User, error) {
	return m.one(ctx, `id = ?`, id)
}

func (m *UsersReadModel) UserByEmail(ctx context.Context, email string) (contracts.User, error) {
	return m.one(ctx, `email = ?`, normalEmail(email))
}

func (m *UsersReadModel) one(ctx context.Context, cond string, arg any) (contracts.User, error) {
	u, err := scanUserDTO(m.db.Conn(ctx).QueryRowContext(ctx, `SELECT `+userDTOColumns+` FROM users WHERE `+cond, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return contracts.User{}, user.ErrNotFound
	}
	if err != nil {
		return contracts.User{}, fmt.Errorf("loading user: %w", err)
	}
	return u, nil
}

// UsersByIDs returns the users that exist among ids.
func (m *UsersReadModel) UsersByIDs(ctx context.Context, ids []string) ([]contracts.User, error) {
	out := []contracts.User{}
	const chunk = 500
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		users, err := m.list(ctx, `SELECT `+userDTOColumns+` FROM users WHERE id IN (`+placeholders(len(part))+`)`, args...)
		if err != nil {
			return nil, err
		}
		out = append(out, users...)
	}
	return out, nil
}

func (m *UsersReadModel) PrincipalByID(ctx context.Context, id string) (query.Principal, error) {
	return m.principal(ctx, `SELECT id, email, role, token_version FROM users WHERE id = ?`, []any{id}, user.ErrNotFound)
}

// PrincipalByRefreshToken returns the owner of a live token: not revoked and
// not expired at now. A spent (rotated) token is still live here, so that
// the rotation that follows sees its replay and revokes its family. A token
// that is not live is user.ErrRefreshTokenInvalid.
func (m *UsersReadModel) PrincipalByRefreshToken(ctx context.Context, hash string, now time.Time) (query.Principal, error) {
	return m.principal(ctx, `SELECT u.id, u.email, u.role, u.token_version FROM refresh_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.hash = ? AND t.revoked_at IS NULL AND t.expires_at > ?`, []any{hash, micros(now)}, user.ErrRefreshTokenInvalid)
}

func (m *UsersReadModel) principal(ctx context.Context, q string, args []any, notFound error) (query.Principal, error) {
	var p query.Principal
	err := m.db.Conn(ctx).QueryRowContext(ctx, q, args...).Scan(&p.UserID, &p.Email, &p.Role, &p.TokenVersion)
	if errors.Is(err, sql.ErrNoRows) {
		return query.Principal{}, notFound
	}
	if err != nil {
		return query.Principal{}, fmt.Errorf("loading principal: %w", err)
	}
	return p, nil
}

// ListUsers returns users whose name or e-mail contains q (case-insensitive),
// ordered by name (case-insensitively) then id.
func (m *UsersReadModel) ListUsers(ctx context.Context, q string, limit int) ([]contracts.User, error) {
	if limit <= 0 {
		limit = 20
	}
	sqlq := `SELECT ` + userDTOColumns + ` FROM users`
	var args []any
	if q != "" {
		nameCond, nameArg := m.db.Dialect.foldedLike("name", q)
		// E-mails are stored lower-cased under a binary collation.
		sqlq += ` WHERE (` + nameCond + ` OR email LIKE ? ESCAPE '` + tasklist.LikeEscape + `')`
		args = append(args, nameArg, tasklist.ContainsPattern(tasklist.Fold(q)))
	}
	order := `name, id`
	if m.db.Dialect.Name != MySQL.Name {
		order = foldFunc + `(name), id`
	}
	sqlq += ` ORDER BY ` + order + fmt.Sprintf(` LIMIT %d`, limit)
	return m.list(ctx, sqlq, args...)
}

func (m *UsersReadModel) list(ctx context.Context, q string, args ...any) ([]contracts.User, error) {
	rows, err := m.db.Conn(ctx).QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("querying users: %w", err)
	}
	defer rows.Close()
	out := []contracts.User{}
	for rows.Next() {
		u, err := scanUserDTO(rows)
		if err != nil {
			return nil, fmt.Errorf("scanning user: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

func normalEmail(s string) string {
	if e, err := user.EmailFromString(s); err == nil {
		return e.String()
	}
	return s
}
