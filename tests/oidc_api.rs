//! OpenID Connect through the AWS SDK for Rust: providers (CRUD, limits, AWS's messages), and
//! AssumeRoleWithWebIdentity verifying real JWTs signed by keys the test makes (RS256, ES256),
//! given to localiam with `POST /_localiam/oidc-keys`: accepted, then refused for a wrong
//! audience, a wrong issuer, an expired token and a bad signature; trust conditions on `:sub` in
//! `enforce`; and tokens of the account's own issuer (GetWebIdentityToken) accepted.

use crate::common;

use aws_lc_rs::encoding::AsDer as _;
use base64::Engine as _;
use common::*;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use localiam::config::AuthMode;
use serde_json::{json, Value};

const THUMB: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

/// A signing key the test makes, with its public JWK.
struct TestKey {
    key: EncodingKey,
    alg: Algorithm,
    kid: String,
}

impl TestKey {
    fn rs256(kid: &str) -> TestKey {
        let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(pair.as_der().unwrap().as_ref())
        );
        TestKey {
            key: EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
            alg: Algorithm::RS256,
            kid: kid.to_string(),
        }
    }

    fn es256(kid: &str) -> TestKey {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pkcs8 = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &rng,
        )
        .unwrap();
        TestKey {
            key: EncodingKey::from_ec_der(pkcs8.as_ref()),
            alg: Algorithm::ES256,
            kid: kid.to_string(),
        }
    }

    fn jwk(&self) -> Jwk {
        let mut jwk = Jwk::from_encoding_key(&self.key, self.alg).unwrap();
        jwk.common.key_id = Some(self.kid.clone());
        jwk
    }

    fn sign(&self, claims: &Value) -> String {
        let mut h = Header::new(self.alg);
        h.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&h, claims, &self.key).unwrap()
    }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn claims(iss: &str, aud: &str, sub: &str, exp_in: i64) -> Value {
    json!({"iss": iss, "aud": aud, "sub": sub, "iat": now() - 10, "exp": now() + exp_in})
}

