package e2e

import (
	"context"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/clockwork-go/clockwork/client"
)

// TestControllerSurvivesBadInput sends the controller what the original
// aborted on: unknown model ids, NaN and negative SLO factors, garbage
// frames and connections cut mid-message. Each is answered or costs only
// its own connection; the controller keeps serving.
func TestControllerSurvivesBadInput(t *testing.T) {
	_, wport := startWorker(t, "-n", "1")
	c, cport := startController(t, "INFER5", []string{wport})
	cl, err := client.Connect("localhost:" + cport)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	models, err := cl.LoadRemoteModels(zoo+"/resnet18_v2/model", 1)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := cl.AwaitReady(ctx, nil); err != nil {
		t.Fatal(err)
	}
	m := models[0]
	m.DisableInputs()

	// Garbage on other connections, while the client keeps going.
	for _, junk := range [][]byte{
		[]byte("GET / HTTP/1.1\r\nHost: clockwork\r\n\r\n" + string(make([]byte, 64))),
		frame(2, []byte{0xff, 0xff, 0xff}, nil), // unparsable header
		frame(77, []byte{0x08, 0x01}, nil),      // unknown message type
		frame(2, make([]byte, 4), nil)[:60],     // cut mid-message
		frame(2, []byte{0x08, 0x01}, nil)[:20],  // cut mid-pre-header
		preheaderOnly(1<<40, 0),                 // absurd header length
	} {
		nc, err := net.Dial("tcp", "localhost:"+cport)
		if err != nil {
			t.Fatal(err)
		}
		nc.Write(junk)
		nc.Close()
	}

	if _, err := m.Infer(nil); err != nil {
		t.Fatalf("a valid request failed: %v", err)
	}
	for _, f := range []float32{float32(math.NaN()), -1, float32(math.Inf(1)), float32(math.Inf(-1)), 1e30} {
		m.SetSLOFactor(f)
		if _, err := m.Infer(nil); err != nil && client.StatusOf(err) != client.StatusTimeout {
			t.Errorf("slo_factor %v: %v", f, err)
		}
	}
	m.SetSLOFactor(0)
	unknown := &rawClient{t: t, port: cport}
	if status := unknown.infer(9999); status != client.StatusFailed {
		t.Errorf("unknown model id: status %d, want 1", status)
	}
	if status := unknown.infer(1 << 31); status != client.StatusFailed {
		t.Errorf("huge model id: status %d, want 1", status)
	}
	// An input no LZ4 block of ResNet-18's 602,112-byte input could be:
	// answered at once, never batched with others' requests.
	if status := unknown.inferWith(uint64(m.ID()), make([]byte, 2<<20)); status != 6 {
		t.Errorf("2 MiB input: status %d, want 6", status)
	}
	// Inputs of a plausible length that do not decompress to 602,112
	// bytes: answered 6 too (they used to fail the whole batch at the
	// worker, status 78); an image's block is served.
	img := client.Compress(client.ImageInput(rand.New(rand.NewPCG(1, 1)), 602112))
	noise := make([]byte, len(img))
	for i := range noise {
		noise[i] = byte(i*7919 + i>>8)
	}
	for name, in := range map[string][]byte{"noise": noise, "a block cut short": img[:len(img)-100],
		"another model's block": client.Compress(client.ImageInput(rand.New(rand.NewPCG(1, 1)), 3136))} {
		if status := unknown.inferWith(uint64(m.ID()), in); status != 6 {
			t.Errorf("%s: status %d, want 6", name, status)
		}
	}
	if status := unknown.inferWith(uint64(m.ID()), img); status != 0 {
		t.Errorf("an image's block: status %d, want 0", status)
	}
	if _, err := m.Infer(nil); err != nil {
		t.Fatalf("controller stopped serving: %v", err)
	}
	if c.has(`panic|fatal error`) {
		t.Fatal("the controller panicked")
	}
}

func frame(typ uint64, header, body []byte) []byte {
	pre := make([]byte, 48)
	binary.LittleEndian.PutUint64(pre[0:], uint64(len(header)))
	binary.LittleEndian.PutUint64(pre[8:], uint64(len(body)))
	binary.LittleEndian.PutUint64(pre[16:], typ)
	binary.LittleEndian.PutUint64(pre[40:], math.MaxInt64)
	return append(append(pre, header...), body...)
}

func preheaderOnly(headerLen, bodyLen uint64) []byte {
	pre := make([]byte, 48)
	binary.LittleEndian.PutUint64(pre[0:], headerLen)
	binary.LittleEndian.PutUint64(pre[8:], bodyLen)
	binary.LittleEndian.PutUint64(pre[16:], 2)
	return pre
}

// rawClient sends hand-made Infer requests (the library never sends an
// id it does not know).
type rawClient struct {
	t    *testing.T
	port string
}

func (r *rawClient) infer(model uint64) int32 {
	r.t.Helper()
	return r.inferWith(model, nil)
}

// inferWith sends an Infer request with input as its body and returns the
// response's status.
func (r *rawClient) inferWith(model uint64, input []byte) int32 {
	r.t.Helper()
	nc, err := net.Dial("tcp", "localhost:"+r.port)
	if err != nil {
		r.t.Fatal(err)
	}
	defer nc.Close()
	// ModelInferenceReqProto{header{user_id 0, user_request_id 5}, model_id, batch_size 1, slo_factor 0}
	hdr := encode(bytesField(1, encode(varint(1, 0), varint(2, 5))), varint(2, model), varint(3, 1), fixed32(4, 0))
	nc.Write(frame(2, hdr, input))
	c := &rawConn{t: r.t, nc: nc, wait: 5 * time.Second}
	typ, d, _ := c.recv()
	if typ != 102 {
		r.t.Fatalf("response type %d", typ)
	}
	return int32(decode(r.t, d[1][0].buf).u(2))
}

// TestWorkerBoundsQueuedInputs: worker_dummy --max-queued-input 1M holds
// one ResNet-50 input (602,112 bytes) of an Infer due in an hour and
// answers a second 74; once the connection holding the first closes, its
// Infer is cancelled (dropped with the original's line) and a second is
// held. The original held every input until its action ran.
func TestWorkerBoundsQueuedInputs(t *testing.T) {
	w, port := startWorker(t, "-n", "1", "--max-queued-input", "1M")
	later := uint64(time.Now().Add(time.Hour).UnixNano())
	inferLater := func(id int) []byte {
		return encode(varint(1, uint64(id)), varint(2, 0), varint(3, 0), fixed(4, later), fixed(5, never), varint(6, 0), varint(7, 1))
	}
	input := make([]byte, 602112)
	c := dialRaw(t, port)
	c.send(1, loadModelFromDisk(1, 0, filepath.Join(zoo, "resnet50_v2", "model"), 1), nil)
	c.expect(101, 0)
	holder := dialRaw(t, port)
	holder.send(3, inferLater(2), input)
	holder.send(6, encode(varint(1, 3)), nil) // answered once Infer 2 is held
	holder.expect(106, 0)
	c.send(3, inferLater(4), input)
	c.expect(100, 74)
	holder.nc.Close()
	w.waitFor(`Dropping result R2:Error 1: Action cancelled: its connection closed`, 10*time.Second)
	c.send(3, inferLater(5), input)
	c.send(6, encode(varint(1, 6)), nil)
	if d, _ := c.expect(106, 0); d.u(1) != 6 {
		t.Fatalf("GetWorkerState result %v", d)
	}
}
