//! ARN patterns: `arn:partition:service:region:account:resource`, matched component by
//! component (a wildcard never spans a `:` between the first five components; the resource
//! component may itself contain `:` and `/`). A pattern with fewer than six components is
//! padded with `*` components, as AWS's parser does (`arn:aws:s3` = `arn:aws:s3:*:*:*`).

use crate::arena::{Arena, ArenaVec};
use crate::glob::{Glob, Piece};
use crate::request::Context;
use crate::vars::{self, TPart};

/// A compiled ARN pattern without policy variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArnPattern<'a> {
    /// `*`
    Any,
    /// The globs of the components after the first `known` ones, the pattern's literal text
    /// before its first wildcard (every match starts with it: a cheap first test), and
    /// `known`: how many leading components that text holds whole (a value that starts with
    /// it has those components: no need to test them, nor to keep them).
    Parts(&'a [Glob<'a>], &'a str, usize),
    /// Not ARN-shaped: the whole text as one glob.
    Whole(Glob<'a>),
}

impl<'a> ArnPattern<'a> {
    /// Compiles a pattern where `*` and `?` are wildcards (its pieces borrow from `pattern`,
    /// which should live in the arena).
    pub(crate) fn compile(arena: &'a Arena, pattern: &'a str) -> ArnPattern<'a> {
        if pattern == "*" {
            return ArnPattern::Any;
        }
        if !pattern.starts_with("arn:") {
            return ArnPattern::Whole(Glob::compile(arena, pattern));
        }
        let bytes = pattern.as_bytes();
        let head_len = bytes
            .iter()
            .position(|&b| b == b'*' || b == b'?')
            .unwrap_or(bytes.len());
        let head = &pattern[..head_len];
        ArnPattern::compile_from(arena, pattern, head, whole_components(head))
    }

    /// The pattern with its components from the `known`-th on compiled (a missing one is `*`).
    fn compile_from(
        arena: &'a Arena,
        pattern: &'a str,
        head: &'a str,
        known: usize,
    ) -> ArnPattern<'a> {
        let mut parts = ArenaVec::with_capacity_in(6 - known, arena);
        let mut rest = Some(pattern);
        for i in 0..6 {
            let component = match rest {
                Some(text) => match text.find(':') {
                    Some(at) if i < 5 => {
                        rest = Some(&text[at + 1..]);
                        &text[..at]
                    }
                    _ => {
                        rest = None;
                        text
                    }
                },
                None => "*",
            };
            if i >= known {
                parts.push(Glob::compile(arena, component));
            }
        }
        ArnPattern::Parts(parts.into_bump_slice(), head, known)
    }

    /// Whether `value` (an ARN, or anything) matches.
    pub(crate) fn matches(&self, value: &str) -> bool {
        self.matches_split(&SplitArn::new(value))
    }

    /// Like [`ArnPattern::matches`], with the value already split.
    pub(crate) fn matches_split(&self, value: &SplitArn<'_>) -> bool {
        match self {
            ArnPattern::Any => true,
            ArnPattern::Whole(g) => g.matches(value.whole),
            ArnPattern::Parts(parts, head, known) => {
                value.whole.starts_with(head)
                    && match &value.parts {
                        Some(segs) => parts
                            .iter()
                            .zip(&segs[*known..])
                            .all(|(g, seg)| g.matches(seg)),
                        None => false,
                    }
            }
        }
    }
}

/// A value split once into its six ARN components (`parts` is `None` when it has fewer).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SplitArn<'a> {
    pub(crate) whole: &'a str,
    pub(crate) parts: Option<[&'a str; 6]>,
}

impl<'a> SplitArn<'a> {
    pub(crate) fn new(whole: &'a str) -> SplitArn<'a> {
        // `splitn(6, ':')` over bytes (`:` is ASCII, so every cut is a char boundary).
        let mut parts = [""; 6];
        let mut n = 0;
        let mut start = 0;
        for (i, b) in whole.bytes().enumerate() {
            if b == b':' {
                parts[n] = &whole[start..i];
                n += 1;
                start = i + 1;
                if n == 5 {
                    break;
                }
            }
        }
        let complete = n == 5;
        if complete {
            parts[5] = &whole[start..];
        }
        SplitArn {
            whole,
            parts: complete.then_some(parts),
        }
    }
}

/// One component of an [`ArnTemplate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Segment<'a> {
    Glob(Glob<'a>),
    Tmpl(&'a [TPart<'a>]),
}

