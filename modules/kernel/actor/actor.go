// Package actor describes who is calling: the authenticated user as the
// modules see it, independent of how the port authenticated them.
package actor

import "context"

// Actor is the authenticated caller.
type Actor struct {
	UserID string
	Role   string // "member", "manager" or "admin"
}

func (a Actor) IsAdmin() bool   { return a.Role == "admin" }
func (a Actor) IsManager() bool { return a.Role == "manager" || a.Role == "admin" }
func (a Actor) IsZero() bool    { return a.UserID == "" }

// System is the actor of changes no user made (reminders, cascades).
var System = Actor{UserID: "", Role: "system"}

type ctxKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, ctxKey{}, a)
}

// FromContext returns the actor in ctx, if any.
func FromContext(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(ctxKey{}).(Actor)
	return a, ok
}
