//! Condition operators and their evaluation against the request context.
//!
//! Semantics (AWS IAM User Guide, "Condition operators" and "Conditions with multiple context
//! keys or values"):
//! - several operators in a block, and several keys under one operator: AND;
//! - several values for one key: OR (for negated operators: NOR — none may match);
//! - a key missing from the context: positive operators are false, negated operators
//!   (`StringNotEquals`, `NotIpAddress`, `ArnNotLike`, …) are true, `…IfExists` is true;
//!   `Null` tests presence;
//! - `ForAllValues:` is true when every context value satisfies the operator (true for a
//!   missing or empty key); `ForAnyValue:` when at least one does (false when missing);
//! - a context key with several values under a plain operator: positive operators match when
//!   any value matches, negated ones when no value matches;
//! - a policy variable that cannot be resolved makes that policy value match nothing.

use std::borrow::Cow;

use crate::arena::{collect, Arena};
use crate::arn::{ArnPattern, ArnTemplate, Segment};
use crate::glob::Glob;
use crate::request::{Context, LowerKey};
use crate::values::{decode_base64, parse_bool, parse_date, parse_number, Addr, Cidr};
use crate::vars::{self, TPart};

/// Comparison for numeric and date operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn test<T: PartialOrd>(self, ctx: T, policy: T) -> bool {
        match self {
            Cmp::Eq => ctx == policy,
            Cmp::Lt => ctx < policy,
            Cmp::Le => ctx <= policy,
            Cmp::Gt => ctx > policy,
            Cmp::Ge => ctx >= policy,
        }
    }
}

/// The operator family, without negation / IfExists / set qualifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Base {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    Numeric(Cmp),
    Date(Cmp),
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

/// `ForAllValues:` / `ForAnyValue:` qualifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SetQualifier {
    None,
    ForAllValues,
    ForAnyValue,
}

/// A parsed condition operator name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Operator {
    pub(crate) base: Base,
    pub(crate) negated: bool,
    pub(crate) if_exists: bool,
    pub(crate) set: SetQualifier,
}

impl Operator {
    /// Parses an operator name such as `ForAnyValue:StringNotLikeIfExists`
    /// (case-insensitive). `None` for unknown operators.
    pub(crate) fn parse(name: &str) -> Option<Operator> {
        // Lower-cased on the stack: the longest operator name has 46 characters.
        let mut buf = [0u8; 64];
        let dst = buf.get_mut(..name.len())?;
        dst.copy_from_slice(name.as_bytes());
        dst.make_ascii_lowercase();
        let lower = std::str::from_utf8(dst).ok()?;
        let (set, rest) = if let Some(r) = lower.strip_prefix("forallvalues:") {
            (SetQualifier::ForAllValues, r)
        } else if let Some(r) = lower.strip_prefix("foranyvalue:") {
            (SetQualifier::ForAnyValue, r)
        } else {
            (SetQualifier::None, lower)
        };
        let (rest, if_exists) = match rest.strip_suffix("ifexists") {
            Some(r) => (r, true),
            None => (rest, false),
        };
        use Base::*;
        let (base, negated) = match rest {
            "stringequals" => (StringEquals, false),
            "stringnotequals" => (StringEquals, true),
            "stringequalsignorecase" => (StringEqualsIgnoreCase, false),
            "stringnotequalsignorecase" => (StringEqualsIgnoreCase, true),
            "stringlike" => (StringLike, false),
            "stringnotlike" => (StringLike, true),
            "numericequals" => (Numeric(Cmp::Eq), false),
            "numericnotequals" => (Numeric(Cmp::Eq), true),
            "numericlessthan" => (Numeric(Cmp::Lt), false),
            "numericlessthanequals" => (Numeric(Cmp::Le), false),
            "numericgreaterthan" => (Numeric(Cmp::Gt), false),
            "numericgreaterthanequals" => (Numeric(Cmp::Ge), false),
            "dateequals" => (Date(Cmp::Eq), false),
            "datenotequals" => (Date(Cmp::Eq), true),
            "datelessthan" => (Date(Cmp::Lt), false),
            "datelessthanequals" => (Date(Cmp::Le), false),
            "dategreaterthan" => (Date(Cmp::Gt), false),
            "dategreaterthanequals" => (Date(Cmp::Ge), false),
            "bool" => (Bool, false),
            "binaryequals" => (Binary, false),
            "ipaddress" => (Ip, false),
            "notipaddress" => (Ip, true),
            "arnequals" | "arnlike" => (Arn, false),
            "arnnotequals" | "arnnotlike" => (Arn, true),
            "null" => (Null, false),
            _ => return None,
        };
        Some(Operator {
            base,
            negated,
            if_exists,
            set,
        })
    }
}

