package main

import (
	"context"
	"errors"
	"sync/atomic"

	"go.uber.org/fx"

	identityapp "github.com/taskd/taskd/modules/identity/app"
	identitycommand "github.com/taskd/taskd/modules/identity/app/command"
	identityquery "github.com/taskd/taskd/modules/identity/app/query"
	"github.com/taskd/taskd/modules/identity/domain/user"
	tasksapp "github.com/taskd/taskd/modules/tasks/app"
	taskscommand "github.com/taskd/taskd/modules/tasks/app/command"
)

// The two modules need one thing each from the other, through interfaces
// the consumer declares: tasks resolves PIC and supervisor through
// identity's ResolveUser query; identity's account deletion releases the
// user's tasks through tasks' ReleaseUserTasks command, in its transaction.

// userDirectory adapts identity's ResolveUser query to tasks' UserDirectory.
type userDirectory struct{ app identityapp.Application }

func (d userDirectory) ResolveUser(ctx context.Context, ref string) (string, error) {
	u, err := d.app.Queries.ResolveUser.Handle(ctx, identityquery.ResolveUser{Ref: ref})
	if errors.Is(err, user.ErrNotFound) {
		return "", taskscommand.ErrUnknownUser
	}
	if err != nil {
		return "", err
	}
	return u.ID, nil
}

// taskReleaser adapts tasks' ReleaseUserTasks to identity's TaskReleaser.
// The tasks application is built after identity's (it needs the directory
// above), so the bridge is filled in once both exist.
type taskReleaser struct {
	app atomic.Pointer[tasksapp.Application]
}

func (r *taskReleaser) ReleaseUserTasks(ctx context.Context, userID string) error {
	a := r.app.Load()
	if a == nil {
		return errors.New("tasks module not wired")
	}
	return a.Commands.ReleaseUserTasks.Handle(ctx, taskscommand.ReleaseUserTasks{UserID: userID})
}

var bridgesModule = fx.Module("bridges",
	fx.Provide(
		func(a identityapp.Application) taskscommand.UserDirectory { return userDirectory{a} },
		func() *taskReleaser { return &taskReleaser{} },
		func(r *taskReleaser) identitycommand.TaskReleaser { return r },
	),
	fx.Invoke(func(r *taskReleaser, a tasksapp.Application) { r.app.Store(&a) }),
)
