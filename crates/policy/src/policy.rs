//! Parsing a policy document into its compiled, immutable form.

use crate::text::Text;
use std::borrow::Cow;

use crate::arn::{ArnPattern, ArnTemplate, Segment};
use crate::condition::{Condition, Operator};
use crate::glob::Glob;
use crate::json::{with_arena, Json, Members};
use crate::position::Position;
use crate::vars;

/// Why a document could not be parsed. (Grammar errors with AWS's messages are the business
/// of [`crate::validate`]; these are for documents the evaluator cannot make sense of.)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("policy is not valid JSON: {0}")]
    Json(String),
    #[error("policy document must be a JSON object")]
    NotAnObject,
    #[error("policy has no Statement")]
    MissingStatement,
    #[error("invalid {element} in statement {index}")]
    InvalidElement { element: &'static str, index: usize },
    #[error("unknown condition operator {0}")]
    UnknownOperator(String),
}

/// The policy language version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `2012-10-17`: policy variables are recognised.
    V2012_10_17,
    /// `2008-10-17`, or no `Version`: `${…}` is literal text.
    V2008_10_17,
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    Allow,
    Deny,
}

impl Effect {
    /// `"Allow"` / `"Deny"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ActionSpec {
    Action(Box<[Glob]>),
    NotAction(Box<[Glob]>),
    Absent,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ResPat {
    Static(ArnPattern),
    Tmpl(ArnTemplate),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ResourceSpec {
    Resource(Box<[ResPat]>),
    NotResource(Box<[ResPat]>),
    Absent,
}

/// An entry of `Principal: {"AWS": …}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AwsPrincipal {
    Any,
    Account(Text),
    Arn(Text),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Principals {
    pub(crate) any: bool,
    pub(crate) aws: Vec<AwsPrincipal>,
    pub(crate) service: Vec<Text>,
    pub(crate) federated: Vec<Text>,
    pub(crate) canonical: Vec<Text>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PrincipalSpec {
    Principal(Principals),
    NotPrincipal(Principals),
    Absent,
}

/// One compiled statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub(crate) sid: Option<Text>,
    pub(crate) effect: Effect,
    pub(crate) start: Position,
    pub(crate) end: Position,
    pub(crate) actions: ActionSpec,
    pub(crate) resources: ResourceSpec,
    pub(crate) principal: PrincipalSpec,
    pub(crate) conditions: Box<[Condition]>,
}

impl Statement {
    /// The `Sid`, if any.
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }
    /// The `Effect`.
    pub fn effect(&self) -> Effect {
        self.effect
    }
    /// Position of the statement's `{` (1-based line and column).
    pub fn start_position(&self) -> Position {
        self.start
    }
    /// Position just after the statement's `}`.
    pub fn end_position(&self) -> Position {
        self.end
    }
    /// Whether the statement has a `Principal` or `NotPrincipal`.
    pub fn has_principal(&self) -> bool {
        !matches!(self.principal, PrincipalSpec::Absent)
    }
}

/// A parsed, compiled policy: parse once, evaluate many times. `Send + Sync`, share it via
/// `Arc`.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    version: Version,
    id: Option<String>,
    statements: Vec<Statement>,
    context_keys: Vec<String>,
}

impl Policy {
    /// Parses a policy document. Accepts everything AWS accepts (it does not check the
    /// grammar: see [`crate::validate`]); never panics.
    pub fn parse(text: &str) -> Result<Policy, ParseError> {
        with_arena(|arena| match Json::parse_policy(text, arena) {
            Ok(parsed) => Policy::from_json(&parsed.json, &parsed.statement_spans),
            Err(_) => Err(ParseError::Json(
                match serde_json::from_str::<serde::de::IgnoredAny>(text) {
                    Err(e) => e.to_string(),
                    Ok(_) => "unreadable document".to_string(),
                },
            )),
        })
    }

