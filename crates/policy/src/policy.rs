//! Parsing a policy document into its compiled, immutable form. A compiled policy lives in
//! one arena of its own (see [`crate::arena`]): its texts, lists and patterns are a few
//! blocks of memory, allocated once and freed at once.

use std::borrow::Cow;
use std::collections::HashSet;

use self_cell::{self_cell, MutBorrow};

use crate::arena::{self, Arena, ArenaVec};
use crate::arn::{ArnPattern, ArnTemplate, Segment};
use crate::condition::{Condition, Operator};
use crate::glob::Glob;
use crate::json::{with_arena, Json, Members, Parsed, StatementElements};
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ActionSpec<'a> {
    Action(&'a [Glob<'a>]),
    NotAction(&'a [Glob<'a>]),
    Absent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResPat<'a> {
    Static(ArnPattern<'a>),
    Tmpl(ArnTemplate<'a>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResourceSpec<'a> {
    Resource(&'a [ResPat<'a>]),
    NotResource(&'a [ResPat<'a>]),
    Absent,
}

/// An entry of `Principal: {"AWS": …}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AwsPrincipal<'a> {
    Any,
    Account(&'a str),
    Arn(&'a str),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Principals<'a> {
    pub(crate) any: bool,
    pub(crate) aws: &'a [AwsPrincipal<'a>],
    pub(crate) service: &'a [&'a str],
    pub(crate) federated: &'a [&'a str],
    pub(crate) canonical: &'a [&'a str],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PrincipalSpec<'a> {
    Principal(Principals<'a>),
    NotPrincipal(Principals<'a>),
    Absent,
}

/// One compiled statement (it lives in its policy's arena: `'a` is the policy's borrow).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Statement<'a> {
    pub(crate) sid: Option<&'a str>,
    pub(crate) effect: Effect,
    pub(crate) start: Position,
    pub(crate) end: Position,
    pub(crate) actions: ActionSpec<'a>,
    pub(crate) resources: ResourceSpec<'a>,
    pub(crate) principal: PrincipalSpec<'a>,
    pub(crate) conditions: &'a [Condition<'a>],
}

impl<'a> Statement<'a> {
    /// The `Sid`, if any.
    pub fn sid(&self) -> Option<&'a str> {
        self.sid
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
    /// Whether its `Action` / `NotAction` covers `action` (`service:Name`, compared
    /// ASCII-case-insensitively), whatever its resources and conditions.
    pub fn covers_action(&self, action: &str) -> bool {
        self.matches_action(action)
    }
    /// Whether it applies to every resource (`"Resource": "*"`) and has no `Condition`: what it
    /// says about an action then holds for every request.
    pub fn is_unconditional(&self) -> bool {
        self.conditions.is_empty()
            && match self.resources {
                ResourceSpec::Resource(r) => r
                    .iter()
                    .any(|p| matches!(p, ResPat::Static(ArnPattern::Any))),
                _ => false,
            }
    }
}

/// The compiled elements of a policy, borrowed from its arena.
#[derive(Debug, PartialEq)]
struct Compiled<'a> {
    version: Version,
    id: Option<&'a str>,
    statements: &'a [Statement<'a>],
    context_keys: &'a [&'a str],
}

self_cell!(
    /// A compiled policy and the arena it lives in.
    struct Cell {
        owner: MutBorrow<Arena>,
        #[covariant]
        dependent: Compiled,
    }
);

/// A parsed, compiled policy: parse once, evaluate many times. `Send + Sync`, share it via
/// `Arc`.
pub struct Policy {
    cell: Cell,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.cell.borrow_dependent().fmt(f)
    }
}

impl PartialEq for Policy {
    fn eq(&self, other: &Policy) -> bool {
        self.cell.borrow_dependent() == other.cell.borrow_dependent()
    }
}

