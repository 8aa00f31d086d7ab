#!/usr/bin/env python3
"""STS preferences, Organizations and IAM temporary delegation through boto3 and the AWS CLI.

Usage: python3 tests/smoke/delegation.py http://127.0.0.1:PORT

Exits 0 when every check passed, 1 otherwise. Driven by tests/smoke.rs.
"""
import json
import urllib.parse
import urllib.request
import uuid

from botocore.exceptions import ClientError

from checks import ENDPOINT, check, cli, client, finish

CUSTOMER = "000000000000"
PARTNER = "111111111111"
SUFFIX = uuid.uuid4().hex[:8]
TOPIC = f"arn:aws:sns:us-east-1:{PARTNER}:partner-{SUFFIX}"


iam = client("iam")

# 1. STS preferences: GetAccountSummary's GlobalEndpointTokenVersion follows them.
summary = iam.get_account_summary()["SummaryMap"]
check(summary["GlobalEndpointTokenVersion"] == 1, "summary: token version 1 by default", summary)
iam.set_security_token_service_preferences(GlobalEndpointTokenVersion="v2Token")
summary = iam.get_account_summary()["SummaryMap"]
check(summary["GlobalEndpointTokenVersion"] == 2, "summary: v2Token is version 2", summary)
iam.set_security_token_service_preferences(GlobalEndpointTokenVersion="v1Token")
got = cli("iam", "get-account-summary")
check(got["SummaryMap"]["GlobalEndpointTokenVersion"] == 1, "cli: back to version 1", got)

# 2. Organizations: a standalone account is in none.
try:
    iam.list_organizations_features()
    check(False, "organizations: no organization")
except iam.exceptions.OrganizationNotFoundException as e:
    check(e.response["ResponseMetadata"]["HTTPStatusCode"] == 400
          and e.response["Error"]["Message"]
          == "The request was rejected because no organization is associated with your account.",
          "organizations: no organization", e.response)

# 3. A delegation round trip: the partner asks, the customer approves, the partner redeems.
partner = client("iam", key=PARTNER, secret="x")
template = partner.create_policy(
    PolicyName=f"template-{SUFFIX}",
    PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                       "Resource": "arn:aws:s3:::@{bucketName}/*"}],
    }),
)["Policy"]["Arn"]
created = partner.create_delegation_request(
    OwnerAccountId=CUSTOMER,
    Description="Partner onboarding",
    Permissions={"PolicyTemplateArn": template,
                 "Parameters": [{"Name": "bucketName", "Values": ["customer-data"], "Type": "string"}]},
    RequestorWorkflowId=f"workflow-{SUFFIX}",
    NotificationChannel=TOPIC,
    SessionDuration=900,
)
rid = created["DelegationRequestId"]
check(created["ConsoleDeepLink"].endswith(rid), "create: deep link names the request", created)

req = iam.get_delegation_request(DelegationRequestId=rid)["DelegationRequest"]
check(req["State"] == "UNASSIGNED" and req["RequestorId"] == PARTNER
      and json.loads(req["PermissionPolicy"])["Statement"][0]["Resource"] == "arn:aws:s3:::customer-data/*",
      "get: unassigned, rendered policy", req)
iam.associate_delegation_request(DelegationRequestId=rid)
iam.accept_delegation_request(DelegationRequestId=rid)
listed = cli("iam", "list-delegation-requests")["DelegationRequests"]
check([r["DelegationRequestId"] for r in listed] == [rid] and listed[0]["State"] == "ACCEPTED",
      "cli: the customer's requests", listed)
iam.send_delegation_token(DelegationRequestId=rid)
req = iam.get_delegation_request(DelegationRequestId=rid)["DelegationRequest"]
check(req["State"] == "FINALIZED" and req["ApproverId"] == f"arn:aws:iam::{CUSTOMER}:root",
      "get: finalized, approved by the customer's root", req)

url = f"{ENDPOINT}/_localiam/notifications?" + urllib.parse.urlencode({"topic": TOPIC})
with urllib.request.urlopen(url, timeout=30) as resp:
    published = json.load(resp)["notifications"]
messages = [json.loads(n["Message"]) for n in published]
check([(m["Type"], m["State"]) for m in messages]
      == [("StateChange", "ASSIGNED"), ("StateChange", "ACCEPTED"),
          ("StateChange", "FINALIZED"), ("ExchangeToken", "FINALIZED")],
      "notifications: state changes and the exchange token", messages)
token = messages[-1].get("ExchangeToken")

sts = client("sts", key=PARTNER, secret="x")
out = sts.get_delegated_access_token(TradeInToken=token)
check(out["AssumedPrincipal"] == f"arn:aws:iam::{CUSTOMER}:root" and "PackedPolicySize" not in out,
      "sts: delegated access token", out)
c = out["Credentials"]
me = client("sts", key=c["AccessKeyId"], secret=c["SecretAccessKey"],
            token=c["SessionToken"]).get_caller_identity()
check(me["Arn"] == f"arn:aws:iam::{CUSTOMER}:root" and me["Account"] == CUSTOMER,
      "sts: the credentials act as the approver", me)
try:
    client("sts", key="222222222222", secret="x").get_delegated_access_token(TradeInToken=token)
    check(False, "sts: another account cannot redeem the token")
except ClientError as e:
    check(e.response["Error"]["Code"] == "ExpiredTradeInTokenException",
          "sts: another account cannot redeem the token", e.response["Error"])

finish("delegation")