    /// Compiles a document read into `json`, its statements at `spans` (see
    /// [`crate::json::Parsed::statement_spans`]). Elements of the wrong JSON type are errors;
    /// unknown elements are ignored (the grammar is [`crate::validate`]'s business).
    pub(crate) fn from_json(
        json: &Json<'_>,
        spans: &[(Position, Position)],
    ) -> Result<Policy, ParseError> {
        let Json::Object(top) = json else {
            return Err(ParseError::NotAnObject);
        };
        let (mut version, mut id, mut statement) = (None, None, None);
        for (key, value) in top.iter() {
            match *key {
                "Version" => version = value.as_str(),
                "Id" => id = value.as_str(),
                "Statement" => statement = Some(value),
                _ => {}
            }
        }
        let version = match version {
            Some("2012-10-17") => Version::V2012_10_17,
            _ => Version::V2008_10_17,
        };
        let variables = version == Version::V2012_10_17;
        let items: &[Json<'_>] = match statement {
            Some(one @ Json::Object(_)) => std::slice::from_ref(one),
            Some(Json::Array(items)) => items,
            _ => return Err(ParseError::MissingStatement),
        };
        // Positions are known for every statement or for none.
        let spans = if spans.len() == items.len() {
            spans
        } else {
            &[]
        };
        let mut statements = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let Json::Object(members) = item else {
                return Err(ParseError::InvalidElement {
                    element: "Statement",
                    index,
                });
            };
            let (start, end) = spans.get(index).copied().unwrap_or_default();
            statements.push(statement_from_json(members, index, variables, start, end)?);
        }
        Ok(Policy::assemble(version, id, statements))
    }

    /// A policy of compiled statements.
    pub(crate) fn assemble(
        version: Version,
        id: Option<&str>,
        statements: Vec<Statement>,
    ) -> Policy {
        let context_keys = collect_keys(&statements);
        Policy {
            version,
            id: id.map(str::to_string),
            statements,
            context_keys,
        }
    }

    /// The `Version` (absent counts as 2008-10-17).
    pub fn version(&self) -> Version {
        self.version
    }
    /// The `Id`, if any.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    /// The statements, in document order.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }
    /// The context keys the policy uses (condition keys and policy-variable keys), as written,
    /// in order of first appearance, without case-insensitive duplicates.
    pub fn context_keys(&self) -> &[String] {
        &self.context_keys
    }
}

fn collect_keys(statements: &[Statement]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |k: &str| {
        if !out.iter().any(|e| e.eq_ignore_ascii_case(k)) {
            out.push(k.to_string());
        }
    };
    for s in statements {
        if let ResourceSpec::Resource(r) | ResourceSpec::NotResource(r) = &s.resources {
            for p in r.iter() {
                match p {
                    ResPat::Tmpl(ArnTemplate::Whole(t)) => vars::var_keys(t).for_each(&mut add),
                    ResPat::Tmpl(ArnTemplate::Parts(segs, ..)) => {
                        for seg in segs.iter() {
                            if let Segment::Tmpl(t) = seg {
                                vars::var_keys(t).for_each(&mut add);
                            }
                        }
                    }
                    ResPat::Static(_) => {}
                }
            }
        }
        for c in s.conditions.iter() {
            add(&c.key);
            c.variable_keys().into_iter().for_each(&mut add);
        }
    }
    out
}

/// One statement's members compiled (`index` for errors).
fn statement_from_json(
    members: &Members<'_>,
    index: usize,
    variables: bool,
    start: Position,
    end: Position,
) -> Result<Statement, ParseError> {
    let bad = |element: &'static str| ParseError::InvalidElement { element, index };
    // Each element to its slot in one pass (keys are unique in the tree).
    let mut slots: [Option<&Json<'_>>; 9] = [None; 9];
    for (key, value) in members.iter() {
        let slot = match *key {
            "Sid" => 0,
            "Effect" => 1,
            "Action" => 2,
            "NotAction" => 3,
            "Resource" => 4,
            "NotResource" => 5,
            "Principal" => 6,
            "NotPrincipal" => 7,
            "Condition" => 8,
            _ => continue,
        };
        slots[slot] = Some(value);
    }
    let [sid, effect, action, not_action, resource, not_resource, principal, not_principal, condition] =
        slots;
    let sid = match sid {
        None => None,
        Some(v) => Some(Text::from(v.as_str().ok_or(bad("Sid"))?)),
    };
    let effect = match effect.and_then(Json::as_str) {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        _ => return Err(bad("Effect")),
    };
    let actions = match (action, not_action) {
        (Some(v), _) => ActionSpec::Action(action_globs(texts(list(v).ok_or(bad("Action"))?))),
        (None, Some(v)) => {
            ActionSpec::NotAction(action_globs(texts(list(v).ok_or(bad("NotAction"))?)))
        }
        (None, None) => ActionSpec::Absent,
    };
    let resources = match (resource, not_resource) {
        (Some(v), _) => ResourceSpec::Resource(resource_patterns(
            texts(list(v).ok_or(bad("Resource"))?),
            variables,
        )),
        (None, Some(v)) => ResourceSpec::NotResource(resource_patterns(
            texts(list(v).ok_or(bad("NotResource"))?),
            variables,
        )),
        (None, None) => ResourceSpec::Absent,
    };
    let principal = match (principal, not_principal) {
        (Some(v), _) => PrincipalSpec::Principal(principal_of(v).ok_or(bad("Principal"))?),
        (None, Some(v)) => PrincipalSpec::NotPrincipal(principal_of(v).ok_or(bad("NotPrincipal"))?),
        (None, None) => PrincipalSpec::Absent,
    };
    let conditions = match condition {
        None => Box::default(),
        Some(v) => conditions_of(v, variables)?.ok_or(bad("Condition"))?,
    };
    Ok(Statement {
        sid,
        effect,
        start,
        end,
        actions,
        resources,
        principal,
        conditions,
    })
}

fn is_scalar(v: &Json<'_>) -> bool {
    matches!(v, Json::String(_) | Json::Number(_) | Json::Bool(_))
}

/// A scalar or an array of scalars (the values of a list element); `None` for anything else.
fn list<'j, 'a>(v: &'j Json<'a>) -> Option<&'j [Json<'a>]> {
    match v {
        Json::Array(items) => items.iter().all(is_scalar).then_some(*items),
        other => is_scalar(other).then(|| std::slice::from_ref(other)),
    }
}

