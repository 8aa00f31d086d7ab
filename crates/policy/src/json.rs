//! A light JSON tree, allocated in an arena (a `bumpalo::Bump` each thread keeps and empties
//! after each document: no allocation per node and nothing to drop node by node), that borrows
//! its strings from the document (a string with escapes is decoded into the arena) and keeps
//! objects as slices in document order. It accepts exactly the documents
//! `serde_json::from_str::<Value>` accepts (RFC 8259, no trailing commas, no lone surrogates,
//! nesting below serde_json's recursion limit of 128) and reads them like `serde_json::Value`
//! with `preserve_order` (a repeated key keeps its first position and its last value; numbers
//! are read by serde_json itself). A hand-written reader: one pass, no per-key allocation (an
//! object of many members is indexed by a hash map to find repeated keys), and it notes where
//! the statements of a policy sit in the text and how much string text they hold.

use std::collections::HashMap;

use bumpalo::Bump;
use serde_json::Number;

use crate::position::Position;

/// Object members, in document order, keys unique.
pub(crate) type Members<'a> = [(&'a str, Json<'a>)];

/// One JSON value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Json<'a> {
    Null,
    Bool(bool),
    Number(&'a Number),
    String(&'a str),
    Array(&'a [Json<'a>]),
    Object(&'a Members<'a>),
}

// Numbers are kept in the arena, which never runs destructors: they must not need one (they
// would, holding a `String`, were serde_json's `arbitrary_precision` feature turned on).
const _: () = assert!(!std::mem::needs_drop::<Number>());

/// Runs `f` with an empty arena for a document's tree; nothing allocated in it outlives `f`.
/// The arena is the thread's own, kept between documents and emptied after each (a thread
/// that read a very large document gives its blocks back).
pub(crate) fn with_arena<R>(f: impl FnOnce(&Bump) -> R) -> R {
    const KEEP_AT_MOST: usize = 64 * 1024;
    thread_local! {
        static ARENA: std::cell::RefCell<Bump> = std::cell::RefCell::new(Bump::new());
    }
    // The arena is taken out while in use (a nested call, or a thread being torn down, gets a
    // fresh one) and put back after.
    let mut arena = ARENA.try_with(|cell| cell.take()).unwrap_or_default();
    let out = f(&arena);
    if arena.allocated_bytes() <= KEEP_AT_MOST {
        arena.reset();
        let _ = ARENA.try_with(|cell| cell.replace(arena));
    }
    out
}

/// The text is not JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InvalidJson;

/// A document read in one pass.
pub(crate) struct Parsed<'a> {
    pub(crate) json: Json<'a>,
    /// Where the objects of the last top-level `Statement` element (the element itself, or
    /// the objects of its array) sit: their `{`, and just after their `}`.
    pub(crate) statement_spans: Vec<(Position, Position)>,
    /// Bytes of string text (keys and values, as written) inside those statements: what a
    /// compiled policy is made of.
    pub(crate) statement_text: usize,
}

impl<'a> Json<'a> {
    /// Parses `text` into `arena`; fails exactly when `serde_json::from_str::<Value>` does.
    pub(crate) fn parse(text: &'a str, arena: &'a Bump) -> Result<Json<'a>, InvalidJson> {
        Ok(Json::parse_policy(text, arena)?.json)
    }

    /// Like [`Json::parse`], also telling where the statements are.
    pub(crate) fn parse_policy(text: &'a str, arena: &'a Bump) -> Result<Parsed<'a>, InvalidJson> {
        let mut p = Parser {
            text,
            arena,
            b: text.as_bytes(),
            i: 0,
            depth: 0,
            line: 1,
            line_start: 0,
            column_at: (0, 0),
            spans: Vec::new(),
            in_statement: 0,
            statement_text: 0,
            // Room for a policy's statements and a statement's members without regrowing.
            items: Vec::with_capacity(32),
            members: Vec::with_capacity(16),
        };
        p.ws();
        let json = p.value(Role::Top).ok_or(InvalidJson)?;
        p.ws();
        if p.i != p.b.len() {
            return Err(InvalidJson);
        }
        Ok(Parsed {
            json,
            statement_spans: p.spans,
            statement_text: p.statement_text,
        })
    }

    pub(crate) fn as_str(&self) -> Option<&'a str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_object(&self) -> Option<&'a Members<'a>> {
        match self {
            Json::Object(m) => Some(m),
            _ => None,
        }
    }
}

