//! A lenient, mostly zero-copy reading of a policy document's JSON into its elements, without
//! building a `serde_json::Value` tree. Element values of the wrong JSON type are kept as
//! "invalid" markers (never an error here): the compiler decides what to do with them.
//! Object keys keep document order; a repeated key keeps its last value.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A string that borrows from the document when it has no escapes.
pub(crate) struct Str<'a>(pub(crate) Cow<'a, str>);

struct StrVisitor;

impl<'de> Visitor<'de> for StrVisitor {
    type Value = Str<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Str<'de>, E> {
        Ok(Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Str<'de>, E> {
        Ok(Str(Cow::Owned(v.to_string())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Str<'de>, E> {
        Ok(Str(Cow::Owned(v)))
    }
}

impl<'de> Deserialize<'de> for Str<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(StrVisitor)
    }
}

/// Any JSON value, kept only when it is a scalar (string, number, boolean), as text.
pub(crate) struct Scalar<'a>(pub(crate) Option<Cow<'a, str>>);

struct ScalarVisitor;

fn consume_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

fn consume_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

fn number_text(f: f64) -> Option<Cow<'static, str>> {
    serde_json::Number::from_f64(f).map(|n| Cow::Owned(n.to_string()))
}

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Scalar<'de>, E> {
        Ok(Scalar(Some(Cow::Borrowed(v))))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar<'de>, E> {
        Ok(Scalar(Some(Cow::Owned(v.to_string()))))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar<'de>, E> {
        Ok(Scalar(Some(Cow::Owned(v))))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar<'de>, E> {
        Ok(Scalar(Some(Cow::Owned(v.to_string()))))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar<'de>, E> {
        Ok(Scalar(Some(Cow::Owned(v.to_string()))))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar<'de>, E> {
        Ok(Scalar(number_text(v)))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar<'de>, E> {
        Ok(Scalar(Some(Cow::Borrowed(if v {
            "true"
        } else {
            "false"
        }))))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Scalar<'de>, E> {
        Ok(Scalar(None))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Scalar<'de>, A::Error> {
        consume_map(map)?;
        Ok(Scalar(None))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Scalar<'de>, A::Error> {
        consume_seq(seq)?;
        Ok(Scalar(None))
    }
}

impl<'de> Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

/// The texts of a scalar (kept inline: no allocation) or of an array of scalars.
pub(crate) enum Texts<'a> {
    One(Cow<'a, str>),
    Many(Vec<Cow<'a, str>>),
}

impl<'a> std::ops::Deref for Texts<'a> {
    type Target = [Cow<'a, str>];
    fn deref(&self) -> &[Cow<'a, str>] {
        match self {
            Texts::One(s) => std::slice::from_ref(s),
            Texts::Many(v) => v,
        }
    }
}

/// A scalar or an array of scalars, as text; `None` for anything else.
pub(crate) struct List<'a>(pub(crate) Option<Texts<'a>>);

struct ListVisitor;

impl<'de> Visitor<'de> for ListVisitor {
    type Value = List<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<List<'de>, E> {
        Ok(List(Some(Texts::One(Cow::Borrowed(v)))))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<List<'de>, E> {
        Ok(List(Some(Texts::One(Cow::Owned(v.to_string())))))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<List<'de>, E> {
        Ok(List(Some(Texts::One(Cow::Owned(v)))))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<List<'de>, E> {
        Ok(List(Some(Texts::One(Cow::Owned(v.to_string())))))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<List<'de>, E> {
        Ok(List(Some(Texts::One(Cow::Owned(v.to_string())))))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<List<'de>, E> {
        Ok(List(number_text(v).map(Texts::One)))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<List<'de>, E> {
        Ok(List(Some(Texts::One(Cow::Borrowed(if v {
            "true"
        } else {
            "false"
        })))))
    }
    fn visit_unit<E: de::Error>(self) -> Result<List<'de>, E> {
        Ok(List(None))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<List<'de>, A::Error> {
        consume_map(map)?;
        Ok(List(None))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<List<'de>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(2));
        let mut ok = true;
        while let Some(Scalar(s)) = seq.next_element::<Scalar<'de>>()? {
            match s {
                Some(s) => out.push(s),
                None => ok = false,
            }
        }
        Ok(List(ok.then_some(Texts::Many(out))))
    }
}

impl<'de> Deserialize<'de> for List<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ListVisitor)
    }
}

