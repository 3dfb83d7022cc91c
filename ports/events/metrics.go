package events

import "time"

// The metrics hooks of the event backbone. Small interfaces, so that the
// metrics adapter (adapters/prometheus.Metrics satisfies all of them) is
// wired in cmd/taskd and nothing here imports it.

// RelayMetrics counts events relayed from the outbox to the transport.
type RelayMetrics interface {
	EventsRelayed(n int)
}

// ConsumerMetrics counts what handler groups do.
type ConsumerMetrics interface {
	// EventConsumed counts one event handled successfully by group.
	EventConsumed(group, event string)
	// EventRetried counts one failed attempt that will be retried.
	EventRetried(group string)
}

// DeadLetterMetrics counts dead letters; queue is the handler group's name
// (the same label in both modes).
type DeadLetterMetrics interface {
	// EventDeadLettered counts one message newly found dead.
	EventDeadLettered(queue string)
	// SetDLQDepth records how many dead letters wait for queue.
	SetDLQDepth(queue string, n int)
}

// OutboxMetrics reports the events not yet relayed (cloud) or not yet
// consumed by the slowest group (embedded), and the age of the oldest.
type OutboxMetrics interface {
	SetOutbox(backlog int, oldestAge time.Duration)
}

// Metrics is every hook at once.
type Metrics interface {
	RelayMetrics
	ConsumerMetrics
	DeadLetterMetrics
}

// NopMetrics counts nothing.
type NopMetrics struct{}

func (NopMetrics) EventsRelayed(int)            {}
func (NopMetrics) EventConsumed(string, string) {}
func (NopMetrics) EventRetried(string)          {}
func (NopMetrics) EventDeadLettered(string)     {}
func (NopMetrics) SetDLQDepth(string, int)      {}
