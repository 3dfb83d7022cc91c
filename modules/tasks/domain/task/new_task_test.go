package task_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taskd/taskd/modules/kernel/errs"
	"github.com/taskd/taskd/modules/tasks/contracts"
	"github.com/taskd/taskd/modules/tasks/domain/task"
)

func TestNewTaskValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		mod       func(p *task.NewTaskParams)
		now       time.Time
		wantErr   *errs.Error
		wantField string
		wantName  string
	}{
		{name: "valid", mod: func(*task.NewTaskParams) {}, now: t0, wantName: "Write the quarterly report"},
		{name: "name is trimmed", mod: func(p *task.NewTaskParams) { p.Name = " \t Report \n" }, now: t0, wantName: "Report"},
		{name: "one rune name", mod: func(p *task.NewTaskParams) { p.Name = "x" }, now: t0, wantName: "x"},
		{name: "200 runes of Hangul", mod: func(p *task.NewTaskParams) { p.Name = strings.Repeat("가", 200) }, now: t0, wantName: strings.Repeat("가", 200)},
		{name: "200 runes after trim", mod: func(p *task.NewTaskParams) { p.Name = "  " + strings.Repeat("a", 200) + "  " }, now: t0, wantName: strings.Repeat("a", 200)},
		{name: "201 runes", mod: func(p *task.NewTaskParams) { p.Name = strings.Repeat("가", 201) }, now: t0, wantErr: task.ErrNameTooLong, wantField: "Task_name"},
		{name: "empty name", mod: func(p *task.NewTaskParams) { p.Name = "" }, now: t0, wantErr: task.ErrNameRequired, wantField: "Task_name"},
		{name: "blank name", mod: func(p *task.NewTaskParams) { p.Name = " \t\n " }, now: t0, wantErr: task.ErrNameRequired, wantField: "Task_name"},
		{name: "name not UTF-8", mod: func(p *task.NewTaskParams) { p.Name = "bad\xff" }, now: t0, wantErr: task.ErrInvalidUTF8, wantField: "Task_name"},
		{name: "contents 20000 runes", mod: func(p *task.NewTaskParams) { p.Contents = strings.Repeat("가", task.MaxContentsLength) }, now: t0, wantName: "Write the quarterly report"},
		{name: "contents 20001 runes", mod: func(p *task.NewTaskParams) { p.Contents = strings.Repeat("가", task.MaxContentsLength+1) }, now: t0, wantErr: task.ErrContentsTooLong, wantField: "Task_contents"},
		{name: "contents not UTF-8", mod: func(p *task.NewTaskParams) { p.Contents = "ok \xc3\x28" }, now: t0, wantErr: task.ErrInvalidUTF8, wantField: "Task_contents"},
		{name: "no id", mod: func(p *task.NewTaskParams) { p.ID = "" }, now: t0, wantErr: task.ErrInvalidID, wantField: "Task_id"},
		{name: "no creator", mod: func(p *task.NewTaskParams) { p.CreatorID = "" }, now: t0, wantErr: task.ErrMissingCreator, wantField: "Creator"},
		{name: "zero time", mod: func(*task.NewTaskParams) {}, now: time.Time{}, wantErr: task.ErrMissingTimestamp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := validParams()
			tt.mod(&p)
			tk, err := task.NewTask(p, tt.now, eventIDs())
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("NewTask: %v", err)
				}
				if tk.Name() != tt.wantName {
					t.Errorf("Name() = %q, want %q", tk.Name(), tt.wantName)
				}
				return
			}
			if tk != nil {
				t.Errorf("NewTask returned a task with error %v", err)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			e, _ := errs.As(err)
			if e.Kind != errs.KindInvalid {
				t.Errorf("Kind = %v, want KindInvalid", e.Kind)
			}
			if e.Field != tt.wantField {
				t.Errorf("Field = %q, want %q", e.Field, tt.wantField)
			}
		})
	}
}

