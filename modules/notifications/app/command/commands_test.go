package command_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/taskd/taskd/modules/kernel/decorator"
	"github.com/taskd/taskd/modules/kernel/event"
	"github.com/taskd/taskd/modules/notifications/app/command"
	n "github.com/taskd/taskd/modules/notifications/domain/notification"
	tasks "github.com/taskd/taskd/modules/tasks/contracts"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type env struct {
	store     *memStore
	dir       *directory
	email     *sender
	sms       *sender
	chat      *chat
	clock     *clock
	deps      command.Deps
	handle    command.HandleTaskEventHandler
	dispatch  command.DispatchDeliveriesHandler
	alertDone command.AlertFailedDeliveriesHandler
	remind    command.SendDeadlineRemindersHandler
}

func newEnv(t *testing.T, withChannels bool) *env {
	t.Helper()
	e := &env{
		store: newMemStore(),
		dir: &directory{users: map[string]command.User{
			"alice": {ID: "alice", Name: "Alice", Email: "alice@example.com", Locale: "en"},
			"bob":   {ID: "bob", Name: "밥", Email: "bob@example.com", Phone: "+821012345678", Locale: "ko"},
			"carol": {ID: "carol", Name: "Carol", Email: "carol@example.com", Locale: "en"},
			"dave":  {ID: "dave", Name: "Dave", Locale: "en"}, // no e-mail address
		}},
		email: &sender{guarantee: n.AtLeastOnce},
		sms:   &sender{guarantee: n.AtMostOnce},
		chat:  &chat{},
		clock: &clock{now: t0},
	}
	e.deps = command.Deps{
		Store: e.store, Directory: e.dir, TeamChat: e.chat,
		Config: command.Config{PublicURL: "https://taskd.example/", Retry: n.RetryPolicy{MaxAttempts: 3, First: time.Minute, Max: time.Hour}},
		Clock:  e.clock.Now, NewID: func() string { return uuid.NewString() }, Logger: slog.New(slog.DiscardHandler),
	}
	if withChannels {
		e.deps.Email, e.deps.SMS = e.email, e.sms
	}
	m := decorator.NopMetrics{}
	e.handle = command.NewHandleTaskEventHandler(e.deps, e.deps.Logger, m)
	e.dispatch = command.NewDispatchDeliveriesHandler(e.deps, e.deps.Logger, m)
	e.alertDone = command.NewAlertFailedDeliveriesHandler(e.deps, command.NewRaiseAlertHandler(e.deps, e.deps.Logger, m), e.deps.Logger, m)
	e.remind = command.NewSendDeadlineRemindersHandler(e.deps, e.deps.Logger, m)
	return e
}

func taskEvent(name, actor string, seq int64, changes ...event.Change) tasks.TaskEvent {
	return tasks.TaskEvent{
		Meta:    event.Meta{ID: uuid.NewString(), Type: name, ActorID: actor, AggregateType: "task", AggregateID: "t1", Sequence: seq, OccurredAt: t0},
		Task:    tasks.Snapshot{ID: "t1", Name: "Report", Status: "waiting", Priority: "medium", PICID: "bob", SupervisorID: "carol", CreatorID: "alice"},
		Changes: changes,
	}
}

func (e *env) must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (e *env) consume(t *testing.T, ev tasks.TaskEvent) {
	t.Helper()
	e.must(t, e.handle.Handle(context.Background(), command.HandleTaskEvent{Event: ev}))
}

func (e *env) deliveriesBy(status n.Status) []n.Delivery {
	var out []n.Delivery
	for _, d := range e.store.all() {
		if d.Status == status {
			out = append(out, d)
		}
	}
	return out
}

func TestConsumingAnEventWritesInboxAndDeliveriesOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	ev := taskEvent(n.EventTaskCreated, "alice", 1)
	e.consume(t, ev)
	e.consume(t, ev) // redelivered: nothing more

	bob := e.store.inboxOf("bob")
	if len(bob) != 1 || bob[0].Kind != n.KindTaskAssigned || bob[0].Title != "[새 작업] Report" || bob[0].ActorName != "Alice" ||
		bob[0].Link != "https://taskd.example/tasks/t1" || bob[0].SourceID != ev.ID {
		t.Fatalf("bob's inbox: %+v", bob)
	}
	if len(e.store.inboxOf("carol")) != 1 || len(e.store.inboxOf("alice")) != 0 {
		t.Fatal("carol is told, alice (the actor) is not")
	}
	ds := e.store.all()
	// bob and carol by e-mail; nobody by SMS (off by default).
	if len(ds) != 2 || ds[0].Channel != n.ChannelEmail || ds[1].Channel != n.ChannelEmail || ds[0].Status != n.StatusPending {
		t.Fatalf("deliveries: %+v", ds)
	}
	// Carol reads English.
	for _, d := range ds {
		if d.RecipientID == "carol" && (d.Subject != "[New task] Report" || !strings.Contains(d.Body, "Alice created the task “Report” with you as its supervisor")) {
			t.Errorf("carol's e-mail: %+v", d)
		}
	}
	if _, ok := e.store.schedules["t1"]; !ok {
		t.Error("no reminder schedule")
	}
}

