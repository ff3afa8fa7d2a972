//! `ebb runs`: list, compare and mark the run folders `ebb pipeline` writes.
//!
//! A run folder is `RUNS_DIR/<id>/` with `params.json`, `metrics.json`, `model.json` and
//! `report.html`; `RUNS_DIR/PUBLISH` holds the id of the run marked for publishing.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde_json::Value;

use crate::io::{print_json, render_table};
use crate::{write_file, CliError, CliResult};

/// File in the runs folder naming the run to publish.
pub const PUBLISH_FILE: &str = "PUBLISH";

#[derive(Args)]
pub struct RunsArgs {
    #[command(subcommand)]
    command: RunsCommand,
}

#[derive(Args)]
struct Common {
    /// Folder holding the run folders.
    #[arg(long, default_value = "runs")]
    runs_dir: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum RunsCommand {
    /// List runs, oldest first; `*` marks the run to publish.
    List(#[command(flatten)] Common),
    /// Compare two runs' cross-validated and held-out metrics side by side.
    Compare {
        /// The baseline run id.
        a: String,
        /// The run compared with it (deltas are B − A).
        b: String,
        #[command(flatten)]
        common: Common,
    },
    /// Mark a run as the one to publish.
    Mark {
        /// Run id.
        id: String,
        #[command(flatten)]
        common: Common,
    },
}

/// Metrics compared, as (label, path in metrics.json).
const COMPARED: [(&str, &[&str]); 12] = [
    ("cv roc_auc", &["training", "calibrated_cv", "roc_auc"]),
    ("cv pr_auc", &["training", "calibrated_cv", "pr_auc"]),
    ("cv log_loss", &["training", "calibrated_cv", "log_loss"]),
    ("cv brier", &["training", "calibrated_cv", "brier"]),
    ("cv best_f1", &["training", "calibrated_cv", "best_f1"]),
    ("holdout roc_auc", &["holdout", "roc_auc"]),
    ("holdout pr_auc", &["holdout", "pr_auc"]),
    ("holdout log_loss", &["holdout", "log_loss"]),
    ("holdout brier", &["holdout", "brier"]),
    ("holdout precision", &["holdout", "precision"]),
    ("holdout recall", &["holdout", "recall"]),
    ("holdout f1", &["holdout", "f1"]),
];

fn get<'a>(v: &'a Value, path: &[&str]) -> &'a Value {
    path.iter().fold(v, |v, k| &v[*k])
}

fn read_json(path: &Path) -> CliResult<Value> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::input(format!("{}: cannot read: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| CliError::input(format!("{}: not valid JSON: {e}", path.display())))
}

/// A run's metrics, or exit 2 naming the unknown id.
fn load_run(runs_dir: &Path, id: &str) -> CliResult<Value> {
    let path = runs_dir.join(id).join("metrics.json");
    if id.is_empty() || id.contains(['/', '\\']) || !path.exists() {
        return Err(CliError::input(format!(
            "run `{id}` not found in {} (see `ebb runs list --runs-dir {}`)",
            runs_dir.display(),
            runs_dir.display()
        )));
    }
    read_json(&path)
}

fn published(runs_dir: &Path) -> Option<String> {
    std::fs::read_to_string(runs_dir.join(PUBLISH_FILE))
        .ok()
        .map(|s| s.trim().to_string())
}

/// Ids of the run folders (those holding a metrics.json), oldest first: ids start with the
/// run's UTC time stamp.
fn run_ids(runs_dir: &Path) -> CliResult<Vec<String>> {
    let entries = std::fs::read_dir(runs_dir)
        .map_err(|e| CliError::input(format!("{}: cannot list runs: {e}", runs_dir.display())))?;
    let mut ids: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("metrics.json").is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    ids.sort();
    Ok(ids)
}

fn num(v: &Value) -> String {
    v.as_f64()
        .map(|x| format!("{x:.4}"))
        .unwrap_or_else(|| "-".into())
}

fn list(common: &Common) -> CliResult {
    let marked = published(&common.runs_dir);
    let mut runs = Vec::new();
    for id in run_ids(&common.runs_dir)? {
        let m = load_run(&common.runs_dir, &id)?;
        runs.push(serde_json::json!({
            "id": id,
            "published": marked.as_deref() == Some(id.as_str()),
            "model_id": get(&m, &["training", "model_id"]),
            "chosen": get(&m, &["training", "chosen"]),
            "data": m["data"],
            "cv_roc_auc": get(&m, &["training", "calibrated_cv", "roc_auc"]),
            "holdout_roc_auc": get(&m, &["holdout", "roc_auc"]),
        }));
    }
    if common.json {
        print_json(
            &serde_json::json!({"runs_dir": common.runs_dir, "published": marked, "runs": runs}),
        );
        return Ok(());
    }
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            vec![
                if r["published"] == true { "*" } else { "" }.to_string(),
                r["id"].as_str().unwrap_or_default().to_string(),
                r["model_id"].as_str().unwrap_or_default().to_string(),
                r["chosen"].as_str().unwrap_or_default().to_string(),
                num(&r["cv_roc_auc"]),
                num(&r["holdout_roc_auc"]),
                r["data"].as_str().unwrap_or_default().to_string(),
            ]
        })
        .collect();
    if rows.is_empty() {
        println!("no runs in {}", common.runs_dir.display());
    } else {
        print!(
            "{}",
            render_table(
                &[
                    "",
                    "run",
                    "model",
                    "family",
                    "cv_roc_auc",
                    "holdout_roc_auc",
                    "data"
                ],
                &rows
            )
        );
    }
    Ok(())
}

