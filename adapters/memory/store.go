// Package memory holds in-memory twins of the SQL adapters — repositories,
// read models, the refresh-token and idempotency stores and a transactor —
// with the same semantics (checked by the shared contract suite), for unit
// tests of other layers.
//
// Everything shares one Store. A transaction holds the store's lock from
// begin to end (one writer at a time, like SQLite) and works on a copy of
// the state that replaces it on commit, so an error rolls everything back.
// Calls made with the context WithinTransaction passes join the transaction.
// Times are kept to the microsecond, as the databases keep them.
package memory

import (
	"context"
	"encoding/json"
	"maps"
	"sync"
	"time"

	identity "github.com/taskd/taskd/modules/identity/domain/user"
	"github.com/taskd/taskd/modules/kernel/event"
	"github.com/taskd/taskd/modules/tasks/domain/task"
)

// Store is the shared in-memory state.
type Store struct {
	mu sync.Mutex
	d  *data
}

type data struct {
	tasks      map[string]task.Snapshot
	users      map[string]identity.Snapshot
	emails     map[string]string // e-mail → user id
	tokens     map[string]tokenRow
	idem       map[idemKey]idemRow
	outbox     []OutboxEvent
	lastOffset int64
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{d: &data{
		tasks: map[string]task.Snapshot{}, users: map[string]identity.Snapshot{}, emails: map[string]string{},
		tokens: map[string]tokenRow{}, idem: map[idemKey]idemRow{},
	}}
}

func (d *data) clone() *data {
	return &data{
		tasks: maps.Clone(d.tasks), users: maps.Clone(d.users), emails: maps.Clone(d.emails),
		tokens: maps.Clone(d.tokens), idem: maps.Clone(d.idem),
		outbox:     d.outbox[:len(d.outbox):len(d.outbox)], // appends copy: the saved slice stays intact
		lastOffset: d.lastOffset,
	}
}

type txKey struct{}

func (s *Store) inTx(ctx context.Context) bool {
	v, _ := ctx.Value(txKey{}).(*Store)
	return v == s
}

// WithinTransaction runs fn in a transaction: fn's error (or panic) rolls
// back every change made with the context it gets. Inside a transaction it
// just calls fn.
func (s *Store) WithinTransaction(ctx context.Context, fn func(ctx context.Context) error) error {
	if s.inTx(ctx) {
		return fn(ctx)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	saved := s.d
	s.d = saved.clone()
	committed := false
	defer func() {
		if !committed {
			s.d = saved
		}
	}()
	if err := fn(context.WithValue(ctx, txKey{}, s)); err != nil {
		return err
	}
	committed = true
	return nil
}

// read runs fn on the state, under the lock unless ctx is in a transaction.
func (s *Store) read(ctx context.Context, fn func(d *data)) {
	if s.inTx(ctx) {
		fn(s.d)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s.d)
}

// OutboxEvent is one event recorded in the in-memory outbox.
type OutboxEvent struct {
	Offset      int64
	EventID     string
	Name        string
	AggregateID string
	Sequence    int64
	// Payload is the event's JSON, as the SQL outbox stores it.
	Payload json.RawMessage
	// Event is the event itself, for type assertions in tests.
	Event event.Event
}

func (d *data) appendEvents(evs []event.Event) error {
	for _, e := range evs {
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		m := e.EventMeta()
		d.lastOffset++
		d.outbox = append(d.outbox, OutboxEvent{
			Offset: d.lastOffset, EventID: m.ID, Name: e.Name(), AggregateID: m.AggregateID,
			Sequence: m.Sequence, Payload: b, Event: e,
		})
	}
	return nil
}

// Outbox returns every recorded event, in order.
func (s *Store) Outbox() []OutboxEvent {
	var out []OutboxEvent
	s.read(context.Background(), func(d *data) { out = append(out, d.outbox...) })
	return out
}

// OutboxFor returns the events of one aggregate, in order.
func (s *Store) OutboxFor(aggregateID string) []OutboxEvent {
	var out []OutboxEvent
	s.read(context.Background(), func(d *data) {
		for _, e := range d.outbox {
			if e.AggregateID == aggregateID {
				out = append(out, e)
			}
		}
	})
	return out
}

// Events returns the recorded events themselves, in order.
func (s *Store) Events() []event.Event {
	var out []event.Event
	for _, e := range s.Outbox() {
		out = append(out, e.Event)
	}
	return out
}

// us keeps a time to the microsecond, in UTC, as the databases do.
func us(t time.Time) time.Time { return time.UnixMicro(t.UnixMicro()).UTC() }

func usPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := us(*t)
	return &u
}
