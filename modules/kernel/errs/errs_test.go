package errs_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/taskd/taskd/modules/kernel/errs"
)

var (
	errThing    = errs.NotFound("thing_not_found", "no such thing")
	errSameCode = errs.Conflict("thing_not_found", "declared elsewhere with the same code")
	errOther    = errs.Invalid("other", "field", "something else")
)

func TestIs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{"same sentinel", errThing, errThing, true},
		{"wrapped once", fmt.Errorf("loading: %w", errThing), errThing, true},
		{"wrapped twice", fmt.Errorf("a: %w", fmt.Errorf("b: %w", errThing)), errThing, true},
		{"joined", errors.Join(errors.New("x"), errThing), errThing, true},
		{"copy with field", errThing.WithField("id"), errThing, true},
		{"copy with message", fmt.Errorf("x: %w", errThing.WithMessage("thing %d is gone", 7)), errThing, true},
		{"same code, other value", errSameCode, errThing, true},
		{"other code", errOther, errThing, false},
		{"wrapped other code", fmt.Errorf("x: %w", errOther), errThing, false},
		{"plain error", errors.New("thing_not_found: no such thing"), errThing, false},
		{"nil", nil, errThing, false},
		{"not an *Error target", errThing, errors.New("thing_not_found"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := errors.Is(tt.err, tt.target); got != tt.want {
				t.Errorf("errors.Is(%v, %v) = %v, want %v", tt.err, tt.target, got, tt.want)
			}
		})
	}
}

func TestIsWithNilTarget(t *testing.T) {
	t.Parallel()
	var target *errs.Error
	if errors.Is(errThing, target) {
		t.Error("errors.Is matched a nil *Error target")
	}
}

func TestAs(t *testing.T) {
	t.Parallel()
	e, ok := errs.As(fmt.Errorf("ctx: %w", errOther.WithField("name")))
	if !ok || e.Code != "other" || e.Field != "name" || e.Kind != errs.KindInvalid {
		t.Errorf("As = %+v, %v", e, ok)
	}
	if _, ok := errs.As(errors.New("plain")); ok {
		t.Error("As found an *Error in a plain error")
	}
	if _, ok := errs.As(nil); ok {
		t.Error("As found an *Error in nil")
	}
}

func TestWithFieldAndWithMessageCopy(t *testing.T) {
	t.Parallel()
	base := errs.Invalid("code", "", "message")
	f := base.WithField("Task_name")
	m := base.WithMessage("%s: %d", "n", 3)
	if base.Field != "" || base.Message != "message" {
		t.Errorf("the sentinel changed: %+v", base)
	}
	if f == base || f.Field != "Task_name" || f.Code != "code" || f.Kind != errs.KindInvalid || f.Message != "message" {
		t.Errorf("WithField = %+v", f)
	}
	if m == base || m.Message != "n: 3" || m.Code != "code" || m.Field != "" {
		t.Errorf("WithMessage = %+v", m)
	}
}

func TestErrorString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  *errs.Error
		want string
	}{
		{errs.NotFound("task_not_found", "task not found"), "task_not_found: task not found"},
		{errs.Invalid("name_required", "Task_name", "name is required"), "name_required (Task_name): name is required"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestConstructorsKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  *errs.Error
		want errs.Kind
	}{
		{errs.Invalid("c", "f", "m"), errs.KindInvalid},
		{errs.BadRequest("c", "f", "m"), errs.KindBadRequest},
		{errs.NotFound("c", "m"), errs.KindNotFound},
		{errs.Conflict("c", "m"), errs.KindConflict},
		{errs.Forbidden("c", "m"), errs.KindForbidden},
		{errs.Unauthorized("c", "m"), errs.KindUnauthorized},
		{errs.ErrVersionMismatch, errs.KindPreconditionFailed},
		{errs.ErrConcurrentUpdate, errs.KindConflict},
	}
	for _, tt := range tests {
		if tt.err.Kind != tt.want {
			t.Errorf("%v: Kind = %v, want %v", tt.err, tt.err.Kind, tt.want)
		}
	}
}
