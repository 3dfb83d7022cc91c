package command_test

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/taskd/taskd/modules/notifications/app/command"
	n "github.com/taskd/taskd/modules/notifications/domain/notification"
)

// memStore is an in-memory command.Store with the unique keys and claims
// of the real one (adapters/sqlstore, checked by the contract suite).
// Transactions are not isolated: fn's writes stay even when it fails,
// except in ProcessOnce, which undoes a failed fn's inbox and deliveries.
type memStore struct {
	mu         sync.Mutex
	processed  map[string]bool
	sequences  map[string]int64
	inbox      []n.Notification
	deliveries map[string]*memDelivery
	order      []string
	prefs      map[string]*n.Preferences
	schedules  map[string]n.Schedule
	leases     map[string]memLease
}

type memDelivery struct {
	d       n.Delivery
	claim   time.Time
	alerted bool
}

type memLease struct {
	holder string
	until  time.Time
}

func newMemStore() *memStore {
	return &memStore{processed: map[string]bool{}, sequences: map[string]int64{}, deliveries: map[string]*memDelivery{},
		prefs: map[string]*n.Preferences{}, schedules: map[string]n.Schedule{}, leases: map[string]memLease{}}
}

func (s *memStore) WithinTransaction(ctx context.Context, fn func(ctx context.Context) error) error {
	return fn(ctx)
}

func (s *memStore) ProcessOnce(ctx context.Context, handler, id string, fn func(ctx context.Context) error) error {
	s.mu.Lock()
	if s.processed[handler+"/"+id] {
		s.mu.Unlock()
		return nil
	}
	inbox, order := len(s.inbox), len(s.order)
	s.mu.Unlock()
	if err := fn(ctx); err != nil {
		s.mu.Lock()
		for _, k := range s.order[order:] {
			delete(s.deliveries, k)
		}
		s.inbox, s.order = s.inbox[:inbox], s.order[:order]
		s.mu.Unlock()
		return err
	}
	s.mu.Lock()
	s.processed[handler+"/"+id] = true
	s.mu.Unlock()
	return nil
}

func (s *memStore) AdvanceSequence(_ context.Context, handler, agg string, seq int64) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if seq <= s.sequences[handler+"/"+agg] {
		return false, nil
	}
	s.sequences[handler+"/"+agg] = seq
	return true, nil
}

func (s *memStore) AddToInbox(_ context.Context, ns []n.Notification) error {
	s.mu.Lock()
	defer s.mu.Unlock()
next:
	for _, x := range ns {
		for _, y := range s.inbox {
			if y.SourceID == x.SourceID && y.RecipientID == x.RecipientID {
				continue next
			}
		}
		s.inbox = append(s.inbox, x)
	}
	return nil
}

func (s *memStore) MarkRead(_ context.Context, userID, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.inbox {
		if s.inbox[i].ID == id && s.inbox[i].RecipientID == userID {
			if s.inbox[i].ReadAt == nil {
				s.inbox[i].ReadAt = &at
			}
			return nil
		}
	}
	return command.ErrNotificationNotFound
}

func (s *memStore) MarkAllRead(_ context.Context, userID string, at time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := 0
	for i := range s.inbox {
		if s.inbox[i].RecipientID == userID && s.inbox[i].ReadAt == nil {
			s.inbox[i].ReadAt = &at
			k++
		}
	}
	return k, nil
}

func (s *memStore) AddDeliveries(_ context.Context, ds []n.Delivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
next:
	for _, d := range ds {
		for _, m := range s.deliveries {
			if m.d.SourceID == d.SourceID && m.d.Channel == d.Channel && m.d.RecipientID == d.RecipientID {
				continue next
			}
		}
		s.deliveries[d.ID] = &memDelivery{d: d}
		s.order = append(s.order, d.ID)
	}
	return nil
}

func (s *memStore) ClaimDue(_ context.Context, now time.Time, limit int, claim time.Duration) ([]n.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []n.Delivery
	for _, id := range s.order {
		m := s.deliveries[id]
		if len(out) == limit {
			break
		}
		if m.d.Status == n.StatusPending && !m.d.NextAttemptAt.After(now) {
			m.d.Status, m.claim = n.StatusSending, now.Add(claim)
			m.d.Attempts++
			out = append(out, m.d)
		}
	}
	return out, nil
}

func (s *memStore) Finish(_ context.Context, id string, f command.Finish) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.deliveries[id]
	if m == nil || m.d.Status != n.StatusSending {
		return errors.New("not claimed")
	}
	m.d.Status, m.d.LastError, m.d.Address, m.d.ProviderID, m.d.UpdatedAt = f.Status, f.Error, f.Address, f.ProviderID, f.At
	m.d.NextAttemptAt = f.NextAttempt
	if f.Status == n.StatusSent {
		at := f.At
		m.d.SentAt = &at
	}
	return nil
}

