#!/usr/bin/env python3
"""A server started with `--init docker/seed.example.yaml`, through boto3: the file's keys sign at
once, its MFA device's codes are accepted, the state exports with its secrets, a reset returns to
the seed and an import puts an exported state back.

Usage: python3 tests/smoke/seed.py http://127.0.0.1:PORT

Exits 0 when every check passed, 1 otherwise. Driven by tests/smoke.rs.
"""
import base64
import hashlib
import hmac
import json
import struct
import time
import urllib.request

from botocore.exceptions import ClientError

from checks import ENDPOINT, check, client, finish

ALICE = ("AKIAALICE0EXAMPLE001", "alice-secret-access-key-0000000000000000")
MFA_SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def totp(seed, at=None):
    """RFC 6238: HMAC-SHA1, 30-second steps, 6 digits."""
    key = base64.b32decode(seed + "=" * (-len(seed) % 8))
    step = int((time.time() if at is None else at) // 30)
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


def admin(method, path, body=None, content_type="application/json"):
    req = urllib.request.Request(ENDPOINT + path, data=body, method=method,
                                 headers={"Content-Type": content_type})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.status, resp.read().decode()


# 1. The seeded key signs at once, as its user.
sts = client("sts", *ALICE)
me = sts.get_caller_identity()
check(me["Arn"] == "arn:aws:iam::000000000000:user/engineering/alice", "seeded key: alice", me)
iam = client("iam")
user = iam.get_user(UserName="alice")["User"]
check(user["Path"] == "/engineering/", "seeded user's path", user)
groups = [g["GroupName"] for g in iam.list_groups_for_user(UserName="alice")["Groups"]]
check(groups == ["developers"], "seeded membership", groups)
role = iam.get_role(RoleName="deployer")["Role"]
check(role["MaxSessionDuration"] == 7200, "seeded role", role)
check(role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["AWS"]
      == "arn:aws:iam::000000000000:user/ci", "seeded trust policy", role)

# 2. The seeded MFA device's code, computed from its seed, is accepted.
serial = iam.list_mfa_devices(UserName="alice")["MFADevices"][0]["SerialNumber"]
try:
    creds = sts.get_session_token(SerialNumber=serial, TokenCode=totp(MFA_SEED))["Credentials"]
    check(creds["AccessKeyId"].startswith("ASIA"), "MFA code of the seeded device")
except ClientError as e:
    check(False, "MFA code of the seeded device", e)

# 3. Export (secrets included), reset (back to the seed), import (the exported state back).
iam.create_user(UserName="made-by-the-test")
status, text = admin("GET", "/_localiam/state")
state = json.loads(text)
users = {u["UserName"]: u for u in state["accounts"][0]["users"]}
check(users["alice"]["AccessKeys"][0]["SecretAccessKey"] == ALICE[1], "export carries secrets")
check("made-by-the-test" in users, "export has the test's user")
admin("POST", "/_localiam/reset")
names = sorted(u["UserName"] for u in iam.list_users()["Users"])
check(names == ["alice", "ci"], "reset returns to the seed", names)
admin("POST", "/_localiam/state", text.encode())
names = sorted(u["UserName"] for u in iam.list_users()["Users"])
check(names == ["alice", "ci", "made-by-the-test"], "import puts the export back", names)
again = iam.get_user(UserName="alice")["User"]
check(again["UserId"] == user["UserId"] and again["CreateDate"] == user["CreateDate"],
      "IDs and dates survive the import", (user, again))
check(client("sts", *ALICE).get_caller_identity()["UserId"] == user["UserId"],
      "the imported key signs")

finish("seed file")
