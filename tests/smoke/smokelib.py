"""Helpers shared by the smoke scripts: named checks, boto3 clients and AWS CLI calls against one
localiam endpoint, with no retries (an error must surface at once)."""
import json
import os
import subprocess
import sys

import boto3
from botocore.config import Config

FAILURES = []
BOTO_CONFIG = Config(region_name="us-east-1", retries={"total_max_attempts": 1, "mode": "standard"})


def check(cond, what, detail=None):
    """Records one named check; prints `ok` or `FAIL` with the detail."""
    if cond:
        print(f"ok   {what}")
    else:
        FAILURES.append(what)
        print(f"FAIL {what}" + (f": {detail}" if detail is not None else ""))


def client(endpoint, service, key="test", secret="test", token=None):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=BOTO_CONFIG,
    )


def cli(endpoint, *args):
    """Runs `aws … --output json` as the default root and returns its parsed output."""
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
               AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
    out = subprocess.run(["aws", "--endpoint-url", endpoint, "--output", "json", *args],
                         capture_output=True, text=True, env=env, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout)


def finish(name):
    """Exits 1 when a check failed, 0 otherwise."""
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed")
        sys.exit(1)
    print(f"all {name} checks passed")
