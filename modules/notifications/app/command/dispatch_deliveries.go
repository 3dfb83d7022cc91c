package command

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/taskd/taskd/modules/kernel/decorator"
	n "github.com/taskd/taskd/modules/notifications/domain/notification"
)

// DispatchDeliveries sends every delivery that is due: it first settles
// sends a crash interrupted (per channel guarantee), then claims due
// deliveries in batches, sends them a few at a time and records each
// outcome: sent, pending again after a backoff (transient failure), failed
// (permanent failure or retries exhausted) or skipped (the recipient was
// deleted, or lost the address). A worker runs it periodically; several
// workers may run it at once (each delivery is claimed by one).
type DispatchDeliveries struct{}

func (DispatchDeliveries) LogAttrs() []slog.Attr { return nil }

type DispatchDeliveriesHandler decorator.CommandHandler[DispatchDeliveries]

type dispatchHandler struct {
	store     Store
	directory Directory
	email     EmailSender
	sms       SMSSender
	cfg       Config
	clock     func() time.Time
	logger    *slog.Logger
}

func NewDispatchDeliveriesHandler(d Deps, logger *slog.Logger, m decorator.Metrics) DispatchDeliveriesHandler {
	return decorator.ApplyCommandDecorators[DispatchDeliveries](dispatchHandler{
		store: d.Store, directory: d.Directory, email: d.Email, sms: d.SMS, cfg: d.Config.WithDefaults(),
		clock: d.Clock, logger: logger,
	}, logger, m)
}

// resend lists the channels whose interrupted sends are sent again.
func (h dispatchHandler) resend() []n.Channel {
	var out []n.Channel
	if h.email != nil && h.email.Guarantee() == n.AtLeastOnce {
		out = append(out, n.ChannelEmail)
	}
	if h.sms != nil && h.sms.Guarantee() == n.AtLeastOnce {
		out = append(out, n.ChannelSMS)
	}
	return out
}

func (h dispatchHandler) Handle(ctx context.Context, _ DispatchDeliveries) error {
	resent, unknown, err := h.store.RecoverInterrupted(ctx, h.clock(), h.resend())
	if err != nil {
		return err
	}
	if resent+unknown > 0 {
		h.logger.WarnContext(ctx, "deliveries interrupted mid-send by a stop",
			slog.Int("sent_again", resent), slog.Int("not_sent_again", unknown))
	}
	for {
		batch, err := h.store.ClaimDue(ctx, h.clock(), h.cfg.BatchSize, h.cfg.ClaimTimeout)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		if err := h.sendBatch(ctx, batch); err != nil {
			return err
		}
		if len(batch) < h.cfg.BatchSize || ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

func (h dispatchHandler) sendBatch(ctx context.Context, batch []n.Delivery) error {
	ids := make([]string, 0, len(batch))
	for _, d := range batch {
		ids = append(ids, d.RecipientID)
	}
	// Addresses as they are now: the user may have changed them, or left.
	users, err := h.directory.Users(ctx, nonEmpty(ids))
	if err != nil {
		// Nothing was sent: every claim goes back, as after a transient failure.
		err = fmt.Errorf("looking up recipients: %w", err)
		errs := []error{err}
		for _, d := range batch {
			o := h.cfg.Retry.After(d.Attempts, err, h.clock())
			errs = append(errs, h.record(ctx, d, Finish{Status: o.Status, NextAttempt: o.NextAttempt, Error: o.Error}))
		}
		return errors.Join(errs...)
	}
	var (
		wg   sync.WaitGroup
		sem  = make(chan struct{}, h.cfg.Parallel)
		mu   sync.Mutex
		errs []error
	)
	for _, d := range batch {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := h.send(ctx, d, users); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// record stores the outcome of d's attempt, even when ctx has ended.
func (h dispatchHandler) record(ctx context.Context, d n.Delivery, f Finish) error {
	f.At = h.clock()
	if err := h.store.Finish(context.WithoutCancel(ctx), d.ID, f); err != nil {
		return fmt.Errorf("recording delivery %s: %w", d.ID, err)
	}
	return nil
}

// send attempts d once and records the outcome.
func (h dispatchHandler) send(ctx context.Context, d n.Delivery, users map[string]User) error {
	u, ok := users[d.RecipientID]
	if !ok {
		return h.record(ctx, d, Finish{Status: n.StatusSkipped, Error: "the recipient was deleted"})
	}
	var (
		address   string
		guarantee n.Guarantee
		deliver   func(context.Context) (string, error)
	)
	switch {
	case d.Channel == n.ChannelEmail && h.email != nil && u.Email != "":
		address, guarantee = u.Email, h.email.Guarantee()
		deliver = func(ctx context.Context) (string, error) {
			return h.email.SendEmail(ctx, n.Email{ID: d.ID, To: address, Subject: d.Subject, Text: d.Body})
		}
	case d.Channel == n.ChannelSMS && h.sms != nil && u.Phone != "":
		address, guarantee = u.Phone, h.sms.Guarantee()
		deliver = func(ctx context.Context) (string, error) {
			return h.sms.SendSMS(ctx, n.SMS{ID: d.ID, Phone: address, Text: d.Body})
		}
	default:
		return h.record(ctx, d, Finish{Status: n.StatusSkipped, Error: "the " + d.Channel.String() + " channel is off, or the recipient has no address for it"})
	}
	if ctx.Err() != nil {
		// Stopping before this send began: the claim goes back.
		return h.record(ctx, d, Finish{Status: n.StatusPending, NextAttempt: h.clock(), Error: "not sent: the dispatcher stopped"})
	}
	sendCtx, cancel := context.WithTimeout(ctx, h.cfg.SendTimeout)
	providerID, err := deliver(sendCtx)
	cancel()
	if err != nil && ctx.Err() != nil {
		// Stopped mid-send: the provider may have the message. The claim
		// expires and RecoverInterrupted applies the channel's guarantee,
		// exactly as after a crash.
		return nil
	}
	o := h.cfg.Retry.AfterSend(guarantee, d.Attempts, err, h.clock())
	if err != nil {
		h.logger.LogAttrs(ctx, levelOf(o.Status), "delivery attempt failed",
			slog.String("delivery_id", d.ID), slog.String("channel", d.Channel.String()),
			slog.Int("attempt", d.Attempts), slog.String("outcome", o.Status.String()), slog.String("error", o.Error))
	}
	return h.record(ctx, d, Finish{Status: o.Status, NextAttempt: o.NextAttempt, Error: o.Error, Address: address, ProviderID: providerID})
}

func levelOf(s n.Status) slog.Level {
	if s == n.StatusFailed || s == n.StatusUnknown {
		return slog.LevelError
	}
	return slog.LevelWarn
}
