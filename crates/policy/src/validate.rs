//! Policy-document validation with AWS IAM's exact `MalformedPolicyDocument` messages.
//!
//! [`validate`] checks a policy document the way IAM does before it stores one, and answers with
//! the message IAM sends back. The order of the checks matters as much as the checks: a document
//! with several faults gets the message of the first check that fails, in this order (which is
//! what AWS was recorded doing, see `tests/validate_recorded.rs`):
//!
//! 1. JSON parsing: `Syntax errors in policy.` (`This policy contains invalid Json` for trust
//!    policies).
//! 2. Grammar: known top-level and statement elements only, value types, `Effect` (any case),
//!    `Version` one of `2008-10-17`/`2012-10-17`, no `Action` with `NotAction` nor `Resource`
//!    with `NotResource`, condition blocks and operators: `Syntax errors in policy.`
//! 3. Version: identity policies must say `2012-10-17`; trust and resource policies may say
//!    `2008-10-17` or nothing unless they use policy variables:
//!    `Policy document must be version 2012-10-17 or greater.`
//! 4. Principal placement: identity policies must not have one; trust policies must not have a
//!    `Resource`.
//! 5. "Legacy parsing": `Effect` case, date condition values, and the short forms of ARNs that
//!    IAM's older parser rejects: `The policy failed legacy parsing`.
//! 6. `Statement IDs (SID) in a single policy must be unique.`, then (identity policies) the
//!    alphanumeric `Sid` rule.
//! 7. `Policy statement must contain actions.`, then `Policy statement must contain resources.`
//! 8. The first resource-format fault found in step 5 (`Resource X must be in ARN format or "*".`,
//!    `Partition "p" is not valid for resource "…".`, region and IAM path rules).
//! 9. Action prefixes (`Actions/Conditions must be prefaced by a vendor, …`, one colon, vendor
//!    characters), then the trust-policy action rule and the principal rules.
//!
//! [`policy_size`] counts a document against IAM's size quotas.

use std::borrow::Cow;

use crate::json::{get, with_arena, Json, Members, StatementElements};

/// Which kind of policy a document is, as IAM validates each kind differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// Identity-based policies: managed, inline (user, group, role), permissions boundaries and
    /// session policies. No `Principal`; `Resource` required.
    Identity,
    /// A role's trust policy (`AssumeRolePolicyDocument`). `Principal` required, no `Resource`,
    /// only STS role-assumption actions.
    Trust,
    /// Any other resource-based policy. `Principal` and `Resource` required.
    Resource,
}

/// A policy document IAM would refuse, with IAM's message (the `MalformedPolicyDocument` error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct MalformedPolicy {
    pub message: String,
}

