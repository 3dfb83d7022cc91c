package command

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/taskd/taskd/modules/kernel/decorator"
	n "github.com/taskd/taskd/modules/notifications/domain/notification"
)

// RaiseAlert tells the team: it logs the alert at error level and posts it
// to the team chat when one is configured. An error means the post failed
// (the caller keeps the alert to raise it again).
type RaiseAlert struct {
	Alert n.Alert
}

func (c RaiseAlert) LogAttrs() []slog.Attr {
	return []slog.Attr{slog.String("alert", string(c.Alert.Kind))}
}

type RaiseAlertHandler decorator.CommandHandler[RaiseAlert]

type raiseAlertHandler struct {
	chat   TeamChat
	logger *slog.Logger
}

func NewRaiseAlertHandler(d Deps, logger *slog.Logger, m decorator.Metrics) RaiseAlertHandler {
	return decorator.ApplyCommandDecorators[RaiseAlert](raiseAlertHandler{chat: d.TeamChat, logger: logger}, logger, m)
}

func (h raiseAlertHandler) Handle(ctx context.Context, c RaiseAlert) error {
	a := c.Alert
	h.logger.LogAttrs(ctx, slog.LevelError, "alert: "+string(a.Kind),
		slog.String("queue", a.Queue), slog.String("event", a.EventName), slog.String("event_id", a.EventID),
		slog.String("delivery_id", a.DeliveryID), slog.String("channel", a.Channel), slog.String("recipient_id", a.RecipientID),
		slog.Int("attempts", a.Attempts), slog.String("error", a.Error), slog.Bool("team_chat", h.chat != nil))
	if h.chat == nil {
		return nil
	}
	if err := h.chat.PostAlert(ctx, a); err != nil {
		return fmt.Errorf("posting the alert to the team chat: %w", err)
	}
	return nil
}

// AlertFailedDeliveries raises one alert per delivery that failed for good
// or whose outcome is unknown, once each (an alert that cannot be posted
// is raised again on the next run).
type AlertFailedDeliveries struct{}

func (AlertFailedDeliveries) LogAttrs() []slog.Attr { return nil }

type AlertFailedDeliveriesHandler decorator.CommandHandler[AlertFailedDeliveries]

type alertFailedHandler struct {
	store Store
	raise RaiseAlertHandler
	clock func() time.Time
}

func NewAlertFailedDeliveriesHandler(d Deps, raise RaiseAlertHandler, logger *slog.Logger, m decorator.Metrics) AlertFailedDeliveriesHandler {
	return decorator.ApplyCommandDecorators[AlertFailedDeliveries](alertFailedHandler{store: d.Store, raise: raise, clock: d.Clock}, logger, m)
}

func (h alertFailedHandler) Handle(ctx context.Context, _ AlertFailedDeliveries) error {
	const batchSize = 50
	for {
		batch, err := h.store.ClaimUnalerted(ctx, h.clock(), batchSize)
		if err != nil {
			return err
		}
		var errs []error
		for _, d := range batch {
			a := n.Alert{Kind: n.AlertDeliveryFailed, DeliveryID: d.ID, Channel: d.Channel.String(), RecipientID: d.RecipientID,
				Status: d.Status.String(), EventName: d.EventName, EventID: d.SourceID, Attempts: d.Attempts, Error: d.LastError, At: d.UpdatedAt}
			if err := h.raise.Handle(ctx, RaiseAlert{Alert: a}); err != nil {
				errs = append(errs, err)
				if rerr := h.store.ReleaseAlert(context.WithoutCancel(ctx), d.ID); rerr != nil {
					errs = append(errs, rerr)
				}
			}
		}
		if len(errs) > 0 || len(batch) < batchSize {
			return errors.Join(errs...)
		}
	}
}
