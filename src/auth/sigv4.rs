//! Server-side verification of AWS Signature Version 4 (`AWS4-HMAC-SHA256`) for the IAM and STS
//! Query APIs.
//!
//! # API
//!
//! ```text
//! pub struct RequestParts<'a> { method, path, query, headers: &'a http::HeaderMap, body }
//! pub enum Auth { Anonymous, Signed(SignedAuth) }
//! pub struct SignedAuth { access_key_id, scope_date, region, service, signed_headers, signature,
//!                         amz_date, security_token, presigned_expires, location }
//! pub enum SignatureLocation { Header, Query }
//!
//! pub fn parse_auth(req: &RequestParts) -> Result<Auth, SigV4Error>;            // scope service iam|sts
//! pub fn parse_auth_for(req: &RequestParts, services: &[&str]) -> Result<Auth, SigV4Error>;
//! pub fn check_service(auth: &SignedAuth, expected: &str) -> Result<(), SigV4Error>;
//! pub fn verify(req: &RequestParts, auth: &SignedAuth, secret: &str, cache: &SigningKeyCache)
//!     -> Result<(), SigV4Error>;                                             // SignatureDoesNotMatch
//! pub fn check_clock(auth: &SignedAuth, now: time::OffsetDateTime) -> Result<(), SigV4Error>;
//! pub fn canonical_request(req: &RequestParts, auth: &SignedAuth) -> String; // for debug logs
//! pub fn string_to_sign(req: &RequestParts, auth: &SignedAuth) -> String;    // for debug logs
//! pub struct SigningKeyCache; SigningKeyCache::new(slots) / ::default()     // kept in server state
//! pub struct SigV4Error { code, message, status } + constructors for every AWS error used
//! ```
//!
//! # Flow expected from the server
//!
//! 1. `parse_auth` → `Auth::Anonymous` (no `Authorization` header, no `X-Amz-*` auth query
//!    parameters) or `Auth::Signed`. Parse errors are AWS's `IncompleteSignature` (400) or
//!    `SignatureDoesNotMatch` (403, credential-scope problems).
//! 2. Look the access key up. Unknown → [`SigV4Error::invalid_client_token_id`]; expired session
//!    → [`SigV4Error::expired_token`].
//! 3. `verify` with the key's secret → `SignatureDoesNotMatch` on mismatch (constant-time).
//! 4. Only in `strict`/`audit`/`enforce`: `check_clock` (15-minute window, presigned expiry).
//!
//! # Canonicalisation (what AWS does for services other than S3)
//!
//! * Canonical URI: the path *as received* (still percent-encoded), dot segments and duplicate
//!   slashes removed, then URI-encoded once more (so `%3D` becomes `%253D`): the "double encoding"
//!   SDKs apply for every service but S3.
//! * Canonical query: every `name=value` pair decoded as `application/x-www-form-urlencoded`
//!   (`+` is a space) and re-encoded per RFC 3986 (only `A-Za-z0-9-._~` unencoded, `%XX` upper
//!   case), sorted by encoded name then value; `X-Amz-Signature` left out for presigned requests.
//! * Canonical headers: exactly the `SignedHeaders`, in the order given, lower-case names, values
//!   trimmed of spaces with runs of spaces collapsed, repeated headers joined with `,`.
//! * Payload hash: `UNSIGNED-PAYLOAD` when the `x-amz-content-sha256` header says so, otherwise
//!   the SHA-256 of the body actually received (a client-supplied hash is never trusted: if a
//!   signed `x-amz-content-sha256` differs from the body, the signature does not match).
//! * The `host` header must be present in the `HeaderMap` (HTTP/1.1 always sends it; for HTTP/2
//!   the server should insert the `:authority` value as `host` before calling).
//!
//! Error texts follow AWS's Query-protocol responses; the few that AWS does not document
//! publicly (unsupported presigned parameters, presigned expiry) are marked where defined.

use std::borrow::Cow;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::Mutex;
use std::time::SystemTime;

use http::HeaderMap;
use percent_encoding::{percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time};

/// The only algorithm accepted.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The credential-scope terminator.
pub const TERMINATOR: &str = "aws4_request";
/// Payload hash a client may declare in `x-amz-content-sha256` to leave the body unsigned.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// Allowed difference between the request's date and the server clock.
pub const MAX_CLOCK_SKEW: Duration = Duration::minutes(15);
/// Largest `X-Amz-Expires` accepted (seven days).
pub const MAX_PRESIGNED_EXPIRES: u64 = 604_800;
/// Services a credential scope may name when [`parse_auth`] is used.
pub const DEFAULT_SERVICES: &[&str] = &["iam", "sts"];

