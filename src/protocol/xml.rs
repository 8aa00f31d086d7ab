//! Query-protocol output: AWS's XML envelope and a small, allocation-light XML writer.

use time::OffsetDateTime;

/// Appends XML to one buffer; element text is escaped.
#[derive(Debug, Default)]
pub struct XmlWriter {
    buf: String,
}

impl XmlWriter {
    pub fn with_capacity(n: usize) -> Self {
        XmlWriter {
            buf: String::with_capacity(n),
        }
    }

    pub fn start(&mut self, name: &str) {
        self.buf.push('<');
        self.buf.push_str(name);
        self.buf.push('>');
    }

    pub fn end(&mut self, name: &str) {
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push('>');
    }

    pub fn raw(&mut self, s: &str) {
        self.buf.push_str(s);
    }

    /// Escaped text. Characters XML 1.0 cannot carry at all (the C0 controls but tab, line feed
    /// and carriage return; U+FFFE and U+FFFF), which an echoed input may hold, become U+FFFD: the
    /// answer stays a document every client can parse.
    /// Text content, escaped; characters XML 1.0 cannot carry (control characters other than
    /// tab, newline and carriage return; U+FFFE, U+FFFF) become U+FFFD, so the answer stays
    /// well-formed whatever a request echoed into it. One pass over the bytes: text with nothing
    /// to escape (nearly all of it) is copied as it is.
    pub fn text(&mut self, s: &str) {
        let plain = s.bytes().all(|b| {
            !matches!(b, b'<' | b'>' | b'&' | b'\'' | b'"' | 0xEF)
                && (b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r'))
        });
        if plain {
            self.buf.push_str(s);
            return;
        }
        for c in s.chars() {
            match c {
                '<' => self.buf.push_str("&lt;"),
                '>' => self.buf.push_str("&gt;"),
                '&' => self.buf.push_str("&amp;"),
                '\'' => self.buf.push_str("&apos;"),
                '"' => self.buf.push_str("&quot;"),
                '\t' | '\n' | '\r' => self.buf.push(c),
                '\u{0}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}' => self.buf.push('\u{FFFD}'),
                _ => self.buf.push(c),
            }
        }
    }

    pub fn elem(&mut self, name: &str, value: &str) {
        self.start(name);
        self.text(value);
        self.end(name);
    }

    pub fn into_string(self) -> String {
        self.buf
    }
}

/// Formats a timestamp as AWS's Query APIs do: `2026-11-27T20:58:25Z`.
pub fn format_timestamp(t: &OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let year = t.year();
    if !(0..=9999).contains(&year) {
        return format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            year,
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        );
    }
    // Written digit by digit: the formatting machinery was a fifth of a ListUsers page's cost.
    let mut out = String::with_capacity(20);
    let two = |out: &mut String, v: u8| {
        out.push(char::from(b'0' + v / 10));
        out.push(char::from(b'0' + v % 10));
    };
    let y = year as u16;
    two(&mut out, (y / 100) as u8);
    two(&mut out, (y % 100) as u8);
    out.push('-');
    two(&mut out, u8::from(t.month()));
    out.push('-');
    two(&mut out, t.day());
    out.push('T');
    two(&mut out, t.hour());
    out.push(':');
    two(&mut out, t.minute());
    out.push(':');
    two(&mut out, t.second());
    out.push('Z');
    out
}

/// Encoding of a model shape's members as XML elements. Generated for every output structure.
pub trait ToXml {
    fn write_members(&self, w: &mut XmlWriter);
}

impl ToXml for () {
    fn write_members(&self, _: &mut XmlWriter) {}
}

/// A scalar that can be an XML element's text.
pub trait XmlScalar {
    fn write_text(&self, w: &mut XmlWriter);
}

