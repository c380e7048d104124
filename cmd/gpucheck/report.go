package main

import (
	"fmt"
	"math"
	"strings"
)

// Targets.
const (
	maxTorchRatio = 1.10 // exec p50 / PyTorch CUDA-graph p50 (fp32, TF32 off)
	maxGPUTail    = 1.05 // exec p99.9 / p50 (GPU time)
	maxE2ETail    = 1.15 // end-to-end p99.9 / p50
	minGBps       = 40   // LoadWeights copy rate
	maxRebindMs   = 1.0  // rebind per batch size (one mapping rebinds them all: its time over their number)
	maxPredErr    = 0.05 // INFER5 |expected − actual| / actual at p99
	maxCPUErr     = 1e-4 // relative to the CPU runtime
)

type checkReport struct {
	text string
	ok   bool
}

// target collects the failures of one target.
type target struct {
	name     string
	checked  int
	failures []string
	skip     string
}

func (t *target) check(ok bool, what string) {
	t.checked++
	if !ok {
		t.failures = append(t.failures, what)
	}
}

func (t *target) line() (string, bool) {
	switch {
	case t.skip != "":
		return fmt.Sprintf("SKIP %-42s %s", t.name, t.skip), true
	case t.checked == 0:
		return fmt.Sprintf("FAIL %-42s nothing was measured", t.name), false
	case len(t.failures) > 0:
		return fmt.Sprintf("FAIL %-42s %d of %d: %s", t.name, len(t.failures), t.checked, strings.Join(t.failures, "; ")), false
	}
	return fmt.Sprintf("PASS %-42s %d checked", t.name, t.checked), true
}

