//go:build linux && cgo

package cuda

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	cu "github.com/clockwork-go/clockwork/internal/cuda"
	"github.com/clockwork-go/clockwork/internal/engine"
)

// opProfileTop is how many of the slowest ops the profile lists;
// opProfileReps how many runs of an op each timed graph holds.
const (
	opProfileTop  = 12
	opProfileReps = 4
)

// profileOps times each op of v on its own (in the profiling area with
// the weights at pages, replayed in a graph: builder.timedGraph) and writes where v's exec time goes to w: the total, the time
// by op kind and convolution choice, and the slowest ops. It is a
// diagnostic for Config.ProfileOps; the sum differs from the exec time by
// the input and output copies and the overlap of consecutive kernels. It
// also gives the host time of the exec's launch (variant.launchNs).
func (d *device) profileOps(w io.Writer, m *Model, v *variant, pages []cu.DevicePtr) error {
	b := d.load
	bind := v.lay.bind(d.prof, pages, d.zeros)
	bind.convSize = v.lay.convSize
	if err := b.useBLASWorkspace(bind.blas, bind.blasSize); err != nil {
		return err
	}
	type opTime struct {
		i     int
		group string
		t     time.Duration
	}
	times := make([]opTime, len(v.steps))
	var sum time.Duration
	for i, st := range v.steps {
		t, err := b.timedGraph(opProfileReps, func() error { return st.enqueue(b, d.k, &bind) })
		if err != nil {
			return fmt.Errorf("op %d: %w", i, err)
		}
		times[i] = opTime{i, opGroup(v.plan.Ops[i], st), t}
		sum += t
	}
	fmt.Fprintf(w, "cuda: ops gpu=%d model=%s b=%d ops=%d sum_ms=%.3f exec_ms=%.3f launch_ms=%.3f\n",
		d.id, m.path, v.batch, len(v.steps), ms(int64(sum)), ms(int64(v.execNs)), ms(int64(v.launchNs)))
	byGroup := map[string][]time.Duration{}
	for _, o := range times {
		byGroup[o.group] = append(byGroup[o.group], o.t)
	}
	groups := slices.SortedFunc(maps.Keys(byGroup), func(a, b string) int {
		return cmp.Compare(total(byGroup[b]), total(byGroup[a]))
	})
	for _, g := range groups {
		t := total(byGroup[g])
		fmt.Fprintf(w, "cuda: ops   %-40s %4d ops %8.3f ms %5.1f%%\n", g, len(byGroup[g]), ms(int64(t)), 100*float64(t)/float64(max(sum, 1)))
	}
	slices.SortStableFunc(times, func(a, b opTime) int { return cmp.Compare(b.t, a.t) })
	for _, o := range times[:min(opProfileTop, len(times))] {
		fmt.Fprintf(w, "cuda: ops   #%-3d %8.3f ms  %s\n", o.i, ms(int64(o.t)), opDetail(v.plan.Ops[o.i], v.steps[o.i]))
	}
	return nil
}

func total(ts []time.Duration) time.Duration {
	var s time.Duration
	for _, t := range ts {
		s += t
	}
	return s
}

// opGroup is the op's kind, with a convolution's shape class and choice,
// a Gemm's mode and a pool's kernel where it is not cuDNN's.
func opGroup(op engine.Op, st step) string {
	if g, ok := st.(*gemmStep); ok {
		return fmt.Sprintf("Gemm %s", g.mode)
	}
	if _, ok := st.(*poolKernelStep); ok {
		return "Pool pool2d"
	}
	c, ok := st.(*convStep)
	if !ok {
		return fmt.Sprint(op.Kind())
	}
	class := fmt.Sprintf("%dx%d", c.op.KernelH, c.op.KernelW)
	if c.op.Groups > 1 {
		class += " grouped"
		if c.op.Groups == c.op.X.Shape[1] {
			class = fmt.Sprintf("%dx%d depthwise", c.op.KernelH, c.op.KernelW)
		}
	}
	if c.pad != nil && c.choice.library() {
		class += " padded" // pad2d first
	}
	return fmt.Sprintf("Conv %s %s", class, c.choice)
}

// opDetail describes one op for the profile's list of the slowest.
func opDetail(op engine.Op, st step) string {
	if c, ok := st.(*convStep); ok {
		o := c.op
		return fmt.Sprintf("Conv %v→%v k%dx%d s%d g%d act %v: %s (%s)", o.X.Shape, o.Y.Shape, o.KernelH, o.KernelW,
			o.StrideH, o.Groups, o.Act.Kind, c.choice, op.Source())
	}
	if g, ok := st.(*gemmStep); ok {
		o := g.op
		return fmt.Sprintf("Gemm m%d n%d k%d: %s (%s)", o.M, o.N, o.K, g.mode, op.Source())
	}
	return fmt.Sprintf("%v %v (%s)", op.Kind(), op.Writes().Shape, op.Source())
}
