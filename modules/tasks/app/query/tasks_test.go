package query_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/taskd/taskd/modules/kernel/decorator"
	"github.com/taskd/taskd/modules/tasks/app/query"
	"github.com/taskd/taskd/modules/tasks/domain/task"
)

type fakeReadModel struct {
	got   *query.Filter
	tasks map[string]query.Task
}

func (f *fakeReadModel) FindTasks(_ context.Context, fl query.Filter) (query.Page, error) {
	f.got = &fl
	return query.Page{Tasks: []query.Task{{ID: "t1"}}}, nil
}

func (f *fakeReadModel) TaskByID(_ context.Context, id string) (query.Task, error) {
	t, ok := f.tasks[id]
	if !ok {
		return query.Task{}, task.ErrNotFound
	}
	return t, nil
}

var discard = slog.New(slog.DiscardHandler)

func TestTasksValidatesLimitAndSort(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		in        query.Filter
		wantErr   error
		wantLimit int
		wantSort  query.Sort
	}{
		{name: "defaults", in: query.Filter{}, wantLimit: query.DefaultLimit, wantSort: query.SortCreatedDesc},
		{name: "max", in: query.Filter{Limit: query.MaxLimit, Sort: query.SortPriority}, wantLimit: query.MaxLimit, wantSort: query.SortPriority},
		{name: "one", in: query.Filter{Limit: 1, Sort: query.SortUpdatedDesc}, wantLimit: 1, wantSort: query.SortUpdatedDesc},
		{name: "too many", in: query.Filter{Limit: query.MaxLimit + 1}, wantErr: query.ErrInvalidLimit},
		{name: "negative", in: query.Filter{Limit: -1}, wantErr: query.ErrInvalidLimit},
		{name: "unknown sort", in: query.Filter{Sort: "name"}, wantErr: query.ErrInvalidSort},
		{name: "sort with a space", in: query.Filter{Sort: " priority"}, wantErr: query.ErrInvalidSort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rm := &fakeReadModel{}
			h := query.NewTasksHandler(rm, discard, decorator.NopMetrics{})
			page, err := h.Handle(context.Background(), query.Tasks{Filter: tt.in})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || rm.got != nil {
					t.Fatalf("err = %v (read model called: %v), want %v", err, rm.got != nil, tt.wantErr)
				}
				return
			}
			if err != nil || len(page.Tasks) != 1 {
				t.Fatalf("Handle = %+v, %v", page, err)
			}
			if rm.got.Limit != tt.wantLimit || rm.got.Sort != tt.wantSort {
				t.Errorf("read model got limit %d, sort %q; want %d, %q", rm.got.Limit, rm.got.Sort, tt.wantLimit, tt.wantSort)
			}
		})
	}
}

func TestSortFromString(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"priority", "deadline", "created", "-created", "updated", "-updated"} {
		if got, err := query.SortFromString(s); err != nil || string(got) != s {
			t.Errorf("SortFromString(%q) = %q, %v", s, got, err)
		}
	}
	if got, err := query.SortFromString(""); err != nil || got != query.SortCreatedDesc {
		t.Errorf("SortFromString(\"\") = %q, %v", got, err)
	}
	for _, s := range []string{"-priority", "Priority", "created_at"} {
		if _, err := query.SortFromString(s); !errors.Is(err, query.ErrInvalidSort) {
			t.Errorf("SortFromString(%q) err = %v", s, err)
		}
	}
}

func TestTaskByID(t *testing.T) {
	t.Parallel()
	rm := &fakeReadModel{tasks: map[string]query.Task{"t1": {ID: "t1", Name: "n"}}}
	h := query.NewTaskByIDHandler(rm, discard, decorator.NopMetrics{})
	if got, err := h.Handle(context.Background(), query.TaskByID{ID: "t1"}); err != nil || got.Name != "n" {
		t.Errorf("Handle = %+v, %v", got, err)
	}
	if _, err := h.Handle(context.Background(), query.TaskByID{ID: "t2"}); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
}
