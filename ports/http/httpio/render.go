package httpio

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync/atomic"
)

// JSON writes v as the JSON answer with status.
func JSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		Logger(r.Context()).LogAttrs(r.Context(), slog.LevelError, "encoding answer", slog.String("error", err.Error()))
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"internal server error"}}`)
	}
	RawJSON(w, status, b)
}

// RawJSON writes b, already JSON, with status.
func RawJSON(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Del("Content-Length")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// RequestInfo is what the access log learns while a request is served: the
// route pattern (set by the router) and the user (set by the auth middleware).
type RequestInfo struct {
	route  atomic.Pointer[string]
	userID atomic.Pointer[string]
}

func (i *RequestInfo) SetRoute(pattern string) { i.route.Store(&pattern) }
func (i *RequestInfo) SetUserID(id string)     { i.userID.Store(&id) }

func (i *RequestInfo) Route() string  { return load(&i.route) }
func (i *RequestInfo) UserID() string { return load(&i.userID) }

func load(p *atomic.Pointer[string]) string {
	if s := p.Load(); s != nil {
		return *s
	}
	return ""
}

type (
	infoKey   struct{}
	loggerKey struct{}
)

// WithInfo returns ctx carrying info.
func WithInfo(ctx context.Context, info *RequestInfo) context.Context {
	return context.WithValue(ctx, infoKey{}, info)
}

// Info returns the request's info; a throw-away one when there is none.
func Info(ctx context.Context) *RequestInfo {
	if i, ok := ctx.Value(infoKey{}).(*RequestInfo); ok {
		return i
	}
	return &RequestInfo{}
}

// WithLogger returns ctx carrying the request's logger.
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

// Logger returns the request's logger (with its request id), or slog.Default.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}
