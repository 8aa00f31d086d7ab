//! The text log line, written without `tracing_subscriber`'s general formatting machinery.
//!
//! Its default formatter renders the timestamp, the level, the target and each field through
//! nested `write!` calls and styles (`nu_ansi_term`'s Display runs even with colours off): about
//! 10,000 instructions for a request's line, an eighth of the request. [`TextFormat`] and
//! [`TextFields`] write the same bytes with plain string pushes: the timestamp from civil-date
//! arithmetic, integers through `itoa`, strings that need no escape copied between quotes; only
//! `%`/`?` values (and strings that need escapes) still go through `write!`.
//!
//! The output is byte-identical to `tracing_subscriber::fmt::format()` without ANSI colours
//! (tests below and `tests/log_format.rs` compare them): the rare lines this file does not write
//! itself — inside a span, from the `log` crate, or with colours — are handed to that formatter.

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::field::{MakeVisitor, VisitFmt, VisitOutput};
use tracing_subscriber::fmt::format::{Format, Full, Writer};
use tracing_subscriber::fmt::time::SystemTime;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The event formatter of the text log when colours are off (see the module's documentation).
/// Use it with [`TextFields`] as the field formatter.
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

impl<S, N> FormatEvent<S, N> for TextFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        // Lines from the `log` crate (their target and location come from fields), lines in a
        // span (its name and fields come first) and coloured lines: the default formatter's.
        if writer.has_ansi_escapes() || meta.target() == "log" || ctx.event_scope().is_some() {
            return self.fallback.format_event(ctx, writer, event);
        }
        write_timestamp(std::time::SystemTime::now(), &mut writer)?;
        // The timestamp's separator, the level right-aligned to five, its separator.
        writer.write_str(match *meta.level() {
            Level::TRACE => " TRACE ",
            Level::DEBUG => " DEBUG ",
            Level::INFO => "  INFO ",
            Level::WARN => "  WARN ",
            Level::ERROR => " ERROR ",
        })?;
        writer.write_str(meta.target())?;
        writer.write_str(": ")?;
        ctx.format_fields(writer.by_ref(), event)?;
        writer.write_char('\n')
    }
}

/// `2026-12-05T05:53:12.123456Z`: the instant in UTC to the microsecond, as
/// `tracing_subscriber::fmt::time::SystemTime` writes it (years past 9999 as `+10000`, years
/// before 0 as `-0001`).
fn write_timestamp(now: std::time::SystemTime, out: &mut impl fmt::Write) -> fmt::Result {
    let (secs, nanos) = since_epoch(now);
    let t = Civil::of(secs, nanos);
    if !(0..=9999).contains(&t.year) {
        return if t.year > 9999 {
            write!(out, "+{}", t.year)
        } else {
            write!(out, "{:05}", t.year)
        }
        .and_then(|()| {
            write!(
                out,
                "-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
                t.month, t.day, t.hour, t.minute, t.second, t.micros
            )
        });
    }
    let mut b = *b"0000-00-00T00:00:00.000000Z";
    // The year is in 0..=9999 here, every other part below 100 (micros below 1,000,000).
    let year = t.year as u32;
    digits(&mut b[0..4], year);
    digits(&mut b[5..7], t.month);
    digits(&mut b[8..10], t.day);
    digits(&mut b[11..13], t.hour);
    digits(&mut b[14..16], t.minute);
    digits(&mut b[17..19], t.second);
    digits(&mut b[20..26], t.micros);
    // Only ASCII digits went in.
    out.write_str(std::str::from_utf8(&b).map_err(|_| fmt::Error)?)
}

