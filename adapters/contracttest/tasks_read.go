package contracttest

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taskd/taskd/modules/tasks/app/query"
	"github.com/taskd/taskd/modules/tasks/domain/task"
)

// fixture is one task of the list suite, as the suite expects to read it.
type fixture struct {
	id, name, status, priority string
	rank                       int
	deadline                   *time.Time
	pic, sup                   string
	createdAt, updatedAt       time.Time
}

// listFixtures stores a varied set of tasks of one fresh creator: ties in
// every sort key, tasks without deadline, names with LIKE wildcards, case
// and non-ASCII letters.
func listFixtures(t *testing.T, env Env) (creator string, pics, sups [2]string, fx []fixture) {
	creator = newID()
	pics = [2]string{newID(), newID()}
	sups = [2]string{newID(), newID()}
	d1, d2, d3 := at(24*time.Hour), at(48*time.Hour), at(96*time.Hour)
	specs := []struct {
		name     string
		status   task.Status
		priority task.Priority
		deadline *time.Time
		pic, sup int // index+1, 0 = none
		created  time.Duration
		touch    time.Duration // > 0: renamed (to the same name + "!") at that time
	}{
		{"Alpha report", task.StatusWaiting, task.PriorityHigh, &d1, 1, 1, 0, 0},
		{"alpha REVIEW", task.StatusInProgress, task.PriorityHigh, &d1, 2, 0, 0, 5 * time.Hour},
		{"Beta 100% done", task.StatusDone, task.PriorityLow, nil, 1, 2, time.Minute, 0},
		{"gamma_delta", task.StatusWaiting, task.PriorityUrgent, &d2, 0, 1, time.Minute, 0},
		{"gammaXdelta", task.StatusWaiting, task.PriorityUrgent, nil, 2, 2, 2 * time.Minute, time.Hour},
		{"ÉCOLE Ünïcode", task.StatusInProgress, task.PriorityMedium, &d3, 1, 0, 3 * time.Minute, 0},
		{"한글 작업 목록", task.StatusWaiting, task.PriorityMedium, &d2, 0, 0, 3 * time.Minute, 2 * time.Hour},
		{"bang! mark", task.StatusDone, task.PriorityLow, &d3, 2, 1, 4 * time.Minute, 0},
		{"plain", task.StatusWaiting, task.PriorityMedium, nil, 0, 2, 5 * time.Minute, 0},
		{"plain too", task.StatusInProgress, task.PriorityUrgent, &d1, 1, 1, 5 * time.Minute, 3 * time.Hour},
		{"no deadline either", task.StatusWaiting, task.PriorityHigh, nil, 2, 0, 6 * time.Minute, 0},
		{"last", task.StatusWaiting, task.PriorityHigh, &d3, 0, 0, 7 * time.Minute, 0},
		{"100 percent", task.StatusWaiting, task.PriorityLow, &d2, 1, 2, 8 * time.Minute, 0},
	}
	for _, s := range specs {
		p := task.NewTaskParams{Name: s.name, Status: s.status, Priority: s.priority, Deadline: s.deadline, CreatorID: creator}
		if s.pic > 0 {
			p.PICID = pics[s.pic-1]
		}
		if s.sup > 0 {
			p.SupervisorID = sups[s.sup-1]
		}
		tk := addTask(t, env, p, at(s.created))
		f := fixture{
			id: tk.ID(), name: s.name, status: s.status.String(), priority: s.priority.String(), rank: s.priority.Rank(),
			deadline: s.deadline, pic: p.PICID, sup: p.SupervisorID, createdAt: at(s.created), updatedAt: at(s.created),
		}
		if s.touch > 0 {
			f.name += "!"
			f.updatedAt = at(s.touch)
			must(t, env.Tasks.Update(ctxOf(t), tk.ID(), rename(f.name, f.updatedAt)))
		}
		fx = append(fx, f)
	}
	return creator, pics, sups, fx
}

func deadlineKey(d *time.Time) int64 {
	if d == nil {
		return 1<<63 - 1
	}
	return d.UnixMicro()
}

