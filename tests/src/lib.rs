//! Cross-crate tests live in `tests/tests/`. This library holds the golden-value computation
//! shared by the native test and the `ebb-golden` program that CI also runs as WebAssembly, so
//! the same seed is checked to give the same model, bit for bit, on both targets, and the
//! helpers the edge tests and benchmarks share, among them the route x caller table of the
//! edge API's auth rules ([`auth_table`]).

pub mod auth_table;

use ebb_core::data::ingest::write_csv_record;
use ebb_core::data::synth::{generate_table, SynthParams};
use ebb_core::data::table::{is_na, parse_number, Table};
use ebb_core::model::family::Family;
use ebb_core::progress::{Control, Progress, Reporter};
use ebb_core::serve::artifact::Artifact;
use ebb_core::train::TrainParams;
use ebb_core::workflow::{self, PrepareOptions, RunInfo};

/// The run stamp of every artifact trained here (fixed, so model ids are reproducible).
fn golden_run() -> RunInfo {
    RunInfo {
        created_at: "2026-01-01T00:00:00Z".into(),
        ebb_version: "golden".into(),
    }
}

/// Trains `params` on `n` seeded synthetic customers through core's workflow (prepare, train);
/// returns the artifact, the clean training table and the first five calibrated out-of-fold
/// probabilities.
pub fn synthetic_artifact(n: usize, params: &TrainParams) -> (Artifact, Table, Vec<f64>) {
    let table = generate_table(&SynthParams::default().with_n_customers(n).with_seed(11))
        .expect("synthetic data");
    let prepared = workflow::prepare(
        table,
        String::new(),
        &PrepareOptions::default(),
        &mut Reporter::silent(),
    )
    .expect("prepared data");
    let trained = workflow::train(
        &prepared,
        params,
        &golden_run(),
        &|| None,
        &mut Reporter::silent(),
    )
    .expect("training");
    let probabilities = trained.oof_probabilities.iter().take(5).copied().collect();
    (trained.artifact, prepared.clean, probabilities)
}

/// A table as CSV bytes, as a file on disk would hold it.
pub fn csv_bytes(table: &Table) -> Vec<u8> {
    let mut out = String::new();
    write_csv_record(&mut out, table.names().iter().map(String::as_str), b',');
    for r in 0..table.n_rows() {
        write_csv_record(&mut out, (0..table.n_cols()).map(|c| table.raw(r, c)), b',');
    }
    out.into_bytes()
}

/// Trains all three families on seeded synthetic data and describes the result exactly: the
/// artifact's content-derived id and the bit patterns of a few scores.
pub fn golden_report() -> String {
    let params = TrainParams::default().with_folds(3).with_seed(7);
    let (artifact, clean, probabilities) = synthetic_artifact(1500, &params);
    let scorer = ebb_core::serve::scorer::Scorer::new(&artifact);
    let scores = scorer.score_table(&clean).expect("scores");
    let mut out = format!("model_id {}\n", scorer.artifact().model_id);
    for m in &scorer.artifact().metrics.models {
        out.push_str(&format!(
            "cv_auc {} {:016x}\n",
            m.name,
            m.cv.roc_auc.to_bits()
        ));
    }
    for p in probabilities {
        out.push_str(&format!("oof {:016x}\n", p.to_bits()));
    }
    for s in scores.iter().take(5) {
        let p = s.as_ref().map(|s| s.probability).unwrap_or(f64::NAN);
        out.push_str(&format!("score {:016x}\n", p.to_bits()));
    }
    // Explanations too: tree SHAP's quadrature rules and sums must agree bit for bit.
    let explainer =
        ebb_core::insight::explain::Explainer::new(scorer.artifact()).expect("explainer");
    out.push_str(&format!(
        "explain {} base {:016x}\n",
        scorer.artifact().model.family().name(),
        explainer.base_value().to_bits()
    ));
    for row in 0..3 {
        let explanation = explainer.explain_row(&clean, row).expect("explanation");
        for c in explanation.contributions.iter().take(5) {
            out.push_str(&format!(
                "shap {row} {} {:016x}\n",
                c.column,
                c.contribution.to_bits()
            ));
        }
    }
    out.push_str(&workflow_report());
    out
}

