#!/usr/bin/env python3
"""boto3 against localiam with `endpoint_url` (README, "Examples").

    python3 examples/boto3_endpoint.py [http://127.0.0.1:4593]

Creates a user with an access key, calls STS as that user, then assumes a role and calls STS as
the role's session. Any credentials are the root user in the default `open` mode.
"""
import json
import sys
import uuid

import boto3

ENDPOINT = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:4593"


def client(service, key="test", secret="test", token=None):
    return boto3.client(service, endpoint_url=ENDPOINT, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        aws_session_token=token)


iam = client("iam")
name = f"alice-{uuid.uuid4().hex[:8]}"
iam.create_user(UserName=name)
key = iam.create_access_key(UserName=name)["AccessKey"]
me = client("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()
assert me["Arn"].endswith(f":user/{name}"), me
print("caller:", me["Arn"])

trust = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": me["Account"]}, "Action": "sts:AssumeRole"}]}
role = iam.create_role(RoleName=f"deployer-{name}",
                       AssumeRolePolicyDocument=json.dumps(trust))["Role"]
creds = client("sts", key["AccessKeyId"], key["SecretAccessKey"]).assume_role(
    RoleArn=role["Arn"], RoleSessionName="ci")["Credentials"]
session = client("sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
assumed = session.get_caller_identity()["Arn"]
assert f":assumed-role/deployer-{name}/ci" in assumed, assumed
print("session:", assumed)
