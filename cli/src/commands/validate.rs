//! `ebb validate`: column types, the data-quality report, quarantined rows, and schema files.

use std::path::PathBuf;

use clap::Args;
use ebb_core::data::schema::Schema;

use crate::io::{print_json, render_table};
use crate::{CliError, CliResult, ColumnArgs};

#[derive(Args)]
pub struct ValidateArgs {
    /// Data file (CSV or JSON array of records).
    data: PathBuf,
    #[command(flatten)]
    columns: ColumnArgs,
    /// Enforce a saved schema: report missing/extra columns, new categories and type changes.
    #[arg(long)]
    schema: Option<PathBuf>,
    /// Save the inferred schema here (to enforce on later files).
    #[arg(long)]
    save_schema: Option<PathBuf>,
    /// Write quarantined rows here (CSV, original values).
    #[arg(long)]
    quarantine: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

fn fmt_num(v: Option<f64>) -> String {
    match v {
        Some(x) if x.abs() >= 1e5 || (x != 0.0 && x.abs() < 1e-3) => format!("{x:.3e}"),
        Some(x) => format!("{:.3}", x)
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string(),
        None => "-".into(),
    }
}

pub fn run(args: ValidateArgs) -> CliResult {
    // With a saved schema, the file is checked against it (and reported by its types) rather
    // than re-inferred, so later files are judged by what training saw.
    let saved = match &args.schema {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                CliError::input(format!("{}: cannot read schema: {e}", path.display()))
            })?;
            Some(Schema::from_json(&text).map_err(|e| CliError::core(path, e))?)
        }
        None => None,
    };
    let prepared = super::prepare(&args.data, &args.columns, false, saved, args.json)?;
    let schema_check = prepared.schema_check.clone();
    if let Some(path) = &args.save_schema {
        crate::write_file(path, &prepared.schema.to_json())?;
    }
    if let Some(path) = &args.quarantine {
        super::write_table_csv(path, &prepared.quarantined)?;
    }
    let q = &prepared.quality;
    if args.json {
        print_json(&serde_json::json!({
            "file": args.data,
            "schema": prepared.schema,
            "notes": prepared.notes,
            "quality": q,
            "warnings": q.warnings(),
            "schema_check": schema_check,
            "quarantined_rows": prepared.quarantined.n_rows(),
            "clean_rows": prepared.clean.n_rows(),
        }));
    } else {
        println!(
            "{}: {} rows x {} columns",
            args.data.display(),
            q.n_rows,
            q.n_columns
        );
        let rows: Vec<Vec<String>> = q
            .columns
            .iter()
            .map(|c| {
                vec![
                    c.name.clone(),
                    format!("{:?}", c.kind).to_lowercase(),
                    format!("{:.1}%", c.missing_rate * 100.0),
                    c.distinct.to_string(),
                    fmt_num(c.numeric.as_ref().map(|n| n.min)),
                    fmt_num(c.numeric.as_ref().map(|n| n.p50)),
                    fmt_num(c.numeric.as_ref().map(|n| n.max)),
                    c.numeric
                        .as_ref()
                        .map(|n| n.outliers.to_string())
                        .unwrap_or_else(|| "-".into()),
                    c.bad_cells.to_string(),
                ]
            })
            .collect();
        print!(
            "{}",
            render_table(
                &[
                    "column", "type", "missing", "distinct", "min", "median", "max", "outliers",
                    "bad"
                ],
                &rows
            )
        );
        for note in &prepared.notes {
            println!("note: {note}");
        }
        for w in q.warnings() {
            println!("warning: {w}");
        }
        println!(
            "{} clean rows, {} quarantined{}",
            prepared.clean.n_rows(),
            prepared.quarantined.n_rows(),
            match &args.quarantine {
                Some(p) => format!(" (written to {})", p.display()),
                None if prepared.quarantined.n_rows() > 0 =>
                    " (see them with --quarantine FILE)".into(),
                None => String::new(),
            }
        );
        if let Some(check) = &schema_check {
            println!(
                "schema check: {}",
                serde_json::to_string(check).unwrap_or_default()
            );
        }
    }
    match schema_check {
        Some(check) => check
            .into_result()
            .map(|_| ())
            .map_err(|e| CliError::core(&args.data, e)),
        None => Ok(()),
    }
}
