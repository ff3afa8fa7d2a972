//! Compute per prediction, from request JSON to response JSON, with the worker's own code path
//! (`LoadedModel::read` → `LoadedModel::predict` → `serde_json::to_string`), natively:
//!
//!     cargo bench -p ebb-edge --bench predict
//!     EBB_SERVING_TREES=symmetric cargo bench -p ebb-edge --bench predict   # 6-level symmetric trees
//!
//! Trains a 300-tree, 31-leaf boosted model on 20,000 generated customers (no early stopping),
//! then times 20,000 single-customer requests each without reasons and with `?explain=3`, and
//! prints p50/p90/p99/max in microseconds and the heap allocations one request makes. Timings
//! of single calls (not averages) so the tail shows; `--bench handler` (Criterion) gives means
//! with confidence intervals of the same code. Run on an otherwise idle machine for meaningful
//! tails.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use ebb_edge::model::LoadedModel;

const REQUESTS: usize = 20_000;

/// The system allocator, counting allocations (and reallocations, which may move) so the table
/// can say how many a request makes: each is a call into the allocator on the hot path.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn main() {
    eprintln!("training the benchmark model (ebb_tests::serving_benchmark; EBB_SERVING_TREES picks its shape)...");
    let (artifact, bodies) = ebb_tests::serving_benchmark();
    let model = LoadedModel::from_json(&artifact).expect("model");
    let trees = match &model.artifact().model {
        ebb_core::model::family::Model::Gbdt(m) => m.trees.len(),
        _ => 0,
    };
    println!("| request | trees | p50 µs | p90 µs | p99 µs | max µs | allocations |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (label, reasons) in [("predict", 0), ("predict?explain=3", 3)] {
        let handle = |b: &str| {
            let customer = model.read(b.as_bytes()).expect("valid body");
            let prediction = model.predict(&customer, reasons).expect("valid customer");
            serde_json::to_string(&prediction).expect("json")
        };
        for b in &bodies {
            std::hint::black_box(handle(b));
        }
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        for b in &bodies {
            std::hint::black_box(handle(b));
        }
        let allocations =
            (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / bodies.len() as f64;
        let mut micros: Vec<f64> = (0..REQUESTS)
            .map(|i| {
                let start = Instant::now();
                std::hint::black_box(handle(&bodies[i % bodies.len()]));
                start.elapsed().as_secs_f64() * 1e6
            })
            .collect();
        micros.sort_by(f64::total_cmp);
        println!(
            "| `{label}` | {trees} | {:.1} | {:.1} | {:.1} | {:.1} | {allocations:.1} |",
            percentile(&micros, 0.5),
            percentile(&micros, 0.9),
            percentile(&micros, 0.99),
            micros[micros.len() - 1]
        );
    }
}
