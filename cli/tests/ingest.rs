//! Files as analysts have them: the telecom churn data as a European spreadsheet exports it
//! (`;` delimiter, decimal comma) and as Windows saves it (Windows-1252), read by `ebb` with the
//! same numbers as the original, so a model trained on one format scores the other identically.

mod common;
use common::*;

use std::path::{Path, PathBuf};

/// mlc_churn with Texas spelled `Téxas`, so the file has an accented category level, as UTF-8
/// with `,` and `.` (`plain.csv`), and as `;`, decimal comma and Windows-1252 (`european.csv`).
fn fixtures(dir: &Path) -> (PathBuf, PathBuf) {
    let original = std::fs::read_to_string(mlc_churn()).unwrap();
    let mut plain = String::new();
    let mut european: Vec<u8> = Vec::new();
    for line in original.lines() {
        let line = line.replace("\"TX\"", "\"T\u{e9}xas\"");
        plain.push_str(&line);
        plain.push('\n');
        // The data set has no commas or `;` inside fields, so a split on `,` is exact.
        let fields: Vec<String> = line
            .split(',')
            .map(|f| {
                if f.starts_with('"') {
                    f.to_string()
                } else {
                    f.replace('.', ",")
                }
            })
            .collect();
        for c in fields.join(";").chars() {
            // Windows-1252 and Latin-1 agree on `é` (0xE9); the rest is ASCII.
            european.push(u8::try_from(u32::from(c)).unwrap());
        }
        european.extend_from_slice(b"\r\n");
    }
    assert!(european.contains(&0xe9) && european.windows(4).any(|w| w == b"45,0"));
    let plain_path = dir.join("plain.csv");
    let european_path = dir.join("european.csv");
    std::fs::write(&plain_path, plain).unwrap();
    std::fs::write(&european_path, european).unwrap();
    (plain_path, european_path)
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The probability column of `ebb score MODEL DATA`.
fn probabilities(model: &Path, data: &Path, out: &Path) -> Vec<String> {
    let o = ebb(&["score", path(model), path(data), "--out", path(out)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(out).unwrap();
    let column: Vec<String> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().to_string())
        .collect();
    assert_eq!(column.len(), 5000);
    assert!(column.iter().all(|p| !p.is_empty()), "every row scores");
    column
}

#[test]
fn a_european_windows_export_reads_and_scores_like_the_original() {
    let dir = temp_dir("european");
    let (plain, european) = fixtures(&dir);

    let report = json(&ebb(&["validate", path(&european), "--json"]));
    let notes: Vec<&str> = report["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(notes[0], "file decoded as Windows-1252 (not valid UTF-8)");
    for column in ["total_day_charge", "total_eve_charge", "total_intl_minutes"] {
        let note = format!("column `{column}`: read with a decimal comma");
        assert!(notes.contains(&note.as_str()), "{note} in {notes:?}");
    }
    let columns = report["schema"]["columns"].as_array().unwrap();
    let kind = |name: &str| {
        columns.iter().find(|c| c["name"] == name).unwrap()["kind"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(kind("total_day_charge"), "numeric");
    assert_eq!(kind("total_night_charge"), "numeric");
    assert_eq!(kind("state"), "categorical");
    let states = &columns.iter().find(|c| c["name"] == "state").unwrap()["categories"];
    assert!(states.as_array().unwrap().iter().any(|s| s == "T\u{e9}xas"));
    assert_eq!(report["quarantined_rows"], 0);

    // The same training on either file: the same cross-validated metrics, bit for bit.
    let train = |data: &Path, model: &Path| {
        json(&ebb(&[
            "train",
            path(data),
            "--target",
            "churn",
            "--model",
            "gbdt",
            "--folds",
            "3",
            "--trees",
            "60",
            "--out",
            path(model),
            "--json",
        ]))
    };
    let plain_model = dir.join("plain.json");
    let european_model = dir.join("european.json");
    let a = train(&plain, &plain_model);
    let b = train(&european, &european_model);
    assert_eq!(a["models"][0]["cv"], b["models"][0]["cv"]);
    assert!(a["models"][0]["cv"]["roc_auc"].as_f64().unwrap() > 0.85);

    // And the same probabilities, whichever format the model was trained on or scores.
    let reference = probabilities(&plain_model, &plain, &dir.join("a.csv"));
    assert_eq!(
        probabilities(&european_model, &european, &dir.join("b.csv")),
        reference
    );
    assert_eq!(
        probabilities(&european_model, &plain, &dir.join("c.csv")),
        reference
    );
    assert_eq!(
        probabilities(&plain_model, &european, &dir.join("d.csv")),
        reference
    );
}

#[test]
fn thousands_separators_and_a_late_bad_byte() {
    let dir = temp_dir("formats");
    // A hand-written `,` file with quoted thousands separators.
    let data = write(
        &dir,
        "amounts.csv",
        "id,amount,plan\n1,\"1,889.50\",basic\n2,29.85,pro\n3,\"12,000\",basic\n",
    );
    let report = json(&ebb(&["validate", &data, "--json"]));
    assert!(report["notes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n == "column `amount`: read with `,` thousands separators"));
    let amount = report["quality"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "amount")
        .unwrap();
    assert_eq!(amount["kind"], "numeric");
    assert_eq!(amount["numeric"]["max"], 12000.0);

    // A file that is UTF-8 over its first MiB and then has a Windows-1252 byte: an error
    // naming the row and column, exit code 2.
    let mut bytes = b"id,city\n".to_vec();
    let mut rows = 0;
    while bytes.len() <= 1 << 20 {
        rows += 1;
        bytes.extend_from_slice(format!("{rows},Z\u{fc}rich\n").as_bytes());
    }
    bytes.extend_from_slice(b"0,Cr\xe9dit\n");
    let late = dir.join("late.csv");
    std::fs::write(&late, bytes).unwrap();
    fails_with(
        &["validate", path(&late)],
        2,
        &format!("row {}: column `city` is not valid UTF-8", rows + 1),
    );
}
