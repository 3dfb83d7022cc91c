package contracttest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/taskd/taskd/modules/notifications"
	"github.com/taskd/taskd/modules/notifications/app/command"
	"github.com/taskd/taskd/modules/notifications/app/query"
	n "github.com/taskd/taskd/modules/notifications/domain/notification"
)

// NotificationStore is the contract of the notifications module's store
// (notifications.Store). newStore may return the same store each time: the
// tests use unique ids and run in parallel.
func NotificationStore(t *testing.T, newStore func(testing.TB) notifications.Store) {
	t.Run("inbox", func(t *testing.T) { t.Parallel(); notificationInbox(t, newStore(t)) })
	t.Run("deliveries", func(t *testing.T) { t.Parallel(); notificationDeliveries(t, newStore(t)) })
	t.Run("preferences", func(t *testing.T) { t.Parallel(); notificationPreferences(t, newStore(t)) })
	t.Run("schedule", func(t *testing.T) { t.Parallel(); notificationSchedule(t, newStore(t)) })
	t.Run("leases", func(t *testing.T) { t.Parallel(); notificationLeases(t, newStore(t)) })
	t.Run("transactions", func(t *testing.T) { t.Parallel(); notificationTransactions(t, newStore(t)) })
}

func note(user, source string, at time.Time) n.Notification {
	return n.Notification{ID: NewEventID(), RecipientID: user, SourceID: source, Kind: n.KindTaskAssigned, TaskID: newID(),
		TaskName: "보고서", ActorID: newID(), ActorName: "김철수", Title: "[새 작업] 보고서", Body: "본문\nhttps://x/tasks/1",
		Link: "https://x/tasks/1", CreatedAt: at}
}

func idsOf[T any](xs []T, id func(T) string) []string {
	out := []string{}
	for _, x := range xs {
		out = append(out, id(x))
	}
	return out
}

func noteID(x n.Notification) string { return x.ID }

func notificationInbox(t *testing.T, s notifications.Store) {
	ctx := ctxOf(t)
	user, other := newID(), newID()
	var all []n.Notification
	for i := range 5 {
		all = append(all, note(user, NewEventID(), at(time.Duration(i)*time.Minute)))
	}
	must(t, s.AddToInbox(ctx, all))
	// The same source again (a redelivered event) adds nothing; another
	// recipient of it is another entry.
	dup := note(user, all[2].SourceID, at(time.Hour))
	must(t, s.AddToInbox(ctx, []n.Notification{dup, note(other, all[2].SourceID, at(0))}))

	page, err := s.Inbox(ctx, user, false, nil, 3)
	must(t, err)
	equal(t, "first page, newest first", idsOf(page, noteID), []string{all[4].ID, all[3].ID, all[2].ID})
	got := page[0]
	want := all[4]
	sameTime(t, "created_at", &got.CreatedAt, &want.CreatedAt)
	got.CreatedAt = want.CreatedAt
	equal(t, "entry", got, want)
	page, err = s.Inbox(ctx, user, false, &query.Cursor{At: all[2].CreatedAt, ID: all[2].ID}, 3)
	must(t, err)
	equal(t, "second page", idsOf(page, noteID), []string{all[1].ID, all[0].ID})

	unread, err := s.UnreadCount(ctx, user)
	must(t, err)
	equal(t, "unread", unread, 5)
	readAt := at(2 * time.Hour)
	must(t, s.MarkRead(ctx, user, all[3].ID, readAt))
	must(t, s.MarkRead(ctx, user, all[3].ID, at(3*time.Hour))) // again: no change, no error
	wantErr(t, s.MarkRead(ctx, other, all[3].ID, readAt), command.ErrNotificationNotFound)
	wantErr(t, s.MarkRead(ctx, user, newID(), readAt), command.ErrNotificationNotFound)
	page, err = s.Inbox(ctx, user, false, nil, 10)
	must(t, err)
	sameTime(t, "read_at", page[1].ReadAt, &readAt)
	page, err = s.Inbox(ctx, user, true, nil, 10)
	must(t, err)
	equal(t, "unread only", idsOf(page, noteID), []string{all[4].ID, all[2].ID, all[1].ID, all[0].ID})

	k, err := s.MarkAllRead(ctx, user, at(4*time.Hour))
	must(t, err)
	equal(t, "marked", k, 4)
	unread, err = s.UnreadCount(ctx, user)
	must(t, err)
	equal(t, "unread after read-all", unread, 0)
	if unread, _ := s.UnreadCount(ctx, other); unread != 1 {
		t.Fatalf("another user's inbox changed: %d unread", unread)
	}
}

