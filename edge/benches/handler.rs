//! The per-prediction handler under Criterion (mean time per request with a confidence
//! interval), the same code path and model as `--bench predict`, which prints the percentiles
//! the product's p99 target is about:
//!
//!     cargo bench -p ebb-edge --bench handler
//!
//! Each iteration is one request, from its JSON body to the response JSON, cycling through
//! 1,000 generated customers.

use criterion::{criterion_group, criterion_main, Criterion};
use ebb_edge::model::LoadedModel;

fn handler(c: &mut Criterion) {
    eprintln!("training the benchmark model (ebb_tests::serving_benchmark; EBB_SERVING_TREES picks its shape)...");
    let (artifact, bodies) = ebb_tests::serving_benchmark();
    let model = LoadedModel::from_json(&artifact).expect("model");
    let mut group = c.benchmark_group("handler (300 trees)");
    for (label, reasons) in [("predict", 0), ("predict?explain=3", 3)] {
        let mut next = 0;
        group.bench_function(label, |b| {
            b.iter(|| {
                let body = &bodies[next % bodies.len()];
                next += 1;
                let customer = model.read(body.as_bytes()).expect("valid body");
                let prediction = model.predict(&customer, reasons).expect("valid customer");
                serde_json::to_string(&prediction).expect("json")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, handler);
criterion_main!(benches);
