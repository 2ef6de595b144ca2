//! Writes a generated manifest repository for the CLI benchmark:
//! `cargo run --release -p kedalint-rules --example gen_repo -- DIR [FILES] [DOCS_PER_FILE]
//! [--shape keda|gitops] [--scale N]`.
//!
//! `keda` (the default): 1,000 files of 10 documents, 9 ScaledObjects and 1 ServiceMonitor each,
//! every query distinct (7.9 MB). `gitops`: 2,000 files of 10 rendered Deployments, Services and
//! ConfigMaps as `helm template` prints them, one document in 100 a ScaledObject (18 MB).
//! `--scale N` multiplies the default number of files. The same arguments write the same bytes.

#[path = "../benches/gen/mod.rs"]
mod generate;

use generate::Shape;

fn usage(message: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!(
            "{message}\nusage: gen_repo DIR [FILES] [DOCS_PER_FILE] [--shape keda|gitops] [--scale N]"
        ),
    )
}

fn main() -> std::io::Result<()> {
    let mut shape = Shape::KedaDense;
    let mut scale = 1_usize;
    let mut positional = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--shape" => {
                let name = args.next().unwrap_or_default();
                shape =
                    Shape::parse(&name).ok_or_else(|| usage(&format!("unknown shape {name:?}")))?;
            }
            "--scale" => {
                let n = args.next().unwrap_or_default();
                scale =
                    n.parse().ok().filter(|&s| s > 0).ok_or_else(|| {
                        usage(&format!("--scale wants a positive number, not {n:?}"))
                    })?;
            }
            _ => positional.push(arg),
        }
    }
    let mut positional = positional.into_iter();
    let dir = std::path::PathBuf::from(
        positional
            .next()
            .unwrap_or_else(|| "target/bench-repo".to_owned()),
    );
    let number = |arg: Option<String>, default: usize| match arg {
        None => Ok(default),
        Some(a) => a
            .parse()
            .map_err(|_| usage(&format!("not a number: {a:?}"))),
    };
    let files = number(positional.next(), shape.files() * scale)?;
    let docs = number(positional.next(), 10)?;
    for f in 0..files {
        let sub = dir.join(format!("team-{}", f % 20));
        std::fs::create_dir_all(&sub)?;
        std::fs::write(sub.join(format!("app-{f}.yaml")), shape.file(f, docs))?;
    }
    println!(
        "wrote {files} files with {docs} documents each ({} shape, {} ScaledObjects) under {}",
        shape.name(),
        shape.scaled_objects(files * docs),
        dir.display()
    );
    Ok(())
}
