//! The replay loop: KEDA's scale loop on its polling grid and the HPA on its sync grid, over the
//! ticks of the history (notes/replay-semantics.md §1, §3, §5). At the same instant KEDA polls
//! first.

use std::collections::BTreeMap;

use super::hpa::{HpaConfig, HpaState, MetricRead, Pods};
use super::read::{Read, count, go_int64, milli_to_f64, read, to_milli};
use super::spec::{FallbackBehavior, MetricType, ReplaySpec, TriggerSpec};
use super::{
    Replay, ReplayOptions, Sample, Summary, Tick, TriggerHistory, TriggerReads, clock, rfc3339,
};

/// KEDA's name for the one metric a `scalingModifiers` formula feeds the HPA.
const COMPOSITE_METRIC: &str = "composite-metric";

/// Replays one object. Triggers that are not replayable (cpu, other scalers) are left out of the HPA
/// max and named in [`Replay::notes`]. Never panics, whatever the samples hold.
#[must_use]
pub fn replay(spec: &ReplaySpec, history: &[TriggerHistory], options: &ReplayOptions) -> Replay {
    let mut run = Run::new(spec, options);
    let mut timeline = Vec::with_capacity(options.ticks);
    let mut reads: Vec<TriggerReads> = spec
        .replayable_triggers()
        .map(|t| TriggerReads {
            index: t.index,
            name: t.name.clone(),
            metric: t.metric_name.clone(),
            query: t.query.clone(),
            reads: super::Reads::default(),
        })
        .collect();
    let missing = Sample::Error("no sample for this tick in the history".to_owned());
    let mut summary = Summary {
        ticks: options.ticks,
        min_replicas: i64::MAX,
        max_replicas: i64::MIN,
        ..Summary::default()
    };
    let mut previous = run.replicas;
    for i in 0..options.ticks {
        let samples: Vec<&Sample> = spec
            .triggers
            .iter()
            .map(|t| {
                history
                    .iter()
                    .find(|h| h.trigger == t.index)
                    .and_then(|h| h.samples.get(i))
                    .unwrap_or(&missing)
            })
            .collect();
        for r in &mut reads {
            if let Some(sample) = samples.get(r.index) {
                count(&mut r.reads, sample);
            }
        }
        let tick = run.tick(i, &samples);
        if tick.active {
            summary.active_ticks += 1;
        }
        if tick.reported.contains(&Some(0.0)) {
            summary.reads_zero += 1;
        }
        if tick.replicas != previous {
            summary.scale_events += 1;
        }
        previous = tick.replicas;
        summary.min_replicas = summary.min_replicas.min(tick.replicas);
        summary.max_replicas = summary.max_replicas.max(tick.replicas);
        timeline.push(tick);
    }
    if timeline.is_empty() {
        summary.min_replicas = run.replicas;
        summary.max_replicas = run.replicas;
    }
    Replay {
        triggers: reads,
        summary,
        timeline,
        notes: run.notes(),
    }
}

/// What KEDA made of one metric after fallback processing (`GetMetricsWithFallback`).
#[derive(Debug, Clone, PartialEq)]
enum Metric {
    Ok(i64),
    Fallback(i64),
    Err(String),
}

impl Metric {
    fn value(&self) -> Result<i64, String> {
        match self {
            Self::Ok(m) | Self::Fallback(m) => Ok(*m),
            Self::Err(e) => Err(e.clone()),
        }
    }
}

struct Run<'s> {
    spec: &'s ReplaySpec,
    options: &'s ReplayOptions,
    step: i64,
    sync_period: i64,
    hpa: HpaConfig,
    state: HpaState,
    replicas: i64,
    /// When each pod becomes Ready (one entry per pod; scale-down removes the newest first).
    ready_at: Vec<i64>,
    last_active: Option<i64>,
    active: bool,
    /// Consecutive failures per trigger (`status.health[metric].numberOfFailures`).
    failures: Vec<i64>,
    /// The last poll's read per trigger (`useCachedMetrics`).
    cache: Vec<Option<Result<i64, String>>>,
}

