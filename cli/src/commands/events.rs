//! `ebb events`: turn an event log into per-customer features (7/30/90-day counts and sums,
//! 7-vs-30-day trend, recency) as of each customer's snapshot date, and join them to the
//! customer table. Point-in-time correct: events after a customer's snapshot are ignored.

use std::path::PathBuf;

use clap::Args;
use ebb_core::data::events::{join, EventAggregation, Snapshot};

use crate::io::{print_json, read_table};
use crate::{CliError, CliResult};

#[derive(Args)]
pub struct EventsArgs {
    /// Event log: customer_id,timestamp,event_type,value (CSV or JSON).
    log: PathBuf,
    /// Customer table to join the features to.
    #[arg(long)]
    customers: PathBuf,
    /// Customer id column (in both files).
    #[arg(long, default_value = "customer_id")]
    id: String,
    /// Column of the customer table holding each customer's snapshot date.
    #[arg(long, conflicts_with = "snapshot")]
    time: Option<String>,
    /// One snapshot date (YYYY-MM-DD) for every customer.
    #[arg(long)]
    snapshot: Option<String>,
    /// Output CSV: the customer table with the event features appended.
    #[arg(long)]
    out: PathBuf,
    /// Print a JSON summary instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: EventsArgs) -> CliResult {
    let (customers, _) = read_table(&args.customers)?;
    let (log, _) = read_table(&args.log)?;
    let snapshot = match (&args.time, &args.snapshot) {
        (Some(col), None) => Snapshot::from_table(&customers, &args.id, col)
            .map_err(|e| CliError::core(&args.customers, e))?,
        (None, Some(date)) => Snapshot::At(
            ebb_core::data::datetime::parse_datetime(date).ok_or_else(|| {
                CliError::input(format!(
                    "--snapshot `{date}` is not an ISO 8601 date (YYYY-MM-DD)"
                ))
            })?,
        ),
        _ => {
            return Err(CliError::input(
                "give the snapshot as --time COLUMN (per customer) or --snapshot YYYY-MM-DD",
            ))
        }
    };
    let mut aggregation = EventAggregation::default();
    aggregation.columns.customer_id = args.id.clone();
    let features = aggregation
        .aggregate(&log, &snapshot)
        .map_err(|e| CliError::core(&args.log, e))?;
    let joined =
        join(&customers, &args.id, &features).map_err(|e| CliError::core(&args.customers, e))?;
    super::write_table_csv(&args.out, &joined)?;
    if args.json {
        print_json(&serde_json::json!({
            "customers": joined.n_rows(), "features": features.names, "out": args.out,
        }));
    } else {
        println!(
            "added {} event features for {} customers into {}",
            features.names.len(),
            joined.n_rows(),
            args.out.display()
        );
    }
    Ok(())
}
