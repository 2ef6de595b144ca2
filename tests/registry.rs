//! The rule registry keeps the public contract of ../shared/RULES.md: unique codes, exact names
//! and severities, and documentation with an example for every rule. Generated docs are current.

use std::collections::BTreeSet;

use kedalint_rules::{RULES, registry::markdown_page};
use kedalint_tests::{shared, workspace};

#[test]
fn codes_are_unique_and_in_order() {
    let codes: Vec<&str> = RULES.iter().map(|r| r.code).collect();
    let unique: BTreeSet<&str> = codes.iter().copied().collect();
    assert_eq!(unique.len(), codes.len(), "duplicate codes");
    let mut sorted = codes.clone();
    sorted.sort_unstable();
    assert_eq!(codes, sorted);
    let names: BTreeSet<&str> = RULES.iter().map(|r| r.name).collect();
    assert_eq!(names.len(), codes.len(), "duplicate names");
}

#[test]
fn codes_names_and_severities_match_the_catalogue() {
    let Some(shared) = shared() else {
        eprintln!("SKIPPED: ../shared is absent, the catalogue cannot be compared");
        return;
    };
    let catalogue = std::fs::read_to_string(shared.join("RULES.md")).expect("RULES.md");
    let mut rows = std::collections::BTreeMap::new();
    // Ranges for rules being added (`| KL320–KL339 | … |`): the registry is their catalogue.
    let mut open_ranges = Vec::new();
    for line in catalogue.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() > 4 && cells[1].starts_with("KL") && cells[1].len() == 5 {
            rows.insert(
                cells[1].to_owned(),
                (cells[2].to_owned(), cells[3].to_owned()),
            );
        } else if cells.len() > 2
            && let Some((from, to)) = cells[1].split_once('–')
            && from.starts_with("KL")
        {
            open_ranges.push((from.to_owned(), to.to_owned()));
        }
    }
    assert!(rows.len() > 50, "catalogue not read");
    assert!(!open_ranges.is_empty(), "ranges for new rules not read");
    for r in RULES {
        let Some((name, sev)) = rows.get(r.code) else {
            // A rule added after the catalogue: the registry and docs/rules are its record. It
            // takes a code in a range RULES.md opens for new rules, or a new code in its group
            // after every code the catalogue lists there (a code is never reused).
            let in_open_range = open_ranges
                .iter()
                .any(|(from, to)| (from.as_str()..=to.as_str()).contains(&r.code));
            let group = &r.code[..3];
            let last = rows
                .keys()
                .filter(|c| c.starts_with(group))
                .max()
                .unwrap_or_else(|| panic!("{} is in no group of RULES.md", r.code));
            assert!(
                in_open_range || r.code > last.as_str(),
                "{} is not in RULES.md, in no range it opens, and not after its group's last code {last}",
                r.code
            );
            continue;
        };
        assert_eq!(r.name, name, "{} name", r.code);
        assert_eq!(r.severity.as_str(), sev, "{} severity", r.code);
    }
}

#[test]
fn every_rule_has_documentation_with_an_example() {
    for r in RULES {
        for section in [
            "## What it does",
            "## Why is this bad?",
            "## Example",
            "Use instead:",
            "```yaml",
        ] {
            assert!(r.doc.contains(section), "{} doc lacks {section:?}", r.code);
        }
        assert!(!r.summary().is_empty(), "{} has no summary", r.code);
    }
}

/// `docs/rules/KLxxx.md` are generated from the rule documentation; regenerate with
/// `KEDALINT_UPDATE_DOCS=1 cargo test -p kedalint-tests --test registry`.
#[test]
fn generated_rule_pages_are_current() {
    let dir = workspace().join("docs").join("rules");
    let update = std::env::var_os("KEDALINT_UPDATE_DOCS").is_some();
    let mut stale = Vec::new();
    let mut index = String::from(
        "# Rules\n\nGenerated from the rule documentation; `kubectl kedalint explain CODE` prints the same page.\n\n| code | name | severity | applies to | what it does |\n|---|---|---|---|---|\n",
    );
    for r in RULES {
        index.push_str(&format!(
            "| [{}]({}.md) | {} | {} | {} | {} |\n",
            r.code,
            r.code,
            r.name,
            r.severity,
            r.applies,
            r.summary()
        ));
        let path = dir.join(format!("{}.md", r.code));
        let page = markdown_page(r);
        if update {
            std::fs::create_dir_all(&dir).expect("create docs/rules");
            std::fs::write(&path, &page).expect("write page");
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(page.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    let index_path = dir.join("README.md");
    if update {
        std::fs::write(&index_path, &index).expect("write index");
    } else if std::fs::read_to_string(&index_path).ok().as_deref() != Some(index.as_str()) {
        stale.push(index_path.display().to_string());
    }
    assert!(
        stale.is_empty(),
        "stale generated docs (run KEDALINT_UPDATE_DOCS=1 cargo test -p kedalint-tests --test registry): {stale:?}"
    );
}
