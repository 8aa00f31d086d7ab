//! API-level behaviour: statement positions, per-source decisions, messages, context keys,
//! trust checks.

use localiam_policy::{
    access_denied_message, context_keys, evaluate, trust_check, Context, Decision, EvalInput,
    Policy, PolicyRef, Position, Principal, Reason, Request, SourceType, TrustDecision,
};

const ALICE: &str = "arn:aws:iam::111122223333:user/alice";

fn pos(line: u32, column: u32) -> Position {
    Position { line, column }
}

#[test]
fn matched_statements_carry_source_and_positions() {
    let text = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Sid\": \"A\",\n      \"Effect\": \"Allow\",\n      \"Action\": \"s3:*\",\n      \"Resource\": \"*\"\n    },\n    {\"Sid\": \"D\", \"Effect\": \"Deny\", \"Action\": \"s3:Delete*\", \"Resource\": \"*\"}\n  ]\n}";
    let policy = Policy::parse(text).unwrap();
    assert_eq!(policy.statements()[0].start_position(), pos(4, 5));
    assert_eq!(policy.statements()[0].end_position(), pos(9, 6));
    assert_eq!(policy.statements()[1].start_position(), pos(10, 5));
    assert_eq!(policy.statements()[1].end_position(), pos(10, 76));
    let alice = Principal::user(ALICE, "AIDA1");
    let ctx = Context::new();
    let refs = [PolicyRef::new("MyPolicy", SourceType::UserInline, &policy)];
    let req = Request {
        principal: &alice,
        action: "s3:DeleteObject",
        resource: "arn:aws:s3:::b/k",
        context: &ctx,
    };
    let eval = evaluate(&EvalInput::new(req, &refs));
    assert_eq!(eval.decision, Decision::ExplicitDeny);
    assert_eq!(eval.identity, Decision::ExplicitDeny);
    assert_eq!(eval.matched.len(), 2);
    let deny = eval.matched[1];
    assert_eq!(
        (deny.source_id, deny.source, deny.sid, deny.index),
        ("MyPolicy", SourceType::UserInline, Some("D"), 1)
    );
    assert_eq!(deny.start, pos(10, 5));
    assert_eq!(SourceType::UserInline.simulator_name(), "user");
    assert_eq!(Decision::ExplicitDeny.simulator_name(), "explicitDeny");
}

#[test]
fn per_source_decisions() {
    let identity = Policy::parse(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
    )
    .unwrap();
    let boundary = Policy::parse(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#,
    )
    .unwrap();
    let alice = Principal::user(ALICE, "AIDA1");
    let ctx = Context::new();
    let id = [PolicyRef::new("i", SourceType::CustomerManaged, &identity)];
    let b = [PolicyRef::new(
        "b",
        SourceType::PermissionsBoundary,
        &boundary,
    )];
    let req = Request {
        principal: &alice,
        action: "iam:CreateUser",
        resource: "*",
        context: &ctx,
    };
    let input = EvalInput {
        boundary: Some(&b),
        ..EvalInput::new(req, &id)
    };
    let eval = evaluate(&input);
    assert_eq!(eval.decision, Decision::ImplicitDeny);
    assert_eq!(eval.reason, Reason::NoBoundaryAllow);
    assert_eq!(eval.identity, Decision::Allow);
    assert_eq!(eval.boundary, Some(Decision::ImplicitDeny));
    assert_eq!(eval.session, None);
    assert_eq!(eval.resource, None);
    assert!(!eval.allowed());
}

#[test]
fn messages() {
    assert_eq!(
        Reason::NoIdentityAllow.message_tail("iam:CreateUser"),
        "because no identity-based policy allows the iam:CreateUser action"
    );
    assert_eq!(
        Reason::ExplicitDenyIdentity.message_tail("x:y"),
        "with an explicit deny in an identity-based policy"
    );
    assert_eq!(
        Reason::ExplicitDenyResource.message_tail("x:y"),
        "with an explicit deny in a resource-based policy"
    );
    assert_eq!(
        Reason::ExplicitDenyBoundary.message_tail("x:y"),
        "with an explicit deny in a permissions boundary"
    );
    assert_eq!(
        Reason::ExplicitDenySession.message_tail("x:y"),
        "with an explicit deny in a session policy"
    );
    assert_eq!(
        Reason::NoBoundaryAllow.message_tail("a:b"),
        "because no permissions boundary allows the a:b action"
    );
    assert_eq!(
        Reason::NoSessionAllow.message_tail("a:b"),
        "because no session policy allows the a:b action"
    );
    assert_eq!(
        Reason::NoResourceAllow.message_tail("a:b"),
        "because no resource-based policy allows the a:b action"
    );
    assert_eq!(Reason::Allowed.message_tail("a:b"), "");
    assert_eq!(
        access_denied_message(ALICE, "iam:CreateUser", "arn:aws:iam::111122223333:user/bob", Reason::NoIdentityAllow),
        "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::111122223333:user/bob because no identity-based policy allows the iam:CreateUser action"
    );
}