async fn give_keys(srv: &TestServer, issuer: &str, keys: &[&TestKey]) {
    let jwks = JwkSet {
        keys: keys.iter().map(|k| k.jwk()).collect(),
    };
    // Signed with the default root credentials (required outside open).
    let resp = srv
        .admin(
            "POST",
            "/_localiam/oidc-keys",
            json!({"url": issuer, "jwks": jwks}).to_string().as_bytes(),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
}

fn web_trust(provider_arn: &str, condition: Option<Value>) -> String {
    let mut stmt = json!({
        "Effect": "Allow",
        "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity"
    });
    if let Some(c) = condition {
        stmt["Condition"] = c;
    }
    json!({"Version": "2012-10-17", "Statement": [stmt]}).to_string()
}

async fn provider(iam: &aws_sdk_iam::Client, url: &str, client: &str) -> String {
    iam.create_open_id_connect_provider()
        .url(url)
        .client_id_list(client)
        .thumbprint_list(THUMB)
        .send()
        .await
        .unwrap()
        .open_id_connect_provider_arn()
        .unwrap()
        .to_string()
}

async fn role(iam: &aws_sdk_iam::Client, name: &str, trust: &str) -> String {
    iam.create_role()
        .role_name(name)
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap()
        .role()
        .unwrap()
        .arn()
        .to_string()
}

#[tokio::test]
async fn providers_crud_limits_and_messages() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let out = iam
        .create_open_id_connect_provider()
        .url("https://issuer.example.com/tenant/")
        .client_id_list("app")
        .client_id_list("app")
        .thumbprint_list(THUMB)
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("team")
                .value("a")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let arn = out.open_id_connect_provider_arn().unwrap().to_string();
    assert_eq!(
        arn,
        "arn:aws:iam::000000000000:oidc-provider/issuer.example.com/tenant"
    );
    assert_eq!(out.tags().len(), 1);

    let got = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(got.url(), Some("issuer.example.com/tenant"));
    assert_eq!(got.client_id_list(), ["app"]);
    assert_eq!(got.thumbprint_list(), [THUMB]);
    assert!(got.create_date().is_some());

    let listed = iam.list_open_id_connect_providers().send().await.unwrap();
    let arns: Vec<_> = listed
        .open_id_connect_provider_list()
        .iter()
        .filter_map(|e| e.arn())
        .collect();
    assert_eq!(arns, [arn.as_str()]);

    iam.add_client_id_to_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .client_id("other")
        .send()
        .await
        .unwrap();
    iam.remove_client_id_from_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .client_id("app")
        .send()
        .await
        .unwrap();
    iam.update_open_id_connect_provider_thumbprint()
        .open_id_connect_provider_arn(&arn)
        .thumbprint_list("b".repeat(40))
        .send()
        .await
        .unwrap();
    iam.tag_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("k")
                .value("v")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    iam.untag_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    let got = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(got.client_id_list(), ["other"]);
    assert_eq!(got.thumbprint_list(), ["b".repeat(40)]);
    let tags = iam
        .list_open_id_connect_provider_tags()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags().len(), 1);
    assert_eq!(tags.tags()[0].key(), "k");

    assert_err(
        iam.create_open_id_connect_provider()
            .url("https://issuer.example.com/tenant")
            .send()
            .await,
        "EntityAlreadyExists",
        409,
        "Provider with url https://issuer.example.com/tenant already exists.",
    );
    assert_err(
        iam.create_open_id_connect_provider()
            .url("example.org")
            .send()
            .await,
        "ValidationError",
        400,
        "Invalid Open ID Connect Provider URL",
    );
    let mut six = iam
        .create_open_id_connect_provider()
        .url("https://six.example.com");
    for c in ["a", "b", "c", "d", "e", "f"] {
        six = six.thumbprint_list(c.repeat(40));
    }
    assert_err(
        six.send().await,
        "InvalidInput",
        400,
        "Thumbprint list must contain fewer than 5 entries.",
    );
    let mut many = iam
        .create_open_id_connect_provider()
        .url("https://many.example.com");
    for i in 0..101 {
        many = many.client_id_list(i.to_string());
    }
    assert_err(
        many.send().await,
        "LimitExceeded",
        409,
        "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100",
    );

    iam.delete_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_err(
        iam.get_open_id_connect_provider()
            .open_id_connect_provider_arn(&arn)
            .send()
            .await,
        "NoSuchEntity",
        404,
        &format!("OpenIDConnect Provider not found for arn {arn}"),
    );
    assert_err(
        iam.delete_open_id_connect_provider()
            .open_id_connect_provider_arn(&arn)
            .send()
            .await,
        "NoSuchEntity",
        404,
        &format!("OpenId connect Provider {arn} cannot be found."),
    );
}

