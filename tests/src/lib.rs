//! Cross-crate tests live in `tests/tests/`. This library holds the golden-value computation
//! shared by the native test and the `ebb-golden` program that CI also runs as WebAssembly, so
//! the same seed is checked to give the same model, bit for bit, on both targets, and the
//! helpers the edge tests and benchmarks share.

use ebb_core::data::quality::{report, split_quarantine};
use ebb_core::data::schema::{infer, InferOptions};
use ebb_core::data::synth::{generate_table, SynthParams};
use ebb_core::data::table::{is_na, parse_number, Table};
use ebb_core::serve::artifact::{Artifact, TrainingMetadata};
use ebb_core::train::{train, TrainParams};

/// Trains `params` on `n` seeded synthetic customers; returns the artifact, the clean training
/// table and the first five calibrated out-of-fold probabilities.
pub fn synthetic_artifact(n: usize, params: &TrainParams) -> (Artifact, Table, Vec<f64>) {
    let table = generate_table(&SynthParams::default().with_n_customers(n).with_seed(11))
        .expect("synthetic data");
    let inference = infer(&table, &InferOptions::default()).expect("schema");
    let quality = report(&table, &inference.schema);
    let (clean, _) = split_quarantine(&table, &quality);
    let output = train(
        &clean,
        &inference.schema,
        params,
        &mut ebb_core::progress::Reporter::silent(),
        &|| None,
    )
    .expect("training");
    let probabilities: Vec<f64> = output.oof_probabilities.iter().take(5).copied().collect();
    let metadata = TrainingMetadata {
        rows: clean.n_rows(),
        quarantined_rows: 0,
        seed: params.seed,
        data_hash: String::new(),
        created_at: "2026-01-01T00:00:00Z".into(),
        ebb_version: "golden".into(),
        feature_names: output.pipeline.feature_names(),
    };
    let artifact = Artifact::build(
        inference.schema,
        output.pipeline,
        output.model,
        output.calibration,
        output.threshold,
        output.metrics,
        output.reference,
        metadata,
    )
    .expect("artifact");
    (artifact, clean, probabilities)
}

/// Trains all three families on seeded synthetic data and describes the result exactly: the
/// artifact's content-derived id and the bit patterns of a few scores.
pub fn golden_report() -> String {
    let params = TrainParams::default().with_folds(3).with_seed(7);
    let (artifact, clean, probabilities) = synthetic_artifact(1500, &params);
    let scorer = ebb_core::serve::scorer::Scorer::new(artifact);
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
/// bodies.
pub fn serving_benchmark() -> (String, Vec<String>) {
    use ebb_core::model::family::Family;
    let mut params = TrainParams::default()
        .with_families(vec![Family::Gbdt])
        .with_folds(2)
        .with_seed(1);
    params.boost.n_trees = 300;
    params.boost.num_leaves = 31;
    params.boost.early_stopping_rounds = None;
    let (artifact, table, _) = synthetic_artifact(20_000, &params);
    let bodies = (0..1000)
        .map(|r| serde_json::Value::Object(json_record(&table, r)).to_string())
        .collect();
    (artifact.to_json().expect("artifact JSON"), bodies)
}