func TestChannelsOffDeletedUsersAndPreferences(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false) // nothing configured: the inbox only
	e.dir.remove("carol") // deleted
	e.consume(t, taskEvent(n.EventTaskCreated, "alice", 1))
	if len(e.store.all()) != 0 {
		t.Fatal("deliveries recorded for channels that are off")
	}
	if len(e.store.inboxOf("carol")) != 0 || len(e.store.inboxOf("bob")) != 1 {
		t.Fatal("a deleted user was told")
	}

	e = newEnv(t, true)
	// Bob: SMS and no inbox for status changes, quiet hours 22:00–07:00 Seoul (t0 is 18:00 there).
	q, _ := n.NewQuietHours("17:00", "07:00", "Asia/Seoul")
	p, _ := n.NewPreferences("bob", map[n.Kind]map[n.Channel]bool{n.KindStatusChanged: {n.ChannelSMS: true, n.ChannelEmail: true}}, q)
	e.must(t, e.store.SavePreferences(context.Background(), p, t0))
	e.consume(t, taskEvent(n.EventTaskStatusChanged, "alice", 2, event.Change{Field: "status", Old: "waiting", New: "in_progress"}))
	if len(e.store.inboxOf("bob")) != 0 || len(e.store.inboxOf("carol")) != 1 {
		t.Fatal("bob turned the inbox off for status changes")
	}
	var sms, email n.Delivery
	for _, d := range e.store.all() {
		if d.RecipientID == "bob" && d.Channel == n.ChannelSMS {
			sms = d
		}
		if d.RecipientID == "bob" && d.Channel == n.ChannelEmail {
			email = d
		}
	}
	wantAt := time.Date(2026, 3, 2, 22, 0, 0, 0, time.UTC) // 07:00 KST next day
	if sms.ID == "" || !sms.NextAttemptAt.Equal(wantAt) || !strings.HasPrefix(sms.Body, "[taskd] [상태 변경] Report https://") {
		t.Fatalf("bob's SMS waits for the end of his quiet hours: %+v", sms)
	}
	if email.ID == "" || !email.NextAttemptAt.Equal(wantAt) {
		t.Fatalf("bob's e-mail: %+v", email)
	}
	// Dave has no e-mail address: no e-mail delivery for him.
	e.consume(t, taskEvent(n.EventTaskAssigned, "alice", 3, event.Change{Field: "pic_id", Old: "bob", New: "dave"}))
	for _, d := range e.store.all() {
		if d.RecipientID == "dave" {
			t.Fatalf("a delivery to an address dave does not have: %+v", d)
		}
	}
	if len(e.store.inboxOf("dave")) != 1 {
		t.Fatal("dave's inbox")
	}
}

func TestScheduleFollowsTheNewestEventAndDeletion(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	d1, d2 := t0.Add(48*time.Hour), t0.Add(72*time.Hour)
	newer := taskEvent(n.EventTaskUpdated, "alice", 3, event.Change{Field: "deadline", Old: nil, New: d2.Format(time.RFC3339)})
	newer.Task.Deadline = &d2
	older := taskEvent(n.EventTaskUpdated, "alice", 2, event.Change{Field: "deadline", Old: nil, New: d1.Format(time.RFC3339)})
	older.Task.Deadline = &d1
	e.consume(t, newer)
	e.consume(t, older) // late: still told, but the schedule keeps d2
	if s := e.store.schedules["t1"]; s.Deadline == nil || !s.Deadline.Equal(d2) {
		t.Fatalf("schedule %+v", s)
	}
	if len(e.store.inboxOf("bob")) != 2 {
		t.Fatal("a late event still reports a change that happened")
	}
	e.consume(t, taskEvent(n.EventTaskDeleted, "alice", 4))
	if _, ok := e.store.schedules["t1"]; ok {
		t.Fatal("a deleted task keeps its schedule")
	}
	bad := taskEvent(n.EventTaskCreated, "alice", 1)
	bad.Task.ID, bad.AggregateID = "", ""
	if err := e.handle.Handle(context.Background(), command.HandleTaskEvent{Event: bad}); !command.IsMalformed(err) {
		t.Fatalf("malformed event: %v", err)
	}
	e.dir.fail = errors.New("database down")
	if err := e.handle.Handle(context.Background(), command.HandleTaskEvent{Event: taskEvent(n.EventTaskCreated, "alice", 5)}); err == nil || command.IsMalformed(err) {
		t.Fatalf("a directory failure is transient: %v", err)
	}
}

func TestDispatchSendsRetriesAndGivesUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	ctx := context.Background()
	transient := errors.New("421 try later")
	e.email.errs = []error{transient}
	e.consume(t, taskEvent(n.EventTaskCreated, "alice", 1))
	e.must(t, e.dispatch.Handle(ctx, command.DispatchDeliveries{}))
	// One of the two failed once and waits a minute; the other is sent.
	if len(e.deliveriesBy(n.StatusSent)) != 1 || len(e.deliveriesBy(n.StatusPending)) != 1 {
		t.Fatalf("after one run: %+v", e.store.all())
	}
	sent := e.deliveriesBy(n.StatusSent)[0]
	if sent.Address == "" || sent.ProviderID != "p-"+sent.Address || sent.SentAt == nil {
		t.Fatalf("sent: %+v", sent)
	}
	waiting := e.deliveriesBy(n.StatusPending)[0]
	if !waiting.NextAttemptAt.Equal(t0.Add(time.Minute)) || waiting.LastError != "421 try later" || waiting.Attempts != 1 {
		t.Fatalf("waiting: %+v", waiting)
	}
	e.must(t, e.dispatch.Handle(ctx, command.DispatchDeliveries{}))
	if e.email.count() != 1 {
		t.Fatal("retried before its backoff")
	}
	e.clock.Advance(time.Minute)
	e.must(t, e.dispatch.Handle(ctx, command.DispatchDeliveries{}))
	if e.email.count() != 2 || len(e.deliveriesBy(n.StatusSent)) != 2 {
		t.Fatalf("after the backoff: %+v", e.store.all())
	}

	// Exhausted: three attempts, then failed and alerted once.
	e.email.errs = []error{transient, transient, transient}
	e.consume(t, taskEvent(n.EventTaskDeleted, "carol", 2)) // tells bob only
	for range 3 {
		e.must(t, e.dispatch.Handle(ctx, command.DispatchDeliveries{}))
		e.clock.Advance(time.Hour)
	}
	failed := e.deliveriesBy(n.StatusFailed)
	if len(failed) != 1 || failed[0].Attempts != 3 || !strings.HasPrefix(failed[0].LastError, "retries exhausted") {
		t.Fatalf("failed: %+v", e.store.all())
	}
	e.chat.fail = 1
	if err := e.alertDone.Handle(ctx, command.AlertFailedDeliveries{}); err == nil {
		t.Fatal("a failed post was not reported")
	}
	e.must(t, e.alertDone.Handle(ctx, command.AlertFailedDeliveries{}))
	e.must(t, e.alertDone.Handle(ctx, command.AlertFailedDeliveries{}))
	if len(e.chat.alerts) != 1 || e.chat.alerts[0].Kind != n.AlertDeliveryFailed || e.chat.alerts[0].RecipientID != "bob" ||
		e.chat.alerts[0].EventName != n.EventTaskDeleted || e.chat.alerts[0].Attempts != 3 {
		t.Fatalf("alerts: %+v", e.chat.alerts)
	}
}

func TestDispatchPermanentFailuresAndDeletedRecipients(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	ctx := context.Background()
	e.email.errs = []error{fmt.Errorf("550: %w", n.Permanent(errors.New("no such user")))}
	e.consume(t, taskEvent(n.EventTaskDeleted, "alice", 1)) // bob and carol
	e.dir.remove("carol")
	e.must(t, e.dispatch.Handle(ctx, command.DispatchDeliveries{}))
	for _, d := range e.store.all() {
		switch d.RecipientID {
		case "bob":
			if d.Status != n.StatusFailed || d.Attempts != 1 || d.LastError != "550: no such user" {
				t.Errorf("bob: %+v", d)
			}
		case "carol":
			if d.Status != n.StatusSkipped {
				t.Errorf("carol was deleted before the send: %+v", d)
			}
		}
	}
	if e.email.count() != 0 {
		t.Fatal("sent to a deleted user")
	}
}

