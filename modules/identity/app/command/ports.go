package command

import "context"

// Transactor runs fn in one storage transaction; repositories called with
// the ctx it passes join it.
type Transactor interface {
	WithinTransaction(ctx context.Context, fn func(ctx context.Context) error) error
}

// TaskReleaser is what account deletion needs from the tasks module:
// remove the user as PIC and supervisor everywhere, in the caller's
// transaction. Declared here by its consumer.
type TaskReleaser interface {
	ReleaseUserTasks(ctx context.Context, userID string) error
}