impl MalformedPolicy {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

const SYNTAX_ERRORS: &str = "Syntax errors in policy.";
const INVALID_JSON: &str = "This policy contains invalid Json";
const VERSION_TOO_OLD: &str = "Policy document must be version 2012-10-17 or greater.";
const LEGACY_PARSING: &str = "The policy failed legacy parsing";
const SID_NOT_UNIQUE: &str = "Statement IDs (SID) in a single policy must be unique.";
const SID_NOT_ALPHANUMERIC: &str = "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*";
const NO_ACTIONS: &str = "Policy statement must contain actions.";
const NO_RESOURCES: &str = "Policy statement must contain resources.";
const NO_VENDOR: &str =
    "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.";
const TOO_MANY_COLONS: &str = "Actions/Condition can contain only one colon.";
const VENDOR_NOT_QUALIFIED: &str =
    "Resource vendor must be fully qualified and cannot contain regexes.";
const PRINCIPAL_IN_IDENTITY_POLICY: &str = "Policy document should not specify a principal.";
const MISSING_PRINCIPAL: &str = "Missing required field Principal";
const EMPTY_PRINCIPAL: &str = "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: The passed in policy has a statement with no principals!";
const TRUST_ACTIONS_ONLY: &str = "AssumeRole policy may only specify STS AssumeRole actions.";
const IAM_PATH_PREFIXES: [&str; 13] = [
    "user/",
    "federated-user/",
    "role/",
    "group/",
    "instance-profile/",
    "mfa/",
    "server-certificate/",
    "policy/",
    "sms-mfa/",
    "saml-provider/",
    "oidc-provider/",
    "report/",
    "access-report/",
];

const VERSION_2012: &str = "2012-10-17";
const VERSION_2008: &str = "2008-10-17";

const TOP_LEVEL_ELEMENTS: [&str; 3] = ["Version", "Id", "Statement"];
const PRINCIPAL_TYPES: [&str; 4] = ["AWS", "Service", "Federated", "CanonicalUser"];
const PARTITIONS: [&str; 8] = [
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];
const CONDITION_OPERATORS: [&str; 27] = [
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Null",
];
/// The actions a trust policy may name (compared case-insensitively; wildcards must match one).
const TRUST_ACTIONS: [&str; 6] = [
    "sts:assumerole",
    "sts:assumerolewithsaml",
    "sts:assumerolewithwebidentity",
    "sts:tagsession",
    "sts:setsourceidentity",
    "sts:setcontext",
];

/// Checks `document` as IAM does for a policy of `kind`; the error carries IAM's exact message.
pub fn validate(document: &str, kind: PolicyKind) -> Result<(), MalformedPolicy> {
    with_arena(|arena| {
        let json = Json::parse(document, arena).map_err(|_| not_json(kind))?;
        let policy = Policy::from_json(&json).ok_or_else(|| MalformedPolicy::new(SYNTAX_ERRORS))?;
        policy.check(kind).map_err(MalformedPolicy::new)
    })
}

/// The message for a document that is not JSON.
fn not_json(kind: PolicyKind) -> MalformedPolicy {
    MalformedPolicy::new(match kind {
        PolicyKind::Trust => INVALID_JSON,
        PolicyKind::Identity | PolicyKind::Resource => SYNTAX_ERRORS,
    })
}

/// [`validate`], then [`crate::Policy::parse`], reading the JSON once: the policy IAM would
/// store, or IAM's message. (A document that passes validation always parses; should it not,
/// the answer is `Syntax errors in policy.`)
pub fn validate_and_parse(
    document: &str,
    kind: PolicyKind,
) -> Result<crate::Policy, MalformedPolicy> {
    with_arena(|arena| {
        let parsed = Json::parse_policy(document, arena).map_err(|_| not_json(kind))?;
        let policy =
            Policy::from_json(&parsed.json).ok_or_else(|| MalformedPolicy::new(SYNTAX_ERRORS))?;
        policy.check(kind).map_err(MalformedPolicy::new)?;
        crate::Policy::from_json(&parsed).map_err(|_| MalformedPolicy::new(SYNTAX_ERRORS))
    })
}

/// The size of `document` as IAM counts it against its quotas (managed policy 6,144; inline
/// policies of a user 2,048, group 5,120, role 10,240; trust policy 2,048 by default).
///
/// AWS documents only that "IAM does not count white space when calculating the size of a policy"
/// (IAM and AWS STS quotas, IAM and STS character quotas). It stores and counts the document
/// as JSON, so the white space it drops is the insignificant white space between JSON tokens
/// (space, tab, line feed, carriage return, as RFC 8259 defines it). Everything inside a string
/// literal, quotes, escapes and spaces included, is part of the value and counts, one per
/// character. A document that is not valid JSON is counted the same way, token by token.
pub fn policy_size(document: &str) -> usize {
    let mut size = 0;
    let mut in_string = false;
    let mut escaped = false;
    for c in document.chars() {
        if in_string {
            size += 1;
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            size += 1;
            if c == '"' {
                in_string = true;
            }
        }
    }
    size
}

/// A policy document that passed the grammar checks (step 2).
struct Policy<'a> {
    version: Option<&'a str>,
    statements: Vec<Statement<'a>>,
}

