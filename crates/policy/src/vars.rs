//! Policy variables: `${aws:username}`, `${aws:PrincipalTag/team}`, `${key, 'default'}` and
//! the escapes `${*}`, `${?}`, `${$}`. Only recognised in `Version: 2012-10-17` policies.

use crate::arena::{Arena, ArenaVec};
use crate::glob::{match_tokens, Tok};
use crate::request::{Context, LowerKey};

/// One piece of a value that may contain policy variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TPart<'a> {
    Lit(&'a str),
    Star,
    One,
    Var {
        /// Lower-cased, hashed key, for lookup.
        lower: LowerKey<'a>,
        /// Key as written, for reporting.
        key: &'a str,
        default: Option<&'a str>,
    },
}

/// Splits `text` into parts. `vars`: recognise `${…}`; `wildcards`: `*`/`?` are wildcards.
/// Literal parts borrow from `text` (it should live in the arena) unless an escape joined
/// them.
pub(crate) fn parse<'a>(
    arena: &'a Arena,
    text: &'a str,
    vars: bool,
    wildcards: bool,
) -> &'a [TPart<'a>] {
    let mut out = ArenaVec::with_capacity_in(4, arena);
    // Literal text joined across an escape (`a${*}b`), when there is one.
    let mut lit = bumpalo::collections::String::new_in(arena);
    let bytes = text.as_bytes();
    // `run..i` is literal text not yet taken; specials are ASCII, so every `i` that stops on
    // one is a character boundary.
    let mut run = 0;
    let mut i = 0;
    let flush = |out: &mut ArenaVec<'a, TPart<'a>>,
                 lit: &mut bumpalo::collections::String<'a>,
                 tail: &'a str| {
        if lit.is_empty() {
            if !tail.is_empty() {
                out.push(TPart::Lit(tail));
            }
        } else {
            lit.push_str(tail);
            let joined = std::mem::replace(lit, bumpalo::collections::String::new_in(arena));
            out.push(TPart::Lit(joined.into_bump_str()));
        }
    };
    while let Some(&b) = bytes.get(i) {
        if vars && b == b'$' && bytes.get(i + 1) == Some(&b'{') {
            let inner = text
                .get(i + 2..)
                .and_then(|rest| Some(&rest[..rest.find('}')?]));
            if let Some(part) = inner.and_then(|inner| variable(arena, inner)) {
                match part {
                    TPart::Lit(l) => {
                        lit.push_str(&text[run..i]);
                        lit.push_str(l);
                    }
                    other => {
                        flush(&mut out, &mut lit, &text[run..i]);
                        out.push(other);
                    }
                }
                i += 2 + inner.map_or(0, str::len) + 1;
                run = i;
                continue;
            }
        }
        if wildcards && (b == b'*' || b == b'?') {
            flush(&mut out, &mut lit, &text[run..i]);
            out.push(if b == b'*' { TPart::Star } else { TPart::One });
            run = i + 1;
        }
        i += 1;
    }
    flush(&mut out, &mut lit, &text[run..]);
    out.into_bump_slice()
}

/// Interprets the text between `${` and `}`.
fn variable<'a>(arena: &'a Arena, inner: &'a str) -> Option<TPart<'a>> {
    let t = inner.trim();
    match t {
        "*" | "?" | "$" => return Some(TPart::Lit(t)),
        "" => return None,
        _ => {}
    }
    let (key, default) = match t.split_once(',') {
        Some((k, d)) => {
            let d = d.trim();
            let d = d
                .strip_prefix('\'')
                .and_then(|d| d.strip_suffix('\''))
                .unwrap_or(d);
            (k.trim(), Some(d))
        }
        None => (t, None),
    };
    if key.is_empty() || key.contains(char::is_whitespace) {
        return None;
    }
    Some(TPart::Var {
        lower: LowerKey::new(arena, key),
        key,
        default,
    })
}

/// Keys referenced by variables, as written (with their compiled forms).
pub(crate) fn var_keys<'p>(parts: &'p [TPart<'p>]) -> impl Iterator<Item = LowerKeyOf<'p>> {
    parts.iter().filter_map(|p| match p {
        TPart::Var { key, lower, .. } => Some((*key, *lower)),
        _ => None,
    })
}

/// A key as written, and its compiled form.
pub(crate) type LowerKeyOf<'a> = (&'a str, LowerKey<'a>);

/// The value of a variable: its single context value, else its default.
fn value<'x>(lower: &LowerKey, default: Option<&'x str>, ctx: &'x Context) -> Option<&'x str> {
    match ctx.get_key(lower) {
        Some([v]) => Some(v.as_str()),
        _ => default,
    }
}

/// Whether every variable in `parts` resolves; unresolvable keys are recorded as missing.
pub(crate) fn resolvable<'p>(
    parts: &'p [TPart<'p>],
    ctx: &Context,
    missing: &mut Vec<&'p str>,
) -> bool {
    let mut ok = true;
    for p in parts {
        if let TPart::Var {
            lower,
            key,
            default,
        } = p
        {
            if value(lower, *default, ctx).is_none() {
                if ctx.get_key(lower).is_none() {
                    missing.push(key);
                }
                ok = false;
            }
        }
    }
    ok
}

