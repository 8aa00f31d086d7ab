//! A light JSON tree that borrows its strings from the document (no copy unless a string holds
//! escapes) and keeps objects as small vectors in document order. It reads exactly like
//! `serde_json::Value` with `preserve_order` (same parser, same errors, a repeated key keeps
//! its first position and its last value), at a fraction of the cost: no hashing, no per-key
//! allocation.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Number;

/// Object members, in document order, keys unique.
pub(crate) type Members<'a> = Vec<(Cow<'a, str>, Json<'a>)>;

/// One JSON value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    Object(Members<'a>),
}

impl<'a> Json<'a> {
    /// Parses `text`; fails exactly when `serde_json::from_str::<Value>` does.
    pub(crate) fn parse(text: &'a str) -> Result<Json<'a>, serde_json::Error> {
        Ok(Json::parse_noting_duplicates(text)?.0)
    }

    /// Like [`Json::parse`], also telling whether some object repeated a key.
    pub(crate) fn parse_noting_duplicates(
        text: &'a str,
    ) -> Result<(Json<'a>, bool), serde_json::Error> {
        let duplicates = Cell::new(false);
        let mut de = serde_json::Deserializer::from_str(text);
        let json = Seed(&duplicates).deserialize(&mut de)?;
        de.end()?;
        Ok((json, duplicates.get()))
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_object(&self) -> Option<&Members<'a>> {
        match self {
            Json::Object(m) => Some(m),
            _ => None,
        }
    }
}

/// The value of `key` in an object.
pub(crate) fn get<'m, 'a>(
    members: &'m [(Cow<'a, str>, Json<'a>)],
    key: &str,
) -> Option<&'m Json<'a>> {
    members.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// Reads one value, noting repeated object keys in the cell.
#[derive(Clone, Copy)]
struct Seed<'s>(&'s Cell<bool>);

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Json<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Json<'de>, D::Error> {
        d.deserialize_any(JsonVisitor(self.0))
    }
}

struct JsonVisitor<'s>(&'s Cell<bool>);

impl<'de> Visitor<'de> for JsonVisitor<'_> {
    type Value = Json<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Json<'de>, E> {
        Ok(Json::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Json<'de>, E> {
        Ok(Json::Number(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Json<'de>, E> {
        Ok(Json::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json<'de>, E> {
        Ok(Number::from_f64(v).map_or(Json::Null, Json::Number))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(v.to_string())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(4));
        while let Some(v) = seq.next_element_seed(Seed(self.0))? {
            out.push(v);
        }
        Ok(Json::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        // Statements have up to nine members: room for the usual ones without regrowing.
        let mut out: Members<'de> = Vec::with_capacity(6);
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            let v = map.next_value_seed(Seed(self.0))?;
            match out.iter_mut().find(|(e, _)| *e == k) {
                Some(slot) => {
                    self.0.set(true);
                    slot.1 = v;
                }
                None => out.push((k, v)),
            }
        }
        Ok(Json::Object(out))
    }
}

/// An object key, borrowed when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// The same document read as a `serde_json::Value`, for comparison.
    fn to_value(j: &Json<'_>) -> Value {
        match j {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => Value::Number(n.clone()),
            Json::String(s) => Value::String(s.to_string()),
            Json::Array(a) => Value::Array(a.iter().map(to_value).collect()),
            Json::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| (k.to_string(), to_value(v)))
                    .collect(),
            ),
        }
    }

    #[test]
    fn reads_like_serde_json_value() {
        for text in [
            r#"{"a":1,"b":[true,null,-2,1.5e3,"x\u0041"],"a":{"c":"d"},"e\n":{}}"#,
            r#"[1, 18446744073709551615, -9223372036854775808, 0.1]"#,
            r#""plain""#,
            r#"{"k":"v","k":"w","z":0}"#,
        ] {
            let (ours, duplicates) = Json::parse_noting_duplicates(text).unwrap();
            assert_eq!(
                duplicates,
                text.contains(r#""a":{"#) || text.contains(r#""k":"w""#)
            );
            let theirs: Value = serde_json::from_str(text).unwrap();
            assert_eq!(to_value(&ours), theirs, "{text}");
            assert_eq!(
                serde_json::to_string(&to_value(&ours)).unwrap(),
                serde_json::to_string(&theirs).unwrap()
            );
        }
        for bad in [
            "",
            "{",
            r#"{"a":1,}"#,
            "[1 2]",
            r#"{"a":"\ud800"}"#,
            "1e999",
        ] {
            assert_eq!(
                Json::parse(bad).is_err(),
                serde_json::from_str::<Value>(bad).is_err(),
                "{bad}"
            );
        }
    }
}
