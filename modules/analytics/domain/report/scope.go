package report

import "strings"

// Scope is whose numbers a counter holds. It is also the storage key, so
// its spelling is stable:
//
//	team                    every task
//	user:<id>               one user: the tasks they created (created), were
//	                        given as PIC (assigned), and those they are the PIC
//	                        of (everything else)
//	sup:<id>                the tasks a user supervises
//	sup:<id>/user:<id>      the tasks a supervisor supervises with this PIC
//	                        (a supervisor's view of their people)
type Scope string

// TeamScope is every task.
const TeamScope Scope = "team"

// UserScope is one user's own numbers.
func UserScope(userID string) Scope { return Scope("user:" + userID) }

// SupervisorScope is the numbers over the tasks a user supervises.
func SupervisorScope(supervisorID string) Scope { return Scope("sup:" + supervisorID) }

// PairScope is the numbers over the tasks supervisorID supervises and
// picID is the PIC of.
func PairScope(supervisorID, picID string) Scope {
	return Scope("sup:" + supervisorID + "/user:" + picID)
}

// UserScopePrefix selects every user scope; PairScopePrefix every person
// of one supervisor.
const UserScopePrefix = "user:"

func PairScopePrefix(supervisorID string) string { return "sup:" + supervisorID + "/user:" }

// UserID returns the user of a user or pair scope ("" for the others).
func (s Scope) UserID() string {
	str := string(s)
	if i := strings.LastIndex(str, "user:"); i >= 0 && (i == 0 || str[i-1] == '/') {
		return str[i+len("user:"):]
	}
	return ""
}

// SupervisorID returns the supervisor of a supervisor or pair scope.
func (s Scope) SupervisorID() string {
	rest, ok := strings.CutPrefix(string(s), "sup:")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, "/")
	return id
}

// picScopes are the scopes of what the PIC of a task does: the PIC, the
// supervisor, the pair and the team.
func picScopes(picID, supervisorID string) []Scope {
	out := make([]Scope, 0, 4)
	if picID != "" {
		out = append(out, UserScope(picID))
	}
	if supervisorID != "" {
		out = append(out, SupervisorScope(supervisorID))
		if picID != "" {
			out = append(out, PairScope(supervisorID, picID))
		}
	}
	return append(out, TeamScope)
}