/// The value of `key` in an object.
pub(crate) fn get<'m, 'a>(members: &'m Members<'a>, key: &str) -> Option<&'m Json<'a>> {
    members.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
}

/// The elements of a policy statement object, by name.
#[derive(Default)]
pub(crate) struct StatementElements<'j, 'a> {
    pub(crate) sid: Option<&'j Json<'a>>,
    pub(crate) effect: Option<&'j Json<'a>>,
    pub(crate) action: Option<&'j Json<'a>>,
    pub(crate) not_action: Option<&'j Json<'a>>,
    pub(crate) resource: Option<&'j Json<'a>>,
    pub(crate) not_resource: Option<&'j Json<'a>>,
    pub(crate) principal: Option<&'j Json<'a>>,
    pub(crate) not_principal: Option<&'j Json<'a>>,
    pub(crate) condition: Option<&'j Json<'a>>,
    /// Some member is none of these.
    pub(crate) unknown: bool,
}

impl<'j, 'a> StatementElements<'j, 'a> {
    /// Sorts a statement's members in one pass (keys are unique in the tree).
    pub(crate) fn of(members: &'j Members<'a>) -> Self {
        let mut e = StatementElements::default();
        for (key, value) in members.iter() {
            let slot = match *key {
                "Sid" => &mut e.sid,
                "Effect" => &mut e.effect,
                "Action" => &mut e.action,
                "NotAction" => &mut e.not_action,
                "Resource" => &mut e.resource,
                "NotResource" => &mut e.not_resource,
                "Principal" => &mut e.principal,
                "NotPrincipal" => &mut e.not_principal,
                "Condition" => &mut e.condition,
                _ => {
                    e.unknown = true;
                    continue;
                }
            };
            *slot = Some(value);
        }
        e
    }
}

/// Past this many members, an object's keys are indexed (repeated keys are found by a linear
/// search below it).
const INDEX_FROM: usize = 16;

/// serde_json's nesting limit: the 128th nested array or object is refused.
const MAX_DEPTH: u32 = 128;

/// Where a value sits, for the statement spans.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// The document itself.
    Top,
    /// The value of the top-level `Statement`.
    Statement,
    /// An element of the top-level `Statement` array.
    StatementItem,
    Other,
}

struct Parser<'a> {
    text: &'a str,
    arena: &'a Bump,
    b: &'a [u8],
    i: usize,
    depth: u32,
    /// The line of `i` (1-based), and the offset where that line starts: line feeds can only
    /// appear in white space, so [`Parser::ws`] keeps count.
    line: u32,
    line_start: usize,
    /// The last offset a column was counted for, and its column (0-based), on the current
    /// line: positions are asked for in increasing order, so each byte is counted once.
    column_at: (usize, u32),
    spans: Vec<(Position, Position)>,
    /// How deep in statement objects the reader is, and the string text it read there.
    in_statement: u32,
    statement_text: usize,
    /// The elements of the arrays being read, innermost last: each array is allocated once,
    /// at its final size.
    items: Vec<Json<'a>>,
    /// The members of the objects being read, innermost last.
    members: Vec<(&'a str, Json<'a>)>,
}