/// One statement that passed the grammar checks.
struct Statement<'a> {
    sid: Option<&'a str>,
    effect: &'a str,
    action: Option<Strs<'a>>,
    not_action: Option<Strs<'a>>,
    resource: Option<Strs<'a>>,
    not_resource: Option<Strs<'a>>,
    principal: Option<&'a Json<'a>>,
    not_principal: Option<&'a Json<'a>>,
    /// The `Condition` element's operators, checked by [`conditions_from_json`].
    conditions: &'a Members<'a>,
}

/// One operator of a `Condition` element: its condition keys and their values (scalars or
/// arrays of scalars), in document order.
struct ConditionBlock<'a> {
    operator: &'a str,
    entries: &'a Members<'a>,
}

impl<'a> ConditionBlock<'a> {
    /// Every value of every condition key, as text.
    fn values(&self) -> impl Iterator<Item = Cow<'a, str>> {
        let entries: &'a Members<'a> = self.entries;
        entries
            .iter()
            .flat_map(|(_, values)| match values {
                Json::Array(items) => items,
                other => std::slice::from_ref(other),
            })
            .filter_map(scalar_text)
    }
}

impl<'a> Policy<'a> {
    /// Step 2: the grammar. `None` means "Syntax errors in policy."
    fn from_json(json: &'a Json<'a>) -> Option<Self> {
        let top = json.as_object()?;
        if top.iter().any(|(k, _)| !TOP_LEVEL_ELEMENTS.contains(k)) {
            return None;
        }
        let version = match get(top, "Version") {
            None => None,
            Some(v) => {
                let v = v.as_str()?;
                if v != VERSION_2012 && v != VERSION_2008 {
                    return None;
                }
                Some(v)
            }
        };
        if let Some(id) = get(top, "Id") {
            id.as_str()?;
        }
        let statements = match get(top, "Statement")? {
            Json::Object(one) => vec![Statement::from_json(one)?],
            Json::Array(many) if !many.is_empty() => {
                let mut statements = Vec::with_capacity(many.len());
                for s in many.iter() {
                    statements.push(Statement::from_json(s.as_object()?)?);
                }
                statements
            }
            _ => return None,
        };
        Some(Self {
            version,
            statements,
        })
    }

    /// Steps 3 to 9, for a document that passed the grammar.
    fn check(&self, kind: PolicyKind) -> Result<(), String> {
        self.check_version(kind)?;
        self.check_principal_placement(kind)?;
        let resource_fault = self.legacy_parsing()?;
        self.check_sids(kind)?;
        if self
            .statements
            .iter()
            .any(|s| !has_values(s.action) && !has_values(s.not_action))
        {
            return Err(NO_ACTIONS.into());
        }
        if kind != PolicyKind::Trust
            && self
                .statements
                .iter()
                .any(|s| !has_values(s.resource) && !has_values(s.not_resource))
        {
            return Err(NO_RESOURCES.into());
        }
        if let Some(fault) = resource_fault {
            return Err(fault);
        }
        for statement in &self.statements {
            for action in statement.action.into_iter().flat_map(Strs::iter) {
                check_action_prefix(action)?;
            }
        }
        for statement in &self.statements {
            for action in statement.not_action.into_iter().flat_map(Strs::iter) {
                check_action_prefix(action)?;
            }
        }
        match kind {
            PolicyKind::Identity => Ok(()),
            PolicyKind::Trust => {
                self.check_trust_actions()?;
                self.check_principals()
            }
            PolicyKind::Resource => self.check_principals(),
        }
    }

    fn check_version(&self, kind: PolicyKind) -> Result<(), String> {
        if self.version == Some(VERSION_2012) {
            return Ok(());
        }
        let needs_2012 = match kind {
            PolicyKind::Identity => true,
            // Older trust and resource policies stay valid as long as they use no policy
            // variables, which need 2012-10-17.
            PolicyKind::Trust | PolicyKind::Resource => {
                self.statements.iter().any(Statement::uses_policy_variables)
            }
        };
        if needs_2012 {
            Err(VERSION_TOO_OLD.into())
        } else {
            Ok(())
        }
    }

