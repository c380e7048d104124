package simulate

import (
	"errors"
	"fmt"

	"github.com/clockwork-go/clockwork/client"
	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/workerapi"
	"github.com/clockwork-go/clockwork/internal/workload"
)

// The clients' side: the workload engine loads models through the
// simulator (as client.Client.LoadRemoteModels does through the
// controller's startup phase) and sends requests through clientModel.

// LoadRemoteModels implements workload.Loader: like the controller's load
// stage it forwards a LoadModelFromDisk to every worker, assigns the copies
// consecutive ids, and adds them to the start-up State.
func (s *sim) LoadRemoteModels(path string, copies int) ([]workload.Model, error) {
	if s.sched != nil {
		return nil, errors.New("simulate: models can only be loaded before the workload starts")
	}
	first := s.nextModel
	var loaded *workerapi.LoadModelFromDiskResult
	for _, w := range s.workers {
		a := &workerapi.LoadModelFromDisk{
			ID: s.nextAction, ModelID: int32(first), Path: path, Latest: workerapi.NoLatest, Copies: int32(copies),
			MaxBatchSize: uint32(s.schedCfg.MaxBatch), MaxExecDuration: uint64(s.schedCfg.MaxExec),
		}
		s.nextAction++
		res, err := w.call(s.now(), a)
		if err != nil {
			return nil, err
		}
		r, ok := res.(*workerapi.LoadModelFromDiskResult)
		if !ok {
			return nil, fmt.Errorf("loading %s on worker %d: %s", path, w.id, res)
		}
		s.state.Workers[w.id].AddModels(scheduler.ModelsFromLoad(first, path, r))
		loaded = r
	}
	s.nextModel += copies
	ms := make([]workload.Model, copies)
	for i := range ms {
		ms[i] = &clientModel{s: s, id: uint32(first + i), inputSize: loaded.InputSize}
	}
	return ms, nil
}

// pending is a request on its way; it routes the response (Request.Tag).
type pending struct {
	done     func(output []byte, err error)
	answered bool
}

// clientModel is a model instance as a client sees it.
type clientModel struct {
	s         *sim
	id        uint32
	inputSize uint64
	slo       float32
	user      int32
}

func (m *clientModel) ID() uint32             { return m.id }
func (m *clientModel) InputSize() uint64      { return m.inputSize }
func (m *clientModel) SetSLOFactor(f float32) { m.slo = f }
func (m *clientModel) SetUserID(id int32)     { m.user = id }

// InferAsync implements workload.Model: the request reaches the controller
// a client latency later; done runs when the response is back. Without
// Config.Inputs the request carries no input, as with
// CLOCKWORK_DISABLE_INPUTS=1.
func (m *clientModel) InferAsync(input []byte, compressed bool, done func([]byte, error)) {
	s := m.s
	switch {
	case !s.cfg.Inputs:
		input = nil
	case !compressed:
		input = client.Compress(input)
	}
	r := &scheduler.Request{
		UserRequestID: s.nextRequest, UserID: m.user, ModelID: int(m.id), BatchSize: 1,
		SLOFactor: m.slo, Input: input, Tag: &pending{done: done},
	}
	s.nextRequest++
	s.requests++
	s.at(s.now()+s.net.ClientLatency, func() {
		r.Arrival = s.now()
		s.sched.Infer(r.Arrival, r)
		s.decideSoon()
	})
}
