//! Typed interpretation of condition values: dates (ISO 8601 and epoch seconds), numbers,
//! booleans, IP addresses / CIDR blocks, base64 binaries.

use std::net::IpAddr;

/// Parses an AWS date: epoch seconds (`1700000000`, `-5`, `1.5`) or ISO 8601
/// (`2020-01-01`, `2020-01-01T10:00:00Z`, `2020-01-01T10:00Z`, `…T10:00:00.123+02:00`,
/// `…+0200`, `…+02`, no zone = UTC; `T` may be lower case). Returns nanoseconds since the epoch.
pub(crate) fn parse_date(s: &str) -> Option<i128> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let digits = s.strip_prefix('-').unwrap_or(s);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return parse_epoch(s);
    }
    parse_iso(s)
}

fn parse_epoch(s: &str) -> Option<i128> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty() || int.len() > 15 || frac.contains('.') {
        return None;
    }
    let secs: i128 = int.parse().ok()?;
    let nanos = frac_nanos(frac)?;
    let total = secs * 1_000_000_000 + nanos;
    Some(if neg { -total } else { total })
}

fn frac_nanos(frac: &str) -> Option<i128> {
    if frac.is_empty() {
        return Some(0);
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 9 {
        return None;
    }
    let mut n: i128 = frac.parse().ok()?;
    for _ in frac.len()..9 {
        n *= 10;
    }
    Some(n)
}

/// A cursor over ASCII digits.
struct Cur<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cur<'_> {
    fn num(&mut self, min: usize, max: usize) -> Option<i64> {
        let start = self.i;
        while self.i < self.b.len() && self.i - start < max && self.b[self.i].is_ascii_digit() {
            self.i += 1;
        }
        if self.i - start < min {
            return None;
        }
        std::str::from_utf8(&self.b[start..self.i])
            .ok()?
            .parse()
            .ok()
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn done(&self) -> bool {
        self.i >= self.b.len()
    }
}

fn parse_iso(s: &str) -> Option<i128> {
    let mut c = Cur {
        b: s.as_bytes(),
        i: 0,
    };
    let year = c.num(4, 4)?;
    if !c.eat(b'-') {
        return None;
    }
    let month = c.num(2, 2)?;
    if !c.eat(b'-') {
        return None;
    }
    let day = c.num(2, 2)?;
    if !(1..=12).contains(&month) || !(1..=days_in_month(year, month)).contains(&day) {
        return None;
    }
    let (mut h, mut m, mut sec, mut nanos) = (0i64, 0i64, 0i64, 0i128);
    let mut offset_secs = 0i64;
    if !c.done() {
        if !(c.eat(b'T') || c.eat(b't') || c.eat(b' ')) {
            return None;
        }
        h = c.num(1, 2)?;
        if c.eat(b':') {
            m = c.num(2, 2)?;
            if c.eat(b':') {
                sec = c.num(2, 2)?;
                if c.eat(b'.') || c.eat(b',') {
                    let start = c.i;
                    while c.peek().is_some_and(|b| b.is_ascii_digit()) {
                        c.i += 1;
                    }
                    nanos = frac_nanos(std::str::from_utf8(&c.b[start..c.i]).ok()?)?;
                }
            }
        }
        if h > 24 || m > 59 || sec > 60 {
            return None;
        }
        match c.peek() {
            None => {}
            Some(b'Z') | Some(b'z') => {
                c.i += 1;
            }
            Some(sign @ (b'+' | b'-')) => {
                c.i += 1;
                let oh = c.num(2, 2)?;
                let om = if c.eat(b':') {
                    c.num(2, 2)?
                } else if c.done() {
                    0
                } else {
                    c.num(2, 2)?
                };
                if oh > 23 || om > 59 {
                    return None;
                }
                let off = oh * 3600 + om * 60;
                offset_secs = if sign == b'+' { off } else { -off };
            }
            Some(_) => return None,
        }
        if !c.done() {
            return None;
        }
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + h * 3600 + m * 60 + sec - offset_secs;
    Some(secs as i128 * 1_000_000_000 + nanos)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses a number as AWS's numeric operators do (integers and decimals).
pub(crate) fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("nan") || t.to_ascii_lowercase().contains("inf") {
        return None;
    }
    t.parse::<f64>().ok()
}

/// `true` / `false`, case-insensitively.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// An IPv4 or IPv6 CIDR block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    v6: bool,
    net: u128,
    prefix: u8,
}

fn ip_bits(ip: IpAddr) -> (bool, u128) {
    match ip {
        IpAddr::V4(a) => (false, u32::from(a) as u128),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => (false, u32::from(v4) as u128),
            None => (true, u128::from(a)),
        },
    }
}

fn mask(v6: bool, prefix: u8) -> u128 {
    let width: u32 = if v6 { 128 } else { 32 };
    let p = u32::from(prefix).min(width);
    if p == 0 {
        return 0;
    }
    let full: u128 = if v6 { u128::MAX } else { u32::MAX as u128 };
    let host_bits = width - p;
    if host_bits == 0 {
        full
    } else {
        full & !((1u128 << host_bits) - 1)
    }
}

impl Cidr {
    /// `203.0.113.0/24`, `2001:db8::/32`, or a bare address (a /32 or /128).
    pub(crate) fn parse(s: &str) -> Option<Cidr> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().ok()?)),
            None => (s, None),
        };
        let ip: IpAddr = addr.parse().ok()?;
        let (v6, bits) = ip_bits(ip);
        let width = if v6 { 128 } else { 32 };
        let prefix = match prefix {
            // An IPv4-mapped IPv6 block: drop the 96 mapping bits.
            Some(p) if !v6 && matches!(ip, IpAddr::V6(_)) => p.checked_sub(96)?,
            Some(p) => p,
            None => width,
        };
        if prefix > width {
            return None;
        }
        Some(Cidr {
            v6,
            net: bits & mask(v6, prefix),
            prefix,
        })
    }

    /// Whether the address (or the network address of a CIDR) in `s` lies in this block.
    #[cfg(test)]
    pub(crate) fn contains_str(&self, s: &str) -> bool {
        Addr::parse(s).is_some_and(|a| self.contains(a))
    }

    /// Whether `a` lies in this block.
    pub(crate) fn contains(&self, a: Addr) -> bool {
        a.v6 == self.v6 && a.bits & mask(a.v6, self.prefix) == self.net
    }
}

