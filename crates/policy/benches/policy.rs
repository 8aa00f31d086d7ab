//! Evaluator benchmarks: decisions over 1/10/100 statements (wildcards, variables,
//! conditions) and parsing (+ validation) of a ~6 KB policy.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use localiam_policy::validate::{validate, validate_and_parse, PolicyKind};
use localiam_policy::{
    evaluate, Context, EvalInput, Policy, PolicyRef, Principal, Request, SourceType,
};
use serde_json::{json, Value};

/// Statement `i` of a realistic mix: wildcard actions, ARN patterns, variables, conditions.
fn statement(i: usize) -> Value {
    match i % 5 {
        0 => json!({"Sid": format!("S{i}"), "Effect": "Allow",
            "Action": [format!("s3:Get*{i}"), "s3:List*"],
            "Resource": [format!("arn:aws:s3:::bucket-{i}/*"), "arn:aws:s3:::home/${aws:username}/*"],
            "Condition": {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}}}),
        1 => json!({"Sid": format!("S{i}"), "Effect": "Allow",
            "Action": ["iam:*AccessKey*", format!("iam:Get{i}*")],
            "Resource": "arn:aws:iam::*:user/${aws:username}"}),
        2 => json!({"Sid": format!("S{i}"), "Effect": "Deny", "NotAction": ["iam:*", "sts:*"],
            "Resource": "*",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"},
                          "StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}}),
        3 => json!({"Sid": format!("S{i}"), "Effect": "Allow", "Action": format!("ec2:*{i}"),
            "Resource": format!("arn:aws:ec2:*:111122223333:instance/i-{i}*"),
            "Condition": {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"},
                          "DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}}),
        _ => json!({"Sid": format!("S{i}"), "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:Query"],
            "Resource": format!("arn:aws:dynamodb:us-east-1:111122223333:table/T{i}"),
            "Condition": {"ForAllValues:StringEquals": {"dynamodb:Attributes": ["a", "b", "c"]}}}),
    }
}

fn policy_text(n: usize) -> String {
    let statements: Vec<Value> = (0..n).map(statement).collect();
    serde_json::to_string_pretty(&json!({"Version": "2012-10-17", "Statement": statements}))
        .unwrap()
}

fn decisions(c: &mut Criterion) {
    let alice = Principal {
        tags: vec![("team".into(), "blue".into())],
        ..Principal::user("arn:aws:iam::111122223333:user/alice", "AIDAALICE")
    };
    let mut ctx = Context::new();
    ctx.add_principal_keys(&alice);
    ctx.insert("aws:SourceIp", "10.1.2.3");
    ctx.insert("aws:RequestedRegion", "us-east-1");
    ctx.insert("aws:CurrentTime", "2026-01-01T00:00:00Z");
    ctx.insert("aws:ResourceTag/team", "blue");
    let mut group = c.benchmark_group("decide");
    for n in [1usize, 10, 100] {
        let policy = Policy::parse(&policy_text(n)).unwrap();
        let refs = [PolicyRef::new("p", SourceType::CustomerManaged, &policy)];
        // A request that reaches the end of the list (implicit deny: every statement tried)
        // and one that is allowed through a variable-bearing statement.
        let requests = [
            (
                "implicit_deny",
                "sqs:SendMessage",
                "arn:aws:sqs:us-east-1:111122223333:q",
            ),
            ("allow_var", "s3:ListBucket", "arn:aws:s3:::home/alice/x"),
        ];
        for (name, action, resource) in requests {
            let request = Request {
                principal: &alice,
                action,
                resource,
                context: &ctx,
            };
            let input = EvalInput::new(request, &refs);
            group.bench_with_input(BenchmarkId::new(name, n), &input, |b, input| {
                b.iter(|| evaluate(black_box(input)))
            });
        }
    }
    group.finish();
}

fn parsing(c: &mut Criterion) {
    let mut n = 1;
    while policy_text(n + 1).len() <= 6144 {
        n += 1;
    }
    let text = policy_text(n);
    let mut group = c.benchmark_group("parse");
    group.bench_function(BenchmarkId::new("parse", text.len()), |b| {
        b.iter(|| Policy::parse(black_box(&text)).unwrap())
    });
    group.bench_function(BenchmarkId::new("validate_and_parse", text.len()), |b| {
        b.iter(|| {
            let _ = validate(black_box(&text), PolicyKind::Identity);
            Policy::parse(black_box(&text)).unwrap()
        })
    });
    group.bench_function(
        BenchmarkId::new("validate_and_parse_once", text.len()),
        |b| b.iter(|| validate_and_parse(black_box(&text), PolicyKind::Identity).unwrap()),
    );
    group.finish();
}

criterion_group!(benches, decisions, parsing);
criterion_main!(benches);
