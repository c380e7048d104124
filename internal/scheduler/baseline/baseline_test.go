package baseline_test

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/scheduler/baseline"
	"github.com/clockwork-go/clockwork/internal/scheduler/schedtest"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

var ms = schedtest.Ms

func factory(cfg scheduler.Config, st *scheduler.State) (scheduler.Scheduler, error) {
	return baseline.New(cfg, st)
}

func warm(t *testing.T) *schedtest.Harness {
	st := schedtest.NewCluster(1, 1).Model(schedtest.ResNet50(), 1).Resident(0, 0, 0).State()
	return schedtest.New(t, factory, schedtest.Config(), st)
}

func TestBatchSizeGrowsAdditivelyAndHalvesWhenLate(t *testing.T) {
	h := warm(t)
	h.At(0).InferN(0, 40)

	// One Infer at a time; each batch that meets its SLO lets the next one
	// grow to the next supported size.
	for i, want := range []int{1, 2, 4, 8} {
		in := h.Infers()
		if len(in) != i+1 || int(in[i].Infer().BatchSize) != want {
			t.Fatalf("Infer %d: batch sizes so far %v, want the last to be %d", i, sizes(in), want)
		}
		if e, l := in[i].Infer().Window(); e != 0 || l != workerapi.NoLatest {
			t.Errorf("window [%d, %d], want unbounded", e, l)
		}
		h.After(ms(1)).Succeed(in[i], ms(1))
	}
	// The next batch of 8 finishes after its requests' 100 ms SLO: halve.
	h.At(ms(150)).Succeed(h.Infers()[4], ms(10))
	if got := sizes(h.Infers()); !slices.Equal(got, []int{1, 2, 4, 8, 8, 4}) {
		t.Errorf("batch sizes %v, want [1 2 4 8 8 4]", got)
	}
	for _, a := range h.Answers[15:23] {
		if a.Status != 0 || a.Departure <= a.Deadline {
			t.Errorf("late request answered %+v, want success after its deadline", a.Response)
		}
	}
}

func TestColdModelLoadsOnTheLeastQueuedGPUEvictingLRU(t *testing.T) {
	st := schedtest.NewCluster(1, 2).Pages(14).Model(schedtest.ResNet50(), 5).
		Resident(0, 0, 0, 1).Resident(0, 1, 2, 3).State()
	h := schedtest.New(t, factory, schedtest.Config(), st)

	h.At(0).InferN(0, 3) // GPU 0 now has queued requests
	h.Infer(3)           // model 3 on GPU 1 was used; model 2 was not
	h.Infer(4)

	ev, ld := h.Evicts(), h.Loads()
	if len(ev) != 1 || ev[0].Evict().ModelID != 2 || ev[0].Evict().GPU != 1 {
		t.Fatalf("evictions %v, want model 2 from GPU 1", ev)
	}
	if len(ld) != 1 || ld[0].Load().ModelID != 4 || ld[0].Load().GPU != 1 {
		t.Fatalf("loads %v, want model 4 onto GPU 1", ld)
	}
	r := h.Requests[len(h.Requests)-1]
	h.At(ms(4)).Succeed(h.Infers()[1], ms(4)) // model 3's
	h.At(ms(9)).Succeed(ld[0], ms(9))
	h.At(ms(13)).Succeed(h.Infers()[2], ms(4)) // model 4's
	if a := h.MustAnswer(r); a.Status != 0 || a.ArrivalCount != 0 || a.DepartureCount != 1 {
		t.Errorf("cold request answered %+v", a.Response)
	}
}

// TestColdModelsFillFreePagesFirst asks for four models one after the
// other on two empty GPUs with room for two each: among the GPUs with the
// fewest queued requests, a model goes where it fits without an eviction,
// so all four fit and nothing is evicted.
func TestColdModelsFillFreePagesFirst(t *testing.T) {
	st := schedtest.NewCluster(1, 2).Pages(14).Model(schedtest.ResNet50(), 4).State()
	h := schedtest.New(t, factory, schedtest.Config(), st)
	perGPU := map[uint32]int{}
	for m := range 4 {
		h.At(ms(float64(100 * m))).Infer(m)
		ld := h.Loads()[m]
		perGPU[ld.Load().GPU]++
		h.After(ms(9)).Succeed(ld, ms(9))
		h.After(ms(4)).Succeed(h.Infers()[m], ms(4))
	}
	if ev := h.Evicts(); len(ev) != 0 || perGPU[0] != 2 || perGPU[1] != 2 {
		t.Errorf("loads per GPU %v and %d evictions, want two on each and none", perGPU, len(ev))
	}
}

