//! The Rust side of the FFI-call benchmark: the same "list 50 leads" call the Kotlin and Swift
//! harnesses make, timed on the core `Store` directly, through the `FieldStore` adapter (no
//! FFI), and the adapter plus uniffi's serialisation of the page into a RustBuffer (the Rust
//! side of a foreign call), over the same data (1,000 leads). Prints one `rust ... ns/call` line
//! per variant.
//! Run: cargo run --release -p fieldsales-ffi --example list_bench [ITERATIONS]

use std::time::Instant;

use fieldsales_core::{LeadDraft, LeadQuery};
use fieldsales_ffi::{FieldStore, LeadPage};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let iterations: u32 = std::env::args().nth(1).map(|s| s.parse()).transpose()?.unwrap_or(20_000);
    let dir = tempfile::tempdir()?;
    let store = FieldStore::open(
        dir.path().join("bench.db").to_string_lossy().into_owned(),
        "rep-bench".into(),
        "KR".into(),
    )?;
    let drafts = (0..1_000)
        .map(|i| LeadDraft {
            name: Some(format!("김민지 {i}")),
            company: Some(format!("Acme {}", i % 37)),
            emails: vec![format!("lead{i}@acme.co.kr")],
            phones: vec![format!("010-1234-{:04}", i % 10_000)],
            tags: vec!["expo".into()],
            ..Default::default()
        })
        .collect();
    store.create_leads(drafts)?;
    let query = LeadQuery { limit: 50, ..Default::default() };

    let core = store.core();
    let time = |label: &str, f: &dyn Fn() -> usize| {
        for _ in 0..iterations / 10 {
            assert_eq!(f(), 50);
        }
        let t = Instant::now();
        let mut n = 0;
        for _ in 0..iterations {
            n += f();
        }
        let ns = t.elapsed().as_nanos() as f64 / iterations as f64;
        assert_eq!(n, 50 * iterations as usize);
        println!("rust {label} list 50 leads: {ns:.0} ns/call ({iterations} calls)");
    };
    time("core Store::list_leads", &|| core.list_leads(&query).map(|p| p.items.len()).unwrap_or(0));
    time("FieldStore::list_leads (adapter, no FFI)", &|| {
        store.list_leads(query.clone()).map(|p| p.items.len()).unwrap_or(0)
    });
    // What the FFI adds on the Rust side: the page serialised into the RustBuffer a foreign
    // call gets (uniffi's `Lower`), then that buffer freed, as the foreign side does.
    time("FieldStore::list_leads + serialised into a RustBuffer (no FFI)", &|| {
        let Ok(page) = store.list_leads(query.clone()) else { return 0 };
        let n = page.items.len();
        <LeadPage as uniffi::Lower<fieldsales_ffi::UniFfiTag>>::lower(page).destroy();
        n
    });
    Ok(())
}
