#!/usr/bin/env bash
# Runs cmd/gpuprobe on a GPU host, after printing what the CUDA bindings
# will find there, so that one run tells whether they work.
#
# The host has no Go: build on the development machine and carry the
# binaries in a git-ignored folder:
#
#   CGO_ENABLED=1 go build -o .devcarry/gpuprobe ./cmd/gpuprobe
#   CGO_ENABLED=1 go test -c -o .devcarry/cuda.test ./internal/cuda   # optional
#
# Usage: scripts/gpuprobe.sh [gpuprobe flags, e.g. -quick]
# $GPUPROBE names the binary if it is elsewhere.
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${GPUPROBE:-}
if [ -z "$bin" ]; then
	for b in "$root/.devcarry/gpuprobe" "$root/build/gpuprobe"; do
		if [ -x "$b" ]; then bin=$b; break; fi
	done
fi
if [ -z "$bin" ]; then
	echo "gpuprobe.sh: no gpuprobe binary in .devcarry/ or build/ (set GPUPROBE)" >&2
	exit 2
fi

section() { printf '\n== %s\n' "$*"; }

section nvidia-smi
nvidia-smi || echo "nvidia-smi failed"
nvidia-smi --query-gpu=index,name,pci.bus_id,driver_version,persistence_mode,compute_mode,clocks.sm,clocks.max.sm,clocks.applications.graphics,pcie.link.width.current,memory.total,memory.used \
	--format=csv 2>/dev/null

section "libraries known to the loader"
ldconfig -p | grep -E 'libcudnn|libcublas|libnvrtc|libcuda\.|libnvidia-ml' || echo "(none)"

section "library files"
timeout 20 find /usr /opt /lib /lib64 /root /home -xdev \( -name 'libcudnn.so.9*' -o -name 'libcudnn_*.so.9' -o -name 'libcublas*.so.1[0-9]*' \
	-o -name 'libnvrtc*.so.1[0-9]*' -o -name 'libcuda.so.1' -o -name 'libnvidia-ml.so.1' \) 2>/dev/null | sort | head -40

section environment
# Recommended for Clockwork workers; the probe needs no JIT cache.
export CUDA_CACHE_DISABLE=1
unset CUDA_FORCE_PTX_JIT
echo "CUDA_CACHE_DISABLE=$CUDA_CACHE_DISABLE LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-} CLOCKWORK_CUDA_LIB_DIR=${CLOCKWORK_CUDA_LIB_DIR:-}"
echo "CPUs: $(nproc); $(uname -r); $(ldd --version 2>/dev/null | head -1)"

section "$bin $*"
"$bin" "$@"
rc=$?

tests="$(dirname "$bin")/cuda.test"
if [ -x "$tests" ]; then
	section "$tests -test.run '^TestGPU' (internal/cuda tests that need a GPU)"
	(cd "$root/internal/cuda" && "$tests" -test.run '^TestGPU' -test.v -test.count=1 2>&1 | tail -40)
fi
exit $rc
