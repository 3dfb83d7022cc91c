// Package prometheus is taskd's metrics adapter: every metric the binary
// exports on /metrics, built on prometheus/client_golang with a registry of
// its own (never the global one), so tests and several instances in one
// process do not collide.
//
// Label values are bounded by construction: HTTP routes are route templates
// (or a fixed placeholder when no route matched), methods outside the
// standard set become "OTHER", handler names are Go type names, groups,
// queues, channels and projections are fixed sets chosen by the code.
package prometheus

import (
	"database/sql"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// UnmatchedRoute labels requests that matched no route (404s, scanners): the
// raw path must never become a label value.
const UnmatchedRoute = "unmatched"

// Metric names, for code and tests that refer to them.
const (
	HTTPRequestsTotal        = "taskd_http_requests_total"
	HTTPRequestDuration      = "taskd_http_request_duration_seconds"
	HandlerDuration          = "taskd_handler_duration_seconds"
	HandlerErrorsTotal       = "taskd_handler_errors_total"
	OutboxBacklog            = "taskd_outbox_backlog"
	OutboxOldestAge          = "taskd_outbox_oldest_age_seconds"
	EventsRelayedTotal       = "taskd_events_relayed_total"
	EventsConsumedTotal      = "taskd_events_consumed_total"
	EventsRetriesTotal       = "taskd_events_retries_total"
	EventsDeadLetteredTotal  = "taskd_events_dead_lettered_total"
	DLQDepth                 = "taskd_dlq_depth"
	NotificationsSentTotal   = "taskd_notifications_sent_total"
	NotificationsFailedTotal = "taskd_notifications_failed_total"
	ProjectionLag            = "taskd_projection_lag_seconds"
	ReportsServedTotal       = "taskd_reports_served_total"
)

// Metrics holds taskd's collectors and the registry they live in. The zero
// value is not usable; call New.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests        *prometheus.CounterVec
	httpDuration        *prometheus.HistogramVec
	handlerDuration     *prometheus.HistogramVec
	handlerErrors       *prometheus.CounterVec
	outboxBacklog       prometheus.Gauge
	outboxOldestAge     prometheus.Gauge
	eventsRelayed       prometheus.Counter
	eventsConsumed      *prometheus.CounterVec
	eventsRetries       *prometheus.CounterVec
	eventsDeadLettered  *prometheus.CounterVec
	dlqDepth            *prometheus.GaugeVec
	notificationsSent   *prometheus.CounterVec
	notificationsFailed *prometheus.CounterVec
	projectionLag       *prometheus.GaugeVec
	reportsServed       *prometheus.CounterVec

	// samplers create one child of every labelled metric, so that Exported
	// can see every family (a vector without children is not gathered).
	samplers []func()
}

// Buckets of the handler histogram: command and query handlers are mostly
// sub-millisecond to tens of milliseconds.
var handlerBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

// New builds the metrics on a fresh registry, with the Go runtime and process
// collectors registered.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)

	m.httpRequests = m.counterVec(HTTPRequestsTotal,
		"HTTP requests answered, by route template, method and status code.",
		"route", "method", "status")
	m.httpDuration = m.histogramVec(HTTPRequestDuration,
		"Time to answer an HTTP request, by route template and method.",
		prometheus.DefBuckets, "route", "method")
	m.handlerDuration = m.histogramVec(HandlerDuration,
		"Duration of command and query handlers, by kind (command|query) and name.",
		handlerBuckets, "kind", "name")
	m.handlerErrors = m.counterVec(HandlerErrorsTotal,
		"Command and query handlers that returned an error, by kind and name.",
		"kind", "name")
	m.outboxBacklog = m.gauge(OutboxBacklog,
		"Outbox rows not yet relayed to the event transport.")
	m.outboxOldestAge = m.gauge(OutboxOldestAge,
		"Age of the oldest outbox row not yet relayed, in seconds (0 when empty).")
	m.eventsRelayed = m.counter(EventsRelayedTotal,
		"Events relayed from the outbox to the event transport.")
	m.eventsConsumed = m.counterVec(EventsConsumedTotal,
		"Events handled successfully, by consumer group and event name.",
		"group", "event")
	m.eventsRetries = m.counterVec(EventsRetriesTotal,
		"Event deliveries that failed and will be retried, by consumer group.",
		"group")
	m.eventsDeadLettered = m.counterVec(EventsDeadLetteredTotal,
		"Messages found in a dead-letter queue, by queue.",
		"queue")
	m.dlqDepth = m.gaugeVec(DLQDepth,
		"Messages waiting in a dead-letter queue, by queue (cloud: SQS ApproximateNumberOfMessages).",
		"queue")
	m.notificationsSent = m.counterVec(NotificationsSentTotal,
		"Notifications delivered, by channel (inbox|email|sms|webhook).",
		"channel")
	m.notificationsFailed = m.counterVec(NotificationsFailedTotal,
		"Notification deliveries that failed, by channel.",
		"channel")
	m.projectionLag = m.gaugeVec(ProjectionLag,
		"Time between an event's occurrence and its projection into a read model, in seconds.",
		"projection")
	m.reportsServed = m.counterVec(ReportsServedTotal,
		"Reports served, by kind (weekly|monthly|team|history).",
		"kind")
	return m
}

