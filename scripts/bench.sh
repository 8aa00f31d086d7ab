#!/usr/bin/env bash
# Measures start-up time, idle memory and signed-GetUser throughput of a release build.
#   scripts/bench.sh [REQUESTS] [CONCURRENCY]
# Everything runs on loopback; the server is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
REQUESTS=${1:-100000}
CONCURRENCY=${2:-32}
cargo build --release --quiet --bin localiam --example loadtest
BIN=target/release/localiam
LOG=$(mktemp)
for MODE in open strict; do
  start=$(date +%s%N)
  "$BIN" --listen 127.0.0.1:0 --auth "$MODE" >"$LOG" 2>&1 &
  PID=$!
  until grep -q "ready on" "$LOG"; do sleep 0.001; done
  ready=$(date +%s%N)
  ADDR=$(grep -o "http://[0-9.:]*" "$LOG" | head -1)
  sleep 0.5
  RSS=$(awk '/VmRSS/{print $2}' /proc/$PID/status)
  echo "[$MODE] start-up to ready: $(( (ready - start) / 1000000 )) ms; idle RSS: $((RSS / 1024)) MiB ($RSS KiB)"
  target/release/examples/loadtest "$ADDR" "$REQUESTS" "$CONCURRENCY"
  RSS=$(awk '/VmRSS/{print $2}' /proc/$PID/status)
  echo "[$MODE] RSS after load: $((RSS / 1024)) MiB"
  kill -TERM $PID
  wait $PID || true
done
rm -f "$LOG"
