#!/usr/bin/env python3
"""The policy simulator through boto3 and the AWS CLI, compared with AWS's documented examples.

Usage: python3 tests/smoke/simulator.py http://127.0.0.1:PORT

Exits 0 when every check passed, 1 otherwise. Driven by tests/simulator_api.rs.
"""
import json
import sys
import uuid

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

import smokelib
from smokelib import FAILURES, check

ENDPOINT = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:4593"
ACCOUNT = "000000000000"
SUFFIX = uuid.uuid4().hex[:8]

DOC = ('{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*",'
       '"Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}')


iam = boto3.client(
    "iam",
    endpoint_url=ENDPOINT,
    region_name="us-east-1",
    aws_access_key_id="test",
    aws_secret_access_key="test",
    config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
)


def cli(*args):
    return smokelib.cli(ENDPOINT, *args)


# 1. The AWS CLI reference example of simulate-custom-policy, run through the CLI itself.
got = cli("iam", "simulate-custom-policy", "--policy-input-list", DOC,
          "--action-names", "dynamodb:CreateBackup", "--context-entries",
          "ContextKeyName='aws:CurrentTime',ContextKeyValues='2019-04-25T11:00:00Z',ContextKeyType=date")
r = got["EvaluationResults"][0]
check(r["EvalActionName"] == "dynamodb:CreateBackup" and r["EvalResourceName"] == "*"
      and r["EvalDecision"] == "allowed", "cli: documented example allowed", r)
m = r.get("MatchedStatements", [])
check(len(m) == 1 and m[0]["SourcePolicyId"] == "PolicyInputList.1"
      and m[0]["StartPosition"] == {"Line": 1, "Column": 38}
      and m[0]["EndPosition"] == {"Line": 1, "Column": 167}, "cli: documented positions", m)
check(r.get("MissingContextValues") == [], "cli: no missing context values", r)

got = cli("iam", "simulate-custom-policy", "--policy-input-list", DOC,
          "--action-names", "dynamodb:CreateBackup", "--context-entries",
          "ContextKeyName='aws:CurrentTime',ContextKeyValues='2014-04-25T11:00:00Z',ContextKeyType=date")
r = got["EvaluationResults"][0]
check(r["EvalDecision"] == "implicitDeny" and r.get("MatchedStatements") == [],
      "cli: documented example implicitDeny", r)

# 2. boto3: a user with an inline policy, simulated as a principal; the CLI paginates.
user = f"sim-{SUFFIX}"
iam.create_user(UserName=user)
iam.put_user_policy(UserName=user, PolicyName="Grant-Access-To-CodeCommit-ListRepo", PolicyDocument=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "codecommit:ListRepositories", "Resource": "*"}],
}))
arn = f"arn:aws:iam::{ACCOUNT}:user/{user}"
res = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["codecommit:ListRepositories"])
r = res["EvaluationResults"][0]
check(r["EvalDecision"] == "allowed", "boto3: principal allowed", r)
check([s["SourcePolicyId"] for s in r["MatchedStatements"]] == ["Grant-Access-To-CodeCommit-ListRepo"]
      and r["MatchedStatements"][0]["SourcePolicyType"] == "user", "boto3: inline policy id and type", r)

res = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["s3:GetObject"],
                                    ResourceArns=["arn:aws:s3:::b/k"])
r = res["EvaluationResults"][0]
check(r["EvalDecision"] == "implicitDeny" and r["EvalDecisionDetails"] == {}
      and r["ResourceSpecificResults"][0]["EvalResourceName"] == "arn:aws:s3:::b/k",
      "boto3: resource-specific results", r)

got = cli("iam", "simulate-principal-policy", "--policy-source-arn", arn, "--action-names",
          "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "codecommit:ListRepositories",
          "--page-size", "1")
check([x["EvalActionName"] for x in got["EvaluationResults"]]
      == ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "codecommit:ListRepositories"],
      "cli: paginates over all results", got)

keys = iam.get_context_keys_for_custom_policy(PolicyInputList=[DOC])["ContextKeyNames"]
check(keys == ["aws:CurrentTime"], "boto3: context keys", keys)

try:
    iam.simulate_principal_policy(PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/nobody-{SUFFIX}",
                                  ActionNames=["s3:GetObject"])
    check(False, "boto3: unknown user is NoSuchEntity")
except ClientError as e:
    check(e.response["Error"]["Code"] == "NoSuchEntity"
          and e.response["ResponseMetadata"]["HTTPStatusCode"] == 404,
          "boto3: unknown user is NoSuchEntity", e.response["Error"])

if FAILURES:
    print(f"{len(FAILURES)} check(s) failed")
    sys.exit(1)
print("all simulator checks passed")