func delivery(user, source string, c n.Channel, due time.Time) n.Delivery {
	return n.Delivery{ID: NewEventID(), SourceID: source, EventName: "TaskCreated", Channel: c, RecipientID: user,
		Kind: n.KindTaskAssigned, TaskID: newID(), Subject: "제목", Body: "본문", Status: n.StatusPending,
		NextAttemptAt: due, CreatedAt: due, UpdatedAt: due}
}

func deliveryID(d n.Delivery) string { return d.ID }

// claimMine claims due deliveries until none is left and keeps those of user.
func claimMine(t testing.TB, s notifications.Store, user string, now time.Time) []n.Delivery {
	t.Helper()
	var mine []n.Delivery
	for {
		batch, err := s.ClaimDue(ctxOf(t), now, 100, time.Minute)
		must(t, err)
		for _, d := range batch {
			if d.RecipientID == user {
				mine = append(mine, d)
			} else {
				// Another test's: give it back as it was.
				must(t, s.Finish(ctxOf(t), d.ID, command.Finish{Status: n.StatusPending, NextAttempt: d.NextAttemptAt, At: now}))
			}
		}
		if len(batch) < 100 {
			return mine
		}
	}
}

func notificationDeliveries(t *testing.T, s notifications.Store) {
	ctx := ctxOf(t)
	// Deliveries of the test are due in a past far from the other tests'.
	user := newID()
	t0 := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	src := NewEventID()
	email := delivery(user, src, n.ChannelEmail, t0)
	sms := delivery(user, src, n.ChannelSMS, t0)
	later := delivery(user, NewEventID(), n.ChannelEmail, t0.Add(time.Hour))
	must(t, s.AddDeliveries(ctx, []n.Delivery{email, sms, later}))
	// The same key again adds nothing.
	again := delivery(user, src, n.ChannelEmail, t0)
	must(t, s.AddDeliveries(ctx, []n.Delivery{again}))

	list := func(f query.DeliveryFilter) []n.Delivery {
		t.Helper()
		var mine []n.Delivery
		for {
			f.Limit = 100
			page, err := s.Deliveries(ctx, f)
			must(t, err)
			for _, d := range page {
				if d.RecipientID == user {
					mine = append(mine, d)
				}
			}
			if len(page) < 100 {
				return mine
			}
			last := page[len(page)-1]
			f.After = &query.Cursor{At: last.CreatedAt, ID: last.ID}
		}
	}
	equal(t, "recorded", len(list(query.DeliveryFilter{})), 3)

	claimed := claimMine(t, s, user, t0.Add(time.Minute))
	slices.SortFunc(claimed, func(a, b n.Delivery) int { return a.NextAttemptAt.Compare(b.NextAttemptAt) })
	equal(t, "claimed: the due ones", len(claimed), 2)
	for _, d := range claimed {
		if d.Status != n.StatusSending || d.Attempts != 1 || (d.ID != email.ID && d.ID != sms.ID) {
			t.Fatalf("claimed %+v", d)
		}
	}
	equal(t, "claimed again", len(claimMine(t, s, user, t0.Add(time.Minute))), 0)

	// Many dispatchers at once: each delivery is claimed by exactly one.
	racer := newID()
	var racing []n.Delivery
	for range 30 {
		racing = append(racing, delivery(racer, NewEventID(), n.ChannelEmail, t0.Add(-time.Hour)))
	}
	must(t, s.AddDeliveries(ctx, racing))
	var (
		mu  sync.Mutex
		got = map[string]int{}
	)
	for i, err := range parallel(8, func(int) error {
		for {
			batch, err := s.ClaimDue(context.Background(), t0.Add(-30*time.Minute), 5, time.Minute)
			if err != nil || len(batch) == 0 {
				return err
			}
			mu.Lock()
			for _, d := range batch {
				got[d.ID]++
			}
			mu.Unlock()
		}
	}) {
		if err != nil {
			t.Fatalf("dispatcher %d: %v", i, err)
		}
	}
	for _, d := range racing {
		if got[d.ID] != 1 {
			t.Fatalf("delivery claimed %d times", got[d.ID])
		}
	}
	equal(t, "claimed in the race", len(got), len(racing))

	// Outcomes.
	sentAt := t0.Add(2 * time.Minute)
	must(t, s.Finish(ctx, email.ID, command.Finish{Status: n.StatusSent, Address: "a@example.com", ProviderID: "p-1", At: sentAt}))
	if err := s.Finish(ctx, email.ID, command.Finish{Status: n.StatusSent, At: sentAt}); err == nil {
		t.Fatal("a delivery that is not claimed was finished")
	}
	retryAt := t0.Add(10 * time.Minute)
	must(t, s.Finish(ctx, sms.ID, command.Finish{Status: n.StatusPending, NextAttempt: retryAt, Error: "throttled", At: sentAt}))
	sent := list(query.DeliveryFilter{Status: n.StatusSent})
	equal(t, "sent", idsOf(sent, deliveryID), []string{email.ID})
	sameTime(t, "sent_at", sent[0].SentAt, &sentAt)
	equal(t, "address", sent[0].Address, "a@example.com")
	equal(t, "provider id", sent[0].ProviderID, "p-1")
	equal(t, "not due before its backoff", len(claimMine(t, s, user, retryAt.Add(-time.Second))), 0)
	retry := claimMine(t, s, user, retryAt.Add(2*time.Hour))
	equal(t, "due after its backoff, with the later one", len(retry), 2)
	for _, d := range retry {
		if d.ID == sms.ID && (d.Attempts != 2 || d.LastError != "throttled") {
			t.Fatalf("retry %+v", d)
		}
	}

	// The process stops mid-send: claims expire. E-mail (at-least-once
	// here) is sent again, SMS (at-most-once) becomes unknown.
	after := retryAt.Add(2 * time.Hour).Add(2 * time.Minute)
	resent, unknown, err := s.RecoverInterrupted(ctx, after, []n.Channel{n.ChannelEmail})
	must(t, err)
	if resent < 1 || unknown < 1 {
		t.Fatalf("recovered %d, %d", resent, unknown)
	}
	equal(t, "unknown", idsOf(list(query.DeliveryFilter{Status: n.StatusUnknown}), deliveryID), []string{sms.ID})
	equal(t, "pending again", idsOf(list(query.DeliveryFilter{Status: n.StatusPending}), deliveryID), []string{later.ID})
	equal(t, "channel filter", idsOf(list(query.DeliveryFilter{Channel: n.ChannelSMS}), deliveryID), []string{sms.ID})

	// Failed ones are alerted once; a released claim comes back.
	d := claimMine(t, s, user, after)
	equal(t, "claimed for the failure", len(d), 1)
	must(t, s.Finish(ctx, later.ID, command.Finish{Status: n.StatusFailed, Error: "550 no such user", At: after}))
	alerted := unalertedOf(t, s, user, after)
	equal(t, "to alert", len(alerted), 2)
	equal(t, "alerted twice", len(unalertedOf(t, s, user, after)), 0)
	must(t, s.ReleaseAlert(ctx, later.ID))
	equal(t, "released", idsOf(unalertedOf(t, s, user, after), deliveryID), []string{later.ID})
}