    fn check_principal_placement(&self, kind: PolicyKind) -> Result<(), String> {
        match kind {
            PolicyKind::Identity => {
                if self
                    .statements
                    .iter()
                    .any(|s| s.principal.is_some() || s.not_principal.is_some())
                {
                    return Err(PRINCIPAL_IN_IDENTITY_POLICY.into());
                }
            }
            PolicyKind::Trust => {
                for statement in &self.statements {
                    if statement.resource.is_some() {
                        return Err("Has prohibited field Resource".into());
                    }
                    if statement.not_resource.is_some() {
                        return Err("Has prohibited field NotResource".into());
                    }
                }
            }
            PolicyKind::Resource => {}
        }
        Ok(())
    }

    /// Step 5. An `Err` is "The policy failed legacy parsing"; `Ok(Some(message))` is the first
    /// resource-format fault, which IAM reports only after the later existence checks.
    fn legacy_parsing(&self) -> Result<Option<String>, String> {
        for statement in &self.statements {
            if statement.effect != "Allow" && statement.effect != "Deny" {
                return Err(LEGACY_PARSING.into());
            }
            for block in statement.condition_blocks() {
                if strip_operator(block.operator).starts_with("Date")
                    && !block.values().all(|v| legacy_date_ok(&v))
                {
                    return Err(LEGACY_PARSING.into());
                }
            }
        }
        let mut first_fault: Option<String> = None;
        let resource_lists = self
            .statements
            .iter()
            .filter_map(|s| s.resource)
            .chain(self.statements.iter().filter_map(|s| s.not_resource));
        for resources in resource_lists {
            let mut legacy_ok = true;
            for resource in resources.iter() {
                if first_fault.is_none() && resource != "*" {
                    let fields = arn_fields(resource);
                    first_fault = resource_format_fault(resource, &fields);
                    legacy_ok &= legacy_resource_ok(&fields);
                }
            }
            // The old parser only ran on statements whose resources had no format fault so far.
            if first_fault.is_none() && !legacy_ok {
                return Err(LEGACY_PARSING.into());
            }
        }
        Ok(first_fault)
    }

    fn check_sids(&self, kind: PolicyKind) -> Result<(), String> {
        // Empty Sids are allowed more than once.
        let mut seen: Vec<&str> = self
            .statements
            .iter()
            .filter_map(|s| s.sid)
            .filter(|sid| !sid.is_empty())
            .collect();
        seen.sort_unstable();
        if seen.windows(2).any(|pair| pair[0] == pair[1]) {
            return Err(SID_NOT_UNIQUE.into());
        }
        if kind == PolicyKind::Identity
            && seen
                .iter()
                .any(|sid| !sid.bytes().all(|c| c.is_ascii_alphanumeric()))
        {
            return Err(SID_NOT_ALPHANUMERIC.into());
        }
        Ok(())
    }

    fn check_trust_actions(&self) -> Result<(), String> {
        let all_allowed = self
            .statements
            .iter()
            .flat_map(|s| s.action.into_iter().flat_map(Strs::iter))
            .all(|action| {
                let action = action.to_ascii_lowercase();
                TRUST_ACTIONS
                    .iter()
                    .any(|allowed| wildcard_match(&action, allowed))
            });
        if all_allowed {
            Ok(())
        } else {
            Err(TRUST_ACTIONS_ONLY.into())
        }
    }

    fn check_principals(&self) -> Result<(), String> {
        for statement in &self.statements {
            let principal = match (statement.principal, statement.not_principal) {
                (Some(p), None) | (None, Some(p)) => p,
                _ => return Err(MISSING_PRINCIPAL.into()),
            };
            let map = match principal {
                Json::String(_) => continue, // "*", checked by the grammar
                Json::Object(map) => map,
                _ => return Err(SYNTAX_ERRORS.into()),
            };
            let mut any = false;
            for (kind, ids) in map.iter() {
                for id in string_or_strings(ids).into_iter().flat_map(Strs::iter) {
                    any = true;
                    if !principal_id_ok(kind, id) {
                        let label = match *kind {
                            "AWS" => "AWS",
                            "Service" => "SERVICE",
                            "Federated" => "FEDERATED",
                            _ => "CANONICAL_USER",
                        };
                        return Err(format!("Invalid principal in policy: \"{label}\":\"{id}\""));
                    }
                }
            }
            if !any {
                return Err(EMPTY_PRINCIPAL.into());
            }
        }
        Ok(())
    }
}

