// Package errs defines the typed errors every module returns. Ports map them
// to transport answers once, with errors.As, so a wrapped domain error never
// turns into a 500.
package errs

import (
	"errors"
	"fmt"
)

// Kind is the class of an error; it decides the HTTP status.
type Kind int

const (
	KindUnknown            Kind = iota
	KindInvalid                 // 422: well-formed input that breaks a rule
	KindBadRequest              // 400: malformed input
	KindNotFound                // 404
	KindConflict                // 409
	KindPreconditionFailed      // 412: stale version
	KindForbidden               // 403
	KindUnauthorized            // 401
	KindTooManyRequests         // 429
)

// Error is a domain or application error with a stable machine code.
type Error struct {
	Kind    Kind
	Code    string // stable, snake_case: "task_not_found"
	Message string // for humans
	Field   string // the input field at fault, if any
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s (%s): %s", e.Code, e.Field, e.Message)
	}
	return e.Code + ": " + e.Message
}

// Is makes errors.Is match two *Error values with the same code, so
// sentinels declared with New work through wrapping.
func (e *Error) Is(target error) bool {
	var t *Error
	if errors.As(target, &t) && t != nil {
		return t.Code == e.Code
	}
	return false
}

// WithField returns a copy of e naming the field at fault.
func (e *Error) WithField(field string) *Error {
	c := *e
	c.Field = field
	return &c
}

// WithMessage returns a copy of e with another message.
func (e *Error) WithMessage(format string, args ...any) *Error {
	c := *e
	c.Message = fmt.Sprintf(format, args...)
	return &c
}

func New(kind Kind, code, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message}
}

func Invalid(code, field, message string) *Error {
	return &Error{Kind: KindInvalid, Code: code, Field: field, Message: message}
}

func BadRequest(code, field, message string) *Error {
	return &Error{Kind: KindBadRequest, Code: code, Field: field, Message: message}
}

func NotFound(code, message string) *Error { return New(KindNotFound, code, message) }
func Conflict(code, message string) *Error { return New(KindConflict, code, message) }
func Forbidden(code, message string) *Error {
	return New(KindForbidden, code, message)
}
func Unauthorized(code, message string) *Error {
	return New(KindUnauthorized, code, message)
}

// ErrVersionMismatch is returned when an If-Match version is stale.
var ErrVersionMismatch = New(KindPreconditionFailed, "version_mismatch", "the resource was changed by someone else; reload it and try again")

// ErrConcurrentUpdate is returned when a write lost a race it could not retry.
var ErrConcurrentUpdate = New(KindConflict, "concurrent_update", "the resource is being changed by someone else; try again")

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