/// An object of lists (`Principal` maps, condition operator blocks); `None` when not an
/// object or when a value is not a list.
pub(crate) struct ListMap<'a>(pub(crate) Option<Entries<'a>>);

/// Keys with their lists of values, in document order.
pub(crate) type Entries<'a> = Vec<(Cow<'a, str>, Texts<'a>)>;

struct ListMapVisitor;

impl<'de> Visitor<'de> for ListMapVisitor {
    type Value = ListMap<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ListMap<'de>, A::Error> {
        let mut out: Entries<'de> = Vec::new();
        let mut ok = true;
        while let Some((Str(k), List(v))) = map.next_entry::<Str<'de>, List<'de>>()? {
            match v {
                Some(v) => insert(&mut out, k, v),
                None => ok = false,
            }
        }
        Ok(ListMap(ok.then_some(out)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<ListMap<'de>, A::Error> {
        consume_seq(seq)?;
        Ok(ListMap(None))
    }
    fn visit_borrowed_str<E: de::Error>(self, _: &'de str) -> Result<ListMap<'de>, E> {
        Ok(ListMap(None))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<ListMap<'de>, E> {
        Ok(ListMap(None))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<ListMap<'de>, E> {
        Ok(ListMap(None))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<ListMap<'de>, E> {
        Ok(ListMap(None))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<ListMap<'de>, E> {
        Ok(ListMap(None))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<ListMap<'de>, E> {
        Ok(ListMap(None))
    }
    fn visit_unit<E: de::Error>(self) -> Result<ListMap<'de>, E> {
        Ok(ListMap(None))
    }
}

impl<'de> Deserialize<'de> for ListMap<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ListMapVisitor)
    }
}

/// Inserts keeping document order; a repeated key replaces the earlier value in place.
fn insert<'a, V>(out: &mut Vec<(Cow<'a, str>, V)>, k: Cow<'a, str>, v: V) {
    match out.iter_mut().find(|(e, _)| *e == k) {
        Some(slot) => slot.1 = v,
        None => out.push((k, v)),
    }
}

/// `Principal` / `NotPrincipal`.
pub(crate) enum RawPrincipal<'a> {
    /// A string (only `"*"` is meaningful).
    Text(Cow<'a, str>),
    /// `{"AWS": …, "Service": …}`
    Map(Entries<'a>),
    Invalid,
}

impl<'de> Deserialize<'de> for RawPrincipal<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawPrincipal<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(RawPrincipal::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(RawPrincipal::Text(Cow::Owned(v.to_string())))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let ListMap(m) = ListMapVisitor.visit_map(map)?;
                Ok(m.map_or(RawPrincipal::Invalid, RawPrincipal::Map))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                consume_seq(seq)?;
                Ok(RawPrincipal::Invalid)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(RawPrincipal::Invalid)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(RawPrincipal::Invalid)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(RawPrincipal::Invalid)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(RawPrincipal::Invalid)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(RawPrincipal::Invalid)
            }
        }
        d.deserialize_any(V)
    }
}

/// `Condition`: operator → (key → values), in document order; `None` when malformed.
pub(crate) type RawConditions<'a> = Option<Vec<(Cow<'a, str>, Entries<'a>)>>;

struct Conditions<'a>(RawConditions<'a>);

