package e2e

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/clockwork-go/clockwork/client"
)

// TestStartupAndEcho runs worker_dummy and an ECHO controller and drives
// them with the client library through the controller's startup phases.
func TestStartupAndEcho(t *testing.T) {
	w, wport := startWorker(t, "-n", "2")
	c, cport := startController(t, "ECHO", []string{wport})
	cl, err := client.Connect("localhost:" + cport)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	models, err := cl.LoadRemoteModels(zoo+"/resnet50_v2/model", 2)
	if err != nil || len(models) != 2 || models[1].ID() != 1 || models[0].InputSize() != 602112 {
		t.Fatalf("LoadRemoteModels = %v, %v", models, err)
	}
	if _, err := cl.LoadRemoteModel(zoo + "/nonexistent/model"); client.StatusOf(err) != client.StatusFailed {
		t.Fatalf("loading a missing model: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	all, err := cl.AwaitReady(ctx, nil)
	if err != nil || len(all) != 2 {
		t.Fatalf("AwaitReady = %d models, %v", len(all), err)
	}
	if _, err := cl.LoadRemoteModel(zoo + "/resnet18_v2/model"); client.StatusOf(err) != client.StatusInvalidRequest {
		t.Fatalf("loading after startup: %v", err)
	}
	if err := models[0].Evict(); client.StatusOf(err) != client.StatusInvalidRequest || !strings.Contains(err.Error(), "Evict is not supported by this controller") {
		t.Fatalf("evict: %v", err)
	}
	for i := 0; i < 10; i++ {
		if _, err := models[i%2].Infer(make([]byte, 602112)); err != nil {
			t.Fatal(err)
		}
	}
	for _, re := range []string{
		`^Starting Clockwork Controller$`,
		`^\(Startup-2\) Querying current worker state$`,
		`^GPU 1 21\.5 GB \(1376 pages\) 0 loaded models$`,
		`^Client  --> Req0:LoadModel path=.*/resnet50_v2/model$`,
		`^\(Startup-4\) LoadModelStage has begun$`,
		`^Worker  --> R0:LoadModelFromDisk input=602112 output=4000 weights=112\.0 MB \(7 pages\) xfer=8\.4 b1=3\.3 b2=5\.3 b4=7\.5 b8=12\.4 b16=21\.7 duration=`,
		`^Client <--  Rsp0:LoadModel model_id=\[0->1\] input=602112 output=4000$`,
		`^Client <--  Rsp1:LoadModel error 1: `,
		`^M-1 src=.*resnet50_v2/model input=602112 output=4000 weights=112\.0 MB \(7 pages\) xfer=8\.4 b1=3\.3`,
		`^\(Startup-end\) Transitioning to scheduler$`,
		`^ \* Admitting inference requests$`,
	} {
		c.waitFor(re, 5*time.Second)
	}
	// ECHO logs its requests, as the original (the 10 Infers above).
	reqLog := c.waitFor(`^Logging requests to (.*)$`, time.Second)[1]
	c.Stop()
	if b, err := os.ReadFile(reqLog); err != nil || strings.Count(string(b), "\n") != 11 {
		t.Errorf("request log %s (%v):\n%s", reqLog, err, b)
	}
	w.waitFor(`^Received A0:GetWorkerState$`, time.Second)
	w.waitFor(`^ GPU-1 weights_cache=21\.5GB \(1376 pages\) io_pool=512\.0MB workspace_pool=512\.0MB 0 models currently on GPU$`, time.Second)
	w.waitFor(`^Sending R1:Error 41|^Sending R0:LoadModelFromDisk`, time.Second)
}
