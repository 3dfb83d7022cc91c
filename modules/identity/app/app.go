// Package app lists the identity module's use cases.
package app

import (
	"github.com/taskd/taskd/modules/identity/app/command"
	"github.com/taskd/taskd/modules/identity/app/query"
)

type Application struct {
	Commands Commands
	Queries  Queries
}

type Commands struct {
	SignUp         command.SignUpHandler
	StartSession   command.StartSessionHandler
	RefreshSession command.RefreshSessionHandler
	EndSession     command.EndSessionHandler
	UpdateProfile  command.UpdateProfileHandler
	ChangePassword command.ChangePasswordHandler
	DeleteAccount  command.DeleteAccountHandler
	ChangeRole     command.ChangeRoleHandler
}

type Queries struct {
	Authenticate     query.AuthenticateHandler
	UserByID         query.UserByIDHandler
	UsersByIDs       query.UsersByIDsHandler
	ResolveUser      query.ResolveUserHandler
	PrincipalByID    query.PrincipalByIDHandler
	SessionPrincipal query.SessionPrincipalHandler
	Users            query.UsersHandler
}
