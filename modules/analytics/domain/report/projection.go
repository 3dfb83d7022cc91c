package report

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/taskd/taskd/modules/analytics/domain/eventlog"
)

// Task statuses as the tasks module publishes them.
const (
	StatusWaiting    = "waiting"
	StatusInProgress = "in_progress"
	StatusDone       = "done"
)

// TaskState is what the projection keeps of one task: its state after the
// last event applied, which is event LastSeq, since Since. Events are
// applied strictly in sequence order (1, 2, 3 …), so the state is always
// the fold of a prefix of the task's events, whatever order they arrived in.
type TaskState struct {
	TaskID       string
	LastSeq      int64
	Since        time.Time
	Name         string
	Status       string
	Priority     string
	Deadline     *time.Time
	PICID        string
	SupervisorID string
	CreatorID    string
	StartedAt    *time.Time
	Deleted      bool
}

// IsOpen tells whether the task is waiting or in progress.
func (s TaskState) IsOpen() bool { return s.LastSeq > 0 && !s.Deleted && s.Status != StatusDone }

// OpenTask returns the task as the read models list open tasks.
func (s TaskState) OpenTask() OpenTask {
	return OpenTask{
		TaskID: s.TaskID, Name: s.Name, Priority: s.Priority, PICID: s.PICID, SupervisorID: s.SupervisorID,
		Deadline: s.Deadline, Since: s.Since,
	}
}

// OpenTask is a task open now, as the read models keep it for the
// questions "how many were open, how many overdue, at the end of a period"
// that no counter can answer for a state that has not ended yet.
type OpenTask struct {
	TaskID       string
	Name         string
	Priority     string
	PICID        string
	SupervisorID string
	Deadline     *time.Time
	// Since is when the task entered its current state (the last event).
	Since time.Time
}

// At tells whether t counts as open and as overdue at instant: an open
// task counts from Since on, overdue once instant is past its deadline.
func (t OpenTask) At(instant time.Time) (open, overdue bool) {
	if t.Since.After(instant) {
		return false, false
	}
	return true, t.Deadline != nil && t.Deadline.Before(instant)
}

// OpenGroup counts the tasks of one PIC and priority that are open, and
// overdue, at an instant (a team report needs counts, not the tasks).
type OpenGroup struct {
	PICID    string
	Priority string
	Open     int64
	Overdue  int64
}

// SummarizeOpen groups tasks as OpenSummary does, in PIC, priority order.
func SummarizeOpen(tasks []OpenTask, instant time.Time) []OpenGroup {
	type key struct{ pic, priority string }
	groups := map[key]*OpenGroup{}
	var keys []key
	for _, t := range tasks {
		open, overdue := t.At(instant)
		if !open {
			continue
		}
		k := key{t.PICID, t.Priority}
		g := groups[k]
		if g == nil {
			g = &OpenGroup{PICID: t.PICID, Priority: t.Priority}
			groups[k] = g
			keys = append(keys, k)
		}
		g.Open++
		if overdue {
			g.Overdue++
		}
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := strings.Compare(a.pic, b.pic); c != 0 {
			return c
		}
		return strings.Compare(a.priority, b.priority)
	})
	out := make([]OpenGroup, 0, len(keys))
	for _, k := range keys {
		out = append(out, *groups[k])
	}
	return out
}

// Instant is when a period's Open and Overdue are taken: the last
// microsecond of a past period, now for the current one.
func Instant(p Period, now time.Time, loc *time.Location) (instant time.Time, current bool) {
	end := p.End(loc)
	if end.After(now) {
		return now, true
	}
	return lastInstant(end), false
}

func lastInstant(end time.Time) time.Time { return end.Add(-time.Microsecond) }

// CounterKey names the counters of one scope in one period.
type CounterKey struct {
	Period string // Period.Key()
	Scope  Scope
}

// FactKey names what one task contributed to one user's numbers in one
// period: the tasks behind a user's report.
type FactKey struct {
	Period string
	UserID string
	TaskID string
}

// Fact is a task's contribution to a user's counters in a period, with the
// task's name and priority as of that contribution.
type Fact struct {
	Name     string
	Priority string
	Counts   Counters
}