// expectedOrder is the documented order of each sort, written out
// independently of the adapters.
func expectedOrder(s query.Sort, a, b fixture) int {
	switch s {
	case query.SortPriority:
		return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(deadlineKey(a.deadline), deadlineKey(b.deadline)), strings.Compare(a.id, b.id))
	case query.SortDeadline:
		return cmp.Or(cmp.Compare(deadlineKey(a.deadline), deadlineKey(b.deadline)), strings.Compare(a.id, b.id))
	case query.SortCreated:
		return cmp.Or(a.createdAt.Compare(b.createdAt), strings.Compare(a.id, b.id))
	case query.SortCreatedDesc:
		return -cmp.Or(a.createdAt.Compare(b.createdAt), strings.Compare(a.id, b.id))
	case query.SortUpdated:
		return cmp.Or(a.updatedAt.Compare(b.updatedAt), strings.Compare(a.id, b.id))
	case query.SortUpdatedDesc:
		return -cmp.Or(a.updatedAt.Compare(b.updatedAt), strings.Compare(a.id, b.id))
	}
	panic("unknown sort " + s)
}

var allSorts = []query.Sort{query.SortPriority, query.SortDeadline, query.SortCreated, query.SortCreatedDesc, query.SortUpdated, query.SortUpdatedDesc}

// allPages reads every page of f and checks the pages: full but the last,
// a cursor on all but the last, no task twice.
func allPages(t testing.TB, env Env, f query.Filter) []query.Task {
	t.Helper()
	var out []query.Task
	seen := map[string]bool{}
	for page := 0; ; page++ {
		if page > 10000 {
			t.Fatal("pagination does not end")
		}
		p, err := env.TaskQueries.FindTasks(ctxOf(t), f)
		must(t, err)
		for _, tk := range p.Tasks {
			if seen[tk.ID] {
				t.Fatalf("task %s (%s) returned twice (page %d, filter %+v)", tk.ID, tk.Name, page, f)
			}
			seen[tk.ID] = true
		}
		out = append(out, p.Tasks...)
		if p.NextCursor == "" {
			if page > 0 && len(p.Tasks) == 0 {
				t.Fatalf("empty last page: the cursor before it promised more (filter %+v)", f)
			}
			if f.Limit > 0 && len(p.Tasks) > f.Limit {
				t.Fatalf("page of %d tasks, limit %d", len(p.Tasks), f.Limit)
			}
			return out
		}
		if f.Limit > 0 && len(p.Tasks) != f.Limit {
			t.Fatalf("page %d has %d tasks and a next cursor, limit %d", page, len(p.Tasks), f.Limit)
		}
		f.Cursor = p.NextCursor
	}
}

func ids(tasks []query.Task) []string {
	out := make([]string, len(tasks))
	for i, tk := range tasks {
		out[i] = tk.ID
	}
	return out
}

func wantList(t testing.TB, env Env, f query.Filter, fx []fixture, keep func(fixture) bool) {
	t.Helper()
	sort := f.Sort
	if sort == "" {
		sort = query.SortCreatedDesc
	}
	var want []fixture
	for _, x := range fx {
		if keep(x) {
			want = append(want, x)
		}
	}
	slices.SortFunc(want, func(a, b fixture) int { return expectedOrder(sort, a, b) })
	wantIDs := []string{}
	for _, x := range want {
		wantIDs = append(wantIDs, x.id)
	}
	got := ids(allPages(t, env, f))
	if !slices.Equal(got, wantIDs) {
		name := map[string]string{}
		for _, x := range fx {
			name[x.id] = x.name
		}
		names := func(ids []string) (out []string) {
			for _, id := range ids {
				out = append(out, name[id])
			}
			return out
		}
		t.Fatalf("filter %+v:\n got  %q\n want %q", f, names(got), names(wantIDs))
	}
}

