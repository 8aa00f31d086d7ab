#!/usr/bin/env python3
"""boto3 against a localiam started with `--auth enforce`: what a user's policies allow works, the
rest is AWS's AccessDenied with AWS's message; the root user is never limited.

Usage: python3 tests/smoke/enforce.py URL ROOT_KEY ROOT_SECRET (driven by tests/smoke.rs)
"""
import json
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

URL, ROOT_KEY, ROOT_SECRET = sys.argv[1:4]
CONFIG = Config(region_name="us-east-1", retries={"total_max_attempts": 1, "mode": "standard"})
FAILURES = []


def client(service, key, secret, token=None):
    return boto3.client(service, endpoint_url=URL, aws_access_key_id=key, aws_secret_access_key=secret,
                        aws_session_token=token, config=CONFIG)


def check(cond, what, detail=None):
    print(("ok   " if cond else "FAIL ") + what + ("" if cond or detail is None else f": {detail}"))
    if not cond:
        FAILURES.append(what)


def denied(fn, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"]["Message"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None


root = client("iam", ROOT_KEY, ROOT_SECRET)
root.create_user(UserName="reader", Path="/team/")
root.put_user_policy(UserName="reader", PolicyName="read", PolicyDocument=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"}]}))
key = root.create_access_key(UserName="reader")["AccessKey"]
reader = client("iam", key["AccessKeyId"], key["SecretAccessKey"])

check(reader.get_user(UserName="reader")["User"]["Arn"] == "arn:aws:iam::000000000000:user/team/reader",
      "an allowed read works")
check(any(u["UserName"] == "reader" for u in reader.list_users()["Users"]), "an allowed list works")
got = denied(reader.create_user, UserName="intruder")
check(got == ("AccessDenied",
              "User: arn:aws:iam::000000000000:user/team/reader is not authorized to perform: iam:CreateUser "
              "on resource: arn:aws:iam::000000000000:user/intruder because no identity-based policy allows "
              "the iam:CreateUser action", 403), "a write is AccessDenied with AWS's message", got)
root.put_user_policy(UserName="reader", PolicyName="deny", PolicyDocument=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Deny", "Action": "iam:ListUsers", "Resource": "*"}]}))
got = denied(reader.list_users)
check(got is not None and got[0] == "AccessDenied" and got[1].endswith(
    "with an explicit deny in an identity-based policy"), "an explicit deny wins", got)
check(client("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()["Arn"].endswith(
    "user/team/reader"), "GetCallerIdentity needs no permission")
root.create_user(UserName="made-by-root")
check(True, "the root user is never limited")
sys.exit(1 if FAILURES else 0)
