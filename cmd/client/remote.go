package main

import (
	"errors"
	"fmt"

	"github.com/clockwork-go/clockwork/client"
	"github.com/clockwork-go/clockwork/internal/workload"
)

// remote adapts a client.Client to workload.Loader. Its models report a
// failed connection to lost, which ends the run: without it, closed loops
// would spin on requests that fail at once.
type remote struct {
	c    *client.Client
	lost func(error)
}

func (r remote) LoadRemoteModels(path string, copies int) ([]workload.Model, error) {
	ms, err := r.c.LoadRemoteModels(path, copies)
	if err != nil {
		return nil, lostOr(err)
	}
	out := make([]workload.Model, len(ms))
	for i, m := range ms {
		out[i] = remoteModel{Model: m, lost: r.lost}
	}
	return out, nil
}

// lostOr says a closed connection is the controller lost, as a run that
// loses it mid-way says; other errors stay as they are.
func lostOr(err error) error {
	if errors.Is(err, client.ErrClosed) {
		return fmt.Errorf("%w: %v", errConnectionLost, err)
	}
	return err
}

type remoteModel struct {
	*client.Model
	lost func(error)
}

func (m remoteModel) InferAsync(input []byte, compressed bool, done func([]byte, error)) {
	m.Model.InferAsync(input, compressed, func(out []byte, err error) {
		if errors.Is(err, client.ErrClosed) {
			m.lost(err)
		}
		done(out, err)
	})
}
