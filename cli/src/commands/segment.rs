//! `ebb segment`: customer personas — k-means++ clusters on standardised inputs with their
//! size, mean risk, mean value and the inputs that set them apart (see `ebb_core::insight::segment`).

use std::path::PathBuf;

use clap::Args;
use ebb_core::workflow::{segments, SegmentOptions, Segments, SEGMENT_SEED};

use crate::commands::decide::ValueArgs;
use crate::io::{print_json, read_artifact, read_table, render_table};
use crate::{CliError, CliResult};

#[derive(Args)]
pub struct SegmentArgs {
    /// Model artifact (JSON) written by `ebb train`.
    model: PathBuf,
    /// Customers to segment (CSV or JSON array of records).
    data: PathBuf,
    /// Number of segments (default: chosen in 2..=8 by silhouette).
    #[arg(long)]
    k: Option<usize>,
    #[command(flatten)]
    value: ValueArgs,
    /// Seed of the sample and of k-means++.
    #[arg(long, default_value_t = SEGMENT_SEED)]
    seed: u64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: SegmentArgs) -> CliResult {
    let artifact = read_artifact(&args.model)?;
    let (table, _) = read_table(&args.data)?;
    let options = SegmentOptions {
        k: args.k,
        seed: args.seed,
        value: args.value.customer_value()?,
        horizon_months: args.value.horizon_months,
    };
    let Segments {
        customers,
        segmentation: s,
        skipped,
        ..
    } = segments(&artifact, &table, &options).map_err(|e| CliError::core(&args.data, e))?;
    if args.json {
        let mut v = serde_json::to_value(&s).map_err(|e| CliError::other(e.to_string()))?;
        if let Some(o) = v.as_object_mut() {
            // One segment id per row is for library callers; the CLI reports the summary.
            o.remove("assignments");
        }
        v["model_id"] = serde_json::json!(artifact.model_id);
        v["customers"] = serde_json::json!(customers);
        v["invalid"] = serde_json::json!(skipped.len());
        print_json(&v);
        return Ok(());
    }
    println!(
        "{} customers in {} segments (silhouette {:.3} on {} sampled rows{})",
        customers,
        s.k,
        s.silhouette,
        s.sample_size,
        if args.k.is_some() {
            ", k given"
        } else {
            ", k chosen by silhouette"
        }
    );
    let rows: Vec<Vec<String>> = s
        .segments
        .iter()
        .map(|g| {
            let apart: Vec<String> = g
                .distinctions
                .iter()
                .map(|d| {
                    format!(
                        "{} {:+.2} sd ({:.3} vs {:.3})",
                        d.feature, d.standardised_difference, d.segment_mean, d.overall_mean
                    )
                })
                .collect();
            vec![
                g.id.to_string(),
                g.size.to_string(),
                format!("{:.1}%", 100.0 * g.share),
                format!("{:.3}", g.mean_risk),
                format!("{:.2}", g.mean_value),
                format!("{:.2}", g.value_at_risk),
                apart.join("; "),
            ]
        })
        .collect();
    print!(
        "{}",
        render_table(
            &[
                "segment",
                "size",
                "share",
                "mean_risk",
                "mean_value",
                "value_at_risk",
                "set apart by"
            ],
            &rows
        )
    );
    if !s.space.skipped_columns.is_empty() {
        println!(
            "left out (constant or too many levels): {}",
            s.space.skipped_columns.join(", ")
        );
    }
    if !skipped.is_empty() {
        eprintln!(
            "{} rows could not be scored and were left out",
            skipped.len()
        );
    }
    Ok(())
}
