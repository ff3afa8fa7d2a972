//! The one scoring path: batch scoring of a table, scoring one row of values and scoring a JSON
//! record must agree exactly, for every model family, and bad fields are all reported.

use ebb_core::model::family::Family;
use ebb_core::serve::scorer::Scorer;
use ebb_core::train::TrainParams;
use ebb_tests::synthetic_artifact;

#[test]
fn table_row_and_json_scoring_agree_for_every_family() {
    for family in Family::ALL {
        let params = TrainParams::default()
            .with_families(vec![family])
            .with_folds(2)
            .with_seed(3);
        let (artifact, table, _) = synthetic_artifact(600, &params);
        assert_eq!(artifact.family(), family);
        let scorer = Scorer::new(&artifact);
        let batch = scorer.score_table(&table).unwrap();
        let names: Vec<String> = scorer.input_names().map(String::from).collect();
        for r in (0..table.n_rows()).step_by(37) {
            let columns: Vec<usize> = names
                .iter()
                .map(|n| table.column_index(n).unwrap())
                .collect();
            let values: Vec<_> = columns.iter().map(|&c| table.value(r, c)).collect();
            let single = scorer.score_values(&values, None, r + 1).unwrap();
            let from_batch = batch[r].as_ref().unwrap();
            assert_eq!(
                single.probability.to_bits(),
                from_batch.probability.to_bits(),
                "{family:?} row {r}"
            );
            let mut record = serde_json::Map::new();
            for (name, &c) in names.iter().zip(&columns) {
                let raw = table.raw(r, c);
                let value = match raw.parse::<f64>() {
                    Ok(x) => serde_json::json!(x),
                    Err(_) if raw.is_empty() => serde_json::Value::Null,
                    Err(_) => serde_json::json!(raw),
                };
                record.insert(name.clone(), value);
            }
            let from_json = scorer.score_json(&record).unwrap();
            assert!(
                (from_json.probability - single.probability).abs() < 1e-12,
                "{family:?} row {r}"
            );
        }
    }
}

#[test]
fn json_scoring_lists_every_bad_field() {
    let params = TrainParams::default()
        .with_families(vec![Family::Gbdt])
        .with_folds(2);
    let (artifact, _, _) = synthetic_artifact(400, &params);
    let scorer = Scorer::new(&artifact);
    let record = serde_json::json!({
        "monthly_fee": "lots", "tenure_months": [1, 2], "signup_date": "not a date", "plan": "basic"
    });
    let errors = scorer.score_json(record.as_object().unwrap()).unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        ["signup_date", "monthly_fee", "tenure_months"],
        "{errors:?}"
    );
    assert_eq!(errors[1].message, "`lots` is not a valid number");
    assert_eq!(
        errors[2].message,
        "expected a number, string or null, got an array"
    );
    // Absent fields are missing values, not errors: an empty record still scores.
    let p = scorer
        .score_json(&serde_json::Map::new())
        .unwrap()
        .probability;
    assert!((0.0..=1.0).contains(&p));
}