// TasksReadModel is the contract of the tasks read model: every filter and
// sort, keyset pagination, cursors.
func TasksReadModel(t *testing.T, newEnv func(testing.TB) Env) {
	env := newEnv(t)
	creator, pics, sups, fx := listFixtures(t, env)
	all := func(fixture) bool { return true }

	t.Run("every sort pages through every task once, in order", func(t *testing.T) {
		t.Parallel()
		for _, s := range allSorts {
			for _, limit := range []int{1, 3, 5, len(fx), 50} {
				wantList(t, env, query.Filter{CreatorID: creator, Sort: s, Limit: limit}, fx, all)
			}
		}
		wantList(t, env, query.Filter{CreatorID: creator}, fx, all) // default: newest first
	})

	t.Run("filters", func(t *testing.T) {
		t.Parallel()
		due := at(48 * time.Hour)
		cases := []struct {
			name string
			f    query.Filter
			keep func(fixture) bool
		}{
			{"status", query.Filter{Status: "waiting"}, func(x fixture) bool { return x.status == "waiting" }},
			{"status in Korean", query.Filter{Status: "진행 중"}, func(x fixture) bool { return x.status == "in_progress" }},
			{"priority", query.Filter{Priority: "urgent"}, func(x fixture) bool { return x.priority == "urgent" }},
			{"pic", query.Filter{PICID: pics[0]}, func(x fixture) bool { return x.pic == pics[0] }},
			{"supervisor", query.Filter{SupervisorID: sups[1]}, func(x fixture) bool { return x.sup == sups[1] }},
			{"pic and status", query.Filter{PICID: pics[1], Status: "waiting"}, func(x fixture) bool {
				return x.pic == pics[1] && x.status == "waiting"
			}},
			{"due before", query.Filter{DueBefore: &due}, func(x fixture) bool { return x.deadline != nil && x.deadline.Before(due) }},
			{"due after", query.Filter{DueAfter: &due}, func(x fixture) bool { return x.deadline != nil && !x.deadline.Before(due) }},
			{"due between", query.Filter{DueAfter: ptr(at(24 * time.Hour)), DueBefore: ptr(at(96 * time.Hour))}, func(x fixture) bool {
				return x.deadline != nil && !x.deadline.Before(at(24*time.Hour)) && x.deadline.Before(at(96*time.Hour))
			}},
			{"name, any case", query.Filter{NameContains: "ALPHA"}, func(x fixture) bool { return strings.HasPrefix(strings.ToLower(x.name), "alpha") }},
			{"name, non-ASCII case", query.Filter{NameContains: "école"}, func(x fixture) bool { return strings.HasPrefix(x.name, "ÉCOLE") }},
			{"name, Korean", query.Filter{NameContains: "작업"}, func(x fixture) bool { return strings.HasPrefix(x.name, "한글") }},
			{"name, literal %", query.Filter{NameContains: "100%"}, func(x fixture) bool { return strings.Contains(x.name, "100%") }},
			{"name, literal _", query.Filter{NameContains: "a_d"}, func(x fixture) bool { return strings.Contains(x.name, "a_d") }},
			{"name, literal !", query.Filter{NameContains: "g!"}, func(x fixture) bool { return strings.Contains(x.name, "g!") }},
			{"name, no match", query.Filter{NameContains: "%%"}, func(fixture) bool { return false }},
			{"everything", query.Filter{Status: "waiting", Priority: "high", PICID: pics[0], SupervisorID: sups[0], DueBefore: &due, NameContains: "report"},
				func(x fixture) bool { return strings.HasPrefix(x.name, "Alpha report") }},
		}
		for _, c := range cases {
			for _, s := range []query.Sort{"", query.SortPriority, query.SortUpdated} {
				f := c.f
				f.CreatorID, f.Sort, f.Limit = creator, s, 2
				wantList(t, env, f, fx, c.keep)
			}
		}
		// The creator filter itself, and filters that select no task of ours.
		wantList(t, env, query.Filter{CreatorID: creator, Limit: 4}, fx, all)
		wantList(t, env, query.Filter{CreatorID: newID()}, fx, func(fixture) bool { return false })
	})

	t.Run("pages do not repeat a task that moved between them", func(t *testing.T) {
		t.Parallel()
		mover := newID()
		var moved []fixture
		for i := range 4 {
			tk := addTask(t, env, task.NewTaskParams{CreatorID: mover, Name: fmt.Sprint("mover ", i)}, at(time.Duration(i)*time.Minute))
			moved = append(moved, fixture{id: tk.ID()})
		}
		f := query.Filter{CreatorID: mover, Sort: query.SortUpdatedDesc, Limit: 2}
		first, err := env.TaskQueries.FindTasks(ctxOf(t), f)
		must(t, err)
		// The first task of page 1 is updated again: it moves to the front.
		must(t, env.Tasks.Update(ctxOf(t), first.Tasks[0].ID, rename("moved", at(time.Hour))))
		f.Cursor = first.NextCursor
		rest := allPages(t, env, f)
		equal(t, "rest", len(rest), 2)
		for _, tk := range rest {
			if tk.ID == first.Tasks[0].ID || tk.ID == first.Tasks[1].ID {
				t.Fatalf("task %s repeated", tk.ID)
			}
		}
	})

	t.Run("the whole table pages without duplicates", func(t *testing.T) {
		t.Parallel()
		got := allPages(t, env, query.Filter{Sort: query.SortCreated, Limit: query.MaxLimit})
		ours := map[string]bool{}
		for _, x := range fx {
			ours[x.id] = true
		}
		var order []fixture
		byID := map[string]fixture{}
		for _, x := range fx {
			byID[x.id] = x
		}
		for _, tk := range got {
			if ours[tk.ID] {
				order = append(order, byID[tk.ID])
			}
		}
		equal(t, "tasks of ours", len(order), len(fx))
		if !slices.IsSortedFunc(order, func(a, b fixture) int { return expectedOrder(query.SortCreated, a, b) }) {
			t.Fatal("our tasks are out of order in the whole table")
		}
	})

	t.Run("bad cursors, sorts and filters are refused", func(t *testing.T) {
		t.Parallel()
		p, err := env.TaskQueries.FindTasks(ctxOf(t), query.Filter{CreatorID: creator, Sort: query.SortCreated, Limit: 2})
		must(t, err)
		if p.NextCursor == "" {
			t.Fatal("no next cursor")
		}
		for _, c := range []struct {
			name string
			f    query.Filter
			want error
		}{
			{"garbage", query.Filter{Cursor: "not a cursor!"}, query.ErrInvalidCursor},
			{"not JSON", query.Filter{Cursor: base64.RawURLEncoding.EncodeToString([]byte("{oops"))}, query.ErrInvalidCursor},
			{"empty JSON", query.Filter{Cursor: base64.RawURLEncoding.EncodeToString([]byte("{}"))}, query.ErrInvalidCursor},
			{"other sort", query.Filter{Cursor: p.NextCursor, Sort: query.SortPriority}, query.ErrInvalidCursor},
			{"other direction", query.Filter{Cursor: p.NextCursor, Sort: query.SortCreatedDesc}, query.ErrInvalidCursor},
			{"sort", query.Filter{Sort: "name"}, query.ErrInvalidSort},
			{"status", query.Filter{Status: "sleeping"}, task.ErrInvalidStatus},
			{"priority", query.Filter{Priority: "whenever"}, task.ErrInvalidPriority},
		} {
			c.f.CreatorID = creator
			_, err := env.TaskQueries.FindTasks(ctxOf(t), c.f)
			if err == nil {
				t.Fatalf("%s: no error", c.name)
			}
			wantErr(t, err, c.want)
		}
		// The cursor works with the sort it was made for.
		p2, err := env.TaskQueries.FindTasks(ctxOf(t), query.Filter{CreatorID: creator, Sort: query.SortCreated, Limit: 2, Cursor: p.NextCursor})
		must(t, err)
		equal(t, "second page", len(p2.Tasks), 2)
	})

	t.Run("task by id", func(t *testing.T) {
		t.Parallel()
		got, err := env.TaskQueries.TaskByID(ctxOf(t), fx[0].id)
		must(t, err)
		equal(t, "name", got.Name, fx[0].name)
		_, err = env.TaskQueries.TaskByID(context.WithoutCancel(ctxOf(t)), newID())
		wantErr(t, err, task.ErrNotFound)
	})
}
