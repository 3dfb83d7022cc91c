package main

// Component tests of the notifications module (issue 6, "Proof"): the
// whole binary's graph (run(…), as main does) with real adapters, driven
// over HTTP. The e-mail ones use the stand-ins of deploy/local
// (aws-ses-v2-local, the SMTP sink) and a local webhook receiver; they
// skip under -short or when a stand-in is unreachable, unless
// TASKD_TEST_REQUIRE_SERVICES=1.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taskd/taskd/adapters/contracttest"
	"github.com/taskd/taskd/adapters/sqlstore"
	"github.com/taskd/taskd/modules/kernel/event"
	"github.com/taskd/taskd/modules/kernel/sys"
	tasks "github.com/taskd/taskd/modules/tasks/contracts"
)

// e2eInbox is GET /api/notifications.
type e2eInbox struct {
	Notifications []struct {
		ID       string  `json:"id"`
		Kind     string  `json:"kind"`
		Title    string  `json:"title"`
		Message  string  `json:"message"`
		TaskID   *string `json:"task_id"`
		TaskName *string `json:"task_name"`
		Actor    *struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"actor"`
		Link      *string `json:"link"`
		Read      bool    `json:"read"`
		CreatedAt string  `json:"created_at"`
		ReadAt    *string `json:"read_at"`
	} `json:"notifications"`
	NextCursor  *string `json:"next_cursor"`
	UnreadCount int     `json:"unread_count"`
}

func e2eGetInbox(t testing.TB, s *e2eServer, token, query string) e2eInbox {
	t.Helper()
	r := s.expect(t, http.StatusOK, "GET", "/api/notifications"+query, token, nil)
	var in e2eInbox
	if err := json.Unmarshal(r.body, &in); err != nil {
		t.Fatalf("inbox %s: %v", r.body, err)
	}
	return in
}

// e2eWaitInbox polls the inbox until it holds want entries.
func e2eWaitInbox(t testing.TB, s *e2eServer, token string, want int, timeout time.Duration) e2eInbox {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		in := e2eGetInbox(t, s, token, "")
		if len(in.Notifications) >= want || time.Now().After(deadline) {
			if len(in.Notifications) != want {
				t.Fatalf("inbox holds %d entries after %s, want %d: %+v", len(in.Notifications), timeout, want, in)
			}
			return in
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestE2EInboxEmbeddedWithNothingConfigured: embedded mode, no e-mail, no
// SMS, no webhook. Creating a task assigned to someone puts it in their
// inbox within a second; the actor hears nothing; the inbox routes and the
// preferences work.
func TestE2EInboxEmbeddedWithNothingConfigured(t *testing.T) {
	t.Parallel()
	b := e2eSQLite(t)
	s := e2eStart(t, e2eMerge(b.env, map[string]string{"TASKD_PUBLIC_URL": "https://taskd.example"}))
	alice := e2eSignUpAndIn(t, s, "alice")
	bob := e2eSignUpAndIn(t, s, "bob")

	r := s.expect(t, http.StatusCreated, "POST", "/api/tasks", alice.token, map[string]string{
		"Task_name": "주간 보고서", "PIC": bob.email, "Deadline": "2030-01-10",
	})
	created := time.Now()
	taskID := r.str(t, "Task_id")
	in := e2eWaitInbox(t, s, bob.token, 1, time.Second)
	latency := time.Since(created)
	t.Logf("commit → bob's inbox: %s", latency)
	if latency > time.Second {
		t.Fatalf("the notification took %s, want under a second", latency)
	}
	got := in.Notifications[0]
	if got.Kind != "task_assigned" || got.Title != "[새 작업] 주간 보고서" || !strings.Contains(got.Message, "alice님이") ||
		!strings.Contains(got.Message, "담당자로") || !strings.Contains(got.Message, "2030-01-11 08:59 KST") ||
		e2eStr(got.TaskID) != taskID || e2eStr(got.TaskName) != "주간 보고서" || got.Actor == nil || got.Actor.ID != alice.id ||
		got.Actor.Name != "alice" || e2eStr(got.Link) != "https://taskd.example/tasks/"+taskID || got.Read || in.UnreadCount != 1 {
		t.Fatalf("bob's notification: %+v (unread %d)", got, in.UnreadCount)
	}
	if !strings.HasSuffix(got.Message, "\nhttps://taskd.example/tasks/"+taskID) {
		t.Errorf("the message does not end with the link: %q", got.Message)
	}
	if a := e2eGetInbox(t, s, alice.token, ""); len(a.Notifications) != 0 {
		t.Fatalf("the actor was told about her own change: %+v", a)
	}

	// English for bob from now on; the status change by alice tells bob (PIC),
	// not alice (creator and actor).
	s.expect(t, http.StatusOK, "PATCH", "/api/users/me", bob.token, map[string]string{"locale": "en"})
	s.expect(t, http.StatusOK, "POST", "/api/tasks/"+taskID+"/status", alice.token, map[string]string{"Task_status": "in_progress"})
	in = e2eWaitInbox(t, s, bob.token, 2, 2*time.Second)
	if got := in.Notifications[0]; got.Kind != "status_changed" || got.Title != "[Status] 주간 보고서" ||
		!strings.Contains(got.Message, "Status: waiting → in progress") || in.UnreadCount != 2 {
		t.Fatalf("newest first, in English: %+v", in)
	}

	// Pages, unread filter, read, read-all.
	page := e2eGetInbox(t, s, bob.token, "?limit=1")
	if len(page.Notifications) != 1 || page.NextCursor == nil || page.Notifications[0].Kind != "status_changed" {
		t.Fatalf("first page: %+v", page)
	}
	page = e2eGetInbox(t, s, bob.token, "?limit=1&cursor="+url.QueryEscape(*page.NextCursor))
	if len(page.Notifications) != 1 || page.NextCursor != nil || page.Notifications[0].Kind != "task_assigned" {
		t.Fatalf("second page: %+v", page)
	}
	first := page.Notifications[0].ID
	r = s.expect(t, http.StatusOK, "POST", "/api/notifications/"+first+"/read", bob.token, nil)
	e2eExactly(t, r, map[string]string{"unread_count": ""})
	if r.obj(t)["unread_count"] != float64(1) {
		t.Fatalf("after one read: %s", r.body)
	}
	s.expect(t, http.StatusOK, "POST", "/api/notifications/"+first+"/read", bob.token, map[string]any{}) // again: fine
	if r := s.send(t, "POST", "/api/notifications/"+first+"/read", alice.token, nil); r.status != http.StatusNotFound || r.errorCode(t) != "notification_not_found" {
		t.Fatalf("someone else's notification: %d %s", r.status, r.body)
	}
	unread := e2eGetInbox(t, s, bob.token, "?unread=true")
	if len(unread.Notifications) != 1 || unread.Notifications[0].Kind != "status_changed" || unread.UnreadCount != 1 {
		t.Fatalf("unread only: %+v", unread)
	}
	s.expect(t, http.StatusOK, "POST", "/api/notifications/read-all", bob.token, map[string]any{})
	r = s.expect(t, http.StatusOK, "GET", "/api/notifications/unread-count", bob.token, nil)
	if r.obj(t)["unread_count"] != float64(0) {
		t.Fatalf("after read-all: %s", r.body)
	}
	if r := s.send(t, "GET", "/api/notifications?unread=maybe", bob.token, nil); r.status != http.StatusUnprocessableEntity || r.errorCode(t) != "invalid_unread" {
		t.Fatalf("bad unread: %d %s", r.status, r.body)
	}
	if r := s.send(t, "GET", "/api/notifications?cursor=garbage!", bob.token, nil); r.status != http.StatusBadRequest || r.errorCode(t) != "invalid_cursor" {
		t.Fatalf("bad cursor: %d %s", r.status, r.body)
	}
	if r := s.send(t, "GET", "/api/notifications", "", nil); r.status != http.StatusUnauthorized {
		t.Fatalf("no token: %d", r.status)
	}

	// Preferences: defaults, then no inbox for status changes.
	r = s.expect(t, http.StatusOK, "GET", "/api/users/me/notifications", bob.token, nil)
	var prefs struct {
		Preferences map[string]map[string]bool `json:"preferences"`
		QuietHours  *struct{ Start, End, TimeZone string }
	}
	if err := json.Unmarshal(r.body, &prefs); err != nil || len(prefs.Preferences) != 6 ||
		!prefs.Preferences["overdue"]["email"] || prefs.Preferences["overdue"]["sms"] || prefs.QuietHours != nil {
		t.Fatalf("default preferences: %s", r.body)
	}
	r = s.expect(t, http.StatusOK, "PUT", "/api/users/me/notifications", bob.token, map[string]any{
		"preferences": map[string]any{"status_changed": []string{"email"}, "overdue": map[string]bool{"inbox": true, "sms": true}},
		"quiet_hours": map[string]string{"start": "22:00", "end": "07:00"},
	})
	var saved map[string]any
	_ = json.Unmarshal(r.body, &saved)
	q, _ := saved["quiet_hours"].(map[string]any)
	p, _ := saved["preferences"].(map[string]any)
	if q["time_zone"] != "UTC" || q["start"] != "22:00" || p["status_changed"].(map[string]any)["inbox"] != false {
		t.Fatalf("saved preferences: %s (an English user's zone defaults to UTC)", r.body)
	}
	for _, bad := range []struct {
		body any
		code string
	}{
		{map[string]any{"preferences": map[string]any{"weather": []string{"inbox"}}}, "invalid_notification_kind"},
		{map[string]any{"preferences": map[string]any{"overdue": []string{"pager"}}}, "invalid_notification_channel"},
		{map[string]any{"preferences": map[string]any{"overdue": "all"}}, "invalid_type"},
		{map[string]any{"quiet_hours": map[string]string{"start": "25:00", "end": "07:00"}}, "invalid_quiet_hours"},
		{map[string]any{"quiet_hours": map[string]string{"start": "22:00", "end": "07:00", "time_zone": "Mars/Base"}}, "invalid_quiet_hours"},
		{map[string]any{"mute": true}, "unknown_field"},
	} {
		if r := s.send(t, "PUT", "/api/users/me/notifications", bob.token, bad.body); r.status/100 != 4 || r.errorCode(t) != bad.code {
			t.Errorf("%v: %d %s, want %s", bad.body, r.status, r.body, bad.code)
		}
	}
	s.expect(t, http.StatusOK, "POST", "/api/tasks/"+taskID+"/status", alice.token, map[string]string{"Task_status": "done"})
	// A later change that still reaches bob's inbox shows the first is skipped, not slow.
	s.expect(t, http.StatusOK, "PUT", "/api/tasks/"+taskID, alice.token, map[string]string{"Task_priority": "urgent"})
	in = e2eWaitInbox(t, s, bob.token, 3, 2*time.Second)
	if in.Notifications[0].Kind != "task_updated" || !strings.Contains(in.Notifications[0].Message, "Priority: medium → urgent") {
		t.Fatalf("after opting out of status changes in the inbox: %+v", in.Notifications[0])
	}

	// Admins only.
	if r := s.send(t, "GET", "/api/admin/deliveries?status=failed", bob.token, nil); r.status != http.StatusForbidden || r.errorCode(t) != "forbidden" {
		t.Fatalf("admin view for a member: %d %s", r.status, r.body)
	}
}

// webhookReceiver is a local team-chat webhook: it records every post.
type webhookReceiver struct {
	mu    sync.Mutex
	posts []string
	srv   *httptest.Server
}

func newWebhookReceiver(t testing.TB) *webhookReceiver {
	w := &webhookReceiver{}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]string
		_ = json.Unmarshal(b, &m)
		w.mu.Lock()
		w.posts = append(w.posts, m["text"])
		w.mu.Unlock()
		rw.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(w.srv.Close)
	return w
}

// wait returns the posts once one contains every part of want.
func (w *webhookReceiver) wait(t testing.TB, timeout time.Duration, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		w.mu.Lock()
		posts := append([]string(nil), w.posts...)
		w.mu.Unlock()
		for _, p := range posts {
			ok := true
			for _, s := range want {
				ok = ok && strings.Contains(p, s)
			}
			if ok {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no alert with %q within %s; got %q", want, timeout, posts)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// e2eMail is one scenario of e-mail: which stand-in, which configuration.
type e2eMail struct {
	name string
	env  func(t *testing.T) map[string]string
	box  func(t *testing.T) contracttest.Mailbox
}

// TestE2EEmailExactlyOnce: over SMTP (the sink) and SES (aws-ses-v2-local).
// One status change produces exactly the expected e-mails to exactly the
// expected recipients; redelivering every event (processed-event keys
// kept, then dropped too) sends nothing more; a refused recipient and a
// poison event reach the failed deliveries and the dead letters, and the
// webhook receiver gets both alerts.
func TestE2EEmailExactlyOnce(t *testing.T) {
	for _, m := range []e2eMail{
		{"smtp", func(t *testing.T) map[string]string {
			sink := contracttest.RequireSMTP(t)
			return map[string]string{"TASKD_EMAIL": "smtp", "TASKD_SMTP_HOST": sink.Host, "TASKD_SMTP_PORT": fmt.Sprint(sink.Port),
				"TASKD_SMTP_STARTTLS": "false"}
		}, func(t *testing.T) contracttest.Mailbox { return contracttest.RequireSMTP(t) }},
		{"ses", func(t *testing.T) map[string]string {
			ses := contracttest.RequireSES(t)
			// The SDK reads its own variables from the process environment.
			t.Setenv("AWS_ENDPOINT_URL_SESV2", ses.Endpoint)
			for k, v := range map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_EC2_METADATA_DISABLED": "true"} {
				if _, ok := osEnv(k); !ok {
					t.Setenv(k, v)
				}
			}
			return map[string]string{"TASKD_EMAIL": "ses"}
		}, func(t *testing.T) contracttest.Mailbox { return contracttest.RequireSES(t) }},
	} {
		t.Run(m.name, func(t *testing.T) { e2eEmailScenario(t, m) })
	}
}

func e2eEmailScenario(t *testing.T, m e2eMail) {
	box := m.box(t)
	hook := newWebhookReceiver(t)
	b := e2eSQLite(t)
	s := e2eStart(t, e2eMerge(b.env, m.env(t), map[string]string{
		"TASKD_EMAIL_FROM": "taskd@taskd.example", "TASKD_PUBLIC_URL": "https://taskd.example",
		"TASKD_ALERT_WEBHOOK_URL": hook.srv.URL + "/hooks/slack-compatible", "TASKD_NOTIFY_DISPATCH_INTERVAL": "50ms",
		"TASKD_DLQ_WATCH_INTERVAL": "100ms", "TASKD_EVENTS_MAX_RECEIVE_COUNT": "2", "TASKD_EVENTS_REDELIVERY_BACKOFF": "100ms",
	}))
	// Unique names: the stand-ins keep every test's mail.
	tag := sys.NewUUIDv7()[24:]
	creator := e2eSignUpAndIn(t, s, "creator-"+tag)
	pic := e2eSignUpAndIn(t, s, "pic-"+tag)
	sup := e2eSignUpAndIn(t, s, "sup-"+tag)
	bystander := e2eSignUpAndIn(t, s, "bystander-"+tag)
	wait := 10 * time.Second

	r := s.expect(t, http.StatusCreated, "POST", "/api/tasks", creator.token, map[string]string{
		"Task_name": "Quarterly review " + tag, "PIC": pic.email, "Supervisor": sup.email,
	})
	taskID := r.str(t, "Task_id")
	contracttest.WaitForMail(t, box, pic.email, 1, wait)
	contracttest.WaitForMail(t, box, sup.email, 1, wait)

	// One status change, by the PIC: the creator and the supervisor get one
	// e-mail each; the PIC (the actor) and the bystander none.
	s.expect(t, http.StatusOK, "POST", "/api/tasks/"+taskID+"/status", pic.token, map[string]string{"Task_status": "in_progress"})
	mail := contracttest.WaitForMail(t, box, creator.email, 1, wait)[0]
	if mail.Subject != "[상태 변경] Quarterly review "+tag || !strings.Contains(mail.Text, "pic-"+tag+"님이") ||
		!strings.Contains(mail.Text, "상태: 대기 → 진행 중") || !strings.Contains(mail.Text, "https://taskd.example/tasks/"+taskID) {
		t.Fatalf("the creator's e-mail: %+v", mail)
	}
	contracttest.WaitForMail(t, box, sup.email, 2, wait)
	settle := func() {
		time.Sleep(600 * time.Millisecond) // a dozen dispatcher ticks
		contracttest.WaitForMail(t, box, creator.email, 1, wait)
		contracttest.WaitForMail(t, box, pic.email, 1, wait)
		contracttest.WaitForMail(t, box, sup.email, 2, wait)
		contracttest.WaitForMail(t, box, bystander.email, 0, wait)
	}
	settle()

	// Redeliver every event to the notifications group: its offset back to
	// the start. The processed-event keys stop them.
	db := b.open(t)
	redeliver := func() {
		t.Helper()
		if _, err := db.SQL.Exec(`UPDATE outbox_offsets SET offset_acked = 0, offset_consumed = 0 WHERE consumer_group = 'notifications'`); err != nil {
			t.Fatal(err)
		}
		var last, acked int64
		eventuallyE2E(t, 10*time.Second, "the redelivered events to be consumed again", func() bool {
			_ = db.SQL.QueryRow(`SELECT MAX("offset") FROM outbox_messages`).Scan(&last)
			_ = db.SQL.QueryRow(`SELECT offset_acked FROM outbox_offsets WHERE consumer_group = 'notifications'`).Scan(&acked)
			return acked >= last
		})
	}
	redeliver()
	settle()
	// Without the keys too (a crash lost them, or a replay from a DLQ): the
	// unique keys of the inbox and of the delivery records stop them.
	if _, err := db.SQL.Exec(`DELETE FROM processed_events WHERE handler = 'notifications'`); err != nil {
		t.Fatal(err)
	}
	redeliver()
	settle()
	// The handler did run again for every task event (it recorded the keys anew).
	all, err := sqlstore.NewOutboxReader(db).List(context.Background(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	taskEvents, keys := 0, 0
	for _, e := range all {
		if strings.HasPrefix(e.Name, "Task") {
			taskEvents++
		}
	}
	_ = db.SQL.QueryRow(`SELECT COUNT(*) FROM processed_events WHERE handler = 'notifications'`).Scan(&keys)
	if taskEvents != 2 || keys != taskEvents {
		t.Fatalf("%d processed-event keys after the redelivery, want one per task event (%d, want 2)", keys, taskEvents)
	}
	if in := e2eGetInbox(t, s, sup.token, ""); len(in.Notifications) != 2 {
		t.Fatalf("the supervisor's inbox after the redeliveries: %d entries, want 2", len(in.Notifications))
	}

	// A refused recipient: recorded failed, not retried, alerted.
	rejected := e2eSignUpWithEmail(t, s, "rejected-"+tag, "nobody-"+tag+"@reject.invalid")
	s.expect(t, http.StatusOK, "PUT", "/api/tasks/"+taskID, creator.token, map[string]string{"PIC": rejected.email})
	if m.name == "smtp" {
		hook.wait(t, wait, "could not be delivered (failed)", "channel: email", "recipient: "+rejected.id, "550")
		if _, err := e2eRun(t, b.env, "users", "promote", creator.email, "admin"); err != nil {
			t.Fatal(err)
		}
		// A new role revokes the tokens; the auth middleware caches a
		// principal for up to 2 s.
		admin := e2eSignIn(t, s, creator.email, e2ePassword)
		eventuallyE2E(t, 5*time.Second, "the admin role", func() bool {
			r = s.send(t, "GET", "/api/admin/deliveries?status=failed", admin, nil)
			return r.status == http.StatusOK
		})
		var failed struct {
			Deliveries []struct {
				RecipientID string `json:"recipient_id"`
				Attempts    int    `json:"attempts"`
				LastError   string `json:"last_error"`
			} `json:"deliveries"`
		}
		_ = json.Unmarshal(r.body, &failed)
		if len(failed.Deliveries) != 1 || failed.Deliveries[0].RecipientID != rejected.id || failed.Deliveries[0].Attempts != 1 ||
			!strings.Contains(failed.Deliveries[0].LastError, "550") {
			t.Fatalf("failed deliveries: %s", r.body)
		}
	}

	// A poison event: the notifications group cannot make sense of it, so it
	// goes to the dead letters at once and the team chat hears of it.
	poison := tasks.TaskCreated{TaskEvent: tasks.TaskEvent{Meta: event.Meta{
		ID: sys.NewUUIDv7(), Type: tasks.NameTaskCreated, SchemaVersion: tasks.SchemaVersion, OccurredAt: time.Now().UTC(),
		AggregateType: tasks.AggregateType, Sequence: 1,
	}}}
	if err := db.WithinTransaction(context.Background(), func(ctx context.Context) error {
		tx, _ := sqlstore.TxFromContext(ctx)
		return db.Outbox.Append(ctx, tx, []event.Event{poison})
	}); err != nil {
		t.Fatal(err)
	}
	hook.wait(t, wait, "dead-letter queue", "queue: notifications", "event: TaskCreated", "event id: "+poison.ID)
	out, err := e2eRun(t, b.env, "dlq", "list", "--queue", "notifications")
	if err != nil || !strings.Contains(out, poison.ID) {
		t.Fatalf("taskd dlq list: %v\n%s", err, out)
	}
}

// e2eSignUpWithEmail signs up a user with a given e-mail address.
func e2eSignUpWithEmail(t *testing.T, s *e2eServer, name, email string) e2eUser {
	t.Helper()
	r := s.expect(t, http.StatusCreated, "POST", "/api/sign_up", "", map[string]string{"email": email, "password": e2ePassword, "name": name})
	u := e2eUser{email: email, password: e2ePassword, id: r.str(t, "User_id")}
	u.token = e2eSignIn(t, s, email, e2ePassword)
	return u
}

func eventuallyE2E(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestE2EEmailOverSNSAndSQS is the cloud column: MySQL, the outbox
// forwarded to SNS, the "notifications" SQS queue (fauxqs), e-mail through
// SES (aws-ses-v2-local). A status change sends exactly the expected
// e-mails; the forwarder publishing every event again (the same event ids,
// redelivered by SQS) sends nothing more, with the processed-event keys and
// without them; a poison event lands in the SQS dead-letter queue after
// maxReceiveCount receives and the webhook receiver gets the alert.
func TestE2EEmailOverSNSAndSQS(t *testing.T) {
	ses := contracttest.RequireSES(t)
	b := e2eMySQL(t)
	sqsEndpoint := "http://127.0.0.1:14566"
	if v, ok := osEnv("AWS_ENDPOINT_URL_SQS"); ok && v != "" {
		sqsEndpoint = v
	}
	if resp, err := http.Get(sqsEndpoint + "/health"); err != nil || resp.StatusCode != http.StatusOK {
		if _, req := osEnv("TASKD_TEST_REQUIRE_SERVICES"); req {
			t.Fatalf("the SNS/SQS stand-in is required but unreachable at %s: %v", sqsEndpoint, err)
		}
		t.Skipf("the SNS/SQS stand-in is unreachable at %s: %v", sqsEndpoint, err)
	} else {
		resp.Body.Close()
	}
	// The SDK reads its own variables from the process environment.
	for k, v := range map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL_SNS": sqsEndpoint, "AWS_ENDPOINT_URL_SQS": sqsEndpoint,
		"AWS_ENDPOINT_URL_SESV2": ses.Endpoint} {
		t.Setenv(k, v)
	}
	hook := newWebhookReceiver(t)
	s := e2eStart(t, e2eMerge(b.env, map[string]string{
		"TASKD_AUTO_MIGRATE": "true", "TASKD_EVENTS": "aws", "TASKD_ENV": "tn" + sys.NewUUIDv7()[28:],
		"TASKD_EMAIL": "ses", "TASKD_EMAIL_FROM": "taskd@taskd.example", "TASKD_PUBLIC_URL": "https://taskd.example",
		"TASKD_ALERT_WEBHOOK_URL": hook.srv.URL + "/hooks/x", "TASKD_NOTIFY_DISPATCH_INTERVAL": "50ms",
		"TASKD_DLQ_WATCH_INTERVAL": "200ms", "TASKD_EVENTS_MAX_RECEIVE_COUNT": "2", "TASKD_EVENTS_REDELIVERY_BACKOFF": "200ms",
		"TASKD_EVENTS_VISIBILITY_TIMEOUT": "5s",
	}))
	tag := sys.NewUUIDv7()[24:]
	creator := e2eSignUpAndIn(t, s, "c-"+tag)
	pic := e2eSignUpAndIn(t, s, "p-"+tag)
	sup := e2eSignUpAndIn(t, s, "s-"+tag)
	wait := 30 * time.Second

	r := s.expect(t, http.StatusCreated, "POST", "/api/tasks", creator.token, map[string]string{
		"Task_name": "Cloud review " + tag, "PIC": pic.email, "Supervisor": sup.email,
	})
	taskID := r.str(t, "Task_id")
	contracttest.WaitForMail(t, ses, pic.email, 1, wait)
	contracttest.WaitForMail(t, ses, sup.email, 1, wait)
	s.expect(t, http.StatusOK, "POST", "/api/tasks/"+taskID+"/status", pic.token, map[string]string{"Task_status": "done"})
	mail := contracttest.WaitForMail(t, ses, creator.email, 1, wait)[0]
	if mail.Subject != "[완료] Cloud review "+tag || !strings.Contains(mail.Text, "상태: 대기 → 완료") {
		t.Fatalf("the creator's e-mail: %+v", mail)
	}
	contracttest.WaitForMail(t, ses, sup.email, 2, wait)
	settle := func() {
		t.Helper()
		time.Sleep(time.Second)
		contracttest.WaitForMail(t, ses, creator.email, 1, wait)
		contracttest.WaitForMail(t, ses, pic.email, 1, wait)
		contracttest.WaitForMail(t, ses, sup.email, 2, wait)
	}
	settle()

	db := b.open(t)
	var last int64
	if err := db.SQL.QueryRow("SELECT MAX(`offset`) FROM outbox_messages").Scan(&last); err != nil {
		t.Fatal(err)
	}
	taskEvents := 0
	all, err := sqlstore.NewOutboxReader(db).List(context.Background(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range all {
		if strings.HasPrefix(e.Name, "Task") {
			taskEvents++
		}
	}
	republish := func() {
		t.Helper()
		// The cloud forwarder marks each row it relayed (docs/events.md):
		// unmarking them makes it publish every event again, same ids.
		if _, err := db.SQL.Exec("UPDATE outbox_messages SET relayed = 0 WHERE `offset` <= ?", last); err != nil {
			t.Fatal(err)
		}
		eventuallyE2E(t, wait, "the forwarder to publish everything again", func() bool {
			var pending int64
			_ = db.SQL.QueryRow("SELECT COUNT(*) FROM outbox_messages WHERE relayed = 0 AND `offset` <= ?", last).Scan(&pending)
			return pending == 0
		})
	}
	republish()
	settle()
	// Without the keys: the redelivered events are handled again (their keys
	// come back) and the unique keys of the records stop a second e-mail.
	if _, err := db.SQL.Exec(`DELETE FROM processed_events WHERE handler = 'notifications'`); err != nil {
		t.Fatal(err)
	}
	republish()
	eventuallyE2E(t, wait, "the redelivered events to be handled", func() bool {
		var k int
		_ = db.SQL.QueryRow(`SELECT COUNT(*) FROM processed_events WHERE handler = 'notifications'`).Scan(&k)
		return k == taskEvents
	})
	settle()

	// A poison event: SQS receives it maxReceiveCount times, redrive moves
	// it to the DLQ, the watcher collects it and the team chat hears of it.
	poison := tasks.TaskCreated{TaskEvent: tasks.TaskEvent{Meta: event.Meta{
		ID: sys.NewUUIDv7(), Type: tasks.NameTaskCreated, SchemaVersion: tasks.SchemaVersion, OccurredAt: time.Now().UTC(),
		AggregateType: tasks.AggregateType, Sequence: 1,
	}}}
	if err := db.WithinTransaction(context.Background(), func(ctx context.Context) error {
		tx, _ := sqlstore.TxFromContext(ctx)
		return db.Outbox.Append(ctx, tx, []event.Event{poison})
	}); err != nil {
		t.Fatal(err)
	}
	hook.wait(t, 60*time.Second, "dead-letter queue", "queue: notifications", "event id: "+poison.ID)
}
