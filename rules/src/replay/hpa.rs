//! One sync of the Kubernetes HPA controller for KEDA's HPA (notes/replay-semantics.md §4):
//! per-metric proposals (`replica_calculator.go` `GetExternalPerPodMetricReplicas`,
//! `GetExternalMetricReplicas`), their combination (`horizontal.go` `computeReplicasForMetrics`), and
//! either the legacy path (`normalizeDesiredReplicas`) or the behavior path
//! (`normalizeDesiredReplicasWithBehaviors`).

use super::KubernetesVersion;
use super::spec::{HpaBehavior, MetricType, PolicyKind, ScalingPolicy, ScalingRules, SelectPolicy};

const MAX_INT32: i64 = i32::MAX as i64;
const MIN_INT32: i64 = i32::MIN as i64;

/// Scale-up and scale-down tolerances (`Tolerances`): a usage ratio within
/// [1 − down, 1 + up] changes nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Tolerances {
    pub(crate) down: f64,
    pub(crate) up: f64,
}

impl Tolerances {
    fn is_within(self, ratio: f64) -> bool {
        1.0 - self.down <= ratio && ratio <= 1.0 + self.up
    }
}

/// `behavior.scaleUp`/`scaleDown` with every default filled in.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rules {
    pub(crate) window: i64,
    pub(crate) select: SelectPolicy,
    pub(crate) policies: Vec<ScalingPolicy>,
}

/// The HPA as KEDA creates it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HpaConfig {
    pub(crate) min: i64,
    pub(crate) max: i64,
    /// `None`: the legacy path (KEDA's default, behavior unset).
    pub(crate) behavior: Option<(Rules, Rules)>,
    pub(crate) tolerances: Tolerances,
    /// `--horizontal-pod-autoscaler-downscale-stabilization`, for the legacy path.
    pub(crate) legacy_window: i64,
    pub(crate) kubernetes: KubernetesVersion,
}

impl HpaConfig {
    /// Fills `behavior` field by field as the API server does (`SetDefaults_HorizontalPodAutoscalerBehavior`,
    /// `GenerateHPAScaleUpRules`/`GenerateHPAScaleDownRules`), the scale-down window from the flag
    /// (`maybeInitScaleDownStabilizationWindow`), and the tolerances (`tolerancesForHpa`: per-HPA
    /// values only with HPAConfigurableTolerance, on from 1.35).
    pub(crate) fn new(
        min: i64,
        max: i64,
        behavior: Option<&HpaBehavior>,
        tolerance: f64,
        downscale_window: i64,
        kubernetes: KubernetesVersion,
    ) -> Self {
        let mut tolerances = Tolerances {
            down: tolerance,
            up: tolerance,
        };
        let filled = behavior.map(|b| {
            let none = ScalingRules::default();
            let up = b.scale_up.as_ref().unwrap_or(&none);
            let down = b.scale_down.as_ref().unwrap_or(&none);
            if kubernetes.at_least(35) {
                tolerances.up = up.tolerance.unwrap_or(tolerance);
                tolerances.down = down.tolerance.unwrap_or(tolerance);
            }
            let policy = |kind, value| ScalingPolicy {
                kind,
                value,
                period_seconds: 15,
            };
            (
                Rules {
                    window: up.stabilization_window_seconds.unwrap_or(0),
                    select: up.select_policy.unwrap_or(SelectPolicy::Max),
                    policies: up.policies.clone().unwrap_or_else(|| {
                        vec![
                            policy(PolicyKind::Pods, 4),
                            policy(PolicyKind::Percent, 100),
                        ]
                    }),
                },
                Rules {
                    window: down
                        .stabilization_window_seconds
                        .unwrap_or(downscale_window),
                    select: down.select_policy.unwrap_or(SelectPolicy::Max),
                    policies: down
                        .policies
                        .clone()
                        .unwrap_or_else(|| vec![policy(PolicyKind::Percent, 100)]),
                },
            )
        });
        Self {
            min,
            max,
            behavior: filled,
            tolerances,
            legacy_window: downscale_window,
            kubernetes,
        }
    }
}

