//! Hostile YAML through the real CLI binary, under a 1 GiB address-space limit (`ulimit -v`): each
//! input must end in a clear finding, not an abort for want of memory or minutes of CPU. Every
//! input here is small; what it would cost without the limits in `rules/src/source/yaml.rs` is
//! noted beside it (docs/limits.md).

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use kedalint_tests::cli_binary;
use serde_json::Value;

/// Address space for the child, in KiB. The CLI needs well under 200 MiB for these inputs.
const MEMORY_KIB: u64 = 1024 * 1024;

/// Runs the CLI on `text` with `ulimit -v`, JSON output, never failing on findings.
fn lint_limited(dir: &Path, name: &str, text: &str) -> (Output, Duration) {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let started = Instant::now();
    let out = run_limited(
        &[
            "--format",
            "json",
            "--fail-on",
            "never",
            path.to_str().unwrap(),
        ],
        std::process::Stdio::null(),
    );
    (out, started.elapsed())
}

/// Runs the CLI with `args` under `ulimit -v`, standard input from `stdin`.
fn run_limited(args: &[&str], stdin: std::process::Stdio) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {MEMORY_KIB} && exec \"$0\" \"$@\""))
        .arg(cli_binary())
        .args(args)
        .stdin(stdin)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// The messages of every finding, after checking the run ended normally.
fn messages(out: &Output) -> Vec<String> {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "the CLI did not end normally (killed or aborted: {:?}): {stderr}",
        out.status
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {}", f["code"], f["message"].as_str().unwrap()))
        .collect()
}

#[test]
fn a_large_scalar_copied_by_many_aliases_is_refused_by_its_bytes() {
    // 1.4 MB that expands to 100,000 copies of 1 MB (100 GB) within the node budget.
    let dir = tempfile::tempdir().unwrap();
    let mut text = format!("a: &x \"{}\"\nb: [", "x".repeat(1 << 20));
    text.push_str(&vec!["*x"; 100_000].join(", "));
    text.push_str("]\n");
    let (out, _) = lint_limited(dir.path(), "scalar-alias.yaml", &text);
    let found = messages(&out);
    assert!(
        found
            .iter()
            .any(|m| m.contains("KL001") && m.contains("bytes of text")),
        "{found:?}"
    );
}

