package e2e

import (
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/clockwork-go/clockwork/client"
)

// TestDirectController runs the DIRECT test controller, which forwards
// each request to worker 0 unscheduled: over worker_dummy the client
// library loads, lists and infers, and the client's simple workload runs
// through it; over the real CPU worker, outputs match the reference.
func TestDirectController(t *testing.T) {
	_, wport := startWorker(t, "-n", "2")
	c, cport := startController(t, "DIRECT", []string{wport})
	cl, err := client.Connect("localhost:" + cport)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ms, err := cl.LoadRemoteModels(zoo+"/resnet50_v2/model", 2)
	if err != nil || len(ms) != 2 || ms[1].ID() != 1 {
		t.Fatalf("LoadRemoteModels = %v, %v", ms, err)
	}
	if ls, err := cl.LS(); err != nil || len(ls) != 2 {
		t.Fatalf("LS = %v, %v", ls, err)
	}
	for i := range 6 {
		if _, err := ms[i%2].Infer(make([]byte, 602112)); err != nil {
			t.Fatalf("infer %d: %v", i, err)
		}
	}
	if err := ms[0].Evict(); client.StatusOf(err) != client.StatusInvalidRequest {
		t.Fatalf("evict: %v", err)
	}
	for _, re := range []string{
		`^DIRECT: every request goes to worker 0, unscheduled$`,
		`^Worker <-  A1:LoadModelFromDisk model=0 .*/resnet50_v2/model$`,
		`^Client <-  Rsp0:LoadModel model_id=\[0->1\] input=602112 output=4000$`,
		`^Client  -> Req2:Infer model=0 b=1 input=`,
		`^Worker <-  A[0-9]+:LoadWeights model=0 gpu=1 `,
		`^Worker <-  A[0-9]+:Infer model=1 gpu=0 batch=1 `,
		`^Worker  -> R[0-9]+:Infer exec=`,
		`^Client <-  Rsp[0-9]+:Infer model_id=1 b=1 output=4000$`,
	} {
		c.waitFor(re, 5*time.Second)
	}

	// The client's workloads run through it too: LS answers.
	cli := start(t, []string{"CLOCKWORK_MODEL_DIR=" + zoo}, "client", "-summary-period", "1s", "-duration", "20s",
		"localhost:"+cport, "simple")
	cli.waitFor(nonZeroThroughput, 15*time.Second)
}

// directMLP runs DIRECT over the real worker on the CPU and loads the mlp
// model through it; it returns the controller, its client port and the
// model.
func directMLP(t *testing.T) (*proc, string, *client.Model) {
	_, wport := startBinary(t, "worker", "--device", "cpu")
	c, cport := startController(t, "DIRECT", []string{wport})
	cl, err := client.Connect("localhost:" + cport)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	m, err := cl.LoadRemoteModel(filepath.Join(models, "mlp", "model"))
	if err != nil {
		t.Fatal(err)
	}
	return c, cport, m
}

func TestDirectControllerOutputs(t *testing.T) {
	_, _, m := directMLP(t)
	proto := readModel(t, filepath.Join(models, "mlp", "model.onnx"))
	r := rand.New(rand.NewPCG(3, 3))
	for range 3 {
		in := make([]float32, m.InputSize()/4)
		for j := range in {
			in[j] = r.Float32()*2 - 1
		}
		out, err := m.Infer(floatBytes(in))
		if err != nil {
			t.Fatal(err)
		}
		checkOutput(t, "mlp", bytesFloat(out), runReference(t, proto, in))
	}
}

// TestStressController runs the STRESS test controller on worker_dummy:
// every second it prints each GPU's transfers and inferences, with no
// errors, and it refuses clients.
func TestStressController(t *testing.T) {
	_, wport := startWorker(t, "-n", "2")
	c, cport := startController(t, "STRESS", []string{wport}, "-stress-model", zoo+"/resnet50_v2/model", "-stress-copies", "30")
	c.waitFor(`^STRESS: worker 0 holds 30 copies \(models 0-29\); stressing 2 GPUs$`, 10*time.Second)
	num := `[0-9]+\.[0-9]{2}`
	for _, what := range []string{"LoadWeights W0 GPU1 errors=0 profiled=[0-9]+", "Infer W0 GPU1 errors=0 profiled=[0-9]+"} {
		m := c.waitFor(`^`+what+` min=[0-9]+ max=[0-9]+ mean=`+num+` e2e=`+num+` e2emax=[0-9]+ throughput=(`+num+`) utilization=`+num+`$`, 10*time.Second)
		if tp, _ := strconv.ParseFloat(m[1], 64); tp < 10 {
			t.Errorf("%s: throughput %s", what, m[1])
		}
	}
	if c.has(`^(Infer|LoadWeights|EvictWeights) error `) {
		t.Error("errors printed")
	}
	cl, err := client.Connect("localhost:" + cport)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := cl.LS(); client.StatusOf(err) != client.StatusInvalidRequest {
		t.Fatalf("LS: %v", err)
	}

	// Another stress of the same worker takes the copies it holds.
	c.Stop()
	c2, _ := startController(t, "STRESS", []string{wport}, "-stress-model", zoo+"/resnet50_v2/model", "-stress-copies", "30")
	c2.waitFor(`^STRESS: worker 0 already holds 30 copies \(models 0-29\); stressing 2 GPUs$`, 10*time.Second)
	c2.waitFor(`^Infer W0 GPU0 errors=0 profiled=[0-9]+ min=`, 10*time.Second)
}

// TestDirectControllerSurvivesBadInput: DIRECT answers an Infer for a
// model worker 0 does not hold with 1 and one whose input does not
// decompress to the model's input size with 6, as the schedulers do (the
// original sent both on to the worker), and serves on.
func TestDirectControllerSurvivesBadInput(t *testing.T) {
	c, cport, m := directMLP(t)
	m.DisableInputs()
	raw := &rawClient{t: t, port: cport}
	for _, tc := range []struct {
		model  uint64
		input  []byte
		status int32
	}{
		{9999, nil, client.StatusFailed},
		{1 << 31, nil, client.StatusFailed},
		{uint64(m.ID()), make([]byte, 2<<20), client.StatusInvalidRequest}, // no LZ4 block of its input size
		{uint64(m.ID()), []byte("not lz4"), client.StatusInvalidRequest},
	} {
		if status := raw.inferWith(tc.model, tc.input); status != tc.status {
			t.Errorf("model %d, %d input bytes: status %d, want %d", tc.model, len(tc.input), status, tc.status)
		}
	}
	if _, err := m.Infer(nil); err != nil {
		t.Fatalf("DIRECT stopped serving: %v", err)
	}
	if c.has(`panic|fatal error`) || c.has(`^Worker  -> R[0-9]+:Error 7[0-9]: `) {
		t.Fatal("the controller panicked, or sent the worker an input it cannot decode")
	}
}
