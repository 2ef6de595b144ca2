//! The fuzz targets' bodies, one function per target, shared by the `cargo fuzz` binaries in
//! `fuzz_targets/` and the stable-toolchain replay of the seeds (`webhook/tests/fuzz_seeds.rs`).
//! Each feeds arbitrary bytes to one entry point and checks what must hold for any input: no
//! panic, and every span or offset handed back lies inside the input on a character boundary.

#![allow(unreachable_pub, dead_code)]

use std::ops::Range;

use kedalint_rules::{Settings, SourceFile};
use kedalint_webhook::review;

/// A target's body: arbitrary bytes in, a panic when something that must hold does not.
pub type Target = fn(&[u8]);

/// The targets by name, as the replay test finds their seed directories.
pub const TARGETS: &[(&str, Target)] = &[
    ("lint_text", lint_text),
    ("admission_review", admission_review),
    ("promql", promql),
];

#[track_caller]
fn assert_inside(text: &str, span: &Range<usize>, what: &str) {
    assert!(
        span.start <= span.end
            && span.end <= text.len()
            && text.is_char_boundary(span.start)
            && text.is_char_boundary(span.end),
        "{what} span {span:?} outside the {} bytes of input",
        text.len()
    );
}

/// YAML or JSON text, as a file given to the CLI → findings.
pub fn lint_text(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return; // the CLI refuses non-UTF-8 files before linting
    };
    let report = kedalint_rules::lint_text("fuzz.yaml", text, &Settings::default());
    let file = SourceFile::new("fuzz.yaml", text);
    for f in &report.findings {
        if let Some(span) = &f.span {
            assert_inside(text, span, f.code);
            let _ = file.line_col(span.start);
            let _ = file.line_col(span.end);
        }
        for edit in f.fix.iter().flat_map(|fix| &fix.edits) {
            assert_inside(text, &edit.span, "fix edit");
        }
    }
}

/// A request body sent to `POST /validate` → the response, as the webhook decides it (offline).
pub fn admission_review(data: &[u8]) {
    let Ok(decoded) = review::decode(data) else {
        return; // answered 400
    };
    let uid = decoded.request.uid.clone();
    let answer = review::answer(&decoded, &Settings::default(), Vec::new());
    assert_eq!(answer.response.uid, uid, "the response answers the request");
    let body = serde_json::to_vec(&answer.response.into_review()).expect("response serialises");
    assert!(!body.is_empty());
}

/// A PromQL query → its analysis, uncached.
pub fn promql(data: &[u8]) {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    match kedalint_rules::promql::analyze_uncached(query) {
        Ok(a) => {
            let spans = a
                .ranges
                .iter()
                .map(|r| &r.span)
                .chain(a.selectors.iter().map(|s| &s.span))
                .chain(a.functions.iter().map(|f| &f.span))
                .chain(a.histogram_quantiles.iter().map(|h| &h.span))
                .chain(a.aggregation_before_rate.iter().map(|x| &x.span));
            for span in spans.flatten() {
                assert_inside(query, span, "analysis");
            }
        }
        Err(problem) => {
            if let Some(o) = problem.offset() {
                assert_inside(query, &(o..o), "problem");
            }
        }
    }
}
