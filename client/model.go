package client

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pierrec/lz4/v4"

	"github.com/clockwork-go/clockwork/internal/clientapi"
)

// Model is a model instance on the controller. Its settings (SLO factor,
// user id, inputs) apply to the requests sent after they change.
type Model struct {
	c          *Client
	id         uint32
	path       string
	inputSize  uint64
	outputSize uint64
	noInputs   atomic.Bool // after DisableInputs or with CLOCKWORK_DISABLE_INPUTS=1

	sloFactor atomic.Uint32 // float32 bits
	userID    atomic.Int32
}

// ID is the model's id.
func (m *Model) ID() uint32 { return m.id }

// Source is the path the model was loaded from.
func (m *Model) Source() string { return m.path }

// InputSize is the size of one uncompressed input, in bytes.
func (m *Model) InputSize() uint64 { return m.inputSize }

// OutputSize is the size of one output, in bytes.
func (m *Model) OutputSize() uint64 { return m.outputSize }

// SLOFactor is the current SLO factor (0: the controller's default SLO).
func (m *Model) SLOFactor() float32 { return math.Float32frombits(m.sloFactor.Load()) }

// SetSLOFactor sets the SLO of later requests to f × the model's batch-1
// execution time; 0 uses the controller's default SLO.
func (m *Model) SetSLOFactor(f float32) { m.sloFactor.Store(math.Float32bits(f)) }

// SetUserID sets the user id sent with later requests.
func (m *Model) SetUserID(id int32) { m.userID.Store(id) }

// DisableInputs makes later requests carry no input; the controller or the
// worker then generates one (and the response carries no output).
func (m *Model) DisableInputs() { m.noInputs.Store(true) }

// InputsEnabled reports whether requests carry inputs.
func (m *Model) InputsEnabled() bool { return !m.noInputs.Load() }

var compressors = sync.Pool{New: func() any { return new(lz4.Compressor) }}

// Compress LZ4-compresses one input (block format, as the original).
func Compress(input []byte) []byte {
	dst := make([]byte, lz4.CompressBlockBound(len(input)))
	c := compressors.Get().(*lz4.Compressor)
	n, err := c.CompressBlock(input, dst)
	compressors.Put(c)
	if err != nil {
		// Unreachable: dst is large enough for any input.
		panic(fmt.Sprintf("client: lz4: %v", err))
	}
	return dst[:n]
}

// Infer runs one inference on input (exactly InputSize bytes) and returns
// the output. It blocks until the controller answers.
func (m *Model) Infer(input []byte) ([]byte, error) {
	type reply struct {
		out []byte
		err error
	}
	ch := make(chan reply, 1)
	m.InferAsync(input, false, func(out []byte, err error) { ch <- reply{out, err} })
	r := <-ch
	return r.out, r.err
}

// InferAsync sends one inference and calls done with its output or error
// (a *StatusError for a non-success status) from the connection's reader
// goroutine; done must not block. With compressed set, input is an
// LZ4-compressed item sent as is; otherwise it must be InputSize bytes and
// is compressed here.
func (m *Model) InferAsync(input []byte, compressed bool, done func(output []byte, err error)) {
	var body []byte
	if m.InputsEnabled() {
		switch {
		case compressed:
			body = input
		case uint64(len(input)) != m.inputSize:
			done(nil, fmt.Errorf("client: model %d takes %d input bytes, not %d", m.id, m.inputSize, len(input)))
			return
		default:
			body = Compress(input)
		}
	}
	c := m.c
	req := &clientapi.InferRequest{
		RequestHeader: clientapi.RequestHeader{UserID: m.userID.Load(), UserRequestID: c.nextReq.Add(1) - 1},
		ModelID:       m.id,
		BatchSize:     1,
		SLOFactor:     m.SLOFactor(),
		Input:         body,
	}
	start := time.Now()
	if c.sum != nil {
		c.sum.submitted()
	}
	c.call(req, func(rsp clientapi.Response, err error) {
		if err == nil {
			r := rsp.(*clientapi.InferResponse)
			if r.Status != clientapi.Success {
				err = &StatusError{Status: r.Status, Message: r.Message}
			} else if c.sum != nil {
				c.sum.success(time.Since(start))
			}
			if c.sum != nil && r.Status == clientapi.StatusError {
				c.sum.error()
			}
			if err == nil {
				done(r.Output, nil)
				return
			}
		}
		done(nil, err)
	})
}

// Evict asks the controller to evict the model. Clockwork's schedulers
// manage weights themselves and refuse it with status 6.
func (m *Model) Evict() error {
	_, err := m.c.callSync(&clientapi.EvictRequest{RequestHeader: m.c.header(), ModelID: m.id})
	return err
}
