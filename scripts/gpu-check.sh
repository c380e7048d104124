#!/usr/bin/env bash
# Checks the CUDA runtime end to end on a GPU host with cmd/gpucheck: the
# generated zoo on the real worker, driven over the worker protocol (load,
# LoadWeights, inferences at every batch size, eviction, reload into other
# pages), outputs against the CPU runtime, latencies against PyTorch's on
# the same GPU (the profile in internal/model/profiles on an H200, else
# measured first by scripts/torch-profile.py), then INFER5 with the client. It
# prints a table and PASS/FAIL per target; with $OUT set the table goes to
# $OUT/gpu-check.txt, next to the processes' logs.
#
# The host has no Go: build on the development machine and carry the
# binaries in the git-ignored folder .devcarry/ (`make devcarry` builds
# them all and packs them into .devcarry/bin.tar.gz, which this script
# unpacks into a temporary folder; worker, genmodels, gpucheck, controller
# and client are needed, the tests, the worker's benchmark binary and
# gpuprobe optional).
#
# Usage: scripts/gpu-check.sh [gpucheck flags, e.g. -quick]
# (GPU_CHECK_SECONDS bounds the whole run; gpucheck's -budget follows
# from it unless given. GPU_CHECK_MAIN=0 skips the tests, the probe and
# the main run: only the experiments at the end run. GPU_CHECK_ONLY=RE
# runs only the experiments whose titles match the extended regular
# expression RE.)
# $GPUCHECK_BIN names the binaries' folder if it is elsewhere.
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
bin=${GPUCHECK_BIN:-$root/.devcarry}
if [ -f "$bin/bin.tar.gz" ]; then
	unpacked=$(mktemp -d "${TMPDIR:-/tmp}/gpu-check-bin.XXXXXX") && tar -C "$unpacked" -xzf "$bin/bin.tar.gz" || {
		echo "gpu-check.sh: cannot unpack $bin/bin.tar.gz" >&2
		exit 2
	}
	trap 'rm -rf "$unpacked"' EXIT
	bin=$unpacked
fi
for b in gpucheck worker genmodels; do
	if [ ! -x "$bin/$b" ]; then
		echo "gpu-check.sh: no $b in $bin (build them into .devcarry/, see the top of this script)" >&2
		exit 2
	fi
done

section() { printf '\n== %s\n' "$*"; }

# The whole script stays within GPU_CHECK_SECONDS (default 540, under the
# device's 600 s per call): the optional parts get short timeouts and are
# skipped when time runs short; gpucheck gets what is left but a minute.
deadline=$((SECONDS + ${GPU_CHECK_SECONDS:-540}))
left() { echo $((deadline - SECONDS)); }
max() { echo $(($1 > $2 ? $1 : $2)); }
min() { echo $(($1 < $2 ? $1 : $2)); }
# The optional parts before the main run start only while this much is
# left for it.
reserve=240

section nvidia-smi
nvidia-smi --query-gpu=index,name,driver_version,clocks.sm,clocks.max.sm,memory.total,memory.used --format=csv 2>/dev/null ||
	echo "nvidia-smi failed"
echo "CPUs: $(nproc) ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)); $(uname -r)"
# What tells a virtual machine's stalls from ours (gpucheck's stall probe
# reports them): the hypervisor flag, the clock source, cpuidle's driver.
echo "hypervisor flag: $(grep -q '^flags.* hypervisor' /proc/cpuinfo && echo yes || echo no);" \
	"clock source $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null || echo '?');" \
	"cpuidle $(cat /sys/devices/system/cpu/cpuidle/current_driver 2>/dev/null || echo '?');" \
	"transparent huge pages $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo '?')"

# The original's recommendations for workers (spec/worker.md §7.2).
export CUDA_CACHE_DISABLE=1
unset CUDA_FORCE_PTX_JIT CLOCKWORK_CONFIG_FILE
# Every worker of the run takes the ways of computing convolutions and
# Gemms that the first to load a geometry timed (CLOCKWORK_CUDA_CHOICES):
# a model loads in a fraction of the time after that (timing them is most
# of a Load), which leaves the experiments more of the device's time, and
# they run the kernels the main run ran. The file goes into logs.tgz.
export CLOCKWORK_CUDA_CHOICES=${CLOCKWORK_CUDA_CHOICES:-$(mktemp -d)/cuda-choices.json}