func TestInterruptedSendsFollowTheChannelsGuarantee(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	ctx := context.Background()
	p, _ := n.NewPreferences("bob", map[n.Kind]map[n.Channel]bool{n.KindTaskDeleted: {n.ChannelEmail: true, n.ChannelSMS: true}}, nil)
	e.must(t, e.store.SavePreferences(ctx, p, t0))
	e.consume(t, taskEvent(n.EventTaskDeleted, "alice", 1))
	// A worker claims everything and dies before recording anything.
	claimed, err := e.store.ClaimDue(ctx, t0, 10, command.DefaultClaimTimeout)
	e.must(t, err)
	if len(claimed) != 3 {
		t.Fatalf("claimed %d", len(claimed))
	}
	e.must(t, e.dispatch.Handle(ctx, command.DispatchDeliveries{}))
	if e.email.count()+e.sms.count() != 0 {
		t.Fatal("a live claim was taken over")
	}
	e.clock.Advance(command.DefaultClaimTimeout + time.Second)
	e.must(t, e.dispatch.Handle(ctx, command.DispatchDeliveries{}))
	// E-mail (at least once here) is sent again; SMS (at most once) is not.
	if e.email.count() != 2 || e.sms.count() != 0 {
		t.Fatalf("after the crash: %d e-mails, %d SMS", e.email.count(), e.sms.count())
	}
	unknown := e.deliveriesBy(n.StatusUnknown)
	if len(unknown) != 1 || unknown[0].Channel != n.ChannelSMS {
		t.Fatalf("unknown: %+v", e.store.all())
	}
	e.must(t, e.alertDone.Handle(ctx, command.AlertFailedDeliveries{}))
	if len(e.chat.alerts) != 1 || e.chat.alerts[0].Status != "unknown" {
		t.Fatalf("alerts: %+v", e.chat.alerts)
	}
}

func TestDeadlineRemindersOncePerDeadlineOnTheLeaseHolder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	ctx := context.Background()
	deadline := t0.Add(30 * time.Hour)
	ev := taskEvent(n.EventTaskCreated, "alice", 1)
	ev.Task.Deadline = &deadline
	e.consume(t, ev)
	start := len(e.store.inboxOf("bob"))
	run := func(holder string) {
		t.Helper()
		e.must(t, e.remind.Handle(ctx, command.SendDeadlineReminders{Holder: holder, LeaseTTL: time.Minute}))
	}
	run("w1")
	if len(e.store.inboxOf("bob")) != start {
		t.Fatal("reminded 30 h before")
	}
	e.clock.Advance(7 * time.Hour) // 23 h before; w1's lease (1 min) expired long ago
	run("w2")                      // takes the lease and reminds
	run("w1")                      // w2 holds the lease: nothing
	bob := e.store.inboxOf("bob")
	if len(bob) != start+1 || bob[len(bob)-1].Kind != n.KindDeadlineReminder || !strings.Contains(bob[len(bob)-1].Body, "마감이 다가옵니다") {
		t.Fatalf("bob's reminders: %+v", bob)
	}
	if len(e.store.inboxOf("carol")) != 1 {
		t.Fatal("the supervisor is not told of a near deadline")
	}
	e.clock.Advance(30 * time.Second)
	run("w2")
	if len(e.store.inboxOf("bob")) != start+1 {
		t.Fatal("reminded twice")
	}
	e.clock.Advance(23 * time.Hour)
	run("w2")
	if got := e.store.inboxOf("carol"); len(got) != 2 || got[1].Kind != n.KindOverdue {
		t.Fatalf("overdue tells the supervisor too: %+v", got)
	}
	// A new deadline re-arms.
	later := deadline.Add(10 * time.Hour)
	upd := taskEvent(n.EventTaskUpdated, "alice", 2, event.Change{Field: "deadline", New: later.Format(time.RFC3339)})
	upd.Task.Deadline = &later
	e.consume(t, upd)
	run("w2")
	last := e.store.inboxOf("bob")
	if last[len(last)-1].Kind != n.KindDeadlineReminder {
		t.Fatalf("not re-armed: %+v", last[len(last)-1])
	}
	// E-mail deliveries were recorded for the reminders too, once each.
	k := 0
	for _, d := range e.store.all() {
		if strings.HasPrefix(d.SourceID, "reminder:") {
			k++
		}
	}
	if k != 4 { // near (bob), overdue (bob, carol), near again (bob)
		t.Fatalf("%d reminder deliveries", k)
	}
}

