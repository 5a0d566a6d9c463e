//! The spread of single captures, not only their median: 3,000 typical leads captured one by
//! one into a new store, each timed, then the 50th, 95th, 99th and 99.9th percentiles and the
//! slowest. A capture that happens to trigger a checkpoint shows in the tail, which criterion's
//! median of many runs hides.
//!
//! ```text
//! cargo build --release -p fieldsales-core --example capture_latency
//! target/release/examples/capture_latency          # back to back, as an import writes
//! target/release/examples/capture_latency 3000 5   # 5 ms between captures (a rep: seconds)
//! ```

use std::time::Instant;

use fieldsales_core::{OpenOptions, Store};

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(3_000);
    let pause: u64 = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(0);
    let dir = tempfile::tempdir().expect("temp dir");
    let s = Store::open(dir.path().join("s.db"), OpenOptions::new("rep01").region("KR"))
        .expect("open store");
    let drafts = testkit::drafts(11, n, &testkit::companies());
    let mut took: Vec<f64> = Vec::with_capacity(n);
    for d in drafts {
        let t = Instant::now();
        s.create_lead(d).expect("capture");
        took.push(t.elapsed().as_secs_f64() * 1e3);
        std::thread::sleep(std::time::Duration::from_millis(pause));
    }
    let total: f64 = took.iter().sum();
    took.sort_by(f64::total_cmp);
    let at = |q: f64| took[((took.len() as f64 * q) as usize).min(took.len() - 1)];
    println!(
        "{n} captures, {pause} ms apart: p50 {:.3} ms, p95 {:.3} ms, p99 {:.3} ms, p99.9 {:.3} ms, slowest {:.3} ms, mean {:.3} ms (load average {})",
        at(0.5),
        at(0.95),
        at(0.99),
        at(0.999),
        took[took.len() - 1],
        total / n as f64,
        testkit::bench::load_average()
    );
}