# The optional parts, each bounded: the bindings' and the runtime's tests
# on the GPU, and the probe's quick run (its vmm-remap check times what
# LoadWeights does to rebind a model's graphs).
main=${GPU_CHECK_MAIN:-1}
if [ "$main" = 0 ]; then
	reserve=$((1 << 30)) # no optional part starts
fi
if [ -x "$bin/cuda.test" ] && [ "$(left)" -gt "$reserve" ]; then
	section "internal/cuda tests on the GPU"
	(cd "$root/internal/cuda" && timeout 60 "$bin/cuda.test" -test.run '^TestGPU' -test.count=1 -test.v 2>&1 | grep -E '^(---|ok|FAIL|PASS)|_test\.go:[0-9]+:|Error|error' | tail -30)
fi
if [ -x "$bin/runtime-cuda.test" ] && [ "$(left)" -gt "$reserve" ]; then
	# About 40 tests, most of them 3-4 s on an H100 (each makes a runtime
	# and loads at four batch sizes); bounded so that the main run keeps
	# its reserve.
	section "internal/runtime/cuda tests on the GPU"
	start=$SECONDS
	(cd "$root/internal/runtime/cuda" && timeout "$(min 300 $(($(left) - reserve)))" "$bin/runtime-cuda.test" -test.run '^TestGPU|^TestExportedModelsOnGPU$' -test.count=1 -test.v 2>&1 |
		grep -E '^(--- |ok|FAIL|PASS)|_test\.go:[0-9]+:' | grep -v '_test\.go:[0-9]*: log:' | tail -60)
	echo "(the section took $((SECONDS - start)) s)"
fi
if [ -x "$bin/gpuprobe" ] && [ "$(left)" -gt "$reserve" ]; then
	section "gpuprobe -quick"
	timeout 90 "$bin/gpuprobe" -quick 2>&1 | grep -E '^(PASS|FAIL|SUMMARY)' | cut -c1-400
fi
# The worker's LZ4 decompression of client-like inputs on this machine's
# CPUs, what the copy-input stage of -lz4 rows spends (on an H100 one
# goroutine took 0.42-0.49 ms a ResNet item, sixteen 0.72-0.77 ms for 16),
# with one goroutine and with all. GOMAXPROCS rather than a -test.cpu
# list: with one, sub-benchmarks do not run at the GOMAXPROCS their names
# say (-cpu 1,2 ran both rows at 2).
if [ -x "$bin/worker.test" ] && [ "$(left)" -gt "$reserve" ]; then
	section "the worker's LZ4 decompression (BenchmarkDecodeInput), GOMAXPROCS 1 and $(nproc)"
	for procs in 1 "$(nproc)"; do
		(cd "$root/internal/worker" && GOMAXPROCS=$procs timeout 30 "$bin/worker.test" -test.run '^$' \
			-test.bench '^BenchmarkDecodeInput$' -test.benchtime 200x 2>&1 | grep -E '^(Benchmark|---|FAIL)')
	done
fi

# PyTorch's figures that the worker's exec times are compared with: the
# repository's profile of this GPU where it has one (the H200's zoo
# profile; torch_h100.json, the six models measured on an H100 by
# scripts/torch-profile.py), else measured on this GPU by that script
# before the main run (GPU_CHECK_TORCH=auto, the default; =on measures
# where a profile exists too, printing each figure against the stored
# one's, which still judges; =off never measures). gpucheck -gpu judges
# exec p50 only against figures of this GPU. GPU_CHECK_PYTHON names the
# Python with torch and torchvision, GPU_CHECK_TORCH_MODELS the models
# (default the main run's six).
gpu_name=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
profile_device() { sed -n 's/^ *"device": *"\([^"]*\)".*/\1/p' "$1" | head -1; }
h200=$root/internal/model/profiles/zoo_profile_h200.json
profile=$h200
for p in "$h200" "$root"/internal/model/profiles/torch_*.json; do
	if [ -f "$p" ] && [ -n "$gpu_name" ] && [ "$(profile_device "$p")" = "$gpu_name" ]; then
		profile=$p
		break
	fi