/// RFC 3986 unreserved characters stay as they are; everything else is `%XX`-encoded.
const QUERY_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// As [`QUERY_ENCODE`], keeping the path separators.
const PATH_ENCODE: &AsciiSet = &QUERY_ENCODE.remove(b'/');

const P_ALGORITHM: &str = "X-Amz-Algorithm";
const P_CREDENTIAL: &str = "X-Amz-Credential";
const P_DATE: &str = "X-Amz-Date";
const P_EXPIRES: &str = "X-Amz-Expires";
const P_SIGNED_HEADERS: &str = "X-Amz-SignedHeaders";
const P_SIGNATURE: &str = "X-Amz-Signature";
const P_SECURITY_TOKEN: &str = "X-Amz-Security-Token";
const H_AMZ_DATE: &str = "x-amz-date";
const H_SECURITY_TOKEN: &str = "x-amz-security-token";
const H_CONTENT_SHA256: &str = "x-amz-content-sha256";

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// An authentication failure, carrying AWS's error code, message and HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct SigV4Error {
    /// AWS error code (`<Code>` of the Query error envelope).
    pub code: &'static str,
    /// AWS error message (`<Message>`).
    pub message: String,
    /// HTTP status code.
    pub status: u16,
}

impl SigV4Error {
    /// The AWS error code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The AWS error message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// `MissingAuthenticationToken` (403): the request carries no signature at all.
    pub fn missing_authentication_token() -> Self {
        Self {
            code: "MissingAuthenticationToken",
            message: "Request is missing Authentication Token".to_owned(),
            status: 403,
        }
    }

    /// `IncompleteSignature` (400) with the given message.
    pub fn incomplete_signature(message: impl Into<String>) -> Self {
        Self {
            code: "IncompleteSignature",
            message: message.into(),
            status: 400,
        }
    }

    /// `InvalidClientTokenId` (403): the access key ID (or session token) is not known.
    pub fn invalid_client_token_id() -> Self {
        Self {
            code: "InvalidClientTokenId",
            message: "The security token included in the request is invalid.".to_owned(),
            status: 403,
        }
    }

    /// `SignatureDoesNotMatch` (403) with AWS's standard message.
    pub fn signature_does_not_match() -> Self {
        Self::signature_does_not_match_with(
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method. Consult the service \
             documentation for details.",
        )
    }

    /// `SignatureDoesNotMatch` (403) with a specific message (scope and clock problems).
    pub fn signature_does_not_match_with(message: impl Into<String>) -> Self {
        Self {
            code: "SignatureDoesNotMatch",
            message: message.into(),
            status: 403,
        }
    }

    /// `ExpiredToken` (403): the temporary credentials of the request have expired.
    pub fn expired_token() -> Self {
        Self {
            code: "ExpiredToken",
            message: "The security token included in the request is expired".to_owned(),
            status: 403,
        }
    }

    /// A presigned request used after `X-Amz-Date + X-Amz-Expires`. AWS documents this text
    /// ("Request has expired", `AccessDenied`, 403) for S3; the Query APIs use the same wording.
    pub fn request_expired() -> Self {
        Self {
            code: "AccessDenied",
            message: "Request has expired".to_owned(),
            status: 403,
        }
    }

    /// `SignatureDoesNotMatch` for a credential scope naming another service.
    pub fn wrong_service(expected: &str) -> Self {
        Self::signature_does_not_match_with(format!(
            "Credential should be scoped to correct service: '{expected}'. "
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// Request and parsed authentication
// ---------------------------------------------------------------------------------------------

/// The parts of an HTTP request the signature covers, as received.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    /// HTTP method, upper case (`GET`, `POST`).
    pub method: &'a str,
    /// Raw path, still percent-encoded as received, without the query.
    pub path: &'a str,
    /// Raw query string without the leading `?` (empty when there is none).
    pub query: &'a str,
    /// Request headers (must contain `host`).
    pub headers: &'a HeaderMap,
    /// The complete request body.
    pub body: &'a [u8],
}

/// Where the signature was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureLocation {
    /// `Authorization` header.
    Header,
    /// Presigned query string (`X-Amz-Signature`).
    Query,
}

/// Result of [`parse_auth`].
// Returned by value once per request; boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// No signature of any kind.
    Anonymous,
    /// A SigV4 signature, syntactically valid, not yet verified.
    Signed(SignedAuth),
}

/// The authentication information of a signed request.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedAuth {
    /// Access key ID from the credential scope.
    pub access_key_id: String,
    /// Scope date, `YYYYMMDD` (always the day of `amz_date` once parsed).
    pub scope_date: String,
    /// Scope region.
    pub region: String,
    /// Scope service (`iam` or `sts` with [`parse_auth`]).
    pub service: String,
    /// `SignedHeaders` exactly as sent, `;`-separated lower-case names (see
    /// [`SignedAuth::signed_header_names`]).
    pub signed_headers: String,
    /// Hex signature as sent.
    pub signature: String,
    /// Request time (`X-Amz-Date`, or the `Date` header).
    pub amz_date: OffsetDateTime,
    /// Session token (`X-Amz-Security-Token` header or query parameter).
    pub security_token: Option<String>,
    /// `X-Amz-Expires` of a presigned request.
    pub presigned_expires: Option<u64>,
    /// Header or presigned query.
    pub location: SignatureLocation,
}

