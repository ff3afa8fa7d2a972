//! `ebb whatif`: re-scores a customer record with some fields changed, shows how each field's
//! contribution moved, and for a customer still at or above the threshold searches greedily
//! for the smallest change of the `--actionable` fields that brings them under it.

use std::path::PathBuf;

use clap::Args;
use ebb_core::insight::explain::Explainer;
use ebb_core::workflow::whatif;

use crate::io::{print_json, read_artifact, render_table};
use crate::{CliError, CliResult};

#[derive(Args)]
pub struct WhatifArgs {
    /// Model artifact (JSON) written by `ebb train`.
    model: PathBuf,
    /// The customer as a JSON object of raw fields, or @file to read it from a file.
    #[arg(long)]
    record: String,
    /// A change to try, as field=value (repeatable; an empty value or NA means missing).
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    set: Vec<String>,
    /// Fields the business can change (comma-separated), searched for a change that brings
    /// the customer under the threshold.
    #[arg(long, value_delimiter = ',')]
    actionable: Vec<String>,
    /// Number of reasons shown for the changed record.
    #[arg(long, default_value_t = 5)]
    top: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

fn read_record(arg: &str) -> CliResult<serde_json::Map<String, serde_json::Value>> {
    let text = match arg.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| CliError::input(format!("--record {path}: cannot read: {e}")))?,
        None => arg.to_string(),
    };
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(CliError::input(
            "--record: expected a JSON object of fields, e.g. {\"tenure_months\": 12}",
        )),
        Err(e) => Err(CliError::input(format!("--record: invalid JSON: {e}"))),
    }
}

/// A core error about the record or a flag, in the terms of the command line.
fn record_error(e: ebb_core::Error) -> CliError {
    match (whatif::field_error(&e), e) {
        (Some(message), _) => CliError::input(message),
        (None, ebb_core::Error::InvalidParameter { name, message }) => {
            CliError::input(format!("--{name}: {message}"))
        }
        (None, other) => CliError::input(format!("--record: {other}")),
    }
}

pub fn run(args: WhatifArgs) -> CliResult {
    let artifact = read_artifact(&args.model)?;
    let explainer = Explainer::new(&artifact).map_err(|e| CliError::core(&args.model, e))?;
    let record = read_record(&args.record)?;
    let mut edits = Vec::with_capacity(args.set.len());
    for change in &args.set {
        let Some((field, value)) = change.split_once('=') else {
            return Err(CliError::input(format!(
                "--set `{change}`: expected field=value"
            )));
        };
        // An empty value or NA means missing (core reads them so).
        edits.push(whatif::Edit {
            field: field.trim().to_string(),
            value: Some(value.to_string()),
        });
    }
    let w = whatif::what_if(&explainer, &record, &edits, args.top).map_err(record_error)?;
    let whatif::SuggestReport { suggestion, note } =
        whatif::suggest(&explainer, &record, &edits, &args.actionable).map_err(record_error)?;
    let reasons = &w.reasons;
    let unset = w.missing_fields;
    if args.json {
        print_json(&serde_json::json!({
            "model_id": w.model_id,
            "threshold": w.threshold,
            "space": w.space,
            "before": w.before,
            "after": w.after,
            "probability_change": w.probability_change,
            "changes": w.changes,
            "reasons": reasons,
            "missing_fields": unset,
            "suggestion": suggestion,
            "suggestion_note": note,
        }));
        return Ok(());
    }
    println!(
        "churn probability {:.3} -> {:.3} ({:+.3}); threshold {:.3}",
        w.before.probability, w.after.probability, w.probability_change, w.threshold
    );
    if unset > 0 {
        println!("({unset} of the model's fields are missing in the record and scored as missing)");
    }
    if !w.changes.is_empty() {
        let rows: Vec<Vec<String>> = w
            .changes
            .iter()
            .map(|c| {
                vec![
                    c.column.clone(),
                    c.from.clone(),
                    c.to.clone(),
                    format!("{:+.4}", c.contribution_before),
                    format!("{:+.4}", c.contribution_after),
                ]
            })
            .collect();
        print!(
            "{}",
            render_table(
                &["field", "from", "to", "contribution before", "after"],
                &rows
            )
        );
    }
    println!("top reasons now:");
    for r in reasons {
        println!("  {}", r.text);
    }
    println!("{note}");
    if let Some(s) = &suggestion {
        for c in &s.changes {
            println!(
                "  set {} from {} to {} -> probability {:.3}",
                c.column, c.from, c.to, c.probability_after
            );
        }
    }
    Ok(())
}