done
profile_gpu=$(profile_device "$profile")
measure=0
case ${GPU_CHECK_TORCH:-auto} in
on) measure=1 ;;
auto) [ "$main" != 0 ] && [ -n "$gpu_name" ] && [ "$gpu_name" != "$profile_gpu" ] && measure=1 ;;
esac
# It may take what the main run and the experiments can spare, 3 minutes
# at most (about 1 for the six models on an H200, an estimate).
room=$(($(left) - (main != 0 ? reserve : 60)))
room=$((room > 180 ? 180 : room))
if [ "$measure" = 1 ] && [ "$room" -lt 60 ]; then
	echo "gpu-check.sh: no time left to measure PyTorch on this GPU"
	measure=0
fi
if [ "$measure" = 1 ]; then
	section "PyTorch's CUDA-graph figures on this GPU ($gpu_name)"
	measured=${OUT:-$(mktemp -d)}/torch-profile.json
	if PYTHONUNBUFFERED=1 timeout "$room" \
		"${GPU_CHECK_PYTHON:-python3}" "$root/scripts/torch-profile.py" --out "$measured" --compare "$profile" \
		${GPU_CHECK_TORCH_MODELS:+--models "$GPU_CHECK_TORCH_MODELS"}; then
		if [ "$gpu_name" != "$profile_gpu" ]; then
			profile=$measured
		fi
	else
		echo "gpu-check.sh: PyTorch's figures were not measured here; exec p50 is judged only against figures of this GPU"
	fi
fi
gpu_flags=(-profile "$profile" -gpu "$gpu_name")

rc=0
if [ "$main" != 0 ]; then
	section "gpucheck $*"
	# gpucheck stops starting measurements after its -budget; the timeout is a
	# last resort for a hang.
	# Without a -budget of the caller's, measurements get what is left less
	# 100 s for INFER5 and the report.
	budget=()
	case " $* " in *" -budget"*) ;; *) budget=(-budget "$(max 60 $(($(left) - 170)))s") ;; esac
	# The harness waits for each result polling its socket (-spin-reads), as a
	# caller that spins would: a parked reader's wake-up is not the worker's
	# latency. The worker runs as configured by default (its reads park).
	timeout --kill-after=10 "$(max 120 $(($(left) - 70)))" "$bin/gpucheck" -bin "$bin" "${gpu_flags[@]}" \
		-spin-reads 50ms "${budget[@]}" "$@"
	rc=$?
	if [ "$rc" -ge 124 ]; then
		echo "gpu-check.sh: gpucheck did not finish in time (status $rc)"
	fi
	# Where each model's exec time goes (CLOCKWORK_CUDA_PROFILE_OPS, set by
	# gpucheck for its workers): all of it in ops.txt, the batch-1 breakdown
	# by op kind here.
	if [ -n "${OUT:-}" ] && [ -f "$OUT/worker.log" ]; then
		grep -h "cuda: ops" "$OUT/worker.log" >"$OUT/ops.txt"
		section "exec time by op kind, batch size 1 (all in ops.txt)"
		awk '/cuda: ops gpu=/ { keep = / b=1 ops=/ } keep && !/   #/' "$OUT/ops.txt" | sed 's/^cuda: ops //' | cut -c1-120
		# Convolutions that could not try some of cuDNN's algorithms for want
		# of workspace (the verbose Load lines).
		section "batch sizes whose convolutions were short of workspace"
		grep "cuda: Load gpu=" "$OUT/worker.log" | grep "workspace short" | while read -r line; do
			echo "$(echo "$line" | grep -o 'model=[^ ]*') $(echo "$line" | grep -o 'b[0-9]*=[0-9.]*ms[^ ]*{workspace short[^}]*}' | tr '\n' ' ')"
		done
	fi