/// What the HPA got for one metric at this sync.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MetricRead {
    /// The External metric's name.
    pub(crate) name: String,
    /// The value in milli-units, or why KEDA's metrics server answered with an error.
    pub(crate) milli: Result<i64, String>,
    /// The target in milli-units.
    pub(crate) target: i64,
    pub(crate) metric_type: MetricType,
}

/// The pods the HPA sees: spec replicas R, status replicas S, Running and Ready pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pods {
    pub(crate) spec: i64,
    pub(crate) status: i64,
    pub(crate) ready: i64,
}

/// One metric's proposal and how it was reached, in words.
pub(crate) fn proposal(metric: &MetricRead, u: i64, pods: Pods, cfg: &HpaConfig) -> (i64, String) {
    let t = metric.target;
    match metric.metric_type {
        MetricType::AverageValue => {
            // Since 1.34 a negative sum is taken for an int64 overflow (#127050).
            let usage = if cfg.kubernetes.at_least(34) && u < 0 {
                i64::MAX
            } else {
                u
            };
            let ratio = usage as f64 / (t as f64 * pods.status as f64);
            if cfg.tolerances.is_within(ratio) {
                return (
                    pods.status,
                    format!(
                        "{usage}m / ({t}m × {}) = {ratio:.2} is within the tolerance: {}",
                        pods.status, pods.status
                    ),
                );
            }
            let x = (usage as f64 / t as f64).ceil();
            let p = if cfg.kubernetes.at_least(34) {
                if x > MAX_INT32 as f64 {
                    MAX_INT32
                } else {
                    go_int32(x)
                }
            } else {
                go_int32(x)
            };
            (p, format!("ceil({usage}m / {t}m) = {}", shown(p, x)))
        }
        MetricType::Value => {
            let ratio = u as f64 / t as f64;
            if cfg.tolerances.is_within(ratio) {
                return (
                    pods.spec,
                    format!(
                        "{u}m / {t}m = {ratio:.2} is within the tolerance: {}",
                        pods.spec
                    ),
                );
            }
            let x = ratio * pods.ready as f64;
            // Capped at MaxInt32 since 1.35 (#126979); before, amd64 wraps huge values to MinInt32.
            let p = if cfg.kubernetes.at_least(35) && x > MAX_INT32 as f64 {
                MAX_INT32
            } else {
                go_int32(x.ceil())
            };
            (
                p,
                format!(
                    "ceil({u}m / {t}m × {} ready) = {}",
                    pods.ready,
                    shown(p, x.ceil())
                ),
            )
        }
    }
}

/// Go's `int32(f)` on amd64 (CVTTSD2SL): truncation, and MinInt32 for NaN or out of range.
fn go_int32(f: f64) -> i64 {
    if !(-2_147_483_648.0..2_147_483_648.0).contains(&f) {
        MIN_INT32
    } else {
        f as i64
    }
}

/// A proposal as printed: the integer, with a word when a conversion changed it.
fn shown(p: i64, exact: f64) -> String {
    if (p as f64 - exact).abs() < 0.5 {
        p.to_string()
    } else if p == MAX_INT32 {
        format!("{p} (capped at MaxInt32)")
    } else {
        format!("{p} (int32 overflow of {exact:.3e} on amd64)")
    }
}

/// The controller's memory for one HPA: recommendations and, on the behavior path, scale events.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct HpaState {
    seeded: bool,
    /// (time, recommendation).
    recommendations: Vec<(i64, i64)>,
    /// (time, replicas added).
    up_events: Vec<(i64, i64)>,
    /// (time, replicas removed).
    down_events: Vec<(i64, i64)>,
}

/// What a sync decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decision {
    /// The replica count after the sync.
    pub(crate) replicas: i64,
    /// The metrics' proposal before stabilization and limits (the replica count when the sync
    /// computed none).
    pub(crate) desired: i64,
    pub(crate) reason: String,
}

