//! The text log line, written without `tracing_subscriber`'s general formatting machinery.
//!
//! Its default formatter renders the timestamp, the level, the target and each field through
//! nested `write!` calls and styles (`nu_ansi_term`'s Display runs even with colours off): about
//! 10,000 instructions for a request's line, an eighth of the request. [`TextFormat`] writes the
//! same bytes with plain string pushes into a line buffer of its thread: the timestamp's date and
//! time of day are formatted once a second, integers go through `itoa`, strings that need no
//! escape are copied between quotes; only `%`/`?` values (and strings that need escapes) still go
//! through `write!`. Counted with callgrind on the release binary, a `GetUser`'s event (its
//! filtering and hand-off to the log writer included) went from 9,700 instructions to 2,400.
//!
//! The output is byte-identical to `tracing_subscriber::fmt::format()` without ANSI colours
//! (tests below and `tests/log_format.rs` compare them): the rare lines this file does not write
//! itself — inside a span, from the `log` crate, with colours, or with a clock beyond the
//! calendar's years — are handed to that formatter.

use std::cell::RefCell;
use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::field::{MakeVisitor, VisitFmt, VisitOutput};
use tracing_subscriber::fmt::format::{Format, Full, Writer};
use tracing_subscriber::fmt::time::SystemTime;
use tracing_subscriber::fmt::{FmtContext, FormatEvent};
use tracing_subscriber::registry::LookupSpan;

/// The event formatter of the text log when colours are off (see the module's documentation),
/// with [`TextFields`] as the field formatter (of spans' fields; events' fields it writes itself
/// the same way).
pub struct TextFormat {
    /// What writes the lines this one does not: `tracing_subscriber`'s own full format.
    fallback: Format<Full, SystemTime>,
}

impl Default for TextFormat {
    fn default() -> Self {
        TextFormat {
            fallback: tracing_subscriber::fmt::format(),
        }
    }
}

/// A thread's line buffer, and the start of its last timestamp.
#[derive(Default)]
struct Scratch {
    line: String,
    clock: Clock,
}

/// A line buffer that grew past this (a long debug line) is not kept.
const KEPT_LINE: usize = 64 << 10;

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::default();
}

impl<S> FormatEvent<S, TextFields> for TextFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, TextFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        // Lines from the `log` crate (their target and location come from fields), lines in a
        // span (its name and fields come first) and coloured lines: the default formatter's.
        if writer.has_ansi_escapes() || meta.target() == "log" || ctx.event_scope().is_some() {
            return self.fallback.format_event(ctx, writer, event);
        }
        let sanitize = writer.sanitizes_ansi_escapes();
        let written = SCRATCH.with(|scratch| {
            // Taken already if formatting a value logged an event: a buffer of its own then.
            let mut own = Scratch::default();
            let mut borrowed = scratch.try_borrow_mut();
            let Scratch { line, clock } = match &mut borrowed {
                Ok(s) => &mut **s,
                Err(_) => &mut own,
            };
            line.clear();
            let (secs, nanos) = since_epoch(std::time::SystemTime::now());
            if !clock.push(line, secs, nanos) {
                return None;
            }
            let result = write_line(line, event, sanitize).and_then(|()| writer.write_str(line));
            if line.capacity() > KEPT_LINE {
                *line = String::new();
            }
            Some(result)
        });
        match written {
            Some(result) => result,
            // A clock beyond the years the calendar knows: tracing_subscriber's own rendering.
            None => self.fallback.format_event(ctx, writer, event),
        }
    }
}

/// The line after its timestamp: the level right-aligned to five, the target, the fields.
fn write_line(line: &mut String, event: &Event<'_>, sanitize: bool) -> fmt::Result {
    let meta = event.metadata();
    // With the timestamp's separator before and the level's after.
    line.push_str(match *meta.level() {
        Level::TRACE => " TRACE ",
        Level::DEBUG => " DEBUG ",
        Level::INFO => "  INFO ",
        Level::WARN => "  WARN ",
        Level::ERROR => " ERROR ",
    });
    line.push_str(meta.target());
    line.push_str(": ");
    let mut fields = TextVisitor::new(&mut *line, sanitize);
    event.record(&mut fields);
    fields.finish()?;
    line.push('\n');
    Ok(())
}

/// `2026-12-05T05:53:12.` of the last second a timestamp was written in, to write the next ones
/// in the same second with their microseconds alone.
#[derive(Default)]
struct Clock {
    second: Option<i64>,
    prefix: String,
}