func TestAlertsAndPreferences(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	ctx := context.Background()
	raise := command.NewRaiseAlertHandler(e.deps, e.deps.Logger, decorator.NopMetrics{})
	e.must(t, raise.Handle(ctx, command.RaiseAlert{Alert: n.Alert{Kind: n.AlertDeadLetter, Queue: "notifications"}}))
	e.chat.fail = 1
	if err := raise.Handle(ctx, command.RaiseAlert{Alert: n.Alert{Kind: n.AlertDeadLetter}}); err == nil {
		t.Fatal("a failed post is an error (the dead letter stays unalerted)")
	}
	noChat := e.deps
	noChat.TeamChat = nil
	if err := command.NewRaiseAlertHandler(noChat, e.deps.Logger, decorator.NopMetrics{}).Handle(ctx, command.RaiseAlert{}); err != nil {
		t.Fatal(err)
	}

	upd := command.NewUpdatePreferencesHandler(e.deps, e.deps.Logger, decorator.NopMetrics{})
	e.must(t, upd.Handle(ctx, command.UpdatePreferences{UserID: "bob", Channels: map[string]map[string]bool{"overdue": {"sms": true}},
		Quiet: &command.QuietHours{Start: "22:00", End: "07:00"}}))
	p := e.store.prefs["bob"]
	if p.QuietHours().Zone() != "Asia/Seoul" || !p.Wants(n.KindOverdue, n.ChannelSMS) || p.Wants(n.KindOverdue, n.ChannelInbox) {
		t.Fatalf("bob's preferences: %+v", p.Channels())
	}
	e.must(t, upd.Handle(ctx, command.UpdatePreferences{UserID: "alice", Quiet: &command.QuietHours{Start: "22:00", End: "07:00"}}))
	if e.store.prefs["alice"].QuietHours().Zone() != "UTC" {
		t.Fatal("an English user's default zone")
	}
	for _, c := range []command.UpdatePreferences{
		{UserID: "bob", Channels: map[string]map[string]bool{"weather": {}}},
		{UserID: "bob", Channels: map[string]map[string]bool{"overdue": {"pager": true}}},
		{UserID: "bob", Quiet: &command.QuietHours{Start: "22:00", End: "22:00"}},
		{UserID: "ghost", Quiet: &command.QuietHours{Start: "22:00", End: "07:00"}},
	} {
		if err := upd.Handle(ctx, c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

// blockingSender blocks every send until its context ends.
type blockingSender struct{ started chan struct{} }

func (b blockingSender) SendEmail(ctx context.Context, _ n.Email) (string, error) {
	b.started <- struct{}{}
	<-ctx.Done()
	return "", ctx.Err()
}
func (blockingSender) Guarantee() n.Guarantee { return n.AtMostOnce }

func TestDispatchStopsLikeACrashAndReleasesWhatItDidNotSend(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	e.consume(t, taskEvent(n.EventTaskDeleted, "alice", 1)) // bob and carol
	// The directory fails: nothing is sent, the claims go back at once.
	e.dir.fail = errors.New("database down")
	if err := e.dispatch.Handle(context.Background(), command.DispatchDeliveries{}); err == nil {
		t.Fatal("the failure was not reported")
	}
	if p := e.deliveriesBy(n.StatusPending); len(p) != 2 || p[0].LastError == "" || !p[0].NextAttemptAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("after a directory failure: %+v", e.store.all())
	}
	e.dir.fail = nil
	e.clock.Advance(time.Minute)

	// A stop while sending: the one in flight stays claimed (as after a
	// crash: settled by its channel's guarantee once the claim expires);
	// the one not begun goes back.
	deps := e.deps
	deps.Config.Parallel = 1
	blocked := blockingSender{started: make(chan struct{})}
	deps.Email = blocked
	dispatch := command.NewDispatchDeliveriesHandler(deps, deps.Logger, decorator.NopMetrics{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- dispatch.Handle(ctx, command.DispatchDeliveries{}) }()
	<-blocked.started
	cancel()
	<-done
	if s := e.deliveriesBy(n.StatusSending); len(s) != 1 {
		t.Fatalf("in flight at the stop: %+v", e.store.all())
	}
	if p := e.deliveriesBy(n.StatusPending); len(p) != 1 || p[0].LastError != "not sent: the dispatcher stopped" {
		t.Fatalf("not begun at the stop: %+v", e.store.all())
	}
	// After the claim expires, an at-most-once channel does not send it again.
	e.clock.Advance(command.DefaultClaimTimeout + time.Second)
	deps.Email = &sender{guarantee: n.AtMostOnce}
	e.must(t, command.NewDispatchDeliveriesHandler(deps, deps.Logger, decorator.NopMetrics{}).Handle(context.Background(), command.DispatchDeliveries{}))
	if len(e.deliveriesBy(n.StatusUnknown)) != 1 || len(e.deliveriesBy(n.StatusSent)) != 1 || deps.Email.(*sender).count() != 1 {
		t.Fatalf("after the claim expired: %+v", e.store.all())
	}
}
