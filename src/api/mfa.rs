//! Virtual MFA devices: CreateVirtualMFADevice, DeleteVirtualMFADevice, ListVirtualMFADevices,
//! EnableMFADevice, ResyncMFADevice, DeactivateMFADevice, ListMFADevices, GetMFADevice,
//! TagMFADevice, UntagMFADevice, ListMFADeviceTags; and [`verify_code`], which STS uses for
//! `SerialNumber` + `TokenCode`.
//!
//! Codes are real TOTP (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits) over the device's seed,
//! which CreateVirtualMFADevice hands out as `Base32StringSeed` and as a QR code PNG of the
//! `otpauth://totp/…` URI. A code is accepted once: its time step must be newer than the last
//! accepted one.

use std::sync::Arc;

use crate::api::common::*;
use crate::api::users::listed_user_shape;
use crate::api::{Ctx, Registry};
use crate::auth::PrincipalKind as CallerKind;
use crate::error::ApiError;
use crate::protocol::iam;
use crate::state::App;
use crate::store::model::{Account, MfaDevice, User};
use crate::store::{ids, StoreError, Tx};

/// TOTP time step, in seconds.
const STEP: u64 = 30;
/// How many steps a device's clock may be behind or ahead of localiam's.
const DRIFT_STEPS: u64 = 2;
/// How far back EnableMFADevice and ResyncMFADevice look for the two consecutive codes (AWS
/// resynchronises devices whose clock drifted by minutes).
const RESYNC_STEPS: u64 = 20;
/// AWS's quota of MFA devices per user.
const MFA_PER_USER: usize = 8;

pub fn register(r: &mut Registry) {
    r.iam::<iam::CreateVirtualMFADevice, _, _>(create_virtual_mfa_device);
    r.iam::<iam::DeleteVirtualMFADevice, _, _>(delete_virtual_mfa_device);
    r.iam::<iam::ListVirtualMFADevices, _, _>(list_virtual_mfa_devices);
    r.iam::<iam::EnableMFADevice, _, _>(enable_mfa_device);
    r.iam::<iam::ResyncMFADevice, _, _>(resync_mfa_device);
    r.iam::<iam::DeactivateMFADevice, _, _>(deactivate_mfa_device);
    r.iam::<iam::ListMFADevices, _, _>(list_mfa_devices);
    r.iam::<iam::GetMFADevice, _, _>(get_mfa_device);
    register_tag_ops!(
        r,
        serial_number,
        require_device,
        TagMFADevice,
        UntagMFADevice,
        ListMFADeviceTags(ListMFADeviceTagsResponse)
    );
}

// ------------------------------------------------------------------------------------------------
// TOTP
// ------------------------------------------------------------------------------------------------

/// The 6-digit code of `seed` (base32) for a time step.
pub(crate) fn code_at(seed: &str, step: u64) -> Option<String> {
    let secret = data_encoding::BASE32_NOPAD
        .decode(seed.trim_end_matches('=').as_bytes())
        .ok()?;
    Some(totp_lite::totp_custom::<totp_lite::Sha1>(
        STEP,
        6,
        &secret,
        step * STEP,
    ))
}

pub(crate) fn now_step() -> u64 {
    u64::try_from(ids::now()).unwrap_or(0) / STEP
}

/// The time step of `code` within the drift window, newer than the device's last accepted one.
fn matching_step(device: &MfaDevice, code: &str, window_back: u64, now: u64) -> Option<u64> {
    let first = now.saturating_sub(window_back);
    (first..=now + DRIFT_STEPS)
        .filter(|s| device.last_step.is_none_or(|last| *s > last))
        .find(|s| code_at(&device.seed, *s).is_some_and(|c| crate::auth::secure_eq(&c, code)))
}

/// Two consecutive codes (EnableMFADevice, ResyncMFADevice): the step of the second.
fn consecutive_codes(device: &MfaDevice, code1: &str, code2: &str) -> Option<u64> {
    let now = now_step();
    let first = now.saturating_sub(RESYNC_STEPS);
    (first..=now + DRIFT_STEPS)
        .filter(|s| device.last_step.is_none_or(|last| *s > last))
        .find(|s| {
            code_at(&device.seed, *s).is_some_and(|c| crate::auth::secure_eq(&c, code1))
                && code_at(&device.seed, s + 1).is_some_and(|c| crate::auth::secure_eq(&c, code2))
        })
        .map(|s| s + 1)
}

fn invalid_code() -> ApiError {
    ApiError::new(
        "InvalidAuthenticationCode",
        http::StatusCode::FORBIDDEN,
        "Authentication code for device is not valid.",
    )
}

