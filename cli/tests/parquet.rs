//! Parquet in and out: the fixtures in `tests/data/parquet/` (written by pyarrow, see the README
//! there) read like their CSV twins — same model, same scores, same quality report — Arrow's
//! types settle column kinds, and broken files get a clear error, never a panic.
#![cfg(feature = "parquet")]

mod common;
use common::*;

use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, UInt8Type};
use arrow_array::Array;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/parquet")
        .join(name)
        .to_str()
        .unwrap()
        .to_string()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// An artifact's JSON without what names the file it came from (data hash, ids derived from it).
fn model_part(artifact: &Path) -> serde_json::Value {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(artifact).unwrap()).unwrap();
    let o = v.as_object_mut().unwrap();
    for key in ["model_id", "content_hash", "metadata"] {
        assert!(o.remove(key).is_some(), "artifact has `{key}`");
    }
    v
}

/// One scored row: id, and probability and decision (`None` for an `invalid` row).
type ScoreRow = (String, Option<(f64, u8)>);

/// The rows of a scores CSV.
fn csv_scores(file: &Path) -> Vec<ScoreRow> {
    let text = std::fs::read_to_string(file).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("id,probability,decision"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let score = (f[2] != "invalid").then(|| (f[1].parse().unwrap(), f[2].parse().unwrap()));
            (f[0].to_string(), score)
        })
        .collect()
}

/// The same rows read back from a scores Parquet file with the parquet crate, and its number of
/// row groups.
fn parquet_scores(file: &Path) -> (Vec<ScoreRow>, usize) {
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(file).unwrap()).unwrap();
    let groups = builder.metadata().num_row_groups();
    let names: Vec<String> = builder
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["id", "probability", "decision"]);
    let mut rows = Vec::new();
    for batch in builder.build().unwrap() {
        let batch = batch.unwrap();
        let ids = batch.column(0).as_string::<i32>();
        let p = batch.column(1).as_primitive::<Float64Type>();
        let d = batch.column(2).as_primitive::<UInt8Type>();
        for r in 0..batch.num_rows() {
            assert_eq!(p.is_null(r), d.is_null(r));
            let score = p.is_valid(r).then(|| (p.value(r), d.value(r)));
            rows.push((ids.value(r).to_string(), score));
        }
    }
    (rows, groups)
}

fn train(data: &str, out: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["train", data, "--out", path(out), "--json"];
    args.extend_from_slice(extra);
    json(&ebb(&args))
}

#[test]
fn training_on_parquet_gives_the_model_of_the_csv() {
    let dir = temp_dir("parquet-train");
    let (from_csv, from_parquet) = (dir.join("csv.json"), dir.join("parquet.json"));
    let csv = train(&fixture("churn.csv"), &from_csv, &["--folds", "3"]);
    let parquet = train(&fixture("churn.parquet"), &from_parquet, &["--folds", "3"]);
    let metrics = |summary: &serde_json::Value| -> Vec<serde_json::Value> {
        let models = summary["models"].as_array().unwrap();
        models.iter().map(|m| m["cv"].clone()).collect()
    };
    assert_eq!(metrics(&csv).len(), 4, "three families and their blend");
    assert_eq!(
        metrics(&csv),
        metrics(&parquet),
        "same cross-validated metrics"
    );
    assert_eq!(csv["chosen"], parquet["chosen"]);
    assert_eq!(model_part(&from_csv), model_part(&from_parquet));

    // A Parquet file is found by its magic whatever its name, and evaluates like the CSV.
    let renamed = dir.join("export.pq");
    std::fs::copy(fixture("churn.parquet"), &renamed).unwrap();
    let model = path(&from_parquet);
    let on_csv = json(&ebb(&["evaluate", model, &fixture("churn.csv"), "--json"]));
    let on_parquet = json(&ebb(&["evaluate", model, path(&renamed), "--json"]));
    assert_eq!(on_csv, on_parquet);
    assert!(on_csv["roc_auc"].as_f64().unwrap() > 0.5);
}

