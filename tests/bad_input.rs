//! Malformed and hostile requests sent raw (unsigned, open mode): AWS's 4xx errors, never a 5xx.

use crate::common;

use common::*;

const USER_NAME_PATTERN: &str = "1 validation error detected: Value at 'userName' failed to \
     satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+";

fn iam(action: &str) -> Vec<(&str, &str)> {
    vec![("Action", action), ("Version", "2010-05-08")]
}

#[track_caller]
fn assert_4xx(r: &RawResponse) {
    assert!(
        (400..500).contains(&r.status),
        "expected a 4xx, got {}: {}",
        r.status,
        r.body
    );
    assert!(r.code().is_some(), "no error code in: {}", r.body);
}

#[tokio::test]
async fn unknown_action_is_invalid_action() {
    let srv = TestServer::start().await;
    let raw = srv.raw();
    let r = raw.post_form(&iam("DoesNotExist")).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.code().as_deref(), Some("InvalidAction"));
    assert_eq!(
        r.message().as_deref(),
        Some("Could not find operation DoesNotExist for version 2010-05-08")
    );
    // Same through GET.
    let g = raw.get_query(&iam("DoesNotExist")).await;
    assert_eq!(g.status, 400, "{}", g.body);
    assert_eq!(g.code().as_deref(), Some("InvalidAction"));
}

#[tokio::test]
async fn missing_action_is_a_client_error() {
    let srv = TestServer::start().await;
    let r = srv.raw().post_form(&[("Version", "2010-05-08")]).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_4xx(&r);
    let r = srv.raw().get("/").await;
    assert_4xx(&r);
}

#[tokio::test]
async fn invalid_user_name_pattern() {
    let srv = TestServer::start().await;
    let raw = srv.raw();
    for bad in ["has space", "semi;colon", "slash/name", "ümlaut", "star*"] {
        let mut p = iam("CreateUser");
        p.push(("UserName", bad));
        let r = raw.post_form(&p).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert_eq!(r.code().as_deref(), Some("ValidationError"), "{bad}");
        assert_eq!(r.message().as_deref(), Some(USER_NAME_PATTERN), "{bad}");
    }
    // The same constraint applies wherever a userName is taken.
    for action in ["GetUser", "DeleteUser", "CreateAccessKey", "ListAccessKeys"] {
        let mut p = iam(action);
        p.push(("UserName", "bad name"));
        let r = raw.post_form(&p).await;
        assert_eq!(r.status, 400, "{action}: {}", r.body);
        assert_eq!(r.code().as_deref(), Some("ValidationError"), "{action}");
        assert_eq!(r.message().as_deref(), Some(USER_NAME_PATTERN), "{action}");
    }
}

#[tokio::test]
async fn missing_required_parameter() {
    let srv = TestServer::start().await;
    let r = srv.raw().post_form(&iam("CreateUser")).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.code().as_deref(), Some("ValidationError"));
    assert_eq!(
        r.message().as_deref(),
        Some(
            "1 validation error detected: Value null at 'userName' failed to satisfy \
             constraint: Member must not be null"
        )
    );
    let r = srv.raw().post_form(&iam("CreateGroup")).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.code().as_deref(), Some("ValidationError"));
}

#[tokio::test]
async fn huge_values_are_rejected_cleanly() {
    let srv = TestServer::start().await;
    let raw = srv.raw();
    let long = "a".repeat(100_000);
    let mut p = iam("CreateUser");
    p.push(("UserName", &long));
    let r = raw.post_form(&p).await;
    assert_eq!(r.status, 400, "{}", &r.body[..r.body.len().min(500)]);
    assert_eq!(r.code().as_deref(), Some("ValidationError"));
    assert_eq!(
        r.message().as_deref(),
        Some(
            "1 validation error detected: Value at 'userName' failed to satisfy constraint: \
             Member must have length less than or equal to 64"
        )
    );
    // The value is not echoed back.
    assert!(
        r.body.len() < 10_000,
        "response echoes input: {} bytes",
        r.body.len()
    );

    let mut p = iam("CreateUser");
    p.push(("UserName", "fine-name"));
    let path = format!("/{}/", "p".repeat(600));
    p.push(("Path", &path));
    let r = raw.post_form(&p).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.code().as_deref(), Some("ValidationError"));

    // A multi-megabyte body of one parameter.
    let big = "x".repeat(4 * 1024 * 1024);
    let mut p = iam("CreateGroup");
    p.push(("GroupName", &big));
    let r = raw.post_form(&p).await;
    assert_4xx(&r);
}

