package engine

import (
	"google.golang.org/protobuf/proto"

	"github.com/clockwork-go/clockwork/internal/onnx"
)

// DefaultPageSize is the worker's default weights page size (16 MiB).
const DefaultPageSize = 16 << 20

// Options parameterises Import.
type Options struct {
	// PageSize is the weights page size in bytes; 0 means DefaultPageSize.
	PageSize int64
}

// ValueInfo names a model input or output and gives its shape for one
// batch item (the batch dimension left out).
type ValueInfo struct {
	Name  string
	Shape []int
}

// Bytes is the size of one item.
func (v ValueInfo) Bytes() int64 { return int64(numElems(v.Shape)) * 4 }

// Model is an imported model: its inputs and outputs, its weights laid out
// in pages, and the operator graph from which Plan derives the op list for
// a batch size. A Model is immutable and safe for concurrent use.
type Model struct {
	Inputs  []ValueInfo
	Outputs []ValueInfo
	Weights *WeightLayout

	opset   int64
	values  []value
	nodes   []node
	outputs []int // value index of each graph output
	// weightOf maps a constant value used at run time to its weight, and
	// gemmParts lists the column parts of a Gemm weight split across pages.
	weightOf  map[int]int
	gemmParts map[int][]gemmPart
}

// InputSize is the size of one batch item's inputs in bytes.
func (m *Model) InputSize() int64 {
	var n int64
	for _, v := range m.Inputs {
		n += v.Bytes()
	}
	return n
}

// OutputSize is the size of one batch item's outputs in bytes.
func (m *Model) OutputSize() int64 {
	var n int64
	for _, v := range m.Outputs {
		n += v.Bytes()
	}
	return n
}

// Import decodes an ONNX file and imports it.
func Import(data []byte, opts Options) (*Model, error) {
	var mp onnx.ModelProto
	if err := proto.Unmarshal(data, &mp); err != nil {
		return nil, errorf("malformed file: %v", err)
	}
	return ImportProto(&mp, opts)
}

// ImportProto imports a decoded ONNX model. It does not modify mp.
func ImportProto(mp *onnx.ModelProto, opts Options) (*Model, error) {
	pageSize := opts.PageSize
	if pageSize == 0 {
		pageSize = DefaultPageSize
	}
	if pageSize < 4 {
		return nil, errorf("invalid page size %d", pageSize)
	}
	m := &Model{}
	if err := m.build(mp); err != nil {
		return nil, err
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	if err := m.fuse(); err != nil {
		return nil, err
	}
	m.splitLargeConvs(pageSize)
	if err := m.layoutWeights(pageSize); err != nil {
		return nil, err
	}
	m.dropConstData()
	shapes, err := m.infer(1)
	if err != nil {
		return nil, err
	}
	for _, o := range m.outputs {
		s := shapes[o]
		if len(s) == 0 || s[0] != 1 {
			return nil, errorf("output %q has shape %v at batch size 1; the leading dimension must be the batch", m.values[o].name, s)
		}
		m.Outputs = append(m.Outputs, ValueInfo{Name: m.values[o].name, Shape: s[1:]})
	}
	return m, nil
}

// dropConstData frees the constants' values once the weights are in their
// pages: planning needs only their shapes.
func (m *Model) dropConstData() {
	for i := range m.values {
		if c := m.values[i].c; c != nil {
			m.values[i].c = &tensor{dims: c.dims, dtype: c.dtype}
		}
	}
}

// validate infers shapes at two batch sizes, which checks every node and
// that outputs scale with the batch.
func (m *Model) validate() error {
	s1, err := m.infer(1)
	if err != nil {
		return err
	}
	s2, err := m.infer(2)
	if err != nil {
		return err
	}
	for _, o := range m.outputs {
		a, b := s1[o], s2[o]
		if len(a) == 0 || len(b) != len(a) || a[0] != 1 || b[0] != 2 || !equalShapes(a[1:], b[1:]) {
			return errorf("output %q does not scale with the batch size (shape %v at batch 1, %v at batch 2)", m.values[o].name, a, b)
		}
	}
	return nil
}

func equalShapes(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