fi
# Experiments, each a short gpucheck of its own beside the main run (OUT
# unset: the main run's report and logs stay), while time is left: first
# those whose answer could change a default (INFER5 without the gate and
# with other estimates; the end-to-end levers, one at a time against the
# default, then together), then those that only diagnose (-mix, the host
# path, polling reads, four Infers in flight):
#
# - INFER5 as configured (its estimate the 0.9 percentile of the last 20
#   measurements), with the original's estimate (0.99 of the last ten),
#   and ungated. The original's estimate carries each rare slow exec into
#   the next ten predictions: 7.4-7.8 % at p99 in three gated H200 runs;
#   on the H100 (2026-11-27) 7.1 % replayed from a run at 20:0.9, whose
#   own error was 4.0 %, and 19.0 % ungated. gpucheck's INFER5 report
#   breaks its slow execs down (what ran before, idle time, SM clock),
#   predicts its execs again with other estimates (bench.Replay), and
#   counts its failed Infers by status.
# - -mix, gated and ungated: fixed patterns of two copies at batch sizes 1
#   and 2, one at a time and two in flight, and one copy with the GPU idle
#   2 and 20 ms between execs; which of INFER5's differences (other
#   weights before, another batch size before, the next exec queued, idle
#   time) makes execs slow, and whether the gate does. Gated, no pattern
#   had more than 0.2 % slow on the H100; ungated, up to 7 %.
# - A bare round trip of an Infer's bytes over loopback TCP between two
#   processes (-netbase): the tail loopback itself adds, with no worker,
#   beside the worker's end to end as configured by default; then the same
#   round trips in the background of the worker's (-netbase-beside). On the
#   H100 loopback alone added 0.13-0.17 ms at p99.9 over p50 at batch size
#   1, the worker's ResNet-50 rows 0.46-4.4 ms: if the round trips beside
#   the worker grow as much, its activity slows the machine for everyone;
#   if not, the worker's way of taking its inputs is what grows.
# - The same with every CPU kept awake (-awake: a SCHED_IDLE thread spins
#   on each, so no virtual CPU halts): the stall probe saw most stalls
#   "not busy", no thread of the guest running, which is what a halted
#   virtual CPU that the host wakes late looks like. If the tails shrink
#   with it, they are the virtual machine's wake-ups; the steal time line
#   says whether the host took the CPUs meanwhile. On the H100: INFER5 had
#   no slow exec in two 60 s runs with every CPU awake (304 by default on
#   the same machine), but the end-to-end rows got worse (ResNet-50 b1
#   3.2-3.4 against 1.1-1.2); the worker's CPUs alone awake (--cpus,
#   --awake) cut INFER5's slow execs from 171 to 69 and left the rows in
#   their spread.
# - The host path alone (-overhead with imagenet_io, whose exec is a few
#   microseconds): is the end-to-end tail there without GPU work?
# - End to end as configured by default (the baseline of the next ones,
#   since the main run may be skipped); then with gpucheck's own reads
#   parked rather than polling its socket (every table so far polled:
#   the polls take the socket lock that gpucheck's writes of the inputs
#   need, as the worker's polls slowed its reads of them); with the
#   worker waiting for each input to arrive whole before reading it
#   (CLOCKWORK_LOWAT_READS: one wake-up for an input rather than one per
#   64 KB piece; on
#   the 2-core development machine a 9.6 MB round trip in one process
#   took 3.6 ms against 6.6), with 16 MiB socket buffers (CLOCKWORK_SOCKET_
#   BUFFER: an input crosses in one write, not in turns of the receiver's
#   window; no change there), with a quarter of the garbage collections
#   (GOGC=400, the worker's and gpucheck's: 66 of the 680 slow inferences
#   of the first H200 run met one of the worker's), and with the worker's
#   reads polling for 5 ms (CLOCKWORK_WORKER_SPIN_READS, measured before
#   while each poll still allocated).
# - MobileNetV2 with four Infers in the worker, gated and ungated: GPU
#   p99.9/p50 was 1.10-1.16 at b4, back to back, against 1.005 one at a
#   time.
# Every main-mode gpucheck watches the machine with its stall probe
# (internal/stalls: two threads pinned to the first and the last CPU
# waking from 1 ms sleeps) and says which slow inferences met a stall,
# and whether the probe's thread waited in the run queue meanwhile (the
# machine was busy) or not (no thread of the VM could run). The main run
# and the default end-to-end experiment first watch the machine alone for
# 2 s; the other experiments skip that.
nexp=0
experiment() {
	local title=$1 envs=$2
	shift 2
	if [ -n "${GPU_CHECK_ONLY:-}" ] && ! printf '%s\n' "$title" | grep -qE -- "$GPU_CHECK_ONLY"; then
		return
	fi
	if [ "$(left)" -lt 40 ]; then
		echo "gpu-check.sh: no time left for: $title"
		return
	fi
	section "$title"
	# The whole output goes into logs.tgz (experiment-N.txt), the lines
	# that answer the question to the console.
	nexp=$((nexp + 1))
	local raw=/dev/null
	[ -n "${OUT:-}" ] && raw=$OUT/experiment-$nexp.txt && echo "# $title ($envs) $*" >"$raw"
	OUT= env $envs timeout $(($(left) - 5)) "$bin/gpucheck" -bin "$bin" \
		"${gpu_flags[@]}" -spin-reads 50ms -stalls-idle 0 "$@" -budget "$(($(left) - 25))s" 2>&1 |
		tee -a "$raw" | grep -E '^(model |resnet|mobilenet|vgg|densenet|imagenet_io|netbase|pattern|one copy|two copies|mix:|overhead:|awake:)|^(PASS|FAIL) (GPU|end-to-end|INFER5)|^INFER5|worker error|^gpucheck:|^stall probe:|^End-to-end tails|^  (of the|the leg|they came|worker garbage|gpucheck.s own|machine stalls|steal time|slow inferences that met|[a-z0-9_]+ loaded in)|^    [a-z→]'
}
experiment "INFER5 (60 s) as configured by default" "" \
	-models resnet50 -batches 1 -n 100 -reload 10 -infer5 60s