impl<'a> Statement<'a> {
    fn from_json(map: &'a Members<'a>) -> Option<Self> {
        let e = StatementElements::of(map);
        if e.unknown
            || (e.action.is_some() && e.not_action.is_some())
            || (e.resource.is_some() && e.not_resource.is_some())
            || (e.principal.is_some() && e.not_principal.is_some())
        {
            return None;
        }
        let effect = e.effect?.as_str()?;
        if !effect.eq_ignore_ascii_case("Allow") && !effect.eq_ignore_ascii_case("Deny") {
            return None;
        }
        let sid = match e.sid {
            None => None,
            Some(v) => Some(v.as_str()?),
        };
        let list = |v: Option<&'a Json<'a>>| -> Option<Option<Strs<'a>>> {
            match v {
                None => Some(None),
                Some(v) => string_or_strings(v).map(Some),
            }
        };
        let principal_of = |v: Option<&'a Json<'a>>| -> Option<Option<&'a Json<'a>>> {
            match v {
                None => Some(None),
                Some(v) if principal_syntax_ok(v) => Some(Some(v)),
                Some(_) => None,
            }
        };
        Some(Self {
            sid,
            effect,
            action: list(e.action)?,
            not_action: list(e.not_action)?,
            resource: list(e.resource)?,
            not_resource: list(e.not_resource)?,
            principal: principal_of(e.principal)?,
            not_principal: principal_of(e.not_principal)?,
            conditions: match e.condition {
                None => &[],
                Some(c) => conditions_from_json(c)?,
            },
        })
    }

    fn uses_policy_variables(&self) -> bool {
        let in_list =
            |l: Option<Strs<'_>>| l.into_iter().flat_map(Strs::iter).any(|s| s.contains("${"));
        in_list(self.resource)
            || in_list(self.not_resource)
            || self
                .condition_blocks()
                .flat_map(|block| block.values())
                .any(|v| v.contains("${"))
    }

    /// The operators of the `Condition` element, in document order.
    fn condition_blocks(&self) -> impl Iterator<Item = ConditionBlock<'a>> {
        let conditions: &'a Members<'a> = self.conditions;
        conditions.iter().filter_map(|(operator, block)| {
            Some(ConditionBlock {
                operator,
                entries: block.as_object()?,
            })
        })
    }
}

/// A string, or an array of strings (possibly empty), read in place.
#[derive(Clone, Copy)]
enum Strs<'a> {
    One(&'a str),
    /// Only strings.
    Many(&'a [Json<'a>]),
}

impl<'a> Strs<'a> {
    fn iter(self) -> impl Iterator<Item = &'a str> {
        let (one, many): (Option<&'a str>, &'a [Json<'a>]) = match self {
            Strs::One(s) => (Some(s), &[]),
            Strs::Many(items) => (None, items),
        };
        one.into_iter().chain(many.iter().filter_map(Json::as_str))
    }
}

/// A string, or an array of strings (possibly empty).
fn string_or_strings<'a>(value: &'a Json<'a>) -> Option<Strs<'a>> {
    match value {
        Json::String(s) => Some(Strs::One(s)),
        Json::Array(items) if items.iter().all(|i| matches!(i, Json::String(_))) => {
            Some(Strs::Many(items))
        }
        _ => None,
    }
}

fn has_values(list: Option<Strs<'_>>) -> bool {
    !matches!(list, None | Some(Strs::Many([])))
}