/// The workflow end to end, as the browser runs it: CSV bytes → `workflow::prepare_bytes` →
/// hold-out split → `workflow::train` (boosting only, to keep the wasm run short) → artifact →
/// `workflow::evaluate` on the held-out rows; the evaluation's metrics as bit patterns.
fn workflow_report() -> String {
    let table = generate_table(&SynthParams::default().with_n_customers(1500).with_seed(11))
        .expect("synthetic data");
    let options = PrepareOptions {
        require_target: true,
        ..PrepareOptions::default()
    };
    let prepared = workflow::prepare_bytes(&csv_bytes(&table), &options, &mut Reporter::silent())
        .expect("prepared data");
    let (train_part, test) = workflow::hold_out(&prepared, 7).expect("hold-out split");
    let params = TrainParams::default()
        .with_families(vec![Family::Gbdt])
        .with_folds(3)
        .with_seed(7);
    // Progress as a face sees it: one fraction that never goes back and ends at exactly 1.
    let mut fractions = Vec::new();
    let mut watch = |p: &Progress| {
        fractions.push(p.fraction);
        Control::Continue
    };
    let trained = workflow::train(
        &train_part,
        &params,
        &golden_run(),
        &|| None,
        &mut Reporter::new(&mut watch),
    )
    .expect("training");
    let monotone = fractions.windows(2).all(|w| w[0] <= w[1]);
    let ends_at_one = fractions.last() == Some(&1.0);
    // A cancel at half way: training stops with `Cancelled` and returns no model.
    let mut stop_half_way = |p: &Progress| {
        if p.fraction >= 0.5 {
            Control::Stop
        } else {
            Control::Continue
        }
    };
    let cancelled = workflow::train(
        &train_part,
        &params,
        &golden_run(),
        &|| None,
        &mut Reporter::new(&mut stop_half_way),
    );
    let cancelled = matches!(cancelled, Err(ebb_core::Error::Cancelled { .. }));
    let evaluation =
        workflow::evaluate(&trained.artifact, &test, &mut Reporter::silent()).expect("evaluation");
    let m = &evaluation.metrics;
    let c = &m.confusion;
    let mut out = format!(
        "workflow model_id {} rows {} test {} skipped {}\n\
         workflow progress monotone {monotone} ends_at_one {ends_at_one} cancel_at_half {cancelled}\n",
        trained.artifact.model_id,
        train_part.clean.n_rows(),
        test.n_rows(),
        evaluation.skipped.len()
    );
    for (name, value) in [
        ("roc_auc", m.roc_auc),
        ("pr_auc", m.pr_auc),
        ("log_loss", m.log_loss),
        ("brier", m.brier),
        ("threshold", m.threshold),
        ("f1", m.f1),
    ] {
        out.push_str(&format!("eval {name} {:016x}\n", value.to_bits()));
    }
    out.push_str(&format!(
        "eval confusion tp {} fp {} tn {} fn {}\n",
        c.tp, c.fp, c.tn, c.fn_
    ));
    out
}

/// Row `row` of generated customers as the JSON a CRM would send to the edge API: numbers as
/// JSON numbers, text as strings, missing values left out, the target `churn` left out and
/// `customer_id` kept as text.
pub fn json_record(table: &Table, row: usize) -> serde_json::Map<String, serde_json::Value> {
    table
        .names()
        .iter()
        .enumerate()
        .filter(|(_, name)| name.as_str() != "churn")
        .filter_map(|(c, name)| {
            let raw = table.raw(row, c);
            if is_na(raw) {
                return None;
            }
            let value = match parse_number(raw) {
                Some(x) if name != "customer_id" => serde_json::json!(x),
                _ => serde_json::json!(raw),
            };
            Some((name.clone(), value))
        })
        .collect()
}

/// The serving benchmarks' model and requests (`edge/benches`): a 300-tree, 31-leaf boosted
/// model trained on 20,000 synthetic customers without early stopping (the shape of the HTTP
/// benchmark's LightGBM baseline), as artifact JSON, and the first 1,000 customers as request
/// bodies. With `EBB_SERVING_TREES=symmetric` the 300 trees are symmetric trees of 6 levels with
/// L2 3 (the shape `ebb train` grows from 20,000 rows) instead, to time how those serve; with
/// `EBB_SERVING_TREES=small` the model is `ebb train`'s default gbdt on 5,000 of the customers
/// (7-leaf trees averaged with 300 symmetric ones, the shape of every table under 20,000 rows).
pub fn serving_benchmark() -> (String, Vec<String>) {
    use ebb_core::model::family::Family;
    let mut params = TrainParams::default()
        .with_families(vec![Family::Gbdt])
        .with_folds(2)
        .with_seed(1);
    params.boost.n_trees = 300;
    params.boost.num_leaves = 31;
    params.boost.early_stopping_rounds = None;
    // Exactly this shape at any size: the size rule would grow symmetric trees from 20,000 rows,
    // and the serving targets are stated on this model.
    params.sized = false;
    if std::env::var("EBB_SERVING_TREES").as_deref() == Ok("symmetric") {
        params.boost.tree_shape = ebb_core::model::boost::TreeShape::Symmetric;
        params.boost.lambda_l2 = ebb_core::train::LARGE_TABLE_LAMBDA_L2;
    }
    let small = std::env::var("EBB_SERVING_TREES").as_deref() == Ok("small");
    if small {
        params = TrainParams::default()
            .with_families(vec![Family::Gbdt])
            .with_folds(2)
            .with_seed(1);
    }
    let (artifact, table, _) = synthetic_artifact(if small { 5_000 } else { 20_000 }, &params);
    let bodies = (0..1000)
        .map(|r| serde_json::Value::Object(json_record(&table, r)).to_string())
        .collect();
    (artifact.to_json().expect("artifact JSON"), bodies)
}
