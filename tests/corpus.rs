//! Linting every file of the shared corpus completes without a panic or a hang.

use kedalint_rules::{Settings, SourceFile, lint_files};
use kedalint_tests::{corpus_files, shared};

#[test]
fn every_corpus_file_lints_without_panicking() {
    let Some(shared) = shared() else {
        eprintln!("SKIPPED: ../shared/corpus is absent; the corpus test did not run");
        return;
    };
    let files = corpus_files(&shared);
    assert!(
        files.len() > 50,
        "expected the corpus, found {} files",
        files.len()
    );
    let sources: Vec<SourceFile> = files
        .iter()
        .map(|p| {
            SourceFile::new(
                p.display().to_string(),
                String::from_utf8_lossy(&std::fs::read(p).expect("read")).into_owned(),
            )
        })
        .collect();
    let reports = lint_files(sources, &Settings::default());
    assert_eq!(reports.len(), files.len());
    let objects: usize = reports.iter().map(|r| r.objects).sum();
    assert!(
        objects >= 40,
        "only {objects} KEDA objects found in the corpus"
    );
}