/// Checks an MFA code for STS (`SerialNumber` + `TokenCode`) against the device enabled for the
/// user, and consumes it. `Err` is AWS's `AccessDenied`.
pub fn verify_code(
    tx: &mut Tx<'_>,
    account: &str,
    user_id: &str,
    serial: &str,
    code: &str,
) -> Result<(), ApiError> {
    let denied = || {
        ApiError::access_denied(
            "MultiFactorAuthentication failed with invalid MFA one time pass code. ",
        )
    };
    let device = tx
        .account(account)
        .mfa_devices
        .get(serial)
        .filter(|d| d.user_id.as_deref() == Some(user_id))
        .cloned()
        .ok_or_else(|| {
            ApiError::access_denied(
                "MultiFactorAuthentication failed, unable to validate MFA code.",
            )
        })?;
    let step = matching_step(&device, code, DRIFT_STEPS, now_step()).ok_or_else(denied)?;
    tx.update(account, serial, |d: &mut MfaDevice| {
        d.last_step = Some(step)
    })?;
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Shapes and lookups
// ------------------------------------------------------------------------------------------------

fn no_such_device(serial: &str) -> ApiError {
    ApiError::no_such_entity(format!(
        "MFA Device with serial number {serial} does not exist."
    ))
}

fn require_device(account: &Account, serial: &str) -> Result<Arc<MfaDevice>, ApiError> {
    account
        .mfa_devices
        .get(serial)
        .cloned()
        .ok_or_else(|| no_such_device(serial))
}

/// The longest serial number (`serialNumberType`) an operation takes.
const SERIAL_NUMBER_MAX: usize = 256;

/// A QR code PNG of `uri` (4 pixels a module, a 4-module quiet zone), as AWS returns `QRCodePNG`.
fn qr_png(uri: &str) -> Result<Vec<u8>, ApiError> {
    let fail = |e: String| {
        tracing::error!(error = %e, "QR code rendering failed");
        ApiError::internal(
            "The request processing has failed because of an unknown error, exception or failure.",
        )
    };
    let code = qrcode::QrCode::new(uri.as_bytes()).map_err(|e| fail(e.to_string()))?;
    let modules = code.width();
    let colors = code.to_colors();
    const SCALE: usize = 4;
    const QUIET: usize = 4;
    let side = (modules + 2 * QUIET) * SCALE;
    let mut pixels = vec![255u8; side * side];
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (x, y) = ((i % modules + QUIET) * SCALE, (i / modules + QUIET) * SCALE);
            for dy in 0..SCALE {
                let row = (y + dy) * side;
                pixels[row + x..row + x + SCALE].fill(0);
            }
        }
    }
    let mut out = Vec::new();
    {
        let side = u32::try_from(side).map_err(|e| fail(e.to_string()))?;
        let mut enc = png::Encoder::new(&mut out, side, side);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().map_err(|e| fail(e.to_string()))?;
        w.write_image_data(&pixels)
            .map_err(|e| fail(e.to_string()))?;
    }
    Ok(out)
}

/// The user a call names, or the calling user when it names none.
fn user_or_caller(
    account: &Account,
    ctx: &Ctx,
    name: Option<&str>,
) -> Result<Option<Arc<User>>, ApiError> {
    match name {
        Some(n) => require_user(account, n).map(Some),
        None if ctx.principal.kind == CallerKind::User => {
            require_user(account, &ctx.principal.name).map(Some)
        }
        None => Ok(None),
    }
}

// ------------------------------------------------------------------------------------------------
// Operations
// ------------------------------------------------------------------------------------------------

