#!/usr/bin/env bash
# localiam's load benchmark: start-up time, idle RSS, and req/s, p50, p99, errors and CPU per
# request of six IAM/STS workloads against a bare axum + SigV4 server (see the top of
# examples/loadtest.rs for what is measured and every option).
#   scripts/bench.sh                                   # full run, about 1 minute once built
#   scripts/bench.sh --smoke                           # a few seconds; exit 1 on any error
#   scripts/bench.sh --db /tmp/localiam-bench.db       # file database (deleted afterwards)
#   scripts/bench.sh --compare http://127.0.0.1:5000   # beside a running `moto_server -p 5000`
# The example builds the release localiam it starts (fat LTO: minutes after a source change).
# Everything runs on loopback; the server is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --release --quiet --example loadtest -- "$@"