func TestNewTaskDefaultsAndEvents(t *testing.T) {
	t.Parallel()
	kst := time.FixedZone("KST", 9*3600)
	now := time.Date(2026, 3, 1, 18, 0, 0, 0, kst)
	deadline := time.Date(2026, 3, 10, 18, 0, 0, 0, kst)
	tests := []struct {
		name          string
		status        task.Status
		priority      task.Priority
		wantStatus    task.Status
		wantPriority  task.Priority
		wantStarted   bool
		wantCompleted bool
		wantEvents    []string
	}{
		{name: "defaults", wantStatus: task.StatusWaiting, wantPriority: task.PriorityMedium,
			wantEvents: []string{contracts.NameTaskCreated}},
		{name: "in progress, urgent", status: task.StatusInProgress, priority: task.PriorityUrgent,
			wantStatus: task.StatusInProgress, wantPriority: task.PriorityUrgent, wantStarted: true,
			wantEvents: []string{contracts.NameTaskCreated}},
		{name: "created done", status: task.StatusDone, priority: task.PriorityLow,
			wantStatus: task.StatusDone, wantPriority: task.PriorityLow, wantStarted: true, wantCompleted: true,
			wantEvents: []string{contracts.NameTaskCreated, contracts.NameTaskCompleted}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := validParams()
			p.Status, p.Priority = tt.status, tt.priority
			p.Contents = "details"
			p.Deadline = &deadline
			tk, err := task.NewTask(p, now, eventIDs())
			if err != nil {
				t.Fatalf("NewTask: %v", err)
			}
			if tk.Status() != tt.wantStatus || tk.Priority() != tt.wantPriority {
				t.Errorf("status, priority = %v, %v; want %v, %v", tk.Status(), tk.Priority(), tt.wantStatus, tt.wantPriority)
			}
			if tk.Version() != 1 {
				t.Errorf("Version() = %d, want 1", tk.Version())
			}
			if got := tk.StartedAt(); (got != nil) != tt.wantStarted || (got != nil && !got.Equal(now)) {
				t.Errorf("StartedAt() = %v, want set=%v at %v", got, tt.wantStarted, now)
			}
			if got := tk.CompletedAt(); (got != nil) != tt.wantCompleted || (got != nil && !got.Equal(now)) {
				t.Errorf("CompletedAt() = %v, want set=%v at %v", got, tt.wantCompleted, now)
			}
			if d := tk.Deadline(); d == nil || !d.Equal(deadline) || d.Location() != time.UTC {
				t.Errorf("Deadline() = %v, want %v in UTC", d, deadline)
			}
			snap := tk.Snapshot()
			if !snap.CreatedAt.Equal(now) || snap.CreatedAt.Location() != time.UTC || !snap.UpdatedAt.Equal(now) {
				t.Errorf("CreatedAt, UpdatedAt = %v, %v; want %v in UTC", snap.CreatedAt, snap.UpdatedAt, now)
			}

			evs := tk.PendingEvents()
			if got := names(evs); !slices.Equal(got, tt.wantEvents) {
				t.Fatalf("events = %v, want %v", got, tt.wantEvents)
			}
			for i, e := range evs {
				m := e.EventMeta()
				if m.Sequence != int64(i+1) {
					t.Errorf("event %d: Sequence = %d, want %d", i, m.Sequence, i+1)
				}
				if m.ActorID != creatorID {
					t.Errorf("event %d: ActorID = %q, want the creator", i, m.ActorID)
				}
				if !m.OccurredAt.Equal(now) {
					t.Errorf("event %d: OccurredAt = %v, want %v", i, m.OccurredAt, now)
				}
			}
			created := taskEvent(t, evs[0])
			wantChanges := map[string]any{
				"name": "Write the quarterly report", "status": tt.wantStatus.String(), "priority": tt.wantPriority.String(),
				"contents": "details", "deadline": deadline.UTC().Format(time.RFC3339),
				"pic_id": picID, "supervisor_id": supervisorID,
			}
			if len(created.Changes) != len(wantChanges) {
				t.Errorf("TaskCreated changes = %+v, want %d fields", created.Changes, len(wantChanges))
			}
			for field, want := range wantChanges {
				c, ok := created.Change(field)
				if !ok || c.Old != nil || c.New != want {
					t.Errorf("TaskCreated change %q = %+v (found %v), want nil → %v", field, c, ok, want)
				}
			}
		})
	}
}

func TestNewTaskMinimalCreatedEventOmitsEmptyFields(t *testing.T) {
	t.Parallel()
	p := task.NewTaskParams{ID: taskID, Name: "n", CreatorID: creatorID}
	tk, err := task.NewTask(p, t0, eventIDs())
	if err != nil {
		t.Fatal(err)
	}
	ev := taskEvent(t, tk.PendingEvents()[0])
	for _, f := range []string{"contents", "deadline", "pic_id", "supervisor_id"} {
		if c, ok := ev.Change(f); ok {
			t.Errorf("TaskCreated carries empty field %q: %+v", f, c)
		}
	}
}
