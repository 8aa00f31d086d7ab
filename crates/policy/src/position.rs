//! Statement positions in the original policy text, as IAM's simulator reports them
//! (`StartPosition` / `EndPosition`): 1-based line and column of the statement object's `{`,
//! and the position just after its `}`. Columns count characters.

/// A 1-based line/column position in a policy document.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

struct Scan<'a> {
    b: &'a [u8],
    i: usize,
    line: u32,
    col: u32,
}

impl<'a> Scan<'a> {
    fn pos(&self) -> Position {
        Position {
            line: self.line,
            column: self.col,
        }
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn bump(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        if c == b'\n' {
            self.line += 1;
            self.col = 1;
        } else if c & 0xC0 != 0x80 {
            self.col += 1;
        }
        Some(c)
    }
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.bump();
        }
    }
    fn expect(&mut self, c: u8) -> Option<()> {
        self.ws();
        (self.bump()? == c).then_some(())
    }
    /// A string; returns its raw (still escaped) content. (JSON strings hold no raw line
    /// breaks, so only the column moves.)
    fn string(&mut self) -> Option<&'a [u8]> {
        self.expect(b'"')?;
        let b: &'a [u8] = self.b;
        let start = self.i;
        let mut i = start;
        let mut cols = 0u32;
        loop {
            let c = *b.get(i)?;
            match c {
                b'"' => break,
                b'\\' => {
                    i += 2;
                    cols += 2;
                }
                b'\n' => {
                    // Not valid JSON; fall back to exact tracking.
                    return None;
                }
                _ => {
                    if c & 0xC0 != 0x80 {
                        cols += 1;
                    }
                    i += 1;
                }
            }
        }
        self.i = i + 1;
        self.col += cols + 1;
        b.get(start..i)
    }
    fn value(&mut self) -> Option<()> {
        self.ws();
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b'{' => self.object(|_, s| s.value()),
            b'[' => self.array(|s| s.value()),
            _ => {
                let start = self.i;
                while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
                {
                    self.bump();
                }
                (self.i > start).then_some(())
            }
        }
    }
    fn object(&mut self, mut on: impl FnMut(&[u8], &mut Self) -> Option<()>) -> Option<()> {
        self.expect(b'{')?;
        self.ws();
        if self.peek() == Some(b'}') {
            self.bump();
            return Some(());
        }
        loop {
            let key = self.string()?;
            self.expect(b':')?;
            on(key, self)?;
            self.ws();
            match self.bump()? {
                b',' => continue,
                b'}' => return Some(()),
                _ => return None,
            }
        }
    }
    fn array(&mut self, mut on: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.expect(b'[')?;
        self.ws();
        if self.peek() == Some(b']') {
            self.bump();
            return Some(());
        }
        loop {
            on(self)?;
            self.ws();
            match self.bump()? {
                b',' => continue,
                b']' => return Some(()),
                _ => return None,
            }
        }
    }
    /// A statement element: records the span of an object.
    fn statement(&mut self, out: &mut Vec<(Position, Position)>) -> Option<()> {
        self.ws();
        if self.peek() == Some(b'{') {
            let start = self.pos();
            self.value()?;
            out.push((start, self.pos()));
            Some(())
        } else {
            self.value()
        }
    }
}

/// The spans of the statements of the (last) top-level `Statement` element, in order.
/// Empty when the text cannot be scanned.
pub(crate) fn statement_spans(text: &str) -> Vec<(Position, Position)> {
    let mut s = Scan {
        b: text.as_bytes(),
        i: 0,
        line: 1,
        col: 1,
    };
    let mut spans = Vec::new();
    let ok = s.object(|key, s| {
        if key == b"Statement" {
            spans.clear();
            s.ws();
            if s.peek() == Some(b'[') {
                let mut found = Vec::new();
                s.array(|s| s.statement(&mut found))?;
                spans = found;
                Some(())
            } else {
                s.statement(&mut spans)
            }
        } else {
            s.value()
        }
    });
    if ok.is_some() {
        spans
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: u32, column: u32) -> Position {
        Position { line, column }
    }

    #[test]
    fn spans() {
        let text = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\"},\n    {\n      \"Sid\": \"é\"\n    }\n  ]\n}";
        let s = statement_spans(text);
        assert_eq!(s, vec![(p(4, 5), p(4, 24)), (p(5, 5), p(7, 6))]);
        let single = statement_spans(r#"{"Statement": {"Effect": "Allow"}}"#);
        assert_eq!(single, vec![(p(1, 15), p(1, 34))]);
        assert!(statement_spans("nonsense").is_empty());
    }
}
