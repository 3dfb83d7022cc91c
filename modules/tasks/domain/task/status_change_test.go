package task_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/taskd/taskd/modules/kernel/errs"
	"github.com/taskd/taskd/modules/tasks/contracts"
	"github.com/taskd/taskd/modules/tasks/domain/task"
)

func TestChangeStatusTransitions(t *testing.T) {
	t.Parallel()
	now := t0.Add(24 * time.Hour)
	const (
		noop   = "no-op"
		reject = "rejected"
	)
	tests := []struct {
		from, to task.Status
		outcome  string // "", noop or reject
		events   []string
	}{
		{from: task.StatusWaiting, to: task.StatusWaiting, outcome: noop},
		{from: task.StatusWaiting, to: task.StatusInProgress, events: []string{contracts.NameTaskStatusChanged}},
		{from: task.StatusWaiting, to: task.StatusDone, events: []string{contracts.NameTaskStatusChanged, contracts.NameTaskCompleted}},
		{from: task.StatusInProgress, to: task.StatusWaiting, events: []string{contracts.NameTaskStatusChanged}},
		{from: task.StatusInProgress, to: task.StatusInProgress, outcome: noop},
		{from: task.StatusInProgress, to: task.StatusDone, events: []string{contracts.NameTaskStatusChanged, contracts.NameTaskCompleted}},
		{from: task.StatusDone, to: task.StatusWaiting, outcome: reject},
		{from: task.StatusDone, to: task.StatusInProgress, events: []string{contracts.NameTaskStatusChanged, contracts.NameTaskReopened}},
		{from: task.StatusDone, to: task.StatusDone, outcome: noop},
	}
	for _, tt := range tests {
		t.Run(tt.from.String()+"→"+tt.to.String(), func(t *testing.T) {
			t.Parallel()
			tk := storedTask(t, tt.from)
			before := tk.Snapshot()
			err := tk.ChangeStatus(pic, tt.to, now)

			switch tt.outcome {
			case reject:
				if !errors.Is(err, task.ErrBadTransition) {
					t.Fatalf("err = %v, want %v", err, task.ErrBadTransition)
				}
				e, _ := errs.As(err)
				if e.Code != "invalid_status_transition" || e.Kind != errs.KindInvalid {
					t.Errorf("code, kind = %q, %v; want invalid_status_transition, KindInvalid", e.Code, e.Kind)
				}
				fallthrough
			case noop:
				if tt.outcome == noop && err != nil {
					t.Fatalf("ChangeStatus: %v", err)
				}
				if tk.HasPendingEvents() {
					t.Errorf("recorded %v, want no event", names(tk.PendingEvents()))
				}
				if after := tk.Snapshot(); !snapshotsEqual(before, after) {
					t.Errorf("state changed:\n before %+v\n after  %+v", before, after)
				}
				return
			}

			if err != nil {
				t.Fatalf("ChangeStatus: %v", err)
			}
			if tk.Status() != tt.to {
				t.Errorf("Status() = %v, want %v", tk.Status(), tt.to)
			}
			evs := tk.PendingEvents()
			if got := names(evs); !slices.Equal(got, tt.events) {
				t.Fatalf("events = %v, want %v", got, tt.events)
			}
			c, ok := taskEvent(t, evs[0]).Change("status")
			if !ok || c.Old != tt.from.String() || c.New != tt.to.String() {
				t.Errorf("status change = %+v, want %v → %v", c, tt.from, tt.to)
			}
			if got := tk.Snapshot().UpdatedAt; !got.Equal(now) {
				t.Errorf("UpdatedAt = %v, want %v", got, now)
			}
			switch tt.to {
			case task.StatusDone:
				if !timeEq(tk.CompletedAt(), &now) {
					t.Errorf("CompletedAt() = %v, want %v", tk.CompletedAt(), now)
				}
			default:
				if tk.CompletedAt() != nil {
					t.Errorf("CompletedAt() = %v, want nil", tk.CompletedAt())
				}
			}
			// started_at is set once: by the first move out of waiting.
			wantStarted := before.StartedAt
			if wantStarted == nil {
				wantStarted = &now
			}
			if !timeEq(tk.StartedAt(), wantStarted) {
				t.Errorf("StartedAt() = %v, want %v", tk.StartedAt(), wantStarted)
			}
		})
	}
}

