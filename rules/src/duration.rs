//! Durations as Prometheus and KEDA write them (`30s`, `1m30s`, `500ms`), parsed and printed.

/// Prometheus durations (`1h30m`, `500ms`, a plain number of seconds), parsed and printed by the
/// PromQL layer so that queries and configuration read durations the same way.
pub use crate::promql::{format_duration, parse_prom_duration as parse_duration};

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
    use std::time::Duration;

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
