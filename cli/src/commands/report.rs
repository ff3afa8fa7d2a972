//! `ebb report`: one self-contained HTML page describing a model on labelled data.

use std::path::PathBuf;

use clap::Args;
use ebb_core::monitor::report::{build_report, ReportParams};
use ebb_core::monitor::Verdict;
use ebb_core::progress::Reporter;

use crate::io::{print_json, read_artifact, read_table};
use crate::{write_file, CliError, CliResult};

#[derive(Args)]
pub struct ReportArgs {
    /// Model artifact (JSON).
    model: PathBuf,
    /// Labelled data with the model's target column.
    data: PathBuf,
    /// Where to write the HTML page.
    #[arg(long)]
    out: PathBuf,
    /// Column whose groups get a fairness table (e.g. region or plan).
    #[arg(long)]
    by: Option<String>,
    /// Print one JSON object (the summaries the page shows) instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: ReportArgs) -> CliResult {
    let artifact = read_artifact(&args.model)?;
    let (table, _) = read_table(&args.data)?;
    let report = build_report(
        &artifact,
        &table,
        &ReportParams::default().with_by(args.by),
        &mut Reporter::silent(),
    )
    .map_err(|e| CliError::core(&args.data, e))?;
    let html = report.to_html();
    write_file(&args.out, &html)?;
    if args.json {
        let mut v = serde_json::to_value(&report).map_err(|e| CliError::other(e.to_string()))?;
        v["out"] = serde_json::json!(args.out);
        v["bytes"] = serde_json::json!(html.len());
        print_json(&v);
    } else {
        let drifted: Vec<&str> = report
            .drift
            .columns
            .iter()
            .filter(|d| d.verdict != Verdict::Ok)
            .map(|d| d.name.as_str())
            .collect();
        println!(
            "report on {} rows ({} left out): ROC-AUC {:.4}, best profit {:.0} contacting the top {:.0}%; drifted columns: {}",
            report.rows,
            report.skipped,
            report.metrics.roc_auc,
            report.best_profit.profit,
            100.0 * report.best_profit.fraction,
            if drifted.is_empty() { "none".to_string() } else { drifted.join(", ") }
        );
        println!("written to {} ({} bytes)", args.out.display(), html.len());
    }
    Ok(())
}