impl Clock {
    /// Appends the timestamp of `secs` and `nanos` past the epoch as
    /// `tracing_subscriber::fmt::time::SystemTime` writes it: `2026-12-05T05:53:12.123456Z`, in
    /// UTC, years past 9999 as `+10000`, years before 0 as `-0001`. False (nothing appended) for
    /// an instant beyond the years the `time` crate knows.
    fn push(&mut self, line: &mut String, secs: i64, nanos: u32) -> bool {
        if self.second != Some(secs) {
            self.prefix.clear();
            self.second = None;
            let Ok(t) = time::OffsetDateTime::from_unix_timestamp(secs) else {
                return false;
            };
            let year = t.year();
            let written = if year > 9999 {
                write!(self.prefix, "+{year}")
            } else if year < 0 {
                write!(self.prefix, "{year:05}")
            } else {
                write!(self.prefix, "{year:04}")
            }
            .and_then(|()| {
                write!(
                    self.prefix,
                    "-{:02}-{:02}T{:02}:{:02}:{:02}.",
                    u8::from(t.month()),
                    t.day(),
                    t.hour(),
                    t.minute(),
                    t.second()
                )
            });
            if written.is_err() {
                return false;
            }
            self.second = Some(secs);
        }
        line.push_str(&self.prefix);
        // Six digits: those of 1xxxxxx after its 1.
        let mut digits = itoa::Buffer::new();
        let micros = digits.format(1_000_000 + nanos / 1000);
        line.push_str(micros.get(1..).unwrap_or(micros));
        line.push('Z');
        true
    }
}

/// Whole seconds since the epoch (rounded down, negative before it) and the nanoseconds past them.
fn since_epoch(t: std::time::SystemTime) -> (i64, u32) {
    match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => (
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            d.subsec_nanos(),
        ),
        Err(e) => {
            let d = e.duration();
            let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            match d.subsec_nanos() {
                0 => (-secs, 0),
                n => (-secs - 1, 1_000_000_000 - n),
            }
        }
    }
}

/// The field formatter that goes with [`TextFormat`]: `tracing_subscriber`'s `DefaultFields`
/// output (the message first as it is, then `name=value` with values as `{:?}` shows them,
/// separated by spaces; `log.` fields skipped; `r#` dropped from names; ANSI escapes in the
/// message and in errors shown as `\x1b`) without its per-field `write!` and styles.
#[derive(Debug, Default, Clone, Copy)]
pub struct TextFields;

impl<'a> MakeVisitor<Writer<'a>> for TextFields {
    type Visitor = TextVisitor<Writer<'a>>;

    fn make_visitor(&self, target: Writer<'a>) -> TextVisitor<Writer<'a>> {
        let sanitize = target.sanitizes_ansi_escapes();
        TextVisitor::new(target, sanitize)
    }
}

/// Writes one event's (or span's) fields to `W`; see [`TextFields`].
pub struct TextVisitor<W> {
    out: W,
    /// Whether ANSI escapes in messages and errors are escaped.
    sanitize: bool,
    is_empty: bool,
    result: fmt::Result,
}

/// How a field's value is written after [`TextVisitor::begin`].
enum Shown {
    /// The message: its text alone, ANSI escapes escaped.
    Message,
    /// Any other field: after `name=`.
    Named,
}

impl<W: fmt::Write> TextVisitor<W> {
    fn new(out: W, sanitize: bool) -> Self {
        TextVisitor {
            out,
            sanitize,
            is_empty: true,
            result: Ok(()),
        }
    }

    /// Starts a field: the space before it (not before the first) and `name=` (nothing for the
    /// message). `None` when the field is not shown (or writing failed before).
    fn begin(&mut self, name: &str) -> Option<Shown> {
        if self.result.is_err() || name.starts_with("log.") {
            return None;
        }
        if self.is_empty {
            self.is_empty = false;
        } else {
            self.result = self.out.write_char(' ');
        }
        let shown = if name == "message" {
            Shown::Message
        } else {
            let name = name.strip_prefix("r#").unwrap_or(name);
            self.result = self
                .result
                .and_then(|()| self.out.write_str(name))
                .and_then(|()| self.out.write_char('='));
            Shown::Named
        };
        self.result.is_ok().then_some(shown)
    }