func (s *memStore) RecoverInterrupted(_ context.Context, now time.Time, resend []n.Channel) (int, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, b := 0, 0
	for _, m := range s.deliveries {
		if m.d.Status != n.StatusSending || !m.claim.Before(now) {
			continue
		}
		again := false
		for _, c := range resend {
			again = again || c == m.d.Channel
		}
		if again {
			m.d.Status, m.d.NextAttemptAt = n.StatusPending, now
			a++
		} else {
			m.d.Status = n.StatusUnknown
			b++
		}
	}
	return a, b, nil
}

func (s *memStore) ClaimUnalerted(_ context.Context, _ time.Time, limit int) ([]n.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []n.Delivery
	for _, id := range s.order {
		m := s.deliveries[id]
		if len(out) < limit && !m.alerted && (m.d.Status == n.StatusFailed || m.d.Status == n.StatusUnknown) {
			m.alerted = true
			out = append(out, m.d)
		}
	}
	return out, nil
}

func (s *memStore) ReleaseAlert(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deliveries[id].alerted = false
	return nil
}

func (s *memStore) Preferences(_ context.Context, ids []string) (map[string]*n.Preferences, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]*n.Preferences{}
	for _, id := range ids {
		if p, ok := s.prefs[id]; ok {
			out[id] = p
		}
	}
	return out, nil
}

func (s *memStore) SavePreferences(_ context.Context, p *n.Preferences, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prefs[p.UserID()] = p
	return nil
}

func (s *memStore) SaveSchedule(_ context.Context, sc n.Schedule, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.schedules[sc.TaskID]
	sc.DueSentFor, sc.OverdueSentFor = old.DueSentFor, old.OverdueSentFor
	s.schedules[sc.TaskID] = sc
	return nil
}

func (s *memStore) DeleteSchedule(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.schedules, id)
	return nil
}

func (s *memStore) DueSchedules(_ context.Context, now time.Time, lead time.Duration, after string, limit int) ([]n.Schedule, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []n.Schedule
	for _, sc := range s.schedules {
		if sc.TaskID <= after {
			continue
		}
		if r, marked := sc.Due(now, lead); len(r) > 0 || !sameMarks(marked, sc) {
			out = append(out, sc)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].TaskID < out[j].TaskID })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func sameMarks(a, b n.Schedule) bool {
	eq := func(x, y *time.Time) bool { return (x == nil) == (y == nil) && (x == nil || x.Equal(*y)) }
	return eq(a.DueSentFor, b.DueSentFor) && eq(a.OverdueSentFor, b.OverdueSentFor)
}

func (s *memStore) MarkReminded(_ context.Context, sc n.Schedule, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.schedules[sc.TaskID]
	if !ok {
		return nil
	}
	cur.DueSentFor, cur.OverdueSentFor = sc.DueSentFor, sc.OverdueSentFor
	s.schedules[sc.TaskID] = cur
	return nil
}

func (s *memStore) AcquireLease(_ context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.leases[name]
	if ok && l.holder != holder && now.Before(l.until) {
		return false, nil
	}
	s.leases[name] = memLease{holder: holder, until: now.Add(ttl)}
	return true, nil
}

// inboxOf returns a user's entries.
func (s *memStore) inboxOf(user string) []n.Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []n.Notification
	for _, x := range s.inbox {
		if x.RecipientID == user {
			out = append(out, x)
		}
	}
	return out
}

// all returns every delivery in creation order.
func (s *memStore) all() []n.Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []n.Delivery
	for _, id := range s.order {
		out = append(out, s.deliveries[id].d)
	}
	return out
}

// directory is a fake Directory.
type directory struct {
	mu    sync.Mutex
	users map[string]command.User
	fail  error
}

func (d *directory) Users(_ context.Context, ids []string) (map[string]command.User, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail != nil {
		return nil, d.fail
	}
	out := map[string]command.User{}
	for _, id := range ids {
		if u, ok := d.users[id]; ok {
			out[id] = u
		}
	}
	return out, nil
}

func (d *directory) remove(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.users, id)
}

// sender is a fake EmailSender and SMSSender: it fails with errs in turn,
// then succeeds.
type sender struct {
	mu        sync.Mutex
	sent      []string // "to: subject/text"
	errs      []error
	guarantee n.Guarantee
}

func (s *sender) next(to, what string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.errs) > 0 {
		err := s.errs[0]
		s.errs = s.errs[1:]
		return "", err
	}
	s.sent = append(s.sent, to+": "+what)
	return "p-" + to, nil
}

func (s *sender) SendEmail(_ context.Context, e n.Email) (string, error) {
	return s.next(e.To, e.Subject)
}
func (s *sender) SendSMS(_ context.Context, m n.SMS) (string, error) { return s.next(m.Phone, m.Text) }
func (s *sender) Guarantee() n.Guarantee                             { return s.guarantee }

func (s *sender) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sent)
}

// chat is a fake TeamChat.
type chat struct {
	mu     sync.Mutex
	alerts []n.Alert
	fail   int
}

func (c *chat) PostAlert(_ context.Context, a n.Alert) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail > 0 {
		c.fail--
		return errors.New("webhook down")
	}
	c.alerts = append(c.alerts, a)
	return nil
}

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
