//! `ebb decide`: who to contact. Core's `workflow::decide` scores every customer and applies the
//! cost model of `ebb_core::eval::decision` (the profit-maximising threshold, the profit curve and
//! a ranked contact list that respects the contact capacity); this command reads the flags, writes
//! the contact list with `workflow::contacts_csv` and prints the numbers.

use std::path::PathBuf;

use clap::Args;
use ebb_core::eval::decision::DecisionParams;
use ebb_core::progress::Reporter;
use ebb_core::workflow::{contacts_csv, decide, CustomerValue, DecideOptions};

use crate::io::{print_json, read_artifact, read_table, render_table};
use crate::{CliError, CliResult};

/// How much a customer is worth (shared by `decide` and `segment`).
#[derive(Args, Clone)]
pub struct ValueArgs {
    /// One value for every customer (what keeping a customer is worth).
    #[arg(long, default_value_t = 600.0, conflicts_with = "value_column")]
    pub value: f64,
    /// A numeric column of monthly value (e.g. monthly_fee), multiplied by --horizon-months.
    #[arg(long)]
    pub value_column: Option<String>,
    /// Months of value saved by keeping a customer, and the horizon of the remaining value.
    #[arg(long, default_value_t = 12)]
    pub horizon_months: u32,
}

impl ValueArgs {
    /// The flags as core's customer value, refused with the flag to fix when out of range.
    pub fn customer_value(&self) -> CliResult<CustomerValue> {
        if self.horizon_months == 0 {
            return Err(CliError::input("--horizon-months must be at least 1"));
        }
        match &self.value_column {
            Some(column) => Ok(CustomerValue::MonthlyColumn(column.clone())),
            None if self.value.is_finite() && self.value >= 0.0 => {
                Ok(CustomerValue::Fixed(self.value))
            }
            None => Err(CliError::input(format!(
                "--value must be a number >= 0, got {}",
                self.value
            ))),
        }
    }

    /// The decision inputs of these flags, for `reasons` top reasons per contact.
    pub fn options(&self, params: DecisionParams, reasons: usize) -> CliResult<DecideOptions> {
        Ok(DecideOptions {
            params,
            value: self.customer_value()?,
            horizon_months: self.horizon_months,
            reasons,
        })
    }
}

#[derive(Args)]
pub struct DecideArgs {
    /// Model artifact (JSON) written by `ebb train`.
    model: PathBuf,
    /// Customers to consider (CSV or JSON array of records).
    data: PathBuf,
    /// Top reasons (exact SHAP) listed per contact; 0 leaves the column empty (faster).
    #[arg(long, default_value_t = 3)]
    reasons: usize,
    /// Output CSV: the contact list (id, probability, expected_value, remaining_value, top_reasons).
    #[arg(long)]
    out: PathBuf,
    /// Cost of one contact.
    #[arg(long, default_value_t = 10.0)]
    cost: f64,
    #[command(flatten)]
    value: ValueArgs,
    /// Share of contacted would-be churners kept by the contact.
    #[arg(long, default_value_t = 0.3)]
    success_rate: f64,
    /// Most customers contacted.
    #[arg(long, default_value_t = 1000)]
    capacity: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: DecideArgs) -> CliResult {
    let artifact = read_artifact(&args.model)?;
    let (table, _) = read_table(&args.data)?;
    let params = DecisionParams::default()
        .with_cost_per_contact(args.cost)
        .with_success_rate(args.success_rate)
        .with_capacity(args.capacity);
    let options = args.value.options(params, args.reasons)?;
    let decision = decide(&artifact, &table, &options, &mut Reporter::silent()).map_err(|e| {
        match e.kind() {
            // Core names the setting; the flag is the user's word for it.
            ebb_core::ErrorKind::InvalidParameter => CliError::input(e.to_string()),
            _ => CliError::core(&args.data, e),
        }
    })?;
    crate::write_file(&args.out, &contacts_csv(&decision.contacts))?;
    let params = &options.params;
    let horizon = options.horizon_months;
    let invalid: Vec<(usize, &str)> = decision
        .skipped
        .iter()
        .map(|s| (s.row, s.reason.as_str()))
        .collect();

    if args.json {
        print_json(&serde_json::json!({
            "model_id": decision.model_id,
            "customers": decision.customers,
            "invalid": invalid.len(),
            "invalid_examples": invalid.iter().take(10).collect::<Vec<_>>(),
            "cost_per_contact": params.cost_per_contact,
            "success_rate": params.success_rate,
            "capacity": params.capacity,
            "horizon_months": horizon,
            "value_column": args.value.value_column,
            "worth_contacting": decision.worth_contacting,
            "contacted": decision.contacted,
            "best_threshold": decision.best_threshold,
            "best": decision.best,
            "model_threshold": decision.model_threshold,
            "at_model_threshold": decision.at_model_threshold,
            "profit_by_threshold": decision.profit_by_threshold,
            "profit_by_count": decision.profit_by_count,
            "contacts": decision.contacts,
            "out": args.out,
        }));
        return Ok(());
    }
    let c = &decision.contacted;
    println!(
        "{} customers scored; {} worth contacting; contacting {} (capacity {}) into {}",
        decision.customers,
        decision.worth_contacting,
        c.contacted,
        params.capacity,
        args.out.display()
    );
    println!(
        "expected saved {:.2}, cost {:.2}, net {:.2}",
        c.expected_saved, c.cost, c.net
    );
    let threshold = |t: Option<f64>| t.map_or_else(|| "none".to_string(), |t| format!("{t:.4}"));
    let rows = vec![
        vec![
            "profit-maximising".to_string(),
            threshold(decision.best_threshold),
            decision.best.contacted.to_string(),
            format!("{:.2}", decision.best.net),
        ],
        vec![
            "model".to_string(),
            threshold(Some(decision.model_threshold)),
            decision.at_model_threshold.contacted.to_string(),
            format!("{:.2}", decision.at_model_threshold.net),
        ],
    ];
    println!("thresholds (no capacity limit):");
    print!(
        "{}",
        render_table(&["threshold", "value", "contacted", "expected net"], &rows)
    );
    if !invalid.is_empty() {
        eprintln!(
            "{} rows could not be scored and were left out:",
            invalid.len()
        );
        for (row, why) in invalid.iter().take(10) {
            eprintln!("  row {row}: {why}");
        }
    }
    Ok(())
}