/// Writes `n` in decimal into all of `into`, zero-padded on the left (the digits that fit).
fn digits(into: &mut [u8], mut n: u32) {
    for d in into.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// Whole seconds since the epoch (rounded down, negative before it) and the nanoseconds past them.
fn since_epoch(t: std::time::SystemTime) -> (i64, u32) {
    match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => (i64::try_from(d.as_secs()).unwrap_or(i64::MAX), d.subsec_nanos()),
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

/// An instant's UTC calendar date and time of day (proleptic Gregorian, astronomical years).
#[derive(Debug, PartialEq, Eq)]
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    micros: u32,
}

impl Civil {
    /// Howard Hinnant's `civil_from_days` (days counted in 400-year eras from 0000-03-01).
    fn of(secs: i64, nanos: u32) -> Civil {
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400) as u32;
        let z = days.saturating_add(719_468);
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097); // [0, 146096]
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365], from March 1st
        let mp = (5 * doy + 2) / 153; // [0, 11], from March
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Civil {
            year,
            month,
            day,
            hour: sod / 3600,
            minute: sod / 60 % 60,
            second: sod % 60,
            micros: nanos / 1000,
        }
    }
}

/// The field formatter of [`TextFormat`]: `tracing_subscriber`'s `DefaultFields` output (the
/// message first as it is, then `name=value` with values as `{:?}` shows them, separated by
/// spaces; `log.` fields skipped; `r#` dropped from names; ANSI escapes in the message and in
/// errors shown as `\x1b`) without its per-field `write!` and styles.
#[derive(Debug, Default, Clone, Copy)]
pub struct TextFields;

impl<'a> MakeVisitor<Writer<'a>> for TextFields {
    type Visitor = TextVisitor<'a>;

    fn make_visitor(&self, target: Writer<'a>) -> TextVisitor<'a> {
        TextVisitor {
            writer: target,
            is_empty: true,
            result: Ok(()),
        }
    }
}

/// Writes one event's (or span's) fields; see [`TextFields`].
pub struct TextVisitor<'a> {
    writer: Writer<'a>,
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

impl TextVisitor<'_> {
    /// Starts a field: the space before it (not before the first) and `name=` (nothing for the
    /// message). `None` when the field is not shown (or writing failed before).
    fn begin(&mut self, name: &str) -> Option<Shown> {
        if self.result.is_err() || name.starts_with("log.") {
            return None;
        }
        if self.is_empty {
            self.is_empty = false;
        } else {
            self.result = self.writer.write_char(' ');
        }
        let shown = if name == "message" {
            Shown::Message
        } else {
            let name = name.strip_prefix("r#").unwrap_or(name);
            self.result = self
                .result
                .and_then(|()| self.writer.write_str(name))
                .and_then(|()| self.writer.write_char('='));
            Shown::Named
        };
        self.result.is_ok().then_some(shown)
    }

    /// A message value: as `{:?}` shows it, ANSI escapes escaped (unless the writer says not).
    fn message(&mut self, value: &dyn fmt::Debug) -> fmt::Result {
        if self.writer.sanitizes_ansi_escapes() {
            write!(Sanitizing(&mut self.writer), "{value:?}")
        } else {
            write!(self.writer, "{value:?}")
        }
    }

    fn integer(&mut self, field: &Field, value: impl itoa::Integer) {
        if self.begin(field.name()).is_some() {
            self.result = self.writer.write_str(itoa::Buffer::new().format(value));
        }
    }
}

impl Visit for TextVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.result = match self.begin(field.name()) {
            None => return,
            Some(Shown::Message) if self.writer.sanitizes_ansi_escapes() => {
                write_sanitized(&mut self.writer, value)
            }
            Some(Shown::Message) => self.writer.write_str(value),
            // `{:?}` of a string: in quotes, escaped; most need no escape.
            Some(Shown::Named) if value.bytes().all(needs_no_escape) => self
                .writer
                .write_char('"')
                .and_then(|()| self.writer.write_str(value))
                .and_then(|()| self.writer.write_char('"')),
            Some(Shown::Named) => write!(self.writer, "{value:?}"),
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.result = match self.begin(field.name()) {
            None => return,
            Some(Shown::Message) => self.message(value),
            Some(Shown::Named) => write!(self.writer, "{value:?}"),
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
            self.result = self.writer.write_str(if value { "true" } else { "false" });
        }
    }

    /// `error` sanitized, then (when it has sources) ` name.sources=[source, its source, …]`.
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let sanitize = self.writer.sanitizes_ansi_escapes();
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

