//! End-to-end tests of run tracking (`ebb pipeline` folders, `ebb runs list/compare/mark`),
//! `ebb tune` and `ebb report`.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::Output;

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status,
        stdout(o),
        stderr(o)
    );
    stdout(o)
}

fn json(o: &Output) -> serde_json::Value {
    let out = ok(o);
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

fn generated(dir: &Path, rows: &str) -> String {
    let data = dir.join("customers.csv");
    let data_s = data.to_str().unwrap().to_string();
    json(&ebb(&[
        "generate", "--rows", rows, "--seed", "3", "--out", &data_s, "--json",
    ]));
    data_s
}

#[test]
fn pipeline_runs_are_listed_compared_and_marked() {
    let dir = temp_dir("runs");
    let data = generated(&dir, "1200");
    let runs = dir.join("runs");
    let runs_s = runs.to_str().unwrap();
    let mut ids = Vec::new();
    for seed in ["1", "2"] {
        let p = json(&ebb(&[
            "pipeline",
            &data,
            "--model",
            "gbdt",
            "--folds",
            "2",
            "--seed",
            seed,
            "--runs-dir",
            runs_s,
            "--json",
        ]));
        let run_dir = PathBuf::from(p["run"].as_str().unwrap());
        for f in ["params.json", "metrics.json", "model.json", "report.html"] {
            assert!(run_dir.join(f).exists(), "{f} missing in the run folder");
        }
        let html = std::fs::read_to_string(run_dir.join("report.html")).unwrap();
        assert!(!html.contains("http") && html.contains("<svg"));
        ids.push(run_dir.file_name().unwrap().to_string_lossy().into_owned());
    }
    assert_ne!(ids[0], ids[1]);
    let index = std::fs::read_to_string(runs.join("index.jsonl")).unwrap();
    assert_eq!(index.lines().count(), 2);

    let list = json(&ebb(&["runs", "list", "--runs-dir", runs_s, "--json"]));
    let listed: Vec<&str> = list["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(listed, sorted);
    assert!(list["published"].is_null());

    json(&ebb(&[
        "runs",
        "mark",
        &ids[1],
        "--runs-dir",
        runs_s,
        "--json",
    ]));
    assert_eq!(
        std::fs::read_to_string(runs.join("PUBLISH"))
            .unwrap()
            .trim(),
        ids[1]
    );
    let text = ok(&ebb(&["runs", "list", "--runs-dir", runs_s]));
    let marked: Vec<&str> = text.lines().filter(|l| l.starts_with('*')).collect();
    assert_eq!(marked.len(), 1, "{text}");
    assert!(marked[0].contains(&ids[1]), "{text}");

    let c = json(&ebb(&[
        "runs",
        "compare",
        &ids[0],
        &ids[1],
        "--runs-dir",
        runs_s,
        "--json",
    ]));
    let metrics = c["metrics"].as_array().unwrap();
    assert!(metrics.iter().any(|m| m["metric"] == "holdout roc_auc"));
    for m in metrics {
        let (a, b, d) = (
            m["a"].as_f64().unwrap(),
            m["b"].as_f64().unwrap(),
            m["delta"].as_f64().unwrap(),
        );
        assert!((b - a - d).abs() < 1e-12, "{m}");
    }
    assert_eq!(c["b"]["params"]["seed"], 2);
    let text = ok(&ebb(&[
        "runs",
        "compare",
        &ids[0],
        &ids[1],
        "--runs-dir",
        runs_s,
    ]));
    assert!(
        text.contains("cv roc_auc") && text.contains("delta"),
        "{text}"
    );

    for args in [
        vec!["runs", "mark", "nope", "--runs-dir", runs_s],
        vec!["runs", "compare", &ids[0], "nope", "--runs-dir", runs_s],
    ] {
        fails_with(&args, 2, "run `nope` not found");
    }
}

#[test]
fn report_on_mlc_churn_is_small_self_contained_html() {
    let dir = temp_dir("report");
    let data = mlc_churn();
    let data = data.to_str().unwrap();
    let model = dir.join("model.json");
    let model_s = model.to_str().unwrap();
    json(&ebb(&[
        "train", data, "--target", "churn", "--model", "gbdt", "--folds", "2", "--out", model_s,
        "--json",
    ]));
    let out = dir.join("report.html");
    let r = json(&ebb(&[
        "report",
        model_s,
        data,
        "--out",
        out.to_str().unwrap(),
        "--by",
        "international_plan",
        "--json",
    ]));
    assert_eq!(r["rows"], 5000);
    assert_eq!(r["fairness"]["groups"].as_array().unwrap().len(), 2);
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(!html.contains("http"), "external reference in the report");
    assert!(!html.contains("<script"));
    assert!(html.matches("<svg").count() >= 6);
    for section in [
        "ROC curve",
        "Precision-recall",
        "Calibration",
        "Lift by decile",
        "Profit curve",
        "Confusion matrix",
        "Importance",
        "Drift against training",
        "Fairness by international_plan",
    ] {
        assert!(html.contains(section), "{section} missing");
    }
    assert!(html.len() < 150_000, "{} bytes for 5,000 rows", html.len());
    assert_eq!(html.len() as u64, r["bytes"].as_u64().unwrap());

    fails_with(
        &[
            "report",
            model_s,
            data,
            "--out",
            out.to_str().unwrap(),
            "--by",
            "nope",
        ],
        2,
        "column `nope` is missing",
    );
}

#[test]
fn tune_is_deterministic_reports_imbalance_and_saves_the_model() {
    let dir = temp_dir("tune");
    let data = generated(&dir, "800");
    let model = dir.join("tuned.json");
    let args = [
        "tune",
        &data,
        "--target",
        "churn",
        "--trials",
        "3",
        "--folds",
        "2",
        "--max-trees",
        "30",
        "--seed",
        "5",
        "--json",
    ];
    let strip = |mut v: serde_json::Value| {
        v["seconds"] = serde_json::Value::Null;
        for t in v["trials"].as_array_mut().unwrap() {
            t["seconds"] = serde_json::Value::Null;
        }
        v
    };
    let a = strip(json(&ebb(&args)));
    let b = strip(json(&ebb(&args)));
    assert_eq!(a, b);
    assert!(a["model"].is_null());
    assert_eq!(a["imbalance"].as_array().unwrap().len(), 3);
    let chosen = a["chosen_imbalance"].as_str().unwrap();
    assert!(a["imbalance_explanation"]
        .as_str()
        .unwrap()
        .contains(chosen));

    let mut with_out = args.to_vec();
    with_out.extend(["--out", model.to_str().unwrap()]);
    let c = json(&ebb(&with_out));
    assert_eq!(c["model"]["chosen"], "gbdt");
    assert_eq!(c["best"], a["best"]);
    assert!(model.exists());
    let text = ok(&ebb(&args[..args.len() - 1]));
    assert!(
        text.contains("imbalance strategies") && text.contains("roc_auc"),
        "{text}"
    );

    fails_with(
        &["tune", &data, "--target", "churn", "--trials=0"],
        2,
        "parameter `trials`",
    );
}