impl<'s> Run<'s> {
    fn new(spec: &'s ReplaySpec, options: &'s ReplayOptions) -> Self {
        let replicas = options
            .start_replicas
            .unwrap_or(spec.min_replicas)
            .clamp(0, i64::from(i32::MAX));
        let hpa = HpaConfig::new(
            spec.hpa_min_replicas(),
            spec.max_replicas,
            spec.behavior.as_ref(),
            options.tolerance,
            i64::from(options.downscale_stabilization_seconds),
            options.kubernetes_version,
        );
        let step = i64::from(options.step_seconds.max(1));
        Self {
            spec,
            options,
            step,
            sync_period: options
                .hpa_sync_seconds
                .map_or(step, |s| i64::from(s.max(1))),
            hpa,
            state: HpaState::default(),
            replicas,
            ready_at: vec![i64::MIN; usize::try_from(replicas.min(100_000)).unwrap_or(0)],
            last_active: None,
            active: false,
            failures: vec![0; spec.triggers.len()],
            cache: vec![None; spec.triggers.len()],
        }
    }

    /// True when an event of a grid (`offset` + k·`period` seconds after start) falls in tick `i`:
    /// in (t − step, t].
    fn due(&self, i: usize, offset: i64, period: i64) -> bool {
        let upto = |elapsed: i64| -> i64 {
            if elapsed < offset {
                0
            } else {
                (elapsed - offset) / period + 1
            }
        };
        let i = i64::try_from(i).unwrap_or(i64::MAX / 2);
        let now = i.saturating_mul(self.step);
        let before = if i == 0 { 0 } else { upto(now - self.step) };
        upto(now) > before
    }

    fn ready(&self, now: i64) -> i64 {
        let n = self.ready_at.iter().filter(|&&r| r <= now).count();
        i64::try_from(n).unwrap_or(i64::MAX).min(self.replicas)
    }

    fn set_replicas(&mut self, now: i64, to: i64) {
        let delay = i64::from(self.options.readiness_delay_seconds);
        let pods = usize::try_from(to.clamp(0, 100_000)).unwrap_or(0);
        while self.ready_at.len() < pods {
            self.ready_at.push(now.saturating_add(delay));
        }
        self.ready_at.truncate(pods);
        self.replicas = to;
    }

    fn tick(&mut self, i: usize, samples: &[&Sample]) -> Tick {
        let spec = self.spec;
        let version = self.options.keda_version;
        let now = self
            .options
            .start
            .saturating_add(i64::try_from(i).unwrap_or(0).saturating_mul(self.step));
        let reads: Vec<Option<Read>> = spec
            .triggers
            .iter()
            .zip(samples)
            .map(|(t, s)| t.replayable.then(|| read(s, t, version)))
            .collect();
        let before = self.replicas;
        let keda_poll = self.due(
            i,
            i64::from(self.options.keda_poll_offset_seconds),
            i64::from(spec.polling_interval),
        );
        let hpa_sync = self.due(i, 0, self.sync_period);

        let mut keda_reason = None;
        if keda_poll {
            keda_reason = self.poll(now, &reads);
        }
        let after_keda = self.replicas;
        let mut hpa_reason = None;
        let mut desired = None;
        if hpa_sync {
            let metrics = self.hpa_metrics(now, &reads);
            let pods = Pods {
                spec: self.replicas,
                status: self.replicas,
                ready: self.ready(now),
            };
            let d = self.state.sync(now, pods, &metrics, &self.hpa);
            if pods.spec > 0 {
                desired = Some(d.desired);
                hpa_reason = Some(d.reason);
            }
            if d.replicas != self.replicas {
                self.set_replicas(now, d.replicas);
            }
        }
        let desired = desired.unwrap_or(if after_keda == before {
            self.replicas
        } else {
            after_keda
        });

        let in_fallback = |j: usize| -> bool {
            spec.fallback.is_some()
                && self.failures[j] > spec.fallback.map_or(0, |f| f.failure_threshold)
        };
        let mut reported = Vec::with_capacity(reads.len());
        let mut errors = Vec::with_capacity(reads.len());
        let mut raw = Vec::with_capacity(reads.len());
        let mut fallback = false;
        for (j, r) in reads.iter().enumerate() {
            // Only the replayable triggers, in the order of `Replay::triggers`.
            let Some(r) = r else { continue };
            raw.push(r.raw);
            match &r.milli {
                Ok(m) => {
                    reported.push(Some(milli_to_f64(*m)));
                    errors.push(None);
                }
                Err(e) => {
                    errors.push(Some(e.clone()));
                    if in_fallback(j) {
                        fallback = true;
                        let value = self
                            .fallback_value(&spec.triggers[j], self.ready(now))
                            .ok()
                            .map(milli_to_f64);
                        reported.push(value);
                    } else {
                        reported.push(None);
                    }
                }
            }
        }
        let reason = self.reason(
            keda_poll,
            &reads,
            before,
            after_keda,
            keda_reason,
            hpa_reason,
        );
        Tick {
            t: rfc3339(now),
            raw,
            reported,
            errors,
            active: self.active,
            fallback,
            desired,
            replicas: self.replicas,
            reason,
            keda_poll,
            hpa_sync,
        }
    }

