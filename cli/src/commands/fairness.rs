//! `ebb fairness`: the model's flag rates and errors per group of a column, with ratios to the
//! best group and flags under the four-fifths rule (see `ebb_core::eval::fairness`).

use std::path::PathBuf;

use clap::Args;
use ebb_core::eval::fairness::FairnessParams;
use ebb_core::workflow::{fairness, FairnessAudit, FairnessOptions};

use crate::io::{print_json, read_artifact, read_table, render_table};
use crate::{CliError, CliResult};

#[derive(Args)]
pub struct FairnessArgs {
    /// Model artifact (JSON) written by `ebb train`.
    model: PathBuf,
    /// Customers (with the target column for precision, recall and false-positive rates).
    data: PathBuf,
    /// Column to group by (categorical; a numeric column is binned into quartiles).
    #[arg(long)]
    by: String,
    /// Ratios under this are flagged.
    #[arg(long, default_value_t = 0.8)]
    min_ratio: f64,
    /// Groups smaller than this are reported but not judged.
    #[arg(long, default_value_t = 30)]
    min_group_size: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: FairnessArgs) -> CliResult {
    let artifact = read_artifact(&args.model)?;
    let (table, _) = read_table(&args.data)?;
    let options = FairnessOptions {
        by: args.by,
        params: FairnessParams::default()
            .with_min_ratio(args.min_ratio)
            .with_min_group_size(args.min_group_size),
    };
    let FairnessAudit {
        report, skipped, ..
    } = fairness(&artifact, &table, &options).map_err(|e| CliError::core(&args.data, e))?;
    let params = &options.params;
    if args.json {
        let mut v = serde_json::to_value(&report).map_err(|e| CliError::other(e.to_string()))?;
        v["model_id"] = serde_json::json!(artifact.model_id);
        v["invalid"] = serde_json::json!(skipped.len());
        print_json(&v);
        return Ok(());
    }
    let f = |x: Option<f64>| x.map_or_else(|| "-".to_string(), |x| format!("{x:.3}"));
    let table_rows: Vec<Vec<String>> = report
        .groups
        .iter()
        .map(|g| {
            vec![
                g.group.clone(),
                g.size.to_string(),
                f(Some(g.positive_rate)),
                f(g.precision),
                f(g.recall),
                f(g.false_positive_rate),
                f(g.positive_rate_ratio),
                f(g.precision_ratio),
                f(g.recall_ratio),
                f(g.fpr_ratio),
            ]
        })
        .collect();
    println!(
        "fairness of model {} by `{}`{} at threshold {:.4}{}",
        artifact.model_id,
        report.column,
        if report.binned { " (quartiles)" } else { "" },
        report.threshold,
        if report.labelled {
            ""
        } else {
            " (no target column in the data: positive rates only)"
        }
    );
    print!(
        "{}",
        render_table(
            &[
                "group",
                "size",
                "pos_rate",
                "precision",
                "recall",
                "fpr",
                "pos_ratio",
                "prec_ratio",
                "rec_ratio",
                "fpr_ratio"
            ],
            &table_rows
        )
    );
    if report.flags.is_empty() {
        println!(
            "no ratio under {} in groups of at least {} rows",
            report.min_ratio, params.min_group_size
        );
    } else {
        println!("flagged (ratio under {}):", report.min_ratio);
        for flag in &report.flags {
            println!("  {}: {} = {:.3}", flag.group, flag.ratio, flag.value);
        }
    }
    if !skipped.is_empty() {
        eprintln!(
            "{} rows could not be scored and were left out",
            skipped.len()
        );
    }
    Ok(())
}