// Effects are the counter increments and facts of applied events.
type Effects struct {
	Counters map[CounterKey]Counters
	Facts    map[FactKey]Fact
}

// NewEffects returns empty effects.
func NewEffects() Effects {
	return Effects{Counters: map[CounterKey]Counters{}, Facts: map[FactKey]Fact{}}
}

// IsEmpty tells whether e changes nothing.
func (e Effects) IsEmpty() bool { return len(e.Counters) == 0 && len(e.Facts) == 0 }

// Size is the number of counter rows and facts e touches.
func (e Effects) Size() int { return len(e.Counters) + len(e.Facts) }

func (e Effects) count(period string, scope Scope, metric, priority string, n int64) {
	k := CounterKey{Period: period, Scope: scope}
	c := e.Counters[k]
	if c == nil {
		c = Counters{}
		e.Counters[k] = c
	}
	c.Add(metric, n)
	if priority != "" {
		c.Add(ByPriority(metric, priority), n)
	}
}

func (e Effects) fact(period, userID, taskID, name, priority, metric string, n int64) {
	if userID == "" {
		return
	}
	k := FactKey{Period: period, UserID: userID, TaskID: taskID}
	f := e.Facts[k]
	if f.Counts == nil {
		f.Counts = Counters{}
	}
	f.Name, f.Priority = name, priority
	f.Counts.Add(metric, n)
	e.Facts[k] = f
}

// Merge adds o to e. Facts take o's name and priority: merge in the order
// the events were applied.
func (e Effects) Merge(o Effects) {
	for k, c := range o.Counters {
		dst := e.Counters[k]
		if dst == nil {
			dst = Counters{}
			e.Counters[k] = dst
		}
		dst.Merge(c)
	}
	for k, f := range o.Facts {
		dst := e.Facts[k]
		if dst.Counts == nil {
			dst.Counts = Counters{}
		}
		dst.Name, dst.Priority = f.Name, f.Priority
		dst.Counts.Merge(f.Counts)
		e.Facts[k] = dst
	}
}

// Errors of the projection.
var (
	// ErrOutOfOrder: an event was applied to a state that is not the one
	// right before it (a bug of the caller, which applies in order).
	ErrOutOfOrder = errors.New("report: event applied out of sequence order")
	// ErrStaleState: a Commit lost a race; read the state again.
	ErrStaleState = errors.New("report: the task's projected state moved on")
	// ErrRebuilding: the read models are being rebuilt; the rebuild will
	// project this event (the log has it), so the live projection skips it.
	ErrRebuilding = errors.New("report: read models are being rebuilt")
)

// Projector turns a task's events into counter increments. It is pure:
// the same events in the same order give the same effects, live or in a
// rebuild.
type Projector struct {
	// Loc is the report time zone: it decides in which week and month an
	// event falls.
	Loc *time.Location
}

