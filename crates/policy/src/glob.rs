//! A small, allocation-free glob matcher for IAM wildcards: `*` (any run of characters,
//! possibly empty) and `?` (exactly one character). Compiled globs live in a policy's arena.

use crate::arena::{Arena, ArenaVec};

/// One piece of a compiled glob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece<'a> {
    /// Literal text (never contains wildcard semantics, even if it holds `*` or `?`).
    Lit(&'a str),
    /// `*`
    Star,
    /// `?`
    One,
}

/// A compiled glob with fast paths for the common shapes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Glob<'a> {
    /// `*` alone: matches everything.
    #[default]
    Any,
    /// No wildcard at all.
    Exact(&'a str),
    /// `literal*`
    Prefix(&'a str),
    /// Anything else.
    Pieces(&'a [Piece<'a>]),
}

impl<'a> Glob<'a> {
    /// Compiles `pattern`, where `*` and `?` are wildcards. Literal pieces borrow from
    /// `pattern`: it should live in the arena (or longer).
    pub(crate) fn compile(arena: &'a Arena, pattern: &'a str) -> Glob<'a> {
        let bytes = pattern.as_bytes();
        let Some(first) = bytes.iter().position(|&b| b == b'*' || b == b'?') else {
            return Glob::Exact(pattern);
        };
        if first + 1 == bytes.len() && bytes[first] == b'*' {
            return if first == 0 {
                Glob::Any
            } else {
                Glob::Prefix(&pattern[..first])
            };
        }
        let pieces = pieces_of(arena, pattern);
        if pieces
            .windows(2)
            .any(|w| matches!(w, [Piece::Star, Piece::Star]))
        {
            // `**`: merged by `from_pieces`.
            return Glob::from_pieces(arena, pieces);
        }
        Glob::Pieces(pieces)
    }

    /// Builds a glob from pieces, merging adjacent literals and stars.
    pub(crate) fn from_pieces(arena: &'a Arena, pieces: &[Piece<'a>]) -> Glob<'a> {
        let mut out: ArenaVec<'a, Piece<'a>> = ArenaVec::with_capacity_in(pieces.len(), arena);
        for &p in pieces {
            match (out.last_mut(), p) {
                (Some(Piece::Star), Piece::Star) => {}
                (Some(Piece::Lit(prev)), Piece::Lit(l)) => {
                    let mut joined =
                        bumpalo::collections::String::with_capacity_in(prev.len() + l.len(), arena);
                    joined.push_str(prev);
                    joined.push_str(l);
                    *prev = joined.into_bump_str();
                }
                (_, Piece::Lit("")) => {}
                (_, p) => out.push(p),
            }
        }
        match out.as_slice() {
            [] => Glob::Exact(""),
            [Piece::Star] => Glob::Any,
            [Piece::Lit(l)] => Glob::Exact(l),
            [Piece::Lit(l), Piece::Star] => Glob::Prefix(l),
            _ => Glob::Pieces(out.into_bump_slice()),
        }
    }

    /// Case-sensitive match of the whole of `s`.
    pub(crate) fn matches(&self, s: &str) -> bool {
        self.matches_with(s, false)
    }

    /// ASCII-case-insensitive match of the whole of `s`.
    pub(crate) fn matches_ci(&self, s: &str) -> bool {
        self.matches_with(s, true)
    }

    #[inline(always)]
    fn matches_with(&self, s: &str, ci: bool) -> bool {
        match self {
            Glob::Any => true,
            Glob::Exact(l) => {
                if ci {
                    bytes_eq_ci(l.as_bytes(), s.as_bytes())
                } else {
                    bytes_eq(l.as_bytes(), s.as_bytes())
                }
            }
            Glob::Prefix(l) => eq_at(s.as_bytes(), 0, l.as_bytes(), ci),
            Glob::Pieces(p) => match_pieces(p, s, ci),
        }
    }
}

/// Splits a wildcard pattern into pieces (literal pieces borrow from `pattern`).
pub(crate) fn pieces_of<'a>(arena: &'a Arena, pattern: &'a str) -> &'a [Piece<'a>] {
    // Sized exactly: each wildcard, and each run of literal text between them.
    let mut count = 0;
    let mut in_literal = false;
    for b in pattern.bytes() {
        let wild = b == b'*' || b == b'?';
        count += usize::from(wild || !in_literal);
        in_literal = !wild;
    }
    let mut out = ArenaVec::with_capacity_in(count, arena);
    // `*` and `?` are ASCII: every cut is a character boundary.
    let mut run = 0;
    for (i, b) in pattern.bytes().enumerate() {
        if b == b'*' || b == b'?' {
            if run < i {
                out.push(Piece::Lit(&pattern[run..i]));
            }
            out.push(if b == b'*' { Piece::Star } else { Piece::One });
            run = i + 1;
        }
    }
    if run < pattern.len() {
        out.push(Piece::Lit(&pattern[run..]));
    }
    out.into_bump_slice()
}

