//! Hostile input from a fixed seed: whatever arrives, the answer is never a 5xx (other than
//! `NotImplemented` for operations localiam does not implement), and markers localiam did not
//! issue are AWS's "Invalid Marker.".

use crate::common;

use common::*;

/// A small deterministic generator (xorshift64*), so a failure is reproducible from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T: ?Sized>(&mut self, xs: &[&'a T]) -> &'a T {
        xs[self.below(xs.len())]
    }
}

const ACTIONS: &[&str] = &[
    "ListUsers",
    "GetUser",
    "CreateUser",
    "DeleteUser",
    "UpdateUser",
    "TagUser",
    "UntagUser",
    "ListUserTags",
    "CreateGroup",
    "GetGroup",
    "ListGroups",
    "ListGroupsForUser",
    "AddUserToGroup",
    "CreateAccessKey",
    "ListAccessKeys",
    "UpdateAccessKey",
    "GetAccessKeyLastUsed",
    "CreateLoginProfile",
    "ChangePassword",
    "CreatePolicy",
    "GetPolicy",
    "ListPolicies",
    "ListPolicyVersions",
    "CreatePolicyVersion",
    "ListEntitiesForPolicy",
    "ListPolicyTags",
    "AttachUserPolicy",
    "ListAttachedUserPolicies",
    "PutUserPolicy",
    "ListUserPolicies",
    "PutUserPermissionsBoundary",
    "SimulateCustomPolicy",
    "SimulatePrincipalPolicy",
    "GetContextKeysForCustomPolicy",
    "GetCallerIdentity",
    "GetAccessKeyInfo",
    "AssumeRole",
    "CreateRole",
    "",
    "Get%00User",
    "NoSuchAction",
];

const KEYS: &[&str] = &[
    "UserName",
    "GroupName",
    "NewUserName",
    "Path",
    "PathPrefix",
    "Marker",
    "MaxItems",
    "PolicyArn",
    "PolicyName",
    "PolicyDocument",
    "PolicySourceArn",
    "PermissionsBoundary",
    "AccessKeyId",
    "Status",
    "Password",
    "OldPassword",
    "NewPassword",
    "Scope",
    "OnlyAttached",
    "EntityFilter",
    "Tags.member.1.Key",
    "Tags.member.1.Value",
    "Tags.member.3.Key",
    "Tags.member.x.Key",
    "TagKeys.member.1",
    "TagKeys.member.0",
    "TagKeys.member.-1",
    "ActionNames.member.1",
    "ActionNames.member.2",
    "PolicyInputList.member.1",
    "ResourceArns.member.1",
    "ContextEntries.member.1.ContextKeyName",
    "ContextEntries.member.1.ContextKeyType",
    "ContextEntries.member.1.ContextKeyValues.member.1",
    "A.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.member.1.member.1",
    "Action",
    "Version",
];

/// Raw (already form-encoded) values.
const VALUES: &[&str] = &[
    "",
    "u1",
    "g1",
    "%FF%FE",
    "%",
    "%Z",
    "%00",
    "%C3%28",
    "-1",
    "0",
    "1",
    "1000",
    "1001",
    "99999999999999999999999",
    "9223372036854775808",
    "true",
    "maybe",
    "Active",
    "/",
    "//",
    "/a/b/",
    "arn:aws:iam::000000000000:policy/p1",
    "arn:aws:iam::000000000000:user/u1",
    "arn:aws:iam::aws:policy/ReadOnlyAccess",
    "arn:aws:iam::123:user/%FF",
    "AKIAIOSFODNN7EXAMPLE",
    "s3:GetObject",
    "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22*%22%2C%22Resource%22%3A%22*%22%7D%5D%7D",
    "%7B%22Statement%22%3A%5B%5B%5B%5B%5B%5B%5B%5B%5B%5B%5B%5B%5B%5B%5B%5B%5B%5B%5B%5B%5D%7D",
    "%7B",
    "2010-05-08",
    "2011-06-15",
    "bm90LWEtbWFya2Vy",
    "bG9jYWxpYW0tbWFya2VyOg",
    "bG9jYWxpYW0tbWFya2VyOv8",
];

fn value(rng: &mut Rng) -> String {
    match rng.below(12) {
        0 => "x".repeat(1 + rng.below(20_000)),
        1 => {
            let n = 1 + rng.below(64);
            (0..n).map(|_| format!("%{:02X}", rng.below(256))).collect()
        }
        _ => rng.pick(VALUES).to_string(),
    }
}

fn random_query(rng: &mut Rng) -> String {
    let mut parts = Vec::new();
    if rng.below(10) != 0 {
        parts.push(format!("Action={}", rng.pick(ACTIONS)));
    }
    if rng.below(4) != 0 {
        parts.push(format!(
            "Version={}",
            rng.pick(&["2010-05-08", "2011-06-15", "", "1999-01-01"])
        ));
    }
    for _ in 0..rng.below(8) {
        parts.push(format!("{}={}", rng.pick(KEYS), value(rng)));
    }
    if rng.below(8) == 0 {
        // Stray separators and bare keys.
        parts.push(
            rng.pick(&["&", "=", "==", "Marker", "&&Action"])
                .to_string(),
        );
    }
    parts.join("&")
}

