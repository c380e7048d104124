#!/usr/bin/env python3
"""PyTorch's CUDA-graph figures for torchvision models on this machine's GPU.

The GPU check compares the real worker's exec times with PyTorch's for the
same model and batch size on the same GPU (fp32, TF32 off). The repository
holds an H200's figures (internal/model/profiles/zoo_profile_h200.json); on
another GPU, scripts/gpu-check.sh runs this first and compares with what it
measures here. The output has that file's format, so gpucheck -profile
reads either:

  {"device", "torch", "reps", "dtype", "cudnn_benchmark", "tf32",
   "models": [{"model", "input_shape", "input_bytes", "weights_bytes",
               "weights_pages_16MiB", "xfer_ms_median", "xfer_ms_min",
               "exec": {"1": {"min", "p50", "p99", "p999", "max",
                              "output_bytes"}, ...}}]}

Each model has random weights (exec time does not depend on their values)
and runs in eval mode. Per batch size the forward pass is captured once
into a CUDA graph after a few eager warm-up passes, and each replay is
timed with CUDA events around it, one replay at a time. Percentiles take
the sorted sample at index int(q * n), as the repository's file does (its
p99.9 of 200 replays is their max). weights_bytes counts parameters and
buffers; xfer is one pinned host-to-device copy of that many bytes.

Usage: torch-profile.py --out FILE [--models a,b] [--batches 1,2,4,8,16]
       [--reps 200] [--cudnn-benchmark] [--compare PROFILE]
--compare prints each figure against another profile's (the H200 file, to
see what this GPU does differently, or on an H200 whether this script
measures what that file holds).
"""

import argparse
import json
import math
import sys
import time

DEFAULT_MODELS = "resnet18,resnet50,resnet152,mobilenet_v2,vgg16,densenet121"
PAGE = 16 << 20


def pct(xs, q):
    """The sample at index int(q * n) of sorted xs."""
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def summary(times):
    times = sorted(times)
    return {
        "min": times[0],
        "p50": pct(times, 0.5),
        "p99": pct(times, 0.99),
        "p999": pct(times, 0.999),
        "max": times[-1],
    }


def timed(torch, fn, reps):
    """fn's GPU time in ms, reps times, one at a time."""
    start = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)
    out = []
    for _ in range(reps):
        start.record()
        fn()
        end.record()
        end.synchronize()
        out.append(start.elapsed_time(end))
    return out


def exec_figures(torch, model, batch, shape, reps, warmup):
    x = torch.randn(batch, *shape, device="cuda")
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.no_grad():
        with torch.cuda.stream(side):
            for _ in range(warmup):
                model(x)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            y = model(x)
    torch.cuda.synchronize()
    for _ in range(warmup):
        graph.replay()
    torch.cuda.synchronize()
    fig = summary(timed(torch, graph.replay, reps))
    fig["output_bytes"] = y.numel() * y.element_size()
    del graph, x, y
    return fig


def xfer_figures(torch, nbytes, reps=10):
    host = torch.empty(nbytes, dtype=torch.uint8, pin_memory=True)
    dev = torch.empty(nbytes, dtype=torch.uint8, device="cuda")
    times = sorted(timed(torch, lambda: dev.copy_(host, non_blocking=True), reps))
    del host, dev
    return times[len(times) // 2], times[0]


def profile_model(torch, torchvision, name, batches, reps, warmup):
    ctor = getattr(torchvision.models, name, None)
    if ctor is None:
        raise ValueError(f"torchvision has no model {name!r}")
    shape = (3, 299, 299) if name == "inception_v3" else (3, 224, 224)
    model = ctor(weights=None).cuda().eval()
    weights = sum(t.numel() * t.element_size() for t in list(model.parameters()) + list(model.buffers()))
    xfer_median, xfer_min = xfer_figures(torch, weights)
    entry = {
        "model": name,
        "input_shape": list(shape),
        "input_bytes": 4 * math.prod(shape),
        "weights_bytes": weights,
        "weights_pages_16MiB": -(-weights // PAGE),
        "xfer_ms_median": xfer_median,
        "xfer_ms_min": xfer_min,
        "exec": {},
    }
    for b in batches:
        entry["exec"][str(b)] = exec_figures(torch, model, b, shape, reps, warmup)
    del model
    torch.cuda.empty_cache()
    return entry


def compare(measured, path):
    with open(path) as f:
        other = json.load(f)
    rows = {m["model"]: m["exec"] for m in other.get("models", [])}
    print(f"against {path} ({other.get('device', '?')}, torch {other.get('torch', '?')}): p50 here / p50 there")
    for m in measured["models"]:
        theirs = rows.get(m["model"], {})
        cells = []
        for b, fig in m["exec"].items():
            t = theirs.get(b)
            cells.append(f"b{b} {fig['p50'] / t['p50']:.3f}" if t else f"b{b} -")
        print(f"  {m['model']:<13} " + "  ".join(cells))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="where to write the profile (JSON)")
    ap.add_argument("--models", default=DEFAULT_MODELS, help="torchvision model names, comma-separated")
    ap.add_argument("--batches", default="1,2,4,8,16", help="batch sizes, comma-separated")
    ap.add_argument("--reps", type=int, default=200, help="timed replays per model and batch size")
    ap.add_argument("--warmup", type=int, default=3, help="eager passes before the capture, and replays after it")
    ap.add_argument("--cudnn-benchmark", action="store_true", help="let cuDNN time its algorithms (PyTorch's default is off)")
    ap.add_argument("--compare", help="a profile to print these figures against")
    args = ap.parse_args()
    try:
        batches = [int(b) for b in args.batches.split(",") if b.strip()]
    except ValueError:
        ap.error(f"--batches {args.batches!r}: want integers, as 1,2,4")
    if not batches or min(batches) < 1 or args.reps < 1 or args.warmup < 1:
        ap.error("want batch sizes, --reps and --warmup of at least 1")

    try:
        import torch
        import torchvision
    except ImportError as e:
        print(f"torch-profile.py: {e}", file=sys.stderr)
        return 2
    if not torch.cuda.is_available():
        print("torch-profile.py: PyTorch sees no GPU", file=sys.stderr)
        return 2
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = args.cudnn_benchmark
    torch.manual_seed(0)

    out = {
        "device": torch.cuda.get_device_name(),
        "torch": torch.__version__,
        "reps": args.reps,
        "dtype": "float32",
        "cudnn_benchmark": args.cudnn_benchmark,
        "tf32": False,
        "models": [],
    }
    print(f"PyTorch {out['torch']} on {out['device']}: CUDA-graph replays, fp32, TF32 off, "
          f"cudnn.benchmark {args.cudnn_benchmark}, {args.reps} replays per batch size", flush=True)
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        t0 = time.monotonic()
        try:
            entry = profile_model(torch, torchvision, name, batches, args.reps, args.warmup)
        except Exception as e:  # one model's failure (memory, a missing model) leaves the others
            print(f"  {name}: {type(e).__name__}: {e}", flush=True)
            torch.cuda.empty_cache()
            continue
        out["models"].append(entry)
        cells = "  ".join(f"b{b} {f['p50']:.3f}/{f['p999']:.3f}" for b, f in entry["exec"].items())
        print(f"  {name:<13} p50/p99.9 ms: {cells}  ({time.monotonic() - t0:.1f} s)", flush=True)
    if not out["models"]:
        print("torch-profile.py: no model was measured", file=sys.stderr)
        return 1
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
    if args.compare:
        try:
            compare(out, args.compare)
        except (OSError, ValueError, KeyError, ZeroDivisionError) as e:
            print(f"torch-profile.py: --compare {args.compare}: {e}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