#[test]
fn scores_written_as_parquet_equal_the_csv_scores() {
    let dir = temp_dir("parquet-score");
    let model = dir.join("model.json");
    train(&fixture("churn.csv"), &model, &["--model", "gbdt"]);
    for (csv_in, parquet_in, invalid) in [
        ("churn.csv", "churn.parquet", 0),
        // The infinity is a bad number: the row is kept, marked invalid (null in Parquet).
        ("nulls.csv", "nulls.parquet", 1),
    ] {
        let (csv_out, parquet_out) = (dir.join("scores.csv"), dir.join("scores.parquet"));
        let o = ebb(&[
            "score",
            path(&model),
            &fixture(csv_in),
            "--out",
            path(&csv_out),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let o = ebb(&[
            "score",
            path(&model),
            &fixture(parquet_in),
            "--out",
            path(&parquet_out),
            "--json",
        ]);
        let summary = json(&o);
        assert_eq!(summary["invalid"], invalid, "{parquet_in}");
        let expected = csv_scores(&csv_out);
        let (got, groups) = parquet_scores(&parquet_out);
        assert_eq!(got.len(), 300);
        assert_eq!(groups, 1);
        assert_eq!(got, expected, "{parquet_in}");
        assert_eq!(got.iter().filter(|r| r.1.is_none()).count(), invalid);
    }
    // Scoring Parquet into CSV gives the CSV's file byte for byte.
    let (a, b) = (dir.join("a.csv"), dir.join("b.csv"));
    for (data, out) in [("churn.csv", &a), ("churn.parquet", &b)] {
        let o = ebb(&["score", path(&model), &fixture(data), "--out", path(out)]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
}

#[test]
fn validation_reports_the_same_quality_for_parquet_and_csv() {
    let dir = temp_dir("parquet-validate");
    let report = |name: &str, quarantine: &PathBuf| {
        let mut v = json(&ebb(&[
            "validate",
            &fixture(name),
            "--quarantine",
            path(quarantine),
            "--json",
        ]));
        v.as_object_mut().unwrap().remove("file");
        v
    };
    let (q_csv, q_parquet) = (dir.join("q-csv.csv"), dir.join("q-parquet.csv"));
    let csv = report("nulls.csv", &q_csv);
    let parquet = report("nulls.parquet", &q_parquet);
    assert_eq!(csv, parquet);
    // Nulls are missing values; the NaN too; the infinity sets its row aside.
    let missing = |column: &str| {
        let columns = parquet["quality"]["columns"].as_array().unwrap();
        let c = columns.iter().find(|c| c["name"] == column).unwrap();
        c["missing"].as_u64().unwrap()
    };
    assert_eq!(missing("state"), 27);
    assert_eq!(missing("total_day_minutes"), 43);
    assert_eq!(missing("total_eve_minutes"), 1);
    assert_eq!(parquet["quarantined_rows"], 1);
    assert_eq!(parquet["clean_rows"], 299);
    assert_eq!(
        std::fs::read(&q_csv).unwrap(),
        std::fs::read(&q_parquet).unwrap()
    );
}

#[test]
fn arrow_types_settle_the_column_kinds() {
    let v = json(&ebb(&["validate", &fixture("typed.parquet"), "--json"]));
    let kind = |name: &str| {
        let columns = v["schema"]["columns"].as_array().unwrap();
        let c = columns.iter().find(|c| c["name"] == name).unwrap();
        c["kind"].as_str().unwrap().to_string()
    };
    for (column, expected) in [
        ("customer_id", "identifier"),
        ("snapshot", "datetime"),
        ("signup", "datetime"),
        ("state", "categorical"),
        // Digits stored as text stay categories; an integer 0/1 stays a number.
        ("postcode", "categorical"),
        ("paperless", "numeric"),
        ("international_plan", "boolean"),
        ("monthly_charge", "numeric"),
    ] {
        assert_eq!(kind(column), expected, "{column}");
    }
    assert_eq!(v["quarantined_rows"], 0);
    // The timestamp is a time column: training holds out the latest snapshots.
    let dir = temp_dir("parquet-typed");
    let model = dir.join("model.json");
    let summary = train(
        &fixture("typed.parquet"),
        &model,
        &["--time", "snapshot", "--model", "logistic"],
    );
    assert_eq!(summary["chosen"], "logistic");
    let artifact = model_part(&model);
    assert_eq!(artifact["schema"]["time_column"], "snapshot");
}

#[test]
fn broken_parquet_files_get_a_clear_error() {
    let corrupt = fixture("corrupt.parquet");
    fails_with(&["validate", &corrupt], 2, "footer");
    fails_with(&["validate", &corrupt], 2, "corrupt.parquet");
    fails_with(
        &["validate", &fixture("nested.parquet")],
        2,
        "column `tags`",
    );
    fails_with(
        &["validate", &fixture("zstd.parquet")],
        2,
        "row group 1 (rows 1-300)",
    );
    fails_with(
        &["validate", &fixture("zstd.parquet")],
        2,
        "compression='snappy'",
    );
    let churn = fixture("churn.parquet");
    fails_with(
        &["train", &churn, "--target", "nope", "--out", "/dev/null"],
        2,
        "`nope`",
    );

    // Damage inside each row group's pages (Snappy-compressed) and in the footer: an error
    // naming the row group and its rows, never a crash.
    let dir = temp_dir("parquet-damaged");
    let whole = std::fs::read(&churn).unwrap();
    for (at, says) in [
        (100, "row group 1 (rows 1-100) cannot be decoded"),
        (11_000, "row group 2 (rows 101-200) cannot be decoded"),
        (20_000, "row group 3 (rows 201-300) cannot be decoded"),
        (30_000, "not a readable Parquet file: its footer"),
    ] {
        let mut bytes = whole.clone();
        for b in &mut bytes[at..at + 64] {
            *b ^= 0x5a;
        }
        let damaged = dir.join(format!("damaged-{at}.parquet"));
        std::fs::write(&damaged, bytes).unwrap();
        fails_with(&["validate", path(&damaged)], 2, says);
        fails_with(
            &["validate", path(&damaged)],
            2,
            &format!("damaged-{at}.parquet"),
        );
    }
}
