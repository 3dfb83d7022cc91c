package task

import "context"

// Repository stores tasks. Every write stores the task's row and its recorded
// events (the outbox) in one transaction: no change without its events.
type Repository interface {
	// Add stores a new task and its events.
	Add(ctx context.Context, t *Task) error
	// Update loads the task, locks it, calls fn, and — when fn recorded
	// events — bumps the version and saves row and events in one
	// transaction. An error from fn rolls everything back and is returned.
	Update(ctx context.Context, id string, fn func(ctx context.Context, t *Task) error) error
	// Delete loads and locks the task, calls fn (which must call t.Delete),
	// removes the row and stores the events.
	Delete(ctx context.Context, id string, fn func(ctx context.Context, t *Task) error) error
	// UpdateInvolving applies fn to every task whose PIC or supervisor is
	// userID, inside the caller's transaction if there is one.
	UpdateInvolving(ctx context.Context, userID string, fn func(ctx context.Context, t *Task) error) error
}
