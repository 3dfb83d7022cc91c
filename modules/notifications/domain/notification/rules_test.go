package notification_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/taskd/taskd/modules/kernel/event"
	n "github.com/taskd/taskd/modules/notifications/domain/notification"
)

func task() n.Task {
	return n.Task{ID: "t1", Name: "Report", Status: "in_progress", Priority: "medium",
		PICID: "pic", SupervisorID: "sup", CreatorID: "creator"}
}

// told renders a plan as sorted "user:kind:roles" lines.
func told(in []n.Intent) []string {
	out := []string{}
	for _, i := range in {
		var roles []string
		for _, r := range i.Roles {
			roles = append(roles, string(r))
		}
		out = append(out, i.UserID+":"+i.Kind.String()+":"+strings.Join(roles, "+"))
	}
	slices.Sort(out)
	return out
}

func ch(f string, o, nw any) event.Change { return event.Change{Field: f, Old: o, New: nw} }

func TestPlanWhoIsToldWhat(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		event   string
		actor   string
		mutate  func(*n.Task)
		changes []event.Change
		want    []string
	}{
		{"created: PIC and supervisor", n.EventTaskCreated, "creator", nil, nil,
			[]string{"pic:task_assigned:pic", "sup:task_assigned:supervisor"}},
		{"created by the PIC: never the actor", n.EventTaskCreated, "pic", nil, nil,
			[]string{"sup:task_assigned:supervisor"}},
		{"created without people: nobody", n.EventTaskCreated, "creator",
			func(t *n.Task) { t.PICID, t.SupervisorID = "", "" }, nil, []string{}},
		{"created with one person in both roles: one message", n.EventTaskCreated, "creator",
			func(t *n.Task) { t.SupervisorID = "pic" }, nil, []string{"pic:task_assigned:pic+supervisor"}},
		{"PIC changed: new and old", n.EventTaskAssigned, "creator", nil,
			[]event.Change{ch("pic_id", "old", "pic")}, []string{"old:task_assigned:old_pic", "pic:task_assigned:pic"}},
		{"supervisor removed: the old one", n.EventTaskAssigned, "creator", nil,
			[]event.Change{ch("supervisor_id", "sup", nil)}, []string{"sup:task_assigned:old_supervisor"}},
		{"old PIC becomes supervisor: one message naming both", n.EventTaskAssigned, "creator", nil,
			[]event.Change{ch("pic_id", "sup", "pic"), ch("supervisor_id", "x", "sup")},
			[]string{"pic:task_assigned:pic", "sup:task_assigned:old_pic+supervisor", "x:task_assigned:old_supervisor"}},
		{"the PIC hands the task on: not told about their own change", n.EventTaskAssigned, "pic", nil,
			[]event.Change{ch("pic_id", "pic", "new")}, []string{"new:task_assigned:pic"}},
		{"account deletion released the task: the deleted user is the actor", n.EventTaskAssigned, "pic", nil,
			[]event.Change{ch("pic_id", "pic", nil)}, []string{}},
		{"status changed: creator, PIC, supervisor", n.EventTaskStatusChanged, "pic", nil,
			[]event.Change{ch("status", "waiting", "in_progress")}, []string{"creator:status_changed:creator", "sup:status_changed:supervisor"}},
		{"status changed by someone else (an admin)", n.EventTaskStatusChanged, "admin", nil,
			[]event.Change{ch("status", "in_progress", "done")},
			[]string{"creator:status_changed:creator", "pic:status_changed:pic", "sup:status_changed:supervisor"}},
		{"completed: told by the status change recorded with it", n.EventTaskCompleted, "pic", nil, nil, []string{}},
		{"reopened: told by the status change recorded with it", n.EventTaskReopened, "pic", nil, nil, []string{}},
		{"deadline changed: PIC", n.EventTaskUpdated, "creator", nil,
			[]event.Change{ch("deadline", nil, "2026-03-03T23:59:59Z")}, []string{"pic:task_updated:pic"}},
		{"priority changed: PIC", n.EventTaskUpdated, "sup", nil,
			[]event.Change{ch("priority", "low", "high")}, []string{"pic:task_updated:pic"}},
		{"name or contents changed: nobody", n.EventTaskUpdated, "creator", nil,
			[]event.Change{ch("name", "a", "b"), ch("contents", "", "x")}, []string{}},
		{"deleted: PIC and supervisor", n.EventTaskDeleted, "creator", nil, nil,
			[]string{"pic:task_deleted:pic", "sup:task_deleted:supervisor"}},
		{"a system change tells everyone concerned", n.EventTaskDeleted, "", nil, nil,
			[]string{"pic:task_deleted:pic", "sup:task_deleted:supervisor"}},
		{"an unknown event: nobody", "TaskArchived", "creator", nil, nil, []string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tk := task()
			if c.mutate != nil {
				c.mutate(&tk)
			}
			got := told(n.Plan(n.TaskEvent{ID: "e1", Name: c.event, ActorID: c.actor, Task: tk, Changes: c.changes}))
			want := append([]string{}, c.want...)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("told %v, want %v", got, want)
			}
		})
	}
}

func TestPeopleNamesEveryoneAMessageMayMention(t *testing.T) {
	t.Parallel()
	e := n.TaskEvent{ActorID: "a", Task: task(), Changes: []event.Change{ch("pic_id", "old", "pic"), ch("supervisor_id", nil, "sup")}}
	got := e.People()
	slices.Sort(got)
	if want := []string{"a", "creator", "old", "pic", "sup"}; !slices.Equal(got, want) {
		t.Fatalf("People() = %v, want %v", got, want)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	if err := (n.TaskEvent{ID: "e", Name: n.EventTaskCreated, Task: task()}).Validate(); err != nil {
		t.Fatal(err)
	}
	for _, e := range []n.TaskEvent{{Name: "x", Task: task()}, {ID: "e", Task: task()}, {ID: "e", Name: "x"}} {
		if e.Validate() == nil {
			t.Errorf("%+v: no error", e)
		}
	}
}
