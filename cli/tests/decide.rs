//! End-to-end tests of `ebb decide`, `ebb fairness` and `ebb segment` on generated data: JSON
//! fields, the contact-list CSV, capacity, determinism, and errors with exit code 2.

mod common;
use common::*;

use std::path::PathBuf;
use std::sync::OnceLock;

/// A generated data set (1,200 customers) and a model trained on it, made once per run.
struct Fixture {
    dir: PathBuf,
    data: String,
    model: String,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("ebb-decide-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let data = path(&dir, "customers.csv");
        let model = path(&dir, "model.json");
        json(&ebb(&[
            "generate", "--rows", "1200", "--seed", "5", "--out", &data, "--json",
        ]));
        // One family keeps the fixture fast; the three commands do not depend on the family.
        json(&ebb(&[
            "train", &data, "--folds", "2", "--model", "gbdt", "--out", &model, "--json",
        ]));
        Fixture { dir, data, model }
    })
}

#[test]
fn decide_ranks_contacts_within_capacity() {
    let f = fixture();
    let out = path(&f.dir, "contacts.csv");
    let v = json(&ebb(&[
        "decide",
        &f.model,
        &f.data,
        "--out",
        &out,
        "--capacity",
        "40",
        "--json",
    ]));
    assert_eq!(v["customers"], 1200);
    assert_eq!(v["capacity"], 40);
    let contacts = v["contacts"].as_array().unwrap();
    assert!(v["worth_contacting"].as_u64().unwrap() > 40);
    assert_eq!(contacts.len(), 40, "capacity caps the list");
    let values: Vec<f64> = contacts
        .iter()
        .map(|c| c["expected_value"].as_f64().unwrap())
        .collect();
    assert!(values.windows(2).all(|w| w[0] >= w[1]), "descending");
    assert!(values.iter().all(|&x| x > 0.0));
    for c in contacts {
        let p = c["probability"].as_f64().unwrap();
        // Default cost model: p * 0.3 * 600 - 10.
        assert!((c["expected_value"].as_f64().unwrap() - (p * 180.0 - 10.0)).abs() < 1e-9);
        let remaining = c["remaining_value"].as_f64().unwrap();
        assert!(remaining > 0.0 && remaining < 600.0, "{remaining}");
        assert!(c["id"].as_str().unwrap().starts_with('C'));
    }
    // Equal values: the break-even probability is 10 / 180, the optimum the first p above it.
    let best = v["best_threshold"].as_f64().unwrap();
    assert!(best >= 10.0 / 180.0 - 1e-12, "{best}");
    assert!(v["best"]["net"].as_f64().unwrap() >= v["at_model_threshold"]["net"].as_f64().unwrap());
    assert_eq!(v["profit_by_threshold"].as_array().unwrap().len(), 101);
    let contacted = &v["contacted"];
    assert_eq!(contacted["contacted"], 40);
    assert!((contacted["net"].as_f64().unwrap() - values.iter().sum::<f64>()).abs() < 1e-6);

    let csv = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "id,probability,expected_value,remaining_value,top_reasons"
    );
    assert_eq!(lines.len(), 41);
    // Each contact carries its three strongest SHAP reasons, e.g. `tenure_months = 2 raised risk`.
    let reasons = contacts[0]["top_reasons"].as_str().unwrap();
    assert_eq!(reasons.split("; ").count(), 3, "{reasons}");
    assert!(reasons.contains(" risk"), "{reasons}");
    assert!(lines[1].starts_with(contacts[0]["id"].as_str().unwrap()));

    // Text output names both thresholds.
    let o = ebb(&["decide", &f.model, &f.data, "--out", &out]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("profit-maximising") && text.contains("model"),
        "{text}"
    );
    assert!(text.contains("expected saved"), "{text}");
}

#[test]
fn decide_with_a_value_column() {
    let f = fixture();
    let out = path(&f.dir, "contacts-fee.csv");
    let v = json(&ebb(&[
        "decide",
        &f.model,
        &f.data,
        "--out",
        &out,
        "--value-column",
        "monthly_fee",
        "--horizon-months",
        "24",
        "--cost",
        "5",
        "--success-rate",
        "0.5",
        "--json",
    ]));
    for c in v["contacts"].as_array().unwrap() {
        let (p, value) = (
            c["probability"].as_f64().unwrap(),
            c["customer_value"].as_f64().unwrap(),
        );
        assert!((c["expected_value"].as_f64().unwrap() - (p * 0.5 * value - 5.0)).abs() < 1e-9);
    }
    assert_eq!(v["horizon_months"], 24);
}

