//! Command-line arguments (clap derive). Interfaces are fixed by DESIGN.md.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Lint KEDA ScaledObjects and their Prometheus triggers before they reach the cluster.
///
/// Reads files, directories (recursively: *.yaml, *.yml, *.json) or `-` for stdin.
/// Exit codes: 0 no finding at or above --fail-on, 1 findings at or above it, 2 usage, I/O or
/// configuration error.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl-kedalint",
    bin_name = "kubectl kedalint",
    version,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// What to do; `lint` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Lint options (when no subcommand is given).
    #[command(flatten)]
    pub lint: LintArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Lint files, directories or stdin (the default).
    Lint(LintArgs),
    /// Replay ScaledObjects over a past window of their real Prometheus data: what KEDA and the
    /// HPA would have done, tick by tick (open loop: the history is what it was).
    Replay(ReplayArgs),
    /// List every rule.
    Rules,
    /// Print a rule's documentation, e.g. `explain KL202`.
    Explain {
        /// A rule code (KL202) or name (rate-window-too-short).
        rule: String,
    },
    /// Run a language server over stdin/stdout (LSP): diagnostics, quick fixes and hover in
    /// editors. See the README for Neovim, Helix and VS Code.
    Lsp,
    /// Print a shell completion script to stdout, e.g. `completions bash`.
    #[command(hide = true)]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout.
    #[command(hide = true)]
    Man,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Diagnostics with the source line and a caret under the problem.
    Human,
    /// JSON, format version 1 (see the README).
    Json,
    /// SARIF 2.1.0, for code scanning (GitHub, GitLab, Azure DevOps).
    Sarif,
    /// GitHub Actions workflow commands: annotations on the pull request.
    Github,
    /// JUnit XML: a test suite per file, a test case per KEDA object.
    Junit,
}

/// Severity threshold for a failing exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Fail on errors.
    Error,
    /// Fail on warnings and errors.
    Warning,
    /// Fail on any finding.
    Info,
    /// Never fail because of findings.
    Never,
}

/// Options of `lint`.
#[derive(Debug, Clone, Args, Default)]
pub struct LintArgs {
    /// Files or directories to lint; `-` reads stdin. Default: the current directory.
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
    /// Output format; repeat with --output to write several formats in one run.
    #[arg(long = "format", short = 'f', value_enum)]
    pub formats: Vec<Format>,
    /// Write the preceding --format to this file instead of stdout.
    #[arg(long = "output", short = 'o', value_name = "FILE")]
    pub outputs: Vec<PathBuf>,
    /// Lowest severity that makes the exit code 1 [default: error, or failOn in the configuration].
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// Scrape interval to assume when nothing better is known (e.g. 30s).
    #[arg(long, value_name = "DURATION")]
    pub scrape_interval: Option<String>,
    /// Configuration file [default: .kedalint.yaml found upward from the working directory].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// KEDA version the rules assume (X.Y) [default: the newest the rules know, 2.20].
    #[arg(long, value_name = "X.Y")]
    pub keda_version: Option<String>,
    /// Probe the Prometheus servers the triggers name (read-only GETs, 10 s budget): live
    /// results, live scrape intervals, the KL4xx rules. In-cluster addresses need
    /// `prometheus.addressMap` in the configuration.
    #[arg(long)]
    pub online: bool,
    /// Lint the ScaledObjects of the current kubeconfig context (with the Services their
    /// addresses name) instead of files, unless paths are given too.
    #[arg(long)]
    pub cluster: bool,
    /// Colour in human output: auto, always or never.
    #[arg(long, default_value = "auto", value_name = "WHEN")]
    pub color: String,
    /// Apply the fixes that do not change how the workload scales, rewriting files in place
    /// (stdin: the fixed text goes to stdout, the report to stderr).
    #[arg(long)]
    pub fix: bool,
    /// With --fix or --diff, also apply fixes that change scaling behaviour.
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Print a unified diff of what --fix would change to stdout, and write nothing
    /// (the report goes to stderr).
    #[arg(long)]
    pub diff: bool,
}

/// Output formats of `replay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReplayFormat {
    /// A short story per object and variant, with a terminal chart.
    Human,
    /// JSON, `"kind": "replay"`, format version 1 (see DESIGN.md / docs/replay.md).
    Json,
}

/// Options of `replay`.
#[derive(Debug, Clone, Args)]
pub struct ReplayArgs {
    /// Files or directories holding the ScaledObjects; `-` reads stdin. Default: the current
    /// directory (none with --cluster).
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
    /// Replay the ScaledObjects of the current kubeconfig context.
    #[arg(long)]
    pub cluster: bool,
    /// Replay only this object: NAMESPACE/NAME, or NAME in any namespace.
    #[arg(long, value_name = "NAMESPACE/NAME")]
    pub object: Option<String>,
    /// Start of the window: RFC 3339 (2026-11-12T10:00:00Z) or relative to now (-30m, -2h, now).
    #[arg(long, value_name = "T", allow_hyphen_values = true)]
    pub from: String,
    /// End of the window (excluded) [default: now].
    #[arg(long, value_name = "T", allow_hyphen_values = true)]
    pub to: Option<String>,
    /// Time between ticks, whole seconds: the HPA sync period [default: 15s].
    #[arg(long, value_name = "DURATION")]
    pub step: Option<String>,
    /// KEDA version to replay (X.Y) [default: the newest the rules know, 2.20].
    #[arg(long, value_name = "X.Y")]
    pub keda_version: Option<String>,
    /// Scrape interval to assume when nothing better is known (what --with-fixes fixes against).
    #[arg(long, value_name = "DURATION")]
    pub scrape_interval: Option<String>,
    /// Configuration file [default: .kedalint.yaml found upward from the working directory].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "human")]
    pub format: ReplayFormat,
    /// Also draw metric, thresholds and replicas per variant into this SVG file.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// Replay beside the original the object after the fixes `--fix` would apply.
    #[arg(long)]
    pub with_fixes: bool,
    /// With --with-fixes (implied), also apply fixes that change scaling behaviour.
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Replicas at the start of the window [default: minReplicaCount].
    #[arg(long, value_name = "N")]
    pub start_replicas: Option<i64>,
    /// Replay beside the original a what-if edit, e.g.
    /// `--set 'spec.triggers[0].metadata.query=...'` (repeatable; paths from the object's root).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
}
