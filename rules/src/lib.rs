//! kedalint's rule engine: reads KEDA ScaledObjects (YAML with byte spans, or JSON) and reports
//! what will make their Prometheus triggers fail to scale. Pure: no network, terminal or async.
//!
//! ```
//! let report = kedalint_rules::lint_text("so.yaml", "apiVersion: keda.k8s.io/v1alpha1\nkind: ScaledObject\n", &Default::default());
//! assert_eq!(report.findings[0].code, "KL003");
//! ```

mod checker;
pub mod duration;
pub mod facts;
pub mod finding;
pub mod keda;
pub mod lint;
pub mod model;
pub mod promql;
pub mod registry;
pub mod replay;
mod rules;
pub mod scrape;
pub mod settings;
pub mod source;
mod suppression;
#[cfg(test)]
mod test_rng;

pub use finding::{Edit, Finding, Fix, ObjectRef, Severity};
pub use lint::{
    FileReport, Inventory, ParsedFile, count_by_severity, inventory_of, lint_files, lint_node,
    lint_parsed, lint_text, lint_value,
};
pub use registry::{RULES, RuleInfo};
pub use rules::metadata::malformed_server_address::{ServerUrl, parse_server_address};
pub use settings::{ConfigError, KedaVersion, Settings};
pub use source::SourceFile;
pub use suppression::IGNORE_ANNOTATION;