impl Policy {
    /// Parses a policy document. Accepts everything AWS accepts (it does not check the
    /// grammar: see [`crate::validate`]); never panics.
    pub fn parse(text: &str) -> Result<Policy, ParseError> {
        with_arena(|json_arena| match Json::parse_policy(text, json_arena) {
            Ok(parsed) => Policy::from_json(&parsed),
            // The reader refuses exactly what serde_json refuses: ask it what is wrong.
            Err(_) => Err(ParseError::Json(
                match serde_json::from_str::<serde_json::Value>(text) {
                    Err(e) => e.to_string(),
                    Ok(_) => "not JSON".to_string(),
                },
            )),
        })
    }

    /// Compiles a document read into a tree. Elements of the wrong JSON type are errors;
    /// unknown elements are ignored (the grammar is [`crate::validate`]'s business).
    pub(crate) fn from_json(parsed: &Parsed<'_>) -> Result<Policy, ParseError> {
        // The compiled form is made of its statements' texts, patterns and lists: measured,
        // 4 to 8 bytes per byte of string text in the statements (AWS's recorded documents,
        // and the 5.8 KB benchmark document: 21 KB for 2,840 bytes of text). One block, mostly;
        // bumpalo adds blocks when a policy needs more, and a very large document starts with
        // a block of the largest usual size rather than eight times its text.
        let size = parsed
            .statement_text
            .saturating_mul(8)
            .saturating_add(256)
            .min(64 * 1024);
        let arena = Arena::with_capacity(size);
        let cell = Cell::try_new(MutBorrow::new(arena), |owner| {
            compile(owner.borrow_mut(), &parsed.json, &parsed.statement_spans)
        })?;
        Ok(Policy { cell })
    }

    /// The `Version` (absent counts as 2008-10-17).
    pub fn version(&self) -> Version {
        self.cell.borrow_dependent().version
    }
    /// The `Id`, if any.
    pub fn id(&self) -> Option<&str> {
        self.cell.borrow_dependent().id
    }
    /// The statements, in document order.
    pub fn statements(&self) -> &[Statement<'_>] {
        self.cell.borrow_dependent().statements
    }
    /// The indices of the statements whose `Action` / `NotAction` covers `action`: the only
    /// statements that can apply to a request for it (see [`crate::PolicyRef::only`]).
    pub fn statements_for(&self, action: &str) -> Vec<u32> {
        self.statements()
            .iter()
            .enumerate()
            .filter(|(_, st)| st.matches_action(action))
            .filter_map(|(i, _)| u32::try_from(i).ok())
            .collect()
    }
    /// The context keys the policy uses (condition keys and policy-variable keys), as written,
    /// in order of first appearance, without case-insensitive duplicates.
    pub fn context_keys(&self) -> &[&str] {
        self.cell.borrow_dependent().context_keys
    }
}

/// Compiles a document's tree into `arena`.
fn compile<'a>(
    arena: &'a Arena,
    json: &Json<'_>,
    spans: &[(Position, Position)],
) -> Result<Compiled<'a>, ParseError> {
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
    let mut statements = ArenaVec::with_capacity_in(items.len(), arena);
    for (index, item) in items.iter().enumerate() {
        let Json::Object(members) = item else {
            return Err(ParseError::InvalidElement {
                element: "Statement",
                index,
            });
        };
        let (start, end) = spans.get(index).copied().unwrap_or_default();
        let reader = Reader { arena, variables };
        statements.push(reader.statement(members, index, start, end)?);
    }
    let statements = statements.into_bump_slice();
    Ok(Compiled {
        version,
        id: id.map(|id| arena::text(arena, id)),
        statements,
        context_keys: collect_keys(arena, statements),
    })
}

/// The context keys of the statements, as written, in order of first appearance, without
/// case-insensitive duplicates.
fn collect_keys<'a>(arena: &'a Arena, statements: &[Statement<'a>]) -> &'a [&'a str] {
    let mut out: ArenaVec<'a, &'a str> = ArenaVec::new_in(arena);
    // The lower-cased keys seen, in a set once there are many.
    let mut seen: Vec<&'a str> = Vec::new();
    let mut index: Option<HashSet<&'a str>> = None;
    let mut add = |(key, lower): vars::LowerKeyOf<'a>| {
        let lower = lower.lower;
        let known = match &index {
            Some(index) => index.contains(lower),
            None => seen.contains(&lower),
        };
        if known {
            return;
        }
        out.push(key);
        match &mut index {
            Some(index) => {
                index.insert(lower);
            }
            None => {
                seen.push(lower);
                if seen.len() > 16 {
                    index = Some(seen.drain(..).collect());
                }
            }
        }
    };
    for s in statements {
        s.each_key(&mut add);
    }
    out.into_bump_slice()
}

