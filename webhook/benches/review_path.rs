//! The CPU time of the webhook's review path alone, without TLS, HTTP or logs: decode a review
//! body, lint and answer it, serialise the answer; and decoding alone, in one pass
//! (`review::decode`) and by way of a `Value` of the whole body (`review::decode_by_value`, the
//! previous way and the reference for errors). Single-threaded; each figure is the best of twenty
//! rounds, so other work on the machine shows less than in a load test:
//! `cargo run --release -p kedalint-webhook --example review_path -- REVIEW.json [ROUNDS_OF=300]`
//! (`scripts/bench-webhook.sh` makes the body with `review_body`).

use std::hint::black_box;
use std::time::{Duration, Instant};

use kedalint_rules::Settings;
use kedalint_webhook::review;

/// The best per-iteration time of twenty rounds of `n` calls.
fn best_of_twenty(n: u32, mut f: impl FnMut()) -> Duration {
    (0..20)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..n {
                f();
            }
            start.elapsed() / n
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: review_path REVIEW.json [ROUNDS_OF]");
        std::process::exit(2);
    };
    let n: u32 = args.next().map_or(300, |a| a.parse().expect("a number"));
    let body = std::fs::read(&path).expect("readable review body");
    let settings = Settings::default();
    let one_pass = best_of_twenty(n, || {
        black_box(review::decode(black_box(&body)).expect("a review"));
    });
    let by_value = best_of_twenty(n, || {
        black_box(review::decode_by_value(black_box(&body)).expect("a review"));
    });
    let decoded = review::decode(&body).expect("a review");
    let lint = best_of_twenty(n, || {
        black_box(review::answer(&decoded, &settings, Vec::new()));
    });
    let answer = review::answer(&decoded, &settings, Vec::new());
    let serialise = best_of_twenty(n, || {
        let review = answer.response.clone().into_review();
        black_box(serde_json::to_vec(&review).expect("serialises"));
    });
    let whole = best_of_twenty(n, || {
        let decoded = review::decode(black_box(&body)).expect("a review");
        let answer = review::answer(&decoded, &settings, Vec::new());
        black_box(serde_json::to_vec(&answer.response.into_review()).expect("serialises"));
    });
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!("decode, one pass:   {:7.1} us", us(one_pass));
    println!("decode, by value:   {:7.1} us", us(by_value));
    println!("lint and answer:    {:7.1} us", us(lint));
    println!("serialise answer:   {:7.1} us", us(serialise));
    println!("whole review path:  {:7.1} us", us(whole));
}