func unalertedOf(t testing.TB, s notifications.Store, user string, now time.Time) []n.Delivery {
	t.Helper()
	var mine []n.Delivery
	for {
		batch, err := s.ClaimUnalerted(ctxOf(t), now, 100)
		must(t, err)
		for _, d := range batch {
			if d.RecipientID == user {
				mine = append(mine, d)
			} else {
				must(t, s.ReleaseAlert(ctxOf(t), d.ID))
			}
		}
		if len(batch) < 100 {
			return mine
		}
	}
}

func notificationPreferences(t *testing.T, s notifications.Store) {
	ctx := ctxOf(t)
	user, never := newID(), newID()
	q, err := n.NewQuietHours("22:30", "07:00", "Asia/Seoul")
	must(t, err)
	p, err := n.NewPreferences(user, map[n.Kind]map[n.Channel]bool{
		n.KindOverdue: {n.ChannelInbox: true, n.ChannelSMS: true}, n.KindTaskDeleted: {},
	}, q)
	must(t, err)
	must(t, s.SavePreferences(ctx, p, at(0)))
	got, err := s.Preferences(ctx, []string{user, never})
	must(t, err)
	if _, ok := got[never]; ok || len(got) != 1 {
		t.Fatalf("preferences of a user who never chose: %v", got)
	}
	equal(t, "channels", got[user].Channels(), p.Channels())
	start, end := got[user].QuietHours().Clock()
	equal(t, "quiet hours", [3]string{start, end, got[user].QuietHours().Zone()}, [3]string{"22:30", "07:00", "Asia/Seoul"})

	// Saving again replaces.
	p2, err := n.NewPreferences(user, nil, nil)
	must(t, err)
	must(t, s.SavePreferences(ctx, p2, at(time.Hour)))
	got, err = s.Preferences(ctx, []string{user})
	must(t, err)
	if got[user].QuietHours() != nil || !got[user].Wants(n.KindOverdue, n.ChannelEmail) {
		t.Fatalf("not replaced: %+v", got[user].Channels())
	}
}

