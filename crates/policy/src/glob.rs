//! A small, allocation-free glob matcher for IAM wildcards: `*` (any run of characters,
//! possibly empty) and `?` (exactly one character).

use crate::text::Text;

/// One piece of a compiled glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Literal text (never contains wildcard semantics, even if it holds `*` or `?`).
    Lit(Text),
    /// `*`
    Star,
    /// `?`
    One,
}

/// A compiled glob with fast paths for the common shapes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Glob {
    /// `*` alone: matches everything.
    #[default]
    Any,
    /// No wildcard at all.
    Exact(Text),
    /// `literal*`
    Prefix(Text),
    /// Anything else.
    Pieces(Box<[Piece]>),
}

impl Glob {
    /// Compiles `pattern`, where `*` and `?` are wildcards.
    pub(crate) fn compile(pattern: &str) -> Glob {
        let bytes = pattern.as_bytes();
        let Some(first) = bytes.iter().position(|&b| b == b'*' || b == b'?') else {
            return Glob::Exact(Text::from(pattern));
        };
        if first + 1 == bytes.len() && bytes[first] == b'*' {
            return if first == 0 {
                Glob::Any
            } else {
                Glob::Prefix(Text::from(&pattern[..first]))
            };
        }
        Glob::from_pieces(pieces_of(pattern))
    }

    /// Builds a glob from pieces, merging adjacent literals and stars.
    pub(crate) fn from_pieces(pieces: Vec<Piece>) -> Glob {
        let normal = pieces.windows(2).all(|w| {
            !matches!(
                w,
                [Piece::Star, Piece::Star] | [Piece::Lit(_), Piece::Lit(_)]
            )
        }) && !pieces
            .iter()
            .any(|p| matches!(p, Piece::Lit(l) if l.is_empty()));
        if normal && pieces.len() > 2 {
            // Already as merging would leave it, and not one of the short shapes.
            return Glob::Pieces(pieces.into_boxed_slice());
        }
        let mut out: Vec<Piece> = Vec::with_capacity(pieces.len());
        for p in pieces {
            match (out.last_mut(), p) {
                (Some(Piece::Star), Piece::Star) => {}
                (Some(Piece::Lit(prev)), Piece::Lit(l)) => {
                    let mut s = Text::with_capacity(prev.len() + l.len());
                    s.push_str(prev);
                    s.push_str(&l);
                    *prev = Text::from(s);
                }
                (_, Piece::Lit(l)) if l.is_empty() => {}
                (_, p) => out.push(p),
            }
        }
        match out.as_slice() {
            [] => return Glob::Exact(Text::from("")),
            [Piece::Star] => return Glob::Any,
            [Piece::Lit(_)] | [Piece::Lit(_), Piece::Star] => {}
            _ => return Glob::Pieces(out.into_boxed_slice()),
        }
        // One literal, maybe followed by a star: keep the literal without copying it.
        let prefix = out.len() == 2;
        match out.into_iter().next() {
            Some(Piece::Lit(l)) if prefix => Glob::Prefix(l),
            Some(Piece::Lit(l)) => Glob::Exact(l),
            _ => Glob::Exact(Text::from("")),
        }
    }

    /// The same glob with its literal text ASCII-lower-cased (in place).
    pub(crate) fn into_ascii_lowercase(mut self) -> Glob {
        match &mut self {
            Glob::Any => {}
            Glob::Exact(l) | Glob::Prefix(l) => l.make_ascii_lowercase(),
            Glob::Pieces(pieces) => {
                for p in pieces.iter_mut() {
                    if let Piece::Lit(l) = p {
                        l.make_ascii_lowercase();
                    }
                }
            }
        }
        self
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

/// Splits a wildcard pattern into pieces.
pub(crate) fn pieces_of(pattern: &str) -> Vec<Piece> {
    // Sized exactly: each wildcard, and each run of literal text between them.
    let mut count = 0;
    let mut in_literal = false;
    for b in pattern.bytes() {
        let wild = b == b'*' || b == b'?';
        count += usize::from(wild || !in_literal);
        in_literal = !wild;
    }
    let mut out = Vec::with_capacity(count);
    // `*` and `?` are ASCII: every cut is a character boundary.
    let mut run = 0;
    for (i, b) in pattern.bytes().enumerate() {
        if b == b'*' || b == b'?' {
            if run < i {
                out.push(Piece::Lit(Text::from(&pattern[run..i])));
            }
            out.push(if b == b'*' { Piece::Star } else { Piece::One });
            run = i + 1;
        }
    }
    if run < pattern.len() {
        out.push(Piece::Lit(Text::from(&pattern[run..])));
    }
    out
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
        assert!(Glob::compile("*").matches(""));
        assert!(Glob::compile("iam:*").matches_ci("IAM:CreateUser"));
        assert!(!Glob::compile("iam:*").matches("s3:GetObject"));
        assert!(Glob::compile("iam:*User").matches_ci("iam:createuser"));
        assert!(Glob::compile("a?c").matches("abc"));
        assert!(!Glob::compile("a?c").matches("ac"));
        assert!(Glob::compile("a*b*c").matches("aXXbYYc"));
        assert!(!Glob::compile("a*b*c").matches("aXXbYY"));
        assert!(Glob::compile("*a*").matches("bab"));
        assert!(Glob::compile("é?").matches("éü"));
        assert!(Glob::compile("a*?").matches("ab"));
        assert!(!Glob::compile("a*?").matches("a"));
        assert!(Glob::compile("").matches(""));
        assert!(!Glob::compile("").matches("x"));
        assert!(Glob::compile("**a").matches("a"));
        for p in ["*", "S3:GetObject", "S3:Get*", "IAM:*Access?Key*", ""] {
            assert_eq!(
                Glob::compile(p).into_ascii_lowercase(),
                Glob::compile(&p.to_ascii_lowercase())
            );
        }
    }
}
