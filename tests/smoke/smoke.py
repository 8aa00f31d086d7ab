#!/usr/bin/env python3
"""Smoke test of localiam with the two most common real clients: boto3 and the AWS CLI.

Usage: python3 tests/smoke/smoke.py http://127.0.0.1:PORT

Exits 0 when every check passed, 1 otherwise (each failure is printed). Driven by tests/smoke.rs.
"""
import base64
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
import uuid

import boto3
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from checks import FAILURES, check

ENDPOINT = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:4593"
ACCOUNT = "000000000000"
REGION = "us-east-1"
SUFFIX = uuid.uuid4().hex[:8]

# No retries: an error must surface at once.
BOTO_CONFIG = Config(region_name=REGION, retries={"total_max_attempts": 1, "mode": "standard"})


def client(service, key="test", secret="test", token=None):
    return boto3.client(
        service,
        endpoint_url=ENDPOINT,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        region_name=REGION,
        config=BOTO_CONFIG,
    )


def boto_error(fn, **kwargs):
    """Calls fn, which must fail; returns (code, message, http status)."""
    try:
        out = fn(**kwargs)
    except ClientError as e:
        err = e.response.get("Error", {})
        return err.get("Code"), err.get("Message"), e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None, f"unexpected success: {out}", None


def cli(*args, key="test", secret="test"):
    """Runs `aws --endpoint-url ENDPOINT --output json ARGS`; returns (exit code, parsed JSON or None, stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") or k == "AWS_CA_BUNDLE"}
    env.update(
        AWS_ACCESS_KEY_ID=key,
        AWS_SECRET_ACCESS_KEY=secret,
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_PAGER="",
        AWS_MAX_ATTEMPTS="1",
        AWS_RETRY_MODE="standard",
    )
    p = subprocess.run(
        ["aws", "--endpoint-url", ENDPOINT, "--output", "json", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    parsed = None
    if p.returncode == 0 and p.stdout.strip():
        try:
            parsed = json.loads(p.stdout)
        except ValueError:
            parsed = None
    return p.returncode, parsed, p.stderr


def users():
    iam = client("iam")
    name = f"smoke-user-{SUFFIX}"
    # Create with the CLI (tags and path), read back with boto3.
    rc, out, err = cli(
        "iam", "create-user", "--user-name", name, "--path", "/smoke/",
        "--tags", "Key=team,Value=qa", "Key=env,Value=test",
    )
    check(rc == 0, "cli create-user", err)
    if out:
        u = out["User"]
        check(u["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/smoke/{name}", "cli create-user ARN", u)
        check(u["UserId"].startswith("AIDA") and len(u["UserId"]) == 21, "cli create-user UserId", u)
        check(u.get("Tags") == [{"Key": "team", "Value": "qa"}, {"Key": "env", "Value": "test"}],
              "cli create-user tags", u.get("Tags"))
    got = iam.get_user(UserName=name)["User"]
    check(got["Path"] == "/smoke/", "boto3 get-user path", got)
    check({t["Key"]: t["Value"] for t in got.get("Tags", [])} == {"team": "qa", "env": "test"},
          "boto3 get-user tags", got.get("Tags"))
    listed = iam.list_users(PathPrefix="/smoke/")["Users"]
    check([u["UserName"] for u in listed] == [name], "boto3 list-users by path", listed)
    rc, out, err = cli("iam", "list-users", "--path-prefix", "/smoke/")
    check(rc == 0 and out and [u["UserName"] for u in out["Users"]] == [name], "cli list-users", (rc, out, err))
    tags = iam.list_user_tags(UserName=name)["Tags"]
    check(len(tags) == 2, "boto3 list-user-tags", tags)

    new = f"smoke-renamed-{SUFFIX}"
    rc, _, err = cli("iam", "update-user", "--user-name", name, "--new-user-name", new, "--new-path", "/smoke2/")
    check(rc == 0, "cli update-user", err)
    got = iam.get_user(UserName=new)["User"]
    check(got["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/smoke2/{new}", "renamed user ARN", got)
    rc, _, err = cli("iam", "delete-user", "--user-name", new)
    check(rc == 0, "cli delete-user", err)
    code, msg, status = boto_error(iam.get_user, UserName=new)
    check(code == "NoSuchEntity" and status == 404, "deleted user is gone", (code, msg, status))


def groups():
    iam = client("iam")
    user = f"smoke-member-{SUFFIX}"
    group = f"smoke-group-{SUFFIX}"
    iam.create_user(UserName=user)
    g = iam.create_group(GroupName=group, Path="/teams/")["Group"]
    check(g["Arn"] == f"arn:aws:iam::{ACCOUNT}:group/teams/{group}", "boto3 create-group ARN", g)
    check(g["GroupId"].startswith("AGPA"), "group id prefix", g)
    rc, _, err = cli("iam", "add-user-to-group", "--group-name", group, "--user-name", user)
    check(rc == 0, "cli add-user-to-group", err)
    members = iam.get_group(GroupName=group)["Users"]
    check([m["UserName"] for m in members] == [user], "boto3 get-group members", members)
    rc, out, err = cli("iam", "list-groups-for-user", "--user-name", user)
    check(rc == 0 and out and [x["GroupName"] for x in out["Groups"]] == [group],
          "cli list-groups-for-user", (rc, out, err))
    code, msg, status = boto_error(iam.delete_group, GroupName=group)
    check(code == "DeleteConflict" and status == 409, "delete non-empty group conflicts", (code, msg, status))
    iam.remove_user_from_group(GroupName=group, UserName=user)
    check(iam.get_group(GroupName=group)["Users"] == [], "member removed")
    rc, _, err = cli("iam", "delete-group", "--group-name", group)
    check(rc == 0, "cli delete-group", err)
    iam.delete_user(UserName=user)


def access_keys():
    iam = client("iam")
    user = f"smoke-keys-{SUFFIX}"
    u = iam.create_user(UserName=user)["User"]
    key = iam.create_access_key(UserName=user)["AccessKey"]
    check(key["AccessKeyId"].startswith("AKIA") and len(key["AccessKeyId"]) == 20, "access key id", key)
    check(len(key["SecretAccessKey"]) == 40, "secret length")
    check(key["Status"] == "Active", "new key active", key)

    unused = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
    check(unused["UserName"] == user, "last-used user", unused)
    check(unused["AccessKeyLastUsed"]["ServiceName"] == "N/A" and unused["AccessKeyLastUsed"]["Region"] == "N/A",
          "unused key shows N/A", unused["AccessKeyLastUsed"])

    # A second client signs with the new key.
    sts = client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    me = sts.get_caller_identity()
    check(me["Arn"] == u["Arn"], "sts get-caller-identity as the user", me)
    check(me["UserId"] == u["UserId"] and me["Account"] == ACCOUNT, "caller identity ids", me)
    used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
    check(used.get("ServiceName") == "sts" and used.get("Region") == REGION and "LastUsedDate" in used,
          "last used after sts call", used)
    as_user = client("iam", key["AccessKeyId"], key["SecretAccessKey"])
    own = as_user.list_access_keys()["AccessKeyMetadata"]
    check([k["AccessKeyId"] for k in own] == [key["AccessKeyId"]], "user lists own keys", own)
    used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
    check(used.get("ServiceName") == "iam" and used.get("Region") == REGION, "last used after iam call", used)

    # The CLI, signing with the user's key.
    rc, out, err = cli("sts", "get-caller-identity", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    check(rc == 0 and out and out["Arn"] == u["Arn"], "cli sts get-caller-identity as the user", (rc, out, err))

    rc, out, err = cli("iam", "list-access-keys", "--user-name", user)
    check(rc == 0 and out and len(out["AccessKeyMetadata"]) == 1, "cli list-access-keys", (rc, out, err))
    rc, _, err = cli("iam", "update-access-key", "--user-name", user, "--access-key-id", key["AccessKeyId"],
                     "--status", "Inactive")
    check(rc == 0, "cli update-access-key", err)
    meta = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    check(meta and meta[0]["Status"] == "Inactive", "key now inactive", meta)
    code, msg, status = boto_error(sts.get_caller_identity)
    check(code == "InvalidClientTokenId" and status == 403, "inactive key rejected", (code, msg, status))

    iam.create_access_key(UserName=user)
    code, msg, status = boto_error(iam.create_access_key, UserName=user)
    check((code, msg, status) == ("LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2", 409),
          "third key is LimitExceeded", (code, msg, status))
    for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=user, AccessKeyId=k["AccessKeyId"])
    check(iam.list_access_keys(UserName=user)["AccessKeyMetadata"] == [], "keys deleted")
    iam.delete_user(UserName=user)


def login_profiles():
    iam = client("iam")
    user = f"smoke-console-{SUFFIX}"
    iam.create_user(UserName=user)
    rc, out, err = cli("iam", "create-login-profile", "--user-name", user, "--password", "Sm0ke-Test-Passw0rd!")
    check(rc == 0 and out and out["LoginProfile"]["UserName"] == user, "cli create-login-profile", (rc, out, err))
    lp = iam.get_login_profile(UserName=user)["LoginProfile"]
    check(lp["PasswordResetRequired"] is False, "login profile default reset flag", lp)
    iam.update_login_profile(UserName=user, PasswordResetRequired=True)
    rc, out, err = cli("iam", "get-login-profile", "--user-name", user)
    check(rc == 0 and out and out["LoginProfile"]["PasswordResetRequired"] is True,
          "cli get-login-profile after update", (rc, out, err))
    code, msg, status = boto_error(iam.create_login_profile, UserName=user, Password="Sm0ke-Test-Passw0rd!")
    check((code, msg, status) == ("EntityAlreadyExists", f"Login Profile for user {user} already exists.", 409),
          "duplicate login profile", (code, msg, status))
    iam.delete_login_profile(UserName=user)
    code, msg, status = boto_error(iam.get_login_profile, UserName=user)
    check((code, msg, status) == ("NoSuchEntity", f"Login Profile for User {user} cannot be found.", 404),
          "deleted login profile", (code, msg, status))
    iam.delete_user(UserName=user)


def account():
    """The account's operations through the CLI, in an account of its own (a 12-digit key names it)."""
    import base64
    import csv
    import io

    key = "3333" + SUFFIX.translate(str.maketrans("abcdef", "123456"))
    alias = f"smoke-{SUFFIX}"
    rc, _, err = cli("iam", "create-account-alias", "--account-alias", alias, key=key)
    check(rc == 0, "cli create-account-alias", err)
    rc, out, err = cli("iam", "list-account-aliases", key=key)
    check(rc == 0 and out and out["AccountAliases"] == [alias], "cli list-account-aliases", (rc, out, err))
    rc, _, err = cli("iam", "update-account-password-policy", "--minimum-password-length", "8",
                     "--require-numbers", key=key)
    check(rc == 0, "cli update-account-password-policy", err)
    rc, out, err = cli("iam", "get-account-password-policy", key=key)
    policy = (out or {}).get("PasswordPolicy", {})
    check(rc == 0 and policy.get("MinimumPasswordLength") == 8 and policy.get("RequireNumbers") is True
          and policy.get("ExpirePasswords") is False, "cli get-account-password-policy", (rc, out, err))
    rc, out, err = cli("iam", "get-account-summary", key=key)
    check(rc == 0 and out and out["SummaryMap"]["UsersQuota"] == 5000 and out["SummaryMap"]["Users"] == 0,
          "cli get-account-summary", (rc, out, err))
    rc, out, err = cli("iam", "get-account-authorization-details", key=key)
    check(rc == 0 and out and out["UserDetailList"] == [] and out["Policies"] == [],
          "cli get-account-authorization-details", (rc, out, err))
    rc, out, err = cli("iam", "generate-credential-report", key=key)
    check(rc == 0 and out and out["State"] == "STARTED", "cli generate-credential-report", (rc, out, err))
    rc, out, err = cli("iam", "get-credential-report", key=key)
    rows = []
    if rc == 0 and out:
        rows = list(csv.DictReader(io.StringIO(base64.b64decode(out["Content"]).decode())))
    check(len(rows) == 1 and rows[0]["user"] == "<root_account>" and rows[0]["password_enabled"] == "not_supported",
          "cli get-credential-report", (rc, out, err))
    rc, _, err = cli("iam", "delete-account-alias", "--account-alias", alias, key=key)
    check(rc == 0, "cli delete-account-alias", err)