experiment "INFER5 (30 s) with the original's estimate, the last 10 at 0.99" "" \
	-models resnet50 -batches 1 -n 100 -reload 10 -infer5 30s -infer5-estimate 10:0.99
experiment "INFER5 (15 s) without the exec gate" "CLOCKWORK_CUDA_GATE=off" \
	-models resnet50 -batches 1 -n 100 -reload 10 -infer5 15s
experiment "a bare loopback round trip (-netbase): the tail loopback itself adds" "" -netbase -n 1000
experiment "end to end as configured by default" "" \
	-models resnet50,mobilenet_v2 -batches 1,16 -n 1000 -reload 10 -infer5 0 -stalls-idle 2s
# The inputs as a client sends them and the controller forwards them to a
# worker (-lz4: image-like values, LZ4-compressed item by item, about 95
# KB of ResNet-50's 602 KB, decompressed by the worker), where every table
# so far sent random floats raw: the serving path's own end-to-end tail,
# with a sixth of the bytes on loopback and a decompression in the worker.
# On an H100 (2026-11-27) neither was within 1.15 (ResNet-50 b1 1.243 raw,
# 1.234 LZ4); with LZ4 the slow inferences grew most in the copy-input
# stage (0.52 ms p50 at b1, 1.6 ms at b16: the decompression), raw on the
# input's way to the worker. `scripts/gpu-check.sh -lz4` runs the main
# table so.
experiment "end to end with inputs as the controller forwards them (-lz4)" "" \
	-models resnet50,mobilenet_v2 -batches 1,16 -n 1000 -reload 10 -infer5 0 -lz4
experiment "end to end with bare round trips beside (-netbase-beside)" "" \
	-models resnet50,mobilenet_v2 -batches 1,16 -n 1000 -reload 10 -infer5 0 -netbase-beside
# NVML's clock reads are ioctls into the driver every 5 ms, the one thing
# the worker does to the machine at a steady rate whatever it serves:
# whether they slow the machine's loopback (the bare round trips beside)
# and the worker's own tail. On an H100 (2026-11-27) they did not: the
# round trips beside had p99.9 3.87 ms above p50 with the clocks read
# once, 3.54 ms with the poll, in consecutive calls.
experiment "end to end with bare round trips beside and the SM clocks read once (CLOCKWORK_CUDA_CLOCK_POLL=off)" "CLOCKWORK_CUDA_CLOCK_POLL=off" \
	-models resnet50,mobilenet_v2 -batches 1,16 -n 1000 -reload 10 -infer5 0 -netbase-beside
experiment "a bare loopback round trip with every CPU kept awake (-netbase -awake)" "" -netbase -n 1000 -awake
experiment "end to end with every CPU kept awake (-awake)" "" \
	-models resnet50,mobilenet_v2 -batches 1,16 -n 1000 -reload 10 -infer5 0 -awake
experiment "INFER5 (60 s) with every CPU kept awake (-awake)" "" \
	-models resnet50 -batches 1 -n 100 -reload 10 -infer5 60s -awake
