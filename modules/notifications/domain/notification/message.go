package notification

import (
	"strings"
	"time"
	_ "time/tzdata" // quiet hours and deadlines in the user's zone, even on a host without zoneinfo

	"github.com/taskd/taskd/modules/kernel/event"
)

// Message is what a person reads: a title (inbox title, e-mail subject), a
// body that says what changed, old → new, who did it and links to the task,
// and a short form for SMS.
type Message struct {
	Title string
	Body  string
	Short string
}

// Facts are what a message says.
type Facts struct {
	Kind  Kind
	Event string // the task event's name; "" for reminders
	Roles []Role // why the reader is told
	Task  Task
	// ActorID did the change ("" for the system); Names maps user ids to
	// display names, a missing id is a deleted user.
	ActorID string
	Names   map[string]string
	Changes []event.Change
	Link    string
}

// Locales messages are written in; anything else reads Korean.
const (
	LocaleKorean  = "ko"
	LocaleEnglish = "en"
)

// NormalLocale maps a user's locale to one messages exist in (default ko).
func NormalLocale(l string) string {
	if strings.HasPrefix(strings.ToLower(l), "en") {
		return LocaleEnglish
	}
	return LocaleKorean
}

// DefaultZone is the zone deadlines are shown in when the user chose none:
// Seoul for Korean, UTC otherwise.
func DefaultZone(locale string) string {
	if NormalLocale(locale) == LocaleEnglish {
		return "UTC"
	}
	return "Asia/Seoul"
}

// Render writes f in locale, showing times in loc.
func Render(locale string, loc *time.Location, f Facts) Message {
	if loc == nil {
		loc = time.UTC
	}
	w := words[NormalLocale(locale)]
	r := renderer{w: w, loc: loc, f: f}
	title, body := r.text()
	if f.Link != "" {
		body += "\n" + f.Link
	}
	short := "[taskd] " + title
	if f.Link != "" {
		short += " " + f.Link
	}
	return Message{Title: title, Body: body, Short: short}
}

type renderer struct {
	w   lexicon
	loc *time.Location
	f   Facts
}

func (r renderer) name() string { return quote(truncate(r.f.Task.Name, 80)) }

func (r renderer) person(id string) string {
	if id == "" {
		return r.w.nobody
	}
	if n, ok := r.f.Names[id]; ok && n != "" {
		return n
	}
	return r.w.deletedUser
}

func (r renderer) actor() string {
	if r.f.ActorID == "" {
		return r.w.system
	}
	return r.person(r.f.ActorID)
}

func (r renderer) has(role Role) bool {
	for _, x := range r.f.Roles {
		if x == role {
			return true
		}
	}
	return false
}

func (r renderer) deadline(t *time.Time) string {
	if t == nil {
		return r.w.none
	}
	return t.In(r.loc).Format("2006-01-02 15:04 MST")
}

// value shows a change's old or new value of field.
func (r renderer) value(field string, v any) string {
	s, _ := v.(string)
	switch field {
	case "pic_id", "supervisor_id":
		return r.person(s)
	case "deadline":
		if s == "" {
			return r.w.none
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return s
		}
		return r.deadline(&t)
	case "status":
		if l, ok := r.w.status[s]; ok {
			return l
		}
	case "priority":
		if l, ok := r.w.priority[s]; ok {
			return l
		}
	}
	if s == "" {
		return r.w.none
	}
	return s
}

func (r renderer) change(field string) (string, bool) {
	for _, c := range r.f.Changes {
		if c.Field == field {
			return r.value(field, c.Old) + " → " + r.value(field, c.New), true
		}
	}
	return "", false
}

func (r renderer) text() (title, body string) {
	w, f := r.w, r.f
	name, actor := r.name(), r.actor()
	switch f.Kind {
	case KindTaskAssigned:
		if f.Event == EventTaskCreated {
			role := w.rolePIC
			if !r.has(RolePIC) {
				role = w.roleSupervisor
			}
			if r.has(RolePIC) && r.has(RoleSupervisor) {
				role = w.roleBoth
			}
			return w.newTask + " " + f.Task.Name, sprintf(w.created, actor, name, role, r.deadline(f.Task.Deadline))
		}
		var lines []string
		if ch, ok := r.change("pic_id"); ok {
			lines = append(lines, w.pic+": "+ch)
		}
		if ch, ok := r.change("supervisor_id"); ok {
			lines = append(lines, w.supervisor+": "+ch)
		}
		lead := sprintf(w.assignedOther, actor, name)
		switch {
		case r.has(RolePIC) && r.has(RoleSupervisor):
			lead = sprintf(w.assignedYou, actor, name, w.roleBoth)
		case r.has(RolePIC):
			lead = sprintf(w.assignedYou, actor, name, w.rolePIC)
		case r.has(RoleSupervisor):
			lead = sprintf(w.assignedYou, actor, name, w.roleSupervisor)
		}
		return w.assignedTitle + " " + f.Task.Name, lead + "\n" + strings.Join(lines, "\n")
	case KindStatusChanged:
		ch, _ := r.change("status")
		t := w.statusTitle
		switch f.Task.Status {
		case "done":
			t = w.doneTitle
		default:
			for _, c := range f.Changes {
				if c.Field == "status" && c.Old == "done" {
					t = w.reopenedTitle
				}
			}
		}
		return t + " " + f.Task.Name, sprintf(w.statusChanged, actor, name) + "\n" + w.status_ + ": " + ch
	case KindTaskUpdated:
		var lines []string
		if ch, ok := r.change("deadline"); ok {
			lines = append(lines, w.deadlineWord+": "+ch)
		}
		if ch, ok := r.change("priority"); ok {
			lines = append(lines, w.priorityWord+": "+ch)
		}
		return w.updatedTitle + " " + f.Task.Name, sprintf(w.updated, actor, name) + "\n" + strings.Join(lines, "\n")
	case KindTaskDeleted:
		return w.deletedTitle + " " + f.Task.Name, sprintf(w.deleted, actor, name)
	case KindDeadlineReminder:
		return w.dueTitle + " " + f.Task.Name, sprintf(w.due, name, r.deadline(f.Task.Deadline))
	case KindOverdue:
		return w.overdueTitle + " " + f.Task.Name, sprintf(w.overdue, name, r.deadline(f.Task.Deadline))
	}
	return f.Task.Name, ""
}

