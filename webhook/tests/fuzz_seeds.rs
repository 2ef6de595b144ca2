//! Replays every seed and regression input under `fuzz/seeds/<target>/` through the fuzz targets'
//! own functions (`fuzz/src/lib.rs`) on the stable toolchain, so `cargo test` keeps what the
//! fuzzers checked, and CI needs neither nightly nor cargo-fuzz. The real fuzz runs are local:
//! fuzz/README.md.

#[path = "../../fuzz/src/lib.rs"]
mod targets;

use std::path::Path;

#[test]
fn every_fuzz_seed_passes_its_target() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds");
    let mut replayed = 0;
    for (name, target) in targets::TARGETS {
        let dir = seeds.join(name);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert!(files.len() >= 5, "{name}: only {} seeds", files.len());
        for file in files {
            let data = std::fs::read(&file).unwrap();
            let outcome = std::panic::catch_unwind(|| target(&data));
            assert!(outcome.is_ok(), "{name} panicked on {}", file.display());
            replayed += 1;
        }
    }
    assert!(replayed > 0);
}