async fn create_virtual_mfa_device(
    app: App,
    ctx: Ctx,
    input: iam::CreateVirtualMFADeviceRequest,
) -> Result<iam::CreateVirtualMFADeviceResponse, ApiError> {
    let tags = input.tags.unwrap_or_default();
    check_tags(&tags)?;
    let path = path_or_root(input.path.as_deref());
    let account = ctx.account().to_string();
    let serial = format!(
        "arn:aws:iam::{account}:mfa{path}{}",
        input.virtual_mfa_device_name
    );
    // The model sets no maximum on the name, but every operation that takes the device's serial
    // number (its ARN) takes at most 256 characters: a longer one could never be used.
    let room = SERIAL_NUMBER_MAX
        - (serial.len() - input.virtual_mfa_device_name.len()).min(SERIAL_NUMBER_MAX);
    if input.virtual_mfa_device_name.chars().count() > room {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value at 'virtualMFADeviceName' failed to satisfy \
             constraint: Member must have length less than or equal to {room}"
        )));
    }
    let seed = ids::base32_seed(64);
    let uri = format!(
        "otpauth://totp/Amazon%20Web%20Services:{}@{account}?secret={seed}&issuer=Amazon%20Web%20Services",
        input.virtual_mfa_device_name
    );
    let png = qr_png(&uri)?;
    let device = MfaDevice {
        serial_number: serial,
        account_id: account.clone(),
        path,
        device_name: input.virtual_mfa_device_name,
        seed,
        create_date: ids::now(),
        user_id: None,
        enable_date: None,
        last_step: None,
        tags: to_store_tags(&tags),
    };
    let device = app
        .store
        .write(move |tx| {
            tx.insert(device).map_err(|e| match e {
                StoreError::UniqueViolation(_) => {
                    ApiError::already_exists("MFA device already exists.")
                }
                other => other.into(),
            })
        })
        .await?;
    Ok(iam::CreateVirtualMFADeviceResponse {
        virtual_mfa_device: iam::VirtualMFADevice {
            serial_number: device.serial_number.clone(),
            base32_string_seed: Some(device.seed.clone().into_bytes()),
            qr_code_png: Some(png),
            user: None,
            enable_date: None,
            tags: nonempty_tags(&device.tags),
        },
    })
}

async fn delete_virtual_mfa_device(
    app: App,
    ctx: Ctx,
    input: iam::DeleteVirtualMFADeviceRequest,
) -> Result<(), ApiError> {
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            let d = require_device(tx.account(&account), &input.serial_number)?;
            if d.user_id.is_some() {
                return Err(ApiError::delete_conflict("MFA device is still in use."));
            }
            tx.remove::<MfaDevice>(&account, &d.serial_number)?;
            Ok(())
        })
        .await
}

async fn list_virtual_mfa_devices(
    app: App,
    ctx: Ctx,
    input: iam::ListVirtualMFADevicesRequest,
) -> Result<iam::ListVirtualMFADevicesResponse, ApiError> {
    let marker = decode_marker(input.marker.as_deref())?;
    let model = app.store.read();
    let acct = model.account(ctx.account());
    let status = input.assignment_status.as_deref().unwrap_or("Any");
    let page = acct.mfa_devices.page(
        marker.as_deref(),
        max_items(input.max_items),
        |d| match status {
            "Assigned" => d.user_id.is_some(),
            "Unassigned" => d.user_id.is_none(),
            _ => true,
        },
    );
    Ok(iam::ListVirtualMFADevicesResponse {
        virtual_mfa_devices: page
            .items
            .iter()
            .map(|d| {
                let user = d.user_id.as_deref().and_then(|u| acct.users.get_by_id(u));
                iam::VirtualMFADevice {
                    serial_number: d.serial_number.clone(),
                    base32_string_seed: None,
                    qr_code_png: None,
                    user: user.map(|u| listed_user_shape(u)),
                    enable_date: user.and(d.enable_date).map(ts),
                    tags: None,
                }
            })
            .collect(),
        is_truncated: Some(page.is_truncated()),
        marker: encode_marker(page.marker),
    })
}

async fn enable_mfa_device(
    app: App,
    ctx: Ctx,
    input: iam::EnableMFADeviceRequest,
) -> Result<(), ApiError> {
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            let acct = tx.account(&account);
            let user = require_user(acct, &input.user_name)?;
            let d = require_device(acct, &input.serial_number)?;
            if d.user_id.is_some() {
                return Err(ApiError::already_exists("MFA Device is already in use."));
            }
            if acct.mfa_serials_of(&user.user_id).count() >= MFA_PER_USER {
                return Err(ApiError::limit_exceeded(format!(
                    "Cannot exceed quota for MFADevicesPerUser: {MFA_PER_USER}"
                )));
            }
            let step =
                consecutive_codes(&d, &input.authentication_code1, &input.authentication_code2)
                    .ok_or_else(invalid_code)?;
            let now = ids::now();
            tx.update(&account, &d.serial_number, |d: &mut MfaDevice| {
                d.user_id = Some(user.user_id.clone());
                d.enable_date = Some(now);
                d.last_step = Some(step);
            })?;
            Ok(())
        })
        .await
}

async fn resync_mfa_device(
    app: App,
    ctx: Ctx,
    input: iam::ResyncMFADeviceRequest,
) -> Result<(), ApiError> {
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            let acct = tx.account(&account);
            let user = require_user(acct, &input.user_name)?;
            let d = require_device(acct, &input.serial_number)
                .ok()
                .filter(|d| d.user_id.as_deref() == Some(user.user_id.as_str()))
                .ok_or_else(|| no_such_device(&input.serial_number))?;
            let step =
                consecutive_codes(&d, &input.authentication_code1, &input.authentication_code2)
                    .ok_or_else(invalid_code)?;
            tx.update(&account, &d.serial_number, |d: &mut MfaDevice| {
                d.last_step = Some(step)
            })?;
            Ok(())
        })
        .await
}