#[tokio::test]
async fn tokens_verified_for_real_rs256_and_es256() {
    let srv = TestServer::start_auth(AuthMode::Strict).await;
    let iam = srv.iam();
    for (n, key) in [TestKey::rs256("r1"), TestKey::es256("e1")]
        .iter()
        .enumerate()
    {
        let issuer = format!("https://idp{n}.example.com/realm");
        let arn = provider(&iam, &issuer, "my-app").await;
        give_keys(&srv, &issuer, &[key]).await;
        let role_arn = role(&iam, &format!("web{n}"), &web_trust(&arn, None)).await;
        let sts = srv.sts();
        let assume = |token: String| {
            sts.assume_role_with_web_identity()
                .role_arn(&role_arn)
                .role_session_name("alice")
                .web_identity_token(token)
                .send()
        };

        let out = assume(key.sign(&claims(&issuer, "my-app", "user-1", 300)))
            .await
            .unwrap();
        assert_eq!(out.subject_from_web_identity_token(), Some("user-1"));
        assert_eq!(out.audience(), Some("my-app"));
        assert_eq!(out.provider(), Some(issuer.as_str()));
        let user = out.assumed_role_user().unwrap();
        assert_eq!(
            user.arn(),
            format!("arn:aws:sts::000000000000:assumed-role/web{n}/alice")
        );
        let c = out.credentials().unwrap();
        let me = srv
            .sts_with(
                c.access_key_id(),
                c.secret_access_key(),
                Some(c.session_token()),
            )
            .get_caller_identity()
            .send()
            .await
            .unwrap();
        assert_eq!(me.arn(), Some(user.arn()));

        // `aud` as a list, and `azp`, are accepted too.
        let mut listed = claims(&issuer, "x", "user-1", 300);
        listed["aud"] = json!(["x", "my-app"]);
        assume(key.sign(&listed)).await.unwrap();

        assert_err(
            assume(key.sign(&claims(&issuer, "someone-else", "user-1", 300))).await,
            "InvalidIdentityToken",
            400,
            "Incorrect token audience",
        );
        assert_err(
            assume(key.sign(&claims("https://evil.example.com", "my-app", "user-1", 300))).await,
            "InvalidIdentityToken",
            400,
            "No OpenIDConnect provider found in your account for https://evil.example.com",
        );
        let expired = claims(&issuer, "my-app", "user-1", -3600);
        let exp = expired["exp"].as_i64().unwrap();
        let e = expect_err(assume(key.sign(&expired)).await);
        assert_eq!((e.code.as_str(), e.status), ("ExpiredTokenException", 400));
        assert!(
            e.message.starts_with("Token expired: current date/time ")
                && e.message
                    .ends_with(&format!(" must be before the expiration date/time {exp}")),
            "{e:?}"
        );
        // Signed by another key under the same key ID: the signature does not verify.
        let forger = if n == 0 {
            TestKey::rs256("r1")
        } else {
            TestKey::es256("e1")
        };
        assert_code(
            assume(forger.sign(&claims(&issuer, "my-app", "user-1", 300))).await,
            "InvalidIdentityToken",
            400,
        );
        // A key the issuer never published.
        let stranger = if n == 0 {
            TestKey::rs256("zz")
        } else {
            TestKey::es256("zz")
        };
        assert_err(
            assume(stranger.sign(&claims(&issuer, "my-app", "user-1", 300))).await,
            "InvalidIdentityToken",
            400,
            "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements",
        );
        assert_code(
            assume("not-a-jwt".to_string()).await,
            "InvalidIdentityToken",
            400,
        );
        // A role that does not exist.
        assert_err(
            sts.assume_role_with_web_identity()
                .role_arn("arn:aws:iam::000000000000:role/nope")
                .role_session_name("alice")
                .web_identity_token(key.sign(&claims(&issuer, "my-app", "user-1", 300)))
                .send()
                .await,
            "AccessDenied",
            403,
            "Not authorized to perform sts:AssumeRoleWithWebIdentity",
        );
    }
}