impl HpaState {
    /// One `reconcileAutoscaler` at `now` with spec replicas `pods.spec` ≥ 0.
    pub(crate) fn sync(
        &mut self,
        now: i64,
        pods: Pods,
        metrics: &[MetricRead],
        cfg: &HpaConfig,
    ) -> Decision {
        let r = pods.spec;
        if !self.seeded {
            // recordInitialRecommendation: the first sync seeds the list with the current count.
            self.seeded = true;
            self.recommendations.push((now, r));
        }
        if r == 0 {
            return Decision {
                replicas: 0,
                desired: 0,
                reason: "HPA: scaling disabled at 0 replicas (only KEDA scales from zero)"
                    .to_owned(),
            };
        }
        if r > cfg.max || r < cfg.min {
            let to = r.clamp(cfg.min, cfg.max);
            self.store_event(now, r, to, cfg);
            let bound = if r > cfg.max {
                format!("above maxReplicas {}", cfg.max)
            } else {
                format!("below the HPA's minReplicas {}", cfg.min)
            };
            return Decision {
                replicas: to,
                desired: to,
                reason: format!("HPA: {r} replicas is {bound}: set to {to}"),
            };
        }
        let (mut best, mut invalid, mut first_error) = (0_i64, 0, None);
        let mut parts = Vec::new();
        for m in metrics {
            match &m.milli {
                Err(e) => {
                    invalid += 1;
                    parts.push(format!("{}: error", m.name));
                    first_error.get_or_insert_with(|| e.clone());
                }
                Ok(u) => {
                    let (p, how) = proposal(m, *u, pods, cfg);
                    // computeReplicasForMetrics: `if replicas == 0 || proposal > replicas`.
                    if best == 0 || p > best {
                        best = p;
                    }
                    parts.push(if metrics.len() > 1 {
                        format!("{}: {how}", m.name)
                    } else {
                        how
                    });
                }
            }
        }
        if metrics.is_empty() || invalid == metrics.len() {
            return Decision {
                replicas: r,
                desired: r,
                reason: format!(
                    "HPA: no metric could be read ({}): no change",
                    first_error.unwrap_or_else(|| "no replayable metric".to_owned())
                ),
            };
        }
        let computed = parts.join("; ");
        if invalid > 0 && best < r {
            return Decision {
                replicas: r,
                desired: r,
                reason: format!(
                    "HPA: {computed}; a metric failed and the rest would scale down: no change"
                ),
            };
        }
        let raw = best.max(0);
        let proposal_text = if metrics.len() > 1 {
            format!("{computed}; max {raw}")
        } else if best < 0 {
            format!("{computed}, counted as 0")
        } else {
            computed
        };
        let (d, how) = match &cfg.behavior {
            None => self.normalize_legacy(now, r, raw, cfg),
            Some((up, down)) => self.normalize_with_behavior(now, r, raw, cfg, up, down),
        };
        if d != r {
            self.store_event(now, r, d, cfg);
        }
        Decision {
            replicas: d,
            desired: raw,
            reason: format!("HPA: {proposal_text}{how}"),
        }
    }

    /// `normalizeDesiredReplicas`: the max over the window (a recommendation exactly W old still
    /// counts), then floor minReplicas and ceiling min(maxReplicas, max(2R, 4)).
    fn normalize_legacy(&mut self, now: i64, r: i64, p: i64, cfg: &HpaConfig) -> (i64, String) {
        let cutoff = now - cfg.legacy_window;
        self.recommendations.retain(|(t, _)| *t >= cutoff);
        let stabilized = self
            .recommendations
            .iter()
            .map(|(_, rec)| *rec)
            .fold(p, i64::max);
        self.recommendations.push((now, p));
        let mut how = String::new();
        if stabilized > p {
            how = format!(
                ", held at {stabilized} by the {}s stabilization window",
                cfg.legacy_window
            );
        }
        let ceiling = (2 * r).max(4);
        let allowed_max = cfg.max.min(ceiling);
        let d = if stabilized < cfg.min {
            how.push_str(&format!(", raised to minReplicas {}", cfg.min));
            cfg.min
        } else if stabilized > allowed_max {
            if ceiling < cfg.max {
                how.push_str(&format!(", capped at max(2×{r}, 4) = {ceiling}"));
            } else {
                how.push_str(&format!(", capped at maxReplicaCount {}", cfg.max));
            }
            allowed_max
        } else {
            stabilized
        };
        (d, how)
    }

