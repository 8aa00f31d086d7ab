"""What the smoke scripts share: the endpoint (first argument), boto3 clients and the AWS CLI against
it with the default root credentials, and checks that are printed and counted."""
import json
import os
import subprocess
import sys

import boto3
from botocore.config import Config

ENDPOINT = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:4593"
ACCOUNT = "000000000000"
FAILURES = []
# No retries: an error must surface at once.
CONFIG = Config(retries={"total_max_attempts": 1, "mode": "standard"})


def check(cond, what, detail=None):
    if cond:
        print(f"ok   {what}")
    else:
        FAILURES.append(what)
        print(f"FAIL {what}" + (f": {detail}" if detail is not None else ""))


def client(service, key="test", secret="test", token=None):
    return boto3.client(service, endpoint_url=ENDPOINT, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        aws_session_token=token, config=CONFIG)


def cli(*args):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
               AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
    out = subprocess.run(["aws", "--endpoint-url", ENDPOINT, "--output", "json", *args],
                         capture_output=True, text=True, env=env, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout)


def finish(what):
    """Exits 1 when a check failed, 0 otherwise."""
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed")
        sys.exit(1)
    print(f"all {what} checks passed")
