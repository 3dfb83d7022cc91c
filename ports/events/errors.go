package events

import (
	"errors"
)

// permanentError marks a failure that no retry can fix (a malformed event,
// a reference that will never exist, a bug).
type permanentError struct{ err error }

func (e permanentError) Error() string { return "permanent: " + e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent wraps err so that the processor does not retry it: the message
// goes to the dead letters at once (on SQS: it is made visible again at
// once and fails fast until redrive moves it to the DLQ after
// maxReceiveCount receives).
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent tells whether err was marked Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}