/// The glob token for a part (variables resolve to literal text; call [`resolvable`] first).
pub(crate) fn token<'x>(p: &'x TPart<'x>, ctx: &'x Context) -> Tok<'x> {
    match p {
        TPart::Lit(l) => Tok::Lit(l),
        TPart::Star => Tok::Star,
        TPart::One => Tok::One,
        TPart::Var { lower, default, .. } => Tok::Lit(value(lower, *default, ctx).unwrap_or("")),
    }
}

/// Wildcard match of `s` against a template (no allocation).
pub(crate) fn matches<'p>(
    parts: &'p [TPart<'p>],
    s: &str,
    ctx: &Context,
    missing: &mut Vec<&'p str>,
) -> bool {
    resolvable(parts, ctx, missing) && matches_resolved(parts, s, ctx)
}

/// Like [`matches`], once [`resolvable`] has been checked.
pub(crate) fn matches_resolved(parts: &[TPart<'_>], s: &str, ctx: &Context) -> bool {
    const N: usize = 16;
    if parts.len() <= N {
        // Resolve each variable once, on the stack.
        let mut toks = [Tok::Star; N];
        for (t, p) in toks.iter_mut().zip(parts) {
            *t = token(p, ctx);
        }
        match_tokens(parts.len(), |i| toks[i], s, false)
    } else {
        match_tokens(parts.len(), |i| token(&parts[i], ctx), s, false)
    }
}

/// Exact (case-sensitive) comparison of `s` with a template; `*`/`?` parts are literal.
pub(crate) fn equals<'p>(
    parts: &'p [TPart<'p>],
    s: &str,
    ctx: &Context,
    missing: &mut Vec<&'p str>,
) -> bool {
    if !resolvable(parts, ctx, missing) {
        return false;
    }
    let mut rest = s;
    for p in parts {
        let t = match token(p, ctx) {
            Tok::Lit(l) => l,
            Tok::Star => "*",
            Tok::One => "?",
        };
        match rest.strip_prefix(t) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    rest.is_empty()
}

/// Resolves variables into a plain string (`*`/`?` parts become literal characters).
pub(crate) fn resolve_string<'p>(
    parts: &'p [TPart<'p>],
    ctx: &Context,
    missing: &mut Vec<&'p str>,
) -> Option<String> {
    if !resolvable(parts, ctx, missing) {
        return None;
    }
    let mut out = String::new();
    for p in parts {
        match token(p, ctx) {
            Tok::Lit(l) => out.push_str(l),
            Tok::Star => out.push('*'),
            Tok::One => out.push('?'),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_variables_and_escapes() {
        let a = Arena::new();
        let p = parse(&a, "home/${aws:username}/${*}x*", true, true);
        assert_eq!(p.len(), 4);
        assert!(matches!(&p[1], TPart::Var { key, .. } if &**key == "aws:username"));
        assert_eq!(p[2], TPart::Lit("/*x"));
        assert_eq!(p[3], TPart::Star);
        let d = parse(&a, "${aws:PrincipalTag/team, 'none'}", true, false);
        assert!(matches!(&d[0], TPart::Var { default: Some(d), .. } if &**d == "none"));
        let lit = parse(&a, "${aws:username}", false, false);
        assert_eq!(lit, [TPart::Lit("${aws:username}")]);
        let unterminated = parse(&a, "a${b", true, false);
        assert_eq!(unterminated, [TPart::Lit("a${b")]);
    }

    #[test]
    fn resolves() {
        let a = Arena::new();
        let mut ctx = Context::new();
        ctx.insert("aws:username", "bob");
        let p = parse(&a, "u/${aws:username}/${aws:userid}", true, false);
        let mut missing = Vec::new();
        assert_eq!(resolve_string(p, &ctx, &mut missing), None);
        assert_eq!(missing, vec!["aws:userid"]);
        let p = parse(&a, "u/${aws:USERNAME}/${x, 'd'}", true, false);
        assert_eq!(
            resolve_string(p, &ctx, &mut missing).as_deref(),
            Some("u/bob/d")
        );
    }
}
