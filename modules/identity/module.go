// Package identity is the identity bounded context: users, sign-in
// sessions and roles. Module wires it for fx; NewApplication works without.
package identity

import (
	"log/slog"

	"go.uber.org/fx"

	"github.com/taskd/taskd/modules/identity/app"
	"github.com/taskd/taskd/modules/identity/app/command"
	"github.com/taskd/taskd/modules/identity/app/query"
	"github.com/taskd/taskd/modules/identity/domain/user"
	"github.com/taskd/taskd/modules/kernel/decorator"
	"github.com/taskd/taskd/modules/kernel/sys"
)

// Deps are the module's outside needs.
type Deps struct {
	fx.In

	Users      user.Repository
	Tokens     user.RefreshTokenStore
	ReadModel  query.UsersReadModel
	Tx         command.Transactor
	Tasks      command.TaskReleaser
	Clock      sys.Clock
	NewID      sys.IDGenerator
	HashParams user.HashParams `optional:"true"`
	Logger     *slog.Logger
	Metrics    decorator.Metrics
}

// NewApplication builds the module's use cases.
func NewApplication(d Deps) app.Application {
	if d.HashParams == (user.HashParams{}) {
		d.HashParams = user.DefaultHashParams
	}
	log, m := d.Logger.With("module", "identity"), d.Metrics
	cd := command.Deps{
		Users: d.Users, Tokens: d.Tokens, Tx: d.Tx, Tasks: d.Tasks, Clock: d.Clock, NewEventID: d.NewID,
		HashParams: d.HashParams, Logger: log, Metrics: m,
	}
	return app.Application{
		Commands: app.Commands{
			SignUp:         command.NewSignUpHandler(cd),
			StartSession:   command.NewStartSessionHandler(cd),
			RefreshSession: command.NewRefreshSessionHandler(cd),
			EndSession:     command.NewEndSessionHandler(cd),
			UpdateProfile:  command.NewUpdateProfileHandler(cd),
			ChangePassword: command.NewChangePasswordHandler(cd),
			DeleteAccount:  command.NewDeleteAccountHandler(cd),
			ChangeRole:     command.NewChangeRoleHandler(cd),
		},
		Queries: app.Queries{
			Authenticate:     query.NewAuthenticateHandler(d.Users, d.HashParams, log, m),
			UserByID:         query.NewUserByIDHandler(d.ReadModel, log, m),
			UsersByIDs:       query.NewUsersByIDsHandler(d.ReadModel, log, m),
			ResolveUser:      query.NewResolveUserHandler(d.ReadModel, log, m),
			PrincipalByID:    query.NewPrincipalByIDHandler(d.ReadModel, log, m),
			SessionPrincipal: query.NewSessionPrincipalHandler(d.ReadModel, log, m),
			Users:            query.NewUsersHandler(d.ReadModel, log, m),
		},
	}
}

// Module provides app.Application.
var Module = fx.Module("identity", fx.Provide(NewApplication))