# The worker's own --awake on every CPU: on an H100 (2026-11-27) no slow
# exec in 36,084 Infers (p99 0.56 %), against 23 in 35,661 (0.70 %) as
# configured by default in the next call, on a machine quiet for INFER5.
experiment "INFER5 (60 s) with the worker keeping every CPU awake (--awake)" "" \
	-models resnet50 -batches 1 -n 100 -reload 10 -infer5 60s -worker-flags "--awake"
# The worker's CPUs alone kept awake: the upper half of the CPUs but the
# last (the stall probe's), the worker pinned to them (--cpus, --awake).
ncpu=$(nproc)
wcpus="$((ncpu / 2))-$((ncpu - 2))"
if [ "$ncpu" -ge 4 ]; then
	experiment "INFER5 (60 s) with the worker's CPUs kept awake (--cpus $wcpus --awake)" "" \
		-models resnet50 -batches 1 -n 100 -reload 10 -infer5 60s -worker-flags "--cpus $wcpus --awake"
	experiment "end to end with the worker's CPUs kept awake (--cpus $wcpus --awake)" "" \
		-models resnet50,mobilenet_v2 -batches 1,16 -n 1000 -reload 10 -infer5 0 -worker-flags "--cpus $wcpus --awake"
	experiment "end to end with the worker on CPUs $wcpus (--cpus $wcpus)" "" \
		-models resnet50,mobilenet_v2 -batches 1,16 -n 1000 -reload 10 -infer5 0 -worker-flags "--cpus $wcpus"
fi
experiment "end to end with the worker waiting for whole inputs" "CLOCKWORK_LOWAT_READS=on" \
	-models resnet50,mobilenet_v2 -batches 1,16 -n 1000 -reload 10 -infer5 0
experiment "end to end with gpucheck's reads parked" "" \
	-models resnet50,mobilenet_v2 -batches 1,16 -n 1000 -reload 10 -infer5 0 -spin-reads 0
experiment "end to end with 16 MiB socket buffers" "CLOCKWORK_SOCKET_BUFFER=16777216" \
	-models resnet50,mobilenet_v2 -batches 1,16 -n 1000 -reload 10 -infer5 0
experiment "end to end with a quarter of the collections" "GOGC=400" \
	-models resnet50,mobilenet_v2 -batches 1,16 -n 1000 -reload 10 -infer5 0
experiment "end to end with whole inputs, 16 MiB socket buffers and a quarter of the collections" "CLOCKWORK_LOWAT_READS=on CLOCKWORK_SOCKET_BUFFER=16777216 GOGC=400" \
	-models resnet50,mobilenet_v2 -batches 1,16 -n 1000 -reload 10 -infer5 0
experiment "-mix: what INFER5's slow execs depend on, gated" "CLOCKWORK_CUDA_GATE=on" -mix -n 500
experiment "-mix without the exec gate" "CLOCKWORK_CUDA_GATE=off" -mix -n 500
experiment "the host path: -overhead, imagenet_io (next to no GPU work)" "" -overhead -models imagenet_io -batches 1,16 -n 1000
experiment "end to end with the worker's reads polling" "CLOCKWORK_WORKER_SPIN_READS=5ms" \
	-models resnet50,mobilenet_v2 -batches 1,16 -n 1000 -reload 10 -infer5 0
experiment "MobileNetV2, -inflight 4, gated" "CLOCKWORK_CUDA_GATE=on" \
	-models mobilenet_v2 -batches 1,4 -n 1000 -reload 10 -infer5 0 -inflight 4
experiment "MobileNetV2, -inflight 4, without the exec gate" "CLOCKWORK_CUDA_GATE=off" \
	-models mobilenet_v2 -batches 1,4 -n 1000 -reload 10 -infer5 0 -inflight 4
# The device hands back at most 8 files of $OUT: the smaller logs go into
# one archive beside the report, samples.csv, ops.txt and worker.log.
if [ -n "${OUT:-}" ]; then
	cp "$CLOCKWORK_CUDA_CHOICES" "$OUT/cuda-choices.json" 2>/dev/null
	(cd "$OUT" && logs=$(ls -d infer5-* experiment-* worker-new.log stalls.csv torch-profile.json cuda-choices.json 2>/dev/null; true) && [ -n "$logs" ] &&
		tar czf logs.tgz $logs && rm -rf $logs)
fi
exit $rc