/// A parsed IP address (IPv4-mapped IPv6 addresses count as IPv4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Addr {
    v6: bool,
    bits: u128,
}

impl Addr {
    pub(crate) fn from_ip(ip: IpAddr) -> Addr {
        let (v6, bits) = ip_bits(ip);
        Addr { v6, bits }
    }

    /// An address, or the network address of a CIDR block.
    pub(crate) fn parse(s: &str) -> Option<Addr> {
        let s = s.trim();
        if let Some(bits) = dotted_quad(s) {
            return Some(Addr {
                v6: false,
                bits: u128::from(bits),
            });
        }
        let ip = match s.parse::<IpAddr>() {
            Ok(ip) => ip,
            Err(_) => s.split_once('/')?.0.parse::<IpAddr>().ok()?,
        };
        let (v6, bits) = ip_bits(ip);
        Some(Addr { v6, bits })
    }
}

/// A plain IPv4 address (`10.1.2.3`) read without the general parser; `None` for anything
/// else (leading zeros included: the general parser decides those).
fn dotted_quad(s: &str) -> Option<u32> {
    let (mut bits, mut octets) = (0u32, 0u32);
    let (mut n, mut digits, mut leading_zero) = (0u32, 0u32, false);
    for &c in s.as_bytes().iter().chain(std::iter::once(&b'.')) {
        match c {
            b'0'..=b'9' => {
                if digits == 0 {
                    leading_zero = c == b'0';
                } else if leading_zero || digits == 3 {
                    return None;
                }
                n = n * 10 + u32::from(c - b'0');
                digits += 1;
            }
            b'.' if digits > 0 && n <= 255 && octets < 4 => {
                bits = bits << 8 | n;
                octets += 1;
                (n, digits) = (0, 0);
            }
            _ => return None,
        }
    }
    (octets == 4).then_some(bits)
}

/// Decodes standard base64 (padding optional).
pub(crate) fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let t = s.trim();
    base64::engine::general_purpose::STANDARD
        .decode(t)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(t))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: i128 = 1_000_000_000;

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_date("0"), Some(0));
        assert_eq!(parse_date("1700000000"), Some(1_700_000_000 * NS));
        assert_eq!(parse_date("2020-01-01"), Some(1_577_836_800 * NS));
        assert_eq!(parse_date("2020-01-01T00:00:00Z"), Some(1_577_836_800 * NS));
        assert_eq!(
            parse_date("2020-01-01T02:00:00+02:00"),
            Some(1_577_836_800 * NS)
        );
        assert_eq!(
            parse_date("2020-01-01T02:00:00+0200"),
            Some(1_577_836_800 * NS)
        );
        assert_eq!(
            parse_date("2020-01-01t2:00:00+02"),
            Some(1_577_836_800 * NS)
        );
        assert_eq!(
            parse_date("2020-01-01T00:00:00.5Z"),
            Some(1_577_836_800 * NS + NS / 2)
        );
        assert_eq!(parse_date("2019-12-31T23:00Z"), Some(1_577_833_200 * NS));
        assert_eq!(parse_date("-292275054"), Some(-292_275_054 * NS));
        assert_eq!(parse_date("2020-13-01"), None);
        assert_eq!(parse_date("2019-02-29"), None);
        assert_eq!(parse_date("sdfdsf"), None);
        assert_eq!(parse_date("01T"), None);
        assert_eq!(parse_date(""), None);
    }

    #[test]
    fn dotted_quads_read_like_std() {
        for s in [
            "10.1.2.3",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.5",
            "1..2.3",
            "a.b.c.d",
            "1.2.3.4/8",
            "",
            "1.2.3.-4",
            "1.2.3.+4",
        ] {
            let std = s.parse::<std::net::Ipv4Addr>().ok().map(u32::from);
            // `None` falls back to the general parser: only a `Some` must agree with it.
            if let Some(bits) = dotted_quad(s) {
                assert_eq!(Some(bits), std, "{s}");
            }
            assert_eq!(dotted_quad(s).is_some(), std.is_some(), "{s}");
        }
    }

    #[test]
    fn cidrs() {
        let c = Cidr::parse("203.0.113.0/24").unwrap();
        assert!(c.contains_str("203.0.113.7"));
        assert!(!c.contains_str("203.0.114.7"));
        assert!(!c.contains_str("2001:db8::1"));
        assert!(c.contains_str("::ffff:203.0.113.9"));
        let all = Cidr::parse("0.0.0.0/0").unwrap();
        assert!(all.contains_str("8.8.8.8"));
        let six = Cidr::parse("2001:db8::/32").unwrap();
        assert!(six.contains_str("2001:db8:1::5"));
        assert!(!six.contains_str("2001:db9::5"));
        let all6 = Cidr::parse("::/0").unwrap();
        assert!(all6.contains_str("2001:db9::5"));
        let host = Cidr::parse("10.0.0.1").unwrap();
        assert!(host.contains_str("10.0.0.1"));
        assert!(!host.contains_str("10.0.0.2"));
        assert!(Cidr::parse("10.0.0.0/33").is_none());
        assert!(Cidr::parse("nonsense").is_none());
    }
}