/// A string value that may hold policy variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StrVal<'a> {
    Lit(&'a str),
    Tmpl(&'a [TPart<'a>]),
}

/// A wildcard pattern that may hold policy variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LikeVal<'a> {
    Glob(Glob<'a>),
    Tmpl(&'a [TPart<'a>]),
}

/// An ARN pattern that may hold policy variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArnVal<'a> {
    Pat(ArnPattern<'a>),
    Tmpl(ArnTemplate<'a>),
}

/// A `BinaryEquals` value: the text as written and its decoded bytes.
pub(crate) type BinaryValue<'a> = (&'a str, Option<&'a [u8]>);

/// The compiled policy values of one condition.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Values<'a> {
    Str(&'a [StrVal<'a>]),
    StrIc(&'a [StrVal<'a>]),
    Like(&'a [LikeVal<'a>]),
    Arn(&'a [ArnVal<'a>]),
    Num(&'a [Option<f64>]),
    Date(&'a [Option<i128>]),
    Bool(&'a [Option<bool>]),
    Bin(&'a [BinaryValue<'a>]),
    Ip(&'a [Option<Cidr>]),
    Null(&'a [Option<bool>]),
}

/// One `operator: { key: values }` entry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Condition<'a> {
    pub(crate) op: Operator,
    /// The operator as written.
    pub(crate) op_name: &'a str,
    /// The key as written.
    pub(crate) key: &'a str,
    pub(crate) key_lower: LowerKey<'a>,
    pub(crate) values: Values<'a>,
}

impl<'a> Condition<'a> {
    /// Compiles a condition from its operator, key (both in the arena) and raw string values.
    pub(crate) fn compile<'v>(
        arena: &'a Arena,
        op: Operator,
        op_name: &'a str,
        key: &'a str,
        raw: impl ExactSizeIterator<Item = Cow<'v, str>>,
        variables: bool,
    ) -> Condition<'a> {
        let text = |s: &str| -> &'a str { arena.alloc_str(s) };
        let template = |s: &'a str, wildcards: bool| -> Option<&'a [TPart<'a>]> {
            if !variables || !s.contains("${") {
                return None;
            }
            Some(vars::parse(arena, s, true, wildcards))
        };
        let str_val = |s: Cow<'_, str>| {
            let s = text(&s);
            match template(s, false) {
                Some(parts) => StrVal::Tmpl(parts),
                None => StrVal::Lit(s),
            }
        };
        let values = match op.base {
            Base::StringEquals => Values::Str(collect(arena, raw.map(str_val))),
            Base::StringEqualsIgnoreCase => Values::StrIc(collect(arena, raw.map(str_val))),
            Base::StringLike => Values::Like(collect(
                arena,
                raw.map(|s| {
                    let s = text(&s);
                    match template(s, true) {
                        Some(parts) => LikeVal::Tmpl(parts),
                        None => LikeVal::Glob(Glob::compile(arena, s)),
                    }
                }),
            )),
            Base::Arn => Values::Arn(collect(
                arena,
                raw.map(|s| {
                    let s = text(&s);
                    match template(s, true) {
                        Some(parts) => ArnVal::Tmpl(ArnTemplate::compile(arena, parts)),
                        None => ArnVal::Pat(ArnPattern::compile(arena, s)),
                    }
                }),
            )),
            Base::Numeric(_) => Values::Num(collect(arena, raw.map(|s| parse_number(&s)))),
            Base::Date(_) => Values::Date(collect(arena, raw.map(|s| parse_date(&s)))),
            Base::Bool => Values::Bool(collect(arena, raw.map(|s| parse_bool(&s)))),
            Base::Binary => Values::Bin(collect(
                arena,
                raw.map(|s| {
                    let bytes = decode_base64(&s).map(|b| &*arena.alloc_slice_copy(&b));
                    (text(&s), bytes)
                }),
            )),
            Base::Ip => Values::Ip(collect(arena, raw.map(|s| Cidr::parse(&s)))),
            Base::Null => Values::Null(collect(arena, raw.map(|s| parse_bool(&s)))),
        };
        Condition {
            op,
            op_name,
            key,
            key_lower: LowerKey::new(arena, key),
            values,
        }
    }

    /// Keys referenced by policy variables in the values, as written.
    pub(crate) fn variable_keys(&self) -> Vec<vars::LowerKeyOf<'_>> {
        let templates: Vec<&[TPart<'_>]> = match &self.values {
            Values::Str(v) | Values::StrIc(v) => v
                .iter()
                .filter_map(|s| match s {
                    StrVal::Tmpl(p) => Some(*p),
                    StrVal::Lit(_) => None,
                })
                .collect(),
            Values::Like(v) => v
                .iter()
                .filter_map(|s| match s {
                    LikeVal::Tmpl(p) => Some(*p),
                    LikeVal::Glob(_) => None,
                })
                .collect(),
            Values::Arn(v) => v
                .iter()
                .flat_map(|s| match s {
                    ArnVal::Tmpl(ArnTemplate::Whole(p)) => vec![*p],
                    ArnVal::Tmpl(ArnTemplate::Parts(segs, ..)) => segs
                        .iter()
                        .filter_map(|s| match s {
                            Segment::Tmpl(t) => Some(*t),
                            Segment::Glob(_) => None,
                        })
                        .collect(),
                    ArnVal::Pat(_) => Vec::new(),
                })
                .collect(),
            _ => Vec::new(),
        };
        templates.into_iter().flat_map(vars::var_keys).collect()
    }

    /// Evaluates this condition. Keys (and variable keys) found missing are pushed to
    /// `missing`, as written in the policy.
    pub(crate) fn evaluate<'p>(&'p self, ctx: &Context, missing: &mut Vec<&'p str>) -> bool {
        if let Values::Null(expect) = &self.values {
            let absent = ctx.get_key(&self.key_lower).is_none();
            return expect.contains(&Some(absent));
        }
        if let Values::Ip(blocks) = &self.values {
            // The context's addresses are parsed once, not once per statement.
            return match ctx.get_addrs(&self.key_lower) {
                None => self.absent(missing),
                Some(addrs) => self.quantify(addrs, |a| {
                    a.is_some_and(|a| blocks.iter().flatten().any(|c| c.contains(a)))
                }),
            };
        }
        match ctx.get_key(&self.key_lower) {
            None => self.absent(missing),
            Some(vs) => self.quantify(vs, |v| self.matches_value(v, ctx, missing)),
        }
    }

    /// The outcome when the key is missing from the context (recorded in `missing`).
    fn absent<'p>(&'p self, missing: &mut Vec<&'p str>) -> bool {
        if self.op.set == SetQualifier::ForAllValues {
            return true;
        }
        missing.push(self.key);
        self.op.if_exists || (self.op.set == SetQualifier::None && self.op.negated)
    }

    /// Combines the per-value outcomes `test` (positive operator) of the context values as
    /// the set qualifier and negation say.
    fn quantify<T>(&self, values: &[T], mut test: impl FnMut(&T) -> bool) -> bool {
        let neg = self.op.negated;
        match self.op.set {
            SetQualifier::None => values.iter().any(&mut test) != neg,
            SetQualifier::ForAnyValue => values.iter().any(|v| test(v) != neg),
            SetQualifier::ForAllValues => values.iter().all(|v| test(v) != neg),
        }
    }

    /// Whether the context value `v` matches any policy value under the positive operator.
    fn matches_value<'p>(&'p self, v: &str, ctx: &Context, missing: &mut Vec<&'p str>) -> bool {
        match &self.values {
            Values::Str(vals) => vals.iter().any(|p| match p {
                StrVal::Lit(l) => *l == v,
                StrVal::Tmpl(t) => vars::equals(t, v, ctx, missing),
            }),
            Values::StrIc(vals) => vals.iter().any(|p| match p {
                StrVal::Lit(l) => eq_ignore_case(l, v),
                StrVal::Tmpl(t) => {
                    vars::resolve_string(t, ctx, missing).is_some_and(|s| eq_ignore_case(&s, v))
                }
            }),
            Values::Like(vals) => vals.iter().any(|p| match p {
                LikeVal::Glob(g) => g.matches(v),
                LikeVal::Tmpl(t) => vars::matches(t, v, ctx, missing),
            }),
            Values::Arn(vals) => vals.iter().any(|p| match p {
                ArnVal::Pat(a) => a.matches(v),
                ArnVal::Tmpl(t) => t.matches(v, ctx, missing),
            }),
            Values::Num(vals) => match (parse_number(v), self.op.base) {
                (Some(n), Base::Numeric(cmp)) => vals.iter().flatten().any(|p| cmp.test(n, *p)),
                _ => false,
            },
            Values::Date(vals) => match (parse_date(v), self.op.base) {
                (Some(d), Base::Date(cmp)) => vals.iter().flatten().any(|p| cmp.test(d, *p)),
                _ => false,
            },
            Values::Bool(vals) => match parse_bool(v) {
                Some(b) => vals.contains(&Some(b)),
                None => false,
            },
            Values::Bin(vals) => {
                let decoded = decode_base64(v);
                vals.iter().any(|(raw, bytes)| match (bytes, &decoded) {
                    (Some(a), Some(b)) => a == b,
                    _ => *raw == v,
                })
            }
            Values::Ip(vals) => {
                Addr::parse(v).is_some_and(|a| vals.iter().flatten().any(|c| c.contains(a)))
            }
            Values::Null(_) => false,
        }
    }
}

