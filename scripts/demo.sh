#!/usr/bin/env bash
# Runs Clockwork on loopback without GPUs, as the user's first-run document
# does on three machines: worker_dummy simulating 2 GPUs, the INFER5
# controller and a client running the `simple` workload. Each process's
# output is prefixed with its name. Stops everything after DEMO_SECONDS.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SECONDS_TO_RUN=${DEMO_SECONDS:-30}
WORKER_PORT=${WORKER_PORT:-12345}
CLIENT_PORT=${CLIENT_PORT:-12346}
export CLOCKWORK_MODEL_DIR=${CLOCKWORK_MODEL_DIR:-$PWD/$BUILD/zoo}
export CLOCKWORK_LOG_DIR=${CLOCKWORK_LOG_DIR:-$PWD/$BUILD/logs}
mkdir -p "$CLOCKWORK_LOG_DIR"

. scripts/procs.sh

names=()
run() { # name command...
  local name=$1; shift
  "$@" > >(sed -u "s/^/[$name] /") 2>&1 &
  pids+=("$!")
  names+=("$name")
}

# alive fails the demo if a process it started has exited: most often a
# port another program holds (the controller would otherwise drive
# whatever listens on the worker's port).
alive() {
  local i rc
  for i in "${!pids[@]}"; do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
      rc=0
      wait "${pids[$i]}" || rc=$?
      echo "demo: the ${names[$i]} exited (status $rc); is a port taken? Set WORKER_PORT (now $WORKER_PORT) or CLIENT_PORT (now $CLIENT_PORT)." >&2
      exit 1
    fi
  done
}

echo "Running Clockwork for ${SECONDS_TO_RUN}s: worker_dummy -n 2, controller INFER5, client simple"
echo "Model zoo: $CLOCKWORK_MODEL_DIR   Telemetry: $CLOCKWORK_LOG_DIR"
run worker "$BUILD/worker_dummy" -n 2 -p "$WORKER_PORT"
sleep 0.5
alive
run controller "$BUILD/controller" -port "$CLIENT_PORT" INFER5 "localhost:$WORKER_PORT"
sleep 0.5
alive
run client "$BUILD/client" "localhost:$CLIENT_PORT" simple
sleep "$SECONDS_TO_RUN"
alive
echo "Stopping."
