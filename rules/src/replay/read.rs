//! KEDA's read of one Prometheus trigger at one instant (notes/replay-semantics.md §2): the
//! Prometheus scaler's `ExecutePromQuery` (pkg/scalers/prometheus_scaler.go) and the milli-quantity
//! conversion of `GenerateMetricInMili` (pkg/scalers/scaler.go), by KEDA version.

use crate::KedaVersion;

use super::{Reads, Sample, TriggerSpec};

/// What KEDA's scaler made of one sample.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Read {
    /// What Prometheus returned: one series' value, else `None`.
    pub(crate) raw: Option<f64>,
    /// The metric in milli-units as KEDA hands it on, or KEDA's error text.
    pub(crate) milli: Result<i64, String>,
    /// `value > activationThreshold` on the scaler's float (an error is never active).
    pub(crate) active: bool,
    /// How the sample was read as 0 when it was not a plain number (for reasons).
    pub(crate) zero_because: Option<&'static str>,
}

/// Counts one sample into a trigger's read totals.
pub(crate) fn count(reads: &mut Reads, sample: &Sample) {
    match sample {
        Sample::Empty => reads.empty += 1,
        Sample::Value(v) if v.is_nan() => reads.nan += 1,
        Sample::Value(_) => reads.value += 1,
        Sample::Multiple(_) | Sample::Error(_) => reads.error += 1,
    }
}

/// KEDA's read of `sample` for `trigger` under `version`.
pub(crate) fn read(sample: &Sample, trigger: &TriggerSpec, version: KedaVersion) -> Read {
    let query = trigger.query.as_deref().unwrap_or("");
    // The scaler returns 0 for a null read, and activation compares that 0 like any value.
    let null = |raw: Option<f64>, why: &'static str, err: String| Read {
        raw,
        milli: if trigger.ignore_null_values {
            Ok(0)
        } else {
            Err(err)
        },
        active: trigger.ignore_null_values && 0.0 > trigger.activation_threshold,
        zero_because: Some(why),
    };
    let error = |raw: Option<f64>, err: String| Read {
        raw,
        milli: Err(err),
        active: false,
        zero_because: None,
    };
    match *sample {
        Sample::Empty => null(
            None,
            "query empty",
            "prometheus metrics 'prometheus' target may be lost, the result is empty".to_owned(),
        ),
        Sample::Multiple(_) => error(
            None,
            format!("prometheus query {query} returned multiple elements"),
        ),
        Sample::Error(ref cause) => error(None, cause.clone()),
        Sample::Value(v) if v.is_infinite() => null(
            Some(v),
            "query returned ±Inf",
            format!("prometheus query returns {}", go_float(v)),
        ),
        // KEDA ≥ 2.20 (#7475) reads NaN as it reads ±Inf.
        Sample::Value(v) if v.is_nan() && version.at_least(2, 20) => null(
            Some(v),
            "query returned NaN",
            "prometheus query returns NaN".to_owned(),
        ),
        Sample::Value(v) => Read {
            raw: Some(v),
            milli: Ok(to_milli(v, version)),
            active: v > trigger.activation_threshold,
            zero_because: None,
        },
    }
}

/// `GenerateMetricInMili`: ≤ 2.19 `int64(x * 1000)`, truncated toward zero, where a NaN or a value
/// out of int64's range gives MinInt64 (Go's conversion on amd64, which the model assumes);
/// ≥ 2.20 the quantity parsed from `%.3f` (rounded to the nearest milli), NaN/±Inf and, since
/// 2.20.2 (which the model takes for 2.20), negative values as 0.
pub(crate) fn to_milli(x: f64, version: KedaVersion) -> i64 {
    if version.at_least(2, 20) {
        if !x.is_finite() || x < 0.0 {
            return 0;
        }
        return rounded_milli(x);
    }
    go_int64(x * 1000.0)
}

/// Go's `int64(f)` on amd64 (CVTTSD2SQ): truncation, and 0x8000000000000000 for NaN or out of range.
pub(crate) fn go_int64(f: f64) -> i64 {
    // 2^63 is exactly representable; every float below it in magnitude truncates into range.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if !(-LIMIT..LIMIT).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}

/// The milli value of `format!("{x:.3}")` parsed as a decimal (exact, no float rounding on the way),
/// saturating at MaxInt64.
fn rounded_milli(x: f64) -> i64 {
    let text = format!("{x:.3}");
    let (int, frac) = text.split_once('.').unwrap_or((&text, "0"));
    let whole: i128 = int.parse().unwrap_or(i128::MAX / 2000);
    let milli: i128 = frac.parse().unwrap_or(0);
    i64::try_from(whole.saturating_mul(1000).saturating_add(milli)).unwrap_or(i64::MAX)
}

/// Go's `%f` of ±Inf, as KEDA's error text has it.
fn go_float(v: f64) -> &'static str {
    if v > 0.0 { "+Inf" } else { "-Inf" }
}

/// A milli value as the number it stands for.
pub(crate) fn milli_to_f64(milli: i64) -> f64 {
    milli as f64 / 1000.0
}