def roles_and_sts():
    """Roles, instance profiles and STS sessions through the CLI, in an account of its own."""
    key = "4444" + SUFFIX.translate(str.maketrans("abcdef", "123456"))
    account = key
    role = f"smoke-role-{SUFFIX}"
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": account}, "Action": "sts:AssumeRole"}]})
    rc, out, err = cli("iam", "create-role", "--role-name", role, "--assume-role-policy-document", trust,
                       "--max-session-duration", "7200", key=key)
    check(rc == 0 and out and out["Role"]["Arn"] == f"arn:aws:iam::{account}:role/{role}", "cli create-role",
          (rc, out, err))
    rc, _, err = cli("iam", "attach-role-policy", "--role-name", role, "--policy-arn",
                     "arn:aws:iam::aws:policy/ReadOnlyAccess", key=key)
    check(rc == 0, "cli attach-role-policy (AWS managed)", err)
    rc, _, err = cli("iam", "create-instance-profile", "--instance-profile-name", role, key=key)
    check(rc == 0, "cli create-instance-profile", err)
    rc, _, err = cli("iam", "add-role-to-instance-profile", "--instance-profile-name", role, "--role-name", role,
                     key=key)
    check(rc == 0, "cli add-role-to-instance-profile", err)
    rc, out, err = cli("iam", "get-role", "--role-name", role, key=key)
    check(rc == 0 and out and out["Role"]["MaxSessionDuration"] == 7200
          and out["Role"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["AWS"] == account,
          "cli get-role", (rc, out, err))
    rc, out, err = cli("sts", "assume-role", "--role-arn", f"arn:aws:iam::{account}:role/{role}",
                       "--role-session-name", "cli", key=key)
    creds = (out or {}).get("Credentials", {})
    check(rc == 0 and creds.get("AccessKeyId", "").startswith("ASIA"), "cli sts assume-role", (rc, out, err))
    if creds:
        env_sts = client("sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
        me = env_sts.get_caller_identity()
        check(me["Arn"] == f"arn:aws:sts::{account}:assumed-role/{role}/cli", "assumed role acts as the role",
              me["Arn"])
    rc, _, err = cli("iam", "delete-role", "--role-name", role, key=key)
    check(rc != 0 and "DeleteConflict" in err, "cli delete-role refuses while the profile holds it", err)
    for args in (["remove-role-from-instance-profile", "--instance-profile-name", role, "--role-name", role],
                 ["delete-instance-profile", "--instance-profile-name", role],
                 ["detach-role-policy", "--role-name", role, "--policy-arn",
                  "arn:aws:iam::aws:policy/ReadOnlyAccess"],
                 ["delete-role", "--role-name", role]):
        rc, _, err = cli("iam", *args, key=key)
        check(rc == 0, f"cli {args[0]}", err)


def errors():
    iam = client("iam")
    missing = f"smoke-missing-{SUFFIX}"
    code, msg, status = boto_error(iam.get_user, UserName=missing)
    check((code, msg, status) == ("NoSuchEntity", f"The user with name {missing} cannot be found.", 404),
          "boto3 missing user", (code, msg, status))
    rc, _, err = cli("iam", "get-user", "--user-name", missing)
    check(rc != 0 and "(NoSuchEntity)" in err and f"The user with name {missing} cannot be found." in err,
          "cli missing user", (rc, err))

    bad_iam = client("iam", "test", "definitely-not-the-secret")
    code, msg, status = boto_error(bad_iam.list_users)
    check(code == "SignatureDoesNotMatch" and status == 403, "boto3 wrong secret (iam)", (code, msg, status))
    bad_sts = client("sts", "test", "definitely-not-the-secret")
    code, msg, status = boto_error(bad_sts.get_caller_identity)
    check(code == "SignatureDoesNotMatch" and status == 403, "boto3 wrong secret (sts)", (code, msg, status))
    rc, _, err = cli("iam", "list-users", secret="definitely-not-the-secret")
    check(rc != 0 and "SignatureDoesNotMatch" in err, "cli wrong secret", (rc, err))


def send(req):
    """Sends a botocore AWSRequest as signed; returns (HTTP status, body text)."""
    prepared = req.prepare()
    body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
    r = urllib.request.Request(prepared.url, data=body, headers=dict(prepared.headers),
                               method=prepared.method)
    try:
        with urllib.request.urlopen(r, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def botocore_signing():
    """Requests signed by botocore's own signers: GET with the Authorization header, presigned GET and
    POST (signature in the query string), and a presigned URL made with the wrong secret."""
    root = Credentials("test", "test")
    req = AWSRequest(method="GET", url=f"{ENDPOINT}/?Action=GetCallerIdentity&Version=2011-06-15")
    SigV4Auth(root, "sts", REGION).add_auth(req)
    status, body = send(req)
    check(status == 200 and f"arn:aws:iam::{ACCOUNT}:root</Arn>" in body, "botocore GET, header-signed",
          (status, body[:300]))

    req = AWSRequest(method="GET", url=f"{ENDPOINT}/?Action=ListUsers&Version=2010-05-08&MaxItems=5")
    SigV4QueryAuth(root, "iam", REGION, expires=300).add_auth(req)
    status, body = send(req)
    check(status == 200 and "<ListUsersResponse" in body, "botocore GET, presigned", (status, body[:300]))

    # botocore's query signer moves a POST's form parameters into the signed query string.
    req = AWSRequest(method="POST", url=f"{ENDPOINT}/", data={"Action": "ListGroups", "Version": "2010-05-08"})
    SigV4QueryAuth(root, "iam", REGION, expires=300).add_auth(req)
    status, body = send(req)
    check(status == 200 and "<ListGroupsResponse" in body, "botocore POST, presigned", (status, body[:300]))

    req = AWSRequest(method="GET", url=f"{ENDPOINT}/?Action=ListUsers&Version=2010-05-08")
    SigV4QueryAuth(Credentials("test", "not-the-secret"), "iam", REGION, expires=300).add_auth(req)
    status, body = send(req)
    check(status == 403 and "<Code>SignatureDoesNotMatch</Code>" in body, "botocore presigned, wrong secret",
          (status, body[:300]))


def aws_managed_policies():
    iam = client("iam")
    other = client("iam", key="111111111111", secret="x")  # an unknown 12-digit key: another account
    ro = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    user = f"smoke-ro-{SUFFIX}"
    group = f"smoke-ro-{SUFFIX}"
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    rc, _, err = cli("iam", "attach-user-policy", "--user-name", user, "--policy-arn", ro)
    check(rc == 0, "cli attach-user-policy ReadOnlyAccess", err)
    iam.attach_group_policy(GroupName=group, PolicyArn=ro)
    p = iam.get_policy(PolicyArn=ro)["Policy"]
    check(p["AttachmentCount"] == 2 and p["IsAttachable"] and p["Path"] == "/", "boto3 get-policy AttachmentCount", p)
    check(p["PolicyId"].startswith("ANPA") and len(p["PolicyId"]) == 21, "AWS managed policy id", p)
    check(other.get_policy(PolicyArn=ro)["Policy"]["AttachmentCount"] == 0, "attachment count is per account")
    v = iam.get_policy_version(PolicyArn=ro, VersionId=p["DefaultVersionId"])["PolicyVersion"]
    check(v["IsDefaultVersion"] and v["Document"]["Version"] == "2012-10-17", "boto3 get-policy-version", v["VersionId"])

    arns = []
    for page in iam.get_paginator("list_policies").paginate(Scope="AWS", PaginationConfig={"PageSize": 200}):
        arns.extend(x["Arn"] for x in page["Policies"])
    check(len(arns) > 1000 and len(set(arns)) == len(arns), "boto3 list-policies Scope=AWS pages", len(arns))
    check(all(a.startswith("arn:aws:iam::aws:policy/") for a in arns), "Scope=AWS lists AWS policies only")
    rc, out, err = cli("iam", "list-policies", "--scope", "AWS", "--only-attached")
    names = [x["PolicyName"] for x in (out or {}).get("Policies", [])]
    check(rc == 0 and names == ["ReadOnlyAccess"], "cli list-policies --only-attached", (rc, names, err))
    rc, out, err = cli("iam", "list-policies", "--scope", "AWS", "--path-prefix", "/job-function/")
    paths = {x["Path"] for x in (out or {}).get("Policies", [])}
    check(rc == 0 and paths == {"/job-function/"}, "cli list-policies --path-prefix", (rc, paths, err))
    rc, out, err = cli("iam", "list-entities-for-policy", "--policy-arn", ro)
    check(rc == 0 and out and [u["UserName"] for u in out["PolicyUsers"]] == [user]
          and [g["GroupName"] for g in out["PolicyGroups"]] == [group], "cli list-entities-for-policy", (rc, out, err))

    code, msg, status = boto_error(iam.delete_policy, PolicyArn=ro)
    check((code, msg, status) == ("AccessDenied", "Cannot delete policies outside your own account.", 403),
          "delete-policy on an AWS managed policy", (code, msg, status))
    rc, _, err = cli("iam", "create-policy-version", "--policy-arn", ro, "--policy-document",
                     '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}')
    check(rc != 0 and "AccessDenied" in err, "cli create-policy-version refused", err)
    code, msg, status = boto_error(iam.get_policy, PolicyArn="arn:aws:iam::aws:policy/Nope")
    check(code == "NoSuchEntity" and status == 404, "unknown AWS managed policy", (code, msg, status))

    iam.detach_user_policy(UserName=user, PolicyArn=ro)
    iam.detach_group_policy(GroupName=group, PolicyArn=ro)
    check(iam.get_policy(PolicyArn=ro)["Policy"]["AttachmentCount"] == 0, "detached")
    iam.delete_user(UserName=user)
    iam.delete_group(GroupName=group)


def saml():
    """AssumeRoleWithSAML from boto3 and the CLI (both unsigned, as on AWS) with the response that
    xmlsec1 signed for the test identity provider (tests/data/saml)."""
    data = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "saml")
    with open(os.path.join(data, "idp-cert.pem")) as f:
        cert = "".join(line.strip() for line in f if not line.startswith("-----"))
    with open(os.path.join(data, "xmlsec-signed-response.xml"), "rb") as f:
        assertion = base64.b64encode(f.read()).decode()
    metadata = (
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
        'entityID="https://idp.example.com/metadata"><md:IDPSSODescriptor '
        'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing">'
        '<ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data>'
        f"<ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
        "</md:IDPSSODescriptor></md:EntityDescriptor>"
    )
    iam = client("iam")
    provider = f"arn:aws:iam::{ACCOUNT}:saml-provider/xmlsec"
    role = f"arn:aws:iam::{ACCOUNT}:role/xmlsec-role"
    # The fixture names these two: start from nothing when the server is reused.
    try:
        iam.delete_saml_provider(SAMLProviderArn=provider)
    except ClientError:
        pass
    try:
        iam.delete_role(RoleName="xmlsec-role")
    except ClientError:
        pass
    created = iam.create_saml_provider(Name="xmlsec", SAMLMetadataDocument=metadata)
    check(created["SAMLProviderArn"] == provider, "boto3 create_saml_provider", created)
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": provider},
                                                     "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"]}]}
    iam.create_role(RoleName="xmlsec-role", AssumeRolePolicyDocument=json.dumps(trust))
    out = client("sts").assume_role_with_saml(RoleArn=role, PrincipalArn=provider, SAMLAssertion=assertion)
    session_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/xmlsec-role/bob"
    check(out["AssumedRoleUser"]["Arn"] == session_arn and out["Subject"] == "bob@example.com",
          "boto3 assume_role_with_saml", out.get("AssumedRoleUser"))
    creds = out["Credentials"]
    me = client("sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]).get_caller_identity()
    check(me["Arn"] == session_arn, "boto3 SAML session credentials act as the role", me)
    code, _, status = boto_error(client("sts").assume_role_with_saml, RoleArn=role, PrincipalArn=provider,
                                 SAMLAssertion=base64.b64encode(b"<samlp:Response/>").decode())
    check((code, status) == ("InvalidIdentityToken", 400), "boto3 assume_role_with_saml, not a response",
          (code, status))
    rc, parsed, err = cli("sts", "assume-role-with-saml", "--role-arn", role, "--principal-arn", provider,
                          "--saml-assertion", assertion)
    check(rc == 0 and parsed and parsed["AssumedRoleUser"]["Arn"] == session_arn,
          "aws sts assume-role-with-saml", err[-300:])


def server_certificates():
    """UploadServerCertificate from the CLI with file:// arguments, as AWS's guide shows it, and from
    boto3; read back as uploaded, listed, renamed, tagged, refused and deleted
    (tests/data/server-certs)."""
    data = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "server-certs")

    def pem(name):
        with open(os.path.join(data, f"{name}.pem")) as f:
            return f.read()

    iam = client("iam")
    name = f"smoke-cert-{SUFFIX}"
    rc, out, err = cli("iam", "upload-server-certificate", "--server-certificate-name", name,
                       "--path", "/cloudfront/smoke/",
                       "--certificate-body", f"file://{data}/leaf-cert.pem",
                       "--private-key", f"file://{data}/leaf-key.pem",
                       "--certificate-chain", f"file://{data}/leaf-chain.pem")
    check(rc == 0, "cli upload-server-certificate", err)
    if out:
        m = out["ServerCertificateMetadata"]
        check(m["Arn"] == f"arn:aws:iam::{ACCOUNT}:server-certificate/cloudfront/smoke/{name}",
              "cli upload-server-certificate ARN", m)
        check(m["ServerCertificateId"].startswith("ASCA") and len(m["ServerCertificateId"]) == 21,
              "cli upload-server-certificate ID", m)
        check(m["Expiration"].startswith("2120-01-01T00:00:00"), "cli upload-server-certificate expiration", m)
    got = iam.get_server_certificate(ServerCertificateName=name)["ServerCertificate"]
    check(got["CertificateBody"] == pem("leaf-cert").strip() and got["CertificateChain"] == pem("leaf-chain").strip()
          and got["Tags"] == [] and "PrivateKey" not in got, "boto3 get_server_certificate", got)

    other = f"smoke-cert-ec-{SUFFIX}"
    up = iam.upload_server_certificate(ServerCertificateName=other, CertificateBody=pem("ec384-cert"),
                                       PrivateKey=pem("ec384-key"), Tags=[{"Key": "team", "Value": "qa"}])
    check(up.get("Tags") == [{"Key": "team", "Value": "qa"}], "boto3 upload_server_certificate with tags", up)
    listed = iam.list_server_certificates(PathPrefix="/cloudfront/smoke/")["ServerCertificateMetadataList"]
    check([c["ServerCertificateName"] for c in listed] == [name], "boto3 list_server_certificates by path", listed)
    rc, out, err = cli("iam", "list-server-certificates")
    check(rc == 0 and out and {name, other} <= {c["ServerCertificateName"] for c in out["ServerCertificateMetadataList"]},
          "cli list-server-certificates", (rc, out, err))

    renamed = f"smoke-cert-renamed-{SUFFIX}"
    rc, _, err = cli("iam", "update-server-certificate", "--server-certificate-name", name,
                     "--new-server-certificate-name", renamed, "--new-path", "/")
    check(rc == 0, "cli update-server-certificate", err)
    m = iam.get_server_certificate(ServerCertificateName=renamed)["ServerCertificate"]["ServerCertificateMetadata"]
    check(m["Arn"] == f"arn:aws:iam::{ACCOUNT}:server-certificate/{renamed}", "renamed server certificate", m)
    iam.tag_server_certificate(ServerCertificateName=renamed, Tags=[{"Key": "env", "Value": "test"}])
    tags = iam.list_server_certificate_tags(ServerCertificateName=renamed)["Tags"]
    check(tags == [{"Key": "env", "Value": "test"}], "boto3 list_server_certificate_tags", tags)

    err = boto_error(iam.upload_server_certificate, ServerCertificateName=f"smoke-bad-{SUFFIX}",
                     CertificateBody=pem("rsa2048-cert"), PrivateKey=pem("rsa1024-key"))
    check(err[0] == "KeyPairMismatch" and err[2] == 400, "boto3 upload with another key: KeyPairMismatch", err)
    err = boto_error(iam.upload_server_certificate, ServerCertificateName=f"smoke-bad-{SUFFIX}",
                     CertificateBody="not a certificate", PrivateKey=pem("rsa2048-key"))
    check(err == ("MalformedCertificate",
                  "Unable to parse certificate. Please ensure the certificate is in PEM format.", 400),
          "boto3 upload of a garbage body: MalformedCertificate", err)

    for n in (renamed, other):
        rc, _, err = cli("iam", "delete-server-certificate", "--server-certificate-name", n)
        check(rc == 0, f"cli delete-server-certificate {n}", err)
    err = boto_error(iam.get_server_certificate, ServerCertificateName=renamed)
    check(err == ("NoSuchEntity", f"The Server Certificate with name {renamed} cannot be found.", 404),
          "deleted server certificate is gone", err)