func report(runs []*modelRun, gcs []gcEvent, mach *machine, gpuErr error, i5 infer5Result, prof *torchProfile, o *options) checkReport {
	var b strings.Builder
	ratio := &target{name: fmt.Sprintf("exec p50 <= %.2f x PyTorch p50", maxTorchRatio)}
	gpuTail := &target{name: fmt.Sprintf("GPU p99.9/p50 <= %.2f", maxGPUTail)}
	e2eTail := &target{name: fmt.Sprintf("end-to-end p99.9/p50 <= %.2f", maxE2ETail)}
	if o.inflight > 1 {
		e2eTail.skip = fmt.Sprintf("-inflight %d: end-to-end times include queueing", o.inflight)
	}
	gbps := &target{name: fmt.Sprintf("LoadWeights >= %d GB/s", minGBps)}
	rebind := &target{name: fmt.Sprintf("rebind per batch size <= %.1f ms", maxRebindMs)}
	outputs := &target{name: "outputs (CPU 1e-4, reload identical, stable)"}
	models := &target{name: "every model and batch size ran"}
	pred := &target{name: fmt.Sprintf("INFER5 prediction error p99 <= %.0f%%", 100*maxPredErr)}
	var torch map[string]map[int]torchFigures
	if prof == nil {
		ratio.skip = "no PyTorch profile"
	} else {
		torch = prof.exec
		fmt.Fprintf(&b, "\nPyTorch figures: %s, torch %s (%s)\n", prof.device, prof.torch, prof.path)
		ratio.skip = prof.otherGPU(o.gpu)
	}

	fmt.Fprintf(&b, "\n%-13s %3s | %-37s %5s | %-23s %5s | %-17s %5s | %-13s | %6s | %s\n",
		"model", "b", "exec GPU ms: p50 p99 p99.9 max", "tail", "end-to-end ms: p50 p99 p99.9", "tail",
		"PyTorch p50 p99.9", "ratio", "LoadWeights", "rebind", "checks (in-worker ms p50/p99.9, copy-input stage p50, SM MHz, the machine's steal time in the row)")
	if gpuErr != nil {
		fmt.Fprintf(&b, "GPU check failed: %v\n", gpuErr)
		models.check(false, gpuErr.Error())
	}
	for _, mr := range runs {
		if mr.err != nil {
			fmt.Fprintf(&b, "%-13s     | %v\n", mr.name, mr.err)
			models.check(false, mr.name+": "+mr.err.Error())
			continue
		}
		for _, l := range mr.load {
			if l.err == nil && l.logged {
				gbps.check(l.line.gbps >= minGBps, fmt.Sprintf("%s %.1f GB/s", mr.name, l.line.gbps))
			}
		}
		if !math.IsNaN(mr.cpuErr) {
			outputs.check(mr.cpuErr <= maxCPUErr, fmt.Sprintf("%s b1 differs from the CPU by %.2g", mr.name, mr.cpuErr))
		}
		if mr.load[1].err != nil {
			outputs.check(false, fmt.Sprintf("%s reload: %v", mr.name, mr.load[1].err))
		}
		for i, r := range mr.rows {
			fmt.Fprintf(&b, "%-13s %3d | ", mr.name, r.batch)
			if r.err != nil {
				fmt.Fprintf(&b, "%v\n", r.err)
				models.check(false, fmt.Sprintf("%s b%d: %v", mr.name, r.batch, r.err))
				continue
			}
			models.check(true, "")
			gpuTail.check(r.exec.tail() <= maxGPUTail, fmt.Sprintf("%s b%d %.3f", mr.name, r.batch, r.exec.tail()))
			e2eTail.check(r.e2e.tail() <= maxE2ETail, fmt.Sprintf("%s b%d %.3f", mr.name, r.batch, r.e2e.tail()))
			fmt.Fprintf(&b, "%8.3f %8.3f %8.3f %8.3f %5.3f | %7.3f %7.3f %7.3f %5.3f | ",
				r.exec.p50, r.exec.p99, r.exec.p999, r.exec.max, r.exec.tail(), r.e2e.p50, r.e2e.p99, r.e2e.p999, r.e2e.tail())
			if t, ok := torch[mr.name][r.batch]; ok {
				q := r.exec.p50 / t.p50
				if ratio.skip == "" {
					ratio.check(q <= maxTorchRatio, fmt.Sprintf("%s b%d %.2f", mr.name, r.batch, q))
				}
				fmt.Fprintf(&b, "%8.3f %8.3f %5.2f | ", t.p50, t.p999, q)
			} else {
				fmt.Fprintf(&b, "%8s %8s %5s | ", "-", "-", "-")
			}
			// LoadWeights: the first load's time (with its rebind) and copy rate.
			if i == 0 && mr.load[0].logged {
				l := mr.load[0]
				fmt.Fprintf(&b, "%6.2fms %4.0fGB/s | ", float64(l.timing.Duration)/1e6, l.line.gbps)
			} else {
				fmt.Fprintf(&b, "%13s | ", "")
			}
			// Rebind: one mapping rebinds every batch size at once; the
			// slower of the two loads over the number of batch sizes, on
			// the first row (the whole mapping is on the model's line).
			rb := math.NaN()
			for _, l := range mr.load {
				if i == 0 && l.logged && l.line.mapped {
					rb = max(l.line.mapMs, nanToZero(rb))
				}
			}
			if !math.IsNaN(rb) {
				per := rb / float64(max(1, len(mr.info.BatchSizes)))
				rebind.check(per <= maxRebindMs, fmt.Sprintf("%s %.3f ms (%.3f ms for %d batch sizes)", mr.name, per, rb, len(mr.info.BatchSizes)))
				fmt.Fprintf(&b, "%6.3f | ", per)
			} else {
				fmt.Fprintf(&b, "%6s | ", "")
			}
			checks := []string{fmt.Sprintf("worker %.2f/%.2f, copy-in %.3f", r.worker.p50, r.worker.p999, r.copyIn.p50)}
			if r.clocks[0] == r.clocks[1] {
				checks = append(checks, fmt.Sprintf("%d MHz", r.clocks[0]))
			} else {
				checks = append(checks, fmt.Sprintf("%d-%d MHz", r.clocks[0], r.clocks[1]))
			}
			if r.stealOK {
				checks = append(checks, fmt.Sprintf("steal %d ms", r.steal.Milliseconds()))
			}
			if i == 0 && r.batch == 1 && !math.IsNaN(mr.cpuErr) {
				checks = append(checks, fmt.Sprintf("CPU %.1e", mr.cpuErr))
			}
			if r.changed > 0 {
				checks = append(checks, fmt.Sprintf("%d outputs changed", r.changed))
			}
			outputs.check(r.changed == 0, fmt.Sprintf("%s b%d: %d outputs differ from the first", mr.name, r.batch, r.changed))
			switch {
			case r.reloadErr != nil:
				checks = append(checks, "reload: "+r.reloadErr.Error())
				outputs.check(false, fmt.Sprintf("%s b%d after the reload: %v", mr.name, r.batch, r.reloadErr))
			case r.reloaded:
				if r.reloadSame {
					checks = append(checks, "reload identical")
				} else {
					checks = append(checks, "RELOAD DIFFERS")
				}
				outputs.check(r.reloadSame, fmt.Sprintf("%s b%d differs after the reload", mr.name, r.batch))
			}
			fmt.Fprintf(&b, "%s\n", strings.Join(checks, ", "))
		}
		if l := mr.load; l[0].logged && l[1].logged {
			fmt.Fprintf(&b, "%-13s     | LoadWeights %.2f ms (copy %.2f ms, %.1f GB/s) into pages [%s]; after eviction %.2f ms (copy %.2f ms) into [%s]\n",
				mr.name, float64(l[0].timing.Duration)/1e6, l[0].line.copyMs, l[0].line.gbps, l[0].line.pages,
				float64(l[1].timing.Duration)/1e6, l[1].line.copyMs, l[1].line.pages)
			// The mapping runs while the pages copy: what it adds to
			// LoadWeights is what the load took beyond the copy.
			if l[0].line.mapped && l[1].line.mapped {
				fmt.Fprintf(&b, "%-13s     | rebind: mapping for all %d batch sizes %.3f and %.3f ms, during the copy; LoadWeights − copy %.3f and %.3f ms\n",
					mr.name, len(mr.info.BatchSizes), l[0].line.mapMs, l[1].line.mapMs,
					l[0].line.totalMs-l[0].line.copyMs, l[1].line.totalMs-l[1].line.copyMs)
			}
			if l[0].line.pages == l[1].line.pages {
				outputs.check(false, mr.name+" was reloaded into the same pages")
			}
		}
	}

	if e2eTail.skip == "" {
		b.WriteString(anatomy(runs, gcs, mach))
	}

	switch {
	case i5.skipped != "":
		pred.skip = i5.skipped
		fmt.Fprintf(&b, "\nINFER5: skipped (%s)\n", i5.skipped)
	case i5.err != nil:
		pred.check(false, i5.err.Error())
		fmt.Fprintf(&b, "\nINFER5: %v\n", i5.err)
	default:
		pred.check(i5.p99 <= maxPredErr, fmt.Sprintf("p99 %.1f%%", 100*i5.p99))
		fmt.Fprintf(&b, "\nINFER5 (%v): %d Infers, %s; |expected - actual| / actual p50 %.2f%%, p99 %.2f%%; by batch size: %s\n",
			o.infer5, i5.rows, i5.errors(), 100*i5.p50, 100*i5.p99, i5.byBatch)
		for _, line := range i5.anatomy {
			b.WriteString(line + "\n")
		}
	}

	b.WriteString("\n")
	ok := true
	for _, t := range []*target{models, outputs, ratio, gpuTail, e2eTail, gbps, rebind, pred} {
		line, pass := t.line()
		ok = ok && pass
		fmt.Fprintln(&b, line)
	}
	return checkReport{text: b.String(), ok: ok}
}

func nanToZero(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}
