//! `ebb evaluate`: a model artifact's metrics on labelled data.

use std::path::{Path, PathBuf};

use clap::Args;
use ebb_core::data::table::Table;
use ebb_core::metrics::{evaluate, Report};
use ebb_core::serve::artifact::Artifact;
use ebb_core::serve::scorer::Scorer;

use crate::io::{print_json, read_artifact, read_table, render_table};
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

/// What evaluating a table gives: the report, and rows left out with reasons.
pub struct Evaluation {
    /// Metrics on the rows that could be scored and had a label.
    pub report: Report,
    /// `(source row, reason)` of every row left out.
    pub skipped: Vec<(usize, String)>,
}

/// Scores `table` with `artifact` and compares against its labels.
pub fn evaluate_table(artifact: &Artifact, table: &Table, path: &Path) -> CliResult<Evaluation> {
    let target = artifact
        .schema
        .target
        .as_ref()
        .ok_or_else(|| CliError::input("the model has no target column to evaluate against"))?;
    let col = table.column_index(&target.name).ok_or_else(|| {
        CliError::input(format!(
            "{}: column `{}` (the target) is missing",
            path.display(),
            target.name
        ))
    })?;
    let scorer = Scorer::new(artifact.clone());
    let scores = scorer
        .score_table(table)
        .map_err(|e| CliError::core(path, e))?;
    let (mut y, mut p, mut skipped) = (Vec::new(), Vec::new(), Vec::new());
    for (r, score) in scores.into_iter().enumerate() {
        let row = table.source_row(r);
        let raw = table.raw(r, col);
        match (target.label(raw), score) {
            (Some(label), Ok(s)) => {
                y.push(label);
                p.push(s.probability);
            }
            (None, _) => skipped.push((
                row,
                format!(
                    "target `{raw}` is not `{}` or `{}`",
                    target.positive, target.negative
                ),
            )),
            (_, Err(e)) => skipped.push((row, e.to_string())),
        }
    }
    let report = evaluate(&y, &p, artifact.threshold).map_err(|e| CliError::core(path, e))?;
    Ok(Evaluation { report, skipped })
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
    let Evaluation { report, skipped } = evaluate_table(&artifact, &table, &args.data)?;
    if args.json {
        let mut v = serde_json::to_value(&report).map_err(|e| CliError::other(e.to_string()))?;
        v["model_id"] = serde_json::json!(artifact.model_id);
        v["skipped_rows"] = serde_json::json!(skipped.len());
        v["skipped_examples"] = serde_json::json!(skipped.iter().take(10).collect::<Vec<_>>());
        print_json(&v);
    } else {
        println!(
            "model {} on {} ({} rows)",
            artifact.model_id,
            args.data.display(),
            report.n
        );
        print_report(&report);
        if !skipped.is_empty() {
            println!("{} rows left out:", skipped.len());
            for (row, why) in skipped.iter().take(10) {
                println!("  row {row}: {why}");
            }
        }
    }
    Ok(())
}
