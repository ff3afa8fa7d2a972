//! `ebb whatif`: re-scores a customer record with some fields changed, shows how each field's
//! contribution moved, and for a customer still at or above the threshold searches greedily
//! for the smallest change of the `--actionable` fields that brings them under it.

use std::path::PathBuf;

use clap::Args;
use ebb_core::data::table::Value;
use ebb_core::insight::explain::Explainer;

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

/// A core error about the record, in terms of its fields (the core's row number means nothing
/// for a single record).
fn record_error(e: ebb_core::Error) -> CliError {
    match e {
        ebb_core::Error::BadValue {
            column,
            value,
            expected,
            ..
        } => CliError::input(format!(
            "field `{column}`: `{value}` is not a valid {expected}"
        )),
        other => CliError::input(format!("--record: {other}")),
    }
}

pub fn run(args: WhatifArgs) -> CliResult {
    let artifact = read_artifact(&args.model)?;
    let explainer = Explainer::new(&artifact).map_err(|e| CliError::core(&args.model, e))?;
    let record = read_record(&args.record)?;
    let inputs: Vec<&str> = artifact.pipeline.input_names().collect();
    let mut edited = record.clone();
    for change in &args.set {
        let Some((field, value)) = change.split_once('=') else {
            return Err(CliError::input(format!(
                "--set `{change}`: expected field=value"
            )));
        };
        let field = field.trim();
        if !inputs.contains(&field) {
            return Err(CliError::input(format!(
                "--set: unknown field `{field}`; the model's fields are: {}",
                inputs.join(", ")
            )));
        }
        let value = if ebb_core::data::table::is_na(value) {
            serde_json::Value::Null
        } else {
            serde_json::Value::String(value.to_string())
        };
        edited.insert(field.to_string(), value);
    }
    for field in &args.actionable {
        if !inputs.contains(&field.as_str()) {
            return Err(CliError::input(format!(
                "--actionable: unknown field `{field}`; the model's fields are: {}",
                inputs.join(", ")
            )));
        }
    }
    let (before, snapshot) = explainer.record_values(&record).map_err(record_error)?;
    let (after, _) = explainer.record_values(&edited).map_err(record_error)?;
    let w = explainer
        .what_if(&before, &after, snapshot)
        .map_err(record_error)?;
    let actionable: Vec<&str> = args.actionable.iter().map(String::as_str).collect();
    let suggestion = if actionable.is_empty() {
        None
    } else {
        Some(
            explainer
                .suggest(&after, snapshot, &actionable)
                .map_err(record_error)?,
        )
    };
    let note = match &suggestion {
        None => "no actionable fields were given (use --actionable field1,field2)".to_string(),
        Some(s) if s.probability_before < s.threshold => {
            "the customer is already under the threshold".to_string()
        }
        Some(s) if s.reached => format!(
            "changing {} field(s) brings the customer under the threshold",
            s.changes.len()
        ),
        Some(_) => "no change of the actionable fields found brings the customer under the \
                    threshold"
            .to_string(),
    };
    let reasons = w.after.top_reasons(args.top);
    let unset = after.iter().filter(|v| matches!(v, Value::Missing)).count();
    if args.json {
        print_json(&serde_json::json!({
            "model_id": artifact.model_id,
            "threshold": artifact.threshold,
            "space": w.after.space,
            "before": { "probability": w.before.probability, "decision": w.before.decision, "raw_score": w.before.raw_score },
            "after": { "probability": w.after.probability, "decision": w.after.decision, "raw_score": w.after.raw_score },
            "probability_change": w.after.probability - w.before.probability,
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
        w.before.probability,
        w.after.probability,
        w.after.probability - w.before.probability,
        artifact.threshold
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
    for r in &reasons {
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
