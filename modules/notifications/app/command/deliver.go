package command

import (
	"context"
	"fmt"
	"time"

	n "github.com/taskd/taskd/modules/notifications/domain/notification"
)

// channels are the external channels configured (nil: off).
type channels struct {
	email EmailSender
	sms   SMSSender
}

// planner turns intents into inbox entries and delivery records: it is
// the part of consuming an event and of sending reminders that is the same.
type planner struct {
	store     Store
	directory Directory
	channels  channels
	cfg       Config
	newID     func() string
}

// notice is one thing to tell: where it comes from and what it says.
type notice struct {
	sourceID  string
	eventName string
	facts     n.Facts
	intents   []n.Intent
}

// deliver writes the inbox entries and delivery records of nt at now, in
// the transaction of ctx. Recipients the directory does not know any more
// (deleted users) are skipped; each recipient gets the channels they want
// among those configured and those they have an address for.
func (p planner) deliver(ctx context.Context, nt notice, now time.Time) error {
	if len(nt.intents) == 0 {
		return nil
	}
	ids := append(n.Recipients(nt.intents), nt.facts.ActorID)
	for _, c := range nt.facts.Changes {
		if c.Field == "pic_id" || c.Field == "supervisor_id" {
			for _, v := range []any{c.Old, c.New} {
				if s, ok := v.(string); ok {
					ids = append(ids, s)
				}
			}
		}
	}
	users, err := p.directory.Users(ctx, nonEmpty(ids))
	if err != nil {
		return fmt.Errorf("looking up recipients: %w", err)
	}
	prefs, err := p.store.Preferences(ctx, n.Recipients(nt.intents))
	if err != nil {
		return fmt.Errorf("loading preferences: %w", err)
	}
	names := make(map[string]string, len(users))
	for id, u := range users {
		names[id] = u.Name
	}
	facts := nt.facts
	facts.Names = names
	facts.Link = p.cfg.Link(facts.Task.ID)
	var (
		inbox      []n.Notification
		deliveries []n.Delivery
	)
	for _, in := range nt.intents {
		u, ok := users[in.UserID]
		if !ok {
			continue // deleted: nobody to tell
		}
		pref := prefs[u.ID]
		if pref == nil {
			pref = n.DefaultPreferences(u.ID)
		}
		f := facts
		f.Kind, f.Roles = in.Kind, in.Roles
		msg := n.Render(u.Locale, zoneOf(pref, u.Locale), f)
		if pref.Wants(in.Kind, n.ChannelInbox) {
			inbox = append(inbox, n.Notification{
				ID: p.newID(), RecipientID: u.ID, SourceID: nt.sourceID, Kind: in.Kind,
				TaskID: f.Task.ID, TaskName: f.Task.Name, ActorID: f.ActorID, ActorName: names[f.ActorID],
				Title: msg.Title, Body: msg.Body, Link: f.Link, CreatedAt: now,
			})
		}
		add := func(c n.Channel, address, body string) {
			if address == "" || !pref.Wants(in.Kind, c) {
				return
			}
			deliveries = append(deliveries, n.Delivery{
				ID: p.newID(), SourceID: nt.sourceID, EventName: nt.eventName, Channel: c, RecipientID: u.ID,
				Kind: in.Kind, TaskID: f.Task.ID, Subject: msg.Title, Body: body, Status: n.StatusPending,
				NextAttemptAt: pref.DeliverAt(c, now), CreatedAt: now, UpdatedAt: now,
			})
		}
		if p.channels.email != nil {
			add(n.ChannelEmail, u.Email, msg.Body)
		}
		if p.channels.sms != nil {
			add(n.ChannelSMS, u.Phone, msg.Short)
		}
	}
	if len(inbox) > 0 {
		if err := p.store.AddToInbox(ctx, inbox); err != nil {
			return err
		}
	}
	if len(deliveries) > 0 {
		if err := p.store.AddDeliveries(ctx, deliveries); err != nil {
			return err
		}
	}
	return nil
}

// zoneOf is where a user reads times: their quiet hours' zone, or their
// locale's default.
func zoneOf(p *n.Preferences, locale string) *time.Location {
	name := n.DefaultZone(locale)
	if q := p.QuietHours(); q != nil {
		name = q.Zone()
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

func nonEmpty(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
