package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
)

// Metadata keys of event messages besides those the outbox sets.
const (
	// MetaCorrelationID is watermill's correlation id key; when a message
	// has none, its event id is used.
	MetaCorrelationID = middleware.CorrelationIDMetadataKey
	// MetaName is the stable event name (cqrs routes by it).
	MetaName = "name"
)

type correlationKey struct{}

// CorrelationIDFromContext returns the correlation id of the message being
// handled, for logs and for anything the handler sends on.
func CorrelationIDFromContext(ctx context.Context) string {
	s, _ := ctx.Value(correlationKey{}).(string)
	return s
}

// GroupFromContext returns the name of the handler group handling the
// message (the key of its processed-event records).
func GroupFromContext(ctx context.Context) string {
	return message.HandlerNameFromCtx(ctx)
}

// CorrelationID gives every message a correlation id (its own, or its event
// id) in its metadata and in its context.
func CorrelationID(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		cid := msg.Metadata.Get(MetaCorrelationID)
		if cid == "" {
			cid = msg.UUID
			msg.Metadata.Set(MetaCorrelationID, cid)
		}
		msg.SetContext(context.WithValue(msg.Context(), correlationKey{}, cid))
		return h(msg)
	}
}

// observe counts the events handled successfully (after the retries).
func observe(m ConsumerMetrics) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			group := GroupFromContext(msg.Context())
			out, err := h(msg)
			if err == nil {
				m.EventConsumed(group, msg.Metadata.Get(MetaName))
			}
			return out, err
		}
	}
}

// settle logs each failed delivery once (after the retries) and hands the
// outcome to the transport, when it settles deliveries itself.
func settle(t Transport, logger *slog.Logger) message.HandlerMiddleware {
	s, _ := t.(Settler)
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			out, err := h(msg)
			if err != nil && !errors.Is(err, context.Canceled) {
				level := slog.LevelWarn
				if IsPermanent(err) {
					level = slog.LevelError
				}
				logger.Log(msg.Context(), level, "event delivery failed",
					slog.String("group", GroupFromContext(msg.Context())),
					slog.String("event", msg.Metadata.Get(MetaName)),
					slog.String("event_id", msg.UUID),
					slog.String("correlation_id", CorrelationIDFromContext(msg.Context())),
					slog.Bool("permanent", IsPermanent(err)),
					slog.String("error", err.Error()))
			}
			if s == nil {
				return out, err
			}
			if serr := s.Settle(GroupFromContext(msg.Context()), msg, err); serr != nil {
				return out, serr
			}
			// Settled: the transport took charge of the failure.
			return out, nil
		}
	}
}

// retry retries transient failures in-process with exponential backoff.
// Permanent errors are not retried.
func retry(cfg Config) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			group := GroupFromContext(msg.Context())
			r := middleware.Retry{
				MaxRetries:      cfg.MaxRetries,
				InitialInterval: cfg.InitialInterval,
				MaxInterval:     cfg.MaxInterval,
				Multiplier:      2,
				ShouldRetry: func(p middleware.RetryParams) bool {
					if IsPermanent(p.Err) || errors.Is(p.Err, context.Canceled) {
						return false
					}
					if p.RetryNum < cfg.MaxRetries {
						cfg.Metrics.EventRetried(group)
					}
					return true
				},
			}
			return r.Middleware(h)(msg)
		}
	}
}

// Recoverer turns a panicking handler into a Permanent error: a bug does
// not heal with retries; the message goes to the dead letters (alert, fix,
// replay) instead of crashing the process.
func Recoverer(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) (out []*message.Message, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = Permanent(fmt.Errorf("panic in event handler: %v\n%s", r, debug.Stack()))
			}
		}()
		return h(msg)
	}
}