#[test]
fn nested_anchors_are_not_copied_once_per_level() {
    // 8 MB under 200 nested anchors: copying each anchored node costs 200 x 8 MB.
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("k: ");
    for i in 0..200 {
        write!(text, "&a{i} [").unwrap();
    }
    write!(text, "\"{}\"", "y".repeat(8 << 20)).unwrap();
    text.push_str(&"]".repeat(200));
    text.push('\n');
    let (out, _) = lint_limited(dir.path(), "nested-anchors.yaml", &text);
    let found = messages(&out);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn many_small_alias_bombs_share_one_budget() {
    // Each document adds about 66,000 nodes, under a per-document budget of 100,000; 3,000 of
    // them (750 KB) would be 200 million nodes.
    let mut doc = String::from(
        "a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for i in 1..5 {
        let p = i - 1;
        let aliases = vec![format!("*a{p}"); 9].join(",");
        writeln!(doc, "a{i}: &a{i} [{aliases}]").unwrap();
    }
    let text = vec![doc; 3000].join("---\n");
    let dir = tempfile::tempdir().unwrap();
    let (out, _) = lint_limited(dir.path(), "many-bombs.yaml", &text);
    let found = messages(&out);
    let refused = found
        .iter()
        .filter(|m| m.contains("too many nodes"))
        .count();
    assert!(refused >= 2998, "{refused} documents refused");
}

#[test]
fn a_merge_of_many_keys_into_many_keys_takes_linear_time() {
    // 45,000 merged keys against 45,000 written ones: two billion key comparisons when each
    // merged key is looked up by scanning.
    let n = 45_000;
    let mut text = String::from("b: &b {");
    text.push_str(
        &(0..n)
            .map(|i| format!("k{i}: 1"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    text.push_str("}\nu:\n  <<: *b\n");
    for i in 0..n {
        writeln!(text, "  z{i}: 1").unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let (out, elapsed) = lint_limited(dir.path(), "merge.yaml", &text);
    messages(&out);
    // A bound far above the linear cost (well under a second even unoptimised) and far below
    // the quadratic one (over a minute).
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
}

#[test]
fn an_input_over_32_mib_is_refused_with_its_size() {
    let dir = tempfile::tempdir().unwrap();
    let line = "# padding padding padding padding padding padding padding padding\n";
    let text = line.repeat((33 << 20) / line.len());
    let (out, _) = lint_limited(dir.path(), "huge.yaml", &text);
    let found = messages(&out);
    assert!(
        found
            .iter()
            .any(|m| m.contains("KL001") && m.contains("more than the limit of 33554432 bytes")),
        "{found:?}"
    );
}

#[test]
fn a_file_far_over_the_limit_costs_the_limit_in_memory_not_its_size() {
    // A sparse 4 GiB file (no disk blocks): read whole, it needs 4 GiB against the 1 GiB limit.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sparse.yaml");
    std::fs::File::create(&path)
        .unwrap()
        .set_len(4 << 30)
        .unwrap();
    let out = run_limited(
        &[
            "--format",
            "json",
            "--fail-on",
            "never",
            path.to_str().unwrap(),
        ],
        std::process::Stdio::null(),
    );
    let found = messages(&out);
    assert!(
        found.iter().any(|m| m.contains("KL001")
            && m.contains("input is 4294967296 bytes, more than the limit of 33554432 bytes")),
        "{found:?}"
    );
}

#[test]
fn an_endless_input_ends_at_the_limit_instead_of_hanging() {
    // /dev/zero never ends: read whole, it runs until the address-space limit aborts the CLI.
    for (args, stdin) in [
        (vec!["-"], std::fs::File::open("/dev/zero").unwrap().into()),
        (vec!["/dev/zero"], std::process::Stdio::null()),
    ] {
        let mut all = vec!["--format", "json", "--fail-on", "never"];
        all.extend(args);
        let out = run_limited(&all, stdin);
        let found = messages(&out);
        assert!(
            found.iter().any(|m| m.contains("KL001")
                && m.contains("input is more than the limit of 33554432 bytes")),
            "{all:?}: {found:?}"
        );
    }
}

#[test]
fn fix_refuses_to_pass_an_oversized_stdin_through_as_empty() {
    // As a filter (`--fix -`), an input it could not read whole must not come out as "".
    let out = run_limited(
        &["--fix", "--fail-on", "never", "-"],
        std::fs::File::open("/dev/zero").unwrap().into(),
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        out.stdout.is_empty(),
        "{} bytes on stdout",
        out.stdout.len()
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`<stdin>` is over the 32 MiB input limit"),
        "{stderr}"
    );
}

#[test]
fn nesting_deeper_than_256_levels_is_an_error_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("flow.yaml", "[".repeat(100_000)),
        (
            "block.yaml",
            (0..1000).fold(String::new(), |mut s, i| {
                writeln!(s, "{}k{i}:", "  ".repeat(i)).unwrap();
                s
            }),
        ),
    ] {
        let (out, _) = lint_limited(dir.path(), name, &text);
        let found = messages(&out);
        assert!(
            found.iter().any(|m| m.contains("KL001")),
            "{name}: {found:?}"
        );
    }
}

#[test]
fn queries_that_panic_the_promql_parser_are_invalid_promql_findings() {
    // promql-parser panics converting these durations (notes/promql-parser.md §3).
    for query in [
        "rate(x[1e20])",
        "x offset Inf",
        "sum(x[5m:1e30])",
        "x offset -1e30",
    ] {
        let text = format!(
            "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: p\nspec:\n  \
             scaleTargetRef:\n    name: p\n  triggers:\n    - type: prometheus\n      metadata:\n        \
             serverAddress: http://prometheus:9090\n        query: {query}\n        threshold: \"1\"\n"
        );
        let report =
            kedalint_rules::lint_text("so.yaml", &text, &kedalint_rules::Settings::default());
        assert!(
            report.findings.iter().any(|f| f.code == "KL201"),
            "{query}: {:?}",
            report.findings
        );
    }
}

/// One ScaledObject using TriggerAuthentication `auth-{i % 8}` for basic authentication: the even
/// ones exist only in another file (`context.yaml`), without the parameters basic needs (KL106),
/// the odd ones nowhere (nothing can be said). One in five reads a too-short rate window (KL202).
fn scaled_object(i: usize) -> String {
    format!(
        "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: app-{i}\n  namespace: ns-{ns}\nspec:\n  scaleTargetRef:\n    name: app-{i}\n  minReplicaCount: 1\n  maxReplicaCount: {max}\n  triggers:\n    - type: prometheus\n      authenticationRef:\n        name: auth-{auth}\n      metadata:\n        serverAddress: http://prometheus-server.monitoring.svc:80\n        query: sum(rate(http_requests_total{{app=\"app-{i}\"}}[{window}]))\n        threshold: \"{threshold}\"\n        ignoreNullValues: \"false\"\n        authModes: basic\n",
        ns = i % 7,
        max = 5 + i % 20,
        auth = i % 8,
        window = if i.is_multiple_of(5) { "1m" } else { "5m" },
        threshold = 10 + i % 90,
    )
}

/// The findings of a JSON report as `file:line:column code message`, in report order.
fn located(out: &Output) -> Vec<String> {
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}:{}:{} {} {}",
                f["file"].as_str().unwrap(),
                f["line"],
                f["column"],
                f["code"].as_str().unwrap(),
                f["message"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn a_repository_larger_than_memory_allows_to_hold_gives_the_findings_of_small_batches() {
    // 600 files of 40 ScaledObjects (13 MB): their trees alone are about 8 times the text, far
    // over the 256 MiB address space the whole run gets here (threads, stacks and allocator
    // arenas included). TriggerAuthentications in one file serve triggers in all the others.
    const FILES: usize = 600;
    const DOCS: usize = 40;
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    let mut context = String::new();
    for a in (0..8).step_by(2) {
        for ns in 0..7 {
            writeln!(
                context,
                "apiVersion: keda.sh/v1alpha1\nkind: TriggerAuthentication\nmetadata:\n  name: auth-{a}\n  namespace: ns-{ns}\nspec:\n  secretTargetRef:\n    - parameter: bearerToken\n      name: prometheus-token\n      key: token\n---"
            )
            .unwrap();
        }
    }
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(repo.join("context.yaml"), &context).unwrap();
    let mut files = Vec::new();
    for f in 0..FILES {
        let sub = repo.join(format!("team-{}", f % 10));
        std::fs::create_dir_all(&sub).unwrap();
        let docs: Vec<String> = (0..DOCS).map(|d| scaled_object(f * DOCS + d)).collect();
        let path = sub.join(format!("app-{f:04}.yaml"));
        std::fs::write(&path, docs.join("---\n")).unwrap();
        files.push(path);
    }
    files.sort();
    let cwd = dir.path();
    let run = |paths: &[&Path], kib: u64| {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(format!("ulimit -v {kib} && exec \"$0\" \"$@\""))
            .arg(cli_binary())
            .args(["--format", "json", "--fail-on", "never"])
            .args(paths.iter().map(|p| p.strip_prefix(cwd).unwrap()))
            .current_dir(cwd)
            .env("NO_COLOR", "1")
            // One allocator arena per thread reserves 64 MiB of address space each.
            .env("MALLOC_ARENA_MAX", "2");
        let (out, peak_kib) = output_with_peak_rss(&cmd);
        assert_eq!(
            out.status.code(),
            Some(0),
            "the CLI did not end normally ({:?}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        (out, peak_kib)
    };
    let (out, peak_kib) = run(&[&repo], 256 * 1024);
    // The text is 13 MB and its trees about 8 times that; the whole run (a debug build, its
    // report of 12,000 findings, two threads) peaked at about 25 MiB when measured (GNU time). Holding the
    // trees of the repository, or its report, would take it far past this bound.
    if let Some(peak_kib) = peak_kib {
        eprintln!(
            "peak RSS of the whole repository's run: {} MiB",
            peak_kib / 1024
        );
        assert!(
            peak_kib <= REPOSITORY_PEAK_KIB,
            "linting the repository peaked at {} MiB of RSS, over {} MiB",
            peak_kib / 1024,
            REPOSITORY_PEAK_KIB / 1024
        );
    }
    let whole = located(&out);
    // The same files in batches of 25, each with the file of TriggerAuthentications (whose own
    // findings are counted once).
    let context_file = repo.join("context.yaml");
    let mut batched: Vec<String> = located(&run(&[&context_file], MEMORY_KIB).0);
    for batch in files.chunks(25) {
        let mut paths: Vec<&Path> = vec![&context_file];
        paths.extend(batch.iter().map(|p| p.as_path()));
        batched.extend(
            located(&run(&paths, MEMORY_KIB).0)
                .into_iter()
                .filter(|f| !f.starts_with("repo/context.yaml:")),
        );
    }
    batched.sort_by_key(|a| position(a));
    let kl106 = whole.iter().filter(|f| f.contains(" KL106 ")).count();
    assert_eq!(
        kl106,
        FILES * DOCS / 2,
        "every trigger whose TriggerAuthentication is in the other file lacks its parameters"
    );
    assert_eq!(whole.len(), batched.len());
    assert!(
        whole == batched,
        "the whole repository and its batches disagree"
    );
}

/// Peak RSS allowed for the repository of
/// `a_repository_larger_than_memory_allows_to_hold_gives_the_findings_of_small_batches`, in KiB.
const REPOSITORY_PEAK_KIB: u64 = 64 * 1024;

/// GNU time, which reports a process's peak resident set size (`.ci/run` installs it).
const GNU_TIME: &str = "/usr/bin/time";

/// Runs `cmd` to the end under GNU time and returns its output with its peak resident set size
/// in KiB (`None` when GNU time is not installed, outside CI). `exec` in a `sh -c` wrapper keeps
/// the process, so the figure is the CLI's.
fn output_with_peak_rss(cmd: &Command) -> (Output, Option<u64>) {
    let report = tempfile::NamedTempFile::new().unwrap();
    let timed = Path::new(GNU_TIME).is_file();
    if !timed {
        assert!(
            std::env::var_os("CI").is_none(),
            "{GNU_TIME} is missing: apt-get install -y time"
        );
        eprintln!("skipped the peak RSS check: {GNU_TIME} is missing (apt-get install -y time)");
    }
    let mut run = if timed {
        let mut c = Command::new(GNU_TIME);
        c.arg("-o").arg(report.path()).args(["-f", "%M"]);
        c.arg(cmd.get_program());
        c
    } else {
        Command::new(cmd.get_program())
    };
    run.args(cmd.get_args());
    if let Some(dir) = cmd.get_current_dir() {
        run.current_dir(dir);
    }
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            run.env(k, v);
        }
    }
    let out = run.output().unwrap();
    let peak = timed.then(|| {
        let text = std::fs::read_to_string(report.path()).unwrap();
        text.lines()
            .filter_map(|l| l.trim().parse().ok())
            .next_back()
            .unwrap_or_else(|| panic!("no peak RSS in GNU time's report: {text:?}"))
    });
    (out, peak)
}

/// The order of the JSON report: file, line, column, code.
fn position(f: &str) -> (String, usize, usize, String) {
    let (at, rest) = f.split_once(' ').unwrap();
    let mut parts = at.rsplitn(3, ':');
    let column = parts.next().unwrap().parse().unwrap();
    let line = parts.next().unwrap().parse().unwrap();
    let file = parts.next().unwrap().to_owned();
    let code = rest.split(' ').next().unwrap().to_owned();
    (file, line, column, code)
}
