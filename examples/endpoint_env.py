#!/usr/bin/env python3
"""boto3 with no endpoint in the code: the per-service variables AWS_ENDPOINT_URL_IAM and
AWS_ENDPOINT_URL_STS (or AWS_ENDPOINT_URL for every service) point it at localiam.

    AWS_ENDPOINT_URL_IAM=http://127.0.0.1:4593 AWS_ENDPOINT_URL_STS=http://127.0.0.1:4593 \\
    AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 \\
    python3 examples/endpoint_env.py
"""
import uuid

import boto3

iam = boto3.client("iam")
sts = boto3.client("sts")
print("iam endpoint:", iam.meta.endpoint_url)
print("sts endpoint:", sts.meta.endpoint_url)
name = f"env-{uuid.uuid4().hex[:8]}"
iam.create_user(UserName=name)
assert iam.get_user(UserName=name)["User"]["UserName"] == name
print("caller:", sts.get_caller_identity()["Arn"])