func snapshotsEqual(a, b task.Snapshot) bool {
	return a.ID == b.ID && a.Name == b.Name && a.Contents == b.Contents && a.Status == b.Status &&
		a.Priority == b.Priority && timeEq(a.Deadline, b.Deadline) && a.PICID == b.PICID &&
		a.SupervisorID == b.SupervisorID && a.CreatorID == b.CreatorID && a.CreatedAt.Equal(b.CreatedAt) &&
		a.UpdatedAt.Equal(b.UpdatedAt) && timeEq(a.StartedAt, b.StartedAt) && timeEq(a.CompletedAt, b.CompletedAt) &&
		a.Version == b.Version && a.LastSequence == b.LastSequence
}

func TestChangeStatusLifecycleTimestamps(t *testing.T) {
	t.Parallel()
	tk := newTask(t)
	t1, t2, t3, t4, t5 := t0.Add(1*time.Hour), t0.Add(2*time.Hour), t0.Add(3*time.Hour), t0.Add(4*time.Hour), t0.Add(5*time.Hour)

	steps := []struct {
		do            func() error
		wantStarted   *time.Time
		wantCompleted *time.Time
	}{
		{func() error { return tk.Start(pic, t1) }, &t1, nil},
		{func() error { return tk.ChangeStatus(pic, task.StatusWaiting, t2) }, &t1, nil},
		{func() error { return tk.ChangeStatus(pic, task.StatusInProgress, t3) }, &t1, nil},
		{func() error { return tk.Complete(pic, t4) }, &t1, &t4},
		{func() error { return tk.Reopen(pic, t5) }, &t1, nil},
	}
	for i, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if !timeEq(tk.StartedAt(), s.wantStarted) {
			t.Errorf("step %d: StartedAt() = %v, want %v", i, tk.StartedAt(), s.wantStarted)
		}
		if !timeEq(tk.CompletedAt(), s.wantCompleted) {
			t.Errorf("step %d: CompletedAt() = %v, want %v", i, tk.CompletedAt(), s.wantCompleted)
		}
	}
}

func TestChangeStatusRejections(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		from    task.Status
		do      func(tk *task.Task) error
		wantErr error
	}{
		{"stranger", task.StatusWaiting, func(tk *task.Task) error { return tk.ChangeStatus(stranger, task.StatusInProgress, t0) }, task.ErrForbiddenUpdate},
		{"stranger, same status", task.StatusWaiting, func(tk *task.Task) error { return tk.ChangeStatus(stranger, task.StatusWaiting, t0) }, task.ErrForbiddenUpdate},
		{"zero status", task.StatusWaiting, func(tk *task.Task) error { return tk.ChangeStatus(pic, task.Status{}, t0) }, task.ErrInvalidStatus},
		{"reopen a waiting task", task.StatusWaiting, func(tk *task.Task) error { return tk.Reopen(pic, t0) }, task.ErrBadTransition},
		{"reopen a task in progress", task.StatusInProgress, func(tk *task.Task) error { return tk.Reopen(pic, t0) }, task.ErrBadTransition},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tk := storedTask(t, tt.from)
			if err := tt.do(tk); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tk.HasPendingEvents() || tk.Status() != tt.from {
				t.Errorf("task changed: status %v, events %v", tk.Status(), names(tk.PendingEvents()))
			}
		})
	}
}

func TestStatusFromString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    task.Status
		wantErr bool
	}{
		{in: "waiting", want: task.StatusWaiting},
		{in: "대기 중", want: task.StatusWaiting},
		{in: "대기중", want: task.StatusWaiting},
		{in: "in_progress", want: task.StatusInProgress},
		{in: "진행 중", want: task.StatusInProgress},
		{in: "진행중", want: task.StatusInProgress},
		{in: "done", want: task.StatusDone},
		{in: "완료", want: task.StatusDone},
		{in: "  done\t", want: task.StatusDone},
		{in: "", wantErr: true},
		{in: "finished", wantErr: true},
		{in: "in progress", wantErr: true},
		{in: "대기", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := task.StatusFromString(tt.in)
			if tt.wantErr {
				if !errors.Is(err, task.ErrInvalidStatus) || !got.IsZero() {
					t.Fatalf("StatusFromString(%q) = %v, %v; want zero, ErrInvalidStatus", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("StatusFromString(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			if back, err := task.StatusFromString(got.KoreanLabel()); err != nil || back != got {
				t.Errorf("KoreanLabel %q does not parse back: %v, %v", got.KoreanLabel(), back, err)
			}
		})
	}
}
