package client

import (
	"errors"
	"fmt"

	"github.com/clockwork-go/clockwork/internal/clientapi"
)

// StatusError is a non-success response from the controller.
type StatusError struct {
	Status  int32
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("clockwork status %d: %s", e.Status, e.Message)
}

// Status codes a client may see (worker codes can also reach clients).
const (
	StatusFailed         = clientapi.StatusError
	StatusTimeout        = clientapi.StatusTimeout
	StatusInitializing   = clientapi.StatusInitializing
	StatusInvalidRequest = clientapi.StatusInvalidRequest
	// INFER4 answers a request it drops with these rather than
	// StatusTimeout: passed over by a batch behind it (7), or too late
	// for the GPU's next slot (8).
	StatusSkipped             = clientapi.StatusControllerSkipped
	StatusCouldNotStartInTime = clientapi.StatusCouldNotStartInTime
)

// IsInitializing reports whether err is the controller's "still starting
// up" answer (status 5); the call may be retried later.
func IsInitializing(err error) bool { return StatusOf(err) == StatusInitializing }

// StatusOf returns the status code carried by err: 0 for nil, the
// controller's status for a *StatusError, and -1 for other errors
// (connection failures).
func StatusOf(err error) int32 {
	if err == nil {
		return 0
	}
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status
	}
	return -1
}