/// A scalar as text: strings as they are, numbers and booleans as JSON writes them.
pub(crate) fn scalar_text<'a>(v: &Json<'a>) -> Cow<'a, str> {
    match v {
        Json::String(s) => Cow::Borrowed(s),
        Json::Number(n) => Cow::Owned(n.to_string()),
        Json::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
        Json::Null | Json::Array(_) | Json::Object(_) => Cow::Borrowed(""),
    }
}

/// The texts of the scalars of a [`list`].
fn texts<'j, 'a>(items: &'j [Json<'a>]) -> impl ExactSizeIterator<Item = Cow<'a, str>> + 'j {
    items.iter().map(scalar_text)
}

/// `"*"`, or a map of principal types to lists of ids.
fn principal_of(v: &Json<'_>) -> Option<Principals> {
    match v {
        Json::String("*") => Some(Principals::anyone()),
        Json::Object(map) => {
            let mut lists = Vec::with_capacity(map.len());
            for (kind, ids) in map.iter() {
                lists.push((*kind, list(ids)?));
            }
            principals(lists.into_iter().map(|(kind, ids)| (kind, texts(ids))))
        }
        _ => None,
    }
}

/// The `Condition` element compiled; `Ok(None)` when it is not an object of operators to
/// objects of lists.
fn conditions_of(v: &Json<'_>, variables: bool) -> Result<Option<Box<[Condition]>>, ParseError> {
    let Json::Object(operators) = v else {
        return Ok(None);
    };
    let mut count = 0;
    for (_, block) in operators.iter() {
        let Json::Object(entries) = block else {
            return Ok(None);
        };
        if !entries.iter().all(|(_, values)| list(values).is_some()) {
            return Ok(None);
        }
        count += entries.len();
    }
    let mut conditions = Conditions::with_capacity(variables, count);
    for (operator, block) in operators.iter() {
        if let Json::Object(entries) = block {
            for (key, values) in entries.iter() {
                conditions.push(operator, key, texts(list(values).unwrap_or_default()))?;
            }
        }
    }
    Ok(Some(conditions.finish()))
}

/// Compiled `Action`/`NotAction` entries (lower-cased: actions match case-insensitively).
fn action_globs<'t>(items: impl Iterator<Item = Cow<'t, str>>) -> Box<[Glob]> {
    collect_exact(items.map(|a| Glob::compile(&a).into_ascii_lowercase()))
}

/// Collects into a boxed slice allocated once, at the iterator's upper bound (exact for the
/// lists read here), instead of growing a vector and shrinking it.
fn collect_exact<T>(items: impl Iterator<Item = T>) -> Box<[T]> {
    let (low, high) = items.size_hint();
    let mut out = Vec::with_capacity(high.unwrap_or(low));
    out.extend(items);
    out.into_boxed_slice()
}

/// Compiled `Resource`/`NotResource` entries.
fn resource_patterns<'t>(
    items: impl Iterator<Item = Cow<'t, str>>,
    variables: bool,
) -> Box<[ResPat]> {
    collect_exact(items.map(|r| {
        if variables && r.contains("${") {
            ResPat::Tmpl(ArnTemplate::compile(vars::parse(&r, true, true)))
        } else {
            ResPat::Static(ArnPattern::compile(&r))
        }
    }))
}

/// The compiled conditions of a statement, gathered one `operator: {key: values}` at a time.
pub(crate) struct Conditions {
    variables: bool,
    list: Vec<Condition>,
    /// The last operator seen, as written, and its parse: the keys of a block share it.
    last: Option<(Text, Operator)>,
}

