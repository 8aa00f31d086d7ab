//! The credential report: GenerateCredentialReport, GetCredentialReport.
//!
//! localiam generates a report instantly. What is kept is when it was generated (in the account's
//! settings record, so it survives a restart); the CSV is rendered from the state when it is
//! fetched. As on AWS, the first GenerateCredentialReport answers `STARTED`, later ones
//! `COMPLETE` while the report is younger than four hours; a report older than that is
//! `ReportExpired` and the next GenerateCredentialReport starts a new one.
//!
//! The CSV has AWS's 22 columns in AWS's order, the root user's row (`<root_account>`) first, then
//! the users in name order, with `N/A`, `no_information` and `not_supported` where AWS writes
//! them. A user's active keys come first (`access_key_1`), as recorded on AWS. The root row's
//! keys are the default account's configured root key and the root's own access keys, with
//! their last use; its `password_last_used` is the root user's last login to the web console.

use http::StatusCode;

use crate::api::access_keys::{configured_root_key_last_used, key_last_used};
use crate::api::login_profiles::password_rules;
use crate::api::{Ctx, Registry};
use crate::error::ApiError;
use crate::protocol::iam;
use crate::protocol::xml::format_timestamp;
use crate::state::App;
use crate::store::model::{
    AccessKey, Account, AccountSettings, PasswordPolicy, SigningCertificate, User,
};

pub fn register(r: &mut Registry) {
    r.iam::<iam::GenerateCredentialReport, _, _>(generate_credential_report);
    r.iam::<iam::GetCredentialReport, _, _>(get_credential_report);
}

/// How long a report stays current (AWS: four hours).
pub const REPORT_LIFETIME_SECS: i64 = 4 * 3600;

/// AWS's columns, in AWS's order.
pub const COLUMNS: [&str; 22] = [
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
];

const NA: &str = "N/A";

/// When the account's report was generated, if it was.
fn generated_at(account: &Account) -> Option<i64> {
    account.settings()?.credential_report
}

fn is_current(generated: i64, now: i64) -> bool {
    now.saturating_sub(generated) < REPORT_LIFETIME_SECS
}

async fn generate_credential_report(
    app: App,
    ctx: Ctx,
    _input: (),
) -> Result<iam::GenerateCredentialReportResponse, ApiError> {
    let account = ctx.account().to_string();
    let now = ctx.now.unix_timestamp();
    app.store
        .write(move |tx| {
            if generated_at(tx.account(&account)).is_some_and(|t| is_current(t, now)) {
                return Ok(iam::GenerateCredentialReportResponse {
                    state: Some("COMPLETE".to_string()),
                    description: None,
                });
            }
            tx.update_settings(&account, |s: &mut AccountSettings| {
                s.credential_report = Some(now)
            })?;
            Ok(iam::GenerateCredentialReportResponse {
                state: Some("STARTED".to_string()),
                description: Some(
                    "No report exists. Starting a new report generation task".to_string(),
                ),
            })
        })
        .await
}

async fn get_credential_report(
    app: App,
    ctx: Ctx,
    _input: (),
) -> Result<iam::GetCredentialReportResponse, ApiError> {
    let model = app.store.read();
    let account = model.account(ctx.account());
    // AWS answers both without a message (as recorded).
    let generated = generated_at(account)
        .ok_or_else(|| ApiError::new("ReportNotPresent", StatusCode::GONE, ""))?;
    if !is_current(generated, ctx.now.unix_timestamp()) {
        return Err(ApiError::new("ReportExpired", StatusCode::GONE, ""));
    }
    Ok(iam::GetCredentialReportResponse {
        content: Some(render(&app, account, ctx.account()).into_bytes()),
        report_format: Some("text/csv".to_string()),
        generated_time: Some(crate::api::common::ts(generated)),
    })
}

// ---------------------------------------------------------------------------------------------
// The CSV

/// A time as the report writes it (ISO 8601 with an explicit UTC offset).
fn time(secs: i64) -> String {
    let t = format_timestamp(&crate::api::common::ts(secs));
    match t.strip_suffix('Z') {
        Some(base) => format!("{base}+00:00"),
        None => t,
    }
}

fn flag(b: bool) -> String {
    b.to_string()
}

/// One field, quoted as CSV requires when it holds a comma, a quote or a line break.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// What the report says of one access key (or of a key slot with none).
struct KeyColumns {
    active: bool,
    last_rotated: Option<i64>,
    last_used: Option<(i64, String, String)>,
}

impl KeyColumns {
    fn of(app: &App, k: &AccessKey) -> KeyColumns {
        KeyColumns {
            active: k.is_active(),
            last_rotated: Some(k.create_date),
            last_used: key_last_used(app, k).map(|u| (u.date, u.region, u.service)),
        }
    }

