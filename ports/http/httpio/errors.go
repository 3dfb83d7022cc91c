// Package httpio is the HTTP port's input and output: the one JSON error
// shape, the one error mapper, strict request decoding and JSON rendering.
package httpio

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/taskd/taskd/modules/kernel/errs"
)

// ErrorBody is the one error shape of the API:
//
//	{"error": {"code": "task_not_found", "message": "…", "field": "…"}}
//
// field is left out when no single input field is at fault.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of ErrorBody.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// StatusError is an *errs.Error answered with a status errs.Kind has no
// class for (413, 415, 405); the port makes these, never the modules.
type StatusError struct {
	Status int
	Err    *errs.Error
}

func (e *StatusError) Error() string { return e.Err.Error() }
func (e *StatusError) Unwrap() error { return e.Err }

// WithStatus wraps e so that it is answered with status.
func WithStatus(status int, e *errs.Error) *StatusError {
	return &StatusError{Status: status, Err: e}
}

// Internal is the answer to every error that is not an *errs.Error: the
// real error is logged, never sent.
var Internal = errs.New(errs.KindUnknown, "internal", "internal server error")

// StatusOf maps an error to the status and the error to send. It looks
// through any wrapping with errors.As, so a wrapped domain error keeps its
// status; anything it does not know is a 500 with the code "internal".
func StatusOf(err error) (int, *errs.Error) {
	var se *StatusError
	if errors.As(err, &se) && se.Err != nil && se.Status >= 400 && se.Status < 500 {
		return se.Status, se.Err
	}
	if e, ok := errs.As(err); ok && e != nil {
		if status := statusOfKind(e.Kind); status != 0 {
			return status, e
		}
	}
	return http.StatusInternalServerError, Internal
}

func statusOfKind(k errs.Kind) int {
	switch k {
	case errs.KindInvalid:
		return http.StatusUnprocessableEntity
	case errs.KindBadRequest:
		return http.StatusBadRequest
	case errs.KindNotFound:
		return http.StatusNotFound
	case errs.KindConflict:
		return http.StatusConflict
	case errs.KindPreconditionFailed:
		return http.StatusPreconditionFailed
	case errs.KindForbidden:
		return http.StatusForbidden
	case errs.KindUnauthorized:
		return http.StatusUnauthorized
	case errs.KindTooManyRequests:
		return http.StatusTooManyRequests
	}
	return 0
}

// Error answers err in the API's error shape. It is the one error mapper of
// the HTTP port. Server errors are logged with the real error; client errors
// at debug level.
func Error(w http.ResponseWriter, r *http.Request, err error) {
	status, e := StatusOf(err)
	logger := Logger(r.Context())
	if status >= 500 {
		logger.LogAttrs(r.Context(), slog.LevelError, "request failed", slog.String("error", err.Error()))
	} else {
		logger.LogAttrs(r.Context(), slog.LevelDebug, "request rejected",
			slog.Int("status", status), slog.String("code", e.Code), slog.String("field", e.Field))
	}
	JSON(w, r, status, ErrorBody{Error: ErrorDetail{Code: e.Code, Message: e.Message, Field: e.Field}})
}

// Errors of the HTTP layer itself.
var (
	ErrNotFound         = errs.NotFound("not_found", "no such route")
	ErrMethodNotAllowed = WithStatus(http.StatusMethodNotAllowed, errs.New(errs.KindBadRequest, "method_not_allowed", "this method is not allowed on this route"))
	ErrTooManyRequests  = errs.New(errs.KindTooManyRequests, "too_many_requests", "too many attempts; try again later")
)
