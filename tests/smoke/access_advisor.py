#!/usr/bin/env python3
"""The access advisor through boto3 and the AWS CLI: a user's calls, then its report.

Usage: python3 tests/smoke/access_advisor.py http://127.0.0.1:PORT

Exits 0 when every check passed, 1 otherwise. Driven by tests/smoke.rs.
"""
import json
import urllib.request
import uuid

from botocore.exceptions import ClientError

from checks import ACCOUNT, ENDPOINT, check, cli, client, finish

SUFFIX = uuid.uuid4().hex[:8]


iam = client("iam")
user = f"advised-{SUFFIX}"
arn = f"arn:aws:iam::{ACCOUNT}:user/{user}"
iam.create_user(UserName=user)
iam.put_user_policy(UserName=user, PolicyName="Reads", PolicyDocument=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["iam:Get*", "sts:GetCallerIdentity", "s3:GetObject",
                                                  "dynamodb:Query"], "Resource": "*"}],
}))
key = iam.create_access_key(UserName=user)["AccessKey"]
client("iam", key["AccessKeyId"], key["SecretAccessKey"]).get_user()
client("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()
req = urllib.request.Request(
    f"{ENDPOINT}/_localiam/authorize", method="POST",
    headers={"Content-Type": "application/json"},
    data=json.dumps({"principal": arn, "action": "s3:GetObject",
                     "resource": "arn:aws:s3:::bucket/key"}).encode())
with urllib.request.urlopen(req, timeout=30) as r:
    check(json.load(r)["decision"] == "Allow", "authorize allows s3:GetObject")

job = iam.generate_service_last_accessed_details(Arn=arn, Granularity="ACTION_LEVEL")["JobId"]
check(len(job) == 36, "boto3: a job ID", job)
got = iam.get_service_last_accessed_details(JobId=job)
check(got["JobStatus"] == "COMPLETED" and got["JobType"] == "ACTION_LEVEL"
      and got["IsTruncated"] is False, "boto3: the job completed", got)
services = {s["ServiceNamespace"]: s for s in got["ServicesLastAccessed"]}
check(list(services) == ["dynamodb", "iam", "s3", "sts"], "boto3: the allowed services, sorted",
      list(services))
for ns in ("iam", "s3", "sts"):
    s = services.get(ns, {})
    check("LastAuthenticated" in s and s.get("LastAuthenticatedEntity") == arn
          and s.get("TotalAuthenticatedEntities") == 1, f"boto3: {ns} used by the user", s)
d = services.get("dynamodb", {})
check("LastAuthenticated" not in d and d.get("TotalAuthenticatedEntities") == 0
      and d.get("ServiceName") == "Amazon DynamoDB", "boto3: dynamodb allowed, never used", d)
tracked = {a["ActionName"]: a for a in services.get("iam", {}).get("TrackedActionsLastAccessed", [])}
check("LastAccessedTime" in tracked.get("GetUser", {}) and "GetRole" in tracked
      and "LastAccessedTime" not in tracked["GetRole"], "boto3: iam's tracked actions", tracked)

ents = iam.get_service_last_accessed_details_with_entities(JobId=job, ServiceNamespace="s3")
e = ents["EntityDetailsList"]
check(len(e) == 1 and e[0]["EntityInfo"]["Arn"] == arn and e[0]["EntityInfo"]["Type"] == "USER"
      and "LastAuthenticated" in e[0], "boto3: with entities", ents)

pols = iam.list_policies_granting_service_access(Arn=arn, ServiceNamespaces=["s3", "ec2"])
check(pols["PoliciesGrantingServiceAccess"] == [
    {"ServiceNamespace": "s3", "Policies": [{"PolicyName": "Reads", "PolicyType": "INLINE",
                                              "EntityType": "USER", "EntityName": user}]},
    {"ServiceNamespace": "ec2", "Policies": []},
], "boto3: policies granting service access", pols)

try:
    iam.get_service_last_accessed_details(JobId=str(uuid.uuid4()))
    check(False, "boto3: an unknown job is InvalidInput")
except ClientError as e:
    check(e.response["Error"]["Code"] == "InvalidInput"
          and e.response["ResponseMetadata"]["HTTPStatusCode"] == 400,
          "boto3: an unknown job is InvalidInput", e.response["Error"])

# The AWS CLI: generate and read a service-level report, a page at a time.
job = cli("iam", "generate-service-last-accessed-details", "--arn", arn)["JobId"]
got = cli("iam", "get-service-last-accessed-details", "--job-id", job, "--max-items", "2")
check(got["JobType"] == "SERVICE_LEVEL" and len(got["ServicesLastAccessed"]) == 2
      and got["IsTruncated"] is True, "cli: a first page", got)
rest = cli("iam", "get-service-last-accessed-details", "--job-id", job, "--marker", got["Marker"])
check([s["ServiceNamespace"] for s in got["ServicesLastAccessed"] + rest["ServicesLastAccessed"]]
      == ["dynamodb", "iam", "s3", "sts"] and rest["IsTruncated"] is False, "cli: the next page", rest)

finish("access advisor")
