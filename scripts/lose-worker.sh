#!/usr/bin/env bash
# Loses a worker under load and brings it back, on loopback without GPUs:
# two worker_dummy processes with one GPU each, the INFER5 controller and a
# client running `simple`. Worker 1 is killed (SIGKILL) after LOSE_AT
# seconds and a new one started at its address after RESTART_AT; the run
# ends at END seconds. Prints the controller's client lines (throughput,
# success) and what it said about the workers. BUILD (default build/)
# holds the binaries and the zoo; `make` builds them.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
LOSE_AT=${LOSE_AT:-12} RESTART_AT=${RESTART_AT:-24} END=${END:-40}
P0=${P0:-23451} P1=${P1:-23452} PC=${PC:-23460}
export CLOCKWORK_MODEL_DIR=${CLOCKWORK_MODEL_DIR:-$PWD/build/zoo}
out=$(mktemp -d)
export CLOCKWORK_LOG_DIR=$out
. scripts/procs.sh
"$BUILD/worker_dummy" -n 1 -p "$P0" >"$out/worker0.txt" 2>&1 & pids+=($!)
"$BUILD/worker_dummy" -n 1 -p "$P1" >"$out/worker1.txt" 2>&1 & w1=$!; pids+=($w1)
sleep 0.5
"$BUILD/controller" -port "$PC" INFER5 "localhost:$P0,localhost:$P1" >"$out/controller.txt" 2>&1 & c=$!; pids+=($c)
sleep 0.5
"$BUILD/client" "localhost:$PC" simple >"$out/client.txt" 2>&1 & cl=$!; pids+=($cl)
sleep "$LOSE_AT"
kill -KILL "$w1"
wait "$w1" 2>/dev/null || true
sleep $((RESTART_AT - LOSE_AT))
"$BUILD/worker_dummy" -n 1 -p "$P1" >"$out/worker1-again.txt" 2>&1 & pids+=($!)
sleep $((END - RESTART_AT))
kill -INT "$cl" "$c" # before the workers, so that it does not report them lost
wait "$cl" "$c" 2>/dev/null || true
stop_all
grep -E "Client throughput|is down|back in service|rejoined|Lost connection" "$out/controller.txt" || true
echo "(logs in $out)"
