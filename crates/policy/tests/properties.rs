//! Property tests for the evaluator and the parser.

use localiam_policy::{
    evaluate, Context, Decision, EvalInput, Policy, PolicyRef, Principal, Request, SourceType,
};
use proptest::prelude::*;
use serde_json::{json, Value};

const ACTIONS: &[&str] = &[
    "*",
    "s3:*",
    "s3:GetObject",
    "s3:Get*",
    "iam:Get*",
    "iam:?etUser",
    "ec2:*Instances",
    "sts:AssumeRole",
];
const REQ_ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "iam:GetUser",
    "iam:SetUser",
    "ec2:StartInstances",
    "sts:AssumeRole",
];
const RESOURCES: &[&str] = &[
    "*",
    "arn:aws:s3:::b/*",
    "arn:aws:s3:::b/k",
    "arn:aws:iam::*:user/${aws:username}",
    "arn:aws:iam::111122223333:user/*",
    "arn:aws:ec2:*:*:instance/*",
];
const REQ_RESOURCES: &[&str] = &[
    "arn:aws:s3:::b/k",
    "arn:aws:s3:::c/k",
    "arn:aws:iam::111122223333:user/alice",
    "arn:aws:iam::111122223333:user/bob",
    "arn:aws:ec2:us-east-1:111122223333:instance/i-1",
];

fn condition() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        Just(Some(
            json!({"StringEquals": {"aws:RequestTag/team": "blue"}})
        )),
        Just(Some(
            json!({"StringNotLike": {"aws:RequestTag/team": "r*"}})
        )),
        Just(Some(json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))),
        Just(Some(json!({"NumericLessThan": {"svc:n": "5"}}))),
        Just(Some(json!({"Bool": {"aws:SecureTransport": "true"}}))),
        Just(Some(
            json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}})
        )),
        Just(Some(json!({"Null": {"aws:RequestTag/team": "true"}}))),
    ]
}

fn statement() -> impl Strategy<Value = Value> {
    (
        any::<bool>(),
        any::<bool>(),
        prop::sample::subsequence(ACTIONS, 1..3),
        any::<bool>(),
        prop::sample::subsequence(RESOURCES, 1..3),
        condition(),
    )
        .prop_map(
            |(allow, not_action, actions, not_resource, resources, cond)| {
                let mut s = serde_json::Map::new();
                s.insert("Effect".into(), json!(if allow { "Allow" } else { "Deny" }));
                s.insert(
                    if not_action { "NotAction" } else { "Action" }.into(),
                    json!(actions),
                );
                s.insert(
                    if not_resource {
                        "NotResource"
                    } else {
                        "Resource"
                    }
                    .into(),
                    json!(resources),
                );
                if let Some(c) = cond {
                    s.insert("Condition".into(), c);
                }
                Value::Object(s)
            },
        )
}

