#!/bin/bash
# What `--auth enforce` adds to a GetUser, counted in instructions (deterministic, unlike the load
# benchmark's throughput on a shared machine). Runs the release binary under callgrind once per
# mode, creates the load benchmark's enforce user (10-statement policy, one tag) through boto3,
# zeroes the counters, makes N GetUser calls of itself, and prints the instructions per call.
#
#   cargo build --release --bin localiam && tools/callgrind_enforce.sh [N]
#
# callgrind hides SHA-NI: its software SHA-256 is counted (~48,000 instructions per request), so
# compare the modes by their difference. Needs valgrind and boto3.
set -euo pipefail
n=${1:-2000}
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${BIN:-$here/target/release/localiam}
# KEEP=DIR keeps the callgrind files there (for callgrind_annotate).
work=${KEEP:-$(mktemp -d)}
mkdir -p "$work"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
# The load benchmark's policy, so that both measure the same thing.
python3 - "$here/examples/loadtest.rs" > "$work/policy.json" <<'PY'
import re, sys
print(re.search(r'const ENFORCE_POLICY: &str = r#"(.*?)"#;', open(sys.argv[1]).read(), re.S).group(1))
PY
port=47200
for mode in open enforce; do
  port=$((port + 1))
  valgrind --tool=callgrind --callgrind-out-file="$work/cg.$mode.%p" \
    "$bin" --listen 127.0.0.1:$port --auth $mode > "$work/$mode.log" 2>&1 &
  vp=$!
  python3 - "$port" "$n" "$vp" "$work/policy.json" <<'PY'
import subprocess, sys, time, urllib.request
import boto3
port, n, pid, policy = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], open(sys.argv[4]).read()
url = f"http://127.0.0.1:{port}"
for _ in range(600):
    try:
        urllib.request.urlopen(url + "/_localiam/health", timeout=1)
        break
    except Exception:
        time.sleep(0.1)
client = lambda a, s: boto3.client("iam", endpoint_url=url, aws_access_key_id=a,
                                   aws_secret_access_key=s, region_name="us-east-1")
root = client("test", "test")
root.create_user(UserName="bench-cg", Tags=[{"Key": "team", "Value": "bench"}])
root.put_user_policy(UserName="bench-cg", PolicyName="p", PolicyDocument=policy)
k = root.create_access_key(UserName="bench-cg")["AccessKey"]
user = client(k["AccessKeyId"], k["SecretAccessKey"])
for _ in range(50):
    user.get_user(UserName="bench-cg")
subprocess.run(["callgrind_control", "-z", pid], capture_output=True, check=True)
for _ in range(n):
    user.get_user(UserName="bench-cg")
subprocess.run(["callgrind_control", "-d", pid], capture_output=True, check=True)
PY
  kill $vp; wait $vp 2>/dev/null || true
  total=$(grep -h '^summary' "$work"/cg.$mode.*.1 | awk '{print $2}')
  echo "$mode: $((total / n)) instructions per GetUser"
done