#[tokio::test]
async fn invalid_path_is_validation_error() {
    let srv = TestServer::start().await;
    let raw = srv.raw();
    for path in ["no-leading-slash/", "/no-trailing-slash", "", "/tab\there/"] {
        let mut p = iam("CreateUser");
        p.push(("UserName", "pathy"));
        p.push(("Path", path));
        let r = raw.post_form(&p).await;
        assert_eq!(r.status, 400, "{path:?}: {}", r.body);
        assert_eq!(r.code().as_deref(), Some("ValidationError"), "{path:?}");
    }
}

#[tokio::test]
async fn garbage_bodies_never_5xx() {
    let srv = TestServer::start().await;
    let raw = srv.raw();
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("application/x-www-form-urlencoded", b"".to_vec()),
        ("application/x-www-form-urlencoded", b"&&&===&".to_vec()),
        ("application/x-www-form-urlencoded", b"Action=%ZZ&Version=%".to_vec()),
        (
            "application/x-www-form-urlencoded",
            b"Action=CreateUser&Version=2010-05-08&UserName=%FF%FE".to_vec(),
        ),
        ("application/x-www-form-urlencoded", vec![0xff, 0x00, 0xfe, 0x80, 0x0a]),
        ("application/json", br#"{"Action":"ListUsers"}"#.to_vec()),
        ("text/xml", b"<ListUsers/>".to_vec()),
        (
            "application/x-www-form-urlencoded",
            b"Action=ListUsers&Action=CreateUser&Version=2010-05-08".to_vec(),
        ),
        (
            "application/x-www-form-urlencoded",
            b"Action=ListUsers&Version=1999-01-01".to_vec(),
        ),
        (
            "application/x-www-form-urlencoded",
            b"Action=ListUsers&Version=2010-05-08&MaxItems=abc".to_vec(),
        ),
        (
            "application/x-www-form-urlencoded",
            b"Action=ListUsers&Version=2010-05-08&MaxItems=0".to_vec(),
        ),
        (
            "application/x-www-form-urlencoded",
            b"Action=ListUsers&Version=2010-05-08&MaxItems=99999999999999999999".to_vec(),
        ),
        (
            "application/x-www-form-urlencoded",
            b"Action=ListUsers&Version=2010-05-08&Marker=not-a-marker".to_vec(),
        ),
        (
            "application/x-www-form-urlencoded",
            b"Action=CreateUser&Version=2010-05-08&UserName=t&Tags.member.1.Key=k".to_vec(),
        ),
        (
            "application/x-www-form-urlencoded",
            b"Action=CreateUser&Version=2010-05-08&UserName=t2&Tags.member.99999999999.Key=k&Tags.member.99999999999.Value=v"
                .to_vec(),
        ),
        (
            "application/x-www-form-urlencoded",
            b"Action=UpdateAccessKey&Version=2010-05-08&UserName=u&AccessKeyId=AKIAIOSFODNN7EXAMPLE&Status=Bogus"
                .to_vec(),
        ),
    ];
    for (ct, body) in bodies {
        let shown = String::from_utf8_lossy(&body).into_owned();
        let r = raw.post("/", ct, body).await;
        assert!(r.status < 500, "{shown:?} -> {}: {}", r.status, r.body);
    }
    // Query strings.
    for q in [
        "/?Action=ListUsers&Version=2010-05-08&MaxItems=-1",
        "/?Action=Get%00User&Version=2010-05-08",
        "/?%%%%",
        "/?Action=CreateUser&Version=2010-05-08&UserName=",
        "/some/other/path?Action=ListUsers&Version=2010-05-08",
    ] {
        let r = raw.get(q).await;
        assert!(r.status < 500, "{q} -> {}: {}", r.status, r.body);
    }
}

