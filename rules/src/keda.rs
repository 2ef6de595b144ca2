//! How KEDA 2.18's typed-config parser reads trigger metadata values (notes/keda-semantics.md §1):
//! Go's `json.Unmarshal` for numbers, `strconv.ParseBool`, durations, `key=value` lists.

use std::ops::Range;

use crate::duration::parse_go_duration;

/// Keys KEDA's Prometheus scaler reads from trigger metadata (2.18), with the KEDA version that
/// added them when that matters.
pub(crate) const PROMETHEUS_KEYS: &[&str] = &[
    "serverAddress",
    "query",
    "threshold",
    "activationThreshold",
    "queryParameters",
    "namespace",
    "customHeaders",
    "ignoreNullValues",
    "unsafeSsl",
    "timeout",
    "awsRegion",
    "identityOwner",
    "authModes",
    "authMode",
];

/// Auth modes KEDA knows.
pub(crate) const AUTH_MODES: &[&str] = &["apiKey", "basic", "tls", "bearer", "custom", "oauth"];

/// True when Go's `json.Unmarshal` reads `s` into a float64: a JSON number that fits.
#[must_use]
pub fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if b.first() == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    i == b.len() && s.parse::<f64>().is_ok_and(f64::is_finite)
}

/// Go's `strconv.ParseBool`.
#[must_use]
pub fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Go's `strconv.ParseFloat(s, 64)` for decimal text (`0.5`, `.5`, `1e3`, `+1`, `Inf`, `NaN`);
/// hexadecimal floats, which Go also reads, are not accepted here.
#[must_use]
pub fn parse_go_float(s: &str) -> Option<f64> {
    // Rust's float syntax is Go's decimal one, `inf`/`infinity`/`nan` in any case included.
    s.parse().ok()
}

/// KEDA's duration field: a Go duration (`5s`), else an integer of milliseconds. Returns seconds,
/// or why it is rejected.
///
/// # Errors
/// KEDA's own wording of the problem.
pub fn parse_keda_duration(s: &str) -> Result<f64, String> {
    let secs = match parse_go_duration(s) {
        Some(v) => v,
        None => match s.parse::<i64>() {
            Ok(ms) => ms as f64 / 1000.0,
            Err(_) => {
                return Err(format!(
                    "{s:?} is neither a duration string (e.g. '30s', '5m') nor a number of milliseconds"
                ));
            }
        },
    };
    if secs < 0.0 {
        return Err(format!("{s:?} is negative"));
    }
    Ok(secs)
}

/// An element of a `key=value` list that does not split, with its byte range in the list.
pub type BadElement<'a> = (&'a str, Range<usize>);

/// Splits `k1=v1,k2=v2` as KEDA does. On error returns the offending element and its byte range.
///
/// # Errors
/// The first element that does not split into exactly `key=value`.
pub fn split_key_values(s: &str) -> Result<Vec<(&str, &str)>, BadElement<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    for element in s.split(',') {
        let parts: Vec<&str> = element.split('=').collect();
        if parts.len() != 2 {
            return Err((element, start..start + element.len()));
        }
        out.push((parts[0].trim(), parts[1].trim()));
        start += element.len() + 1;
    }
    Ok(out)
}

/// The modes of an `authModes` value, trimmed, with their byte ranges in the value.
#[must_use]
pub fn auth_modes(s: &str) -> Vec<(&str, Range<usize>)> {
    let mut out = Vec::new();
    let mut start = 0;
    for part in s.split(',') {
        let lead = part.len() - part.trim_start().len();
        let m = part.trim();
        if !m.is_empty() {
            out.push((m, start + lead..start + lead + m.len()));
        }
        start += part.len() + 1;
    }
    out
}

/// The parameters an auth mode needs from the TriggerAuthentication (alternatives separated by `|`).
#[must_use]
pub fn required_auth_params(mode: &str) -> &'static [&'static str] {
    match mode {
        "bearer" => &["bearerToken|token"],
        "basic" => &["username"],
        "tls" => &["cert", "key"],
        "custom" => &["customAuthHeader", "customAuthValue"],
        "oauth" => &["oauthTokenURI", "clientID", "clientSecret"],
        "apiKey" => &["apiKey"],
        _ => &[],
    }
}

/// Levenshtein distance, case-insensitive (for "did you mean" suggestions).
#[must_use]
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest of `candidates` to `key`, when it is close enough to be a typo.
#[must_use]
pub fn closest<'c>(key: &str, candidates: &[&'c str]) -> Option<&'c str> {
    candidates
        .iter()
        .map(|c| (edit_distance(key, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 5) && *d < c.len() / 2 + 1)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_go_json_unmarshal() {
        for ok in ["0.350", "1e-3", "-5", "0", "100", "100.50", "1E+2"] {
            assert!(is_json_number(ok), "{ok}");
        }
        for bad in [
            "one", "350m", ".5", "5.", "+1", "01", "NaN", "Inf", "1,5", "", "-", "1e", "1e400",
        ] {
            assert!(!is_json_number(bad), "{bad}");
        }
    }

    #[test]
    fn booleans_follow_strconv_parse_bool() {
        assert_eq!(parse_go_bool("True"), Some(true));
        assert_eq!(parse_go_bool("f"), Some(false));
        assert_eq!(parse_go_bool("yes"), None);
        assert_eq!(parse_go_bool("xxxx"), None);
    }

    #[test]
    fn durations_accept_go_strings_and_milliseconds() {
        assert_eq!(parse_keda_duration("1000"), Ok(1.0));
        assert_eq!(parse_keda_duration("5s"), Ok(5.0));
        assert!(parse_keda_duration("-1").is_err());
        assert!(parse_keda_duration("a").is_err());
        assert!(parse_keda_duration("1.5").is_err());
    }

    #[test]
    fn key_value_lists_need_exactly_one_equals() {
        assert!(split_key_values("key1=value1,key2=value2").is_ok());
        assert_eq!(split_key_values("key1=value1,key2").unwrap_err().0, "key2");
        assert_eq!(
            split_key_values("token=abc==").unwrap_err().0,
            "token=abc=="
        );
    }

    #[test]
    fn typos_find_their_key() {
        assert_eq!(
            closest("ignoreNullValue", PROMETHEUS_KEYS),
            Some("ignoreNullValues")
        );
        assert_eq!(
            closest("activationthreshold", PROMETHEUS_KEYS),
            Some("activationThreshold")
        );
        assert_eq!(closest("zzz", PROMETHEUS_KEYS), None);
    }
}
