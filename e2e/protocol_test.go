package e2e

import (
	"encoding/binary"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// This file is an independent implementation of the original worker
// protocol, acting as a controller: frames and protobuf fields are written
// by hand from the original's field numbers, without our wire, workerapi or
// generated packages, so that it checks them rather than agreeing with them.

type field struct {
	num protowire.Number
	typ protowire.Type
	val uint64
	buf []byte
}

func varint(n protowire.Number, v uint64) field { return field{n, protowire.VarintType, v, nil} }
func fixed(n protowire.Number, v uint64) field  { return field{n, protowire.Fixed64Type, v, nil} }
func fixed32(n protowire.Number, v uint32) field {
	return field{n, protowire.Fixed32Type, uint64(v), nil}
}
func bytesField(n protowire.Number, b []byte) field {
	return field{n, protowire.BytesType, 0, b}
}

func encode(fields ...field) []byte {
	var b []byte
	for _, f := range fields {
		b = protowire.AppendTag(b, f.num, f.typ)
		switch f.typ {
		case protowire.VarintType:
			b = protowire.AppendVarint(b, f.val)
		case protowire.Fixed64Type:
			b = protowire.AppendFixed64(b, f.val)
		case protowire.Fixed32Type:
			b = protowire.AppendFixed32(b, uint32(f.val))
		case protowire.BytesType:
			b = protowire.AppendBytes(b, f.buf)
		}
	}
	return b
}

// decoded maps field numbers to their values (varint/fixed) or bytes.
type decoded map[protowire.Number][]field

func decode(t *testing.T, b []byte) decoded {
	t.Helper()
	d := decoded{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("bad tag in %x", b)
		}
		b = b[n:]
		f := field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.val, n = protowire.ConsumeVarint(b)
		case protowire.Fixed64Type:
			f.val, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			f.buf, n = protowire.ConsumeBytes(b)
		default:
			t.Fatalf("unexpected wire type %d", typ)
		}
		if n < 0 {
			t.Fatalf("bad field %d", num)
		}
		b = b[n:]
		d[num] = append(d[num], f)
	}
	return d
}

func (d decoded) u(n protowire.Number) uint64 {
	if fs := d[n]; len(fs) > 0 {
		return fs[0].val
	}
	return math.MaxUint64
}

type rawConn struct {
	t    *testing.T
	nc   net.Conn
	wait time.Duration // for each result
}

func dialRaw(t *testing.T, port string) *rawConn {
	nc, err := net.Dial("tcp", "localhost:"+port)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawConn{t: t, nc: nc, wait: 5 * time.Second}
}

func (c *rawConn) send(typ uint64, header, body []byte) {
	pre := make([]byte, 48)
	binary.LittleEndian.PutUint64(pre[0:], uint64(len(header)))
	binary.LittleEndian.PutUint64(pre[8:], uint64(len(body)))
	binary.LittleEndian.PutUint64(pre[16:], typ)
	binary.LittleEndian.PutUint64(pre[32:], uint64(time.Now().UnixNano()))
	binary.LittleEndian.PutUint64(pre[40:], math.MaxInt64)
	if _, err := c.nc.Write(append(append(pre, header...), body...)); err != nil {
		c.t.Fatal(err)
	}
}

// recv reads one message and returns its type, header fields and body.
func (c *rawConn) recv() (uint64, decoded, []byte) {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(c.wait))
	pre := make([]byte, 48)
	if _, err := io.ReadFull(c.nc, pre); err != nil {
		c.t.Fatalf("reading a result: %v", err)
	}
	h := make([]byte, binary.LittleEndian.Uint64(pre[0:]))
	body := make([]byte, binary.LittleEndian.Uint64(pre[8:]))
	if _, err := io.ReadFull(c.nc, h); err != nil {
		c.t.Fatal(err)
	}
	if _, err := io.ReadFull(c.nc, body); err != nil {
		c.t.Fatal(err)
	}
	return binary.LittleEndian.Uint64(pre[16:]), decode(c.t, h), body
}

// expect reads one result and checks its type (and, for errors, status).
func (c *rawConn) expect(typ uint64, status int) (decoded, []byte) {
	c.t.Helper()
	got, d, body := c.recv()
	if got != typ {
		c.t.Fatalf("got message type %d (status %d), want %d", got, int64(d.u(3)), typ)
	}
	if typ == 100 && int(d.u(3)) != status {
		c.t.Fatalf("error status %d (%q), want %d", d.u(3), d[4][0].buf, status)
	}
	return d, body
}

const never = math.MaxUint64

func loadModelFromDisk(id, model int, path string, copies int) []byte {
	return encode(varint(1, uint64(id)), varint(2, uint64(model)), bytesField(3, []byte(path)),
		fixed(4, 0), fixed(5, never), varint(6, uint64(copies)), varint(7, 16), varint(8, 1e9))
}

func weightsAction(id, model, gpu int, latest uint64) []byte {
	return encode(varint(1, uint64(id)), varint(2, uint64(model)), varint(3, uint64(gpu)),
		fixed(4, 0), fixed(5, latest), varint(6, 0))
}

func evictAction(id, model, gpu int) []byte {
	return encode(varint(1, uint64(id)), varint(2, uint64(model)), varint(3, uint64(gpu)), fixed(4, 0), fixed(5, never))
}

func inferAction(id, model, gpu, batch int, latest uint64) []byte {
	return encode(varint(1, uint64(id)), varint(2, uint64(model)), varint(3, uint64(gpu)),
		fixed(4, 0), fixed(5, latest), varint(6, 0), varint(7, uint64(batch)))
}