#[tokio::test]
async fn invalid_max_items_is_validation_error() {
    let srv = TestServer::start().await;
    let raw = srv.raw();
    for bad in ["0", "1001"] {
        let mut p = iam("ListUsers");
        p.push(("MaxItems", bad));
        let r = raw.post_form(&p).await;
        assert_eq!(r.status, 400, "MaxItems={bad}: {}", r.body);
        assert_eq!(r.code().as_deref(), Some("ValidationError"), "{bad}");
    }
}

#[tokio::test]
async fn invalid_status_enum_is_validation_error() {
    let srv = TestServer::start().await;
    let iamc = srv.iam();
    let name = unique("enum");
    iamc.create_user().user_name(&name).send().await.unwrap();
    let k = iamc
        .create_access_key()
        .user_name(&name)
        .send()
        .await
        .unwrap();
    let id = k.access_key().unwrap().access_key_id().to_string();
    let mut p = iam("UpdateAccessKey");
    p.push(("UserName", &name));
    p.push(("AccessKeyId", &id));
    p.push(("Status", "Bogus"));
    let r = srv.raw().post_form(&p).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.code().as_deref(), Some("ValidationError"));
}

/// A deterministic sweep of odd values through every foundation operation's parameters.
#[tokio::test]
async fn parameter_sweep_never_5xx() {
    let srv = TestServer::start().await;
    let raw = srv.raw();
    let actions: &[(&str, &[&str])] = &[
        ("CreateUser", &["UserName", "Path"]),
        ("GetUser", &["UserName"]),
        ("UpdateUser", &["UserName", "NewUserName", "NewPath"]),
        ("DeleteUser", &["UserName"]),
        ("ListUsers", &["PathPrefix", "Marker", "MaxItems"]),
        (
            "TagUser",
            &["UserName", "Tags.member.1.Key", "Tags.member.1.Value"],
        ),
        ("UntagUser", &["UserName", "TagKeys.member.1"]),
        ("ListUserTags", &["UserName", "Marker", "MaxItems"]),
        ("CreateGroup", &["GroupName", "Path"]),
        ("GetGroup", &["GroupName", "Marker", "MaxItems"]),
        ("UpdateGroup", &["GroupName", "NewGroupName", "NewPath"]),
        ("DeleteGroup", &["GroupName"]),
        ("ListGroups", &["PathPrefix", "Marker", "MaxItems"]),
        ("AddUserToGroup", &["GroupName", "UserName"]),
        ("RemoveUserFromGroup", &["GroupName", "UserName"]),
        ("ListGroupsForUser", &["UserName", "Marker", "MaxItems"]),
        ("CreateAccessKey", &["UserName"]),
        ("UpdateAccessKey", &["UserName", "AccessKeyId", "Status"]),
        ("DeleteAccessKey", &["UserName", "AccessKeyId"]),
        ("ListAccessKeys", &["UserName", "Marker", "MaxItems"]),
        ("GetAccessKeyLastUsed", &["AccessKeyId"]),
        (
            "CreateLoginProfile",
            &["UserName", "Password", "PasswordResetRequired"],
        ),
        ("GetLoginProfile", &["UserName"]),
        (
            "UpdateLoginProfile",
            &["UserName", "Password", "PasswordResetRequired"],
        ),
        ("DeleteLoginProfile", &["UserName"]),
    ];
    let long = "z".repeat(2000);
    let values: Vec<&str> = vec![
        "",
        " ",
        "ok-name",
        "/",
        "//",
        "-1",
        "0",
        "true",
        "maybe",
        "\u{0}",
        "\u{1F600}",
        "<xml>&amp;",
        "' OR 1=1 --",
        "%s%n",
        "AKIA",
        long.as_str(),
    ];
    let mut n = 0usize;
    for (action, params) in actions {
        for (i, v) in values.iter().enumerate() {
            let mut p = iam(action);
            for (j, name) in params.iter().enumerate() {
                // Vary which parameter gets the odd value; others get a plausible one.
                let val = if (i + j) % params.len() == 0 {
                    *v
                } else {
                    "sweep"
                };
                p.push((*name, val));
            }
            let r = raw.post_form(&p).await;
            n += 1;
            assert!(r.status < 500, "{action} {p:?} -> {}: {}", r.status, r.body);
        }
    }
    assert!(n > 300);
    // The server is still healthy afterwards.
    srv.iam().list_users().send().await.expect("still serving");
}

