"""pytest fixtures for localiam: one server per test session on a free port, its state reset
before each test (README, "pytest"). Copy this file next to your tests.

The binary is `$LOCALIAM_BIN`, else `localiam` on PATH. `LOCALIAM_INIT=seed.yaml` (or any other
LOCALIAM_* variable) in the environment is passed on, so the reset returns to the seeded state.
"""
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request

import boto3
import pytest


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def localiam_endpoint(tmp_path_factory):
    """The URL of a localiam started for this test session (stopped with SIGTERM at the end)."""
    binary = os.environ.get("LOCALIAM_BIN") or shutil.which("localiam")
    if not binary:
        pytest.skip("localiam not found: set LOCALIAM_BIN or put it on PATH")
    port = _free_port()
    env = dict(os.environ, LOCALIAM_LISTEN=f"127.0.0.1:{port}", LOCALIAM_DB=":memory:")
    log = tmp_path_factory.mktemp("localiam") / "localiam.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([binary], env=env, stdout=out, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(endpoint + "/_localiam/health", timeout=1) as r:
                if json.load(r).get("status") == "ok":
                    break
        except OSError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"localiam exited ({proc.returncode}):\n{log.read_text()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"localiam did not answer within 30 s:\n{log.read_text()}")
        time.sleep(0.05)
    yield endpoint
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def localiam(localiam_endpoint):
    """The endpoint, with the state reset first (back to the seed file's, if any)."""
    req = urllib.request.Request(localiam_endpoint + "/_localiam/reset", method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200
    return localiam_endpoint


def _client(service, endpoint, key="test", secret="test", token=None):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        aws_session_token=token)


@pytest.fixture
def iam(localiam):
    return _client("iam", localiam)


@pytest.fixture
def sts(localiam):
    return _client("sts", localiam)


@pytest.fixture
def client_for(localiam):
    """`client_for("sts", key_id, secret)`: a client signing with other credentials."""
    return lambda service, key, secret, token=None: _client(service, localiam, key, secret, token)
