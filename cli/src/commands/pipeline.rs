//! `ebb pipeline`: the whole flow into one run folder — ingest, validate, hold out a test set,
//! train and compare with cross-validation on the rest, evaluate on the held-out rows, save.
//!
//! Each run gets `RUNS_DIR/<time stamp>-<model hash>/` with `params.json`, `metrics.json`,
//! `model.json`, `schema.json`, `quality.json`, `quarantine.csv` and `report.html` (the held-out
//! rows), and one line appended to `RUNS_DIR/index.jsonl`; `ebb runs` reads them.

use std::path::PathBuf;

use clap::Args;
use ebb_core::monitor::report::{build_report, ReportParams};
use ebb_core::progress::Reporter;
use ebb_core::train::TrainParams;
use ebb_core::workflow::{evaluate, hold_out};

use crate::commands::evaluate::print_report;
use crate::commands::train::{families, print_summary, summary_json, train_artifact};
use crate::io::{now_iso, print_json};
use crate::{write_file, CliError, CliResult, ColumnArgs};

#[derive(Args)]
pub struct PipelineArgs {
    /// Training data (CSV or JSON array of records).
    data: PathBuf,
    #[command(flatten)]
    columns: ColumnArgs,
    /// Model family: gbdt, forest, logistic or all.
    #[arg(long, default_value = "all")]
    model: String,
    /// Cross-validation folds.
    #[arg(long, default_value_t = 5)]
    folds: usize,
    /// Seed of every random step.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Folder that receives one sub-folder per run.
    #[arg(long, default_value = "runs")]
    runs_dir: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: PipelineArgs) -> CliResult {
    let params = TrainParams::default()
        .with_families(families(&args.model)?)
        .with_folds(args.folds)
        .with_seed(args.seed);
    let prepared = super::prepare(&args.data, &args.columns, true, None, args.json)?;
    let schema = &prepared.schema;
    let to_input = |e: ebb_core::Error| CliError::core(&args.data, e);

    // A test set the model never sees: the latest 20% with a time column, otherwise one
    // stratified fifth.
    let (train_part, test_part) = hold_out(&prepared, args.seed).map_err(to_input)?;
    let trained = train_artifact(&train_part, &params, &args.data, args.json)?;
    let artifact = &trained.artifact;
    let holdout = evaluate(artifact, &test_part, &mut Reporter::silent()).map_err(to_input)?;

    let stamp = now_iso().replace([':', '-'], "");
    let run_dir = args
        .runs_dir
        .join(format!("{}-{}", &stamp[..15], &artifact.model_id[2..10]));
    let json = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    write_file(
        &run_dir.join("model.json"),
        &artifact.to_json().map_err(to_input)?,
    )?;
    write_file(&run_dir.join("schema.json"), &schema.to_json())?;
    write_file(
        &run_dir.join("quality.json"),
        &json(
            &serde_json::json!({"notes": prepared.notes, "quality": prepared.quality, "warnings": prepared.quality.warnings()}),
        ),
    )?;
    super::write_table_csv(&run_dir.join("quarantine.csv"), &prepared.quarantined)?;
    let report = build_report(
        artifact,
        &test_part,
        &ReportParams::default(),
        &mut Reporter::silent(),
    )
    .map_err(to_input)?;
    write_file(&run_dir.join("report.html"), &report.to_html())?;
    let run_params = serde_json::json!({
        "model": args.model,
        "folds": args.folds,
        "seed": args.seed,
        "target": args.columns.target,
        "id": args.columns.id,
        "time": args.columns.time,
    });
    write_file(
        &run_dir.join("params.json"),
        &json(&serde_json::json!({
            "params": run_params,
            "data": args.data,
            "data_hash": prepared.data_hash,
            "created_at": artifact.metadata.created_at,
            "model_id": artifact.model_id,
        })),
    )?;
    let summary = serde_json::json!({
        "run": run_dir,
        "data": args.data,
        "params": run_params,
        "train_rows": train_part.clean.n_rows(),
        "test_rows": test_part.n_rows(),
        "training": summary_json(&trained, &run_dir.join("model.json")),
        "holdout": holdout.metrics,
        "holdout_skipped_rows": holdout.skipped.len(),
        "report": run_dir.join("report.html"),
    });
    write_file(&run_dir.join("metrics.json"), &json(&summary))?;
    append_index(&args.runs_dir, &run_dir, &summary)?;
    if args.json {
        print_json(&summary);
    } else {
        println!("run folder: {}", run_dir.display());
        for w in prepared.quality.warnings() {
            println!("warning: {w}");
        }
        print_summary(&trained, &run_dir.join("model.json"));
        println!(
            "\nheld-out test set ({} rows never used in training):",
            test_part.n_rows()
        );
        print_report(&holdout.metrics);
        println!("report: {}", run_dir.join("report.html").display());
    }
    Ok(())
}

/// Appends one line describing the run to `RUNS_DIR/index.jsonl`, for tools that want the history
/// without opening every folder.
fn append_index(
    runs_dir: &std::path::Path,
    run_dir: &std::path::Path,
    summary: &serde_json::Value,
) -> CliResult {
    use std::io::Write;
    let line = serde_json::json!({
        "id": run_dir.file_name().map(|n| n.to_string_lossy().into_owned()),
        "model_id": summary["training"]["model_id"],
        "chosen": summary["training"]["chosen"],
        "data": summary["data"],
        "params": summary["params"],
        "cv_roc_auc": summary["training"]["calibrated_cv"]["roc_auc"],
        "holdout_roc_auc": summary["holdout"]["roc_auc"],
    });
    let path = runs_dir.join("index.jsonl");
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| writeln!(f, "{line}"))
        .map_err(|e| CliError::other(format!("{}: cannot append: {e}", path.display())))
}
