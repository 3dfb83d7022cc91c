package command

import (
	"log/slog"
	"time"
)

// Deps are what the commands share.
type Deps struct {
	Store     Store
	Directory Directory
	// Email and SMS are nil when not configured: no delivery is recorded
	// for a channel that is off. TeamChat nil: alerts are only logged.
	Email    EmailSender
	SMS      SMSSender
	TeamChat TeamChat
	Config   Config
	Clock    func() time.Time
	NewID    func() string
	Logger   *slog.Logger
}

func (d Deps) planner() planner {
	return planner{store: d.Store, directory: d.Directory, channels: channels{email: d.Email, sms: d.SMS},
		cfg: d.Config.WithDefaults(), newID: d.NewID}
}