#[test]
fn decide_errors() {
    let f = fixture();
    let out = path(&f.dir, "never.csv");
    fails_with(
        &[
            "decide",
            &f.model,
            &f.data,
            "--out",
            &out,
            "--value-column",
            "fee",
        ],
        2,
        "column `fee` is missing",
    );
    fails_with(
        &[
            "decide",
            &f.model,
            &f.data,
            "--out",
            &out,
            "--value-column",
            "gender",
        ],
        2,
        "column `gender`",
    );
    fails_with(
        &[
            "decide",
            &f.model,
            &f.data,
            "--out",
            &out,
            "--success-rate",
            "0",
        ],
        2,
        "success rate must be in (0, 1]",
    );
    fails_with(
        &[
            "decide",
            &f.model,
            &f.data,
            "--out",
            &out,
            "--value",
            "5",
            "--value-column",
            "monthly_fee",
        ],
        2,
        "cannot be used with",
    );
    fails_with(&["decide", &f.model, &f.data], 2, "--out");
    fails_with(
        &["decide", &f.model, "/nonexistent/data.csv", "--out", &out],
        2,
        "cannot open",
    );
}

#[test]
fn fairness_by_category_by_quartile_and_without_labels() {
    let f = fixture();
    let v = json(&ebb(&[
        "fairness", &f.model, &f.data, "--by", "gender", "--json",
    ]));
    assert_eq!(v["column"], "gender");
    assert_eq!(v["labelled"], true);
    assert_eq!(v["binned"], false);
    let groups = v["groups"].as_array().unwrap();
    let total: u64 = groups.iter().map(|g| g["size"].as_u64().unwrap()).sum();
    assert_eq!(total, 1200);
    let best = groups
        .iter()
        .filter(|g| g["judged"] == true)
        .map(|g| g["positive_rate_ratio"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert_eq!(best, 1.0);
    for g in groups {
        assert!(g["precision"].is_number() || g["flagged"] == 0, "{g}");
        assert!(g["recall"].is_number(), "{g}");
    }
    for flag in v["flags"].as_array().unwrap() {
        assert!(flag["value"].as_f64().unwrap() < 0.8);
    }

    let v = json(&ebb(&[
        "fairness", &f.model, &f.data, "--by", "age", "--json",
    ]));
    assert_eq!(v["binned"], true);
    assert!(v["groups"][0]["group"].as_str().unwrap().starts_with('['));

    // Without the target column only positive rates are computed.
    let text = std::fs::read_to_string(&f.data).unwrap();
    let unlabelled: String = text
        .lines()
        .map(|l| format!("{}\n", &l[..l.rfind(',').unwrap()]))
        .collect();
    let path_unlabelled = path(&f.dir, "unlabelled.csv");
    std::fs::write(&path_unlabelled, unlabelled).unwrap();
    let v = json(&ebb(&[
        "fairness",
        &f.model,
        &path_unlabelled,
        "--by",
        "region",
        "--json",
    ]));
    assert_eq!(v["labelled"], false);
    assert!(v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .all(|g| g["precision"].is_null()));
    let o = ebb(&["fairness", &f.model, &path_unlabelled, "--by", "region"]);
    assert!(stdout(&o).contains("positive rates only"), "{}", stdout(&o));
}

#[test]
fn fairness_errors() {
    let f = fixture();
    fails_with(
        &["fairness", &f.model, &f.data, "--by", "customer_id"],
        2,
        "more than 50 distinct values",
    );
    fails_with(
        &["fairness", &f.model, &f.data, "--by", "ethnicity"],
        2,
        "column `ethnicity` is missing",
    );
    fails_with(&["fairness", &f.model, &f.data], 2, "--by");
}

#[test]
fn segment_is_deterministic_and_describes_segments() {
    let f = fixture();
    let args = ["segment", &f.model, &f.data, "--k", "3", "--json"];
    let a = json(&ebb(&args));
    let b = json(&ebb(&args));
    assert_eq!(a, b, "same seed, same segments");
    assert_eq!(a["k"], 3);
    let segments = a["segments"].as_array().unwrap();
    let sizes: u64 = segments.iter().map(|s| s["size"].as_u64().unwrap()).sum();
    assert_eq!(sizes, 1200);
    let risks: Vec<f64> = segments
        .iter()
        .map(|s| s["mean_risk"].as_f64().unwrap())
        .collect();
    assert!(risks.windows(2).all(|w| w[0] >= w[1]), "{risks:?}");
    for s in segments {
        assert_eq!(s["distinctions"].as_array().unwrap().len(), 3);
        assert_eq!(s["mean_value"], 600.0);
    }
    assert!(a["silhouette_by_k"].as_array().unwrap().is_empty());

    let auto = json(&ebb(&["segment", &f.model, &f.data, "--json"]));
    let k = auto["k"].as_u64().unwrap();
    assert!((2..=8).contains(&k));
    assert_eq!(auto["silhouette_by_k"].as_array().unwrap().len(), 7);
    let o = ebb(&["segment", &f.model, &f.data, "--k", "2"]);
    assert!(stdout(&o).contains("set apart by"), "{}", stdout(&o));
}

#[test]
fn segment_errors() {
    let f = fixture();
    fails_with(
        &["segment", &f.model, &f.data, "--k", "1"],
        2,
        "k must be between 2",
    );
    fails_with(
        &["segment", &f.model, &f.data, "--value-column", "nope"],
        2,
        "column `nope` is missing",
    );
}
