package schedtest

import (
	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// fakeScheduler asks to be woken at each of wakes in turn.
type fakeScheduler struct {
	wakes  []int64
	ticked *[]int64
}

func (f *fakeScheduler) Infer(int64, *scheduler.Request)                 {}
func (f *fakeScheduler) Result(int64, int64, int, workerapi.Result)      {}
func (f *fakeScheduler) Sent(int64, int, int32, error)                   {}
func (f *fakeScheduler) WorkerLost(int64, int)                           {}
func (f *fakeScheduler) WorkerRejoined(int64, *scheduler.Worker)         {}
func (f *fakeScheduler) ClientGone(int64, func(*scheduler.Request) bool) {}
func (f *fakeScheduler) Tick(now int64)                                  { *f.ticked = append(*f.ticked, now); f.wakes = f.wakes[1:] }
func (f *fakeScheduler) Ready(out *scheduler.Output) {
	if len(f.wakes) > 0 {
		out.Wake = f.wakes[0]
	}
}
