//! End-to-end tests of the `ebb` binary on real files: the shared telecom churn data set,
//! generated data, and malformed files, asserting exit codes and exact error messages.

mod common;
use common::*;

use std::path::PathBuf;

#[test]
fn train_evaluate_score_on_mlc_churn() {
    let dir = temp_dir("mlc");
    let data = mlc_churn();
    let data = data.to_str().unwrap();
    let model = dir.join("model.json");
    let model = model.to_str().unwrap();
    let out = json(&ebb(&[
        "train", data, "--target", "churn", "--folds", "3", "--out", model, "--json",
    ]));
    let models = out["models"].as_array().unwrap();
    let names: Vec<&str> = models.iter().map(|m| m["name"].as_str().unwrap()).collect();
    // Every family, then their blend (kept only when it wins out of fold).
    assert_eq!(names, ["logistic", "forest", "gbdt", "ensemble"]);
    for m in models {
        for key in ["roc_auc", "pr_auc", "log_loss", "best_f1"] {
            let v = m["cv"][key]
                .as_f64()
                .unwrap_or_else(|| panic!("{key} in {m}"));
            assert!(v.is_finite() && v > 0.0, "{key} = {v}");
        }
    }
    let auc = |name: &str| {
        models.iter().find(|m| m["name"] == name).unwrap()["cv"]["roc_auc"]
            .as_f64()
            .unwrap()
    };
    // Reference figures for this data set: logistic ~0.83, LightGBM ~0.92 (5-fold CV).
    assert!(auc("logistic") > 0.78, "logistic {}", auc("logistic"));
    assert!(auc("gbdt") > 0.88, "gbdt {}", auc("gbdt"));
    let chosen = out["chosen"].as_str().unwrap();
    let best = models
        .iter()
        .map(|m| m["cv"]["roc_auc"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert_eq!(auc(chosen), best, "the kept model is the best out of fold");

    let eval = json(&ebb(&["evaluate", model, data, "--json"]));
    for key in [
        "roc_auc",
        "pr_auc",
        "log_loss",
        "brier",
        "threshold",
        "precision",
        "recall",
        "f1",
    ] {
        assert!(eval[key].as_f64().is_some(), "{key} missing in {eval}");
    }
    assert!(eval["confusion"]["tp"].as_u64().is_some());
    assert!(eval["roc_auc"].as_f64().unwrap() > 0.85);

    let scores = dir.join("scores.csv");
    let o = ebb(&["score", model, data, "--out", scores.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&scores).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "id,probability,decision");
    assert_eq!(lines.len(), 5001, "one output row per input row");
    let p: f64 = lines[1].split(',').nth(1).unwrap().parse().unwrap();
    assert!((0.0..=1.0).contains(&p));
}

#[test]
fn same_seed_same_model_file() {
    let dir = temp_dir("determinism");
    let data = mlc_churn();
    let run = |name: &str| {
        let out = dir.join(name);
        let o = ebb(&[
            "train",
            data.to_str().unwrap(),
            "--model",
            "gbdt",
            "--folds",
            "2",
            "--seed",
            "5",
            "--out",
            out.to_str().unwrap(),
            "--json",
        ]);
        json(&o);
        std::fs::read_to_string(out).unwrap()
    };
    let (a, b) = (run("a.json"), run("b.json"));
    let first_difference = a.lines().zip(b.lines()).position(|(x, y)| x != y);
    assert!(
        a == b,
        "model files differ, first at line {first_difference:?}"
    );
}

#[test]
fn generate_validate_and_pipeline_on_generated_data() {
    let dir = temp_dir("generated");
    let data = dir.join("customers.csv");
    let data_s = data.to_str().unwrap();
    json(&ebb(&[
        "generate", "--rows", "3000", "--seed", "3", "--out", data_s, "--json",
    ]));
    let v = json(&ebb(&["validate", data_s, "--json"]));
    assert_eq!(v["schema"]["target"]["name"], "churn");
    assert_eq!(v["schema"]["id_column"], "customer_id");
    let runs = dir.join("runs");
    let p = json(&ebb(&[
        "pipeline",
        data_s,
        "--time",
        "snapshot_date",
        "--model",
        "gbdt,logistic",
        "--folds",
        "3",
        "--runs-dir",
        runs.to_str().unwrap(),
        "--json",
    ]));
    let run_dir = PathBuf::from(p["run"].as_str().unwrap());
    for f in [
        "model.json",
        "schema.json",
        "quality.json",
        "metrics.json",
        "quarantine.csv",
    ] {
        assert!(run_dir.join(f).exists(), "{f} missing in the run folder");
    }
    assert!(p["holdout"]["roc_auc"].as_f64().unwrap() > 0.7, "{p}");
    assert!(p["training"]["validation"]
        .as_str()
        .unwrap()
        .contains("rolling-origin"));
}

#[test]
fn malformed_inputs_get_exact_errors_and_exit_code_2() {
    let dir = temp_dir("malformed");
    let ragged = write(&dir, "ragged.csv", "a,b,churn\n1,2,yes\n3,no\n");
    fails_with(
        &["train", &ragged, "--out", "/dev/null"],
        2,
        "ragged.csv: row 2: expected 3 fields as in the header but found 2",
    );
    let quotes = write(&dir, "quotes.csv", "a,b,churn\n1,\"unterminated,yes\n");
    fails_with(&["validate", &quotes], 2, "quotes.csv: row 1:");
    let empty = write(&dir, "empty.csv", "");
    fails_with(
        &["validate", &empty],
        2,
        "empty.csv: the input holds no data rows",
    );
    let no_target = write(&dir, "no_target.csv", "a,b\n1,2\n3,4\n");
    fails_with(
        &["train", &no_target, "--out", "/dev/null"],
        2,
        "no target column found",
    );
    fails_with(
        &["train", &no_target, "--out", "/dev/null"],
        2,
        "(name it with --target)",
    );
    let one_class = write(&dir, "one_class.csv", "a,churn\n1,no\n2,no\n3,no\n");
    fails_with(
        &["train", &one_class, "--out", "/dev/null"],
        2,
        "target column `churn`",
    );
    fails_with(
        &[
            "train",
            &one_class,
            "--target",
            "nope",
            "--out",
            "/dev/null",
        ],
        2,
        "column `nope` is missing",
    );
    fails_with(
        &["validate", "/nonexistent/file.csv"],
        2,
        "/nonexistent/file.csv: cannot open",
    );
    fails_with(
        &[
            "train",
            &mlc_churn().to_string_lossy(),
            "--model",
            "svm",
            "--out",
            "/dev/null",
        ],
        2,
        "--model `svm` is not one of",
    );
}

#[test]
fn wrong_types_at_scoring_are_reported_per_row() {
    let dir = temp_dir("wrongtypes");
    let model = dir.join("m.json");
    json(&ebb(&[
        "train",
        mlc_churn().to_str().unwrap(),
        "--model",
        "logistic",
        "--folds",
        "2",
        "--out",
        model.to_str().unwrap(),
        "--json",
    ]));
    let original = std::fs::read_to_string(mlc_churn()).unwrap();
    let mut lines: Vec<String> = original.lines().take(4).map(String::from).collect();
    // Row 2: account_length (second column) is text.
    lines[2] = lines[2].replacen(",107,", ",lots,", 1);
    let bad = write(&dir, "bad.csv", &(lines.join("\n") + "\n"));
    let out = dir.join("s.csv");
    let o = ebb(&[
        "score",
        model.to_str().unwrap(),
        &bad,
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    let v = json(&o);
    assert_eq!(v["scored"], 2);
    assert_eq!(v["invalid"], 1);
    let example = v["invalid_examples"][0][1].as_str().unwrap();
    assert_eq!(
        example,
        "row 2, column `account_length`: `lots` is not a valid number"
    );
    let text = std::fs::read_to_string(out).unwrap();
    assert_eq!(text.lines().nth(2).unwrap(), "2,,invalid");

    let mut artifact: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    artifact["threshold"] = serde_json::json!(0.01);
    let tampered_path = write(&dir, "tampered.json", &artifact.to_string());
    fails_with(
        &["score", &tampered_path, &bad, "--out", "/dev/null"],
        2,
        "content hash mismatch",
    );
}

#[test]
fn event_log_features_join_the_customer_table() {
    let dir = temp_dir("events");
    let customers = dir.join("c.csv");
    let log = dir.join("e.csv");
    let joined = dir.join("j.csv");
    let (c, e, j) = (
        customers.to_str().unwrap(),
        log.to_str().unwrap(),
        joined.to_str().unwrap(),
    );
    json(&ebb(&[
        "generate", "--rows", "200", "--seed", "8", "--out", c, "--events", e, "--json",
    ]));
    let out = json(&ebb(&[
        "events",
        e,
        "--customers",
        c,
        "--time",
        "snapshot_date",
        "--out",
        j,
        "--json",
    ]));
    let features = out["features"].as_array().unwrap();
    assert!(features.iter().any(|f| f == "login_count_30d"), "{out}");
    assert!(
        features
            .iter()
            .any(|f| f == "support_ticket_days_since_last"),
        "{out}"
    );
    let text = std::fs::read_to_string(&joined).unwrap();
    let header = text.lines().next().unwrap();
    assert_eq!(header.split(',').count(), 26 + features.len());
    assert_eq!(text.lines().count(), 201);
    fails_with(
        &["events", e, "--customers", c, "--out", j],
        2,
        "give the snapshot as --time COLUMN",
    );
    fails_with(
        &[
            "events",
            e,
            "--customers",
            c,
            "--snapshot",
            "yesterday",
            "--out",
            j,
        ],
        2,
        "--snapshot `yesterday` is not an ISO 8601 date",
    );
}

#[test]
fn json_records_and_schema_enforcement() {
    let dir = temp_dir("schema");
    let records = write(
        &dir,
        "customers.json",
        r#"[{"id": "a", "plan": "basic", "fee": 10, "churn": "no"},
            {"id": "b", "plan": "premium", "fee": 30.5, "churn": "yes"},
            {"id": "c", "plan": "basic", "fee": null, "churn": "no"}]"#,
    );
    let schema = dir.join("schema.json");
    let v = json(&ebb(&[
        "validate",
        &records,
        "--save-schema",
        schema.to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(v["clean_rows"], 3);
    assert_eq!(v["quality"]["columns"][2]["missing"], 1, "{v}");
    // Later data: a column gone, a new plan level, text in a numeric column.
    let later = write(&dir, "later.csv", "id,plan,churn\nd,student,no\n");
    fails_with(
        &["validate", &later, "--schema", schema.to_str().unwrap()],
        2,
        "fee",
    );
    let drifted = write(
        &dir,
        "drifted.csv",
        "id,plan,fee,churn\nd,student,abc,no\ne,basic,oops,yes\n",
    );
    let o = ebb(&[
        "validate",
        &drifted,
        "--schema",
        schema.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let check: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(check["schema_check"]["new_categories"][0][0], "plan");
    assert_eq!(check["schema_check"]["new_categories"][0][1][0], "student");
    assert_eq!(check["schema_check"]["type_changes"][0]["column"], "fee");
    let nested = write(&dir, "nested.json", r#"[{"id": "a", "tags": ["x"]}]"#);
    fails_with(&["validate", &nested], 2, "nested.json: row 1");
}

#[test]
fn every_family_saves_a_model_that_loads_again() {
    // Generated data has missing values, so trees learn "present vs missing" splits whose
    // threshold is the open end of the last bin: it must survive the JSON round trip.
    let dir = temp_dir("families");
    let data = dir.join("c.csv");
    let data = data.to_str().unwrap();
    json(&ebb(&[
        "generate", "--rows", "1200", "--seed", "5", "--out", data, "--json",
    ]));
    for family in ["forest", "gbdt", "logistic"] {
        let model = dir.join(format!("{family}.json"));
        let model = model.to_str().unwrap();
        json(&ebb(&[
            "train", data, "--model", family, "--folds", "2", "--out", model, "--json",
        ]));
        let eval = json(&ebb(&["evaluate", model, data, "--json"]));
        assert!(eval["roc_auc"].as_f64().unwrap() > 0.6, "{family}: {eval}");
    }
}

#[test]
fn trees_sets_the_exact_tree_count() {
    let dir = temp_dir("trees");
    let data = mlc_churn();
    let data = data.to_str().unwrap();
    let model = path(&dir, "model.json");
    let out = ebb(&[
        "train", data, "--model", "gbdt", "--folds", "2", "--trees", "7", "--out", &model,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let artifact: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    assert_eq!(artifact["model"]["trees"].as_array().unwrap().len(), 7);
    fails_with(
        &["train", data, "--trees", "0", "--out", &model],
        2,
        "--trees must be at least 1",
    );
}

/// Runs `ebb args`, killing it if it has not ended within `limit`.
fn ebb_within(args: &[&str], limit: std::time::Duration) -> std::process::Output {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ebb"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the ebb binary runs");
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            child.kill().unwrap();
            panic!("ebb {args:?} still ran after {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn a_rehashed_artifact_with_a_cycle_is_refused_promptly() {
    use ebb_core::model::family::Model;
    use ebb_core::serve::artifact::Artifact;

    let dir = temp_dir("cycle");
    let data = path(&dir, "c.csv");
    json(&ebb(&[
        "generate", "--rows", "600", "--seed", "3", "--out", &data, "--json",
    ]));
    let model = path(&dir, "m.json");
    json(&ebb(&[
        "train", &data, "--model", "gbdt", "--trees", "5", "--folds", "2", "--out", &model,
        "--json",
    ]));
    let mut crafted = Artifact::from_json(&std::fs::read_to_string(&model).unwrap()).unwrap();
    let Model::Gbdt(boost) = &mut crafted.model else {
        panic!("trained gbdt")
    };
    // A node deep in the first tree sends rows back to the root: walking it never ends.
    let tree = &mut boost.trees[0];
    let node = (1..tree.n_nodes())
        .find(|&n| tree.feature[n] != ebb_core::model::tree::LEAF)
        .expect("a tree with two splits");
    tree.left[node] = 0;
    // Re-stamped as a crafted file would be: the content hash is valid.
    let crafted = crafted.restamped().unwrap();
    let crafted_path = write(
        &dir,
        "crafted.json",
        &serde_json::to_string(&crafted).unwrap(),
    );
    let expected = format!("model.trees[0].left[{node}] = 0 is not a node after {node}");
    let limit = std::time::Duration::from_secs(30);
    for args in [
        vec!["score", &crafted_path, &data, "--out", "/dev/null"],
        vec!["evaluate", &crafted_path, &data],
    ] {
        let o = ebb_within(&args, limit);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(&expected), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn labels_in_other_spellings_and_no_half_written_scores() {
    let dir = temp_dir("labels");
    let generated = dir.join("generated.csv");
    let o = ebb(&[
        "generate",
        "--rows",
        "800",
        "--seed",
        "5",
        "--out",
        generated.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let original = std::fs::read_to_string(&generated).unwrap();
    // The generated target `churn` is the last column, `yes`/`no`.
    let relabel = |yes: &str, no: &str| -> String {
        original
            .lines()
            .enumerate()
            .map(|(i, line)| match line.rsplit_once(',') {
                Some((rest, "yes")) if i > 0 => format!("{rest},{yes}\n"),
                Some((rest, "no")) if i > 0 => format!("{rest},{no}\n"),
                _ => format!("{line}\n"),
            })
            .collect()
    };
    let trained_on = write(&dir, "yes_no.csv", &relabel("Yes", "No"));
    let model = dir.join("m.json");
    let model = model.to_str().unwrap();
    json(&ebb(&[
        "train",
        &trained_on,
        "--model",
        "logistic",
        "--folds",
        "2",
        "--out",
        model,
        "--json",
    ]));
    let as_trained = json(&ebb(&["evaluate", model, &trained_on, "--json"]));
    assert_eq!(as_trained["n"], 800);
    // The usual equivalents of Yes/No read the same, in any case.
    for (name, yes, no) in [("ones.csv", "1", "0"), ("bools.csv", "TRUE", "false")] {
        let file = write(&dir, name, &relabel(yes, no));
        let v = json(&ebb(&["evaluate", model, &file, "--json"]));
        for key in ["roc_auc", "log_loss", "n", "confusion"] {
            assert_eq!(v[key], as_trained[key], "{name}: {key}");
        }
        assert_eq!(v["skipped_rows"], 0, "{name}");
    }
    // Values with no such equivalent: the message says what the column holds and what the
    // model knows, in the data's terms.
    let words = write(&dir, "words.csv", &relabel("churned", "stayed"));
    fails_with(
        &["evaluate", model, &words],
        2,
        "words.csv: target column `churn`: the column holds `stayed`, `churned`; the model knows `Yes` = churned, `No` = stayed",
    );

    // A scoring run that fails part-way (a model input missing) leaves no output behind, and
    // an earlier output intact.
    let header = original.lines().next().unwrap();
    let age = header.split(',').position(|c| c == "age").unwrap();
    let without_age: String = original
        .lines()
        .map(|line| {
            let mut cells: Vec<&str> = line.split(',').collect();
            cells.remove(age);
            cells.join(",") + "\n"
        })
        .collect();
    let missing = write(&dir, "missing.csv", &without_age);
    let out = dir.join("scores.csv");
    fails_with(
        &["score", model, &missing, "--out", out.to_str().unwrap()],
        2,
        "column `age` is missing",
    );
    assert!(!out.exists(), "a failed run left {}", out.display());
    std::fs::write(&out, "earlier scores\n").unwrap();
    fails_with(
        &["score", model, &missing, "--out", out.to_str().unwrap()],
        2,
        "column `age` is missing",
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "earlier scores\n");
    let left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
    // And a run that succeeds writes the file in full.
    let o = ebb(&["score", model, &trained_on, "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 801);
}

/// Hostile files end promptly with exit code 2 and the cap they passed, not a hang or an
/// allocation the size of the file: a 1,000,000-column header, a 100 MB field, and a row of a
/// million fields under a normal header.
#[test]
fn hostile_csv_files_are_refused_promptly_at_their_caps() {
    let dir = temp_dir("hostile");
    let header: Vec<String> = (0..1_000_000).map(|i| format!("c{i}")).collect();
    let wide = write(&dir, "wide.csv", &format!("{}\n1\n", header.join(",")));
    let field = write(
        &dir,
        "field.csv",
        &format!("id,notes,churn\n1,{},yes\n", "x".repeat(100_000_000)),
    );
    let fields = write(
        &dir,
        "fields.csv",
        &format!("a,b,churn\n1,2,yes\n{}\n", ",".repeat(999_999)),
    );
    let cases = [
        (&wide, "wide.csv: the data has more than 10000 columns"),
        (
            &field,
            "field.csv: row 1, column `notes`: the row is longer than 16777216 bytes",
        ),
        (&fields, "fields.csv: row 2: more than 10000 fields"),
    ];
    for (file, needle) in cases {
        let o = ebb_within(&["validate", file], std::time::Duration::from_secs(60));
        assert_eq!(o.status.code(), Some(2), "{file}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{file}: {}", stderr(&o));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn categorical_flag_picks_how_gbdt_sees_categorical_columns() {
    let dir = temp_dir("categorical");
    let data = mlc_churn();
    let data = data.to_str().unwrap();
    // `state` (51 levels): level codes split as sets by default, target-encoded when asked.
    for (mode, encoding) in [("native", "codes"), ("encoded", "encoded")] {
        let model = dir.join(format!("{mode}.json"));
        let o = ebb(&[
            "train",
            data,
            "--target",
            "churn",
            "--model",
            "gbdt",
            "--folds",
            "2",
            "--categorical",
            mode,
            "--out",
            model.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let a: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
        let inputs = a["pipeline"]["inputs"].as_array().unwrap();
        let state = inputs.iter().find(|c| c["name"] == "state").unwrap();
        assert_eq!(state["encoder"]["encoding"], encoding, "{mode}");
        assert_eq!(a["model"]["categories"].is_array(), mode == "native");
    }
    let o = ebb(&[
        "train",
        data,
        "--model",
        "gbdt",
        "--categorical",
        "onehot",
        "--out",
        dir.join("bad.json").to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("--categorical `onehot` is not one of native, encoded"),
        "{}",
        stderr(&o)
    );
}