fn auth_header(rng: &mut Rng) -> Option<String> {
    let service = rng.pick(&["iam", "sts", "s3", ""]);
    match rng.below(4) {
        0 => None,
        1 => Some(format!(
            "AWS4-HMAC-SHA256 Credential=AKIDUNKNOWN000000000/20261128/us-east-1/{service}/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature={}",
            "0".repeat(64)
        )),
        2 => Some(format!(
            "AWS4-HMAC-SHA256 Credential=test/20261128/us-east-1/{service}/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature={}",
            "0".repeat(64)
        )),
        _ => Some(
            rng.pick(&[
                "AWS4-HMAC-SHA256",
                "AWS4-HMAC-SHA256 Credential=",
                "AWS4-HMAC-SHA256 Credential=a/b/c/d/e/f/g, SignedHeaders=, Signature=zz",
                "Bearer x",
                "AWS4-HMAC-SHA256 Credential=123456789012/20261128/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=00",
            ])
            .to_string(),
        ),
    }
}

#[tokio::test]
async fn five_hundred_random_requests_never_5xx() {
    let srv = TestServer::start().await;
    let raw = srv.raw();
    // Some state for the requests to touch.
    for p in [
        vec![
            ("Action", "CreateUser"),
            ("Version", "2010-05-08"),
            ("UserName", "u1"),
        ],
        vec![
            ("Action", "CreateGroup"),
            ("Version", "2010-05-08"),
            ("GroupName", "g1"),
        ],
    ] {
        assert_eq!(raw.post_form(&p).await.status, 200);
    }
    let mut rng = Rng(0x5EED_1A3C_0FFE_E123);
    for i in 0..500 {
        let q = random_query(&mut rng);
        let auth = auth_header(&mut rng);
        let mut headers: Vec<(&str, &str)> = vec![("X-Amz-Date", "20261128T000000Z")];
        if let Some(a) = &auth {
            headers.push(("Authorization", a));
        }
        let ct = rng.pick(&[
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded; charset=utf-8",
            "text/plain",
            "",
        ]);
        if !ct.is_empty() {
            headers.push(("Content-Type", ct));
        }
        let r = match rng.below(3) {
            0 => raw.get(&format!("/?{q}")).await,
            1 => {
                raw.post_with_headers("/", &headers, q.clone().into_bytes())
                    .await
            }
            _ => {
                // Invalid UTF-8 bytes in the body, next to a valid request.
                let mut body = q.clone().into_bytes();
                body.extend_from_slice(b"&UserName=\xff\xfe\x80");
                raw.post_with_headers("/", &headers, body).await
            }
        };
        assert!(
            r.status < 500 || r.status == 501,
            "request {i} ({q:?}, auth {auth:?}) -> {}: {}",
            r.status,
            r.body
        );
    }
    // Still serving, and the state is intact.
    let r = raw
        .post_form(&[
            ("Action", "GetUser"),
            ("Version", "2010-05-08"),
            ("UserName", "u1"),
        ])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// Every list operation refuses a marker it did not hand out, as AWS does; its own markers work.
#[tokio::test]
async fn markers_not_issued_by_localiam_are_invalid() {
    let srv = TestServer::start().await;
    let raw = srv.raw();
    let iamc = srv.iam();
    iamc.create_user().user_name("mu").send().await.unwrap();
    iamc.create_group().group_name("mg").send().await.unwrap();
    iamc.add_user_to_group()
        .user_name("mu")
        .group_name("mg")
        .send()
        .await
        .unwrap();
    let doc =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    let arn = iamc
        .create_policy()
        .policy_name("mp")
        .policy_document(doc)
        .send()
        .await
        .unwrap()
        .policy()
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    let ops: &[(&str, &[(&str, &str)])] = &[
        ("ListUsers", &[]),
        ("ListGroups", &[]),
        ("GetGroup", &[("GroupName", "mg")]),
        ("ListGroupsForUser", &[("UserName", "mu")]),
        ("ListPolicies", &[]),
        ("ListAccessKeys", &[("UserName", "mu")]),
        ("ListUserTags", &[("UserName", "mu")]),
        ("ListUserPolicies", &[("UserName", "mu")]),
        ("ListGroupPolicies", &[("GroupName", "mg")]),
        ("ListAttachedUserPolicies", &[("UserName", "mu")]),
        ("ListAttachedGroupPolicies", &[("GroupName", "mg")]),
        ("ListEntitiesForPolicy", &[("PolicyArn", &arn)]),
        ("ListPolicyVersions", &[("PolicyArn", &arn)]),
        ("ListPolicyTags", &[("PolicyArn", &arn)]),
    ];
    for (op, extra) in ops {
        for bad in [
            "garbage",
            "mu",
            "99999999999999999999",
            "-1",
            "bm90LWEtbWFya2Vy",
        ] {
            let mut p = vec![("Action", *op), ("Version", "2010-05-08"), ("Marker", bad)];
            p.extend_from_slice(extra);
            let r = raw.post_form(&p).await;
            assert_eq!(r.status, 400, "{op} Marker={bad}: {}", r.body);
            assert_eq!(
                r.code().as_deref(),
                Some("ValidationError"),
                "{op}: {}",
                r.body
            );
            assert_eq!(
                r.message().as_deref(),
                Some("Invalid Marker."),
                "{op}: {}",
                r.body
            );
        }
    }
    // A marker localiam handed out continues the list.
    iamc.create_user().user_name("mu2").send().await.unwrap();
    let first = iamc.list_users().max_items(1).send().await.unwrap();
    assert!(first.is_truncated());
    let next = iamc
        .list_users()
        .marker(first.marker().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(next.users().len(), 1);
    assert_ne!(next.users()[0].user_name(), first.users()[0].user_name());
}