/// An ARN pattern with policy variables (variable values are literal text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArnTemplate<'a> {
    Whole(&'a [TPart<'a>]),
    /// The components after the first `known` ones, the literal text before the first
    /// wildcard or variable, and `known` (see [`ArnPattern::Parts`]).
    Parts(&'a [Segment<'a>], &'a str, usize),
}

impl<'a> ArnTemplate<'a> {
    /// Splits template parts into the six ARN components.
    pub(crate) fn compile(arena: &'a Arena, parts: &'a [TPart<'a>]) -> ArnTemplate<'a> {
        ArnTemplate::compile_from(arena, parts, 5)
    }

    /// [`ArnTemplate::compile`], keeping the components after the first `known_at_most`
    /// whole ones at least.
    fn compile_from(
        arena: &'a Arena,
        parts: &'a [TPart<'a>],
        known_at_most: usize,
    ) -> ArnTemplate<'a> {
        let starts_arn = matches!(parts.first(), Some(TPart::Lit(l)) if l.starts_with("arn:"));
        if !starts_arn {
            return ArnTemplate::Whole(parts);
        }
        // The literal text before the first wildcard or variable (the parser joins adjacent
        // literal text: one part, unless something unusual made two).
        let literal = parts
            .iter()
            .take_while(|p| matches!(p, TPart::Lit(_)))
            .count();
        let head: &'a str = match parts {
            [TPart::Lit(l), ..] if literal == 1 => l,
            _ => {
                let mut head = bumpalo::collections::String::new_in(arena);
                for part in &parts[..literal] {
                    if let TPart::Lit(l) = part {
                        head.push_str(l);
                    }
                }
                head.into_bump_str()
            }
        };
        // The components inside `head` are never tested (see `matches_split`): not built.
        let known = whole_components(head).min(known_at_most);
        // The parts cut at the `:` of their literal text, in one list, and where each of
        // the six components starts in it (a missing component is `*`).
        let mut flat = ArenaVec::with_capacity_in(parts.len() + 6, arena);
        let mut starts = [0usize; 7];
        let mut n = 1;
        for &part in parts {
            match part {
                TPart::Lit(l) if n < 6 && l.contains(':') => {
                    let mut rest: &'a str = l;
                    while n < 6 {
                        match rest.find(':') {
                            Some(i) => {
                                if i > 0 && n > known {
                                    flat.push(TPart::Lit(&rest[..i]));
                                }
                                starts[n] = flat.len();
                                n += 1;
                                rest = &rest[i + 1..];
                            }
                            None => break,
                        }
                    }
                    if !rest.is_empty() {
                        flat.push(TPart::Lit(rest));
                    }
                }
                other => flat.push(other),
            }
        }
        while n < 6 {
            starts[n] = flat.len();
            flat.push(TPart::Star);
            n += 1;
        }
        starts[6] = flat.len();
        let flat: &'a [TPart<'a>] = flat.into_bump_slice();
        // The components inside `head` are never tested (see `matches_split`): not kept.
        let mut segments = ArenaVec::with_capacity_in(6 - known, arena);
        for i in known..6 {
            let seg = &flat[starts[i]..starts[i + 1]];
            segments.push(if seg.iter().any(|p| matches!(p, TPart::Var { .. })) {
                Segment::Tmpl(seg)
            } else {
                let mut pieces = ArenaVec::with_capacity_in(seg.len(), arena);
                pieces.extend(seg.iter().map(|p| match p {
                    TPart::Lit(l) => Piece::Lit(l),
                    TPart::Star => Piece::Star,
                    _ => Piece::One,
                }));
                Segment::Glob(Glob::from_pieces(arena, &pieces))
            });
        }
        ArnTemplate::Parts(segments.into_bump_slice(), head, known)
    }

    /// Whether `value` matches; unresolvable variables make it not match (and are recorded).
    pub(crate) fn matches<'p>(
        &'p self,
        value: &str,
        ctx: &Context,
        missing: &mut Vec<&'p str>,
    ) -> bool {
        self.matches_split(&SplitArn::new(value), ctx, missing)
    }

    /// Like [`ArnTemplate::matches`], with the value already split.
    pub(crate) fn matches_split<'p>(
        &'p self,
        value: &SplitArn<'_>,
        ctx: &Context,
        missing: &mut Vec<&'p str>,
    ) -> bool {
        match self {
            ArnTemplate::Whole(parts) => vars::matches(parts, value.whole, ctx, missing),
            ArnTemplate::Parts(segs, head, known) => {
                if !value.whole.starts_with(head) {
                    return false;
                }
                let mut ok = true;
                for seg in segs.iter() {
                    if let Segment::Tmpl(t) = seg {
                        ok &= vars::resolvable(t, ctx, missing);
                    }
                }
                if !ok {
                    return false;
                }
                let Some(values) = &value.parts else {
                    return false;
                };
                segs.iter()
                    .zip(&values[*known..])
                    .all(|(seg, v)| match seg {
                        Segment::Glob(g) => g.matches(v),
                        Segment::Tmpl(t) => vars::matches_resolved(t, v, ctx),
                    })
            }
        }
    }
}