    /// Fallback processing of one read of trigger `j` (counts the failure or resets the count).
    fn process(&mut self, j: usize, read: Result<i64, String>, now: i64) -> Metric {
        let valid = self.spec.fallback.is_some()
            && self
                .spec
                .scaling_modifiers
                .as_ref()
                .is_none_or(|m| m.integer_target);
        let Some(fb) = self.spec.fallback.filter(|_| valid) else {
            return match read {
                Ok(m) => Metric::Ok(m),
                Err(e) => Metric::Err(e),
            };
        };
        match read {
            Ok(m) => {
                self.failures[j] = 0;
                Metric::Ok(m)
            }
            Err(e) => {
                self.failures[j] = self.failures[j].saturating_add(1);
                if self.failures[j] > fb.failure_threshold {
                    match self.fallback_value(&self.spec.triggers[j], self.ready(now)) {
                        Ok(v) => Metric::Fallback(v),
                        Err(why) => Metric::Err(why),
                    }
                } else {
                    Metric::Err(e)
                }
            }
        }
    }

    /// `doFallback`: target × F′ (÷ ready pods for `Value`), F′ by `fallback.behavior`.
    fn fallback_value(&self, trigger: &TriggerSpec, ready: i64) -> Result<i64, String> {
        let Some(fb) = self.spec.fallback else {
            return Err("no fallback".to_owned());
        };
        let r = self.replicas;
        let mut replicas = match fb.behavior {
            FallbackBehavior::Static => fb.replicas,
            FallbackBehavior::CurrentReplicas => r,
            FallbackBehavior::CurrentReplicasIfHigher => r.max(fb.replicas),
            FallbackBehavior::CurrentReplicasIfLower => r.min(fb.replicas),
        } as f64;
        let (metric_type, target) = match &self.spec.scaling_modifiers {
            Some(m) => (m.metric_type, m.target),
            None => (trigger.metric_type, trigger.threshold.unwrap_or(0.0)),
        };
        if metric_type == MetricType::Value {
            if ready == 0 {
                return Err(
                    "error performing fallback: no ready pods for a Value metric".to_owned(),
                );
            }
            replicas /= ready as f64;
        }
        let normalisation = milli_to_f64(to_milli(target, self.options.keda_version));
        Ok(go_int64(normalisation * 1000.0 * replicas))
    }