/// Found by tests/hostile_input.rs: an echoed value holding a control character (STS quotes the
/// offending value) made an error answer no XML parser accepts, so SDKs saw a parse failure
/// instead of the ValidationError. Such characters come back as U+FFFD.
#[tokio::test]
async fn echoed_control_characters_keep_the_answer_well_formed() {
    let srv = TestServer::start().await;
    let r = srv
        .raw()
        .post_form(&[
            ("Action", "AssumeRole"),
            ("Version", "2011-06-15"),
            ("RoleArn", "arn:aws:iam::000000000000:role/r"),
            ("RoleSessionName", "a\u{0}b\u{7}"),
        ])
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.code().as_deref(), Some("ValidationError"));
    assert!(!r.body.contains(['\u{0}', '\u{7}']), "{:?}", r.body);
    assert!(
        r.message().is_some_and(|m| m.starts_with(
            "1 validation error detected: Value 'a\u{FFFD}b\u{FFFD}' at 'roleSessionName'"
        )),
        "{}",
        r.body
    );
    // The SDK reads it as the error it is.
    let e = expect_err(
        srv.sts()
            .assume_role()
            .role_arn("arn:aws:iam::000000000000:role/r")
            .role_session_name("x\u{1}y")
            .send()
            .await,
    );
    assert_eq!(
        (e.code.as_str(), e.status),
        ("ValidationError", 400),
        "{e:?}"
    );
}

/// Found by tests/hostile_input.rs: a 2 MB VirtualMFADeviceName (the model sets no maximum) was a
/// 500, its QR code impossible to draw. The name must leave the serial number (its ARN) within
/// the 256 characters every other operation takes.
#[tokio::test]
async fn an_mfa_device_name_too_long_for_its_serial_number_is_refused() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    // "arn:aws:iam::000000000000:mfa/" takes 30 characters of the 256.
    let fits = "m".repeat(226);
    let out = iam
        .create_virtual_mfa_device()
        .virtual_mfa_device_name(&fits)
        .send()
        .await
        .unwrap();
    let serial = out.virtual_mfa_device().unwrap().serial_number();
    assert_eq!(serial.len(), 256);
    let message = "1 validation error detected: Value at 'virtualMFADeviceName' failed to satisfy \
                   constraint: Member must have length less than or equal to 226";
    for name in ["n".repeat(227), "n".repeat(2_000_000)] {
        assert_err(
            iam.create_virtual_mfa_device()
                .virtual_mfa_device_name(&name)
                .send()
                .await,
            "ValidationError",
            400,
            message,
        );
    }
    // A path takes its share.
    assert_err(
        iam.create_virtual_mfa_device()
            .path("/team/")
            .virtual_mfa_device_name("n".repeat(222))
            .send()
            .await,
        "ValidationError",
        400,
        &message.replace("226", "221"),
    );
}
