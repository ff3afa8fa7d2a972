//! The edge logic against a real trained artifact: predictions equal the core scorer's,
//! problems are reported by field, and monitoring flags a known injected shift.

use ebb_core::data::synth::{generate_table, SynthParams};
use ebb_core::data::table::Table;
use ebb_core::model::family::Family;
use ebb_core::monitor::Verdict;
use ebb_core::serve::scorer::Scorer;
use ebb_core::train::TrainParams;
use ebb_edge::error::Problem;
use ebb_edge::model::{LoadedModel, Prediction};
use ebb_edge::monitoring::{report, LoggedPrediction, MonitoringReport};
use ebb_edge::request::Record;
use serde_json::json;
use std::sync::OnceLock;

/// A boosted model on enough rows that its out-of-fold score distribution (the drift
/// reference) matches what the final model serves on fresh customers.
fn model() -> &'static (LoadedModel, Table) {
    static MODEL: OnceLock<(LoadedModel, Table)> = OnceLock::new();
    MODEL.get_or_init(train)
}

fn train() -> (LoadedModel, Table) {
    let params = TrainParams::default()
        .with_families(vec![Family::Gbdt])
        .with_folds(4)
        .with_seed(3);
    let (artifact, table, _) = ebb_tests::synthetic_artifact(6000, &params);
    let json = artifact.to_json().unwrap();
    (LoadedModel::from_json(&json).unwrap(), table)
}

fn record(table: &Table, row: usize) -> Record {
    ebb_tests::json_record(table, row)
}

/// `model`'s answer for `r` sent as a request body, checked equal (bit for bit) to its answer
/// for `r` read from the parsed object.
fn predict(model: &LoadedModel, r: &Record, reasons: usize) -> Result<Prediction, Vec<Problem>> {
    let body = serde_json::Value::Object(r.clone()).to_string();
    let typed = model.read(body.as_bytes()).unwrap();
    let answer = model.predict(&typed, reasons);
    let through_object = model.predict(&model.read_record(r).unwrap(), reasons);
    assert_eq!(answer, through_object);
    if let (Ok(a), Ok(b)) = (&answer, &through_object) {
        assert_eq!(a.probability.to_bits(), b.probability.to_bits());
    }
    answer
}

#[test]
fn predictions_equal_the_core_scorer_and_explain_on_request() {
    let (model, table) = model();
    let scorer = Scorer::new(model.artifact());
    let expected = scorer.score_table(table).unwrap();
    for (row, want) in expected.iter().enumerate().take(50) {
        let r = record(table, row);
        let p = predict(model, &r, 0).unwrap();
        let want = want.as_ref().unwrap();
        assert_eq!(
            p.probability.to_bits(),
            want.probability.to_bits(),
            "row {row}"
        );
        assert_eq!(p.decision, want.decision);
        assert_eq!(p.model_version, model.version());
        assert!(p.reasons.is_none() && p.ignored_fields.is_empty(), "{p:?}");
        assert_eq!(p.customer_id, r["customer_id"].as_str().map(String::from));
    }
    let explained = predict(model, &record(table, 0), 3).unwrap();
    let reasons = explained.reasons.unwrap();
    assert_eq!(reasons.len(), 3);
    assert!(reasons[0].contribution.abs() >= reasons[2].contribution.abs());
}

#[test]
fn every_bad_field_is_reported_and_unknown_fields_are_named() {
    let (model, table) = model();
    let summary = model.summary();
    let required: Vec<&str> = summary
        .inputs
        .iter()
        .filter(|i| i.required)
        .map(|i| i.name.as_str())
        .collect();
    assert!(!required.is_empty(), "{summary:?}");
    let numeric = summary
        .inputs
        .iter()
        .find(|i| i.kind == "numeric")
        .unwrap()
        .name
        .clone();
    let mut r = record(table, 1);
    r.remove(required[0]);
    r.insert(numeric.clone(), json!("lots"));
    r.insert("plan_typo".into(), json!("x"));
    let problems = predict(model, &r, 0).unwrap_err();
    let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
    assert!(fields.contains(&required[0]), "{problems:?}");
    assert!(fields.contains(&numeric.as_str()), "{problems:?}");
    let mut ok = record(table, 1);
    ok.insert("plan_typo".into(), json!("x"));
    assert_eq!(
        predict(model, &ok, 0).unwrap().ignored_fields,
        ["plan_typo"]
    );
    let mut nested = record(table, 1);
    nested.insert(numeric.clone(), json!([1, 2]));
    let problems = predict(model, &nested, 0).unwrap_err();
    assert_eq!(problems[0].field, numeric);
    assert!(problems[0].message.contains("array"), "{problems:?}");
}

#[test]
fn corrupted_artifacts_are_rejected_with_a_reason() {
    let (model, _) = model();
    let json = model.artifact().to_json().unwrap();
    let tampered = json.replacen("\"threshold\":", "\"threshold\":0.0001,\"x\":", 1);
    let e = LoadedModel::from_json(&tampered).unwrap_err();
    assert_eq!(e.status, 400);
    assert!(e.message.contains("rejected"), "{e}");
    assert!(LoadedModel::from_json("{}")
        .unwrap_err()
        .message
        .contains("format_version"));
}