func notificationSchedule(t *testing.T, s notifications.Store) {
	ctx := ctxOf(t)
	lead := 24 * time.Hour
	// Far in the past, away from the other tests' rows; the ids sort after
	// one another so that the keyset finds them in order.
	prefix := newID()
	deadline := time.Date(1999, 6, 1, 9, 0, 0, 0, time.UTC)
	mk := func(suffix, status string, d *time.Time) n.Schedule {
		return n.Schedule{TaskID: prefix + suffix, TaskName: "t" + suffix, Status: status, Deadline: d, PICID: "p", SupervisorID: "s", CreatorID: "c"}
	}
	near, done, none := mk("-a", "waiting", &deadline), mk("-b", "done", &deadline), mk("-c", "waiting", nil)
	for _, sc := range []n.Schedule{near, done, none} {
		must(t, s.SaveSchedule(ctx, sc, at(0)))
	}
	due := func(now time.Time) []n.Schedule {
		t.Helper()
		var mine []n.Schedule
		after := ""
		for {
			batch, err := s.DueSchedules(ctx, now, lead, after, 100)
			must(t, err)
			for _, sc := range batch {
				if len(sc.TaskID) > len(prefix) && sc.TaskID[:len(prefix)] == prefix {
					mine = append(mine, sc)
				}
				after = sc.TaskID
			}
			if len(batch) < 100 {
				return mine
			}
		}
	}
	equal(t, "nothing due two days before", len(due(deadline.Add(-48*time.Hour))), 0)
	got := due(deadline.Add(-time.Hour))
	if len(got) != 1 || got[0].TaskID != near.TaskID || got[0].TaskName != "t-a" || !got[0].Deadline.Equal(deadline) {
		t.Fatalf("due: %+v", got)
	}
	_, marked := got[0].Due(deadline.Add(-time.Hour), lead)
	must(t, s.MarkReminded(ctx, marked, at(time.Minute)))
	equal(t, "not due again", len(due(deadline.Add(-time.Minute))), 0)
	got = due(deadline.Add(time.Minute))
	if len(got) != 1 || got[0].DueSentFor == nil || got[0].OverdueSentFor != nil {
		t.Fatalf("overdue: %+v", got)
	}
	_, marked = got[0].Due(deadline.Add(time.Minute), lead)
	must(t, s.MarkReminded(ctx, marked, at(time.Minute)))
	equal(t, "both sent", len(due(deadline.Add(time.Hour))), 0)

	// An event with a new deadline keeps the marks, which no longer match.
	moved := deadline.Add(time.Hour)
	upd := near
	upd.Deadline, upd.TaskName = &moved, "renamed"
	must(t, s.SaveSchedule(ctx, upd, at(time.Hour)))
	got = due(moved.Add(-time.Minute))
	if len(got) != 1 || got[0].TaskName != "renamed" || !got[0].DueSentFor.Equal(deadline) {
		t.Fatalf("re-armed: %+v", got)
	}
	must(t, s.DeleteSchedule(ctx, near.TaskID))
	equal(t, "deleted", len(due(moved.Add(time.Hour))), 0)
}