fn document(statements: &[Value]) -> String {
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

fn context() -> impl Strategy<Value = Context> {
    (
        prop::option::of(prop::sample::select(vec!["blue", "red", "green"])),
        prop::option::of(prop::sample::select(vec!["10.1.2.3", "192.0.2.1"])),
        prop::option::of(0u32..10),
        prop::option::of(any::<bool>()),
        prop::option::of(prop::sample::subsequence(vec!["a", "b", "c"], 0..3)),
    )
        .prop_map(|(team, ip, n, secure, keys)| {
            let mut c = Context::new();
            if let Some(t) = team {
                c.insert("aws:RequestTag/team", t);
            }
            if let Some(ip) = ip {
                c.insert("aws:SourceIp", ip);
            }
            if let Some(n) = n {
                c.insert("svc:n", n.to_string());
            }
            if let Some(s) = secure {
                c.insert("aws:SecureTransport", s.to_string());
            }
            if let Some(k) = keys {
                c.insert_many("aws:TagKeys", k.into_iter().map(String::from).collect());
            }
            c
        })
}

fn decide(doc: &str, action: &str, resource: &str, ctx: &Context) -> Decision {
    let policy = Policy::parse(doc).expect("generated policy parses");
    let alice = Principal::user("arn:aws:iam::111122223333:user/alice", "AIDAALICE");
    let mut ctx = ctx.clone();
    ctx.add_principal_keys(&alice);
    let refs = [PolicyRef::new("p", SourceType::UserInline, &policy)];
    let request = Request {
        principal: &alice,
        action,
        resource,
        context: &ctx,
    };
    evaluate(&EvalInput::new(request, &refs)).decision
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn deny_star_always_denies(
        mut stmts in prop::collection::vec(statement(), 0..6),
        pos in any::<prop::sample::Index>(),
        action in prop::sample::select(REQ_ACTIONS),
        resource in prop::sample::select(REQ_RESOURCES),
        ctx in context(),
    ) {
        let at = pos.index(stmts.len() + 1);
        stmts.insert(at, json!({"Effect": "Deny", "Action": "*", "Resource": "*"}));
        prop_assert_eq!(decide(&document(&stmts), action, resource, &ctx), Decision::ExplicitDeny);
    }

    #[test]
    fn adding_an_allow_never_removes_an_allow(
        stmts in prop::collection::vec(statement(), 0..6),
        extra in statement(),
        action in prop::sample::select(REQ_ACTIONS),
        resource in prop::sample::select(REQ_RESOURCES),
        ctx in context(),
    ) {
        let before = decide(&document(&stmts), action, resource, &ctx);
        let mut extra = extra;
        extra["Effect"] = json!("Allow");
        let mut more = stmts.clone();
        more.push(extra);
        let after = decide(&document(&more), action, resource, &ctx);
        if before == Decision::Allow {
            prop_assert_eq!(after, Decision::Allow);
        }
        if before == Decision::ExplicitDeny {
            prop_assert_eq!(after, Decision::ExplicitDeny);
        }
    }

    #[test]
    fn statement_order_does_not_matter(
        stmts in prop::collection::vec(statement(), 1..7),
        seed in any::<u64>(),
        action in prop::sample::select(REQ_ACTIONS),
        resource in prop::sample::select(REQ_RESOURCES),
        ctx in context(),
    ) {
        let mut shuffled = stmts.clone();
        // Deterministic Fisher-Yates driven by the seed.
        let mut s = seed | 1;
        for i in (1..shuffled.len()).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            shuffled.swap(i, (s % (i as u64 + 1)) as usize);
        }
        prop_assert_eq!(
            decide(&document(&stmts), action, resource, &ctx),
            decide(&document(&shuffled), action, resource, &ctx)
        );
    }

    #[test]
    fn parser_never_panics_on_strings(text in ".{0,200}") {
        let _ = Policy::parse(&text);
    }

    #[test]
    fn parser_never_panics_on_json_like_text(
        text in r#"[\{\}\[\]",:0-9a-zA-Z*?$ \n]{0,200}"#
    ) {
        let _ = Policy::parse(&text);
    }

    #[test]
    fn parser_never_panics_on_arbitrary_json(v in arb_json()) {
        let _ = Policy::parse(&v.to_string());
        let wrapped = json!({"Version": "2012-10-17", "Statement": v});
        let _ = Policy::parse(&wrapped.to_string());
        let in_statement = json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow",
            "Action": v.clone(), "Resource": v.clone(), "Principal": v.clone(),
            "Condition": {"StringLike": {"k": v.clone()}}}});
        if let Ok(p) = Policy::parse(&in_statement.to_string()) {
            // Whatever parsed must evaluate without panicking.
            let _ = decide(&in_statement.to_string(), "s3:GetObject", "arn:aws:s3:::b/k", &Context::new());
            let _ = p.context_keys();
        }
    }
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "[a-zA-Z0-9:*?${}/ ,']{0,20}".prop_map(Value::String),
        prop::sample::select(vec![
            "Allow",
            "Deny",
            "*",
            "${aws:username}",
            "arn:aws:s3:::b/*",
            "Statement",
            "Effect"
        ])
        .prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "Version",
                        "Statement",
                        "Effect",
                        "Action",
                        "NotAction",
                        "Resource",
                        "NotResource",
                        "Principal",
                        "NotPrincipal",
                        "Condition",
                        "Sid",
                        "AWS",
                        "StringEquals",
                        "ForAnyValue:StringLike",
                        "Null",
                        "x"
                    ]),
                    inner
                ),
                0..5
            )
            .prop_map(|kv| Value::Object(
                kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
            )),
        ]
    })
}
