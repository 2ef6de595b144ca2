//! Durations as Prometheus and KEDA write them (`30s`, `1m30s`, `500ms`), parsed and printed.

use std::time::Duration;

/// Parses a Prometheus duration: one or more `<int><unit>` with units `ms s m h d w y` in
/// decreasing order (`1h30m`), or a plain number of seconds.
#[must_use]
pub fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(secs) = t.parse::<f64>() {
        return (secs.is_finite() && (0.0..1e12).contains(&secs))
            .then(|| Duration::from_secs_f64(secs));
    }
    let mut rest = t;
    let mut total_ms: u128 = 0;
    let mut last_rank = usize::MAX;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let n: u128 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit_ms, len, rank) = [
            ("ms", 1u128, 0usize),
            ("s", 1_000, 1),
            ("m", 60_000, 2),
            ("h", 3_600_000, 3),
            ("d", 86_400_000, 4),
            ("w", 604_800_000, 5),
            ("y", 31_536_000_000, 6),
        ]
        .iter()
        .find(|(u, _, _)| rest.starts_with(u))
        .map(|(u, ms, rank)| (*ms, u.len(), *rank))?;
        if rank >= last_rank {
            return None;
        }
        last_rank = rank;
        rest = &rest[len..];
        total_ms = total_ms.checked_add(n.checked_mul(unit_ms)?)?;
    }
    let ms = u64::try_from(total_ms).ok()?;
    Some(Duration::from_millis(ms))
}

/// Prints a duration the way Prometheus does: `1m`, `30s`, `1m30s`, `1h`, `500ms`.
#[must_use]
pub fn format_duration(d: Duration) -> String {
    let mut ms = d.as_millis();
    if ms == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    for (unit, size) in [
        ("y", 31_536_000_000u128),
        ("w", 604_800_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ] {
        if ms >= size {
            out.push_str(&format!("{}{unit}", ms / size));
            ms %= size;
        }
    }
    out
}

/// Parses a Go `time.ParseDuration` string (`300ms`, `1.5h`, `2h45m`, `-5s`); returns seconds.
#[must_use]
pub fn parse_go_duration(text: &str) -> Option<f64> {
    let (neg, mut rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest == "0" {
        return Some(0.0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total = 0.0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num = &rest[..num_len];
        if num.is_empty() || num == "." || num.matches('.').count() > 1 {
            return None;
        }
        let value: f64 = num.parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += value * scale;
    }
    Some(if neg { -total } else { total })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_durations_round_trip() {
        for s in ["1m", "30s", "1m30s", "500ms", "1h", "2d", "1w"] {
            assert_eq!(format_duration(parse_duration(s).unwrap()), s);
        }
        assert_eq!(parse_duration("90"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("1m1h"), None);
        assert_eq!(parse_duration("5"), Some(Duration::from_secs(5)));
        assert_eq!(parse_duration("abc"), None);
        assert_eq!(parse_duration("99999999999999999999y"), None);
    }

    #[test]
    fn go_durations_follow_time_parse_duration() {
        assert_eq!(parse_go_duration("5s"), Some(5.0));
        assert_eq!(parse_go_duration("1.5h"), Some(5400.0));
        assert_eq!(parse_go_duration("-1s"), Some(-1.0));
        assert_eq!(parse_go_duration("0"), Some(0.0));
        assert_eq!(parse_go_duration("5"), None);
        assert_eq!(parse_go_duration("a"), None);
        assert_eq!(parse_go_duration("2h45m"), Some(9900.0));
    }
}