func notificationLeases(t *testing.T, s notifications.Store) {
	ctx := ctxOf(t)
	name := "test-" + newID()[:20]
	now := at(0)
	ok, err := s.AcquireLease(ctx, name, "a", now, time.Minute)
	must(t, err)
	equal(t, "a takes a free lease", ok, true)
	ok, err = s.AcquireLease(ctx, name, "b", now.Add(30*time.Second), time.Minute)
	must(t, err)
	equal(t, "b waits while a holds it", ok, false)
	ok, err = s.AcquireLease(ctx, name, "a", now.Add(50*time.Second), time.Minute)
	must(t, err)
	equal(t, "a renews", ok, true)
	ok, err = s.AcquireLease(ctx, name, "b", now.Add(90*time.Second), time.Minute)
	must(t, err)
	equal(t, "renewed: still a's", ok, false)
	ok, err = s.AcquireLease(ctx, name, "b", now.Add(111*time.Second), time.Minute)
	must(t, err)
	equal(t, "b takes it once expired", ok, true)
	ok, err = s.AcquireLease(ctx, name, "a", now.Add(112*time.Second), time.Minute)
	must(t, err)
	equal(t, "a lost it", ok, false)

	// Many workers race for a new lease: exactly one wins.
	race := "race-" + newID()[:20]
	var (
		mu   sync.Mutex
		wins int
	)
	for i, err := range parallel(16, func(i int) error {
		ok, err := s.AcquireLease(context.Background(), race, "w"+string(rune('a'+i)), now, time.Minute)
		if ok {
			mu.Lock()
			wins++
			mu.Unlock()
		}
		return err
	}) {
		if err != nil {
			t.Fatalf("worker %d: %v", i, err)
		}
	}
	equal(t, "winners", wins, 1)
}

func notificationTransactions(t *testing.T, s notifications.Store) {
	ctx := ctxOf(t)
	user := newID()
	boom := errors.New("boom")
	// A failed transaction leaves nothing: no entry, no delivery, no key.
	event := NewEventID()
	err := s.ProcessOnce(ctx, "contract", event, func(ctx context.Context) error {
		must(t, s.AddToInbox(ctx, []n.Notification{note(user, event, at(0))}))
		must(t, s.AddDeliveries(ctx, []n.Delivery{delivery(user, event, n.ChannelEmail, at(0))}))
		return boom
	})
	wantErr(t, err, boom)
	if k, _ := s.UnreadCount(ctx, user); k != 0 {
		t.Fatal("a rolled-back entry is in the inbox")
	}
	// Processed once: a duplicate does not run.
	runs := 0
	for range 2 {
		must(t, s.ProcessOnce(ctx, "contract", event, func(ctx context.Context) error {
			runs++
			return s.AddToInbox(ctx, []n.Notification{note(user, event, at(0))})
		}))
	}
	equal(t, "runs", runs, 1)
	// Concurrent duplicates (two SQS copies at once): one effect.
	event2 := NewEventID()
	for i, err := range parallel(8, func(int) error {
		return s.ProcessOnce(context.Background(), "contract", event2, func(ctx context.Context) error {
			return s.AddToInbox(ctx, []n.Notification{note(user, event2, at(time.Second))})
		})
	}) {
		if err != nil {
			t.Fatalf("copy %d: %v", i, err)
		}
	}
	if k, _ := s.UnreadCount(ctx, user); k != 2 {
		t.Fatalf("%d entries, want one per event", k)
	}
	newer, err := s.AdvanceSequence(ctx, "contract", event, 2)
	must(t, err)
	stale, err := s.AdvanceSequence(ctx, "contract", event, 1)
	must(t, err)
	if !newer || stale {
		t.Fatalf("sequence guard: %v %v", newer, stale)
	}
}