    /// One KEDA poll: `checkScalers` → `getScaledObjectState` → `RequestScale`. Returns KEDA's
    /// sentence when it decided something worth telling.
    fn poll(&mut self, now: i64, reads: &[Option<Read>]) -> Option<String> {
        let spec = self.spec;
        let v219 = self.options.keda_version.at_least(2, 19);
        let mut error = false;
        let mut active = false;
        let mut metrics: Vec<(usize, Metric)> = Vec::new();
        for (j, r) in reads.iter().enumerate() {
            let Some(r) = r else { continue };
            self.cache[j] = Some(r.milli.clone());
            let m = if v219 {
                self.process(j, r.milli.clone(), now)
            } else {
                match &r.milli {
                    Ok(m) => Metric::Ok(*m),
                    Err(e) => Metric::Err(e.clone()),
                }
            };
            match &m {
                Metric::Ok(_) => active |= r.active,
                // A trigger in fallback counts as active and not in error (2.19+).
                Metric::Fallback(_) => active = true,
                Metric::Err(_) => error = true,
            }
            metrics.push((j, m));
        }
        if let Some(modifiers) = &spec.scaling_modifiers {
            active = !error
                && self
                    .composite(&metrics)
                    .is_ok_and(|m| milli_to_f64(m) > modifiers.activation_target);
        }
        self.active = active;
        self.request_scale(now, active, error)
    }

    /// `RequestScale` (pkg/scaling/executor/scale_scaledobjects.go): the first matching row acts.
    fn request_scale(&mut self, now: i64, active: bool, error: bool) -> Option<String> {
        let spec = self.spec;
        let r = self.replicas;
        let min = spec.min_replicas;
        if active {
            if r == 0 || (spec.idle_replicas.is_some() && r < min) {
                let to = if min > 0 { min } else { 1 };
                self.set_replicas(now, to);
                self.last_active = Some(now);
                return Some(format!("KEDA: active, scaled {r} → {to}"));
            }
            if error {
                return Some(
                    "KEDA: active but a trigger errored: lastActiveTime not refreshed".to_owned(),
                );
            }
            self.last_active = Some(now);
            return None;
        }
        if error && spec.fallback.is_some_and(|f| f.replicas != 0) {
            return Some(
                "KEDA: inactive, a trigger errored and fallback is set: no scale-in".to_owned(),
            );
        }
        if error && spec.fallback.is_none() {
            return Some("KEDA: inactive, a trigger errored: no scale to zero".to_owned());
        }
        if spec.idle_replicas.is_some_and(|idle| r > idle) || (r > 0 && min == 0) {
            let to = spec.idle_replicas.unwrap_or(min);
            let cooldown = i64::from(spec.cooldown_period);
            let initial = i64::from(spec.initial_cooldown_period);
            let (over, since) = match (self.last_active, self.options.created_at) {
                (Some(l), _) => (now - l >= cooldown, Some((l, cooldown, "last active"))),
                (None, Some(c)) => (now - c >= initial, Some((c, initial, "creation"))),
                (None, None) => (true, None),
            };
            let what = if spec.idle_replicas.is_some() {
                "idleReplicaCount"
            } else {
                "minReplicaCount"
            };
            if over {
                self.set_replicas(now, to);
                return Some(match since {
                    Some((at, period, label)) => format!(
                        "KEDA: inactive, {period}s since {label} at {}: scaled {r} → {to} ({what})",
                        clock(at)
                    ),
                    None => format!(
                        "KEDA: inactive and not active since the window began: scaled {r} → {to} ({what})"
                    ),
                });
            }
            let (at, period, label) = since.unwrap_or((now, cooldown, "last active"));
            return Some(format!(
                "KEDA: inactive, cooling down ({period}s after {label} at {}, until {})",
                clock(at),
                clock(at.saturating_add(period))
            ));
        }
        if spec.idle_replicas.is_none() && r < min {
            self.set_replicas(now, min);
            return Some(format!(
                "KEDA: inactive, below minReplicaCount: scaled {r} → {min}"
            ));
        }
        None
    }