impl XmlScalar for String {
    fn write_text(&self, w: &mut XmlWriter) {
        w.text(self);
    }
}
impl XmlScalar for i32 {
    fn write_text(&self, w: &mut XmlWriter) {
        w.raw(itoa_i64(i64::from(*self)).as_str());
    }
}
impl XmlScalar for i64 {
    fn write_text(&self, w: &mut XmlWriter) {
        w.raw(itoa_i64(*self).as_str());
    }
}
impl XmlScalar for bool {
    fn write_text(&self, w: &mut XmlWriter) {
        w.raw(if *self { "true" } else { "false" });
    }
}
impl XmlScalar for OffsetDateTime {
    fn write_text(&self, w: &mut XmlWriter) {
        w.raw(&format_timestamp(self));
    }
}
impl XmlScalar for Vec<u8> {
    fn write_text(&self, w: &mut XmlWriter) {
        use base64::Engine as _;
        w.raw(&base64::engine::general_purpose::STANDARD.encode(self));
    }
}

fn itoa_i64(n: i64) -> String {
    n.to_string()
}

pub fn write_scalar<T: XmlScalar>(w: &mut XmlWriter, name: &str, v: &T) {
    w.start(name);
    v.write_text(w);
    w.end(name);
}

pub fn write_struct<T: ToXml>(w: &mut XmlWriter, name: &str, v: &T) {
    w.start(name);
    v.write_members(w);
    w.end(name);
}

pub fn write_list<T>(
    w: &mut XmlWriter,
    name: &str,
    items: &[T],
    mut item: impl FnMut(&mut XmlWriter, &T),
) {
    if items.is_empty() {
        w.raw("<");
        w.raw(name);
        w.raw("/>");
        return;
    }
    w.start(name);
    for x in items {
        item(w, x);
    }
    w.end(name);
}

pub fn write_map<T>(
    w: &mut XmlWriter,
    name: &str,
    entries: &[(String, T)],
    mut value: impl FnMut(&mut XmlWriter, &T),
) {
    w.start(name);
    for (k, v) in entries {
        w.start("entry");
        w.elem("key", k);
        value(w, v);
        w.end("entry");
    }
    w.end(name);
}

/// `<XResponse xmlns=…><XResult>…</XResult><ResponseMetadata>…</ResponseMetadata></XResponse>`.
pub fn success_envelope<O: ToXml>(
    op: &str,
    xmlns: &str,
    has_result: bool,
    out: &O,
    request_id: &str,
) -> String {
    let mut w = XmlWriter::with_capacity(512);
    w.raw("<");
    w.raw(op);
    w.raw("Response xmlns=\"");
    w.raw(xmlns);
    w.raw("\">");
    if has_result {
        w.raw("<");
        w.raw(op);
        w.raw("Result>");
        out.write_members(&mut w);
        w.raw("</");
        w.raw(op);
        w.raw("Result>");
    }
    w.raw("<ResponseMetadata><RequestId>");
    w.text(request_id);
    w.raw("</RequestId></ResponseMetadata></");
    w.raw(op);
    w.raw("Response>");
    w.into_string()
}

/// `<ErrorResponse xmlns=…><Error><Type>…</Type><Code>…</Code><Message>…</Message></Error><RequestId>…</RequestId></ErrorResponse>`
/// (without `<Message>` when the message is empty).
pub fn error_envelope(
    xmlns: &str,
    sender_fault: bool,
    code: &str,
    message: &str,
    request_id: &str,
) -> String {
    let mut w = XmlWriter::with_capacity(256);
    w.raw("<ErrorResponse xmlns=\"");
    w.raw(xmlns);
    w.raw("\"><Error><Type>");
    w.raw(if sender_fault { "Sender" } else { "Receiver" });
    w.raw("</Type>");
    w.elem("Code", code);
    // A few errors carry no message on AWS (`ReportNotPresent`): no element then.
    if !message.is_empty() {
        w.elem("Message", message);
    }
    w.raw("</Error>");
    w.elem("RequestId", request_id);
    w.raw("</ErrorResponse>");
    w.into_string()
}
