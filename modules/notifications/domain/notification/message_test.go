package notification_test

import (
	"strings"
	"testing"
	"time"

	"github.com/taskd/taskd/modules/kernel/event"
	n "github.com/taskd/taskd/modules/notifications/domain/notification"
)

func seoul(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestRenderSaysWhatChangedWhoDidItAndLinks(t *testing.T) {
	t.Parallel()
	deadline := time.Date(2026, 3, 3, 14, 59, 59, 0, time.UTC) // 23:59 KST
	names := map[string]string{"creator": "김철수", "pic": "이영희", "sup": "Park", "old": "Old PIC"}
	tk := task()
	tk.Name, tk.Deadline = "주간 보고서", &deadline
	link := "https://taskd.example/tasks/t1"
	cases := []struct {
		name, locale string
		facts        n.Facts
		title        string
		body         []string
	}{
		{"created, ko", "ko", n.Facts{Kind: n.KindTaskAssigned, Event: n.EventTaskCreated, Roles: []n.Role{n.RolePIC}, ActorID: "creator"},
			"[새 작업] 주간 보고서", []string{"김철수님이", "“주간 보고서”", "담당자로", "2026-03-03 23:59 KST"}},
		{"created, en, supervisor", "en", n.Facts{Kind: n.KindTaskAssigned, Event: n.EventTaskCreated, Roles: []n.Role{n.RoleSupervisor}, ActorID: "creator"},
			"[New task] 주간 보고서", []string{"김철수 created the task “주간 보고서” with you as its supervisor."}},
		{"PIC changed, old → new", "en", n.Facts{Kind: n.KindTaskAssigned, Event: n.EventTaskAssigned, Roles: []n.Role{n.RolePIC}, ActorID: "creator",
			Changes: []event.Change{{Field: "pic_id", Old: "old", New: "pic"}}},
			"[Assignment] 주간 보고서", []string{"assigned you to the task", "PIC: Old PIC → 이영희"}},
		{"a deleted old PIC and nobody new", "ko", n.Facts{Kind: n.KindTaskAssigned, Event: n.EventTaskAssigned, Roles: []n.Role{n.RoleOldSupervisor}, ActorID: "creator",
			Changes: []event.Change{{Field: "supervisor_id", Old: "gone", New: nil}}},
			"[배정 변경] 주간 보고서", []string{"감독자: (삭제된 사용자) → 없음"}},
		{"status, ko", "ko", n.Facts{Kind: n.KindStatusChanged, Event: n.EventTaskStatusChanged, ActorID: "pic",
			Changes: []event.Change{{Field: "status", Old: "waiting", New: "in_progress"}}},
			"[상태 변경] 주간 보고서", []string{"이영희님이", "상태: 대기 → 진행 중"}},
		{"completed, en", "en", n.Facts{Kind: n.KindStatusChanged, Event: n.EventTaskStatusChanged, ActorID: "pic",
			Task: n.Task{Status: "done"}, Changes: []event.Change{{Field: "status", Old: "in_progress", New: "done"}}},
			"[Done] 주간 보고서", []string{"Status: in progress → done"}},
		{"reopened, ko", "ko", n.Facts{Kind: n.KindStatusChanged, Event: n.EventTaskStatusChanged, ActorID: "sup",
			Changes: []event.Change{{Field: "status", Old: "done", New: "in_progress"}}},
			"[다시 열림] 주간 보고서", []string{"Park님이", "완료 → 진행 중"}},
		{"deadline and priority, en", "en", n.Facts{Kind: n.KindTaskUpdated, Event: n.EventTaskUpdated, ActorID: "creator",
			Changes: []event.Change{{Field: "deadline", Old: nil, New: "2026-03-03T14:59:59Z"}, {Field: "priority", Old: "medium", New: "urgent"}}},
			"[Changed] 주간 보고서", []string{"Deadline: none → 2026-03-03 23:59 KST", "Priority: medium → urgent"}},
		{"deleted by the system", "ko", n.Facts{Kind: n.KindTaskDeleted, Event: n.EventTaskDeleted},
			"[작업 삭제] 주간 보고서", []string{"taskd님이 작업을 삭제했습니다: “주간 보고서”"}},
		{"deadline near", "en", n.Facts{Kind: n.KindDeadlineReminder}, "[Due soon] 주간 보고서", []string{"is due 2026-03-03 23:59 KST"}},
		{"overdue, any other locale reads Korean", "fr", n.Facts{Kind: n.KindOverdue}, "[기한 지남] 주간 보고서", []string{"마감이 지났습니다"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := c.facts
			status := f.Task.Status
			f.Task, f.Names, f.Link = tk, names, link
			if status != "" {
				f.Task.Status = status
			}
			m := n.Render(c.locale, seoul(t), f)
			if m.Title != c.title {
				t.Errorf("title %q, want %q", m.Title, c.title)
			}
			for _, want := range append(c.body, link) {
				if !strings.Contains(m.Body, want) {
					t.Errorf("body %q lacks %q", m.Body, want)
				}
			}
			if !strings.HasPrefix(m.Short, "[taskd] "+c.title) || !strings.HasSuffix(m.Short, link) {
				t.Errorf("short %q", m.Short)
			}
		})
	}
}

func TestRenderNeverFormatsUserText(t *testing.T) {
	t.Parallel()
	tk := task()
	tk.Name = "%s %d %v"
	m := n.Render("en", time.UTC, n.Facts{Kind: n.KindTaskDeleted, Event: n.EventTaskDeleted, ActorID: "x",
		Names: map[string]string{"x": "%s"}, Task: tk})
	if m.Body != "%s deleted the task “%s %d %v”." {
		t.Fatalf("body %q", m.Body)
	}
}

func TestLocales(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"": "ko", "ko": "ko", "en": "en", "en-US": "en", "EN": "en", "ja": "ko"} {
		if got := n.NormalLocale(in); got != want {
			t.Errorf("NormalLocale(%q) = %q", in, got)
		}
	}
	if n.DefaultZone("en") != "UTC" || n.DefaultZone("ko") != "Asia/Seoul" {
		t.Error("default zones")
	}
}