/// How many of the first five ARN components the literal prefix `head` holds whole.
fn whole_components(head: &str) -> usize {
    head.bytes().filter(|&b| b == b':').count().min(5)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arena::leaked;

    fn pat(s: &'static str) -> ArnPattern<'static> {
        ArnPattern::compile(leaked(), s)
    }

    #[test]
    fn known_components_change_nothing() {
        let mut ctx = Context::new();
        ctx.insert("aws:username", "bob");
        let pats = [
            "arn:aws:s3:::bucket/*",
            "arn:aws:s3:::b",
            "arn:aws:s3",
            "arn:aws:s3:",
            "arn:aws:iam::1:user/${aws:username}",
            "arn:aws:iam::1:user/a:b:c",
            "arn:a${*}:s3:::x",
            "arn:aws:*:r:1:x",
            "arn:",
        ];
        let values = [
            "arn:aws:s3:::bucket/k",
            "arn:aws:s3:::b",
            "arn:aws:s3x:::b",
            "arn:aws:s3:r:1:b",
            "arn:aws:iam::1:user/bob",
            "arn:aws:iam::1:user/a:b:c",
            "arn:a*:s3:::x",
            "arn:aws:ec2:r:1:x",
            "arn:aws:s3",
            "arn::::",
        ];
        for p in pats {
            let compiled = ArnTemplate::compile(leaked(), vars::parse(leaked(), p, true, true));
            let naive =
                ArnTemplate::compile_from(leaked(), vars::parse(leaked(), p, true, true), 0);
            assert!(matches!(naive, ArnTemplate::Parts(_, _, 0)), "{p}");
            let stat = pat(p);
            let ArnPattern::Parts(_, head, _) = &stat else {
                panic!("{p}");
            };
            let naive_stat = ArnPattern::compile_from(leaked(), p, head, 0);
            for v in values {
                let mut m = Vec::new();
                assert_eq!(
                    compiled.matches(v, &ctx, &mut m),
                    naive.matches(v, &ctx, &mut m),
                    "{p} {v}"
                );
                assert_eq!(stat.matches(v), naive_stat.matches(v), "{p} {v}");
            }
        }
    }

    #[test]
    fn templates() {
        let mut ctx = Context::new();
        ctx.insert("aws:username", "bob");
        let t = ArnTemplate::compile(
            leaked(),
            vars::parse(leaked(), "arn:aws:iam::*:user/${aws:username}", true, true),
        );
        let mut missing = Vec::new();
        assert!(t.matches("arn:aws:iam::1:user/bob", &ctx, &mut missing));
        assert!(!t.matches("arn:aws:iam::1:user/bobby", &ctx, &mut missing));
        let u = ArnTemplate::compile(
            leaked(),
            vars::parse(leaked(), "arn:aws:iam::*:user/${aws:userid}", true, true),
        );
        assert!(!u.matches("arn:aws:iam::1:user/bob", &ctx, &mut missing));
        assert_eq!(missing, vec!["aws:userid"]);
    }

    #[test]
    fn component_matching() {
        assert!(pat("*").matches("anything"));
        assert!(pat("arn:aws:s3:::bucket/*").matches("arn:aws:s3:::bucket/a/b:c"));
        assert!(!pat("arn:aws:s3:::bucket/*").matches("arn:aws:s3:::other/a"));
        assert!(pat("arn:aws:iam::*:user/*").matches("arn:aws:iam::123456789012:user/x"));
        // a wildcard does not span components
        assert!(!pat("arn:aws:iam:*:user/x").matches("arn:aws:iam::123:user/x"));
        assert!(pat("arn:aws:*").matches("arn:aws:iam::123:user/x"));
        assert!(pat("arn:aws:iam").matches("arn:aws:iam::123:user/x"));
        assert!(!pat("arn:aws:iam").matches("arn:aws:s3:::b"));
        assert!(pat("arn:aws:ec2:us-east-?:*:instance/*")
            .matches("arn:aws:ec2:us-east-1:1:instance/i-1"));
        assert!(!pat("arn:aws:s3:::b").matches("*"));
        assert!(!pat("arn:aws:s3:::b").matches("arn:aws:s3:::B"));
    }
}