func TestWorkerProtocol(t *testing.T) {
	_, port := startWorker(t, "-n", "2")
	c := dialRaw(t, port)
	rn50 := filepath.Join(zoo, "resnet50_v2", "model")

	// GetWorkerState: page size, two GPUs of 1376 pages, no models.
	c.send(6, encode(varint(1, 7)), nil)
	d, _ := c.expect(106, 0)
	mem := decode(t, d[2][0].buf)
	if d.u(1) != 7 || mem.u(1) != 16777216 || len(mem[4]) != 2 || len(mem[5]) != 0 {
		t.Fatalf("worker state: %v / %v", d, mem)
	}
	if gpu := decode(t, mem[4][1].buf); gpu.u(1) != 1 || gpu.u(3) != 1376 || gpu.u(2) != 23085449216 {
		t.Fatalf("GPU 1: %v", gpu)
	}

	// LoadModelFromDisk with copies; then the error cases.
	c.send(1, loadModelFromDisk(1, 0, rn50, 2), nil)
	d, _ = c.expect(101, 0)
	if d.u(3) != 602112 || d.u(4) != 4000 || d.u(6) != 7*16777216 || d.u(7) != 7 || d.u(10) != 2 || len(d[5]) != 5 || d.u(8) != 8372000 {
		t.Fatalf("LoadModelFromDisk result: %v", d)
	}
	c.send(1, loadModelFromDisk(2, 1, rn50, 1), nil)
	c.expect(100, 40) // id 1 exists (second copy)
	c.send(1, loadModelFromDisk(3, 5, rn50+"nope", 1), nil)
	c.expect(100, 41)
	bare := filepath.Join(t.TempDir(), "bare")
	os.MkdirAll(bare, 0o755)
	spec, _ := os.ReadFile(rn50 + ".spec.json")
	os.WriteFile(filepath.Join(bare, "model.spec.json"), spec, 0o644)
	c.send(1, loadModelFromDisk(4, 5, filepath.Join(bare, "model"), 1), nil)
	c.expect(100, 10) // no measurements

	// LoadWeights, its errors, and Infer.
	c.send(2, weightsAction(5, 9, 0, never), nil)
	c.expect(100, 52)
	c.send(2, weightsAction(6, 0, 7, never), nil)
	c.expect(100, 13) // the original crashed on an unknown GPU
	c.send(2, weightsAction(7, 0, 0, 1), nil)
	c.expect(100, 51)
	c.send(2, weightsAction(8, 0, 0, never), nil)
	d, _ = c.expect(102, 0)
	if timing := decode(t, d[2][0].buf); timing.u(3) != 8372000 {
		t.Fatalf("LoadWeights timing %v", timing)
	}
	c.send(3, inferAction(9, 0, 0, 1, never), make([]byte, 602112))
	d, body := c.expect(103, 0)
	if len(body) != 4000 || d.u(5) != 0 || d.u(7) != 1380 || decode(t, d[3][0].buf).u(3) != 3322000 {
		t.Fatalf("Infer result %v, %d output bytes", d, len(body))
	}
	c.send(3, inferAction(10, 0, 0, 1, never), nil)
	_, body = c.expect(103, 0)
	if len(body) != 0 {
		t.Fatalf("generated-input Infer returned %d bytes", len(body))
	}
	for _, tc := range []struct {
		name   string
		action []byte
		body   []byte
		status int
	}{
		{"unknown model", inferAction(11, 9, 0, 1, never), nil, 72},
		{"batch 0", inferAction(12, 0, 0, 0, never), nil, 73},
		{"batch too large", inferAction(13, 0, 0, 17, never), nil, 73},
		{"wrong input size", inferAction(14, 0, 0, 1, never), make([]byte, 100), 75},
		{"unknown GPU", inferAction(15, 0, 5, 1, never), nil, 13},
		{"weights not loaded", inferAction(16, 0, 1, 1, never), nil, 82},
		{"too late", inferAction(17, 0, 0, 1, 1), nil, 81},
	} {
		c.send(3, tc.action, tc.body)
		t.Run(tc.name, func(t *testing.T) { c.expect(100, tc.status) })
	}

	// EvictWeights and ClearCache.
	c.send(4, evictAction(18, 0, 1), nil)
	c.expect(100, 63)
	c.send(4, evictAction(19, 0, 0), nil)
	c.expect(104, 0)
	c.send(2, weightsAction(20, 1, 0, never), nil)
	c.expect(102, 0)
	c.send(5, encode(varint(1, 21)), nil)
	c.expect(105, 0)
	c.send(3, inferAction(22, 1, 0, 1, never), nil)
	c.expect(100, 82)

	// A garbage frame closes that connection only.
	g := dialRaw(t, port)
	g.nc.Write([]byte("this is not a clockwork frame, nowhere near one, but long enough"))
	g.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := g.nc.Read(make([]byte, 1)); err == nil {
		t.Fatal("garbage frame did not close the connection")
	}
	bad := dialRaw(t, port)
	bad.send(3, []byte{0xff, 0xff, 0xff}, nil) // unparsable header
	bad.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := bad.nc.Read(make([]byte, 1)); err == nil {
		t.Fatal("unparsable header did not close the connection")
	}
	unknown := dialRaw(t, port)
	unknown.send(77, encode(varint(1, 1)), nil)
	unknown.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := unknown.nc.Read(make([]byte, 1)); err == nil {
		t.Fatal("unknown message type did not close the connection")
	}
	c.send(6, encode(varint(1, 23)), nil)
	c.expect(106, 0)
}