impl SignedAuth {
    /// The signed header names, in the order the client listed them.
    pub fn signed_header_names(&self) -> impl Iterator<Item = &str> {
        self.signed_headers.split(';').filter(|h| !h.is_empty())
    }

    /// `date/region/service/aws4_request`.
    pub fn credential_scope(&self) -> String {
        format!(
            "{}/{}/{}/{TERMINATOR}",
            self.scope_date, self.region, self.service
        )
    }
}

impl fmt::Debug for SignedAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedAuth")
            .field("access_key_id", &self.access_key_id)
            .field("scope_date", &self.scope_date)
            .field("region", &self.region)
            .field("service", &self.service)
            .field("signed_headers", &self.signed_headers)
            .field("signature", &self.signature)
            .field("amz_date", &self.amz_date)
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "<redacted>"),
            )
            .field("presigned_expires", &self.presigned_expires)
            .field("location", &self.location)
            .finish()
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

/// Extracts the authentication information, accepting `iam` and `sts` credential scopes.
pub fn parse_auth(req: &RequestParts<'_>) -> Result<Auth, SigV4Error> {
    parse_auth_for(req, DEFAULT_SERVICES)
}

/// As [`parse_auth`], with the services a credential scope may name (the first one is the one
/// AWS's "scoped to correct service" message names).
pub fn parse_auth_for(req: &RequestParts<'_>, services: &[&str]) -> Result<Auth, SigV4Error> {
    let authorization = req.headers.get(http::header::AUTHORIZATION);
    let presigned = query_pairs(req.query).any(|(k, _)| {
        let k = decode_component(k);
        k == P_ALGORITHM || k == P_CREDENTIAL || k == P_SIGNATURE
    });
    let auth = match (authorization, presigned) {
        (None, false) => return Ok(Auth::Anonymous),
        (Some(_), true) => {
            return Err(SigV4Error::incomplete_signature(
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or \
                 the Authorization header should be specified",
            ))
        }
        (Some(value), false) => {
            let value = text(value.as_bytes());
            parse_header_auth(req, &value)?
        }
        (None, true) => parse_query_auth(req)?,
    };
    check_scope(&auth, services)?;
    Ok(Auth::Signed(auth))
}

/// Checks the credential scope names `expected` (e.g. once the action is known).
pub fn check_service(auth: &SignedAuth, expected: &str) -> Result<(), SigV4Error> {
    if auth.service == expected {
        Ok(())
    } else {
        Err(SigV4Error::wrong_service(expected))
    }
}

fn parse_header_auth(req: &RequestParts<'_>, value: &str) -> Result<SignedAuth, SigV4Error> {
    let trimmed = value.trim();
    let (algorithm, rest) = trimmed.split_once(' ').unwrap_or((trimmed, ""));

    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    if algorithm == ALGORITHM {
        // AWS separates the parameters by commas and/or whitespace.
        for part in rest.split(|c: char| c == ',' || c.is_ascii_whitespace()) {
            if part.is_empty() {
                continue;
            }
            let Some((key, val)) = part.split_once('=') else {
                return Err(SigV4Error::incomplete_signature(format!(
                    "'{part}' not a valid key=value pair (missing equal-sign) in Authorization \
                     header: '{value}'."
                )));
            };
            match key.trim() {
                "Credential" => credential = Some(val.trim()),
                "SignedHeaders" => signed_headers = Some(val.trim()),
                "Signature" => signature = Some(val.trim()),
                _ => {}
            }
        }
    }

    let date = header_date(req.headers);
    let mut problems = String::new();
    if credential.is_none() {
        problems.push_str("Authorization header requires 'Credential' parameter. ");
    }
    if signature.is_none() {
        problems.push_str("Authorization header requires 'Signature' parameter. ");
    }
    if signed_headers.is_none() {
        problems.push_str("Authorization header requires 'SignedHeaders' parameter. ");
    }
    if date.is_none() {
        problems.push_str(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' \
             header. ",
        );
    }
    let (Some(credential), Some(signed_headers), Some(signature), Some(date)) =
        (credential, signed_headers, signature, date)
    else {
        problems.push_str("Authorization=");
        problems.push_str(value);
        return Err(SigV4Error::incomplete_signature(problems));
    };

    let (amz_date, raw_date) = date?;
    let scope = parse_credential(credential)?;
    check_terminator(scope.terminator)?;
    let security_token = req
        .headers
        .get(H_SECURITY_TOKEN)
        .map(|v| text(v.as_bytes()).into_owned());
    let auth = SignedAuth {
        access_key_id: scope.access_key_id.to_owned(),
        scope_date: scope.date.to_owned(),
        region: scope.region.to_owned(),
        service: scope.service.to_owned(),
        signed_headers: signed_headers.to_owned(),
        signature: signature.to_owned(),
        amz_date,
        security_token,
        presigned_expires: None,
        location: SignatureLocation::Header,
    };
    check_date_matches(&auth, &raw_date)?;
    Ok(auth)
}

