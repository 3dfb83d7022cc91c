package notification

import (
	"fmt"
	"time"

	"github.com/taskd/taskd/modules/kernel/errs"
)

// Preferences are one user's choices: which channels for which kinds, and
// optional quiet hours during which e-mail and SMS wait (the inbox does not).
type Preferences struct {
	userID   string
	channels map[Kind]map[Channel]bool
	quiet    *QuietHours
}

// DefaultChannels are what a user gets before choosing: inbox and e-mail
// for every kind, no SMS (it costs money and wakes people up).
func DefaultChannels() map[Channel]bool {
	return map[Channel]bool{ChannelInbox: true, ChannelEmail: true, ChannelSMS: false}
}

// DefaultPreferences are the preferences of a user who chose nothing.
func DefaultPreferences(userID string) *Preferences {
	p := &Preferences{userID: userID, channels: map[Kind]map[Channel]bool{}}
	for _, k := range Kinds {
		p.channels[k] = DefaultChannels()
	}
	return p
}

// NewPreferences validates a user's choices. Kinds missing from channels
// keep their defaults; a kind's missing channels are off.
func NewPreferences(userID string, channels map[Kind]map[Channel]bool, quiet *QuietHours) (*Preferences, error) {
	if userID == "" {
		return nil, errs.Invalid("invalid_user", "user_id", "preferences need a user")
	}
	p := DefaultPreferences(userID)
	for k, chs := range channels {
		if k.IsZero() {
			return nil, ErrInvalidKind
		}
		m := map[Channel]bool{}
		for c, on := range chs {
			if c.IsZero() {
				return nil, ErrInvalidChannel
			}
			m[c] = on
		}
		p.channels[k] = m
	}
	p.quiet = quiet
	return p, nil
}

func (p *Preferences) UserID() string { return p.userID }

// Wants tells whether the user wants kind through c.
func (p *Preferences) Wants(k Kind, c Channel) bool { return p.channels[k][c] }

// Channels returns the user's choice for every kind (a copy).
func (p *Preferences) Channels() map[Kind]map[Channel]bool {
	out := make(map[Kind]map[Channel]bool, len(p.channels))
	for _, k := range Kinds {
		m := map[Channel]bool{}
		for _, c := range Channels {
			m[c] = p.channels[k][c]
		}
		out[k] = m
	}
	return out
}

// QuietHours returns the quiet hours, nil when there are none.
func (p *Preferences) QuietHours() *QuietHours { return p.quiet }

// DeliverAt is when a message through c made at now may go out: at once,
// or at the end of the quiet hours for e-mail and SMS.
func (p *Preferences) DeliverAt(c Channel, now time.Time) time.Time {
	if p.quiet == nil || c == ChannelInbox || !p.quiet.Contains(now) {
		return now
	}
	return p.quiet.End(now)
}

// QuietHours is a daily period, in a time zone, during which only the inbox
// is written. Start after end spans midnight (22:00–07:00).
type QuietHours struct {
	start, end int // minutes after midnight
	zone       string
	loc        *time.Location
}

var ErrInvalidQuietHours = errs.Invalid("invalid_quiet_hours", "quiet_hours",
	"quiet hours need start and end as HH:MM (different) and an IANA time zone such as Asia/Seoul")

// NewQuietHours parses start and end ("22:00") in zone (an IANA name).
func NewQuietHours(start, end, zone string) (*QuietHours, error) {
	s, err1 := parseClock(start)
	e, err2 := parseClock(end)
	if err1 != nil || err2 != nil || s == e {
		return nil, ErrInvalidQuietHours
	}
	if zone == "" {
		return nil, ErrInvalidQuietHours
	}
	loc, err := time.LoadLocation(zone)
	if err != nil || zone == "Local" {
		return nil, ErrInvalidQuietHours.WithMessage("unknown time zone %q: %s", truncate(zone, 60), ErrInvalidQuietHours.Message)
	}
	return &QuietHours{start: s, end: e, zone: zone, loc: loc}, nil
}

func parseClock(s string) (int, error) {
	var h, m int
	if len(s) != 5 || s[2] != ':' {
		return 0, ErrInvalidQuietHours
	}
	if _, err := fmt.Sscanf(s, "%02d:%02d", &h, &m); err != nil || h > 23 || m > 59 || h < 0 || m < 0 {
		return 0, ErrInvalidQuietHours
	}
	return h*60 + m, nil
}

// Clock returns the start and the end as HH:MM.
func (q *QuietHours) Clock() (start, end string) { return clock(q.start), clock(q.end) }

// Zone returns the IANA time zone name.
func (q *QuietHours) Zone() string { return q.zone }

func clock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// Contains tells whether t falls in the quiet hours.
func (q *QuietHours) Contains(t time.Time) bool {
	lt := t.In(q.loc)
	m := lt.Hour()*60 + lt.Minute()
	if q.start < q.end {
		return m >= q.start && m < q.end
	}
	return m >= q.start || m < q.end
}

// End returns the end of the quiet period t is in (t itself when t is not
// in one).
func (q *QuietHours) End(t time.Time) time.Time {
	if !q.Contains(t) {
		return t
	}
	lt := t.In(q.loc)
	end := time.Date(lt.Year(), lt.Month(), lt.Day(), q.end/60, q.end%60, 0, 0, q.loc)
	if !end.After(lt) {
		end = end.AddDate(0, 0, 1)
	}
	return end.UTC()
}