impl VisitOutput<fmt::Result> for TextVisitor<'_> {
    fn finish(self) -> fmt::Result {
        self.result
    }
}

impl VisitFmt for TextVisitor<'_> {
    fn writer(&mut self) -> &mut dyn fmt::Write {
        &mut self.writer
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
            tracing::warn!(boundary = "arn:aws:iam::aws:policy/Missing", "permissions boundary policy not found");
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
            tracing::info!(message = "a str message: \u{1b}[2J \u{7}\u{8}\u{c}\u{7f}\u{80}\u{9f}\u{a0} \"q\" \\");
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
            let outer = tracing::info_span!("conn", peer = %"127.0.0.1:1", id = 7u64, name = "x\"y");
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

    /// What tracing_subscriber's `SystemTime` writes for this instant, from the `time` crate's
    /// calendar (years beyond 9999 or below 0 as tracing_subscriber shows them).
    fn expected(secs: i64, nanos: u32) -> String {
        let t = time::OffsetDateTime::from_unix_timestamp_nanos(
            i128::from(secs) * 1_000_000_000 + i128::from(nanos),
        )
        .unwrap();
        let year = match t.year() {
            y if y > 9999 => format!("+{y}"),
            y if y < 0 => format!("{y:05}"),
            y => format!("{y:04}"),
        };
        format!(
            "{year}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.microsecond()
        )
    }

    fn ours(secs: i64, nanos: u32) -> String {
        let at = if secs >= 0 {
            UNIX_EPOCH + Duration::new(secs as u64, nanos)
        } else {
            // `secs` whole seconds before the epoch, then `nanos` forward.
            UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs()) + Duration::from_nanos(nanos.into())
        };
        let mut out = String::new();
        write_timestamp(at, &mut out).unwrap();
        out
    }

    /// -9999-01-01 and 9999-12-31T23:59:59: the `time` crate's range.
    const FIRST: i64 = -377_705_116_800;
    const LAST: i64 = 253_402_300_799;

    #[test]
    fn timestamps_match_the_time_crate_at_the_edges() {
        let edges = [
            0, -1, 1, 59, 60, 86_399, 86_400, -86_400, -86_401, 951_782_400, 951_868_799,
            951_868_800, 4_107_542_399, 4_107_542_400, 1_798_695_192, -62_167_219_200,
            -62_167_219_201, -62_135_596_800, FIRST, LAST,
        ];
        for secs in edges {
            for nanos in [0, 999, 1_000, 123_456_789, 999_999_999] {
                assert_eq!(ours(secs, nanos), expected(secs, nanos), "{secs} {nanos}");
            }
        }
        assert_eq!(ours(0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(ours(1_796_449_992, 123_456_999), "2026-12-05T05:53:12.123456Z");
        assert_eq!(ours(-1, 1), "1969-12-31T23:59:59.000000Z");
        assert_eq!(ours(-62_167_219_201, 0), "-0001-12-31T23:59:59.000000Z");
        assert_eq!(ours(LAST + 1, 0), "+10000-01-01T00:00:00.000000Z");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]
        #[test]
        fn timestamps_match_the_time_crate(secs in FIRST..=LAST, nanos in 0u32..1_000_000_000) {
            prop_assert_eq!(ours(secs, nanos), expected(secs, nanos));
        }

        #[test]
        fn timestamps_match_the_time_crate_near_now(
            secs in 0i64..4_102_444_800, nanos in 0u32..1_000_000_000
        ) {
            prop_assert_eq!(ours(secs, nanos), expected(secs, nanos));
        }
    }
}