/// `"*"`, or a map of principal types to an id or a list of ids.
fn principal_syntax_ok<'a>(value: &'a Json<'a>) -> bool {
    match value {
        Json::String(s) => *s == "*",
        Json::Object(map) => map
            .iter()
            .all(|(k, v)| PRINCIPAL_TYPES.contains(k) && string_or_strings(v).is_some()),
        _ => false,
    }
}

/// `{operator: {key: value or [values]}}`; values are strings, numbers or booleans. An operator
/// IAM does not know is accepted only with an empty block.
fn conditions_from_json<'a>(value: &'a Json<'a>) -> Option<&'a Members<'a>> {
    let operators = value.as_object()?;
    for (operator, block) in operators {
        let block = block.as_object()?;
        if !block.is_empty() && !CONDITION_OPERATORS.contains(&strip_operator(operator)) {
            return None;
        }
        let scalar = |v: &Json<'_>| matches!(v, Json::String(_) | Json::Number(_) | Json::Bool(_));
        let valid = block.iter().all(|(_, values)| match values {
            Json::Array(items) => items.iter().all(scalar),
            other => scalar(other),
        });
        if !valid {
            return None;
        }
    }
    Some(operators)
}

fn scalar_text<'a>(value: &'a Json<'_>) -> Option<Cow<'a, str>> {
    match value {
        Json::String(s) => Some(Cow::Borrowed(s)),
        Json::Number(n) => Some(Cow::Owned(n.to_string())),
        Json::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

/// The operator without its `ForAnyValue:`/`ForAllValues:` qualifier and `IfExists` suffix.
fn strip_operator(operator: &str) -> &str {
    let operator = operator
        .strip_prefix("ForAnyValue:")
        .or_else(|| operator.strip_prefix("ForAllValues:"))
        .unwrap_or(operator);
    operator.strip_suffix("IfExists").unwrap_or(operator)
}

/// The vendor rules for one `Action`/`NotAction` entry.
fn check_action_prefix(action: &str) -> Result<(), String> {
    let colons = action.bytes().filter(|&b| b == b':').count();
    if colons == 0 && action != "*" {
        return Err(NO_VENDOR.into());
    }
    if colons > 1 {
        return Err(TOO_MANY_COLONS.into());
    }
    let vendor = action.split_once(':').map_or(action, |(vendor, _)| vendor);
    if vendor != "*"
        && !vendor
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    {
        return Err(format!("Vendor {vendor} is not valid"));
    }
    Ok(())
}

/// Splits an ARN on `:`, keeping policy variables (`${aws:username}`) whole.
fn arn_fields(arn: &str) -> Vec<&str> {
    let mut fields = Vec::with_capacity(8);
    let mut start = 0;
    let mut depth = 0usize;
    let bytes = arn.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth > 0 => depth -= 1,
            b':' if depth == 0 => {
                fields.push(&arn[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    fields.push(&arn[start..]);
    fields
}

/// The format rules IAM reports after its existence checks; `None` when the resource is fine.
/// `fields` are the resource's [`arn_fields`]; `"*"` is fine.
fn resource_format_fault(resource: &str, fields: &[&str]) -> Option<String> {
    if fields.len() == 1 {
        return Some(format!(
            "Resource {resource} must be in ARN format or \"*\"."
        ));
    }
    // The first field is not checked: IAM reads any `x:partition:…` as an ARN.
    let partition = fields[1];
    if partition != "*" && !PARTITIONS.contains(&partition) {
        // IAM echoes the resource as a six-field ARN, filling the fields it lacks with `*`.
        let rest = &fields[2..];
        let service = match rest.first() {
            Some(s) if !s.is_empty() || rest.len() > 1 => s,
            _ => "*",
        };
        let field = |i: usize| rest.get(i).copied().unwrap_or("*");
        let resource_id = if rest.len() > 3 {
            rest[3..].join(":")
        } else {
            "*".to_string()
        };
        return Some(format!(
            "Partition \"{partition}\" is not valid for resource \"arn:{partition}:{service}:{}:{}:{resource_id}\".",
            field(1),
            field(2),
        ));
    }
    if fields.len() == 2 {
        return Some(VENDOR_NOT_QUALIFIED.into());
    }
    let service = fields[2];
    let region = fields.get(3).copied().unwrap_or("");
    let account = fields.get(4).copied().unwrap_or("");
    // The fields are slices of `resource`: the id runs from the sixth field to the end.
    let resource_id = match fields.get(5) {
        Some(first) => {
            let at = first.as_ptr() as usize - resource.as_ptr() as usize;
            resource.get(at..).unwrap_or_default()
        }
        None => "",
    };
    match service {
        "iam" => {
            if !region.is_empty() {
                return Some(format!(
                    "IAM resource {resource} cannot contain region information."
                ));
            }
            let path_ok = resource_id == "*"
                || resource_id == "root"
                || IAM_PATH_PREFIXES.iter().any(|p| resource_id.starts_with(p));
            if !path_ok {
                return Some(format!(
                    "IAM resource path must either be \"*\", root, or start with {}.",
                    IAM_PATH_PREFIXES.join(", ")
                ));
            }
        }
        // Buckets and objects have neither region nor account; account-scoped S3 resources
        // (access points, batch jobs, Storage Lens) carry both.
        "s3" if !region.is_empty() && account.is_empty() => {
            return Some(format!(
                "Resource {resource} can not contain region information."
            ));
        }
        "route53" if !region.is_empty() => {
            return Some(format!(
                "Resource {resource} can not contain region information."
            ));
        }
        "route53" if !account.is_empty() => {
            return Some(format!("Resource {resource} cannot contain an account id."));
        }
        _ => {}
    }
    None
}

/// IAM's old parser rejected ARNs with fewer than six fields that have an empty field between
/// two colons (`arn:aws:s3::bucket`), and ARNs with an empty or missing service.
/// `fields` are the resource's [`arn_fields`]; `"*"` is fine.
fn legacy_resource_ok(fields: &[&str]) -> bool {
    let colons = fields.len() - 1;
    let empty_inner_field = fields
        .iter()
        .skip(1)
        .take(fields.len().saturating_sub(2))
        .any(|f| f.is_empty());
    (colons >= 5 || !empty_inner_field) && fields.get(2).is_some_and(|s| !s.is_empty())
}

/// A date condition value as IAM's old parser read it: an epoch in seconds, or an ISO 8601 date
/// or date-time.
fn legacy_date_ok(value: &str) -> bool {
    // Lower-cased on the stack when short (dates are).
    let mut buf = [0u8; 64];
    let lower: Cow<'_, str> = match buf.get_mut(..value.len()) {
        Some(dst) if value.is_ascii() => {
            dst.copy_from_slice(value.as_bytes());
            dst.make_ascii_lowercase();
            Cow::Borrowed(std::str::from_utf8(dst).unwrap_or_default())
        }
        _ => Cow::Owned(value.to_lowercase()),
    };
    if lower.contains('t') || value.contains('-') {
        iso_datetime_ok(&lower)
    } else {
        parse_int(value).is_some_and(|n| (0..=i128::from(i64::MAX)).contains(&n))
    }
}

fn iso_datetime_ok(value: &str) -> bool {
    let (date, time) = value.split_once('t').unwrap_or((value, ""));
    let (negative, date) = match date.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, date),
    };
    let date_parts = Fields::<4>::split(date, '-');
    let year = match parse_int(date_parts[0]) {
        Some(y) if negative && !date_parts[0].starts_with(['+', '-']) => -y,
        Some(y) if !negative => y,
        _ => return false,
    };
    if !(-292_275_054..=292_278_993).contains(&year) || date_parts.len() > 3 {
        return false;
    }
    if date_parts.len() > 1 && !in_range(date_parts[1], 1, 12) {
        return false;
    }
    if date_parts.len() > 2 && !in_range(date_parts[2], 1, 31) {
        return false;
    }
    let time_parts = Fields::<3>::split(time, ':');
    if !time_parts[0].is_empty() && !in_range(time_parts[0], 0, 23) {
        return false;
    }
    if time_parts.len() > 1 && !in_range(time_parts[1], 0, 59) {
        return false;
    }
    if time_parts.len() > 2 {
        let last = time_parts[2];
        let seconds = if let Some((seconds, after)) = last.split_once('z') {
            if !after.is_empty() {
                return false;
            }
            seconds
        } else if let Some(at) = last.find(['+', '-']) {
            // A numeric offset: two-digit hours, optionally `:` and two-digit minutes.
            let offset = &last[at + 1..];
            let (hours, minutes) = match offset.split_once(':') {
                Some((h, m)) => (h, Some(m)),
                None => (offset, None),
            };
            if hours.len() != 2 || !in_range(hours, 0, 23) {
                return false;
            }
            if let Some(m) = minutes {
                if m.len() != 2 || !in_range(m, 0, 59) {
                    return false;
                }
            }
            &last[..at]
        } else {
            last
        };
        let (whole, fraction) = match seconds.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (seconds, None),
        };
        if !in_range(whole, 0, 59) {
            return false;
        }
        if let Some(f) = fraction {
            if !in_range(f, 0, 999_999_999) {
                return false;
            }
        }
    }
    true
}

/// The first `N` fields of a text split on a separator, and how many fields it has in all.
struct Fields<'s, const N: usize> {
    first: [&'s str; N],
    count: usize,
}

impl<'s, const N: usize> Fields<'s, N> {
    fn split(text: &'s str, separator: char) -> Self {
        let mut first = [""; N];
        let mut count = 0;
        for field in text.split(separator) {
            if let Some(slot) = first.get_mut(count) {
                *slot = field;
            }
            count += 1;
        }
        Fields { first, count }
    }

    fn len(&self) -> usize {
        self.count
    }
}

impl<'s, const N: usize> std::ops::Index<usize> for Fields<'s, N> {
    type Output = &'s str;
    fn index(&self, i: usize) -> &&'s str {
        &self.first[i]
    }
}

