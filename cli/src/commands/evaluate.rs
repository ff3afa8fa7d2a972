//! `ebb evaluate`: a model artifact's metrics on labelled data.

use std::path::PathBuf;

use clap::Args;
use ebb_core::metrics::Report;
use ebb_core::workflow::{self, Evaluation};

use crate::io::{print_json, read_artifact, read_table, render_table};
use crate::progress::ProgressBar;
use crate::{CliError, CliResult};

#[derive(Args)]
pub struct EvaluateArgs {
    /// Model artifact (JSON) written by `ebb train`.
    model: PathBuf,
    /// Labelled data with the model's target column.
    data: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Prints a report as text.
pub fn print_report(r: &Report) {
    let rows = vec![
        vec!["roc_auc".into(), format!("{:.4}", r.roc_auc)],
        vec!["pr_auc".into(), format!("{:.4}", r.pr_auc)],
        vec!["log_loss".into(), format!("{:.4}", r.log_loss)],
        vec!["brier".into(), format!("{:.4}", r.brier)],
        vec!["threshold".into(), format!("{:.4}", r.threshold)],
        vec!["precision".into(), format!("{:.4}", r.precision)],
        vec!["recall".into(), format!("{:.4}", r.recall)],
        vec!["f1".into(), format!("{:.4}", r.f1)],
        vec!["accuracy".into(), format!("{:.4}", r.accuracy)],
    ];
    print!("{}", render_table(&["metric", "value"], &rows));
    let c = &r.confusion;
    println!(
        "confusion at threshold: tp {} fp {} tn {} fn {}",
        c.tp, c.fp, c.tn, c.fn_
    );
}

pub fn run(args: EvaluateArgs) -> CliResult {
    let artifact = read_artifact(&args.model)?;
    let (table, _) = read_table(&args.data)?;
    let mut bar = ProgressBar::new(args.json);
    let evaluated = workflow::evaluate(&artifact, &table, &mut bar.reporter());
    bar.finish();
    let Evaluation {
        metrics, skipped, ..
    } = evaluated.map_err(|e| CliError::core(&args.data, e))?;
    if args.json {
        let mut v = serde_json::to_value(&metrics).map_err(|e| CliError::other(e.to_string()))?;
        v["model_id"] = serde_json::json!(artifact.model_id);
        v["skipped_rows"] = serde_json::json!(skipped.len());
        v["skipped_examples"] = serde_json::json!(skipped
            .iter()
            .take(10)
            .map(|s| (s.row, &s.reason))
            .collect::<Vec<_>>());
        print_json(&v);
    } else {
        println!(
            "model {} on {} ({} rows)",
            artifact.model_id,
            args.data.display(),
            metrics.n
        );
        print_report(&metrics);
        if !skipped.is_empty() {
            println!("{} rows left out:", skipped.len());
            for s in skipped.iter().take(10) {
                println!("  row {}: {}", s.row, s.reason);
            }
        }
    }
    Ok(())
}