    fn integer(&mut self, field: &Field, value: impl itoa::Integer) {
        if self.begin(field.name()).is_some() {
            self.result = self.out.write_str(itoa::Buffer::new().format(value));
        }
    }
}

impl<W: fmt::Write> Visit for TextVisitor<W> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.result = match self.begin(field.name()) {
            None => return,
            Some(Shown::Message) if self.sanitize => write_sanitized(&mut self.out, value),
            Some(Shown::Message) => self.out.write_str(value),
            // `{:?}` of a string: in quotes, escaped; most need no escape.
            Some(Shown::Named) if value.bytes().all(needs_no_escape) => self
                .out
                .write_char('"')
                .and_then(|()| self.out.write_str(value))
                .and_then(|()| self.out.write_char('"')),
            Some(Shown::Named) => write!(self.out, "{value:?}"),
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.result = match self.begin(field.name()) {
            None => return,
            Some(Shown::Message) if self.sanitize => {
                write!(Sanitizing(&mut self.out), "{value:?}")
            }
            Some(Shown::Message | Shown::Named) => write!(self.out, "{value:?}"),
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.integer(field, value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.integer(field, value);
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.integer(field, value);
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.integer(field, value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if self.begin(field.name()).is_some() {
            self.result = self.out.write_str(if value { "true" } else { "false" });
        }
    }

    /// `error` sanitized, then (when it has sources) ` name.sources=[source, its source, …]`.
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let sanitize = self.sanitize;
        let error = Sanitized(value, sanitize);
        match value.source() {
            Some(source) => self.record_debug(
                field,
                &format_args!(
                    "{error} {}.sources={}",
                    field.name(),
                    Sources(source, sanitize)
                ),
            ),
            None => self.record_debug(field, &format_args!("{error}")),
        }
    }
}

impl<W: fmt::Write> VisitOutput<fmt::Result> for TextVisitor<W> {
    fn finish(self) -> fmt::Result {
        self.result
    }
}

impl<W: fmt::Write> VisitFmt for TextVisitor<W> {
    fn writer(&mut self) -> &mut dyn fmt::Write {
        &mut self.out
    }
}

/// A byte that `{:?}` of a string leaves as it is, alone (printable ASCII but `"` and `\`).
fn needs_no_escape(b: u8) -> bool {
    (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\'
}

/// Writes `s` with the characters a terminal could take for a control sequence escaped, as
/// `tracing_subscriber` does for messages and errors: ESC, BEL, BS, FF and DEL as `\x1b`, C1
/// controls (U+0080 to U+009F) as `\u{9b}`.
fn write_sanitized(out: &mut impl fmt::Write, s: &str) -> fmt::Result {
    // In UTF-8 the C1 controls start with 0xC2 (as do other characters: those are then kept).
    if !s
        .bytes()
        .any(|b| matches!(b, 0x07 | 0x08 | 0x0c | 0x1b | 0x7f | 0xc2))
    {
        return out.write_str(s);
    }
    let mut kept = 0;
    for (i, c) in s.char_indices() {
        let escape = match c {
            '\x1b' => "\\x1b",
            '\x07' => "\\x07",
            '\x08' => "\\x08",
            '\x0c' => "\\x0c",
            '\x7f' => "\\x7f",
            '\u{80}'..='\u{9f}' => "",
            _ => continue,
        };
        out.write_str(&s[kept..i])?;
        if escape.is_empty() {
            write!(out, "\\u{{{:x}}}", u32::from(c))?;
        } else {
            out.write_str(escape)?;
        }
        kept = i + c.len_utf8();
    }
    out.write_str(&s[kept..])
}

/// A writer that sanitizes what goes through it (see [`write_sanitized`]).
struct Sanitizing<'w, W>(&'w mut W);

impl<W: fmt::Write> fmt::Write for Sanitizing<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        write_sanitized(self.0, s)
    }
}

/// A value's Display, sanitized when the flag says so.
struct Sanitized<T>(T, bool);

impl<T: fmt::Display> fmt::Display for Sanitized<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.1 {
            write!(Sanitizing(f), "{}", self.0)
        } else {
            write!(f, "{}", self.0)
        }
    }
}

