package contracttest

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/taskd/taskd/modules/identity/domain/user"
	"github.com/taskd/taskd/modules/kernel/actor"
	"github.com/taskd/taskd/modules/kernel/errs"
	"github.com/taskd/taskd/modules/tasks/domain/task"
)

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	e, ok := errs.As(err)
	if !ok || e.Code != code {
		t.Fatalf("error = %v, want code %q", err, code)
	}
}

func equal[T any](t testing.TB, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s = %+v, want %+v", what, got, want)
	}
}

func sameTime(t testing.TB, what string, got, want *time.Time) {
	t.Helper()
	switch {
	case got == nil && want == nil:
	case got == nil || want == nil || !got.Equal(*want) || got.Location() != time.UTC:
		t.Fatalf("%s = %v, want %v (UTC)", what, got, want)
	}
}

func ptr[T any](v T) *T { return &v }

func member(id string) actor.Actor { return actor.Actor{UserID: id, Role: "member"} }

// parallel runs fn from n goroutines at once and returns their errors.
func parallel(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// outbox returns the events of aggregate id.
func outbox(t testing.TB, env Env, id string) []OutboxEvent {
	t.Helper()
	evs, err := env.Outbox(ctxOf(t), id)
	must(t, err)
	return evs
}

// wantEvents checks the names of the aggregate's events and that their
// sequence numbers are 1, 2, 3 … in outbox order, each event id once.
func wantEvents(t testing.TB, env Env, id string, names ...string) []OutboxEvent {
	t.Helper()
	evs := outbox(t, env, id)
	var got []string
	seen := map[string]bool{}
	for i, e := range evs {
		got = append(got, e.Name)
		if e.Sequence != int64(i+1) {
			t.Fatalf("event %d (%s) of %s has sequence %d, want %d", i, e.Name, id, e.Sequence, i+1)
		}
		if e.EventID == "" || seen[e.EventID] {
			t.Fatalf("event %d of %s: empty or repeated id %q", i, id, e.EventID)
		}
		seen[e.EventID] = true
		var p payload
		if err := json.Unmarshal(e.Payload, &p); err != nil {
			t.Fatalf("event %d of %s: payload %s: %v", i, id, e.Payload, err)
		}
		if p.EventID != e.EventID || p.AggregateID != id || p.Sequence != e.Sequence || p.Type != e.Name {
			t.Fatalf("event %d of %s: payload %s disagrees with its metadata %+v", i, id, e.Payload, e)
		}
	}
	if names == nil {
		names = []string{}
	}
	if got == nil {
		got = []string{}
	}
	if !slices.Equal(got, names) {
		t.Fatalf("events of %s = %v, want %v", id, got, names)
	}
	return evs
}

// payload is the part of an event's JSON the suites check.
type payload struct {
	EventID     string `json:"event_id"`
	Type        string `json:"event_type"`
	AggregateID string `json:"aggregate_id"`
	Sequence    int64  `json:"sequence"`
	ActorID     string `json:"actor_id"`
	Task        struct {
		Version      int64  `json:"version"`
		Name         string `json:"name"`
		PICID        string `json:"pic_id"`
		SupervisorID string `json:"supervisor_id"`
	} `json:"task"`
	User struct {
		Email string `json:"email"`
	} `json:"user"`
	Changes []struct {
		Field string `json:"field"`
		Old   any    `json:"old"`
		New   any    `json:"new"`
	} `json:"changes"`
}

func decode(t testing.TB, e OutboxEvent) payload {
	t.Helper()
	var p payload
	must(t, json.Unmarshal(e.Payload, &p))
	return p
}

// addTask creates and stores a task made from p at now.
func addTask(t testing.TB, env Env, p task.NewTaskParams, now time.Time) *task.Task {
	t.Helper()
	if p.ID == "" {
		p.ID = newID()
	}
	if p.CreatorID == "" {
		p.CreatorID = newID()
	}
	if p.Name == "" {
		p.Name = "task " + p.ID[:8]
	}
	tk, err := task.NewTask(p, now, NewEventID)
	must(t, err)
	must(t, env.Tasks.Add(ctxOf(t), tk))
	return tk
}

// Cheap argon2id parameters: the suites test storage, not hashing.
var testHashParams = user.HashParams{Time: 1, Memory: 64, Threads: 1}

const testPassword = "correct horse battery"

var (
	hashOnce sync.Once
	hash     string
)

func passwordHash(t testing.TB) string {
	hashOnce.Do(func() {
		var err error
		if hash, err = user.HashPassword(testPassword, testHashParams); err != nil {
			panic(err)
		}
	})
	return hash
}

// newUser builds (without storing) a user with a unique e-mail.
func newUser(t testing.TB, name string) *user.User {
	t.Helper()
	id := newID()
	return newUserWith(t, id, name, "u-"+id+"@example.com")
}

func newUserWith(t testing.TB, id, name, email string) *user.User {
	t.Helper()
	e, err := user.EmailFromString(email)
	must(t, err)
	u, err := user.NewUser(user.NewUserParams{ID: id, Email: e, Name: name, PasswordHash: passwordHash(t)}, at(0), NewEventID)
	must(t, err)
	return u
}

func addUser(t testing.TB, env Env, name string) *user.User {
	t.Helper()
	u := newUser(t, name)
	must(t, env.Users.Add(ctxOf(t), u))
	return u
}
