# Sourced by the scripts that run a local cluster: background processes
# in pids are interrupted, then killed, when the script exits (or when it
# calls stop_all itself).
pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  sleep 1
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
}
trap stop_all EXIT
