//! Policy variables: `${aws:username}`, `${aws:PrincipalTag/team}`, `${key, 'default'}` and
//! the escapes `${*}`, `${?}`, `${$}`. Only recognised in `Version: 2012-10-17` policies.

use crate::glob::{match_tokens, Tok};
use crate::request::{Context, LowerKey};
use crate::text::Text;

/// One piece of a value that may contain policy variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TPart {
    Lit(Text),
    Star,
    One,
    Var {
        /// Lower-cased, hashed key, for lookup.
        lower: LowerKey,
        /// Key as written, for reporting.
        key: Text,
        default: Option<Text>,
    },
}

/// Splits `text` into parts. `vars`: recognise `${…}`; `wildcards`: `*`/`?` are wildcards.
pub(crate) fn parse(text: &str, vars: bool, wildcards: bool) -> Vec<TPart> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let bytes = text.as_bytes();
    // `run..i` is literal text not yet copied into `lit`; specials are ASCII, so every `i`
    // that stops on one is a character boundary.
    let mut run = 0;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if vars && b == b'$' && bytes.get(i + 1) == Some(&b'{') {
            let inner = text
                .get(i + 2..)
                .and_then(|rest| Some(&rest[..rest.find('}')?]));
            if let Some(part) = inner.and_then(variable) {
                lit.push_str(&text[run..i]);
                match part {
                    TPart::Lit(l) => lit.push_str(&l),
                    other => {
                        flush(&mut out, &mut lit);
                        out.push(other);
                    }
                }
                i += 2 + inner.map_or(0, str::len) + 1;
                run = i;
                continue;
            }
        }
        if wildcards && (b == b'*' || b == b'?') {
            lit.push_str(&text[run..i]);
            flush(&mut out, &mut lit);
            out.push(if b == b'*' { TPart::Star } else { TPart::One });
            run = i + 1;
        }
        i += 1;
    }
    if lit.is_empty() {
        // The usual case: a literal run straight from the text.
        if run < text.len() {
            out.push(TPart::Lit(Text::from(&text[run..])));
        }
    } else {
        lit.push_str(&text[run..]);
        flush(&mut out, &mut lit);
    }
    out
}

fn flush(out: &mut Vec<TPart>, lit: &mut String) {
    if !lit.is_empty() {
        out.push(TPart::Lit(Text::from(lit.as_str())));
        lit.clear();
    }
}

/// Interprets the text between `${` and `}`.
fn variable(inner: &str) -> Option<TPart> {
    let t = inner.trim();
    match t {
        "*" | "?" | "$" => return Some(TPart::Lit(Text::from(t))),
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
            (k.trim(), Some(Text::from(d)))
        }
        None => (t, None),
    };
    if key.is_empty() || key.contains(char::is_whitespace) {
        return None;
    }
    Some(TPart::Var {
        lower: LowerKey::new(key),
        key: Text::from(key),
        default,
    })
}

/// Keys referenced by variables, as written.
pub(crate) fn var_keys(parts: &[TPart]) -> impl Iterator<Item = &str> {
    parts.iter().filter_map(|p| match p {
        TPart::Var { key, .. } => Some(&**key),
        _ => None,
    })
}

/// The value of a variable: its single context value, else its default.
fn value<'x>(lower: &LowerKey, default: Option<&'x str>, ctx: &'x Context) -> Option<&'x str> {
    match ctx.get_key(lower) {
        Some([v]) => Some(v.as_str()),
        _ => default,
    }
}

/// Whether every variable in `parts` resolves; unresolvable keys are recorded as missing.
pub(crate) fn resolvable<'p>(
    parts: &'p [TPart],
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
            if value(lower, default.as_deref(), ctx).is_none() {
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
pub(crate) fn token<'x>(p: &'x TPart, ctx: &'x Context) -> Tok<'x> {
    match p {
        TPart::Lit(l) => Tok::Lit(l),
        TPart::Star => Tok::Star,
        TPart::One => Tok::One,
        TPart::Var { lower, default, .. } => {
            Tok::Lit(value(lower, default.as_deref(), ctx).unwrap_or(""))
        }
    }
}

/// Wildcard match of `s` against a template (no allocation).
pub(crate) fn matches<'p>(
    parts: &'p [TPart],
    s: &str,
    ctx: &Context,
    missing: &mut Vec<&'p str>,
) -> bool {
    resolvable(parts, ctx, missing) && matches_resolved(parts, s, ctx)
}

/// Like [`matches`], once [`resolvable`] has been checked.
pub(crate) fn matches_resolved(parts: &[TPart], s: &str, ctx: &Context) -> bool {
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
    parts: &'p [TPart],
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
    parts: &'p [TPart],
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
        let p = parse("home/${aws:username}/${*}x*", true, true);
        assert_eq!(p.len(), 4);
        assert!(matches!(&p[1], TPart::Var { key, .. } if &**key == "aws:username"));
        assert_eq!(p[2], TPart::Lit(Text::from("/*x")));
        assert_eq!(p[3], TPart::Star);
        let d = parse("${aws:PrincipalTag/team, 'none'}", true, false);
        assert!(matches!(&d[0], TPart::Var { default: Some(d), .. } if &**d == "none"));
        let lit = parse("${aws:username}", false, false);
        assert_eq!(lit, vec![TPart::Lit(Text::from("${aws:username}"))]);
        let unterminated = parse("a${b", true, false);
        assert_eq!(unterminated, vec![TPart::Lit(Text::from("a${b"))]);
    }

    #[test]
    fn resolves() {
        let mut ctx = Context::new();
        ctx.insert("aws:username", "bob");
        let p = parse("u/${aws:username}/${aws:userid}", true, false);
        let mut missing = Vec::new();
        assert_eq!(resolve_string(&p, &ctx, &mut missing), None);
        assert_eq!(missing, vec!["aws:userid"]);
        let p = parse("u/${aws:USERNAME}/${x, 'd'}", true, false);
        assert_eq!(
            resolve_string(&p, &ctx, &mut missing).as_deref(),
            Some("u/bob/d")
        );
    }
}