    const NONE: KeyColumns = KeyColumns {
        active: false,
        last_rotated: None,
        last_used: None,
    };

    fn push(&self, row: &mut Vec<String>) {
        row.push(flag(self.active));
        row.push(self.last_rotated.map_or_else(|| NA.to_string(), time));
        match &self.last_used {
            Some((date, region, service)) => {
                row.extend([time(*date), region.clone(), service.clone()])
            }
            None => row.extend([NA, NA, NA].map(str::to_string)),
        }
    }
}

/// The two key slots of a row: active keys first, each group oldest first.
fn key_slots(mut keys: Vec<KeyColumns>) -> [KeyColumns; 2] {
    keys.sort_by_key(|k| !k.active);
    let mut keys = keys.into_iter();
    [
        keys.next().unwrap_or(KeyColumns::NONE),
        keys.next().unwrap_or(KeyColumns::NONE),
    ]
}

/// The columns after the password ones: MFA, the two keys, the two signing certificates (active
/// ones first, each group oldest first, like the keys).
fn push_credentials(
    row: &mut Vec<String>,
    mfa_active: bool,
    keys: [KeyColumns; 2],
    certs: &[SigningCertificate],
) {
    row.push(flag(mfa_active));
    for k in &keys {
        k.push(row);
    }
    let mut certs: Vec<&SigningCertificate> = certs.iter().collect();
    certs.sort_by_key(|c| c.status != "Active");
    for slot in 0..2 {
        match certs.get(slot) {
            Some(c) => row.extend([flag(c.status == "Active"), time(c.upload_date)]),
            None => row.extend(["false", NA].map(str::to_string)),
        }
    }
}

fn root_row(app: &App, account: &Account, account_id: &str) -> Vec<String> {
    let mut keys: Vec<KeyColumns> = Vec::new();
    if account_id == app.config.account_id {
        // The root key localiam was started with.
        keys.push(KeyColumns {
            active: true,
            last_rotated: Some(app.started.unix_timestamp()),
            last_used: configured_root_key_last_used(app, account)
                .map(|u| (u.date, u.region, u.service)),
        });
    }
    let mut certs: &[SigningCertificate] = &[];
    if let Some(s) = account.settings() {
        keys.extend(s.root_access_keys.iter().map(|k| KeyColumns::of(app, k)));
        certs = &s.root_signing_certificates;
    }
    let mut row = vec![
        "<root_account>".to_string(),
        format!("arn:aws:iam::{account_id}:root"),
        time(app.started.unix_timestamp()),
        "not_supported".to_string(),
        // AWS's column for the root user's console sign-ins: here, logins to the web console.
        account
            .settings()
            .and_then(|s| s.root_console_last_used)
            .map_or_else(|| "no_information".to_string(), time),
        "not_supported".to_string(),
        "not_supported".to_string(),
    ];
    push_credentials(&mut row, false, key_slots(keys), certs);
    row
}

fn user_row(
    app: &App,
    account: &Account,
    policy: Option<&PasswordPolicy>,
    u: &User,
) -> Vec<String> {
    let mut row = vec![u.name.clone(), u.arn(), time(u.create_date)];
    match &u.login_profile {
        Some(p) => {
            let changed = p.password_changed.unwrap_or(p.create_date);
            row.push(flag(true));
            row.push(
                u.password_last_used
                    .map_or_else(|| "no_information".to_string(), time),
            );
            row.push(time(changed));
            row.push(
                policy
                    .and_then(|r| r.expiry(changed))
                    .map_or_else(|| NA.to_string(), time),
            );
        }
        None => {
            row.push(flag(false));
            row.extend([NA, NA, NA].map(str::to_string));
        }
    }
    let keys = u
        .access_keys
        .iter()
        .map(|k| KeyColumns::of(app, k))
        .collect();
    let mfa_active = account.mfa_serials_of(&u.user_id).next().is_some();
    push_credentials(
        &mut row,
        mfa_active,
        key_slots(keys),
        &u.signing_certificates,
    );
    row
}

/// The report's CSV text.
pub fn render(app: &App, account: &Account, account_id: &str) -> String {
    let policy = password_rules(account);
    let mut out = COLUMNS.join(",");
    let rows = std::iter::once(root_row(app, account, account_id)).chain(
        account
            .users
            .iter()
            .map(|u| user_row(app, account, policy.as_ref(), u)),
    );
    for row in rows {
        out.push('\n');
        out.push_str(&row.iter().map(|f| field(f)).collect::<Vec<_>>().join(","));
    }
    out
}