fn parse_query_auth(req: &RequestParts<'_>) -> Result<SignedAuth, SigV4Error> {
    let mut algorithm = None;
    let mut credential = None;
    let mut date = None;
    let mut expires = None;
    let mut signed_headers = None;
    let mut signature = None;
    let mut token = None;
    for (k, v) in query_pairs(req.query) {
        let slot = match &*decode_component(k) {
            P_ALGORITHM => &mut algorithm,
            P_CREDENTIAL => &mut credential,
            P_DATE => &mut date,
            P_EXPIRES => &mut expires,
            P_SIGNED_HEADERS => &mut signed_headers,
            P_SIGNATURE => &mut signature,
            P_SECURITY_TOKEN => &mut token,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(decode_component(v));
        }
    }

    let mut problems = String::new();
    for (name, present) in [
        (P_ALGORITHM, algorithm.is_some()),
        (P_CREDENTIAL, credential.is_some()),
        (P_SIGNATURE, signature.is_some()),
        (P_DATE, date.is_some()),
        (P_SIGNED_HEADERS, signed_headers.is_some()),
    ] {
        if !present {
            problems.push_str("AWS query-string parameters must include '");
            problems.push_str(name);
            problems.push_str("'. ");
        }
    }
    let (Some(algorithm), Some(credential), Some(date), Some(signed_headers), Some(signature)) =
        (algorithm, credential, date, signed_headers, signature)
    else {
        problems.push_str("Re-examine the query-string parameters.");
        return Err(SigV4Error::incomplete_signature(problems));
    };
    if algorithm != ALGORITHM {
        return Err(SigV4Error::incomplete_signature(
            "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"",
        ));
    }
    let amz_date = parse_basic_date(&date).ok_or_else(|| bad_date(&date))?;
    let presigned_expires = match expires {
        None => None,
        Some(e) => Some(parse_expires(&e)?),
    };
    let scope = parse_credential(&credential)?;
    check_terminator(scope.terminator)?;
    let auth = SignedAuth {
        access_key_id: scope.access_key_id.to_owned(),
        scope_date: scope.date.to_owned(),
        region: scope.region.to_owned(),
        service: scope.service.to_owned(),
        signed_headers: signed_headers.into_owned(),
        signature: signature.into_owned(),
        amz_date,
        security_token: token.map(Cow::into_owned),
        presigned_expires,
        location: SignatureLocation::Query,
    };
    check_date_matches(&auth, &date)?;
    Ok(auth)
}

fn parse_expires(raw: &str) -> Result<u64, SigV4Error> {
    if let Some(stripped) = raw.strip_prefix('-') {
        if !stripped.is_empty() && stripped.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SigV4Error::incomplete_signature(
                "X-Amz-Expires must be non-negative",
            ));
        }
    }
    let value: u64 = raw
        .parse()
        .map_err(|_| SigV4Error::incomplete_signature("X-Amz-Expires should be a number"))?;
    if value > MAX_PRESIGNED_EXPIRES {
        return Err(SigV4Error::incomplete_signature(
            "X-Amz-Expires must be less than a week (in seconds) that is 604800",
        ));
    }
    Ok(value)
}

struct Scope<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    terminator: &'a str,
}

fn parse_credential(credential: &str) -> Result<Scope<'_>, SigV4Error> {
    let mut parts = credential.split('/');
    match (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) {
        (Some(access_key_id), Some(date), Some(region), Some(service), Some(terminator), None)
            if !access_key_id.is_empty() =>
        {
            Ok(Scope {
                access_key_id,
                date,
                region,
                service,
                terminator,
            })
        }
        _ => Err(SigV4Error::incomplete_signature(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. \
             keyid/date/region/service/term, got '{credential}'"
        ))),
    }
}

fn check_terminator(terminator: &str) -> Result<(), SigV4Error> {
    if terminator == TERMINATOR {
        Ok(())
    } else {
        Err(SigV4Error::signature_does_not_match_with(format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not \
             '{terminator}'. "
        )))
    }
}

