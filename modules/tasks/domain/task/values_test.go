package task_test

import (
	"errors"
	"testing"
	"time"

	"github.com/taskd/taskd/modules/kernel/errs"
	"github.com/taskd/taskd/modules/tasks/domain/task"
)

func TestPriorityFromString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in       string
		want     task.Priority
		wantRank int
		wantErr  bool
	}{
		{in: "low", want: task.PriorityLow, wantRank: 3},
		{in: "medium", want: task.PriorityMedium, wantRank: 2},
		{in: "high", want: task.PriorityHigh, wantRank: 1},
		{in: "urgent", want: task.PriorityUrgent, wantRank: 0},
		{in: " URGENT ", want: task.PriorityUrgent, wantRank: 0},
		{in: "High", want: task.PriorityHigh, wantRank: 1},
		{in: "", wantErr: true},
		{in: "critical", wantErr: true},
		{in: "1", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := task.PriorityFromString(tt.in)
			if tt.wantErr {
				if !errors.Is(err, task.ErrInvalidPriority) || !got.IsZero() {
					t.Fatalf("PriorityFromString(%q) = %v, %v; want zero, ErrInvalidPriority", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want || got.Rank() != tt.wantRank {
				t.Fatalf("PriorityFromString(%q) = %v (rank %d), %v; want %v (rank %d)", tt.in, got, got.Rank(), err, tt.want, tt.wantRank)
			}
		})
	}
}

func TestParseDeadline(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{in: "2026-12-01T18:00:00+09:00", want: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)},
		{in: "2026-12-01T18:00:00Z", want: time.Date(2026, 12, 1, 18, 0, 0, 0, time.UTC)},
		{in: "2026-12-01T18:00:00.123456789Z", want: time.Date(2026, 12, 1, 18, 0, 0, 123456000, time.UTC)},
		{in: " 2026-12-01T18:00:00-05:00 ", want: time.Date(2026, 12, 1, 23, 0, 0, 0, time.UTC)},
		{in: "2026-12-01", want: time.Date(2026, 12, 1, 23, 59, 59, 0, time.UTC)},
		{in: "2028-02-29", want: time.Date(2028, 2, 29, 23, 59, 59, 0, time.UTC)},
		{in: "2026-12-31", want: time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC)},
		{in: "", wantErr: true},
		{in: "tomorrow", wantErr: true},
		{in: "2026-13-01", wantErr: true},
		{in: "2026-02-30", wantErr: true},
		{in: "2026/12/01", wantErr: true},
		{in: "01-12-2026", wantErr: true},
		{in: "2026-12-01 18:00:00", wantErr: true},
		{in: "2026-12-01T18:00:00", wantErr: true},
		{in: "1969-12-31", wantErr: true},
		{in: "0001-01-01T00:00:00Z", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := task.ParseDeadline(tt.in)
			if tt.wantErr {
				if !errors.Is(err, task.ErrInvalidDeadline) {
					t.Fatalf("ParseDeadline(%q) = %v, %v; want ErrInvalidDeadline", tt.in, got, err)
				}
				if e, _ := errs.As(err); e.Field != "Deadline" || e.Kind != errs.KindInvalid {
					t.Errorf("error field, kind = %q, %v", e.Field, e.Kind)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseDeadline(%q): %v", tt.in, err)
			}
			if !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("ParseDeadline(%q) = %v, want %v in UTC", tt.in, got, tt.want)
			}
		})
	}
}

func TestCheckVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v       int64
		wantErr bool
	}{
		{v: 3}, {v: 2, wantErr: true}, {v: 4, wantErr: true}, {v: 0, wantErr: true},
	}
	for _, tt := range tests {
		tk := storedTask(t, task.StatusWaiting) // version 3
		err := tk.CheckVersion(tt.v)
		if tt.wantErr != (err != nil) {
			t.Errorf("CheckVersion(%d) = %v, want error %v", tt.v, err, tt.wantErr)
		}
		if err != nil {
			if !errors.Is(err, errs.ErrVersionMismatch) {
				t.Errorf("CheckVersion(%d) = %v, want ErrVersionMismatch", tt.v, err)
			}
			if e, _ := errs.As(err); e.Kind != errs.KindPreconditionFailed {
				t.Errorf("Kind = %v, want KindPreconditionFailed", e.Kind)
			}
		}
	}
}

func TestUnmarshalTaskFromDatabase(t *testing.T) {
	t.Parallel()
	deadline := time.Date(2026, 5, 1, 0, 0, 0, 0, time.FixedZone("KST", 9*3600))
	started := t0.Add(time.Hour)
	in := task.Snapshot{
		ID: taskID, Name: "n", Contents: "c", Status: "진행 중", Priority: "high", Deadline: &deadline,
		PICID: picID, SupervisorID: supervisorID, CreatorID: creatorID, CreatedAt: t0, UpdatedAt: started,
		StartedAt: &started, Version: 12, LastSequence: 40,
	}
	tk, err := task.UnmarshalTaskFromDatabase(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := tk.Snapshot()
	in.Status = "in_progress" // stored labels come back canonical
	if !snapshotsEqual(in, out) {
		t.Errorf("round trip:\n in  %+v\n out %+v", in, out)
	}
	if out.Deadline.Location() != time.UTC {
		t.Errorf("Deadline in %v, want UTC", out.Deadline.Location())
	}

	for _, bad := range []task.Snapshot{
		{ID: taskID, Status: "lost", Priority: "high"},
		{ID: taskID, Status: "done", Priority: "whenever"},
	} {
		if _, err := task.UnmarshalTaskFromDatabase(bad, nil); err == nil {
			t.Errorf("UnmarshalTaskFromDatabase(%+v) accepted a bad row", bad)
		}
	}
}
