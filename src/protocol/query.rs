//! Query-protocol input: form/query parameters and AWS-style input validation.
//!
//! Parameters arrive flattened (`Tags.member.1.Key=…`, `Map.entry.1.key=…`); generated decoders
//! (see `generated/`) walk them with [`Params`] and report constraint violations to a [`Validator`],
//! which renders AWS's `ValidationError` message.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use crate::error::ApiError;

/// One `application/x-www-form-urlencoded` name or value decoded as `form_urlencoded` decodes it
/// (`+` is a space, `%XX` a byte, invalid UTF-8 replaced); text without escapes is copied as it is
/// (most of a request: the generic decoder validates it char by char).
fn form_decode(raw: &[u8]) -> String {
    if !raw.iter().any(|&b| b == b'%' || b == b'+') {
        if let Ok(text) = std::str::from_utf8(raw) {
            return text.to_owned();
        }
    }
    let spaced: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    percent_encoding::percent_decode(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// Decoded request parameters. The first occurrence of a key wins.
#[derive(Debug, Default, Clone)]
pub struct Params {
    map: BTreeMap<String, String>,
}

impl Params {
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let mut map = BTreeMap::new();
        for (k, v) in pairs {
            map.entry(k.into()).or_insert_with(|| v.into());
        }
        Params { map }
    }

    /// Parses an `application/x-www-form-urlencoded` body or query string.
    pub fn parse(input: &[u8]) -> Self {
        Self::from_pairs(
            input
                .split(|&b| b == b'&')
                .filter(|pair| !pair.is_empty())
                .map(|pair| match pair.iter().position(|&b| b == b'=') {
                    Some(i) => (form_decode(&pair[..i]), form_decode(&pair[i + 1..])),
                    None => (form_decode(pair), String::new()),
                }),
        )
    }

    /// Adds the pairs of `other` whose keys are not present yet.
    pub fn merge_missing(&mut self, other: Params) {
        for (k, v) in other.map {
            self.map.entry(k).or_insert(v);
        }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(String::as_str)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// True when some key starts with `prefix` (a nested structure or list element is present).
    pub fn has_prefix(&self, prefix: &str) -> bool {
        self.map
            .range::<str, _>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Unbounded,
            ))
            .next()
            .is_some_and(|(k, _)| k.starts_with(prefix))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.map.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// Joins a parameter prefix and a member name (`""`+`UserName`, `Tags.member.1`+`Key`).
pub fn key(prefix: &str, member: &str) -> String {
    if prefix.is_empty() {
        member.to_string()
    } else {
        format!("{prefix}.{member}")
    }
}

/// Joins a validation path and a member's lowerCamel name (`tags.1.member` + `key`).
pub fn vpath(path: &str, member: &str) -> String {
    if path.is_empty() {
        member.to_string()
    } else {
        format!("{path}.{member}")
    }
}

/// A string shape's constraints from the service model.
pub struct StrRule {
    pub min: Option<usize>,
    pub max: Option<usize>,
    pub pattern: Option<&'static LazyLock<Regex>>,
    pub pattern_text: &'static str,
    pub extra: Option<fn(&str) -> bool>,
    pub enumeration: &'static [&'static str],
}

/// A numeric shape's constraints from the service model.
pub struct IntRule {
    pub min: Option<i64>,
    pub max: Option<i64>,
}

/// A list or map shape's length constraints.
pub struct LenRule {
    pub min: Option<usize>,
    pub max: Option<usize>,
}

/// Collects constraint violations in AWS's wording.
#[derive(Debug)]
pub struct Validator {
    /// STS echoes the offending value (`Value 'x' at 'roleSessionName'`); IAM does not (`Value at 'userName'`).
    echo_values: bool,
    errors: Vec<String>,
    /// The constraints of the last string checked, in AWS's list-member wording (see [`read_list`]).
    last_member_constraint: Option<String>,
    /// Where an operation answers a pattern violation with its own message instead of the
    /// model's wording: (member path, message).
    pattern_messages: &'static [(&'static str, &'static str)],
    /// The first such message hit: it is the whole answer.
    own_message: Option<&'static str>,
}

impl Validator {
    pub fn new(echo_values: bool) -> Self {
        Validator {
            echo_values,
            errors: Vec::new(),
            last_member_constraint: None,
            pattern_messages: &[],
            own_message: None,
        }
    }

    /// Pattern violations at these member paths are answered with the operation's own message.
    pub fn with_pattern_messages(
        mut self,
        messages: &'static [(&'static str, &'static str)],
    ) -> Self {
        self.pattern_messages = messages;
        self
    }

    /// AWS's wording of every constraint of a string list member, as IAM reports an invalid
    /// member of a list of strings: `Member must satisfy constraint: [Member must have length
    /// less than or equal to 128, …]` (recorded for `tagKeys` and `clientIDList`).
    fn member_constraint(rule: &StrRule) -> String {
        let mut parts = Vec::new();
        if let Some(max) = rule.max {
            parts.push(format!(
                "Member must have length less than or equal to {max}"
            ));
        }
        if let Some(min) = rule.min {
            parts.push(format!(
                "Member must have length greater than or equal to {min}"
            ));
        }
        if rule.pattern.is_some() {
            parts.push(format!(
                "Member must satisfy regular expression pattern: {}",
                rule.pattern_text
            ));
            parts.push("Member must not be null".to_string());
        }
        format!("Member must satisfy constraint: [{}]", parts.join(", "))
    }

    fn push(&mut self, value: Option<&str>, path: &str, constraint: &str) {
        let msg = match value {
            Some(v) if self.echo_values => {
                format!("Value '{v}' at '{path}' failed to satisfy constraint: {constraint}")
            }
            None => format!("Value null at '{path}' failed to satisfy constraint: {constraint}"),
            Some(_) => format!("Value at '{path}' failed to satisfy constraint: {constraint}"),
        };
        self.errors.push(msg);
    }

    pub fn missing(&mut self, path: &str) {
        self.push(None, path, "Member must not be null");
    }

    pub fn check_str(&mut self, value: &str, path: &str, rule: &StrRule) {
        self.last_member_constraint = Some(Self::member_constraint(rule));
        let len = value.chars().count();
        if let Some(max) = rule.max {
            if len > max {
                self.push(
                    Some(value),
                    path,
                    &format!("Member must have length less than or equal to {max}"),
                );
            }
        }
        if let Some(min) = rule.min {
            if len < min {
                self.push(
                    Some(value),
                    path,
                    &format!("Member must have length greater than or equal to {min}"),
                );
            }
        }
        if let Some(re) = rule.pattern {
            let extra_ok = rule.extra.is_none_or(|f| f(value));
            if !re.is_match(value) || !extra_ok {
                if let Some((_, m)) = self.pattern_messages.iter().find(|(p, _)| *p == path) {
                    self.own_message.get_or_insert(m);
                    return;
                }
                self.push(
                    Some(value),
                    path,
                    &format!(
                        "Member must satisfy regular expression pattern: {}",
                        rule.pattern_text
                    ),
                );
            }
        }
        if !rule.enumeration.is_empty() && !rule.enumeration.contains(&value) {
            let constraint = if self.echo_values {
                format!(
                    "Member must satisfy enum value set: [{}]",
                    rule.enumeration.join(", ")
                )
            } else {
                "Member must satisfy enum value set".to_string()
            };
            self.push(Some(value), path, &constraint);
        }
    }

    pub fn check_int(&mut self, value: i64, path: &str, rule: &IntRule) {
        let text = value.to_string();
        if let Some(max) = rule.max {
            if value > max {
                self.push(
                    Some(&text),
                    path,
                    &format!("Member must have value less than or equal to {max}"),
                );
            }
        }
        if let Some(min) = rule.min {
            if value < min {
                self.push(
                    Some(&text),
                    path,
                    &format!("Member must have value greater than or equal to {min}"),
                );
            }
        }
    }

    pub fn check_len(&mut self, len: usize, path: &str, rule: &LenRule) {
        if let Some(max) = rule.max {
            if len > max {
                self.push(
                    Some(""),
                    path,
                    &format!("Member must have length less than or equal to {max}"),
                );
            }
        }
        if let Some(min) = rule.min {
            if len < min {
                self.push(
                    Some(""),
                    path,
                    &format!("Member must have length greater than or equal to {min}"),
                );
            }
        }
    }

    /// A value that does not parse as its type (`MaxItems=abc`).
    pub fn bad_type(&mut self, value: &str, path: &str, ty: &str) {
        self.push(Some(value), path, &format!("Member must be of type {ty}"));
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if let Some(m) = self.own_message {
            return Err(ApiError::validation(m));
        }
        match self.errors.len() {
            0 => Ok(()),
            n => Err(ApiError::validation(format!(
                "{n} validation error{} detected: {}",
                if n == 1 { "" } else { "s" },
                self.errors.join("; ")
            ))),
        }
    }
}

/// Decoding of a model shape from flattened parameters. Generated for every input structure.
pub trait FromParams: Sized {
    fn from_params(p: &Params, prefix: &str, path: &str, v: &mut Validator) -> Self;
}

impl FromParams for () {
    fn from_params(_: &Params, _: &str, _: &str, _: &mut Validator) -> Self {}
}

pub fn read_string(
    p: &Params,
    key: &str,
    path: &str,
    rule: &StrRule,
    v: &mut Validator,
) -> Option<String> {
    let value = p.get(key)?;
    v.check_str(value, path, rule);
    Some(value.to_string())
}

pub fn read_int(
    p: &Params,
    key: &str,
    path: &str,
    rule: &IntRule,
    v: &mut Validator,
) -> Option<i32> {
    let raw = p.get(key)?;
    match raw.trim().parse::<i64>() {
        Ok(n) => {
            v.check_int(n, path, rule);
            Some(i32::try_from(n).unwrap_or(if n < 0 { i32::MIN } else { i32::MAX }))
        }
        Err(_) => {
            v.bad_type(raw, path, "integer");
            None
        }
    }
}

pub fn read_bool(p: &Params, key: &str, path: &str, v: &mut Validator) -> Option<bool> {
    let raw = p.get(key)?;
    match raw.to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => {
            v.bad_type(raw, path, "boolean");
            None
        }
    }
}