impl<T: fmt::Display> fmt::Debug for Sanitized<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// An error and its sources, as a list: `[error, its source, …]` (each sanitized).
struct Sources<'e>(&'e (dyn std::error::Error + 'static), bool);

impl fmt::Display for Sources<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        let mut next = Some(self.0);
        while let Some(e) = next {
            list.entry(&Sanitized(e, self.1));
            next = e.source();
        }
        list.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, UNIX_EPOCH};
    use tracing_subscriber::layer::SubscriberExt;

    /// A `MakeWriter` that keeps what was written, a write (an event: its line) apiece.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<String>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            let line = String::from_utf8(b.to_vec()).unwrap();
            self.0.lock().unwrap().push(line);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Captured {
            self.clone()
        }
    }

    impl Captured {
        fn lines(&self) -> Vec<String> {
            self.0.lock().unwrap().clone()
        }
    }

    /// What `emit` logs, through tracing_subscriber's default formatter without colours (as
    /// `main` configured it before) and through ours, on one subscriber (each event goes to the
    /// default one first, then to ours).
    fn both(emit: impl FnOnce()) -> (Vec<String>, Vec<String>) {
        let (default, ours) = (Captured::default(), Captured::default());
        let subscriber = tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer(default.clone()),
            )
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .fmt_fields(TextFields)
                    .event_format(TextFormat::default())
                    .with_writer(ours.clone()),
            );
        tracing::subscriber::with_default(subscriber, emit);
        (default.lines(), ours.lines())
    }

    /// The lines are the same but for the time they were written: each of ours has a timestamp
    /// of the same shape, between the default formatter's for the same event and for the next.
    fn assert_same(emit: impl FnOnce()) -> Vec<String> {
        let (default, ours) = both(emit);
        assert_eq!(default.len(), ours.len(), "{default:#?}\n{ours:#?}");
        assert!(!ours.is_empty());
        for (i, (d, o)) in default.iter().zip(&ours).enumerate() {
            assert_eq!(d[27..], o[27..], "line {i}");
            let shape = |t: &str| {
                t.len() == 27
                    && t.bytes().enumerate().all(|(i, b)| match i {
                        4 | 7 => b == b'-',
                        10 => b == b'T',
                        13 | 16 => b == b':',
                        19 => b == b'.',
                        26 => b == b'Z',
                        _ => b.is_ascii_digit(),
                    })
            };
            assert!(shape(&d[..27]) && shape(&o[..27]), "{d}{o}");
            assert!(d[..27] <= o[..27], "{d}{o}");
            if let Some(next) = default.get(i + 1) {
                assert!(o[..27] <= next[..27], "{o}{next}");
            }
        }
        ours
    }

    #[derive(Debug)]
    struct Outer(Inner);
    #[derive(Debug)]
    struct Inner;

    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("outer \u{1b}[31mfailure\u{9b} \"quoted\"\n")
        }
    }
    impl fmt::Display for Inner {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("inner \u{7}cause")
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
    impl std::error::Error for Inner {}

    #[test]
    fn the_servers_lines_are_byte_identical() {
        let lines = assert_same(|| {
            let none: Option<&str> = None;
            // src/http/mod.rs: a request, a refused request, a failed one.
            tracing::info!(
                request_id = %"6a0f3ec5-2b8e-4c1d-9d7e-0123456789ab".to_string(),
                action = %"GetUser",
                principal = %"arn:aws:iam::000000000000:user/bench-cg",
                decision = Some("allow"),
                status = 200u16,
                latency_us = 1234u64,
                "request"
            );
            tracing::info!(
                request_id = %"r",
                action = %"<unknown>",
                principal = %"",
                decision = none,
                status = 403u16,
                latency_us = u64::MAX,
                "request"
            );
            tracing::info!(
                request_id = %"r",
                action = "<unknown>",
                principal = "",
                status = 413u16,
                latency_us = 0u64,
                "request"
            );
            tracing::error!(request_id = %"r", action = %"CreateUser", error = %Outer(Inner), "request failed");
            tracing::warn!(error = %"database is locked", "could not record access key use");
            tracing::warn!(
                boundary = "arn:aws:iam::aws:policy/Missing",
                "permissions boundary policy not found"
            );
            tracing::debug!(sessions = 3usize, "pruned expired sessions");
            tracing::info!(address = %"127.0.0.1:4566", "localiam ready on http://{}", "127.0.0.1:4566");
            tracing::info!("stopped");
            tracing::error!("the embedded action list does not decompress");
            tracing::trace!(target: "custom::target", key = 1, "custom target");
        });
        assert_eq!(
            lines[0][26..],
            *"Z  INFO localiam::log_format::tests: request \
              request_id=6a0f3ec5-2b8e-4c1d-9d7e-0123456789ab action=GetUser \
              principal=arn:aws:iam::000000000000:user/bench-cg decision=\"allow\" status=200 \
              latency_us=1234\n"
        );
        assert!(lines[1].ends_with(
            ": request request_id=r action=<unknown> principal= status=403 \
             latency_us=18446744073709551615\n"
        ));
    }

    #[test]
    fn every_kind_of_value_is_byte_identical() {
        let e = Outer(Inner);
        assert_same(|| {
            tracing::info!(
                empty = "",
                tab = "tab\there",
                quotes = "\"double\" 'single'",
                newline = "one\ntwo\r\n",
                backslash = "a\\b",
                accents = "naïve ✓ 日本",
                combining = "\u{301}e\u{301}",
                controls = "\u{0}\u{1b}[31m\u{7f}\u{85}\u{9b}\u{200b}\u{feff}",
            );
            tracing::info!(
                n = -42i64,
                min = i64::MIN,
                max = u64::MAX,
                huge = u128::MAX,
                tiny = i128::MIN,
                yes = true,
                no = false,
                half = 1.5f64,
                two = 2.0f64,
                nan = f64::NAN,
            );
            tracing::info!(
                list = ?vec!["a", "b\n"],
                opt = ?Some("x"),
                shown = %"plain \"text\"\n\u{1b}",
                r#type = "raw name",
                log.target = "skipped",
                log.x = 1,
                dotted.name = 2,
                bytes = &b"ab\x00\xff"[..],
            );
            tracing::error!(error = &e as &dyn std::error::Error, "with sources");
            tracing::error!(error = &Inner as &dyn std::error::Error);
            tracing::warn!(message = &e as &dyn std::error::Error);
            tracing::info!(
                message =
                    "a str message: \u{1b}[2J \u{7}\u{8}\u{c}\u{7f}\u{80}\u{9f}\u{a0} \"q\" \\"
            );
            tracing::info!("formatted: {} {:?}", "with\u{1b}escape", "quoted\n");
            tracing::info!("");
            tracing::info!(message = 17u64, other = 1);
            tracing::info!(only = 1);
            tracing::warn!(log.only = 1);
            tracing::info!(target: "log", "a tracing event that calls its target log");
        });
    }

    #[test]
    fn log_crate_records_are_byte_identical() {
        assert_same(|| {
            for level in [log::Level::Error, log::Level::Info, log::Level::Trace] {
                let args = format_args!("from log: \u{1b}x");
                let record = log::Record::builder()
                    .level(level)
                    .target("some_crate::module")
                    .module_path(Some("some_crate::module"))
                    .file(Some("src/module.rs"))
                    .line(Some(12))
                    .args(args)
                    .build();
                tracing_log::format_trace(&record).unwrap();
            }
        });
    }

    #[test]
    fn lines_in_spans_are_byte_identical() {
        assert_same(|| {
            let outer =
                tracing::info_span!("conn", peer = %"127.0.0.1:1", id = 7u64, name = "x\"y");
            let _outer = outer.enter();
            tracing::info!(status = 200u16, "in one span");
            let inner = tracing::debug_span!(
                "req",
                r#type = "t",
                later = tracing::field::Empty,
                more = tracing::field::Empty
            );
            inner.record("later", "recorded \n later");
            inner.record("more", 5);
            let _inner = inner.enter();
            tracing::warn!("in two spans");
            let empty = tracing::info_span!("empty");
            let _empty = empty.enter();
            tracing::error!(x = 1);
        });
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn random_strings_are_byte_identical(
            s in prop::collection::vec(
                prop_oneof![
                    Just('"'), Just('\\'), Just('\n'), Just('\t'), Just('\u{1b}'), Just('\u{7}'),
                    Just('\u{7f}'), Just('\u{85}'), Just('\u{9b}'), Just('\u{a0}'), Just('\u{301}'),
                    Just('\u{200d}'), Just('é'), prop::char::range('a', 'z'),
                    prop::char::range(' ', '~'), any::<char>(),
                ],
                0..24,
            ).prop_map(|cs| cs.into_iter().collect::<String>())
        ) {
            let e = std::io::Error::other(s.clone());
            assert_same(|| {
                tracing::info!(message = s.as_str());
                tracing::warn!("{s}");
                tracing::error!(field = s.as_str(), shown = %s, debugged = ?s, some = Some(s.as_str()));
                tracing::info!(error = &e as &dyn std::error::Error, "{}", s);
            });
        }
    }

    /// What tracing_subscriber's `SystemTime` writes for this instant, in the `time` crate's
    /// own formatting (a negative year as `-0001`, as tracing_subscriber shows it).
    fn expected(secs: i64, nanos: u32) -> String {
        let t = time::OffsetDateTime::from_unix_timestamp_nanos(
            i128::from(secs) * 1_000_000_000 + i128::from(nanos),
        )
        .unwrap();
        t.format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
        ))
        .unwrap()
    }

    /// The instant `secs` (negative: before the epoch) and `nanos` after the epoch.
    fn instant(secs: i64, nanos: u32) -> std::time::SystemTime {
        let whole = Duration::from_secs(secs.unsigned_abs());
        let at = if secs >= 0 {
            UNIX_EPOCH + whole
        } else {
            UNIX_EPOCH - whole
        };
        at + Duration::from_nanos(nanos.into())
    }

    /// Our timestamp of that instant, with `clock` (as it was left by the timestamps before).
    fn ours(clock: &mut Clock, secs: i64, nanos: u32) -> String {
        let (s, n) = since_epoch(instant(secs, nanos));
        assert_eq!((s, n), (secs, nanos));
        let mut line = String::new();
        assert!(clock.push(&mut line, s, n));
        line
    }

    /// -9999-01-01 and 9999-12-31T23:59:59: the `time` crate's range.
    const FIRST: i64 = -377_705_116_800;
    const LAST: i64 = 253_402_300_799;

    #[test]
    fn timestamps_match_the_time_crate_at_the_edges() {
        let edges = [
            0,
            -1,
            1,
            59,
            60,
            86_399,
            86_400,
            -86_400,
            -86_401,
            951_782_400,
            951_868_799,
            951_868_800,
            4_107_542_399,
            4_107_542_400,
            1_798_695_192,
            -62_167_219_200,
            -62_167_219_201,
            -62_135_596_800,
            FIRST,
            LAST,
        ];
        let mut clock = Clock::default();
        for secs in edges {
            for nanos in [0, 999, 1_000, 123_456_789, 999_999_999] {
                assert_eq!(ours(&mut clock, secs, nanos), expected(secs, nanos));
                assert_eq!(
                    ours(&mut Clock::default(), secs, nanos),
                    expected(secs, nanos)
                );
            }
        }
        let mut clock = Clock::default();
        assert_eq!(ours(&mut clock, 0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            ours(&mut clock, 1_796_449_992, 123_456_999),
            "2026-12-05T05:53:12.123456Z"
        );
        assert_eq!(
            ours(&mut clock, 1_796_449_992, 999_999_999),
            "2026-12-05T05:53:12.999999Z"
        );
        assert_eq!(
            ours(&mut clock, 1_796_449_993, 7_000),
            "2026-12-05T05:53:13.000007Z"
        );
        assert_eq!(ours(&mut clock, -1, 1), "1969-12-31T23:59:59.000000Z");
        assert_eq!(
            ours(&mut clock, -62_167_219_201, 0),
            "-0001-12-31T23:59:59.000000Z"
        );
        // Past the years `time` knows (without its large-dates feature): nothing, so that the
        // line goes to tracing_subscriber's formatter.
        let mut line = String::from("kept");
        assert!(!clock.push(&mut line, LAST + 1, 0));
        assert_eq!(line, "kept");
        assert_eq!(ours(&mut clock, 0, 0), "1970-01-01T00:00:00.000000Z");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]
        #[test]
        fn timestamps_match_the_time_crate(secs in FIRST..=LAST, nanos in 0u32..1_000_000_000) {
            prop_assert_eq!(ours(&mut Clock::default(), secs, nanos), expected(secs, nanos));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]
        /// Successive timestamps of one thread (the same second, the next ones, the clock set
        /// back): each as if it were the first.
        #[test]
        fn timestamps_in_a_row_match_the_time_crate(
            start in 0i64..4_102_444_800,
            steps in prop::collection::vec((-2i64..=3, 0u32..1_000_000_000), 1..20),
        ) {
            let mut clock = Clock::default();
            let mut secs = start;
            for (step, nanos) in steps {
                secs += step;
                prop_assert_eq!(ours(&mut clock, secs, nanos), expected(secs, nanos));
            }
        }
    }
}