impl<'a> Statement<'a> {
    /// Every context key the statement reads (its resources' and conditions' variables, its
    /// condition keys), with duplicates.
    fn each_key(&self, mut add: impl FnMut(vars::LowerKeyOf<'a>)) {
        if let ResourceSpec::Resource(r) | ResourceSpec::NotResource(r) = self.resources {
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
        for c in self.conditions.iter() {
            add((c.key, c.key_lower));
            c.variable_keys().into_iter().for_each(&mut add);
        }
    }

    /// The context keys the statement reads, as written (duplicates possible): those of
    /// [`Policy::context_keys`] that come from this statement.
    pub fn each_context_key(&self, mut f: impl FnMut(&'a str)) {
        self.each_key(|(key, _)| f(key));
    }
}

/// Reads statements into an arena.
#[derive(Clone, Copy)]
struct Reader<'a> {
    arena: &'a Arena,
    /// Policy variables are recognised (`Version: 2012-10-17`).
    variables: bool,
}

impl<'a> Reader<'a> {
    /// One statement's members compiled (`index` for errors).
    fn statement(
        self,
        members: &Members<'_>,
        index: usize,
        start: Position,
        end: Position,
    ) -> Result<Statement<'a>, ParseError> {
        let bad = |element: &'static str| ParseError::InvalidElement { element, index };
        // Elements IAM does not know are ignored here (the grammar refuses them).
        let e = StatementElements::of(members);
        let sid = match e.sid {
            None => None,
            Some(v) => Some(arena::text(self.arena, v.as_str().ok_or(bad("Sid"))?)),
        };
        let effect = match e.effect.and_then(Json::as_str) {
            Some("Allow") => Effect::Allow,
            Some("Deny") => Effect::Deny,
            _ => return Err(bad("Effect")),
        };
        let actions = match (e.action, e.not_action) {
            (Some(v), _) => ActionSpec::Action(self.actions(list(v).ok_or(bad("Action"))?)),
            (None, Some(v)) => {
                ActionSpec::NotAction(self.actions(list(v).ok_or(bad("NotAction"))?))
            }
            (None, None) => ActionSpec::Absent,
        };
        let resources = match (e.resource, e.not_resource) {
            (Some(v), _) => ResourceSpec::Resource(self.resources(list(v).ok_or(bad("Resource"))?)),
            (None, Some(v)) => {
                ResourceSpec::NotResource(self.resources(list(v).ok_or(bad("NotResource"))?))
            }
            (None, None) => ResourceSpec::Absent,
        };
        let principal = match (e.principal, e.not_principal) {
            (Some(v), _) => PrincipalSpec::Principal(self.principals(v).ok_or(bad("Principal"))?),
            (None, Some(v)) => {
                PrincipalSpec::NotPrincipal(self.principals(v).ok_or(bad("NotPrincipal"))?)
            }
            (None, None) => PrincipalSpec::Absent,
        };
        let conditions = match e.condition {
            None => &[],
            Some(v) => self.conditions(v)?.ok_or(bad("Condition"))?,
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

    /// Compiled `Action`/`NotAction` entries (lower-cased: actions match case-insensitively).
    fn actions(self, items: &[Json<'_>]) -> &'a [Glob<'a>] {
        arena::collect(
            self.arena,
            texts(items).map(|a| Glob::compile(self.arena, arena::lowercase(self.arena, &a))),
        )
    }

    /// Compiled `Resource`/`NotResource` entries.
    fn resources(self, items: &[Json<'_>]) -> &'a [ResPat<'a>] {
        let arena = self.arena;
        arena::collect(
            arena,
            texts(items).map(|r| {
                let r = arena::text(arena, &r);
                if self.variables && r.contains("${") {
                    ResPat::Tmpl(ArnTemplate::compile(
                        arena,
                        vars::parse(arena, r, true, true),
                    ))
                } else {
                    ResPat::Static(ArnPattern::compile(arena, r))
                }
            }),
        )
    }

    /// `"*"`, or a map of principal types (`AWS`, `Service`, `Federated`, `CanonicalUser`)
    /// to lists of ids; `None` for anything else.
    fn principals(self, v: &Json<'_>) -> Option<Principals<'a>> {
        let arena = self.arena;
        let map = match v {
            Json::String("*") => {
                return Some(Principals {
                    any: true,
                    ..Principals::default()
                })
            }
            Json::Object(map) => map,
            _ => return None,
        };
        let mut p = Principals::default();
        for (kind, ids) in map.iter() {
            let ids = list(ids)?;
            let strs = || arena::collect(arena, texts(ids).map(|id| arena::text(arena, &id)));
            match *kind {
                "AWS" => {
                    p.aws = arena::collect(
                        arena,
                        texts(ids).map(|a| aws_principal(arena::text(arena, &a))),
                    )
                }
                "Service" => p.service = strs(),
                "Federated" => p.federated = strs(),
                "CanonicalUser" => p.canonical = strs(),
                _ => return None,
            }
        }
        Some(p)
    }

    /// The `Condition` element compiled; `Ok(None)` when it is not an object of operators to
    /// objects of lists.
    fn conditions(self, v: &Json<'_>) -> Result<Option<&'a [Condition<'a>]>, ParseError> {
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
        let mut out = ArenaVec::with_capacity_in(count, self.arena);
        for (op_name, block) in operators.iter() {
            let Json::Object(entries) = block else {
                continue;
            };
            if entries.is_empty() {
                // An empty block: nothing to test, whatever the operator.
                continue;
            }
            let op = Operator::parse(op_name)
                .ok_or_else(|| ParseError::UnknownOperator(op_name.to_string()))?;
            let op_name = arena::text(self.arena, op_name);
            for (key, values) in entries.iter() {
                out.push(Condition::compile(
                    self.arena,
                    op,
                    op_name,
                    arena::text(self.arena, key),
                    texts(list(values).unwrap_or_default()),
                    self.variables,
                ));
            }
        }
        Ok(Some(out.into_bump_slice()))
    }
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
fn scalar_text<'a>(v: &Json<'a>) -> Cow<'a, str> {
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

fn aws_principal(a: &str) -> AwsPrincipal<'_> {
    if a == "*" {
        return AwsPrincipal::Any;
    }
    if a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()) {
        return AwsPrincipal::Account(a);
    }
    // `arn:PARTITION:iam::ACCOUNT:root` names the account.
    let account_root = a
        .strip_prefix("arn:")
        .and_then(|rest| rest.split_once(':'))
        .and_then(|(_, rest)| rest.strip_prefix("iam::"))
        .and_then(|rest| rest.strip_suffix(":root"))
        .filter(|account| !account.contains(':'));
    if let Some(account) = account_root {
        return AwsPrincipal::Account(account);
    }
    AwsPrincipal::Arn(a)
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
    fn statements_tell_which_actions_they_cover_and_whether_they_hold_everywhere() {
        let p = Policy::parse(
            r#"{"Statement":[{"Effect":"Allow","Action":["s3:Get*","iam:ListUsers"],"Resource":"*"},
            {"Effect":"Deny","NotAction":"iam:*","Resource":["arn:aws:s3:::b","*"]},
            {"Effect":"Allow","Action":"ec2:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}},
            {"Effect":"Allow","Action":"sts:*","Resource":"arn:aws:iam::1:role/r"}]}"#,
        )
        .unwrap();
        let s = p.statements();
        assert!(s[0].covers_action("S3:getobject") && s[0].covers_action("iam:ListUsers"));
        assert!(!s[0].covers_action("s3:PutObject") && !s[0].covers_action("iam:GetUser"));
        assert!(s[1].covers_action("s3:PutObject") && !s[1].covers_action("iam:GetUser"));
        let everywhere: Vec<bool> = s.iter().map(Statement::is_unconditional).collect();
        assert_eq!(everywhere, [true, true, false, false]);
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
