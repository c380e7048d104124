package e2e

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/clockwork-go/clockwork/client"
)

// TestRealWorkerProtocol drives the real worker (CPU) with the independent
// protocol implementation of protocol_test.go: every action and the error
// cases of its copy-input / exec / copy-output pipeline.
func TestRealWorkerProtocol(t *testing.T) {
	_, port := startBinary(t, "worker", "--device", "cpu")
	checkProtocol(t, port, 5*time.Second)
}

// checkProtocol runs the protocol checks against the real worker on port
// (one device), waiting up to wait for each result.
func checkProtocol(t *testing.T, port string, wait time.Duration) {
	c := dialRaw(t, port)
	c.wait = wait
	tiny := filepath.Join(models, "tinycnn", "model")

	c.send(6, encode(varint(1, 1)), nil)
	d, _ := c.expect(106, 0)
	if mem := decode(t, d[2][0].buf); len(mem[4]) != 1 {
		t.Fatalf("the worker reports %d devices, want 1", len(mem[4]))
	}
	c.send(1, loadModelFromDisk(2, 0, tiny, 2), nil)
	d, _ = c.expect(101, 0)
	in, out := d.u(3), d.u(4)
	if in != 3*32*32*4 || out == 0 || d.u(10) != 2 || len(d[5]) != 5 || len(d[9]) != 5 {
		t.Fatalf("LoadModelFromDisk result %v", d)
	}
	for i, f := range d[9] {
		if f.val == 0 {
			t.Errorf("batch size %d has no measured exec time", d[5][i].val)
		}
	}
	c.send(1, loadModelFromDisk(3, 1, tiny, 1), nil)
	c.expect(100, 40)
	c.send(1, loadModelFromDisk(4, 5, tiny+"x", 1), nil)
	c.expect(100, 41)
	bad := filepath.Join(t.TempDir(), "bad")
	os.MkdirAll(bad, 0o755)
	os.WriteFile(filepath.Join(bad, "model.onnx"), []byte{0x0a, 0xff, 0xff, 0xff, 0x0f}, 0o644)
	c.send(1, loadModelFromDisk(5, 5, filepath.Join(bad, "model"), 1), nil)
	c.expect(100, 41)

	c.send(2, weightsAction(6, 0, 1, never), nil)
	c.expect(100, 13)
	c.send(2, weightsAction(7, 0, 0, never), nil)
	c.expect(102, 0)
	item := make([]byte, in)
	c.send(3, inferAction(8, 0, 0, 1, never), item)
	_, body := c.expect(103, 0)
	if uint64(len(body)) != out {
		t.Fatalf("output of %d bytes, want %d", len(body), out)
	}
	compressed := client.Compress(item)
	twoItems := append(append([]byte{}, compressed...), compressed...)
	c.send(3, append(inferAction(9, 0, 0, 2, never), encode(varint(8, uint64(len(compressed))), varint(8, uint64(len(compressed))))...), twoItems)
	_, body = c.expect(103, 0)
	if uint64(len(body)) != 2*out {
		t.Fatalf("compressed batch: %d output bytes", len(body))
	}
	for _, tc := range []struct {
		name   string
		action []byte
		body   []byte
		status int
	}{
		{"unknown model", inferAction(10, 9, 0, 1, never), nil, 72},
		{"batch 0", inferAction(11, 0, 0, 0, never), nil, 73},
		{"batch too large", inferAction(12, 0, 0, 17, never), nil, 73},
		{"wrong input size", inferAction(13, 0, 0, 1, never), make([]byte, 7), 75},
		{"more items than the batch", append(inferAction(14, 0, 0, 1, never), encode(varint(8, 1), varint(8, 1))...), []byte{0, 0}, 77},
		{"sizes overrun the body", append(inferAction(15, 0, 0, 1, never), encode(varint(8, 100))...), []byte{1, 2, 3}, 77},
		{"not LZ4", append(inferAction(16, 0, 0, 1, never), encode(varint(8, 3))...), []byte{0xf0, 1, 2}, 78},
		{"unknown GPU", inferAction(17, 0, 3, 1, never), nil, 13},
		{"weights not loaded", inferAction(18, 1, 0, 1, never), nil, 82},
		{"too late", inferAction(19, 0, 0, 1, 1), nil, 71},
	} {
		c.send(3, tc.action, tc.body)
		t.Run(tc.name, func(t *testing.T) { c.expect(100, tc.status) })
	}
	c.send(4, evictAction(20, 0, 0), nil)
	c.expect(104, 0)
	c.send(3, inferAction(21, 0, 0, 1, never), nil)
	c.expect(100, 82)
	c.send(5, encode(varint(1, 22)), nil)
	c.expect(105, 0)
}
