//! Writes a generated manifest repository for the CLI benchmark:
//! `cargo run --release -p kedalint-rules --example gen_repo -- DIR [FILES] [DOCS_PER_FILE]`.

#[path = "../benches/gen/mod.rs"]
mod generate;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(
        args.next()
            .unwrap_or_else(|| "target/bench-repo".to_owned()),
    );
    let files: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let docs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    for f in 0..files {
        let sub = dir.join(format!("team-{}", f % 20));
        std::fs::create_dir_all(&sub)?;
        std::fs::write(
            sub.join(format!("app-{f}.yaml")),
            generate::file(f * docs, docs, 1 + f % 3),
        )?;
    }
    println!(
        "wrote {files} files with {docs} documents each under {}",
        dir.display()
    );
    Ok(())
}