// sprintf replaces %s in order; user text never becomes a format string.
func sprintf(format string, args ...string) string {
	var b strings.Builder
	for {
		i := strings.Index(format, "%s")
		if i < 0 || len(args) == 0 {
			b.WriteString(format)
			return b.String()
		}
		b.WriteString(format[:i])
		b.WriteString(args[0])
		format, args = format[i+2:], args[1:]
	}
}

func quote(s string) string { return "“" + s + "”" }

type lexicon struct {
	none, nobody, deletedUser, system                    string
	pic, supervisor, status_, deadlineWord, priorityWord string
	rolePIC, roleSupervisor, roleBoth                    string
	newTask, created                                     string
	assignedTitle, assignedYou, assignedOther            string
	statusTitle, doneTitle, reopenedTitle, statusChanged string
	updatedTitle, updated, deletedTitle, deleted         string
	dueTitle, due, overdueTitle, overdue                 string
	status, priority                                     map[string]string
}

// The words of each locale. Korean sentences put particles only after
// words of ours, never after a user's name or a task name.
var words = map[string]lexicon{
	LocaleKorean: {
		none: "없음", nobody: "없음", deletedUser: "(삭제된 사용자)", system: "taskd",
		pic: "담당자", supervisor: "감독자", status_: "상태", deadlineWord: "마감", priorityWord: "우선순위",
		rolePIC: "담당자", roleSupervisor: "감독자", roleBoth: "담당자 겸 감독자",
		newTask:       "[새 작업]",
		created:       "%s님이 만든 새 작업 %s의 %s로 회원님이 지정되었습니다.\n마감: %s",
		assignedTitle: "[배정 변경]",
		assignedYou:   "%s님이 작업 %s의 %s로 회원님을 지정했습니다.",
		assignedOther: "%s님이 작업 %s의 배정을 바꾸었습니다.",
		statusTitle:   "[상태 변경]", doneTitle: "[완료]", reopenedTitle: "[다시 열림]",
		statusChanged: "%s님이 작업 %s의 상태를 바꾸었습니다.",
		updatedTitle:  "[작업 수정]",
		updated:       "%s님이 작업 %s의 내용을 바꾸었습니다.",
		deletedTitle:  "[작업 삭제]",
		deleted:       "%s님이 작업을 삭제했습니다: %s",
		dueTitle:      "[마감 임박]",
		due:           "작업 %s의 마감이 다가옵니다: %s",
		overdueTitle:  "[기한 지남]",
		overdue:       "작업 %s의 마감이 지났습니다: %s",
		status:        map[string]string{"waiting": "대기", "in_progress": "진행 중", "done": "완료"},
		priority:      map[string]string{"low": "낮음", "medium": "보통", "high": "높음", "urgent": "긴급"},
	},
	LocaleEnglish: {
		none: "none", nobody: "nobody", deletedUser: "(deleted user)", system: "taskd",
		pic: "PIC", supervisor: "Supervisor", status_: "Status", deadlineWord: "Deadline", priorityWord: "Priority",
		rolePIC: "PIC", roleSupervisor: "supervisor", roleBoth: "PIC and supervisor",
		newTask:       "[New task]",
		created:       "%s created the task %s with you as its %s.\nDeadline: %s",
		assignedTitle: "[Assignment]",
		assignedYou:   "%s assigned you to the task %s as %s.",
		assignedOther: "%s changed who works on the task %s.",
		statusTitle:   "[Status]", doneTitle: "[Done]", reopenedTitle: "[Reopened]",
		statusChanged: "%s changed the status of the task %s.",
		updatedTitle:  "[Changed]",
		updated:       "%s changed the task %s.",
		deletedTitle:  "[Deleted]",
		deleted:       "%s deleted the task %s.",
		dueTitle:      "[Due soon]",
		due:           "The task %s is due %s.",
		overdueTitle:  "[Overdue]",
		overdue:       "The task %s is past its deadline (%s).",
		status:        map[string]string{"waiting": "waiting", "in_progress": "in progress", "done": "done"},
		priority:      map[string]string{"low": "low", "medium": "medium", "high": "high", "urgent": "urgent"},
	},
}
