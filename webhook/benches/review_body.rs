//! Prints an AdmissionReview v1 (CREATE) for the first ScaledObject of a YAML file, the body
//! `scripts/bench-webhook.sh` and `scripts/soak-webhook.sh` post:
//! `cargo run --release -p kedalint-webhook --example review_body -- examples/inference-p95-latency.yaml`.

#[path = "../tests/common/mod.rs"]
mod common;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: review_body FILE.yaml");
        std::process::exit(2);
    };
    let text = std::fs::read_to_string(&path).expect("readable YAML file");
    let object = common::yaml_documents(&text)
        .into_iter()
        .find(|d| d["kind"] == "ScaledObject")
        .expect("a ScaledObject in the file");
    let review = common::review_for(&object, "CREATE", "bench-0001");
    println!("{review}");
}
