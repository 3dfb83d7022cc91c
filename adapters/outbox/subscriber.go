package outbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
)

// SubscriberConfig configures a reader of the outbox.
type SubscriberConfig struct {
	Dialect Dialect
	// ConsumerGroup keeps this reader's offset; the handler group's name.
	ConsumerGroup string
	// PollInterval is how long an idle reader waits before looking again.
	PollInterval time.Duration
	// AckDeadline bounds how long one message may be handled before it is
	// redelivered.
	AckDeadline time.Duration
	Logger      watermill.LoggerAdapter
}

// NewSubscriber returns a watermill-sql subscriber on the outbox table
// (consumer group = cfg.ConsumerGroup) with the forwarder envelope already
// taken off, so it yields the domain event messages themselves. Subscribe to
// Topic. Each message's context carries the transaction that will record its
// acknowledgement (wsql.TxFromContext): a handler that writes in that
// transaction has its effect committed exactly once with the offset.
//
// Embedded mode reads the outbox this way, so nothing is lost on a crash:
// an event not yet handled is simply read again.
func NewSubscriber(db *sql.DB, cfg SubscriberConfig) (message.Subscriber, error) {
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 200 * time.Millisecond
	}
	if cfg.AckDeadline == 0 {
		cfg.AckDeadline = 30 * time.Second
	}
	deadline := cfg.AckDeadline
	sub, err := wsql.NewSubscriber(wsql.BeginnerFromStdSQL(db), wsql.SubscriberConfig{
		ConsumerGroup:  cfg.ConsumerGroup,
		PollInterval:   cfg.PollInterval,
		ResendInterval: cfg.PollInterval,
		RetryInterval:  time.Second,
		AckDeadline:    &deadline,
		SchemaAdapter:  SchemaAdapter(cfg.Dialect),
		OffsetsAdapter: OffsetsAdapter(cfg.Dialect),
	}, cfg.Logger)
	if err != nil {
		return nil, fmt.Errorf("outbox subscriber %s: %w", cfg.ConsumerGroup, err)
	}
	return &unwrappingSubscriber{sub: sub}, nil
}

// unwrappingSubscriber takes watermill's forwarder envelope off each message
// and passes acks and nacks back to the stored row.
type unwrappingSubscriber struct {
	sub message.Subscriber
}

func (s *unwrappingSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	in, err := s.sub.Subscribe(ctx, topic)
	if err != nil {
		return nil, err
	}
	out := make(chan *message.Message)
	go func() {
		defer close(out)
		for wrapped := range in {
			dest, msg, err := Unwrap(wrapped)
			if err != nil || dest != EventsTopic {
				// Not ours or unreadable: nothing can ever handle it; skip it
				// rather than block every event behind it.
				wrapped.Ack()
				continue
			}
			select {
			case out <- msg:
			case <-ctx.Done():
				wrapped.Nack()
				return
			}
			select {
			case <-msg.Acked():
				wrapped.Ack()
			case <-msg.Nacked():
				wrapped.Nack()
			case <-ctx.Done():
				wrapped.Nack()
				return
			}
		}
	}()
	return out, nil
}

func (s *unwrappingSubscriber) Close() error { return s.sub.Close() }

// envelope mirrors watermill's forwarder envelope (components/forwarder).
type envelope struct {
	DestinationTopic string            `json:"destination_topic"`
	UUID             string            `json:"uuid"`
	Payload          []byte            `json:"payload"`
	Metadata         map[string]string `json:"metadata"`
}

// Unwrap returns the destination topic and the message inside a forwarder
// envelope; the message keeps the envelope's context.
func Unwrap(m *message.Message) (string, *message.Message, error) {
	var e envelope
	if err := json.Unmarshal(m.Payload, &e); err != nil {
		return "", nil, fmt.Errorf("outbox row %s is not a forwarder envelope: %w", m.UUID, err)
	}
	msg := message.NewMessage(e.UUID, e.Payload)
	msg.Metadata = e.Metadata
	if msg.Metadata == nil {
		msg.Metadata = message.Metadata{}
	}
	msg.SetContext(m.Context())
	return e.DestinationTopic, msg, nil
}

// TxFromMessage returns the *sql.Tx that will acknowledge m, when m came
// from an outbox subscriber or from the embedded redelivery.
func TxFromMessage(m *message.Message) (*sql.Tx, bool) {
	if tx, ok := m.Context().Value(redeliveryTxKey{}).(*sql.Tx); ok {
		return tx, true
	}
	tx, ok := wsql.TxFromContext(m.Context())
	if !ok {
		return nil, false
	}
	std, ok := tx.(*wsql.StdSQLTx)
	if !ok {
		return nil, false
	}
	return std.Tx, true
}
