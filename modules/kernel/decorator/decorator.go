// Package decorator wraps command and query handlers with logging and
// metrics in one place, so use cases stay free of cross-cutting code.
package decorator

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// CommandHandler handles one command; commands return only an error.
type CommandHandler[C any] interface {
	Handle(ctx context.Context, cmd C) error
}

// QueryHandler answers one query.
type QueryHandler[Q any, R any] interface {
	Handle(ctx context.Context, q Q) (R, error)
}

// Loggable is implemented by commands and queries that choose which of their
// fields may be logged. Nothing else of a command is ever logged: a sign-up
// command holds a password.
type Loggable interface {
	LogAttrs() []slog.Attr
}

// Metrics records handler outcomes; the port behind it is Prometheus.
type Metrics interface {
	ObserveHandler(kind, name string, d time.Duration, err error)
}

// NopMetrics discards everything.
type NopMetrics struct{}

func (NopMetrics) ObserveHandler(string, string, time.Duration, error) {}

// ApplyCommandDecorators wraps h with logging and metrics.
func ApplyCommandDecorators[C any](h CommandHandler[C], logger *slog.Logger, m Metrics) CommandHandler[C] {
	return commandDecorator[C]{base: h, logger: logger, metrics: m}
}

// ApplyQueryDecorators wraps h with logging and metrics.
func ApplyQueryDecorators[Q any, R any](h QueryHandler[Q, R], logger *slog.Logger, m Metrics) QueryHandler[Q, R] {
	return queryDecorator[Q, R]{base: h, logger: logger, metrics: m}
}

type commandDecorator[C any] struct {
	base    CommandHandler[C]
	logger  *slog.Logger
	metrics Metrics
}

func (d commandDecorator[C]) Handle(ctx context.Context, cmd C) (err error) {
	name := ActionName(cmd)
	start := time.Now()
	defer func() {
		p := recover()
		if p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
		d.metrics.ObserveHandler("command", name, time.Since(start), err)
		logResult(ctx, d.logger, "command", name, cmd, start, err)
		if p != nil {
			panic(p)
		}
	}()
	return d.base.Handle(ctx, cmd)
}

type queryDecorator[Q any, R any] struct {
	base    QueryHandler[Q, R]
	logger  *slog.Logger
	metrics Metrics
}

func (d queryDecorator[Q, R]) Handle(ctx context.Context, q Q) (r R, err error) {
	name := ActionName(q)
	start := time.Now()
	defer func() {
		p := recover()
		if p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
		d.metrics.ObserveHandler("query", name, time.Since(start), err)
		logResult(ctx, d.logger, "query", name, q, start, err)
		if p != nil {
			panic(p)
		}
	}()
	return d.base.Handle(ctx, q)
}

func logResult(ctx context.Context, logger *slog.Logger, kind, name string, v any, start time.Time, err error) {
	attrs := []slog.Attr{
		slog.String(kind, name),
		slog.Duration("duration", time.Since(start)),
	}
	if l, ok := v.(Loggable); ok {
		attrs = append(attrs, l.LogAttrs()...)
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
		logger.LogAttrs(ctx, slog.LevelInfo, kind+" failed", attrs...)
		return
	}
	logger.LogAttrs(ctx, slog.LevelDebug, kind+" handled", attrs...)
}

// ActionName is the type name of a command or query: "command.CreateTask" → "CreateTask".
func ActionName(v any) string {
	s := fmt.Sprintf("%T", v)
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		return s[i+1:]
	}
	return s
}
