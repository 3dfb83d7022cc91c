package command

import (
	"context"

	"github.com/taskd/taskd/modules/kernel/errs"
)

// UserDirectory is what the tasks module needs from identity: it maps an
// e-mail address or a user id to the id of an existing user. Declared here,
// by its consumer; the composition root adapts the identity module to it.
type UserDirectory interface {
	// ResolveUser returns the id of the user ref names, or ErrUnknownUser.
	ResolveUser(ctx context.Context, ref string) (userID string, err error)
}

// ErrUnknownUser is returned by a UserDirectory for a ref naming no user.
var ErrUnknownUser = errs.Invalid("unknown_user", "", "no user with this e-mail or id")

// resolveOptional resolves ref for field; "" means nobody.
func resolveOptional(ctx context.Context, dir UserDirectory, field, ref string) (string, error) {
	if ref == "" {
		return "", nil
	}
	id, err := dir.ResolveUser(ctx, ref)
	if err != nil {
		if e, ok := errs.As(err); ok && e.Code == ErrUnknownUser.Code {
			return "", ErrUnknownUser.WithField(field).WithMessage("%s: no user with this e-mail or id", field)
		}
		return "", err
	}
	return id, nil
}
