//! Statement positions in the original policy text, as IAM's simulator reports them
//! (`StartPosition` / `EndPosition`): 1-based line and column of the statement object's `{`,
//! and the position just after its `}`. Columns count characters.

/// A 1-based line/column position in a policy document.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

/// A second, independent way to find the statements: a structural scan of the text. The JSON
/// reader notes positions while it reads (see [`crate::json`]); this is its test oracle.
#[cfg(test)]
pub(crate) mod oracle {
    use super::Position;

    /// Bytes that open or close a string, an object or an array.
    static STRUCTURAL: [bool; 256] = table(b"\"{}[]");
    /// Bytes that end a run of plain string content (a raw line feed is not valid JSON).
    static STRING_SPECIAL: [bool; 256] = table(b"\"\\\n");

    const fn table(bytes: &[u8]) -> [bool; 256] {
        let mut t = [false; 256];
        let mut i = 0;
        while i < bytes.len() {
            t[bytes[i] as usize] = true;
            i += 1;
        }
        t
    }

    /// A structural scan of the JSON text, in byte offsets (converted to line/column at the end).
    struct Scan<'a> {
        b: &'a [u8],
        i: usize,
    }

    impl<'a> Scan<'a> {
        fn peek(&self) -> Option<u8> {
            self.b.get(self.i).copied()
        }
        fn bump(&mut self) -> Option<u8> {
            let c = self.peek()?;
            self.i += 1;
            Some(c)
        }
        fn ws(&mut self) {
            while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                self.i += 1;
            }
        }
        fn expect(&mut self, c: u8) -> Option<()> {
            self.ws();
            (self.bump()? == c).then_some(())
        }
        /// A string; returns its raw (still escaped) content.
        fn string(&mut self) -> Option<&'a [u8]> {
            self.expect(b'"')?;
            let b: &'a [u8] = self.b;
            let start = self.i;
            let mut i = start;
            loop {
                match *b.get(i)? {
                    b'"' => break,
                    b'\\' => i += 2,
                    // Not valid JSON.
                    b'\n' => return None,
                    _ => i += 1,
                }
            }
            self.i = i + 1;
            b.get(start..i)
        }
        /// Skips one value. Only brackets outside strings are counted: the text is JSON that
        /// the parser already accepted.
        fn value(&mut self) -> Option<()> {
            self.ws();
            match self.peek()? {
                b'"' => self.string().map(|_| ()),
                b'{' | b'[' => {
                    let b = self.b;
                    let mut i = self.i + 1;
                    let mut depth = 1usize;
                    loop {
                        while b.get(i).is_some_and(|&c| !STRUCTURAL[usize::from(c)]) {
                            i += 1;
                        }
                        match *b.get(i)? {
                            b'"' => {
                                i += 1;
                                loop {
                                    while b.get(i).is_some_and(|&c| !STRING_SPECIAL[usize::from(c)])
                                    {
                                        i += 1;
                                    }
                                    match *b.get(i)? {
                                        b'"' => break,
                                        b'\\' => i += 2,
                                        _ => return None,
                                    }
                                }
                            }
                            b'{' | b'[' => depth += 1,
                            b'}' | b']' => {
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                            }
                            _ => {}
                        }
                        i += 1;
                    }
                    self.i = i + 1;
                    Some(())
                }
                _ => {
                    let start = self.i;
                    while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
                    {
                        self.i += 1;
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
        /// A statement element: records the byte span of an object.
        fn statement(&mut self, out: &mut Vec<(usize, usize)>) -> Option<()> {
            self.ws();
            if self.peek() == Some(b'{') {
                let start = self.i;
                self.value()?;
                out.push((start, self.i));
                Some(())
            } else {
                self.value()
            }
        }
    }

    /// Converts increasing byte offsets into positions: a line feed starts a new line, every
    /// other character (not byte) moves one column.
    struct Positions<'a> {
        b: &'a [u8],
        at: usize,
        pos: Position,
    }

    impl Positions<'_> {
        fn at(&mut self, offset: usize) -> Position {
            let seg = self.b.get(self.at..offset).unwrap_or_default();
            let chars = |s: &[u8]| s.iter().map(|&c| u32::from(c & 0xC0 != 0x80)).sum::<u32>();
            match seg.iter().rposition(|&c| c == b'\n') {
                Some(last) => {
                    self.pos.line += seg.iter().map(|&c| u32::from(c == b'\n')).sum::<u32>();
                    self.pos.column = 1 + chars(&seg[last + 1..]);
                }
                None => self.pos.column += chars(seg),
            }
            self.at = offset;
            self.pos
        }
    }

    /// The spans of the statements of the (last) top-level `Statement` element, in order.
    /// Empty when the text cannot be scanned.
    pub(crate) fn statement_spans(text: &str) -> Vec<(Position, Position)> {
        let mut s = Scan {
            b: text.as_bytes(),
            i: 0,
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
        if ok.is_none() {
            return Vec::new();
        }
        let mut positions = Positions {
            b: text.as_bytes(),
            at: 0,
            pos: Position { line: 1, column: 1 },
        };
        spans
            .into_iter()
            .map(|(start, end)| (positions.at(start), positions.at(end)))
            .collect()
    }

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
}
