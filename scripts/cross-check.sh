#!/usr/bin/env bash
# The code whose floating-point results tests pin to the bit, built as
# other machines build it:
#
#   - internal/engine/cpuexec (its C kernels) with clang: cgo's compiler
#     on macOS, and on Linux where CC=clang. Clang ignores GCC's
#     optimize attribute and contracts a·x + b into one multiply-add by
#     default; the activations must not.
#   - internal/engine/cpuexec with GCC 11 (Ubuntu 22.04's), the oldest
#     GCC it is built with: GCC 12 added builtins the kernels might use.
#   - for arm64 (a Grace Hopper's CPU, Apple silicon), run under
#     qemu-user: the C kernels on their base vectors (NEON), built by GCC
#     and by clang, and the Go code, which the compiler fuses into
#     multiply-adds there and not on amd64 (the scheduler's estimates,
#     the activations' reference).
#
# Each part runs where its tools are (clang or clang-14; gcc-11;
# aarch64-linux-gnu-gcc and qemu-aarch64, Debian's gcc-aarch64-linux-gnu
# and qemu-user) and says so where they are not. `make test` runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

# The tests that pin results: every kernel against Go on each instruction
# set, and the operators and convolutions against the reference.
kernels='ISAs|Epilogue|Geometries|IsApply|Operators'

clang=$(command -v clang || command -v clang-14 || true)
if [ -n "$clang" ]; then
	echo "cross-check: internal/engine/cpuexec built with $clang"
	CC=$clang $GO test -count=1 -run "$kernels" ./internal/engine/cpuexec
else
	echo "cross-check: no clang; the kernels were not built with it"
fi

if command -v gcc-11 >/dev/null; then
	echo "cross-check: internal/engine/cpuexec built with gcc-11"
	CC=gcc-11 $GO test -count=1 -run "$kernels" ./internal/engine/cpuexec
else
	echo "cross-check: no gcc-11; the kernels were not built with it"
fi

# arm64_test runs go test for arm64 under qemu-user (which finds arm64's
# dynamic loader and libc under -L), CC being the C compiler. Go programs
# under qemu-user now and then hang, every goroutine asleep
# (golang/go#70329, golang/go#67355). Here it happened twice on
# 2026-11-29, in clang's arm64 run: the Workers' caller and helpers each
# asleep waiting for the other's wake-up (a store and a load that Go's
# atomics keep in order, emulated out of order, is one way); their
# sleepers now check again now and then, from 5 ms on (cpuexec's
# sleeper). A run that times out so is run once more, and said; a test
# that fails fails. ARM64_TIMEOUT (5m by default) is each run's timeout.
arm64_test() {
	local cc=$1 out
	shift
	out=$(mktemp)
	if GOARCH=arm64 CGO_ENABLED=1 CC="$cc" $GO test -count=1 -timeout "${ARM64_TIMEOUT:-5m}" \
		-exec "qemu-aarch64 -L /usr/aarch64-linux-gnu" "$@" 2>&1 | tee "$out"; then
		rm -f "$out"
		return 0
	fi
	if grep -q '^panic: test timed out' "$out"; then
		rm -f "$out"
		echo "cross-check: timed out under qemu-user (its hangs: see above); once more"
		GOARCH=arm64 CGO_ENABLED=1 CC="$cc" $GO test -count=1 -timeout "${ARM64_TIMEOUT:-5m}" \
			-exec "qemu-aarch64 -L /usr/aarch64-linux-gnu" "$@"
		return
	fi
	rm -f "$out"
	return 1
}

if command -v aarch64-linux-gnu-gcc >/dev/null && command -v qemu-aarch64 >/dev/null; then
	echo "cross-check: arm64 under qemu-user"
	arm64_test aarch64-linux-gnu-gcc -run "$kernels" ./internal/engine/cpuexec
	arm64_test aarch64-linux-gnu-gcc ./internal/scheduler/... ./internal/simulate ./internal/runtime/cpu
	if [ -n "$clang" ]; then
		# As a Mac with Apple silicon builds the kernels: clang for arm64.
		echo "cross-check: internal/engine/cpuexec built with $clang for arm64"
		arm64_test "$clang --target=aarch64-linux-gnu" -run "$kernels" ./internal/engine/cpuexec
	fi
else
	echo "cross-check: no aarch64-linux-gnu-gcc or qemu-aarch64; arm64 not run"
fi