fn compare(a: &str, b: &str, common: &Common) -> CliResult {
    let (ma, mb) = (
        load_run(&common.runs_dir, a)?,
        load_run(&common.runs_dir, b)?,
    );
    let metrics: Vec<Value> = COMPARED
        .iter()
        .map(|(name, path)| {
            let (va, vb) = (get(&ma, path).as_f64(), get(&mb, path).as_f64());
            let delta = va.zip(vb).map(|(x, y)| y - x);
            serde_json::json!({"metric": name, "a": va, "b": vb, "delta": delta})
        })
        .collect();
    if common.json {
        print_json(&serde_json::json!({
            "a": {"id": a, "params": ma["params"], "chosen": get(&ma, &["training", "chosen"])},
            "b": {"id": b, "params": mb["params"], "chosen": get(&mb, &["training", "chosen"])},
            "metrics": metrics,
        }));
        return Ok(());
    }
    let mut rows: Vec<Vec<String>> = vec![
        vec![
            "family".into(),
            get(&ma, &["training", "chosen"])
                .as_str()
                .unwrap_or_default()
                .into(),
            get(&mb, &["training", "chosen"])
                .as_str()
                .unwrap_or_default()
                .into(),
            String::new(),
        ],
        vec![
            "params".into(),
            ma["params"].to_string(),
            mb["params"].to_string(),
            String::new(),
        ],
    ];
    rows.extend(metrics.iter().map(|m| {
        vec![
            m["metric"].as_str().unwrap_or_default().to_string(),
            num(&m["a"]),
            num(&m["b"]),
            m["delta"]
                .as_f64()
                .map(|d| format!("{d:+.4}"))
                .unwrap_or_else(|| "-".into()),
        ]
    }));
    print!("{}", render_table(&["", a, b, "delta (b - a)"], &rows));
    Ok(())
}

fn mark(id: &str, common: &Common) -> CliResult {
    load_run(&common.runs_dir, id)?;
    write_file(&common.runs_dir.join(PUBLISH_FILE), &format!("{id}\n"))?;
    if common.json {
        print_json(&serde_json::json!({"published": id, "runs_dir": common.runs_dir}));
    } else {
        println!(
            "run {id} marked for publishing ({})",
            common.runs_dir.join(PUBLISH_FILE).display()
        );
    }
    Ok(())
}

pub fn run(args: RunsArgs) -> CliResult {
    match &args.command {
        RunsCommand::List(common) => list(common),
        RunsCommand::Compare { a, b, common } => compare(a, b, common),
        RunsCommand::Mark { id, common } => mark(id, common),
    }
}