fn eq_at(s: &[u8], at: usize, lit: &[u8], ci: bool) -> bool {
    match s.get(at..at + lit.len()) {
        Some(window) => {
            if ci {
                bytes_eq_ci(window, lit)
            } else {
                bytes_eq(window, lit)
            }
        }
        None => false,
    }
}

/// `a.eq_ignore_ascii_case(b)`, inline (`[u8]::eq_ignore_ascii_case` is slower on the short
/// texts of actions).
#[inline]
fn bytes_eq_ci(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_ignore_ascii_case(y))
}

/// `a == b`, inline for short slices (most literals of actions and ARNs): cheaper than a call
/// to `memcmp`, and most mismatches differ in the first byte.
#[inline]
pub(crate) fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if a.len() > 16 {
        return a == b;
    }
    a.iter().zip(b).all(|(x, y)| x == y)
}

/// Width in bytes of the UTF-8 character starting at `s[i]` (`i` is a char boundary).
fn char_width(s: &[u8], i: usize) -> usize {
    match s.get(i) {
        Some(b) if *b < 0x80 => 1,
        Some(b) if *b >= 0xF0 => 4,
        Some(b) if *b >= 0xE0 => 3,
        Some(_) => 2,
        None => 1,
    }
}

fn match_pieces(p: &[Piece], s: &str, ci: bool) -> bool {
    match_tokens(
        p.len(),
        |i| match &p[i] {
            Piece::Lit(l) => Tok::Lit(l),
            Piece::Star => Tok::Star,
            Piece::One => Tok::One,
        },
        s,
        ci,
    )
}

/// A glob token, literal text borrowed from wherever it lives.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Tok<'a> {
    Lit(&'a str),
    Star,
    One,
}

/// Matches the whole of `s` against the `n` tokens produced by `tok` (iterative, with
/// backtracking to the last star only: linear in practice, no allocation).
pub(crate) fn match_tokens<'a>(
    n: usize,
    tok: impl Fn(usize) -> Tok<'a>,
    s: &str,
    ci: bool,
) -> bool {
    let sb = s.as_bytes();
    let (mut pi, mut si) = (0usize, 0usize);
    // (index of the token after the last star, position in s it currently absorbs up to)
    let mut star: Option<(usize, usize)> = None;
    loop {
        if pi < n {
            match tok(pi) {
                Tok::Star => {
                    if pi + 1 == n {
                        return true;
                    }
                    star = Some((pi + 1, si));
                    pi += 1;
                    continue;
                }
                Tok::One => {
                    if si < sb.len() {
                        si += char_width(sb, si);
                        pi += 1;
                        continue;
                    }
                }
                Tok::Lit(l) => {
                    if eq_at(sb, si, l.as_bytes(), ci) {
                        si += l.len();
                        pi += 1;
                        continue;
                    }
                }
            }
        } else if si >= sb.len() {
            return true;
        }
        match star {
            Some((spi, ssi)) if ssi < sb.len() => {
                let next = ssi + char_width(sb, ssi);
                star = Some((spi, next));
                pi = spi;
                si = next;
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basics() {
        let a = Arena::new();
        assert!(Glob::compile(&a, "*").matches(""));
        assert!(Glob::compile(&a, "iam:*").matches_ci("IAM:CreateUser"));
        assert!(!Glob::compile(&a, "iam:*").matches("s3:GetObject"));
        assert!(Glob::compile(&a, "iam:*User").matches_ci("iam:createuser"));
        assert!(Glob::compile(&a, "a?c").matches("abc"));
        assert!(!Glob::compile(&a, "a?c").matches("ac"));
        assert!(Glob::compile(&a, "a*b*c").matches("aXXbYYc"));
        assert!(!Glob::compile(&a, "a*b*c").matches("aXXbYY"));
        assert!(Glob::compile(&a, "*a*").matches("bab"));
        assert!(Glob::compile(&a, "é?").matches("éü"));
        assert!(Glob::compile(&a, "a*?").matches("ab"));
        assert!(!Glob::compile(&a, "a*?").matches("a"));
        assert!(Glob::compile(&a, "").matches(""));
        assert!(!Glob::compile(&a, "").matches("x"));
        assert!(Glob::compile(&a, "**a").matches("a"));
    }
}