async fn deactivate_mfa_device(
    app: App,
    ctx: Ctx,
    input: iam::DeactivateMFADeviceRequest,
) -> Result<(), ApiError> {
    let account = ctx.account().to_string();
    let caller = ctx.clone();
    app.store
        .write(move |tx| {
            let acct = tx.account(&account);
            let user = user_or_caller(acct, &caller, input.user_name.as_deref())?;
            let d = require_device(acct, &input.serial_number)
                .ok()
                .filter(|d| {
                    d.user_id.is_some()
                        && d.user_id.as_deref() == user.as_ref().map(|u| u.user_id.as_str())
                })
                .ok_or_else(|| no_such_device(&input.serial_number))?;
            tx.update(&account, &d.serial_number, |d: &mut MfaDevice| {
                d.user_id = None;
                d.enable_date = None;
            })?;
            Ok(())
        })
        .await
}

async fn list_mfa_devices(
    app: App,
    ctx: Ctx,
    input: iam::ListMFADevicesRequest,
) -> Result<iam::ListMFADevicesResponse, ApiError> {
    let model = app.store.read();
    let acct = model.account(ctx.account());
    let devices: Vec<iam::MFADevice> = match user_or_caller(acct, &ctx, input.user_name.as_deref())?
    {
        Some(user) => acct
            .mfa_serials_of(&user.user_id)
            .filter_map(|s| acct.mfa_devices.get_by_id(s))
            .map(|d| iam::MFADevice {
                user_name: user.name.clone(),
                serial_number: d.serial_number.clone(),
                enable_date: ts(d.enable_date.unwrap_or(d.create_date)),
            })
            .collect(),
        // The root user's own devices (localiam has none for root).
        None => Vec::new(),
    };
    let (items, marker) = paginate(devices, input.marker.as_deref(), max_items(input.max_items))?;
    Ok(iam::ListMFADevicesResponse {
        mfa_devices: items,
        is_truncated: Some(marker.is_some()),
        marker,
    })
}

async fn get_mfa_device(
    app: App,
    ctx: Ctx,
    input: iam::GetMFADeviceRequest,
) -> Result<iam::GetMFADeviceResponse, ApiError> {
    let model = app.store.read();
    let acct = model.account(ctx.account());
    let user = user_or_caller(acct, &ctx, input.user_name.as_deref())?;
    let d = require_device(acct, &input.serial_number)?;
    if let Some(u) = &user {
        if d.user_id.as_deref() != Some(u.user_id.as_str()) {
            return Err(no_such_device(&input.serial_number));
        }
    }
    let owner = d.user_id.as_deref().and_then(|u| acct.users.get_by_id(u));
    Ok(iam::GetMFADeviceResponse {
        user_name: owner.map(|u| u.name.clone()),
        serial_number: d.serial_number.clone(),
        enable_date: d.enable_date.map(ts),
        certifications: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vector() {
        // RFC 6238 appendix B: secret "12345678901234567890", T = 59 s → 94287082 (8 digits);
        // the last 6 digits are the 6-digit code.
        let seed = data_encoding::BASE32_NOPAD.encode(b"12345678901234567890");
        assert_eq!(code_at(&seed, 59 / STEP).as_deref(), Some("287082"));
        assert_eq!(
            code_at(&seed, 1_111_111_109 / STEP).as_deref(),
            Some("081804")
        );
    }

    #[test]
    fn qr_code_is_a_png() {
        let png = qr_png("otpauth://totp/x?secret=ABC").unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    }

    #[test]
    fn a_code_is_accepted_once() {
        let mut d = MfaDevice {
            serial_number: "s".into(),
            account_id: "1".into(),
            path: "/".into(),
            device_name: "d".into(),
            seed: data_encoding::BASE32_NOPAD.encode(b"12345678901234567890"),
            create_date: 0,
            user_id: None,
            enable_date: None,
            last_step: None,
            tags: Vec::new(),
        };
        let now = 1000;
        let code = code_at(&d.seed, now).unwrap();
        let step = matching_step(&d, &code, DRIFT_STEPS, now).unwrap();
        assert_eq!(step, now);
        d.last_step = Some(step);
        assert_eq!(matching_step(&d, &code, DRIFT_STEPS, now), None);
    }
}