// Apply applies e, the event after prev, and returns the task's next state
// and the effects. Periods are e's week and month in the report time zone.
//
// What counts, and for whom:
//   - created: the creator's user scope; the supervisor, pair and team scopes
//     of the task as created.
//   - assigned: when a task gets a PIC (at creation or by TaskAssigned): the
//     new PIC's scopes.
//   - started: the first time the task leaves waiting (StartedAt is set).
//   - completed, completed_on_time / completed_late (tasks with a deadline
//     at completion), cycle time (first start → done), reopened: the PIC's
//     scopes at the event.
//   - open and overdue at the end of a period: when an event ends the
//     previous state, every period end the previous state spanned is
//     counted for the PIC of that state (states still open are counted at
//     query time from the open tasks).
func (p Projector) Apply(prev TaskState, e eventlog.Entry) (TaskState, Effects, error) {
	if !e.IsTask() || e.Task == nil {
		return prev, Effects{}, eventlog.ErrMalformedEvent.WithMessage("event %s is not a task event with a snapshot", e.EventID)
	}
	if e.Sequence != prev.LastSeq+1 || (prev.LastSeq > 0 && prev.TaskID != e.AggregateID) {
		return prev, Effects{}, fmt.Errorf("%w: event %d of task %s after state %d of %q", ErrOutOfOrder, e.Sequence, e.AggregateID, prev.LastSeq, prev.TaskID)
	}
	eff := NewEffects()
	at := e.OccurredAt
	if prev.LastSeq > 0 {
		p.closeState(eff, prev, at)
	}
	s := e.Task
	taskID := e.AggregateID
	periods := [2]string{WeekOf(at, p.Loc).Key(), MonthOf(at, p.Loc).Key()}
	count := func(scopes []Scope, metric string, n int64, byPriority bool) {
		prio := ""
		if byPriority {
			prio = s.Priority
		}
		for _, per := range periods {
			for _, sc := range scopes {
				eff.count(per, sc, metric, prio, n)
			}
		}
	}
	fact := func(userID, metric string) {
		for _, per := range periods {
			eff.fact(per, userID, taskID, s.Name, s.Priority, metric, 1)
		}
	}
	pic := picScopes(s.PICID, s.SupervisorID)

	switch e.Type {
	case eventlog.TaskCreated:
		scopes := []Scope{UserScope(s.CreatorID)}
		if s.SupervisorID != "" {
			scopes = append(scopes, SupervisorScope(s.SupervisorID))
			if s.PICID != "" {
				scopes = append(scopes, PairScope(s.SupervisorID, s.PICID))
			}
		}
		count(append(scopes, TeamScope), Created, 1, true)
		fact(s.CreatorID, Created)
	case eventlog.TaskCompleted:
		count(pic, Completed, 1, true)
		fact(s.PICID, Completed)
		done := at
		if s.CompletedAt != nil {
			done = *s.CompletedAt
		}
		if s.Deadline != nil {
			metric := CompletedOnTime
			if done.After(*s.Deadline) {
				metric = CompletedLate
			}
			count(pic, metric, 1, true)
			fact(s.PICID, metric)
		}
		if s.StartedAt != nil {
			d := max(done.Sub(*s.StartedAt), 0)
			count(pic, CycleSecondsSum, int64(d/time.Second), false)
			count(pic, CycleCount, 1, false)
			count(pic, HistogramMetric(HistogramBucket(d)), 1, false)
		}
	case eventlog.TaskReopened:
		count(pic, Reopened, 1, true)
		fact(s.PICID, Reopened)
	}
	if s.PICID != "" && s.PICID != prev.PICID {
		count(pic, Assigned, 1, true)
		fact(s.PICID, Assigned)
	}
	if prev.StartedAt == nil && s.StartedAt != nil {
		count(pic, Started, 1, true)
		fact(s.PICID, Started)
	}

	since := at
	if prev.Since.After(since) {
		since = prev.Since // a clock behind the previous event's: states never overlap
	}
	next := TaskState{
		TaskID: taskID, LastSeq: e.Sequence, Since: since,
		Name: s.Name, Status: s.Status, Priority: s.Priority, Deadline: utc(s.Deadline),
		PICID: s.PICID, SupervisorID: s.SupervisorID, CreatorID: s.CreatorID, StartedAt: utc(s.StartedAt),
		Deleted: prev.Deleted || e.Type == eventlog.TaskDeleted,
	}
	return next, eff, nil
}

// closeState counts the previous state, which held from prev.Since until
// at, at the end of every week and month it spanned.
func (p Projector) closeState(eff Effects, prev TaskState, at time.Time) {
	if !prev.IsOpen() {
		return
	}
	scopes := picScopes(prev.PICID, prev.SupervisorID)
	for _, kind := range []PeriodKind{Week, Month} {
		for _, pe := range Ends(kind, prev.Since, at, p.Loc) {
			per := pe.Period.Key()
			_, overdue := prev.OpenTask().At(lastInstant(pe.At))
			for _, sc := range scopes {
				eff.count(per, sc, Open, prev.Priority, 1)
				if overdue {
					eff.count(per, sc, Overdue, prev.Priority, 1)
				}
			}
			eff.fact(per, prev.PICID, prev.TaskID, prev.Name, prev.Priority, Open, 1)
			if overdue {
				eff.fact(per, prev.PICID, prev.TaskID, prev.Name, prev.Priority, Overdue, 1)
			}
		}
	}
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