impl Conditions {
    /// For `count` conditions.
    pub(crate) fn with_capacity(variables: bool, count: usize) -> Conditions {
        Conditions {
            variables,
            list: Vec::with_capacity(count),
            last: None,
        }
    }

    /// Adds `key` under `op_name` with its values (an empty operator block adds nothing).
    pub(crate) fn push<'v>(
        &mut self,
        op_name: &str,
        key: &str,
        values: impl ExactSizeIterator<Item = Cow<'v, str>>,
    ) -> Result<(), ParseError> {
        let op = match &self.last {
            Some((name, op)) if name == op_name => *op,
            _ => {
                let op = Operator::parse(op_name)
                    .ok_or_else(|| ParseError::UnknownOperator(op_name.to_string()))?;
                self.last = Some((Text::from(op_name), op));
                op
            }
        };
        self.list
            .push(Condition::compile(op, op_name, key, values, self.variables));
        Ok(())
    }

    pub(crate) fn finish(self) -> Box<[Condition]> {
        self.list.into_boxed_slice()
    }
}

impl Principals {
    /// `"*"`
    pub(crate) fn anyone() -> Principals {
        Principals {
            any: true,
            ..Principals::default()
        }
    }
}

/// A `Principal` map: `{"AWS": ids, "Service": ids, …}`; `None` for an unknown type.
fn principals<'t, L: Iterator<Item = Cow<'t, str>>>(
    entries: impl Iterator<Item = (&'t str, L)>,
) -> Option<Principals> {
    let mut p = Principals::default();
    for (kind, list) in entries {
        match kind {
            "AWS" => p.aws.extend(list.map(|a| aws_principal(&a))),
            "Service" => p.service.extend(list.map(Text::from)),
            "Federated" => p.federated.extend(list.map(Text::from)),
            "CanonicalUser" => p.canonical.extend(list.map(Text::from)),
            _ => return None,
        }
    }
    Some(p)
}

fn aws_principal(a: &str) -> AwsPrincipal {
    if a == "*" {
        return AwsPrincipal::Any;
    }
    if a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()) {
        return AwsPrincipal::Account(Text::from(a));
    }
    let parts: Vec<&str> = a.splitn(6, ':').collect();
    if let ["arn", _, "iam", "", account, "root"] = parts.as_slice() {
        return AwsPrincipal::Account(Text::from(*account));
    }
    AwsPrincipal::Arn(Text::from(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_shapes() {
        let p = Policy::parse(
            r#"{"Version":"2012-10-17","Id":"x","Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}/*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"},"a":{}}},{"Effect":"Deny","NotAction":["iam:*"],"NotResource":"*","Principal":{"AWS":["123456789012","arn:aws:iam::123456789012:root"]}}]}"#,
        )
        .unwrap();
        assert_eq!(p.statements().len(), 2);
        assert_eq!(p.id(), Some("x"));
        assert_eq!(p.context_keys(), ["aws:username", "aws:CurrentTime"]);
        assert_eq!(
            p.statements()[0].start_position(),
            Position {
                line: 1,
                column: 47
            }
        );
        assert!(p.statements()[1].has_principal());
    }

    #[test]
    fn duplicate_keys_escapes_and_numbers() {
        let p = Policy::parse(
            r#"{"Statement":{"Effect":"Deny","Effect":"Allow","Action":"s3:Get\u004fbject","Resource":"*","Condition":{"NumericEquals":{"k":1.0,"n":7}}}}"#,
        )
        .unwrap();
        let st = &p.statements()[0];
        assert_eq!(st.effect(), Effect::Allow);
        assert!(st.matches_action("s3:GetObject"));
        assert_eq!(p.version(), Version::V2008_10_17);
        assert_eq!(p.context_keys(), ["k", "n"]);
        assert!(matches!(Policy::parse("[1]"), Err(ParseError::NotAnObject)));
        assert!(matches!(Policy::parse("{"), Err(ParseError::Json(_))));
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        assert!(Policy::parse("").is_err());
        assert!(Policy::parse("[]").is_err());
        assert!(Policy::parse(r#"{"Statement":[1]}"#).is_err());
        assert!(Policy::parse(r#"{"Statement":{"Effect":"allow"}}"#).is_err());
        assert!(matches!(
            Policy::parse(r#"{"Statement":{"Effect":"Allow","Condition":{"x":{"a":"1"}}}}"#),
            Err(ParseError::UnknownOperator(_))
        ));
    }
}