// Registry is the registry behind Handler, for registering further
// collectors and for tests.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text (or OpenMetrics) format:
// mount it on /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		Registry:          m.reg, // promhttp_metric_handler_errors_total
		EnableOpenMetrics: true,
	})
}

// RegisterDB exports the pool statistics of db as go_sql_* with the label
// db_name=name.
func (m *Metrics) RegisterDB(db *sql.DB, name string) error {
	return m.reg.Register(collectors.NewDBStatsCollector(db, name))
}

// ObserveHandler records one command or query handler call; it satisfies
// modules/kernel/decorator.Metrics.
func (m *Metrics) ObserveHandler(kind, name string, d time.Duration, err error) {
	m.handlerDuration.WithLabelValues(kind, name).Observe(d.Seconds())
	if err != nil {
		m.handlerErrors.WithLabelValues(kind, name).Inc()
	}
}

// SetOutbox records the outbox backlog and the age of its oldest row.
func (m *Metrics) SetOutbox(backlog int, oldestAge time.Duration) {
	m.outboxBacklog.Set(float64(backlog))
	m.outboxOldestAge.Set(max(oldestAge, 0).Seconds())
}

// EventsRelayed counts n events relayed from the outbox.
func (m *Metrics) EventsRelayed(n int) {
	if n > 0 {
		m.eventsRelayed.Add(float64(n))
	}
}

// EventConsumed counts one event handled successfully by a consumer group.
func (m *Metrics) EventConsumed(group, event string) {
	m.eventsConsumed.WithLabelValues(group, event).Inc()
}

// EventRetried counts one failed delivery that will be retried.
func (m *Metrics) EventRetried(group string) { m.eventsRetries.WithLabelValues(group).Inc() }

// EventDeadLettered counts one message found in a dead-letter queue.
func (m *Metrics) EventDeadLettered(queue string) {
	m.eventsDeadLettered.WithLabelValues(queue).Inc()
}

// SetDLQDepth records how many messages wait in a dead-letter queue.
func (m *Metrics) SetDLQDepth(queue string, n int) {
	m.dlqDepth.WithLabelValues(queue).Set(float64(n))
}

// NotificationSent counts one delivered notification.
func (m *Metrics) NotificationSent(channel string) {
	m.notificationsSent.WithLabelValues(channel).Inc()
}

// NotificationFailed counts one failed notification delivery.
func (m *Metrics) NotificationFailed(channel string) {
	m.notificationsFailed.WithLabelValues(channel).Inc()
}

// SetProjectionLag records how far a read model is behind the events.
func (m *Metrics) SetProjectionLag(projection string, lag time.Duration) {
	m.projectionLag.WithLabelValues(projection).Set(max(lag, 0).Seconds())
}

// ReportServed counts one report served.
func (m *Metrics) ReportServed(kind string) { m.reportsServed.WithLabelValues(kind).Inc() }

// HTTPMiddleware counts and times every request. routeName returns the
// matched route's template (for gorilla/mux: mux.CurrentRoute(r) and its
// GetPathTemplate), or "" when no route matched, which is labelled
// UnmatchedRoute. Mount it where the route is known (mux's Router.Use).
func (m *Metrics) HTTPMiddleware(routeName func(*http.Request) string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := &statusRecorder{ResponseWriter: w}
			defer func() {
				status := rec.status
				p := recover()
				if p != nil || status == 0 {
					// A panicking handler answers 500 (a recoverer outside
					// writes it); a handler that wrote nothing answers 200.
					status = http.StatusOK
					if p != nil {
						status = http.StatusInternalServerError
					}
				}
				route := UnmatchedRoute
				if routeName != nil {
					if name := routeName(r); name != "" {
						route = name
					}
				}
				method := normalizeMethod(r.Method)
				m.httpRequests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
				m.httpDuration.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
				if p != nil {
					panic(p)
				}
			}()
			next.ServeHTTP(rec, r)
		})
	}
}

func normalizeMethod(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return method
	}
	return "OTHER"
}

// statusRecorder remembers the status code; Unwrap lets
// http.ResponseController reach the underlying writer (Flush, deadlines).
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Flush() {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (m *Metrics) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	m.reg.MustRegister(c)
	return c
}

func (m *Metrics) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	m.reg.MustRegister(g)
	return g
}

func (m *Metrics) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	m.reg.MustRegister(v)
	m.samplers = append(m.samplers, func() { v.WithLabelValues(labels...) })
	return v
}

func (m *Metrics) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	m.reg.MustRegister(v)
	m.samplers = append(m.samplers, func() { v.WithLabelValues(labels...) })
	return v
}

func (m *Metrics) histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	m.reg.MustRegister(v)
	m.samplers = append(m.samplers, func() { v.WithLabelValues(labels...) })
	return v
}