pub fn read_blob(p: &Params, key: &str, path: &str, v: &mut Validator) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let raw = p.get(key)?;
    match base64::engine::general_purpose::STANDARD.decode(raw) {
        Ok(b) => Some(b),
        Err(_) => {
            v.bad_type("***", path, "blob");
            None
        }
    }
}

pub fn read_timestamp(
    p: &Params,
    key: &str,
    path: &str,
    v: &mut Validator,
) -> Option<time::OffsetDateTime> {
    let raw = p.get(key)?;
    match time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339) {
        Ok(t) => Some(t),
        Err(_) => {
            v.bad_type(raw, path, "timestamp");
            None
        }
    }
}

/// Reads a `Prefix.member.N` list. `Prefix=` (present and empty) is the empty list.
pub fn read_list<T>(
    p: &Params,
    key: &str,
    path: &str,
    rule: &LenRule,
    v: &mut Validator,
    mut item: impl FnMut(&Params, &str, &str, &mut Validator) -> Option<T>,
) -> Option<Vec<T>> {
    let mut out = Vec::new();
    let mut n = 1usize;
    let mut member_error_reported = false;
    loop {
        let k = format!("{key}.member.{n}");
        if !p.contains(&k) && !p.has_prefix(&format!("{k}.")) {
            break;
        }
        let ip = format!("{path}.{n}.member");
        if p.contains(&k) && !v.echo_values {
            // A scalar member: IAM reports the list once, with the member's constraints.
            let mut scratch = Validator::new(false);
            if let Some(x) = item(p, &k, &ip, &mut scratch) {
                out.push(x);
            }
            if !scratch.errors.is_empty() {
                match scratch.last_member_constraint.take() {
                    Some(c) if !member_error_reported => {
                        v.push(Some(""), path, &c);
                        member_error_reported = true;
                    }
                    Some(_) => {}
                    None => v.errors.append(&mut scratch.errors),
                }
            }
        } else if let Some(x) = item(p, &k, &ip, v) {
            out.push(x);
        }
        n += 1;
    }
    if out.is_empty() && !p.contains(key) {
        return None;
    }
    v.check_len(out.len(), path, rule);
    Some(out)
}