    /// The formula over the triggers' values (KEDA's `calculateScalingModifiersFormula`), or the
    /// first fallback value when a trigger is in fallback (`HandleScalingModifiers`).
    fn composite(&self, metrics: &[(usize, Metric)]) -> Result<i64, String> {
        let Some(modifiers) = &self.spec.scaling_modifiers else {
            return Err("no formula".to_owned());
        };
        if let Some((_, Metric::Fallback(v))) = metrics
            .iter()
            .find(|(_, m)| matches!(m, Metric::Fallback(_)))
        {
            return Ok(*v);
        }
        let mut values = BTreeMap::new();
        for (j, m) in metrics {
            let v = m.value()?;
            if let Some(name) = &self.spec.triggers[*j].name {
                values.insert(name.clone(), milli_to_f64(v));
            }
        }
        Ok(go_int64(modifiers.compiled.eval(&values) * 1000.0))
    }

    /// What the HPA gets at a sync: per replayable trigger (or the composite), a fresh read or the
    /// last poll's record, after fallback processing.
    fn hpa_metrics(&mut self, now: i64, reads: &[Option<Read>]) -> Vec<MetricRead> {
        let spec = self.spec;
        let version = self.options.keda_version;
        if self.replicas == 0 {
            // The HPA reads nothing when scaling is disabled.
            return Vec::new();
        }
        let mut metrics = Vec::new();
        for (j, r) in reads.iter().enumerate() {
            let Some(r) = r else { continue };
            let t = &spec.triggers[j];
            let value = match (&self.cache[j], t.use_cached_metrics) {
                (Some(cached), true) => cached.clone(),
                _ => r.milli.clone(),
            };
            let m = self.process(j, value, now);
            metrics.push((j, m));
        }
        match &spec.scaling_modifiers {
            Some(modifiers) => {
                // GetScaledObjectMetrics: an error reaches the HPA only when no trigger is in
                // fallback; otherwise the composite is the fallback value.
                let failed = metrics.iter().any(|(_, m)| matches!(m, Metric::Err(_)));
                let fallback = metrics
                    .iter()
                    .any(|(_, m)| matches!(m, Metric::Fallback(_)));
                let milli = if failed && !fallback {
                    Err(format!("metric:{COMPOSITE_METRIC} encountered error"))
                } else {
                    self.composite(&metrics)
                };
                vec![MetricRead {
                    name: COMPOSITE_METRIC.to_owned(),
                    milli,
                    target: to_milli(modifiers.target, version),
                    metric_type: modifiers.metric_type,
                }]
            }
            None => metrics
                .into_iter()
                .map(|(j, m)| {
                    let t = &spec.triggers[j];
                    MetricRead {
                        name: t.metric_name.clone(),
                        milli: m.value(),
                        target: to_milli(t.threshold.unwrap_or(0.0), version),
                        metric_type: t.metric_type,
                    }
                })
                .collect(),
        }
    }

    /// One sentence for the tick.
    fn reason(
        &self,
        keda_poll: bool,
        reads: &[Option<Read>],
        before: i64,
        after_keda: i64,
        keda: Option<String>,
        hpa: Option<String>,
    ) -> String {
        let keda_changed = after_keda != before;
        let hpa_changed = self.replicas != after_keda;
        let read = self.read_story(reads);
        let decided = match (keda, hpa) {
            (Some(k), Some(h)) if keda_changed && hpa_changed => format!("{k}; {h}"),
            (Some(k), _) if keda_changed => k,
            (_, Some(h)) => h,
            (k, None) => {
                let r = self.replicas;
                let state = k.unwrap_or_else(|| match (keda_poll, self.active) {
                    (true, true) => format!("KEDA: active: stays at {r}"),
                    (true, false) => format!("KEDA: not active: stays at {r}"),
                    (false, _) if r == 0 => "stays at 0 until KEDA's next poll".to_owned(),
                    (false, _) => format!("stays at {r} until the HPA's next sync"),
                });
                return match read {
                    Some(r) => format!("{r}; {state}"),
                    None => state,
                };
            }
        };
        match read {
            Some(r) => format!("{r}; {decided}"),
            None => decided,
        }
    }

