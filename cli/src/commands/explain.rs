//! `ebb explain`: why customers got their scores. With `--row`, one customer's contributions
//! and top reasons; without, the table-wide importance of every input column (mean |SHAP|)
//! and the top reasons of the first rows.

use std::path::PathBuf;

use clap::Args;
use ebb_core::data::table::Table;
use ebb_core::insight::explain::{find_row, Explainer, Explanation, Reason};

use crate::io::{print_json, read_artifact, read_table, render_table};
use crate::progress::ProgressBar;
use crate::{CliError, CliResult};
use ebb_core::progress::Reporter;

#[derive(Args)]
pub struct ExplainArgs {
    /// Model artifact (JSON) written by `ebb train`.
    model: PathBuf,
    /// Customers (CSV or JSON array of records).
    data: PathBuf,
    /// The customer to explain: a value of the model's id column, or a 1-based data-row number
    /// (when no id equals it).
    #[arg(long)]
    row: Option<String>,
    /// Number of reasons per customer.
    #[arg(long, default_value_t = 5)]
    top: usize,
    /// Without --row: how many of the first rows get their reasons shown.
    #[arg(long, default_value_t = 5)]
    examples: usize,
    /// Without --row: importance is computed on at most this many evenly spaced rows.
    #[arg(long, default_value_t = 500)]
    sample: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

fn row_label(table: &Table, id_index: Option<usize>, r: usize) -> String {
    match id_index {
        Some(c) => table.raw(r, c).to_string(),
        None => table.source_row(r).to_string(),
    }
}

fn reasons_json(reasons: &[Reason]) -> serde_json::Value {
    serde_json::to_value(reasons).unwrap_or_default()
}

fn print_reasons(reasons: &[Reason]) {
    if reasons.is_empty() {
        println!("  (no field moved this score away from the average)");
    }
    for r in reasons {
        println!("  {}", r.text);
    }
}

fn single(args: &ExplainArgs, e: &Explanation, id: &str, threshold: f64, model_id: &str) {
    let reasons = e.top_reasons(args.top);
    if args.json {
        print_json(&serde_json::json!({
            "model_id": model_id,
            "row": id,
            "space": e.space,
            "base_value": e.base_value,
            "raw_score": e.raw_score,
            "probability": e.probability,
            "decision": e.decision,
            "threshold": threshold,
            "reasons": reasons_json(&reasons),
            "contributions": e.contributions,
        }));
        return;
    }
    println!(
        "customer {id}: churn probability {:.3} ({} at threshold {threshold:.3})",
        e.probability,
        if e.decision { "flagged" } else { "not flagged" }
    );
    println!(
        "model output {:.4} = average {:.4} + contributions ({})",
        e.raw_score,
        e.base_value,
        e.space.unit()
    );
    let rows: Vec<Vec<String>> = e
        .contributions
        .iter()
        .map(|c| {
            vec![
                c.column.clone(),
                c.value_text.clone(),
                format!("{:+.4}", c.contribution),
            ]
        })
        .collect();
    print!(
        "{}",
        render_table(&["field", "value", "contribution"], &rows)
    );
    println!("top reasons:");
    print_reasons(&reasons);
}

pub fn run(args: ExplainArgs) -> CliResult {
    let artifact = read_artifact(&args.model)?;
    let (table, _) = read_table(&args.data)?;
    let explainer = Explainer::new(&artifact).map_err(|e| CliError::core(&args.model, e))?;
    let id_column = artifact.schema.id_column.as_deref();
    let id_index = id_column.and_then(|c| table.column_index(c));
    if let Some(id) = &args.row {
        let r = find_row(&table, id_column, id)
            .map_err(|e| CliError::input(format!("{}: {e}", args.data.display())))?;
        let e = explainer
            .explain_row(&table, r.index)
            .map_err(|e| CliError::core(&args.data, e))?;
        single(&args, &e, id, artifact.threshold, &artifact.model_id);
        return Ok(());
    }
    let mut bar = ProgressBar::new(args.json);
    let importance = explainer
        .global_importance(&table, args.sample, &mut Reporter::new(&mut bar))
        .map_err(|e| CliError::core(&args.data, e))?;
    bar.finish();
    if importance.rows == 0 {
        return Err(CliError::input(format!(
            "{}: no row fits the model's schema (see `ebb validate`)",
            args.data.display()
        )));
    }
    let mut examples = Vec::new();
    for r in 0..table.n_rows().min(args.examples) {
        if let Ok(e) = explainer.explain_row(&table, r) {
            examples.push((row_label(&table, id_index, r), e));
        }
    }
    if args.json {
        let examples: Vec<serde_json::Value> = examples
            .iter()
            .map(|(id, e)| {
                serde_json::json!({
                    "row": id, "probability": e.probability, "decision": e.decision,
                    "raw_score": e.raw_score, "reasons": reasons_json(&e.top_reasons(args.top)),
                })
            })
            .collect();
        print_json(&serde_json::json!({
            "model_id": artifact.model_id,
            "space": importance.space,
            "base_value": explainer.base_value(),
            "rows": importance.rows,
            "skipped_rows": importance.skipped,
            "importance": importance.columns,
            "examples": examples,
        }));
        return Ok(());
    }
    println!(
        "model {} on {} ({} rows explained, {} left out; contributions in {})",
        artifact.model_id,
        args.data.display(),
        importance.rows,
        importance.skipped,
        importance.space.unit()
    );
    let rows: Vec<Vec<String>> = importance
        .columns
        .iter()
        .map(|c| {
            vec![
                c.column.clone(),
                format!("{:.4}", c.mean_abs),
                format!("{:+.4}", c.mean),
            ]
        })
        .collect();
    print!(
        "{}",
        render_table(
            &["field", "mean |contribution|", "mean contribution"],
            &rows
        )
    );
    for (id, e) in &examples {
        println!(
            "\ncustomer {id}: churn probability {:.3}{}",
            e.probability,
            if e.decision { " (flagged)" } else { "" }
        );
        print_reasons(&e.top_reasons(args.top));
    }
    Ok(())
}