impl<'a> Parser<'a> {
    fn ws(&mut self) {
        let b = self.b;
        let mut i = self.i;
        loop {
            // Runs of spaces (indentation): up to eight at a time.
            while let Some(w) = word(b, i) {
                let others = w ^ SPACES;
                if others == 0 {
                    i += 8;
                } else {
                    // Leading spaces of the word: the first byte is the lowest in memory order.
                    let spaces = if cfg!(target_endian = "little") {
                        others.trailing_zeros() / 8
                    } else {
                        others.leading_zeros() / 8
                    };
                    i += spaces as usize;
                    break;
                }
            }
            match b.get(i) {
                Some(b' ' | b'\t' | b'\r') => i += 1,
                Some(b'\n') => {
                    i += 1;
                    self.line += 1;
                    self.line_start = i;
                }
                _ => break,
            }
        }
        self.i = i;
    }

    /// The position of `offset`, on the current line: columns count characters.
    fn position(&mut self, offset: usize) -> Position {
        let (mut from, mut column) = self.column_at;
        if from < self.line_start || from > offset {
            (from, column) = (self.line_start, 0);
        }
        let chars = self.b.get(from..offset).unwrap_or_default();
        let counted = chars.iter().filter(|&&c| c & 0xC0 != 0x80).count();
        column = column.saturating_add(u32::try_from(counted).unwrap_or(u32::MAX));
        self.column_at = (offset, column);
        Position {
            line: self.line,
            column: column.saturating_add(1),
        }
    }

