//! End-to-end tests of `ebb drift` on generated data: a drifted batch is flagged with the
//! documented JSON fields, a fresh batch is not, and bad input exits with code 2.

mod common;
use common::*;

use std::path::PathBuf;

/// Trains a small gbdt model on 4,000 generated rows and returns (dir, model path).
fn trained(name: &str) -> (PathBuf, String) {
    let dir = temp_dir(name);
    let train = path(&dir, "train.csv");
    let model = path(&dir, "model.json");
    json(&ebb(&[
        "generate", "--rows", "4000", "--seed", "1", "--out", &train, "--json",
    ]));
    json(&ebb(&[
        "train", &train, "--model", "gbdt", "--folds", "2", "--out", &model, "--json",
    ]));
    (dir, model)
}

fn column<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

#[test]
fn drifted_batch_is_flagged_and_fresh_batch_is_not() {
    let (dir, model) = trained("flag");
    let drifted = path(&dir, "drifted.csv");
    let fresh = path(&dir, "fresh.csv");
    json(&ebb(&[
        "generate", "--rows", "3000", "--seed", "2", "--drift", "1", "--out", &drifted, "--json",
    ]));
    json(&ebb(&[
        "generate", "--rows", "3000", "--seed", "3", "--out", &fresh, "--json",
    ]));

    let r = json(&ebb(&[
        "drift",
        &model,
        &drifted,
        "--json",
        "--bootstrap",
        "50",
    ]));
    for name in ["usage_hours_90d", "plan", "region", "engagement_score"] {
        assert_eq!(column(&r, name)["verdict"], "drift", "{name}: {r}");
    }
    for name in ["age", "tenure_months", "sessions_30d", "gender"] {
        assert_eq!(column(&r, name)["verdict"], "ok", "{name}");
    }
    let plan = column(&r, "plan");
    assert_eq!(plan["new_categories"][0]["level"], "student");
    assert!(plan["chi_square"]["p_value"].as_f64().unwrap() < 0.01);
    assert!(plan["js_distance"].as_f64().unwrap() > 0.1);
    let usage = column(&r, "usage_hours_90d");
    assert!(usage["psi"].as_f64().unwrap() >= 0.25);
    assert!(usage["ks"]["statistic"].as_f64().unwrap() > 0.1);
    assert!(usage["wasserstein"].as_f64().unwrap() > 0.0);
    assert_eq!(r["dataset_verdict"], "drift");
    assert!(r["drifted_share"].as_f64().unwrap() >= 0.2);
    assert!(r["recommendation"]
        .as_str()
        .unwrap()
        .starts_with("retrain: "));
    assert!(r["score_drift"]["psi"].as_f64().is_some());
    // The generated file has the churn column, so performance is compared.
    let perf = &r["performance"];
    assert_eq!(perf["rows"], 3000);
    let auc = &perf["roc_auc"];
    assert!(auc["ci_low"].as_f64().unwrap() <= auc["current"].as_f64().unwrap());
    assert!(auc["current"].as_f64().unwrap() <= auc["ci_high"].as_f64().unwrap());
    // Columns come most severe first.
    let verdicts: Vec<&str> = r["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["verdict"].as_str().unwrap())
        .collect();
    let rank = |v: &str| {
        ["ok", "warn", "drift"]
            .iter()
            .position(|x| *x == v)
            .unwrap()
    };
    assert!(verdicts.windows(2).all(|w| rank(w[0]) >= rank(w[1])));

    let f = json(&ebb(&[
        "drift",
        &model,
        &fresh,
        "--json",
        "--bootstrap",
        "50",
    ]));
    assert_eq!(f["drifted_share"], 0.0, "{f}");
    assert_ne!(f["dataset_verdict"], "drift");
    assert!(f["columns"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["verdict"] != "drift"));

    // Text output: one table row per column and the recommendation.
    let text = ebb(&["drift", &model, &drifted]);
    assert!(text.status.success());
    let out = stdout(&text);
    assert!(out.contains("usage_hours_90d"));
    assert!(out.lines().any(|l| l.starts_with("retrain: ")), "{out}");
}

#[test]
fn bad_input_exits_with_2_naming_the_problem() {
    let (dir, model) = trained("bad");
    let missing = path(&dir, "missing.csv");
    std::fs::write(&missing, "customer_id,age\nc1,30\n").unwrap();
    let o = ebb(&["drift", &model, &missing]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing.csv"), "{}", stderr(&o));
    assert!(stderr(&o).contains("is missing"), "{}", stderr(&o));

    let o = ebb(&["drift", &path(&dir, "nope.csv"), &missing]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("nope.csv"));

    let o = ebb(&["drift", &model, &path(&dir, "absent.csv")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("absent.csv"));
}
