package query

import (
	"context"
	"errors"
	"strings"

	"github.com/google/uuid"

	"github.com/taskd/taskd/modules/analytics/contracts"
	"github.com/taskd/taskd/modules/kernel/actor"
)

// isMe tells whether a user parameter means the caller.
func isMe(ref string) bool { return ref == "" || strings.EqualFold(ref, "me") }

// resolveUser maps a user parameter (me, an e-mail, a user id) to a user.
// An e-mail or id naming nobody is ErrUserNotFound; anything else
// ErrInvalidUserRef.
func resolveUser(ctx context.Context, dir UserDirectory, act actor.Actor, ref string) (contracts.UserInfo, error) {
	ref = strings.TrimSpace(ref)
	if isMe(ref) {
		return userInfo(ctx, dir, act.UserID)
	}
	if !strings.Contains(ref, "@") {
		u, err := uuid.Parse(ref)
		if err != nil {
			return contracts.UserInfo{}, ErrInvalidUserRef
		}
		ref = u.String()
	}
	u, err := dir.ResolveUser(ctx, ref)
	if err != nil {
		return contracts.UserInfo{}, err
	}
	return u, nil
}

// userInfo returns the user with id, or just the id when they no longer exist.
func userInfo(ctx context.Context, dir UserDirectory, id string) (contracts.UserInfo, error) {
	users, err := dir.UsersByIDs(ctx, []string{id})
	if err != nil {
		return contracts.UserInfo{}, err
	}
	if u, ok := users[id]; ok {
		return u, nil
	}
	return contracts.UserInfo{ID: id}, nil
}

// reportUser resolves whose report act asks for and checks act may read
// it: members only their own, managers and admins anyone's. A member
// asking for someone else gets ErrReportForbidden whether or not that
// someone exists (members learn nothing about other accounts here).
func reportUser(ctx context.Context, dir UserDirectory, act actor.Actor, ref string) (contracts.UserInfo, error) {
	u, err := resolveUser(ctx, dir, act, ref)
	if act.IsManager() {
		return u, err
	}
	if err != nil {
		if errors.Is(err, ErrUserNotFound) {
			return contracts.UserInfo{}, ErrReportForbidden
		}
		return contracts.UserInfo{}, err
	}
	if u.ID != act.UserID {
		return contracts.UserInfo{}, ErrReportForbidden
	}
	return u, nil
}