fn logged(model: &LoadedModel, table: &Table, labels: bool) -> Vec<LoggedPrediction> {
    (0..table.n_rows())
        .filter_map(|row| {
            let r = record(table, row);
            let p = predict(model, &r, 0).ok()?;
            let churn = table
                .column_index("churn")
                .map(|c| table.raw(row, c).to_string());
            Some(LoggedPrediction {
                customer_id: p.customer_id.clone(),
                model_version: p.model_version.clone(),
                arm: None,
                probability: p.probability,
                inputs: model.logged_inputs(&model.read_record(&r).unwrap()),
                churned: churn.filter(|_| labels).and_then(|c| match c.as_str() {
                    "1" | "yes" | "true" => Some(1),
                    "0" | "no" | "false" => Some(0),
                    _ => None,
                }),
            })
        })
        .collect()
}

#[test]
fn monitoring_flags_an_injected_shift_and_checks_performance() {
    let (model, _) = model();
    let same =
        generate_table(&SynthParams::default().with_n_customers(2000).with_seed(21)).unwrap();
    let shifted = generate_table(
        &SynthParams::default()
            .with_n_customers(2000)
            .with_seed(22)
            .with_drift(0.8),
    )
    .unwrap();
    let mild = generate_table(
        &SynthParams::default()
            .with_n_customers(2000)
            .with_seed(23)
            .with_drift(0.3),
    )
    .unwrap();
    let calm = report(model, &logged(model, &same, true), (0, 1), Verdict::Drift);
    let perf = calm
        .performance
        .as_ref()
        .expect("labelled rows give performance");
    assert!(perf.rows > 1000 && !perf.degraded, "{perf:?}");
    assert!(!calm.alert, "{:?}", calm.alert_reasons);
    assert_eq!(calm.traffic.len(), 1);
    assert_eq!(
        calm.traffic[0].score_histogram.iter().sum::<u64>(),
        calm.predictions
    );

    // Strong drift: seven of 24 columns move, past the documented 20%-of-columns rule.
    let moved = report(
        model,
        &logged(model, &shifted, false),
        (0, 1),
        Verdict::Drift,
    );
    assert_eq!(moved.status, "drift");
    assert!(moved.alert);
    // The dashboard reads stored reports back.
    let stored = serde_json::to_string(&moved).unwrap();
    assert_eq!(
        serde_json::from_str::<MonitoringReport>(&stored).unwrap(),
        moved
    );
    assert!(
        moved.alert_reasons[0].contains("input columns drifted"),
        "{:?}",
        moved.alert_reasons
    );
    let drift = moved.drift.as_ref().unwrap();
    let drifted: Vec<&str> = drift
        .columns
        .iter()
        .filter(|c| c.verdict == Verdict::Drift)
        .map(|c| c.name.as_str())
        .collect();
    assert!(
        drifted.contains(&"plan") && drifted.contains(&"region"),
        "{drifted:?}"
    );
    // The alert names every flagged column, with its verdict.
    let flagged = moved.flagged_columns();
    assert!(flagged.len() >= drifted.len(), "{flagged:?}");
    for column in &flagged {
        assert!(
            moved.alert_reasons[0].contains(&format!("{column} (")),
            "{column}: {:?}",
            moved.alert_reasons
        );
    }
    assert!(moved.performance.is_none() && !moved.notes.is_empty());

    // Mild drift: a `warn`, which alerts only when the operator asks for `warn`.
    let mild_rows = logged(model, &mild, false);
    let mild_report = report(model, &mild_rows, (0, 1), Verdict::Drift);
    assert_eq!(
        mild_report.status,
        "warn",
        "{:?}",
        mild_report.drift.map(|d| d.recommendation)
    );
    assert!(!mild_report.alert);
    let watched = report(model, &mild_rows, (0, 1), Verdict::Warn);
    assert!(watched.alert, "{:?}", watched.notes);

    let few = report(
        model,
        &logged(model, &same, false)[..10],
        (0, 1),
        Verdict::Drift,
    );
    assert!(
        few.drift.is_none() && few.notes[0].contains("at least"),
        "{:?}",
        few.notes
    );
}

#[test]
fn a_rehashed_artifact_with_a_bad_feature_index_is_rejected() {
    use ebb_core::model::family::Model;
    let (model, _) = model();
    let mut crafted = model.artifact().clone();
    let Model::Gbdt(boost) = &mut crafted.model else {
        panic!("trained gbdt")
    };
    boost.trees[1].feature[0] = 10_000;
    let crafted = crafted.restamped().unwrap();
    let e = LoadedModel::from_json(&serde_json::to_string(&crafted).unwrap()).unwrap_err();
    assert_eq!(e.status, 400);
    assert!(
        e.message
            .contains("model.trees[1].feature[0] = 10000 is out of range"),
        "{e}"
    );
}