/// The scope date must be the day of the request date. `raw_date` is the date as sent.
fn check_date_matches(auth: &SignedAuth, raw_date: &str) -> Result<(), SigV4Error> {
    let basic = BasicDate::of(auth.amz_date);
    let day = &basic.as_str()[..8];
    if auth.scope_date == day {
        Ok(())
    } else {
        let from = if parse_basic_date(raw_date).is_some() {
            raw_date
        } else {
            basic.as_str()
        };
        Err(SigV4Error::signature_does_not_match_with(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
             from HTTP: '{}' != '{day}', from '{from}'.",
            auth.scope_date
        )))
    }
}

fn check_scope(auth: &SignedAuth, services: &[&str]) -> Result<(), SigV4Error> {
    if !auth.signed_header_names().any(|h| h == "host") {
        return Err(SigV4Error::incomplete_signature(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    if auth.region.is_empty() {
        return Err(SigV4Error::signature_does_not_match_with(
            "Credential should be scoped to a valid region, not ''. ",
        ));
    }
    if !services.iter().any(|s| *s == auth.service) {
        return Err(SigV4Error::wrong_service(
            services.first().copied().unwrap_or_default(),
        ));
    }
    Ok(())
}

/// A header's bytes as text: borrowed when they are UTF-8 (the usual case, checked by the fast
/// validator), replacement characters otherwise.
fn text(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// The request date from `X-Amz-Date`, else `Date`: `None` when neither header is present,
/// `Some(Err)` when the present one cannot be parsed; on success also the raw text.
fn header_date(headers: &HeaderMap) -> Option<Result<(OffsetDateTime, String), SigV4Error>> {
    if let Some(v) = headers.get(H_AMZ_DATE) {
        let raw = text(v.as_bytes());
        return Some(match parse_basic_date(raw.trim()) {
            Some(d) => Ok((d, raw.trim().to_owned())),
            None => Err(bad_date(&raw)),
        });
    }
    let v = headers.get(http::header::DATE)?;
    let raw = text(v.as_bytes());
    Some(match parse_http_date(raw.trim()) {
        Some(d) => Ok((d, BasicDate::of(d).as_str().to_owned())),
        None => Err(bad_date(&raw)),
    })
}

fn bad_date(raw: &str) -> SigV4Error {
    SigV4Error::incomplete_signature(format!(
        "Date must be in ISO-8601 'basic format'. Got '{raw}'. See \
         http://en.wikipedia.org/wiki/ISO_8601"
    ))
}

/// `YYYYMMDD'T'HHMMSS'Z'`.
fn parse_basic_date(s: &str) -> Option<OffsetDateTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let year = i32::try_from(num(0..4)?).ok()?;
    let month = Month::try_from(u8::try_from(num(4..6)?).ok()?).ok()?;
    let day = u8::try_from(num(6..8)?).ok()?;
    let hour = u8::try_from(num(9..11)?).ok()?;
    let minute = u8::try_from(num(11..13)?).ok()?;
    let second = u8::try_from(num(13..15)?).ok()?;
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let time = Time::from_hms(hour, minute, second).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

/// RFC 7231 IMF-fixdate, e.g. `Sun, 30 Aug 2015 12:36:00 GMT`.
fn parse_http_date(s: &str) -> Option<OffsetDateTime> {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    PrimitiveDateTime::parse(s, format)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// A date formatted as `YYYYMMDDTHHMMSSZ` without allocating.
struct BasicDate([u8; 16]);

impl BasicDate {
    fn of(t: OffsetDateTime) -> Self {
        let t = t.to_offset(time::UtcOffset::UTC);
        let mut out = *b"00000000T000000Z";
        let mut put = |at: usize, width: usize, mut v: u32| {
            for i in (at..at + width).rev() {
                // `v % 10` is a single digit, so the cast is lossless.
                out[i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, 4, u32::try_from(t.year()).unwrap_or(0));
        put(4, 2, u32::from(u8::from(t.month())));
        put(6, 2, u32::from(t.day()));
        put(9, 2, u32::from(t.hour()));
        put(11, 2, u32::from(t.minute()));
        put(13, 2, u32::from(t.second()));
        Self(out)
    }

    fn as_str(&self) -> &str {
        // Only ASCII digits, 'T' and 'Z' are ever written.
        std::str::from_utf8(&self.0).unwrap_or("00000000T000000Z")
    }
}

// ---------------------------------------------------------------------------------------------
// Clock
// ---------------------------------------------------------------------------------------------

/// The 15-minute window (and, for presigned requests, `X-Amz-Expires`). Applied by the server
/// only in `strict`, `audit` and `enforce` modes.
pub fn check_clock(auth: &SignedAuth, now: OffsetDateTime) -> Result<(), SigV4Error> {
    let now = now.replace_nanosecond(0).unwrap_or(now);
    if let (SignatureLocation::Query, Some(expires)) = (auth.location, auth.presigned_expires) {
        let expires = Duration::seconds(i64::try_from(expires).unwrap_or(i64::MAX));
        if now > auth.amz_date.saturating_add(expires) {
            return Err(SigV4Error::request_expired());
        }
    }
    // The dates are written only for the error.
    let (date, now_s) = (|| BasicDate::of(auth.amz_date), || BasicDate::of(now));
    if auth.amz_date < now - MAX_CLOCK_SKEW {
        return Err(SigV4Error::signature_does_not_match_with(format!(
            "Signature expired: {} is now earlier than {} ({} - 15 min.)",
            date().as_str(),
            BasicDate::of(now - MAX_CLOCK_SKEW).as_str(),
            now_s().as_str()
        )));
    }
    if auth.amz_date > now + MAX_CLOCK_SKEW {
        return Err(SigV4Error::signature_does_not_match_with(format!(
            "Signature not yet current: {} is still later than {} ({} + 15 min.)",
            date().as_str(),
            BasicDate::of(now + MAX_CLOCK_SKEW).as_str(),
            now_s().as_str()
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------

/// Recomputes the signature with `secret` and compares it (constant time) with the one sent.
pub fn verify(
    req: &RequestParts<'_>,
    auth: &SignedAuth,
    secret: &str,
    cache: &SigningKeyCache,
) -> Result<(), SigV4Error> {
    let key = cache.signing_key(auth, secret)?;
    let mut sts = Vec::with_capacity(160);
    write_string_to_sign(req, auth, &mut sts);
    let expected = aws_sigv4::sign::v4::calculate_signature(key, &sts);
    if bool::from(expected.as_bytes().ct_eq(auth.signature.as_bytes())) {
        Ok(())
    } else {
        Err(SigV4Error::signature_does_not_match())
    }
}

/// The canonical request the signature must cover (for debug logs; contains no secret).
pub fn canonical_request(req: &RequestParts<'_>, auth: &SignedAuth) -> String {
    let mut out = Vec::with_capacity(256);
    write_canonical_request(req, auth, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The string to sign (for debug logs; contains no secret).
pub fn string_to_sign(req: &RequestParts<'_>, auth: &SignedAuth) -> String {
    let mut out = Vec::with_capacity(160);
    write_string_to_sign(req, auth, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn write_string_to_sign(req: &RequestParts<'_>, auth: &SignedAuth, out: &mut Vec<u8>) {
    let mut hasher = Sha256::new();
    write_canonical_request(req, auth, &mut hasher);
    let mut hash_hex = [0u8; 64];
    // 32 bytes always fit in 64 hex digits.
    let _ = hex::encode_to_slice(hasher.finalize(), &mut hash_hex);
    out.extend_from_slice(ALGORITHM.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(&BasicDate::of(auth.amz_date).0);
    out.push(b'\n');
    for part in [&auth.scope_date, &auth.region, &auth.service] {
        out.extend_from_slice(part.as_bytes());
        out.push(b'/');
    }
    out.extend_from_slice(TERMINATOR.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(&hash_hex);
}

/// Destination of the canonical request: a hasher on the hot path, a buffer for debugging.
trait Sink {
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Sha256 {
    fn put(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

fn write_canonical_request(req: &RequestParts<'_>, auth: &SignedAuth, out: &mut impl Sink) {
    out.put(req.method.as_bytes());
    out.put(b"\n");
    write_canonical_path(req.path, out);
    out.put(b"\n");
    write_canonical_query(req.query, auth.location == SignatureLocation::Query, out);
    out.put(b"\n");
    for name in auth.signed_header_names() {
        out.put(name.as_bytes());
        out.put(b":");
        for (i, value) in req.headers.get_all(name).iter().enumerate() {
            if i > 0 {
                out.put(b",");
            }
            write_trimmed_value(value.as_bytes(), out);
        }
        out.put(b"\n");
    }
    out.put(b"\n");
    out.put(auth.signed_headers.as_bytes());
    out.put(b"\n");
    let declared = req.headers.get(H_CONTENT_SHA256).map(|v| v.as_bytes());
    if declared == Some(UNSIGNED_PAYLOAD.as_bytes()) {
        out.put(UNSIGNED_PAYLOAD.as_bytes());
    } else {
        let mut hash_hex = [0u8; 64];
        let _ = hex::encode_to_slice(Sha256::digest(req.body), &mut hash_hex);
        out.put(&hash_hex);
    }
}

/// Trims leading/trailing spaces and collapses runs of spaces into one.
fn write_trimmed_value(value: &[u8], out: &mut impl Sink) {
    let start = value.iter().position(|&b| b != b' ');
    let end = value.iter().rposition(|&b| b != b' ');
    let (Some(start), Some(end)) = (start, end) else {
        return;
    };
    let value = &value[start..=end];
    let mut run_start = 0;
    let mut i = 0;
    while i < value.len() {
        if value[i] == b' ' && i + 1 < value.len() && value[i + 1] == b' ' {
            out.put(&value[run_start..=i]);
            while i < value.len() && value[i] == b' ' {
                i += 1;
            }
            run_start = i;
        } else {
            i += 1;
        }
    }
    out.put(&value[run_start..]);
}

fn write_canonical_path(path: &str, out: &mut impl Sink) {
    let normalized = normalize_path(path);
    for chunk in percent_encode(normalized.as_bytes(), PATH_ENCODE) {
        out.put(chunk.as_bytes());
    }
}

/// Removes `.`/`..` segments and empty segments, keeping a trailing slash (RFC 3986 section 5.2.4
/// as the SDKs apply it for every service but S3).
fn normalize_path(path: &str) -> Cow<'_, str> {
    if path.is_empty() {
        return Cow::Borrowed("/");
    }
    let needs_work = !path.starts_with('/') || path.contains("//") || path.contains('.');
    if !needs_work {
        return Cow::Borrowed(path);
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    let mut out = String::with_capacity(path.len() + 1);
    for segment in &segments {
        out.push('/');
        out.push_str(segment);
    }
    let trailing = ["/", "/.", "/..", "/./", "/../"]
        .iter()
        .any(|suffix| path.ends_with(suffix));
    if out.is_empty() || (trailing && !out.ends_with('/')) {
        out.push('/');
    }
    Cow::Owned(out)
}

fn write_canonical_query(query: &str, presigned: bool, out: &mut impl Sink) {
    let mut params: Vec<(Cow<'_, str>, Cow<'_, str>)> = Vec::new();
    for (k, v) in query_pairs(query) {
        let key = canonical_component(k);
        if presigned && key == P_SIGNATURE {
            continue;
        }
        params.push((key, canonical_component(v)));
    }
    params.sort_unstable();
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            out.put(b"&");
        }
        out.put(k.as_bytes());
        out.put(b"=");
        out.put(v.as_bytes());
    }
}

/// Raw `name=value` pairs of a query string (a name without `=` has an empty value).
fn query_pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

/// True when decoding and re-encoding `raw` would give `raw` back.
fn is_canonical(raw: &str) -> bool {
    let b = raw.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if is_unreserved(b[i]) {
            i += 1;
        } else if b[i] == b'%'
            && i + 2 < b.len()
            && b[i + 1].is_ascii_hexdigit()
            && b[i + 2].is_ascii_hexdigit()
            && !b[i + 1].is_ascii_lowercase()
            && !b[i + 2].is_ascii_lowercase()
        {
            let decoded = hex_value(b[i + 1]).unwrap_or(0) * 16 + hex_value(b[i + 2]).unwrap_or(0);
            if is_unreserved(decoded) {
                return false;
            }
            i += 3;
        } else {
            return false;
        }
    }
    true
}

/// Form-decodes (`+` is a space) a query component; invalid `%` sequences stay as they are.
fn decode_component(raw: &str) -> Cow<'_, str> {
    if !raw.bytes().any(|b| b == b'%' || b == b'+') {
        return Cow::Borrowed(raw);
    }
    let b = raw.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' if i + 2 < b.len() => match (hex_value(b[i + 1]), hex_value(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

fn canonical_component(raw: &str) -> Cow<'_, str> {
    if is_canonical(raw) {
        return Cow::Borrowed(raw);
    }
    let decoded = decode_component(raw);
    Cow::Owned(percent_encode(decoded.as_bytes(), QUERY_ENCODE).to_string())
}

// ---------------------------------------------------------------------------------------------
// Signing-key cache
// ---------------------------------------------------------------------------------------------

/// A bounded, direct-mapped cache of derived signing keys, keyed by access key ID, a keyed hash
/// of the secret (so a rotated secret never reuses a stale key, and no secret is stored), scope
/// date, region and service. One lives in the server state; lookups never block (a contended
/// slot just derives the key without the cache).
pub struct SigningKeyCache {
    slots: Box<[Mutex<Option<CacheEntry>>]>,
    hasher: RandomState,
}

struct CacheEntry {
    tag: u64,
    secret_fingerprint: u64,
    access_key_id: Box<str>,
    scope_date: Box<str>,
    region: Box<str>,
    service: Box<str>,
    key: [u8; 32],
}

impl CacheEntry {
    fn matches(&self, tag: u64, secret_fingerprint: u64, auth: &SignedAuth) -> bool {
        self.tag == tag
            && self.secret_fingerprint == secret_fingerprint
            && *self.access_key_id == *auth.access_key_id
            && *self.scope_date == *auth.scope_date
            && *self.region == *auth.region
            && *self.service == *auth.service
    }
}

impl Default for SigningKeyCache {
    fn default() -> Self {
        Self::new(1024)
    }
}

impl fmt::Debug for SigningKeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyCache")
            .field("slots", &self.slots.len())
            .finish_non_exhaustive()
    }
}

impl SigningKeyCache {
    /// A cache of `slots` entries (at least one).
    pub fn new(slots: usize) -> Self {
        let slots = (0..slots.max(1)).map(|_| Mutex::new(None)).collect();
        Self {
            slots,
            hasher: RandomState::new(),
        }
    }

    /// Number of slots.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// The signing key for `auth`'s scope and `secret`, from the cache when possible.
    fn signing_key(&self, auth: &SignedAuth, secret: &str) -> Result<[u8; 32], SigV4Error> {
        let secret_fingerprint = self.hasher.hash_one(secret);
        let tag = self.hasher.hash_one((
            &auth.access_key_id,
            secret_fingerprint,
            &auth.scope_date,
            &auth.region,
            &auth.service,
        ));
        // The modulo keeps the index below `slots.len()`, which fits in usize.
        let index = (tag % self.slots.len() as u64) as usize;
        let slot = &self.slots[index];
        if let Ok(guard) = slot.try_lock() {
            if let Some(entry) = guard.as_ref() {
                if entry.matches(tag, secret_fingerprint, auth) {
                    return Ok(entry.key);
                }
            }
        }
        let key = derive_signing_key(auth, secret)?;
        if let Ok(mut guard) = slot.try_lock() {
            *guard = Some(CacheEntry {
                tag,
                secret_fingerprint,
                access_key_id: auth.access_key_id.as_str().into(),
                scope_date: auth.scope_date.as_str().into(),
                region: auth.region.as_str().into(),
                service: auth.service.as_str().into(),
                key,
            });
        }
        Ok(key)
    }
}

fn derive_signing_key(auth: &SignedAuth, secret: &str) -> Result<[u8; 32], SigV4Error> {
    let day = parse_basic_date(&format!("{}T000000Z", auth.scope_date))
        .ok_or_else(SigV4Error::signature_does_not_match)?;
    let key = aws_sigv4::sign::v4::generate_signing_key(
        secret,
        SystemTime::from(day),
        &auth.region,
        &auth.service,
    );
    key.as_ref()
        .try_into()
        .map_err(|_| SigV4Error::signature_does_not_match())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trimmed(value: &str) -> String {
        let mut out = Vec::new();
        write_trimmed_value(value.as_bytes(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn header_values_are_trimmed_and_collapsed() {
        assert_eq!(trimmed("  a   b  c "), "a b c");
        assert_eq!(trimmed("\"a   b   c\""), "\"a b c\"");
        assert_eq!(trimmed("   "), "");
        assert_eq!(trimmed("x"), "x");
        assert_eq!(trimmed("a\tb"), "a\tb");
    }

    #[test]
    fn paths_are_normalised() {
        assert_eq!(normalize_path(""), "/");
        assert_eq!(normalize_path("/"), "/");
        assert_eq!(normalize_path("/a/b"), "/a/b");
        assert_eq!(normalize_path("//example//"), "/example/");
        assert_eq!(normalize_path("/a/./b/../c"), "/a/c");
        assert_eq!(normalize_path("/a/.."), "/");
        assert_eq!(normalize_path("/../.."), "/");
        assert_eq!(normalize_path("a"), "/a");
    }

    #[test]
    fn canonical_components() {
        assert!(is_canonical("AKID%2F20150830"));
        assert!(!is_canonical("a%2fb"));
        assert!(!is_canonical("%7E"));
        assert!(!is_canonical("a+b"));
        assert!(!is_canonical("%"));
        assert!(!is_canonical("%4"));
        assert_eq!(canonical_component("a%2fb"), "a%2Fb");
        assert_eq!(canonical_component("%7E%41"), "~A");
        assert_eq!(canonical_component("a+b%20c"), "a%20b%20c");
        assert_eq!(canonical_component("100%"), "100%25");
        assert_eq!(canonical_component("%zz"), "%25zz");
        assert_eq!(decode_component("%E1%88%B4"), "\u{1234}");
    }

    #[test]
    fn dates_round_trip() {
        let t = parse_basic_date("20150830T123600Z");
        assert_eq!(
            t.map(|t| BasicDate::of(t).as_str().to_owned()).as_deref(),
            Some("20150830T123600Z")
        );
        assert!(parse_basic_date("20150830T123600").is_none());
        assert!(parse_basic_date("20151330T123600Z").is_none());
        assert!(parse_basic_date("2015083aT123600Z").is_none());
        assert_eq!(
            parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT"),
            parse_basic_date("20150830T123600Z")
        );
    }
}
