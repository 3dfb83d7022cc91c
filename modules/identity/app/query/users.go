package query

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/taskd/taskd/modules/identity/contracts"
	"github.com/taskd/taskd/modules/identity/domain/user"
	"github.com/taskd/taskd/modules/kernel/decorator"
)

// UserByID returns one user's public view.
type UserByID struct{ ID string }

func (q UserByID) LogAttrs() []slog.Attr { return []slog.Attr{slog.String("user_id", q.ID)} }

type UserByIDHandler decorator.QueryHandler[UserByID, contracts.User]

type userByIDHandler struct{ rm UsersReadModel }

func NewUserByIDHandler(rm UsersReadModel, logger *slog.Logger, m decorator.Metrics) UserByIDHandler {
	return decorator.ApplyQueryDecorators[UserByID, contracts.User](userByIDHandler{rm}, logger, m)
}

func (h userByIDHandler) Handle(ctx context.Context, q UserByID) (contracts.User, error) {
	return h.rm.UserByID(ctx, q.ID)
}

// UsersByIDs returns the existing users among IDs (to render e-mails).
type UsersByIDs struct{ IDs []string }

func (q UsersByIDs) LogAttrs() []slog.Attr { return []slog.Attr{slog.Int("count", len(q.IDs))} }

type UsersByIDsHandler decorator.QueryHandler[UsersByIDs, map[string]contracts.User]

type usersByIDsHandler struct{ rm UsersReadModel }

func NewUsersByIDsHandler(rm UsersReadModel, logger *slog.Logger, m decorator.Metrics) UsersByIDsHandler {
	return decorator.ApplyQueryDecorators[UsersByIDs, map[string]contracts.User](usersByIDsHandler{rm}, logger, m)
}

func (h usersByIDsHandler) Handle(ctx context.Context, q UsersByIDs) (map[string]contracts.User, error) {
	out := make(map[string]contracts.User, len(q.IDs))
	if len(q.IDs) == 0 {
		return out, nil
	}
	seen := make(map[string]bool, len(q.IDs))
	ids := make([]string, 0, len(q.IDs))
	for _, id := range q.IDs {
		if id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	users, err := h.rm.UsersByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		out[u.ID] = u
	}
	return out, nil
}

// ResolveUser maps an e-mail address or a user id to the user.
type ResolveUser struct{ Ref string }

func (q ResolveUser) LogAttrs() []slog.Attr { return nil }

type ResolveUserHandler decorator.QueryHandler[ResolveUser, contracts.User]

type resolveUserHandler struct{ rm UsersReadModel }

func NewResolveUserHandler(rm UsersReadModel, logger *slog.Logger, m decorator.Metrics) ResolveUserHandler {
	return decorator.ApplyQueryDecorators[ResolveUser, contracts.User](resolveUserHandler{rm}, logger, m)
}

func (h resolveUserHandler) Handle(ctx context.Context, q ResolveUser) (contracts.User, error) {
	ref := strings.TrimSpace(q.Ref)
	if strings.Contains(ref, "@") {
		email, err := user.EmailFromString(ref)
		if err != nil {
			return contracts.User{}, user.ErrNotFound
		}
		return h.rm.UserByEmail(ctx, email.String())
	}
	if _, err := uuid.Parse(ref); err != nil {
		return contracts.User{}, user.ErrNotFound
	}
	return h.rm.UserByID(ctx, ref)
}

// PrincipalByID is what the auth middleware checks on each request: the
// user still exists and the token's version is current.
type PrincipalByID struct{ UserID string }

func (q PrincipalByID) LogAttrs() []slog.Attr { return []slog.Attr{slog.String("user_id", q.UserID)} }

type PrincipalByIDHandler decorator.QueryHandler[PrincipalByID, Principal]

type principalByIDHandler struct{ rm UsersReadModel }

func NewPrincipalByIDHandler(rm UsersReadModel, logger *slog.Logger, m decorator.Metrics) PrincipalByIDHandler {
	return decorator.ApplyQueryDecorators[PrincipalByID, Principal](principalByIDHandler{rm}, logger, m)
}

func (h principalByIDHandler) Handle(ctx context.Context, q PrincipalByID) (Principal, error) {
	return h.rm.PrincipalByID(ctx, q.UserID)
}

// SessionPrincipal returns the owner of a live refresh token.
type SessionPrincipal struct {
	RefreshTokenHash string
	Now              time.Time
}

func (q SessionPrincipal) LogAttrs() []slog.Attr { return nil }

type SessionPrincipalHandler decorator.QueryHandler[SessionPrincipal, Principal]

type sessionPrincipalHandler struct{ rm UsersReadModel }

func NewSessionPrincipalHandler(rm UsersReadModel, logger *slog.Logger, m decorator.Metrics) SessionPrincipalHandler {
	return decorator.ApplyQueryDecorators[SessionPrincipal, Principal](sessionPrincipalHandler{rm}, logger, m)
}

func (h sessionPrincipalHandler) Handle(ctx context.Context, q SessionPrincipal) (Principal, error) {
	return h.rm.PrincipalByRefreshToken(ctx, q.RefreshTokenHash, q.Now)
}

// Users searches users by name or e-mail (to pick a PIC).
type Users struct {
	Q     string
	Limit int
}

func (q Users) LogAttrs() []slog.Attr { return nil }

type UsersHandler decorator.QueryHandler[Users, []contracts.User]

type usersHandler struct{ rm UsersReadModel }

func NewUsersHandler(rm UsersReadModel, logger *slog.Logger, m decorator.Metrics) UsersHandler {
	return decorator.ApplyQueryDecorators[Users, []contracts.User](usersHandler{rm}, logger, m)
}

func (h usersHandler) Handle(ctx context.Context, q Users) ([]contracts.User, error) {
	if q.Limit <= 0 || q.Limit > 100 {
		q.Limit = 20
	}
	return h.rm.ListUsers(ctx, q.Q, q.Limit)
}
