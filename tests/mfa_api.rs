//! Virtual MFA devices through the AWS SDK for Rust, with TOTP codes the test computes itself
//! (RFC 6238): enabling needs two consecutive codes, a code is accepted once, and STS sessions
//! created with a valid code are MFA-authenticated.

use crate::common;

use aws_sdk_iam::types::AssignmentStatusType;
use common::*;
use localiam::config::AuthMode;

#[tokio::test]
async fn enable_use_and_remove_a_virtual_device() {
    let srv = TestServer::start_auth(AuthMode::Strict).await;
    let iam = srv.iam();
    iam.create_user().user_name("alice").send().await.unwrap();
    let key = iam
        .create_access_key()
        .user_name("alice")
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();

    let created = iam
        .create_virtual_mfa_device()
        .virtual_mfa_device_name("alice-phone")
        .send()
        .await
        .unwrap();
    let dev = created.virtual_mfa_device().unwrap();
    let serial = dev.serial_number().to_string();
    assert_eq!(serial, "arn:aws:iam::000000000000:mfa/alice-phone");
    let seed = String::from_utf8(dev.base32_string_seed().unwrap().as_ref().to_vec()).unwrap();
    assert_eq!(seed.len(), 64);
    let png = dev.qr_code_png().unwrap().as_ref();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_err(
        iam.create_virtual_mfa_device()
            .virtual_mfa_device_name("alice-phone")
            .send()
            .await,
        "EntityAlreadyExists",
        409,
        "MFA device already exists.",
    );

    // Enabling needs two consecutive codes.
    let s = totp_step();
    assert_err(
        iam.enable_mfa_device()
            .user_name("alice")
            .serial_number(&serial)
            .authentication_code1(totp(&seed, s - 1))
            .authentication_code2(totp(&seed, s - 3))
            .send()
            .await,
        "InvalidAuthenticationCode",
        403,
        "Authentication code for device is not valid.",
    );
    iam.enable_mfa_device()
        .user_name("alice")
        .serial_number(&serial)
        .authentication_code1(totp(&seed, s - 1))
        .authentication_code2(totp(&seed, s))
        .send()
        .await
        .unwrap();
    let listed = iam
        .list_mfa_devices()
        .user_name("alice")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.mfa_devices()[0].serial_number(), serial);
    let assigned = iam
        .list_virtual_mfa_devices()
        .assignment_status(AssignmentStatusType::Assigned)
        .send()
        .await
        .unwrap();
    assert_eq!(
        assigned.virtual_mfa_devices()[0]
            .user()
            .unwrap()
            .user_name(),
        "alice"
    );
    assert!(iam
        .list_virtual_mfa_devices()
        .assignment_status(AssignmentStatusType::Unassigned)
        .send()
        .await
        .unwrap()
        .virtual_mfa_devices()
        .is_empty());

    // A session with a valid code; the same code again, or a wrong one, is refused.
    let sts = srv.sts_with(key.access_key_id(), key.secret_access_key(), None);
    let next = totp(&seed, s + 1);
    sts.get_session_token()
        .serial_number(&serial)
        .token_code(&next)
        .send()
        .await
        .unwrap();
    assert_code(
        sts.get_session_token()
            .serial_number(&serial)
            .token_code(&next)
            .send()
            .await,
        "AccessDenied",
        403,
    );
    let wrong = if next == "000000" { "111111" } else { "000000" };
    assert_code(
        sts.get_session_token()
            .serial_number(&serial)
            .token_code(wrong)
            .send()
            .await,
        "AccessDenied",
        403,
    );

    // A user with a device cannot be deleted; a device in use cannot be deleted.
    iam.delete_access_key()
        .user_name("alice")
        .access_key_id(key.access_key_id())
        .send()
        .await
        .unwrap();
    assert_err(
        iam.delete_user().user_name("alice").send().await,
        "DeleteConflict",
        409,
        "Cannot delete entity, must delete MFA device first.",
    );
    assert_code(
        iam.delete_virtual_mfa_device()
            .serial_number(&serial)
            .send()
            .await,
        "DeleteConflict",
        409,
    );
    iam.deactivate_mfa_device()
        .user_name("alice")
        .serial_number(&serial)
        .send()
        .await
        .unwrap();
    iam.delete_virtual_mfa_device()
        .serial_number(&serial)
        .send()
        .await
        .unwrap();
    iam.delete_user().user_name("alice").send().await.unwrap();
    assert_err(
        iam.delete_virtual_mfa_device()
            .serial_number(&serial)
            .send()
            .await,
        "NoSuchEntity",
        404,
        "MFA Device with serial number arn:aws:iam::000000000000:mfa/alice-phone does not exist.",
    );
    srv.stop().await;
}

#[tokio::test]
async fn mfa_sessions_satisfy_mfa_conditions_in_trust_policies() {
    let srv = TestServer::start_auth(AuthMode::Enforce).await;
    let iam = srv.iam();
    iam.create_user().user_name("bob").send().await.unwrap();
    let key = iam
        .create_access_key()
        .user_name("bob")
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    let dev = iam
        .create_virtual_mfa_device()
        .virtual_mfa_device_name("bob")
        .send()
        .await
        .unwrap();
    let dev = dev.virtual_mfa_device().unwrap();
    let serial = dev.serial_number().to_string();
    let seed = String::from_utf8(dev.base32_string_seed().unwrap().as_ref().to_vec()).unwrap();
    let s = totp_step();
    iam.enable_mfa_device()
        .user_name("bob")
        .serial_number(&serial)
        .authentication_code1(totp(&seed, s - 1))
        .authentication_code2(totp(&seed, s))
        .send()
        .await
        .unwrap();
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/bob"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}"#;
    iam.create_role()
        .role_name("admin")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    let sts = srv.sts_with(key.access_key_id(), key.secret_access_key(), None);
    let arn = "arn:aws:iam::000000000000:role/admin";
    assert_code(
        sts.assume_role()
            .role_arn(arn)
            .role_session_name("no-mfa")
            .send()
            .await,
        "AccessDenied",
        403,
    );
    sts.assume_role()
        .role_arn(arn)
        .role_session_name("with-mfa")
        .serial_number(&serial)
        .token_code(totp(&seed, s + 1))
        .send()
        .await
        .unwrap();
    srv.stop().await;
}