    /// How the triggers read, when something other than a plain number came back.
    fn read_story(&self, reads: &[Option<Read>]) -> Option<String> {
        let several = reads.iter().flatten().count() > 1;
        reads.iter().enumerate().find_map(|(j, r)| {
            let r = r.as_ref()?;
            let t = &self.spec.triggers[j];
            let text = match (&r.milli, r.zero_because) {
                (Ok(_), Some(why)) => format!("{why}: read as 0 (ignoreNullValues)"),
                (Err(e), _) => match self.spec.fallback {
                    Some(fb) if self.failures[j] > fb.failure_threshold => format!(
                        "KEDA error: {e}; fallback after {} failures (failureThreshold {})",
                        self.failures[j], fb.failure_threshold
                    ),
                    _ => format!("KEDA error: {e}"),
                },
                (Ok(m), None) if r.raw.is_some_and(f64::is_nan) => format!(
                    "query returned NaN: KEDA {} hands it on as {m}m",
                    self.options.keda_version
                ),
                _ => return None,
            };
            Some(if several {
                format!("{}: {text}", t.metric_name)
            } else {
                text
            })
        })
    }

    fn notes(&self) -> Vec<String> {
        let spec = self.spec;
        let o = self.options;
        let mut notes = vec![
            "open loop: these are the replicas the controllers would have requested for this metric history, not the load that would have followed".to_owned(),
            format!(
                "KEDA {} and Kubernetes {}: the HPA syncs every {}s from the first tick; KEDA polls every {}s from {}s after it (at the first tick at or after each poll); at the same instant KEDA polls first",
                o.keda_version, o.kubernetes_version, self.sync_period, spec.polling_interval, o.keda_poll_offset_seconds
            ),
            format!(
                "pods are Ready {}s after creation and status replicas follow spec replicas at once; the replay starts at {} replicas with lastActiveTime unset and {}",
                o.readiness_delay_seconds,
                o.start_replicas.unwrap_or(spec.min_replicas),
                match o.created_at {
                    Some(c) => format!("the ScaledObject created at {}", rfc3339(c)),
                    None => "the ScaledObject created long before the window".to_owned(),
                }
            ),
            match &spec.behavior {
                None => format!(
                    "advanced.horizontalPodAutoscalerConfig.behavior is unset: the HPA takes its legacy path (max over a {}s window, at most max(2×replicas, 4) per sync)",
                    o.downscale_stabilization_seconds
                ),
                Some(_) => "the HPA follows behavior, with the API server's defaults for the fields left out".to_owned(),
            },
        ];
        for (what, period) in [
            ("KEDA polls", i64::from(spec.polling_interval)),
            ("the HPA syncs", self.sync_period),
        ] {
            if period < self.step {
                notes.push(format!(
                    "{what} every {period}s but the history has one sample every {}s: the replay runs it once per tick",
                    self.step
                ));
            }
        }
        if !o.keda_version.at_least(2, 20) {
            notes.push(format!(
                "KEDA {} passes a NaN result through as int64(NaN×1000), which is -9223372036854775808m on amd64 (the model's assumption; 0 on arm64)",
                o.keda_version
            ));
        }
        if spec.fallback.is_some() && !o.keda_version.at_least(2, 19) {
            notes.push(format!(
                "KEDA {} applies fallback only to the HPA's reads: the scale loop does not count failures",
                o.keda_version
            ));
        }
        for t in spec.triggers.iter().filter(|t| !t.replayable) {
            notes.push(format!(
                "{} is left out of the HPA's max and counts as inactive: {}",
                t.metric_name,
                t.not_replayable_reason
                    .as_deref()
                    .unwrap_or("not replayable")
            ));
        }
        if let Some(m) = &spec.scaling_modifiers {
            notes.push(format!(
                "scalingModifiers: the HPA gets one metric, {COMPOSITE_METRIC} = {} against target {} ({:?}); KEDA is active when it is above {}",
                m.formula, m.target, m.metric_type, m.activation_target
            ));
        }
        if spec
            .triggers
            .iter()
            .any(|t| t.replayable && t.use_cached_metrics)
        {
            notes.push("useCachedMetrics: the HPA reads the last poll's result (before fallback) instead of querying".to_owned());
        }
        notes
    }
}
