package engine

import (
	"encoding/binary"
	"math"

	"github.com/clockwork-go/clockwork/internal/onnx"
)

// maxElems bounds any tensor's element count (4 TiB of float32), so that
// size arithmetic cannot overflow whatever the file says.
const maxElems = 1 << 40

// checkedElems multiplies dims, failing on negative or absurd sizes.
func checkedElems(dims []int) (int, bool) {
	n := 1
	for _, d := range dims {
		if d < 0 || (d > 0 && n > maxElems/d) {
			return 0, false
		}
		n *= d
	}
	return n, true
}

func dtypeName(dt int32) string {
	return onnx.TensorProto_DataType(dt).String()
}

// parseTensor decodes a TensorProto holding FLOAT data, or INT64, INT32 or
// BOOL data (kept as int64) for parameters such as Reshape shapes.
func parseTensor(t *onnx.TensorProto) (*tensor, error) {
	name := t.GetName()
	if t.GetDataLocation() == onnx.TensorProto_EXTERNAL || len(t.GetExternalData()) > 0 {
		return nil, errorf("tensor %q: external data is not supported (store weights inside the .onnx file)", name)
	}
	dims := make([]int, len(t.GetDims()))
	for i, d := range t.GetDims() {
		if d < 0 || d > maxElems {
			return nil, errorf("tensor %q: invalid dimension %d", name, d)
		}
		dims[i] = int(d)
	}
	n, ok := checkedElems(dims)
	if !ok {
		return nil, errorf("tensor %q: too large %v", name, dims)
	}
	out := &tensor{dims: dims, dtype: t.GetDataType()}
	raw := t.GetRawData()
	switch onnx.TensorProto_DataType(t.GetDataType()) {
	case onnx.TensorProto_FLOAT:
		switch {
		case len(raw) > 0 || n == 0 && len(t.GetFloatData()) == 0:
			if len(raw) != 4*n {
				return nil, errorf("tensor %q: raw_data holds %d bytes, shape %v needs %d", name, len(raw), dims, 4*n)
			}
			out.f32 = make([]float32, n)
			for i := range out.f32 {
				out.f32[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
		default:
			if len(t.GetFloatData()) != n {
				return nil, errorf("tensor %q: float_data holds %d values, shape %v needs %d", name, len(t.GetFloatData()), dims, n)
			}
			out.f32 = append([]float32(nil), t.GetFloatData()...)
		}
	case onnx.TensorProto_INT64:
		switch {
		case len(raw) > 0 || n == 0 && len(t.GetInt64Data()) == 0:
			if len(raw) != 8*n {
				return nil, errorf("tensor %q: raw_data holds %d bytes, shape %v needs %d", name, len(raw), dims, 8*n)
			}
			out.i64 = make([]int64, n)
			for i := range out.i64 {
				out.i64[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
			}
		default:
			if len(t.GetInt64Data()) != n {
				return nil, errorf("tensor %q: int64_data holds %d values, shape %v needs %d", name, len(t.GetInt64Data()), dims, n)
			}
			out.i64 = append([]int64(nil), t.GetInt64Data()...)
		}
	case onnx.TensorProto_INT32:
		switch {
		case len(raw) > 0 || n == 0 && len(t.GetInt32Data()) == 0:
			if len(raw) != 4*n {
				return nil, errorf("tensor %q: raw_data holds %d bytes, shape %v needs %d", name, len(raw), dims, 4*n)
			}
			out.i64 = make([]int64, n)
			for i := range out.i64 {
				out.i64[i] = int64(int32(binary.LittleEndian.Uint32(raw[4*i:])))
			}
		default:
			if len(t.GetInt32Data()) != n {
				return nil, errorf("tensor %q: int32_data holds %d values, shape %v needs %d", name, len(t.GetInt32Data()), dims, n)
			}
			out.i64 = make([]int64, n)
			for i, v := range t.GetInt32Data() {
				out.i64[i] = int64(v)
			}
		}
		out.dtype = int32(onnx.TensorProto_INT64)
	case onnx.TensorProto_BOOL:
		switch {
		case len(raw) > 0 || n == 0 && len(t.GetInt32Data()) == 0:
			if len(raw) != n {
				return nil, errorf("tensor %q: raw_data holds %d bytes, shape %v needs %d", name, len(raw), dims, n)
			}
			out.i64 = make([]int64, n)
			for i, v := range raw {
				out.i64[i] = int64(v)
			}
		default:
			if len(t.GetInt32Data()) != n {
				return nil, errorf("tensor %q: int32_data holds %d values, shape %v needs %d", name, len(t.GetInt32Data()), dims, n)
			}
			out.i64 = make([]int64, n)
			for i, v := range t.GetInt32Data() {
				out.i64[i] = int64(v)
			}
		}
	default:
		return nil, errorf("tensor %q: data type %s is not supported (float32 only)", name, dtypeName(t.GetDataType()))
	}
	return out, nil
}

// attrs gives typed access to a node's attributes.
type attrs struct {
	op, node string
	m        map[string]*onnx.AttributeProto
}

func newAttrs(n *onnx.NodeProto) (attrs, error) {
	a := attrs{op: n.GetOpType(), node: n.GetName(), m: make(map[string]*onnx.AttributeProto, len(n.GetAttribute()))}
	for _, at := range n.GetAttribute() {
		if at.GetRefAttrName() != "" {
			return a, a.errorf("attribute %q refers to a function attribute", at.GetName())
		}
		if _, dup := a.m[at.GetName()]; dup {
			return a, a.errorf("attribute %q given twice", at.GetName())
		}
		a.m[at.GetName()] = at
	}
	return a, nil
}

func (a attrs) errorf(format string, args ...any) error {
	return nodeErrorf(a.op, a.node, format, args...)
}

func (a attrs) has(name string) bool { return a.m[name] != nil }

func (a attrs) get(name string, typ onnx.AttributeProto_AttributeType) (*onnx.AttributeProto, error) {
	at := a.m[name]
	if at == nil {
		return nil, nil
	}
	if at.GetType() != typ {
		return nil, a.errorf("attribute %q has type %s, want %s", name, at.GetType(), typ)
	}
	return at, nil
}

// int reads an INT attribute within [lo, hi].
func (a attrs) int(name string, def, lo, hi int64) (int, error) {
	at, err := a.get(name, onnx.AttributeProto_INT)
	if err != nil || at == nil {
		return int(def), err
	}
	if v := at.GetI(); v < lo || v > hi {
		return 0, a.errorf("attribute %q = %d out of range [%d, %d]", name, v, lo, hi)
	}
	return int(at.GetI()), nil
}

func (a attrs) float(name string, def float32) (float32, error) {
	at, err := a.get(name, onnx.AttributeProto_FLOAT)
	if err != nil || at == nil {
		return def, err
	}
	return at.GetF(), nil
}

func (a attrs) str(name, def string) (string, error) {
	at, err := a.get(name, onnx.AttributeProto_STRING)
	if err != nil || at == nil {
		return def, err
	}
	return string(at.GetS()), nil
}

// ints reads an INTS attribute of length n (any length if n < 0) with
// values within [lo, hi]; nil if absent.
func (a attrs) ints(name string, n int, lo, hi int64) ([]int, error) {
	at, err := a.get(name, onnx.AttributeProto_INTS)
	if err != nil || at == nil {
		return nil, err
	}
	if n >= 0 && len(at.GetInts()) != n {
		return nil, a.errorf("attribute %q has %d values, want %d", name, len(at.GetInts()), n)
	}
	out := make([]int, len(at.GetInts()))
	for i, v := range at.GetInts() {
		if v < lo || v > hi {
			return nil, a.errorf("attribute %q value %d out of range [%d, %d]", name, v, lo, hi)
		}
		out[i] = int(v)
	}
	return out, nil
}
