package events_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"testing"

	"github.com/taskd/taskd/ports/events"
)

// memStore is an in-memory DeadLetterStore.
type memStore struct {
	mu      sync.Mutex
	letters map[int]*events.DeadLetter
	alerted map[int]bool
}

func newMemStore(queues ...string) *memStore {
	s := &memStore{letters: map[int]*events.DeadLetter{}, alerted: map[int]bool{}}
	for i, q := range queues {
		s.letters[i+1] = &events.DeadLetter{ID: strconv.Itoa(i + 1), Queue: q, EventID: "e" + strconv.Itoa(i+1)}
	}
	return s
}

func (s *memStore) ids(f events.DeadLetterFilter) []int {
	var ids []int
	after, _ := strconv.Atoi(f.AfterID)
	for id, dl := range s.letters {
		if (f.Queue == "" || dl.Queue == f.Queue) && (f.ID == "" || dl.ID == f.ID) && id > after {
			ids = append(ids, id)
		}
	}
	sort.Ints(ids)
	return ids
}

func (s *memStore) List(_ context.Context, f events.DeadLetterFilter) ([]events.DeadLetter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []events.DeadLetter
	for _, id := range s.ids(f) {
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
		out = append(out, *s.letters[id])
	}
	return out, nil
}

func (s *memStore) Count(_ context.Context, f events.DeadLetterFilter) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ids(f)), nil
}

func (s *memStore) ClaimUnalerted(_ context.Context, limit int) ([]events.DeadLetter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []events.DeadLetter
	for _, id := range s.ids(events.DeadLetterFilter{}) {
		if len(out) == limit {
			break
		}
		if !s.alerted[id] {
			s.alerted[id] = true
			out = append(out, *s.letters[id])
		}
	}
	return out, nil
}

func (s *memStore) ReleaseAlert(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, _ := strconv.Atoi(id)
	s.alerted[n] = false
	return nil
}

func (s *memStore) Depth(context.Context) (map[string]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, dl := range s.letters {
		out[dl.Queue]++
	}
	return out, nil
}

// Replay removes the dead letter, failing for ids in fail.
func (s *memStore) replayer(fail map[string]bool) events.DeadLetterReplayer {
	return replayFunc(func(_ context.Context, dl events.DeadLetter) error {
		if fail[dl.ID] {
			return errors.New("queue unreachable")
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		n, _ := strconv.Atoi(dl.ID)
		delete(s.letters, n)
		return nil
	})
}

type replayFunc func(context.Context, events.DeadLetter) error

func (f replayFunc) Replay(ctx context.Context, dl events.DeadLetter) error { return f(ctx, dl) }

type recordingAlerter struct {
	mu     sync.Mutex
	got    []string
	failOn string
}

func (a *recordingAlerter) Alert(_ context.Context, dl events.DeadLetter) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if dl.ID == a.failOn {
		a.failOn = "" // fails once
		return errors.New("webhook down")
	}
	a.got = append(a.got, dl.ID)
	return nil
}

type dlMetrics struct {
	dead  map[string]int
	depth map[string]int
}

func (m *dlMetrics) EventDeadLettered(q string)  { m.dead[q]++ }
func (m *dlMetrics) SetDLQDepth(q string, n int) { m.depth[q] = n }

type countingCollector struct{ calls int }

func (c *countingCollector) CollectDeadLetters(context.Context) (int, error) {
	c.calls++
	return 0, nil
}

func TestDLQWatcherAlertsOncePerDeadLetterAndRetriesFailedAlerts(t *testing.T) {
	t.Parallel()
	store := newMemStore("notifications", "notifications", "analytics")
	alerter := &recordingAlerter{failOn: "2"}
	m := &dlMetrics{dead: map[string]int{}, depth: map[string]int{}}
	col := &countingCollector{}
	w := &events.DLQWatcher{Store: store, Collector: col, Alerter: alerter, Metrics: m,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx := context.Background()

	if err := w.Tick(ctx); err == nil {
		t.Fatal("a failed alert was not reported")
	}
	if err := w.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if got := alerter.got; len(got) != 3 || got[0] != "1" || got[1] != "3" || got[2] != "2" {
		t.Errorf("alerts = %v, want 1 and 3, then 2 once its alert went through", got)
	}
	if col.calls != 3 {
		t.Errorf("collector called %d times, want once per tick", col.calls)
	}
	if m.depth["notifications"] != 2 || m.depth["analytics"] != 1 {
		t.Errorf("depth = %v", m.depth)
	}
	// Replaying empties a queue: its depth goes to 0, not stale.
	if _, err := events.Replay(ctx, store, store.replayer(nil), events.DeadLetterFilter{Queue: "analytics"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if m.depth["analytics"] != 0 {
		t.Errorf("depth of an emptied queue = %d, want 0", m.depth["analytics"])
	}
}

func TestReplayFiltersPagesAndReportsFailures(t *testing.T) {
	t.Parallel()
	queues := make([]string, 250)
	for i := range queues {
		queues[i] = "notifications"
		if i%2 == 1 {
			queues[i] = "analytics"
		}
	}
	store := newMemStore(queues...)
	var last [3]int
	calls := 0
	n, err := events.Replay(context.Background(), store, store.replayer(map[string]bool{"3": true}),
		events.DeadLetterFilter{Queue: "notifications"}, func(done, failed, total int) {
			calls++
			last = [3]int{done, failed, total}
		})
	if err == nil {
		t.Fatal("the failed replay was not reported")
	}
	if n != 124 || last != [3]int{124, 1, 125} || calls != 125 {
		t.Errorf("replayed %d, progress %v after %d calls; want 124 of 125 with 1 failure", n, last, calls)
	}
	if left, _ := store.Count(context.Background(), events.DeadLetterFilter{}); left != 126 {
		t.Errorf("%d dead letters left, want the 125 analytics ones and the failed one", left)
	}
	n, err = events.Replay(context.Background(), store, store.replayer(nil), events.DeadLetterFilter{ID: "3"}, nil)
	if err != nil || n != 1 {
		t.Errorf("replay by id: %d, %v", n, err)
	}
}
