//! PromQL analysis for the KL2xx and KL3xx rules.

mod duration;

pub use duration::{format_duration, parse_prom_duration};