/// Reads a `Prefix.entry.N.key` / `Prefix.entry.N.value` map.
pub fn read_map<T>(
    p: &Params,
    key: &str,
    path: &str,
    rule: &LenRule,
    v: &mut Validator,
    mut value: impl FnMut(&Params, &str, &str, &mut Validator) -> Option<T>,
) -> Option<Vec<(String, T)>> {
    let mut out = Vec::new();
    let mut n = 1usize;
    loop {
        let base = format!("{key}.entry.{n}");
        if !p.has_prefix(&format!("{base}.")) {
            break;
        }
        let k = p
            .get(&format!("{base}.key"))
            .unwrap_or_default()
            .to_string();
        if let Some(x) = value(p, &format!("{base}.value"), &format!("{path}.{n}.value"), v) {
            out.push((k, x));
        }
        n += 1;
    }
    if out.is_empty() && !p.contains(key) {
        return None;
    }
    v.check_len(out.len(), path, rule);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `form_urlencoded` makes of `input` (the reference the fast decoder must match).
    fn reference(input: &[u8]) -> Params {
        Params::from_pairs(form_urlencoded::parse(input).into_owned())
    }

    #[test]
    fn parameters_decode_as_form_urlencoded_decodes_them() {
        let mut inputs: Vec<Vec<u8>> = [
            "",
            "&",
            "&&a=1&&",
            "Action=GetUser&Version=2010-05-08&UserName=bob",
            "a=b=c&d",
            "=x&y=",
            "k%20ey=v+a%2Bl%26ue%3D",
            "bad=%zz%4&pct=%&p2=%e9%e9",
            "utf=%C3%A9t%C3%A9&raw=été",
            "a=1&a=2",
            "plus=+++&sp=%20%20",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        inputs.push(vec![b'a', b'=', 0xff, 0xfe, b'&', b'b', b'=', 0xc3]);
        // Random bytes over an alphabet rich in the characters that matter.
        let alphabet = b"ab=&%+2Fe9C3\xc3\xa9\xff ";
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..2000 {
            let len = (seed % 24) as usize;
            let mut v = Vec::with_capacity(len);
            for _ in 0..len {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                v.push(alphabet[(seed % alphabet.len() as u64) as usize]);
            }
            inputs.push(v);
        }
        for input in inputs {
            let (ours, theirs) = (Params::parse(&input), reference(&input));
            assert_eq!(
                ours.iter().collect::<Vec<_>>(),
                theirs.iter().collect::<Vec<_>>(),
                "{:?}",
                String::from_utf8_lossy(&input)
            );
        }
    }
}
