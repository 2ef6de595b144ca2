//! Prometheus duration syntax: reading `1h30m` / `300` and printing durations the way Prometheus does.

use std::time::Duration;

/// Unit suffixes in the order Prometheus requires them (largest first), with their length in milliseconds.
const UNITS: [(&str, u64); 7] = [
    ("y", 365 * 24 * 3_600_000),
    ("w", 7 * 24 * 3_600_000),
    ("d", 24 * 3_600_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// Prometheus rejects durations that do not fit in an `int64` of milliseconds.
const MAX_MILLIS: u128 = i64::MAX as u128;

/// Reads a Prometheus duration: `5m`, `1h30m`, `500ms`, `2w`, `1y`, or a plain number of seconds (`300`, `1.5`).
///
/// Units must appear largest first and at most once each (`30m1h` is rejected, as Prometheus does).
/// Returns `None` for anything else, for negative values, and for durations Prometheus calls out of range.
///
/// ```
/// use std::time::Duration;
/// use kedalint_rules::promql::parse_prom_duration;
/// assert_eq!(parse_prom_duration("1h30m"), Some(Duration::from_secs(5400)));
/// assert_eq!(parse_prom_duration("1.5"), Some(Duration::from_millis(1500)));
/// assert_eq!(parse_prom_duration("30m1h"), None);
/// ```
#[must_use]
pub fn parse_prom_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Some(seconds) = parse_plain_seconds(text) {
        return seconds_to_duration(seconds);
    }
    parse_compound(text)
}

/// A plain number of seconds: decimal digits with an optional fraction and exponent. No sign, no `Inf`/`NaN`.
fn parse_plain_seconds(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    if !bytes[0].is_ascii_digit() {
        return None;
    }
    // Rust's float grammar is wider than we want (it takes `inf`), so check the characters first.
    let ok = bytes
        .iter()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    if !ok {
        return None;
    }
    text.parse::<f64>().ok()
}

fn seconds_to_duration(seconds: f64) -> Option<Duration> {
    if !seconds.is_finite() || seconds < 0.0 || seconds * 1000.0 > MAX_MILLIS as f64 {
        return None;
    }
    Duration::try_from_secs_f64(seconds).ok()
}

fn parse_compound(text: &str) -> Option<Duration> {
    let mut rest = text;
    let mut total_ms: u128 = 0;
    // Index into UNITS of the next unit allowed: enforces largest-first, each unit once.
    let mut next_unit = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let value: u128 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        // The longest matching unit wins, so `5ms` is milliseconds, not minutes followed by `s`.
        let (index, unit_ms, unit_len) = UNITS
            .iter()
            .enumerate()
            .skip(next_unit)
            .filter(|(_, (name, _))| rest.starts_with(name))
            .map(|(i, (name, ms))| (i, *ms, name.len()))
            .max_by_key(|&(_, _, len)| len)?;
        rest = &rest[unit_len..];
        next_unit = index + 1;
        total_ms = total_ms.checked_add(value.checked_mul(u128::from(unit_ms))?)?;
        if total_ms > MAX_MILLIS {
            return None;
        }
    }
    let millis = u64::try_from(total_ms).ok()?;
    Some(Duration::from_millis(millis))
}

/// Prints a duration the way Prometheus does: `1m`, `30s`, `1m30s`, `1h`, `500ms`, `1w1d`, `0s`.
///
/// Sub-millisecond parts are dropped, as Prometheus durations have millisecond resolution.
///
/// ```
/// use std::time::Duration;
/// use kedalint_rules::promql::format_duration;
/// assert_eq!(format_duration(Duration::from_secs(90)), "1m30s");
/// assert_eq!(format_duration(Duration::from_millis(500)), "500ms");
/// ```
#[must_use]
pub fn format_duration(duration: Duration) -> String {
    let mut ms = duration.as_millis();
    if ms == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    for (name, unit_ms) in UNITS {
        let unit_ms = u128::from(unit_ms);
        let count = ms / unit_ms;
        if count > 0 {
            out.push_str(&count.to_string());
            out.push_str(name);
            ms -= count * unit_ms;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Option<Duration> {
        Some(Duration::from_secs(s))
    }

    #[test]
    fn every_unit_is_read() {
        assert_eq!(
            parse_prom_duration("250ms"),
            Some(Duration::from_millis(250))
        );
        assert_eq!(parse_prom_duration("30s"), secs(30));
        assert_eq!(parse_prom_duration("5m"), secs(300));
        assert_eq!(parse_prom_duration("2h"), secs(7200));
        assert_eq!(parse_prom_duration("1d"), secs(86_400));
        assert_eq!(parse_prom_duration("1w"), secs(7 * 86_400));
        assert_eq!(parse_prom_duration("1y"), secs(365 * 86_400));
    }

    #[test]
    fn compound_durations_add_up_largest_unit_first() {
        assert_eq!(parse_prom_duration("1h30m"), secs(5400));
        assert_eq!(
            parse_prom_duration("1m30s500ms"),
            Some(Duration::from_millis(90_500))
        );
        assert_eq!(
            parse_prom_duration("1d2h3m4s"),
            secs(86_400 + 7200 + 180 + 4)
        );
    }

    #[test]
    fn units_out_of_order_or_repeated_are_rejected() {
        assert_eq!(parse_prom_duration("30m1h"), None);
        assert_eq!(parse_prom_duration("1m1m"), None);
        assert_eq!(parse_prom_duration("1ms1s"), None);
    }

    #[test]
    fn plain_numbers_are_seconds() {
        assert_eq!(parse_prom_duration("300"), secs(300));
        assert_eq!(
            parse_prom_duration("1.5"),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(parse_prom_duration("1e3"), secs(1000));
        assert_eq!(parse_prom_duration("0"), secs(0));
    }

    #[test]
    fn malformed_or_out_of_range_durations_are_rejected() {
        for bad in [
            "",
            " ",
            "m",
            "5M",
            "5x",
            "-5m",
            "+5m",
            "1.5m",
            "inf",
            "NaN",
            "1e20",
            "1e400",
            "99999999999999999999y",
            "5 m",
            "1h 30m",
            "0x10",
        ] {
            assert_eq!(parse_prom_duration(bad), None, "{bad:?}");
        }
        assert_eq!(parse_prom_duration(" 5m "), secs(300));
    }

    #[test]
    fn durations_print_like_prometheus() {
        assert_eq!(format_duration(Duration::from_secs(60)), "1m");
        assert_eq!(format_duration(Duration::from_secs(30)), "30s");
        assert_eq!(format_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(format_duration(Duration::from_secs(3600)), "1h");
        assert_eq!(format_duration(Duration::from_millis(500)), "500ms");
        assert_eq!(format_duration(Duration::from_secs(8 * 86_400)), "1w1d");
        assert_eq!(format_duration(Duration::ZERO), "0s");
        assert_eq!(format_duration(Duration::from_micros(1500)), "1ms");
    }

    #[test]
    fn printing_then_reading_gives_the_same_duration() {
        for ms in [
            1,
            999,
            1000,
            61_000,
            5_400_000,
            90_061_001,
            31_536_000_000 + 1,
        ] {
            let d = Duration::from_millis(ms);
            assert_eq!(parse_prom_duration(&format_duration(d)), Some(d), "{ms}");
        }
    }
}