    /// `normalizeDesiredReplicasWithBehaviors`: strict windows, then the policies' rate limits.
    fn normalize_with_behavior(
        &mut self,
        now: i64,
        r: i64,
        p: i64,
        cfg: &HpaConfig,
        up: &Rules,
        down: &Rules,
    ) -> (i64, String) {
        let (up_cut, down_cut) = (now - up.window, now - down.window);
        let mut up_rec = p;
        let mut down_rec = p;
        for &(t, rec) in &self.recommendations {
            if t > up_cut {
                up_rec = up_rec.min(rec);
            }
            if t > down_cut {
                down_rec = down_rec.max(rec);
            }
        }
        let keep = up.window.max(down.window);
        self.recommendations.retain(|(t, _)| *t > now - keep);
        self.recommendations.push((now, p));
        let mut how = String::new();
        let mut d = r.max(up_rec);
        if d > down_rec {
            d = down_rec;
        }
        if d != p {
            if d > p {
                how = format!(
                    ", held at {d} by the {}s scale-down stabilization window",
                    down.window
                );
            } else {
                how = format!(
                    ", held at {d} by the {}s scale-up stabilization window",
                    up.window
                );
            }
        }
        if d > r {
            let limit = match self.limit(now, r, up, true) {
                Some(l) => l.max(r),
                None => r,
            };
            let allowed = cfg.max.min(limit);
            if d > allowed {
                how.push_str(&if allowed == cfg.max && limit >= cfg.max {
                    format!(", capped at maxReplicaCount {}", cfg.max)
                } else {
                    format!(", limited to {allowed} by the scale-up policies")
                });
                d = allowed;
            }
        } else if d < r {
            let limit = match self.limit(now, r, down, false) {
                Some(l) => l.min(r),
                None => r,
            };
            let allowed = cfg.min.max(limit);
            if d < allowed {
                how.push_str(&if allowed == cfg.min && limit <= cfg.min {
                    format!(", raised to minReplicas {}", cfg.min)
                } else {
                    format!(", limited to {allowed} by the scale-down policies")
                });
                d = allowed;
            }
        }
        (d, how)
    }

    /// `calculateScaleUpLimitWithScalingRules` / `calculateScaleDownLimitWithBehaviors`; `None` when
    /// the direction is Disabled.
    fn limit(&self, now: i64, r: i64, rules: &Rules, up: bool) -> Option<i64> {
        if rules.select == SelectPolicy::Disabled {
            return None;
        }
        let in_period = |events: &[(i64, i64)], period: i64| -> i64 {
            events
                .iter()
                .filter(|(t, _)| *t > now - period)
                .map(|(_, c)| c)
                .sum()
        };
        // Max picks the largest change: the largest limit up, the smallest limit down.
        let largest = (rules.select == SelectPolicy::Max) == up;
        let mut result = if largest { i64::MIN } else { i64::MAX };
        for policy in &rules.policies {
            let start = r - in_period(&self.up_events, policy.period_seconds)
                + in_period(&self.down_events, policy.period_seconds);
            let v = policy.value;
            let proposed = match (policy.kind, up) {
                (PolicyKind::Pods, true) => start + v,
                (PolicyKind::Pods, false) => start - v,
                (PolicyKind::Percent, true) => {
                    (start as f64 * (1.0 + v as f64 / 100.0)).ceil() as i64
                }
                (PolicyKind::Percent, false) => (start as f64 * (1.0 - v as f64 / 100.0)) as i64,
            };
            result = if largest {
                result.max(proposed)
            } else {
                result.min(proposed)
            };
        }
        // No policy: the Go code keeps MinInt32/MaxInt32, which the caller clamps to R.
        Some(result)
    }

    /// `storeScaleEvent` (behavior path only); events older than every policy period are dropped.
    fn store_event(&mut self, now: i64, from: i64, to: i64, cfg: &HpaConfig) {
        let Some((up, down)) = &cfg.behavior else {
            return;
        };
        let longest = |rules: &Rules| {
            rules
                .policies
                .iter()
                .map(|p| p.period_seconds)
                .max()
                .unwrap_or(0)
        };
        if to > from {
            let keep = longest(up);
            self.up_events.retain(|(t, _)| *t >= now - keep);
            self.up_events.push((now, to - from));
        } else if to < from {
            let keep = longest(down);
            self.down_events.retain(|(t, _)| *t >= now - keep);
            self.down_events.push((now, from - to));
        }
    }
}
