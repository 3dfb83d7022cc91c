package task

import (
	"strings"

	"github.com/taskd/taskd/modules/kernel/errs"
)

// Status is where a task stands. The zero value is not a valid status.
type Status struct{ s string }

var (
	StatusWaiting    = Status{"waiting"}
	StatusInProgress = Status{"in_progress"}
	StatusDone       = Status{"done"}
)

// ErrInvalidStatus is returned for a status that is not one of ours.
var ErrInvalidStatus = errs.Invalid("invalid_status", "Task_status",
	"status must be one of waiting, in_progress, done (or 대기 중, 진행 중, 완료)")

// StatusFromString parses the API's spelling and the seed's Korean labels.
func StatusFromString(s string) (Status, error) {
	switch strings.TrimSpace(s) {
	case "waiting", "대기 중", "대기중":
		return StatusWaiting, nil
	case "in_progress", "진행 중", "진행중":
		return StatusInProgress, nil
	case "done", "완료":
		return StatusDone, nil
	}
	return Status{}, ErrInvalidStatus
}

func (s Status) String() string { return s.s }
func (s Status) IsZero() bool   { return s == Status{} }

// KoreanLabel is the seed's label for the status.
func (s Status) KoreanLabel() string {
	switch s {
	case StatusWaiting:
		return "대기 중"
	case StatusInProgress:
		return "진행 중"
	case StatusDone:
		return "완료"
	}
	return ""
}

// canMoveTo says which transitions the workflow allows: waiting ⇄ in progress,
// waiting or in progress → done, and done → in progress (a reopen). A done
// task does not go straight back to waiting: reopening means work resumes.
func (s Status) canMoveTo(to Status) bool {
	switch s {
	case StatusWaiting:
		return to == StatusInProgress || to == StatusDone
	case StatusInProgress:
		return to == StatusWaiting || to == StatusDone
	case StatusDone:
		return to == StatusInProgress
	}
	return false
}
