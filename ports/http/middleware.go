package httpport

import (
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"time"

	"github.com/gorilla/mux"

	"github.com/taskd/taskd/ports/http/httpio"
)

// chain wraps h, outermost first: request id and request logger, access
// log, security headers, panic recovery.
func chain(h http.Handler, logger *slog.Logger, newID func() string, instrument func(http.Handler) http.Handler) http.Handler {
	h = recoverer(h)
	h = securityHeaders(h)
	h = accessLog(h)
	if instrument != nil {
		h = instrument(h)
	}
	return requestContext(h, logger, newID)
}

// RequestIDHeader carries the request id in and out.
const RequestIDHeader = "X-Request-ID"

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// requestContext gives each request an id (the client's X-Request-ID when it
// is sane, else a new one), echoes it, and puts a logger carrying it and the
// access log's RequestInfo in the context.
func requestContext(next http.Handler, logger *slog.Logger, newID func() string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !validRequestID.MatchString(id) {
			id = newID()
		}
		w.Header().Set(RequestIDHeader, id)
		ctx := httpio.WithLogger(r.Context(), logger.With(slog.String("request_id", id)))
		ctx = httpio.WithInfo(ctx, &httpio.RequestInfo{})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// recordRoute (router middleware, so it runs once a route matched) tells the
// access log the route's pattern.
func recordRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if route := mux.CurrentRoute(r); route != nil {
			if tpl, err := route.GetPathTemplate(); err == nil {
				httpio.Info(r.Context()).SetRoute(tpl)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// accessLog logs one line per request: method, route pattern (never the
// raw URL, never bodies or headers), status, duration, request id, user id.
func accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		info := httpio.Info(r.Context())
		route := info.Route()
		if route == "" {
			route = "unmatched"
		}
		level := slog.LevelInfo
		if route == "/healthz" {
			level = slog.LevelDebug
		}
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.Int("status", rec.Status()),
			slog.Duration("duration", time.Since(start)),
			slog.Int64("bytes", rec.bytes),
		}
		if uid := info.UserID(); uid != "" {
			attrs = append(attrs, slog.String("user_id", uid))
		}
		httpio.Logger(r.Context()).LogAttrs(r.Context(), level, "http request", attrs...)
	})
}

// securityHeaders sets the headers every answer carries; API answers also
// forbid caching and any active content.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		if isAPIPath(r.URL.Path) || r.URL.Path == "/healthz" {
			h.Set("Cache-Control", "no-store")
			h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		}
		next.ServeHTTP(w, r)
	})
}

// recoverer turns a panic into a logged 500 in the API's error shape.
func recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			httpio.Logger(r.Context()).LogAttrs(r.Context(), slog.LevelError, "panic serving request",
				slog.String("panic", fmt.Sprint(v)), slog.String("stack", string(debug.Stack())))
			if !rec.wroteHeader {
				httpio.RawJSON(rec, http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"internal server error"}}`))
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// statusRecorder remembers the status and size of an answer.
type statusRecorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	bytes       int64
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wroteHeader {
		s.status = code
		s.wroteHeader = true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if !s.wroteHeader {
		s.WriteHeader(http.StatusOK)
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

func (s *statusRecorder) Status() int {
	if !s.wroteHeader {
		return http.StatusOK
	}
	return s.status
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