#[test]
fn context_keys_as_written_in_order() {
    // The example from the GetContextKeysForCustomPolicy documentation.
    let p = Policy::parse(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:us-west-2:123456789012:table/${aws:username}","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2015-08-16T12:00:00Z"}}}}"#).unwrap();
    assert_eq!(context_keys([&p]), ["aws:username", "aws:CurrentTime"]);
    let q = Policy::parse(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringLike":{"s3:prefix":"${aws:USERNAME}/*"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"StringEquals":{"aws:PrincipalTag/team":"${aws:PrincipalTag/team, 'x'}"}}}]}"#).unwrap();
    assert_eq!(
        context_keys([&p, &q]),
        [
            "aws:username",
            "aws:CurrentTime",
            "s3:prefix",
            "aws:SourceIp",
            "aws:PrincipalTag/team"
        ]
    );
    let old = Policy::parse(r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}"}}"#).unwrap();
    assert!(old.context_keys().is_empty());
}

#[test]
fn trust_checks() {
    let trust = Policy::parse(r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"},
        {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:user/bob","Service":"ec2.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]},
        {"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:user/mallory"},"Action":"sts:AssumeRole"}]}"#).unwrap();
    let ctx = Context::new();
    let check = |p: &Principal, action: &str| {
        trust_check(
            &trust,
            &Request {
                principal: p,
                action,
                resource: "arn:aws:iam::111122223333:role/r",
                context: &ctx,
            },
        )
    };
    assert_eq!(
        check(&Principal::user(ALICE, ""), "sts:AssumeRole"),
        TrustDecision::AllowedForAccount
    );
    assert_eq!(
        check(
            &Principal::user("arn:aws:iam::444455556666:user/bob", ""),
            "sts:AssumeRole"
        ),
        TrustDecision::Allowed
    );
    assert_eq!(
        check(
            &Principal::user("arn:aws:iam::444455556666:user/eve", ""),
            "sts:AssumeRole"
        ),
        TrustDecision::NotAllowed
    );
    assert_eq!(
        check(&Principal::service("ec2.amazonaws.com"), "sts:AssumeRole"),
        TrustDecision::Allowed
    );
    assert_eq!(
        check(
            &Principal::user("arn:aws:iam::111122223333:user/mallory", ""),
            "sts:AssumeRole"
        ),
        TrustDecision::Denied
    );
    assert_eq!(
        check(&Principal::root("111122223333"), "sts:AssumeRole"),
        TrustDecision::Allowed
    );
    assert_eq!(
        check(&Principal::user(ALICE, ""), "sts:TagSession"),
        TrustDecision::NotAllowed
    );
}

#[test]
fn principal_context_keys() {
    let mut p = Principal::assumed_role(
        "arn:aws:sts::111122223333:assumed-role/dev/s1",
        "arn:aws:iam::111122223333:role/team/dev",
        "AROAEXAMPLE:s1",
    );
    p.tags.push(("Team".into(), "blue".into()));
    let mut ctx = Context::new();
    ctx.add_principal_keys(&p);
    assert_eq!(
        ctx.get("aws:principalarn").unwrap(),
        ["arn:aws:iam::111122223333:role/team/dev"]
    );
    assert_eq!(ctx.get("aws:PrincipalAccount").unwrap(), ["111122223333"]);
    assert_eq!(ctx.get("aws:PrincipalType").unwrap(), ["AssumedRole"]);
    assert_eq!(ctx.get("aws:userid").unwrap(), ["AROAEXAMPLE:s1"]);
    assert!(ctx.get("aws:username").is_none());
    assert_eq!(ctx.get("aws:PrincipalTag/team").unwrap(), ["blue"]);
}

#[test]
fn policies_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Policy>();
    let p = std::sync::Arc::new(
        Policy::parse(r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#).unwrap(),
    );
    let q = p.clone();
    std::thread::spawn(move || assert_eq!(q.statements().len(), 1))
        .join()
        .unwrap();
}

#[test]
fn the_root_user_is_limited_by_session_policies_only() {
    let session = Policy::parse(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}}"#,
    )
    .unwrap();
    let root = Principal::root("111122223333");
    let ctx = Context::new();
    let session_refs = [PolicyRef::new(
        "SessionPolicy",
        SourceType::SessionPolicy,
        &session,
    )];
    let decide = |action: &str, with_session: bool| {
        let req = Request {
            principal: &root,
            action,
            resource: "*",
            context: &ctx,
        };
        let mut input = EvalInput::new(req, &[]);
        if with_session {
            input.session = Some(&session_refs);
        }
        let e = evaluate(&input);
        (e.decision, e.reason)
    };
    // Without identity policies, the root user may do anything...
    assert_eq!(decide("iam:CreateUser", false).0, Decision::Allow);
    // ...except what its session policy leaves out.
    assert_eq!(decide("iam:ListUsers", true).0, Decision::Allow);
    assert_eq!(
        decide("iam:CreateUser", true),
        (Decision::ImplicitDeny, Reason::NoSessionAllow)
    );
}
