//! End-to-end tests of `ebb explain` and `ebb whatif` on the shared telecom churn data.

mod common;
use common::*;

use std::path::PathBuf;

use std::sync::OnceLock;

/// The churn file's path as text ([`common::mlc_churn`]).
fn mlc_churn_path() -> String {
    mlc_churn().to_string_lossy().into_owned()
}

/// A boosted model of mlc_churn, trained once for all tests of this file.
fn model() -> String {
    static MODEL: OnceLock<PathBuf> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let dir = std::env::temp_dir().join(format!("ebb-explain-test-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let out = dir.join("model.json");
            let o = ebb(&[
                "train",
                &mlc_churn_path(),
                "--model",
                "gbdt",
                "--folds",
                "2",
                "--out",
                out.to_str().unwrap(),
                "--json",
            ]);
            json(&o);
            out
        })
        .to_string_lossy()
        .into_owned()
}

/// Data row `n` (1-based) of mlc_churn as a JSON object of its fields (all as text).
fn record(n: usize) -> String {
    let text = std::fs::read_to_string(mlc_churn()).unwrap();
    let mut lines = text.lines();
    let split = |l: &str| -> Vec<String> {
        l.split(',')
            .map(|c| c.trim_matches('"').to_string())
            .collect()
    };
    let header = split(lines.next().unwrap());
    let row = split(lines.nth(n - 1).unwrap());
    let map: serde_json::Map<String, serde_json::Value> = header
        .into_iter()
        .zip(row)
        .map(|(k, v)| (k, serde_json::Value::String(v)))
        .collect();
    serde_json::Value::Object(map).to_string()
}

#[test]
fn explain_one_row_adds_up_and_gives_three_reasons() {
    let v = json(&ebb(&[
        "explain",
        &model(),
        &mlc_churn_path(),
        "--row",
        "3",
        "--top",
        "3",
        "--json",
    ]));
    assert_eq!(v["row"], "3");
    assert_eq!(v["space"], "log_odds");
    let contributions = v["contributions"].as_array().unwrap();
    assert_eq!(
        contributions.len(),
        19,
        "one per input field, one-hot groups merged"
    );
    let sum: f64 = contributions
        .iter()
        .map(|c| c["contribution"].as_f64().unwrap())
        .sum();
    let (base, raw) = (
        v["base_value"].as_f64().unwrap(),
        v["raw_score"].as_f64().unwrap(),
    );
    assert!((base + sum - raw).abs() < 1e-6, "{base} + {sum} != {raw}");
    let p = v["probability"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&p));
    let reasons = v["reasons"].as_array().unwrap();
    assert_eq!(reasons.len(), 3);
    for (r, c) in reasons.iter().zip(contributions) {
        assert_eq!(
            r["column"], c["column"],
            "reasons are the largest contributions"
        );
        let text = r["text"].as_str().unwrap();
        let verb = if r["direction"] == "raised" {
            "raised risk"
        } else {
            "lowered risk"
        };
        assert!(text.starts_with(&format!("{} = ", r["column"].as_str().unwrap())));
        assert!(text.contains(verb), "{text}");
    }
    // Text output names the customer and lists the reasons.
    let o = ebb(&[
        "explain",
        &model(),
        &mlc_churn_path(),
        "--row",
        "3",
        "--top",
        "3",
    ]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("customer 3: churn probability"));
    assert!(stdout(&o).contains("top reasons:"));
}

#[test]
fn explain_table_gives_importance_and_examples() {
    let v = json(&ebb(&[
        "explain",
        &model(),
        &mlc_churn_path(),
        "--sample",
        "100",
        "--examples",
        "2",
        "--top",
        "2",
        "--json",
    ]));
    assert_eq!(v["rows"], 100);
    let importance = v["importance"].as_array().unwrap();
    assert_eq!(importance.len(), 19);
    let values: Vec<f64> = importance
        .iter()
        .map(|c| c["mean_abs"].as_f64().unwrap())
        .collect();
    assert!(values.windows(2).all(|w| w[0] >= w[1]));
    assert!(values[0] > 0.0);
    let examples = v["examples"].as_array().unwrap();
    assert_eq!(examples.len(), 2);
    assert!(examples[0]["reasons"].as_array().unwrap().len() <= 2);
}

#[test]
fn whatif_changes_the_probability_and_suggests() {
    let rec = record(3);
    let v = json(&ebb(&[
        "whatif",
        &model(),
        "--record",
        &rec,
        "--set",
        "number_customer_service_calls=7",
        "--set",
        "international_plan=yes",
        "--json",
    ]));
    let before = v["before"]["probability"].as_f64().unwrap();
    let after = v["after"]["probability"].as_f64().unwrap();
    assert!(
        after != before,
        "changing two strong fields moves the score"
    );
    assert!((v["probability_change"].as_f64().unwrap() - (after - before)).abs() < 1e-12);
    let changed: Vec<&str> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["column"].as_str().unwrap())
        .collect();
    assert!(
        changed.contains(&"number_customer_service_calls")
            && changed.contains(&"international_plan")
    );
    assert!(v["suggestion"].is_null());
    assert!(v["suggestion_note"]
        .as_str()
        .unwrap()
        .contains("no actionable fields were given"));

    // Same record from a file, with actionable fields: the search only touches those.
    let dir = std::env::temp_dir().join(format!("ebb-explain-rec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("record.json");
    std::fs::write(&file, &rec).unwrap();
    let at_file = format!("@{}", file.display());
    let v = json(&ebb(&[
        "whatif",
        &model(),
        "--record",
        &at_file,
        "--set",
        "number_customer_service_calls=7",
        "--set",
        "international_plan=yes",
        "--actionable",
        "number_customer_service_calls,voice_mail_plan",
        "--json",
    ]));
    let s = &v["suggestion"];
    assert_eq!(s["probability_before"].as_f64().unwrap(), after);
    for c in s["changes"].as_array().unwrap() {
        let col = c["column"].as_str().unwrap();
        assert!(col == "number_customer_service_calls" || col == "voice_mail_plan");
    }
    assert_eq!(
        s["reached"].as_bool().unwrap(),
        s["probability_after"].as_f64().unwrap() < s["threshold"].as_f64().unwrap()
    );
}

#[test]
fn bad_input_exits_2_naming_the_problem() {
    let m = model();
    let data = mlc_churn_path();
    fails_with(
        &["explain", &m, &data, "--row", "99999"],
        2,
        "no data row 99999",
    );
    fails_with(
        &["explain", &m, &data, "--row", "abc"],
        2,
        "1-based row number",
    );
    let rec = record(1);
    fails_with(
        &["whatif", &m, "--record", &rec, "--set", "shoe_size=42"],
        2,
        "unknown field `shoe_size`",
    );
    fails_with(
        &["whatif", &m, "--record", &rec, "--set", "no_equals"],
        2,
        "expected field=value",
    );
    fails_with(
        &["whatif", &m, "--record", "{not json"],
        2,
        "--record: invalid JSON",
    );
    fails_with(
        &["whatif", &m, "--record", "[1, 2]"],
        2,
        "expected a JSON object",
    );
    fails_with(
        &[
            "whatif",
            &m,
            "--record",
            &rec,
            "--set",
            "total_day_minutes=lots",
        ],
        2,
        "field `total_day_minutes`: `lots` is not a valid number",
    );
    fails_with(
        &["whatif", &m, "--record", &rec, "--actionable", "shoe_size"],
        2,
        "--actionable: unknown field `shoe_size`",
    );
}
