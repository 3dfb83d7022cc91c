package notification_test

import (
	"testing"
	"time"

	n "github.com/taskd/taskd/modules/notifications/domain/notification"
)

func TestDefaultPreferencesAreInboxAndEmail(t *testing.T) {
	t.Parallel()
	p := n.DefaultPreferences("u")
	for _, k := range n.Kinds {
		if !p.Wants(k, n.ChannelInbox) || !p.Wants(k, n.ChannelEmail) || p.Wants(k, n.ChannelSMS) {
			t.Errorf("%s: %v", k, p.Channels()[k])
		}
	}
	if p.QuietHours() != nil {
		t.Error("quiet hours by default")
	}
}

func TestNewPreferences(t *testing.T) {
	t.Parallel()
	p, err := n.NewPreferences("u", map[n.Kind]map[n.Channel]bool{
		n.KindOverdue: {n.ChannelSMS: true, n.ChannelInbox: true},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Wants(n.KindOverdue, n.ChannelSMS) || p.Wants(n.KindOverdue, n.ChannelEmail) {
		t.Error("overdue: a kind's missing channel is off")
	}
	if !p.Wants(n.KindTaskAssigned, n.ChannelEmail) {
		t.Error("a missing kind keeps its defaults")
	}
	if _, err := n.NewPreferences("u", map[n.Kind]map[n.Channel]bool{{}: {n.ChannelInbox: true}}, nil); err == nil {
		t.Error("a zero kind was accepted")
	}
	if _, err := n.NewPreferences("", nil, nil); err == nil {
		t.Error("no user")
	}
	for _, s := range []string{"task_assigned", "overdue"} {
		if _, err := n.KindFromString(s); err != nil {
			t.Error(err)
		}
	}
	for _, s := range []string{"", "system_alert", "TaskCreated"} {
		if _, err := n.KindFromString(s); err == nil {
			t.Errorf("kind %q accepted", s)
		}
	}
	if _, err := n.ChannelFromString("webhook"); err == nil {
		t.Error("webhook is not a user channel")
	}
}

func TestQuietHours(t *testing.T) {
	t.Parallel()
	q, err := n.NewQuietHours("22:00", "07:00", "Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	kst := func(h, m int) time.Time { return time.Date(2026, 3, 2, h, m, 0, 0, seoul(t)) }
	cases := []struct {
		at    time.Time
		quiet bool
		end   time.Time
	}{
		{kst(21, 59), false, kst(21, 59)},
		{kst(22, 0), true, kst(7, 0).AddDate(0, 0, 1)},
		{kst(23, 30), true, kst(7, 0).AddDate(0, 0, 1)},
		{kst(3, 0), true, kst(7, 0)},
		{kst(7, 0), false, kst(7, 0)},
	}
	for _, c := range cases {
		if q.Contains(c.at) != c.quiet || !q.End(c.at).Equal(c.end) {
			t.Errorf("%v: quiet %v end %v, want %v %v", c.at, q.Contains(c.at), q.End(c.at), c.quiet, c.end)
		}
	}
	p, _ := n.NewPreferences("u", nil, q)
	if at := p.DeliverAt(n.ChannelInbox, kst(23, 0)); !at.Equal(kst(23, 0)) {
		t.Error("the inbox never waits")
	}
	if at := p.DeliverAt(n.ChannelEmail, kst(23, 0)); !at.Equal(kst(7, 0).AddDate(0, 0, 1)) {
		t.Errorf("e-mail waits until 07:00, got %v", at)
	}
	day, _ := n.NewQuietHours("12:00", "13:30", "UTC")
	if !day.Contains(time.Date(2026, 1, 1, 12, 45, 0, 0, time.UTC)) || day.Contains(time.Date(2026, 1, 1, 13, 30, 0, 0, time.UTC)) {
		t.Error("a daytime period")
	}
	if s, e := day.Clock(); s != "12:00" || e != "13:30" || day.Zone() != "UTC" {
		t.Error(s, e)
	}
	for _, bad := range [][3]string{{"22:00", "22:00", "UTC"}, {"24:00", "07:00", "UTC"}, {"7:00", "08:00", "UTC"},
		{"22:00", "07:00", ""}, {"22:00", "07:00", "Mars/Base"}, {"22:00", "07:00", "Local"}, {"aa:bb", "07:00", "UTC"}} {
		if _, err := n.NewQuietHours(bad[0], bad[1], bad[2]); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