#[tokio::test]
async fn unsigned_calls_are_accepted_in_strict_mode() {
    let srv = TestServer::start_auth(AuthMode::Strict).await;
    let iam = srv.iam();
    let key = TestKey::es256("k");
    let issuer = "https://unsigned.example.com";
    let arn = provider(&iam, issuer, "app").await;
    give_keys(&srv, issuer, &[&key]).await;
    let role_arn = role(&iam, "unsigned", &web_trust(&arn, None)).await;
    let token = key.sign(&claims(issuer, "app", "s", 300));
    let resp = srv
        .raw()
        .post_form(&[
            ("Action", "AssumeRoleWithWebIdentity"),
            ("Version", "2011-06-15"),
            ("RoleArn", role_arn.as_str()),
            ("RoleSessionName", "sess"),
            ("WebIdentityToken", token.as_str()),
        ])
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert!(resp
        .tag("AccessKeyId")
        .is_some_and(|k| k.starts_with("ASIA")));
    // Other actions still need a signature.
    let resp = srv
        .raw()
        .post_form(&[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")])
        .await;
    assert_eq!(resp.code().as_deref(), Some("MissingAuthenticationToken"));
}

#[tokio::test]
async fn trust_conditions_on_the_subject_in_enforce_mode() {
    let srv = TestServer::start_auth(AuthMode::Enforce).await;
    let iam = srv.iam();
    let key = TestKey::rs256("k1");
    let issuer = "https://token.example.com";
    let arn = provider(&iam, issuer, "sts.amazonaws.com").await;
    give_keys(&srv, issuer, &[&key]).await;
    let trust = web_trust(
        &arn,
        Some(json!({
            "StringEquals": {"token.example.com:aud": "sts.amazonaws.com"},
            "StringLike": {"token.example.com:sub": "repo:acme/*"}
        })),
    );
    let role_arn = role(&iam, "ci", &trust).await;
    let sts = srv.sts();
    let assume = |sub: &str| {
        sts.assume_role_with_web_identity()
            .role_arn(&role_arn)
            .role_session_name("ci")
            .web_identity_token(key.sign(&claims(issuer, "sts.amazonaws.com", sub, 300)))
            .send()
    };
    assume("repo:acme/app:ref:main").await.unwrap();
    assert_err(
        assume("repo:other/app").await,
        "AccessDenied",
        403,
        "Not authorized to perform sts:AssumeRoleWithWebIdentity",
    );

    // In `open` mode the same role is assumed whatever its trust policy says.
    let open = TestServer::start().await;
    let oiam = open.iam();
    let oarn = provider(&oiam, issuer, "sts.amazonaws.com").await;
    give_keys(&open, issuer, &[&key]).await;
    let orole = role(
        &oiam,
        "ci",
        &web_trust(
            &oarn,
            Some(json!({"StringEquals": {"token.example.com:sub": "nobody"}})),
        ),
    )
    .await;
    open.sts()
        .assume_role_with_web_identity()
        .role_arn(orole)
        .role_session_name("ci")
        .web_identity_token(key.sign(&claims(issuer, "sts.amazonaws.com", "repo:x", 300)))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn own_issuer_tokens_are_accepted() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let sts = srv.sts();
    assert_code(
        sts.get_web_identity_token()
            .audience("aud-1")
            .signing_algorithm("RS256")
            .send()
            .await,
        "OutboundWebIdentityFederationDisabledException",
        403,
    );
    assert_code(
        iam.get_outbound_web_identity_federation_info().send().await,
        "FeatureDisabled",
        404,
    );
    let issuer = iam
        .enable_outbound_web_identity_federation()
        .send()
        .await
        .unwrap()
        .issuer_identifier()
        .unwrap()
        .to_string();
    assert!(issuer.starts_with("https://"), "{issuer}");
    assert_code(
        iam.enable_outbound_web_identity_federation().send().await,
        "FeatureEnabled",
        409,
    );
    let info = iam
        .get_outbound_web_identity_federation_info()
        .send()
        .await
        .unwrap();
    assert_eq!(info.issuer_identifier(), Some(issuer.as_str()));
    assert!(info.jwt_vending_enabled());

    let arn = provider(&iam, &issuer, "aud-1").await;
    let role_arn = role(&iam, "outbound", &web_trust(&arn, None)).await;
    for alg in ["RS256", "ES384"] {
        let out = sts
            .get_web_identity_token()
            .audience("aud-1")
            .signing_algorithm(alg)
            .duration_seconds(120)
            .send()
            .await
            .unwrap();
        let token = out.web_identity_token().unwrap().to_string();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(format!("{:?}", header.alg), alg);
        let assumed = sts
            .assume_role_with_web_identity()
            .role_arn(&role_arn)
            .role_session_name("self")
            .web_identity_token(token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            assumed.subject_from_web_identity_token(),
            Some("arn:aws:iam::000000000000:root")
        );
    }

    // The issuer's keys are served as JWKS, with its discovery document.
    let jwks = srv
        .raw()
        .get("/_localiam/oidc/000000000000/.well-known/jwks.json")
        .await;
    assert_eq!(jwks.status, 200);
    let set: JwkSet = serde_json::from_str(&jwks.body).unwrap();
    assert_eq!(set.keys.len(), 2);
    let conf = srv
        .raw()
        .get("/_localiam/oidc/000000000000/.well-known/openid-configuration")
        .await;
    let conf: Value = serde_json::from_str(&conf.body).unwrap();
    assert_eq!(conf["issuer"], issuer.as_str());

    iam.disable_outbound_web_identity_federation()
        .send()
        .await
        .unwrap();
    assert_code(
        iam.disable_outbound_web_identity_federation().send().await,
        "FeatureDisabled",
        404,
    );
    // Enabled again: the same issuer.
    let again = iam
        .enable_outbound_web_identity_federation()
        .send()
        .await
        .unwrap();
    assert_eq!(again.issuer_identifier(), Some(issuer.as_str()));
}