fn eq_ignore_case(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
        || a.chars()
            .flat_map(char::to_lowercase)
            .eq(b.chars().flat_map(char::to_lowercase))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arena::leaked;

    fn cond(op: &'static str, key: &'static str, vals: &[&str]) -> Condition<'static> {
        let raw: Vec<Cow<'_, str>> = vals.iter().map(|s| Cow::Borrowed(*s)).collect();
        let op_parsed = Operator::parse(op).unwrap();
        Condition::compile(leaked(), op_parsed, op, key, raw.into_iter(), true)
    }

    #[test]
    fn operator_names() {
        let o = Operator::parse("ForAnyValue:StringNotLikeIfExists").unwrap();
        assert_eq!(o.base, Base::StringLike);
        assert!(o.negated && o.if_exists);
        assert_eq!(o.set, SetQualifier::ForAnyValue);
        assert!(Operator::parse("stringequals").is_some());
        assert!(Operator::parse("NullIfExists").is_some());
        assert!(Operator::parse("Bogus").is_none());
    }

    #[test]
    fn missing_keys() {
        let ctx = Context::new();
        let c = [
            cond("StringEquals", "k", &["a"]),
            cond("StringNotEquals", "k", &["a"]),
            cond("StringEqualsIfExists", "k", &["a"]),
            cond("ForAllValues:StringEquals", "k", &["a"]),
            cond("ForAnyValue:StringEquals", "k", &["a"]),
            cond("Null", "k", &["true"]),
        ];
        let mut m = Vec::new();
        let got: Vec<bool> = c.iter().map(|c| c.evaluate(&ctx, &mut m)).collect();
        assert_eq!(got, [false, true, true, true, false, true]);
        assert_eq!(m, vec!["k", "k", "k", "k"]);
    }

    #[test]
    fn variable_keys_listed() {
        let c = cond("StringLike", "s3:prefix", &["home/${aws:username}/*"]);
        let keys: Vec<&str> = c.variable_keys().iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["aws:username"]);
    }
}