func TestWorkerErrorsReachTheClient(t *testing.T) {
	h := warm(t)
	rs := h.At(0).InferN(0, 2)
	h.After(ms(1)).Fail(h.Infers()[0], workerapi.ExecWeightsMissing, "weights not present")
	if a := h.MustAnswer(rs[0]); a.Status != workerapi.ExecWeightsMissing || a.Message != "weights not present" {
		t.Errorf("answer %+v, want the worker's error", a.Response)
	}
	h.After(ms(4)).Succeed(h.Infers()[1], ms(3))
	h.CheckExactlyOnce()
}

// TestInvalidModelIDs: a model id the scheduler does not know is answered
// at once, status 1, marked for the metrics.
func TestInvalidModelIDs(t *testing.T) {
	h := warm(t)
	for _, id := range []int{1, -1, 1 << 20} {
		r := h.Infer(id)
		if a := h.MustAnswer(r); a.Status != 1 || a.Message != "Invalid model ID" || !a.UnknownModel {
			t.Errorf("model %d: %+v, want status 1 Invalid model ID", id, a.Response)
		}
	}
	if len(h.Sends) != 0 {
		t.Errorf("sent %d actions for invalid models", len(h.Sends))
	}
}

func TestStartupLines(t *testing.T) {
	var log bytes.Buffer
	cfg := schedtest.Config()
	cfg.Log = &log
	baseline.PrintConfig(&log, cfg)
	if _, err := baseline.New(cfg, schedtest.NewCluster(2, 2).Model(schedtest.ResNet50(), 3).State()); err != nil {
		t.Fatal(err)
	}
	want := "BaselineScheduler using:\n\t default_slo=100000000\n\t max_batch_size=8\n\t max_gpus=100\n" +
		"Created 3 models\nCreated 4 GPUs on 2 Workers\n"
	if log.String() != want {
		t.Errorf("start-up lines:\n%s\nwant:\n%s", log.String(), want)
	}
}

// TestEveryRequestIsAnsweredOnce runs random workloads against faulty
// simulated workers, some with a GPU that breaks for good or a connection
// that is lost (the worker rejoining later).
func TestEveryRequestIsAnsweredOnce(t *testing.T) {
	for seed := range uint64(100) {
		rng := rand.New(rand.NewPCG(seed, 7))
		workers, gpus := 1+rng.IntN(2), 1+rng.IntN(2)
		st := schedtest.NewCluster(workers, gpus).Pages(14).Model(schedtest.ResNet50(), 1+rng.IntN(5)).State()
		sim := schedtest.NewSim(st)
		sim.Rand, sim.ErrorRate, sim.DropRate, sim.DupRate, sim.MaxJitter = rng, 0.05, 0.02, 0.02, ms(5)
		if rng.IntN(3) == 0 { // a GPU breaks for good
			sim.Break(rng.IntN(workers), rng.IntN(gpus), rng.Int64N(ms(1000)))
		}
		lost := schedtest.NewLoss(rng, workers, gpus, ms(500))
		h := schedtest.New(t, factory, schedtest.Config(), st).WithSim(sim)
		h.D.SendError = func(s scheduler.Send) error {
			if rng.IntN(30) == 0 || lost.Lost(s.Worker) {
				return errTransmit
			}
			return nil
		}
		now := int64(0)
		for range 200 {
			now += rng.Int64N(ms(5))
			lost.Play(h, sim, now)
			h.At(now).Infer(rng.IntN(len(st.Workers[0].Models) + 1))
		}
		h.At(now + ms(60_000))
		h.CheckExactlyOnce()
	}
}

type transmitError struct{}

func (transmitError) Error() string { return "connection dropped" }

var errTransmit = transmitError{}

func sizes(sends []schedtest.Sent) []int {
	var out []int
	for _, s := range sends {
		out = append(out, int(s.Infer().BatchSize))
	}
	return out
}

// TestHugeDefaultSLO: a default_slo meant as "none" (8e18 ns) is capped,
// so that a deadline on the controller's Unix clock does not wrap
// negative.
func TestHugeDefaultSLO(t *testing.T) {
	cfg := schedtest.Config()
	cfg.DefaultSLO = 8e18
	st := schedtest.NewCluster(1, 1).Model(schedtest.ResNet50(), 1).Resident(0, 0, 0).State()
	h := schedtest.New(t, factory, cfg, st)
	now := int64(1_750_000_000_000_000_000) // 2025, in Unix ns
	r := h.At(now).Infer(0)
	h.After(ms(1)).Succeed(h.Infers()[0], ms(1))
	if a := h.MustAnswer(r); a.Status != 0 || a.Deadline != now+1<<50 {
		t.Errorf("answer %+v, want success with the deadline 2^50 ns after arrival", a.Response)
	}
}

