package user

import (
	"strings"

	"github.com/taskd/taskd/modules/kernel/errs"
)

// Role is what a user may do beyond their own tasks.
type Role struct{ s string }

var (
	RoleMember  = Role{"member"}
	RoleManager = Role{"manager"}
	RoleAdmin   = Role{"admin"}
)

var ErrInvalidRole = errs.Invalid("invalid_role", "role", "role must be member, manager or admin")

func RoleFromString(s string) (Role, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "member":
		return RoleMember, nil
	case "manager":
		return RoleManager, nil
	case "admin":
		return RoleAdmin, nil
	}
	return Role{}, ErrInvalidRole
}

func (r Role) String() string { return r.s }
func (r Role) IsZero() bool   { return r == Role{} }