def user_credentials():
    """SSH keys (both encodings), a signing certificate and service-specific credentials, with boto3
    and the CLI (tests/data/user_credentials)."""
    data = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "user_credentials")

    def fixture(f):
        with open(os.path.join(data, f)) as fh:
            return fh.read()

    iam = client("iam")
    user = f"smoke-creds-{SUFFIX}"
    iam.create_user(UserName=user)
    key = iam.upload_ssh_public_key(UserName=user, SSHPublicKeyBody=fixture("ssh-1.pub"))["SSHPublicKey"]
    check(key["Fingerprint"] == "f2:03:a4:7d:f0:71:86:49:79:07:22:cc:da:de:1f:92"
          and key["SSHPublicKeyId"].startswith("APKA"), "boto3 upload_ssh_public_key", key)
    pem = iam.get_ssh_public_key(UserName=user, SSHPublicKeyId=key["SSHPublicKeyId"], Encoding="PEM")
    check(pem["SSHPublicKey"]["SSHPublicKeyBody"].strip() == fixture("ssh-1.pem").strip(),
          "boto3 get_ssh_public_key as PEM", pem["SSHPublicKey"]["SSHPublicKeyBody"][:80])
    rc, out, err = cli("iam", "list-ssh-public-keys", "--user-name", user)
    check(rc == 0 and out and [k["SSHPublicKeyId"] for k in out["SSHPublicKeys"]] == [key["SSHPublicKeyId"]],
          "cli list-ssh-public-keys", (rc, out, err))
    code, _, status = boto_error(iam.upload_ssh_public_key, UserName=user,
                                 SSHPublicKeyBody=fixture("ssh-1024.pub"))
    check((code, status) == ("InvalidPublicKey", 400), "boto3 upload of a 1024-bit key", (code, status))

    cert = iam.upload_signing_certificate(UserName=user, CertificateBody=fixture("cert-3.pem"))["Certificate"]
    check(len(cert["CertificateId"]) == 32 and cert["Status"] == "Active", "boto3 upload_signing_certificate", cert)
    cred = iam.create_service_specific_credential(UserName=user, ServiceName="codecommit.amazonaws.com")
    cred = cred["ServiceSpecificCredential"]
    check(cred["ServiceUserName"] == f"{user}-at-{ACCOUNT}" and len(cred["ServicePassword"]) == 44,
          "boto3 create_service_specific_credential", {k: v for k, v in cred.items() if k != "ServicePassword"})
    rc, out, err = cli("iam", "reset-service-specific-credential", "--user-name", user,
                       "--service-specific-credential-id", cred["ServiceSpecificCredentialId"])
    check(rc == 0 and out and out["ServiceSpecificCredential"]["ServicePassword"] != cred["ServicePassword"],
          "cli reset-service-specific-credential", err)
    code, msg, status = boto_error(iam.delete_user, UserName=user)
    check((code, status) == ("DeleteConflict", 409), "delete_user with credentials", (code, msg, status))
    iam.delete_ssh_public_key(UserName=user, SSHPublicKeyId=key["SSHPublicKeyId"])
    iam.delete_signing_certificate(UserName=user, CertificateId=cert["CertificateId"])
    iam.delete_service_specific_credential(UserName=user,
                                           ServiceSpecificCredentialId=cred["ServiceSpecificCredentialId"])
    iam.delete_user(UserName=user)
    check(True, "user deleted once its credentials are gone")


def main():
    for section in (users, groups, access_keys, login_profiles, account, roles_and_sts, errors, botocore_signing,
                    aws_managed_policies, saml, server_certificates, user_credentials):
        print(f"--- {section.__name__}")
        try:
            section()
        except Exception as e:  # an unexpected exception fails the section, the others still run
            check(False, f"{section.__name__} raised", repr(e))
    if FAILURES:
        print(f"\n{len(FAILURES)} smoke check(s) failed: {FAILURES}")
        return 1
    print("\nall smoke checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