fn in_range(text: &str, low: i128, high: i128) -> bool {
    parse_int(text).is_some_and(|n| (low..=high).contains(&n))
}

/// An integer with an optional sign; `None` when it is not one or does not fit.
fn parse_int(text: &str) -> Option<i128> {
    let text = text.trim();
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Glob match of `text` against `pattern`, where `*` and `?` in the pattern are wildcards.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Whether `id` is a well-formed principal of type `kind` (existence is not checked here).
fn principal_id_ok(kind: &str, id: &str) -> bool {
    if id.is_empty() || id.chars().any(char::is_whitespace) {
        return false;
    }
    match kind {
        "AWS" => id == "*" || is_account_id(id) || aws_principal_arn_ok(id) || is_unique_id(id),
        "Service" => id.contains('.') && !id.contains('*'),
        _ => true,
    }
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// IAM users and roles that IAM shows by unique ID once they are deleted.
fn is_unique_id(s: &str) -> bool {
    (s.starts_with("AIDA") || s.starts_with("AROA"))
        && s.len() == 21
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// `arn:P:iam::ACCOUNT:root|user/…|role/…` or `arn:P:sts::ACCOUNT:assumed-role/…|federated-user/…`,
/// without wildcards.
fn aws_principal_arn_ok(arn: &str) -> bool {
    if arn.contains('*') || arn.contains('?') {
        return false;
    }
    let fields: Vec<&str> = arn.splitn(6, ':').collect();
    if fields.len() != 6
        || fields[0] != "arn"
        || !PARTITIONS.contains(&fields[1])
        || !fields[3].is_empty()
        || !is_account_id(fields[4])
    {
        return false;
    }
    let resource = fields[5];
    let named = |prefix: &str| {
        resource
            .strip_prefix(prefix)
            .is_some_and(|rest| !rest.is_empty() && !rest.ends_with('/'))
    };
    match fields[2] {
        "iam" => resource == "root" || named("user/") || named("role/"),
        "sts" => named("assumed-role/") || named("federated-user/"),
        _ => false,
    }
}