// TestLoadsQueuedOnALink: 130 cold models are asked for at once on one
// GPU, whose weights link takes 8.4 ms a load, about 1.1 s for all. Each
// load is expected after those before it, so none is given up while the
// worker is still loading it (11 were, at 1 s plus their own 8.4 ms, and
// their pages then counted free while the worker held them: of 22 more
// cold models, which need evictions, 10 failed with 53).
func TestLoadsQueuedOnALink(t *testing.T) {
	st := schedtest.NewCluster(1, 1).Pages(1000).Model(schedtest.ResNet50(), 152).State()
	sim := schedtest.NewSim(st)
	h := schedtest.New(t, factory, schedtest.Config(), st).WithSim(sim)
	h.At(0)
	for m := range 130 {
		h.Infer(m)
	}
	h.At(ms(2000))
	for m := 130; m < 152; m++ {
		h.Infer(m)
	}
	h.At(ms(4000))
	h.CheckExactlyOnce()
	statuses := map[int32]int{}
	for _, a := range h.Answers {
		statuses[a.Status]++
	}
	if statuses[0] != 152 {
		t.Errorf("answers by status %v, want all 152 successful", statuses)
	}
}

// TestLateLoadIsEvicted: a load given up on (no result within its
// expected time and the result timeout) whose success comes after all is
// evicted, as INFER5 does: the worker holds the weights in pages counted
// free here.
func TestLateLoadIsEvicted(t *testing.T) {
	st := schedtest.NewCluster(1, 1).Model(schedtest.ResNet50(), 1).State()
	h := schedtest.New(t, factory, schedtest.Config(), st)
	r := h.At(ms(10)).Infer(0)
	ld := h.Loads()[0]
	h.At(ms(2000))
	if a := h.MustAnswer(r); a.Status != 4 {
		t.Fatalf("answer %+v, want status 4 after the load was given up", a.Response)
	}
	h.Succeed(ld, ms(8.372))
	if ev := h.Evicts(); len(ev) != 1 || ev[0].Evict().ModelID != 0 {
		t.Errorf("evictions %v, want model 0's", ev)
	}
}

// TestResidentListedTwice: a worker listing a model twice among a GPU's
// resident ones has it once (its pages were taken twice, and the next
// model evicted it for room it had).
func TestResidentListedTwice(t *testing.T) {
	st := schedtest.NewCluster(1, 1).Pages(14).Model(schedtest.ResNet50(), 2).Resident(0, 0, 0).Resident(0, 0, 0).State()
	h := schedtest.New(t, factory, schedtest.Config(), st)
	h.At(0).Infer(1)
	if len(h.Loads()) != 1 || len(h.Evicts()) != 0 {
		t.Errorf("%d loads and %d evictions, want model 1 loaded into the free pages", len(h.Loads()), len(h.Evicts()))
	}
}

// TestResultReceivedIsWhenItArrived: the action log's result_received is
// when the result reached the controller, processed when it was taken up.
func TestResultReceivedIsWhenItArrived(t *testing.T) {
	h := warm(t)
	h.At(0).Infer(0)
	s := h.Infers()[0]
	h.After(ms(5)).ResultAt(ms(3), s.Worker, &workerapi.InferResult{ID: s.Action.ActionID(), GPUClock: 1380})
	if len(h.Actions) != 1 || h.Actions[0].ResultReceived != ms(3) || h.Actions[0].Processed != ms(5) {
		t.Fatalf("records %+v, want one received at 3 ms, processed at 5 ms", h.Actions)
	}
}

// TestClientGoneRequestsDoNotRun: client A queues 40 requests and
// disconnects while its first batch runs. That batch is answered as usual;
// A's other requests at once, status 1, and never run; B's request, sent
// next, is the only one the GPU runs after that.
func TestClientGoneRequestsDoNotRun(t *testing.T) {
	h := warm(t)
	as := h.At(0).InferN(0, 40, schedtest.Tag("A"))
	first := h.Infers()
	if len(first) != 1 {
		t.Fatalf("%d Infers for A's requests, want 1 (batch size 1 to start)", len(first))
	}
	h.After(ms(1)).ClientGone("A")
	b := h.Infer(0, schedtest.Tag("B"))
	for done := 0; done < len(h.Infers()); done++ {
		h.After(ms(4)).Succeed(h.Infers()[done], ms(3))
	}
	ran := 0
	for _, s := range h.Infers()[1:] {
		ran += int(s.Infer().BatchSize)
	}
	if ran != 1 {
		t.Errorf("after A left the GPU ran batches of %v, want only B's request", sizes(h.Infers()[1:]))
	}
	if a := h.MustAnswer(b); a.Status != 0 {
		t.Errorf("B's request: %+v", a.Response)
	}
	for i, r := range as {
		a := h.MustAnswer(r)
		if want := int32(1); i < int(first[0].Infer().BatchSize) {
			want = 0
			if a.Status != want {
				t.Errorf("A's request %d, in flight when A left: %+v", i, a.Response)
			}
		} else if a.Status != want || a.Message != scheduler.ClientGoneMessage {
			t.Errorf("A's request %d, queued when A left: %+v", i, a.Response)
		}
	}
	h.CheckExactlyOnce()
}
