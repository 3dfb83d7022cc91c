package task

import (
	"strings"

	"github.com/taskd/taskd/modules/kernel/errs"
)

// Priority orders tasks; the zero value is not a valid priority.
type Priority struct{ s string }

var (
	PriorityLow    = Priority{"low"}
	PriorityMedium = Priority{"medium"}
	PriorityHigh   = Priority{"high"}
	PriorityUrgent = Priority{"urgent"}
)

// ErrInvalidPriority is returned for an unknown priority.
var ErrInvalidPriority = errs.Invalid("invalid_priority", "Task_priority",
	"priority must be one of low, medium, high, urgent")

// PriorityFromString parses a priority.
func PriorityFromString(s string) (Priority, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "low":
		return PriorityLow, nil
	case "medium":
		return PriorityMedium, nil
	case "high":
		return PriorityHigh, nil
	case "urgent":
		return PriorityUrgent, nil
	}
	return Priority{}, ErrInvalidPriority
}

func (p Priority) String() string { return p.s }
func (p Priority) IsZero() bool   { return p == Priority{} }

// Rank sorts priorities: urgent 0, high 1, medium 2, low 3.
func (p Priority) Rank() int {
	switch p {
	case PriorityUrgent:
		return 0
	case PriorityHigh:
		return 1
	case PriorityMedium:
		return 2
	}
	return 3
}