impl<'de> Deserialize<'de> for Conditions<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Conditions<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                let mut ok = true;
                while let Some((Str(op), ListMap(block))) =
                    map.next_entry::<Str<'de>, ListMap<'de>>()?
                {
                    match block {
                        Some(b) => insert(&mut out, op, b),
                        None => ok = false,
                    }
                }
                Ok(Conditions(ok.then_some(out)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                consume_seq(seq)?;
                Ok(Conditions(None))
            }
            fn visit_borrowed_str<E: de::Error>(self, _: &'de str) -> Result<Self::Value, E> {
                Ok(Conditions(None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Conditions(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Conditions(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Conditions(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Conditions(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Conditions(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Conditions(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// One statement's elements. `Some(None)` = present but of the wrong JSON type.
#[derive(Default)]
pub(crate) struct RawStatement<'a> {
    pub(crate) sid: Option<Option<Cow<'a, str>>>,
    pub(crate) effect: Option<Option<Cow<'a, str>>>,
    pub(crate) action: Option<Option<Texts<'a>>>,
    pub(crate) not_action: Option<Option<Texts<'a>>>,
    pub(crate) resource: Option<Option<Texts<'a>>>,
    pub(crate) not_resource: Option<Option<Texts<'a>>>,
    pub(crate) principal: Option<RawPrincipal<'a>>,
    pub(crate) not_principal: Option<RawPrincipal<'a>>,
    pub(crate) condition: Option<RawConditions<'a>>,
}

/// A statement slot: `None` when the JSON value is not an object.
pub(crate) struct MaybeStatement<'a>(pub(crate) Option<RawStatement<'a>>);

/// A value that is kept only if it is a JSON string.
struct OnlyStr<'a>(Option<Cow<'a, str>>);

impl<'de> Deserialize<'de> for OnlyStr<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OnlyStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(OnlyStr(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(OnlyStr(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(OnlyStr(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(OnlyStr(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(OnlyStr(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(OnlyStr(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(OnlyStr(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                consume_map(map)?;
                Ok(OnlyStr(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                consume_seq(seq)?;
                Ok(OnlyStr(None))
            }
        }
        d.deserialize_any(V)
    }
}

struct StatementVisitor;

impl<'de> Visitor<'de> for StatementVisitor {
    type Value = MaybeStatement<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut s = RawStatement::default();
        while let Some(Str(key)) = map.next_key::<Str<'de>>()? {
            match &*key {
                "Sid" => s.sid = Some(map.next_value::<OnlyStr<'de>>()?.0),
                "Effect" => s.effect = Some(map.next_value::<OnlyStr<'de>>()?.0),
                "Action" => s.action = Some(map.next_value::<List<'de>>()?.0),
                "NotAction" => s.not_action = Some(map.next_value::<List<'de>>()?.0),
                "Resource" => s.resource = Some(map.next_value::<List<'de>>()?.0),
                "NotResource" => s.not_resource = Some(map.next_value::<List<'de>>()?.0),
                "Principal" => s.principal = Some(map.next_value::<RawPrincipal<'de>>()?),
                "NotPrincipal" => s.not_principal = Some(map.next_value::<RawPrincipal<'de>>()?),
                "Condition" => s.condition = Some(map.next_value::<Conditions<'de>>()?.0),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(MaybeStatement(Some(s)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        consume_seq(seq)?;
        Ok(MaybeStatement(None))
    }
    fn visit_borrowed_str<E: de::Error>(self, _: &'de str) -> Result<Self::Value, E> {
        Ok(MaybeStatement(None))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(MaybeStatement(None))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(MaybeStatement(None))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(MaybeStatement(None))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(MaybeStatement(None))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(MaybeStatement(None))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(MaybeStatement(None))
    }
}

impl<'de> Deserialize<'de> for MaybeStatement<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StatementVisitor)
    }
}

/// The `Statement` element.
pub(crate) enum RawStatements<'a> {
    One(Box<RawStatement<'a>>),
    Many(Vec<Option<RawStatement<'a>>>),
    Invalid,
}

impl<'de> Deserialize<'de> for RawStatements<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawStatements<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let MaybeStatement(s) = StatementVisitor.visit_map(map)?;
                Ok(s.map_or(RawStatements::Invalid, |s| RawStatements::One(Box::new(s))))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(4));
                while let Some(MaybeStatement(s)) = seq.next_element::<MaybeStatement<'de>>()? {
                    out.push(s);
                }
                Ok(RawStatements::Many(out))
            }
            fn visit_borrowed_str<E: de::Error>(self, _: &'de str) -> Result<Self::Value, E> {
                Ok(RawStatements::Invalid)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(RawStatements::Invalid)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(RawStatements::Invalid)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(RawStatements::Invalid)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(RawStatements::Invalid)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(RawStatements::Invalid)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(RawStatements::Invalid)
            }
        }
        d.deserialize_any(V)
    }
}

/// The top-level document.
#[derive(Default)]
pub(crate) struct RawPolicy<'a> {
    pub(crate) version: Option<Cow<'a, str>>,
    pub(crate) id: Option<Cow<'a, str>>,
    pub(crate) statement: Option<RawStatements<'a>>,
}

impl<'de> Deserialize<'de> for RawPolicy<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawPolicy<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a policy document object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut p = RawPolicy::default();
                while let Some(Str(key)) = map.next_key::<Str<'de>>()? {
                    match &*key {
                        "Version" => p.version = map.next_value::<OnlyStr<'de>>()?.0,
                        "Id" => p.id = map.next_value::<OnlyStr<'de>>()?.0,
                        "Statement" => p.statement = Some(map.next_value::<RawStatements<'de>>()?),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(p)
            }
        }
        d.deserialize_map(V)
    }
}
