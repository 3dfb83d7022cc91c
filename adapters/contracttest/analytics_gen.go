package contracttest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/taskd/taskd/modules/kernel/actor"
	"github.com/taskd/taskd/modules/kernel/event"
	"github.com/taskd/taskd/modules/tasks/domain/task"
)

// WorkloadConfig shapes a generated history of task events.
type WorkloadConfig struct {
	// Events is roughly how many events to make (whole task lives).
	Events int
	// Users work as PICs, supervisors and creators (default 50).
	Users int
	// Start and Span: the tasks are created in [Start, Start+Span); their
	// events follow within weeks.
	Start time.Time
	Span  time.Duration
	Seed  uint64
	// BoundedBacklog deletes every task still open four weeks after its
	// creation (a team's clean-up), so the open backlog stops growing
	// with the history; without it about 4% of tasks stay open forever.
	BoundedBacklog bool
}

// Workload is a generated history: every event of every task, ordered by
// time (each task's events in sequence order).
type Workload struct {
	Users  []string
	Events []event.Event
}

// GenerateWorkload makes task events with the tasks module's own aggregate,
// so they are the events production publishes: tasks are created (some
// with deadlines, some assigned later), started, completed on time or late,
// reopened, re-prioritised, reassigned, renamed, deleted.
func GenerateWorkload(cfg WorkloadConfig) Workload {
	if cfg.Users <= 0 {
		cfg.Users = 50
	}
	if cfg.Span <= 0 {
		cfg.Span = 8 * 7 * 24 * time.Hour
	}
	if cfg.Start.IsZero() {
		cfg.Start = base
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	newUUID := func() string {
		var b [16]byte
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		u, _ := uuid.FromBytes(b[:])
		return u.String()
	}
	w := Workload{Users: make([]string, cfg.Users)}
	for i := range w.Users {
		w.Users[i] = newUUID()
	}
	pick := func() string { return w.Users[rng.IntN(len(w.Users))] }
	priorities := []task.Priority{task.PriorityLow, task.PriorityMedium, task.PriorityMedium, task.PriorityHigh, task.PriorityUrgent}
	must := func(err error) {
		if err != nil {
			panic(fmt.Sprintf("contracttest: generating a workload: %v", err))
		}
	}
	for n := 0; len(w.Events) < cfg.Events; n++ {
		now := cfg.Start.Add(time.Duration(rng.Int64N(int64(cfg.Span)))).Truncate(time.Microsecond)
		step := func(max time.Duration) time.Time {
			now = now.Add(time.Minute + time.Duration(rng.Int64N(int64(max)))).Truncate(time.Microsecond)
			return now
		}
		creator, pic, sup := pick(), pick(), pick()
		p := task.NewTaskParams{
			ID: newUUID(), Name: fmt.Sprintf("task %d", n), CreatorID: creator, SupervisorID: sup,
			Priority: priorities[rng.IntN(len(priorities))],
		}
		if rng.IntN(4) > 0 {
			p.PICID = pic
		}
		if rng.IntN(3) > 0 {
			d := now.Add(time.Duration(1+rng.IntN(14)) * 24 * time.Hour).Truncate(time.Second)
			p.Deadline = &d
		}
		created := now
		tk, err := task.NewTask(p, now, newUUID)
		must(err)
		w.Events = append(w.Events, tk.PendingEvents()...)
		// Each command is saved as the repository does: one version, its
		// events with the snapshot of the state after it.
		cmd := func(err error) {
			must(err)
			tk.BumpVersion()
			w.Events = append(w.Events, tk.PendingEvents()...)
		}
		admin := actor.Actor{UserID: creator, Role: "admin"}
		if p.PICID == "" {
			pic = pick()
			cmd(tk.Assign(admin, task.Assignment{PICID: &pic}, step(48*time.Hour)))
		}
		by := actor.Actor{UserID: pic, Role: "member"}
		if rng.IntN(10) > 0 {
			cmd(tk.Start(by, step(72*time.Hour)))
		}
		if rng.IntN(5) == 0 {
			prio := priorities[rng.IntN(len(priorities))]
			cmd(tk.Update(admin, task.Edit{Priority: &prio}, step(24*time.Hour)))
		}
		if rng.IntN(6) == 0 {
			d := now.Add(time.Duration(1+rng.IntN(10)) * 24 * time.Hour).Truncate(time.Second)
			cmd(tk.Update(admin, task.Edit{Deadline: &d}, step(24*time.Hour)))
		}
		if rng.IntN(8) == 0 {
			other := pick()
			cmd(tk.Assign(admin, task.Assignment{PICID: &other}, step(24*time.Hour)))
			by = actor.Actor{UserID: other, Role: "member"}
		}
		if rng.IntN(100) < 97 { // a backlog stays small: most tasks get done
			cmd(tk.Complete(by, step(10*24*time.Hour)))
			if rng.IntN(8) == 0 {
				cmd(tk.Reopen(by, step(72*time.Hour)))
				if rng.IntN(10) > 0 {
					cmd(tk.Complete(by, step(5*24*time.Hour)))
				}
			}
		}
		if rng.IntN(12) == 0 {
			name := fmt.Sprintf("task %d (renamed)", n)
			cmd(tk.Update(admin, task.Edit{Name: &name}, step(24*time.Hour)))
		}
		switch {
		case rng.IntN(20) == 0:
			cmd(tk.Delete(admin, step(7*24*time.Hour)))
		case cfg.BoundedBacklog && tk.Status() != task.StatusDone:
			cleanup := created.Add(28 * 24 * time.Hour)
			if !cleanup.After(now) {
				cleanup = now.Add(time.Minute)
			}
			cmd(tk.Delete(admin, cleanup))
		}
	}
	slices.SortStableFunc(w.Events, func(a, b event.Event) int {
		return a.EventMeta().OccurredAt.Compare(b.EventMeta().OccurredAt)
	})
	return w
}

// Shuffled returns the events in an order SQS could deliver them: locally
// shuffled (each event moves up to window places), with some delivered twice.
func (w Workload) Shuffled(seed uint64, window int, duplicates float64) []event.Event {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	out := slices.Clone(w.Events)
	for i := range out {
		j := min(len(out)-1, i+rng.IntN(window+1))
		out[i], out[j] = out[j], out[i]
	}
	var dup []event.Event
	for _, e := range out {
		if rng.Float64() < duplicates {
			dup = append(dup, e)
		}
	}
	for _, e := range dup {
		i := rng.IntN(len(out) + 1)
		out = slices.Insert(out, i, e)
	}
	return out
}