    fn count_statement_text(&mut self, bytes: usize) {
        if self.in_statement > 0 {
            self.statement_text += bytes;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn literal(&mut self, word: &[u8], value: Json<'a>) -> Option<Json<'a>> {
        if self.b.get(self.i..self.i + word.len())? == word {
            self.i += word.len();
            Some(value)
        } else {
            None
        }
    }

    /// One value; white space before it is already skipped.
    fn value(&mut self, role: Role) -> Option<Json<'a>> {
        match self.peek()? {
            b'"' => self.string().map(Json::String),
            b'{' => {
                if matches!(role, Role::Statement | Role::StatementItem) {
                    let start = self.position(self.i);
                    self.in_statement += 1;
                    let object = self.object(role);
                    self.in_statement -= 1;
                    let object = object?;
                    let end = self.position(self.i);
                    self.spans.push((start, end));
                    Some(object)
                } else {
                    self.object(role)
                }
            }
            b'[' => self.array(role),
            b't' => self.literal(b"true", Json::Bool(true)),
            b'f' => self.literal(b"false", Json::Bool(false)),
            b'n' => self.literal(b"null", Json::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth < MAX_DEPTH).then_some(())
    }

    fn object(&mut self, role: Role) -> Option<Json<'a>> {
        self.enter()?;
        self.i += 1;
        self.ws();
        if self.peek()? == b'}' {
            self.i += 1;
            self.depth -= 1;
            return Some(Json::Object(&[]));
        }
        let mark = self.members.len();
        // Where each key sits among the members, once there are many of them.
        let mut index: Option<HashMap<&'a str, usize>> = None;
        loop {
            if self.peek()? != b'"' {
                return None;
            }
            let key = self.string()?;
            self.ws();
            if self.peek()? != b':' {
                return None;
            }
            self.i += 1;
            self.ws();
            let member_role = match role {
                Role::Top if key == "Statement" => {
                    // The last `Statement` wins, as its value does.
                    self.spans.clear();
                    self.statement_text = 0;
                    Role::Statement
                }
                _ => Role::Other,
            };
            let v = self.value(member_role)?;
            let earlier = match &index {
                Some(index) => index.get(key).map(|&at| mark + at),
                None => {
                    // Repeated keys are rare: compare lengths and first bytes before the text.
                    let same = |e: &str| {
                        e.len() == key.len()
                            && e.as_bytes().first() == key.as_bytes().first()
                            && e == key
                    };
                    self.members[mark..]
                        .iter()
                        .position(|(e, _)| same(e))
                        .map(|at| mark + at)
                }
            };
            match earlier {
                Some(at) => self.members[at].1 = v,
                None => {
                    if let Some(index) = &mut index {
                        index.insert(key, self.members.len() - mark);
                    }
                    self.members.push((key, v));
                    if index.is_none() && self.members.len() - mark > INDEX_FROM {
                        index = Some(
                            self.members[mark..]
                                .iter()
                                .enumerate()
                                .map(|(at, (k, _))| (*k, at))
                                .collect(),
                        );
                    }
                }
            }
            self.ws();
            match self.peek()? {
                b',' => {
                    self.i += 1;
                    self.ws();
                }
                b'}' => {
                    self.i += 1;
                    self.depth -= 1;
                    let members = self.arena.alloc_slice_copy(&self.members[mark..]);
                    self.members.truncate(mark);
                    return Some(Json::Object(members));
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self, role: Role) -> Option<Json<'a>> {
        self.enter()?;
        self.i += 1;
        self.ws();
        if self.peek()? == b']' {
            self.i += 1;
            self.depth -= 1;
            return Some(Json::Array(&[]));
        }
        let mark = self.items.len();
        let item_role = if role == Role::Statement {
            Role::StatementItem
        } else {
            Role::Other
        };
        loop {
            let v = self.value(item_role)?;
            self.items.push(v);
            self.ws();
            match self.peek()? {
                b',' => {
                    self.i += 1;
                    self.ws();
                }
                b']' => {
                    self.i += 1;
                    self.depth -= 1;
                    let items = self.arena.alloc_slice_copy(&self.items[mark..]);
                    self.items.truncate(mark);
                    return Some(Json::Array(items));
                }
                _ => return None,
            }
        }
    }

    /// A string at `"`: its value (escapes decoded).
    fn string(&mut self) -> Option<&'a str> {
        let start = self.i + 1;
        let mut i = start;
        let b = self.b;
        // Plain content, eight bytes at a time.
        while let Some(w) = word(b, i) {
            if has_string_special(w) {
                break;
            }
            i += 8;
        }
        loop {
            match *b.get(i)? {
                b'"' => {
                    self.i = i + 1;
                    self.count_statement_text(i - start);
                    return self.text.get(start..i);
                }
                b'\\' => break,
                c if c < 0x20 => return None,
                _ => i += 1,
            }
        }
        // Escapes: decode into an owned string.
        let mut out = String::with_capacity(i - start + 8);
        out.push_str(self.text.get(start..i)?);
        loop {
            let run = i;
            while let Some(&c) = b.get(i) {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                i += 1;
            }
            out.push_str(self.text.get(run..i)?);
            match *b.get(i)? {
                b'"' => {
                    self.i = i + 1;
                    self.count_statement_text(i - start);
                    return Some(self.arena.alloc_str(&out));
                }
                b'\\' => {
                    let c = match *b.get(i + 1)? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let n = hex4(b, i + 2)?;
                            i += 6;
                            let c = match n {
                                0xDC00..=0xDFFF => return None,
                                0xD800..=0xDBFF => {
                                    if b.get(i) != Some(&b'\\') || b.get(i + 1) != Some(&b'u') {
                                        return None;
                                    }
                                    let low = hex4(b, i + 2)?;
                                    if !(0xDC00..=0xDFFF).contains(&low) {
                                        return None;
                                    }
                                    i += 6;
                                    0x10000 + ((n - 0xD800) << 10) + (low - 0xDC00)
                                }
                                n => n,
                            };
                            out.push(char::from_u32(c)?);
                            continue;
                        }
                        _ => return None,
                    };
                    out.push(c);
                    i += 2;
                }
                _ => return None,
            }
        }
    }

    /// A number: its form checked here, its value read by serde_json.
    fn number(&mut self) -> Option<Json<'a>> {
        let b = self.b;
        let start = self.i;
        let mut i = start;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        let digits = |i: &mut usize| {
            let from = *i;
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i > from
        };
        match b.get(i)? {
            b'0' => {
                i += 1;
                if b.get(i).is_some_and(u8::is_ascii_digit) {
                    return None;
                }
            }
            b'1'..=b'9' => {
                digits(&mut i);
            }
            _ => return None,
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            if !digits(&mut i) {
                return None;
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if !digits(&mut i) {
                return None;
            }
        }
        self.i = i;
        let n: Number = serde_json::from_str(self.text.get(start..i)?).ok()?;
        Some(Json::Number(self.arena.alloc(n)))
    }
}

const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
const SPACES: u64 = u64::from_ne_bytes([b' '; 8]);

/// The eight bytes at `at`, if there are eight.
fn word(b: &[u8], at: usize) -> Option<u64> {
    let bytes: [u8; 8] = b.get(at..at + 8)?.try_into().ok()?;
    Some(u64::from_ne_bytes(bytes))
}

/// Whether one of the eight bytes in `w` is `"`, `\` or a control character (below 0x20).
fn has_string_special(w: u64) -> bool {
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS != 0;
    has_zero(w ^ (ONES * u64::from(b'"')))
        || has_zero(w ^ (ONES * u64::from(b'\\')))
        || w.wrapping_sub(ONES * 0x20) & !w & HIGHS != 0
}

/// The value of the four hex digits at `at`.
fn hex4(b: &[u8], at: usize) -> Option<u32> {
    let mut n = 0;
    for &c in b.get(at..at + 4)? {
        n = n * 16 + char::from(c).to_digit(16)?;
    }
    Some(n)
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
            Json::Number(n) => Value::Number((*n).clone()),
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
            let arena = Bump::new();
            let parsed = Json::parse_policy(text, &arena).unwrap();
            let ours = parsed.json;
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
            "-",
            "01",
            "1.",
            ".5",
            "1e",
            "1e+",
            "-01",
            "tru",
            "nul",
            "[1,]",
            "[,1]",
            r#"{"a" 1}"#,
            r#"{,"a":1}"#,
            r#"{"a":1 "b":2}"#,
            "\"a\tb\"",
            "\"a\nb\"",
            r#""\x""#,
            r#""\u12""#,
            r#""\udc00""#,
            r#""\ud800\u0041""#,
            r#""\ud800x""#,
            "[1] 2",
            "{} x",
            "\u{feff}{}",
            " ",
        ] {
            assert!(Json::parse(bad, &Bump::new()).is_err(), "{bad}");
            assert_eq!(
                Json::parse(bad, &Bump::new()).is_err(),
                serde_json::from_str::<Value>(bad).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn accepts_like_serde_json() {
        let mut cases: Vec<String> = [
            " {\"a\" : [ 1 , -0 , 0.5e-3 , 2E+2 , 1e400 , true , null ] } \n",
            r#""\ud83d\ude00 \u00e9 \/ \b\f\n\r\t \"\\ é""#,
            "-0.0",
            "123456789012345678901234567890",
            "\"\u{7f}\"",
            "[]",
            "{}",
            "[[],{},[{}]]",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for depth in [126, 127, 128, 129] {
            cases.push(format!("{}{}", "[".repeat(depth), "]".repeat(depth)));
            cases.push(format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth)));
        }
        for text in &cases {
            let theirs = serde_json::from_str::<Value>(text);
            let arena = Bump::new();
            let ours = Json::parse(text, &arena);
            assert_eq!(ours.is_ok(), theirs.is_ok(), "{text}");
            if let (Ok(ours), Ok(theirs)) = (ours, theirs) {
                assert_eq!(to_value(&ours), theirs, "{text}");
            }
        }
    }

    #[test]
    fn reads_strings_and_white_space_at_every_offset() {
        let specials = [
            "\\\"", "\\\\", "\\n", "\\u00e9", "é", "\t", "\n", "\u{1}", "\"", "\\",
        ];
        for len in 0..20 {
            for at in 0..=len {
                for special in specials {
                    let mut body = "a".repeat(len);
                    body.insert_str(at, special);
                    for text in [
                        format!("\"{body}\""),
                        format!("{}[\"{body}\" ]{}", " ".repeat(len), "\t ".repeat(at)),
                        format!(
                            "{{\n{}\"{body}\":{}1}}",
                            " ".repeat(len),
                            "\r\n ".repeat(at)
                        ),
                    ] {
                        let theirs = serde_json::from_str::<Value>(&text);
                        let arena = Bump::new();
                        let ours = Json::parse(&text, &arena);
                        assert_eq!(ours.is_ok(), theirs.is_ok(), "{text:?}");
                        if let (Ok(ours), Ok(theirs)) = (ours, theirs) {
                            assert_eq!(to_value(&ours), theirs, "{text:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn statement_spans() {
        let p = |line, column| Position { line, column };
        for text in [
            r#"{"Statement":[{"a":1}, 2, {"b":{}}], "X": {"Statement": {}}}"#,
            "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\"},\n    {\n      \"Sid\": \"é\"\n    }\n  ]\n}",
            "{\"Statement\":{\"a\":1},\r\n\"Statement\":[\n\t{\"é\":\"é\"}, {}]}",
            r#"{"Statement": {"Effect": "Allow"}}"#,
        ] {
            let ours = Json::parse_policy(text, &Bump::new()).unwrap().statement_spans;
            assert_eq!(ours, crate::position::oracle::statement_spans(text), "{text}");
        }
        let text = "{\"Statement\":[{},\n {\"é\":1}]}";
        let spans = Json::parse_policy(text, &Bump::new())
            .unwrap()
            .statement_spans;
        assert_eq!(spans, [(p(1, 15), p(1, 17)), (p(2, 2), p(2, 9))]);
        // Many statements on one line (columns are counted once, left to right), some with
        // characters of several bytes, and lines that start in between.
        let mut one_line = String::from("{\"Statement\":[");
        for i in 0..300 {
            if i > 0 {
                one_line.push_str(if i % 97 == 0 { ",\n " } else { ", " });
            }
            one_line.push_str(if i % 3 == 0 {
                "{\"Sid\":\"é€😀\"}"
            } else {
                "{}"
            });
        }
        one_line.push_str("]}");
        let spans = Json::parse_policy(&one_line, &Bump::new())
            .unwrap()
            .statement_spans;
        assert_eq!(spans.len(), 300);
        assert_eq!(spans, crate::position::oracle::statement_spans(&one_line));
        // The key is compared decoded, as the tree reads it: the last `Statement`, however
        // it is written, is the one whose statements are placed.
        let text = r#"{"Statement":[{"a":1}],"Statem\u0065nt":[{}, {"b":2}]}"#;
        let arena = Bump::new();
        let parsed = Json::parse_policy(text, &arena).unwrap();
        assert_eq!(
            parsed.statement_spans,
            [(p(1, 42), p(1, 44)), (p(1, 46), p(1, 53))]
        );
        let Json::Object([(_, Json::Array(items))]) = parsed.json else {
            panic!("{text}");
        };
        assert_eq!(items.len(), 2);
    }

    #[test]
    fn objects_of_many_members_keep_the_last_value_of_a_repeated_key() {
        // Past INDEX_FROM members, repeated keys are found through an index.
        for n in [3, INDEX_FROM, INDEX_FROM + 1, 100] {
            let mut text = String::from("{");
            for i in 0..n {
                text.push_str(&format!("\"k{i}\":{i},"));
            }
            for i in (0..n).step_by(7) {
                text.push_str(&format!("\"k{i}\":\"again{i}\","));
            }
            text.push_str("\"last\":true}");
            let arena = Bump::new();
            let ours = Json::parse(&text, &arena).unwrap();
            let theirs: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(to_value(&ours), theirs, "{n}");
            assert_eq!(
                serde_json::to_string(&to_value(&ours)).unwrap(),
                serde_json::to_string(&theirs).unwrap(),
                "{n}: order"
            );
        }
    }
}
