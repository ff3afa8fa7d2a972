//! `ebb decide`: who to contact. Scores every customer, then applies the cost model of
//! `ebb_core::eval::decision` to give the profit-maximising threshold, the profit curve and a ranked
//! contact list (CSV) that respects the contact capacity.

use std::path::{Path, PathBuf};

use clap::Args;
use ebb_core::data::table::Table;
use ebb_core::eval::decision::{remaining_value, values_from_column, DecisionParams};
use ebb_core::serve::artifact::Artifact;
use ebb_core::serve::scorer::{Labels, Scorer};

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
    /// Per-row customer value and monthly value.
    pub fn values(&self, table: &Table, path: &Path) -> CliResult<(Vec<f64>, Vec<f64>)> {
        if self.horizon_months == 0 {
            return Err(CliError::input("--horizon-months must be at least 1"));
        }
        let months = f64::from(self.horizon_months);
        match &self.value_column {
            Some(column) => {
                let monthly =
                    values_from_column(table, column, 1.0).map_err(|e| CliError::core(path, e))?;
                let value = monthly.iter().map(|m| m * months).collect();
                Ok((value, monthly))
            }
            None => {
                if !(self.value.is_finite() && self.value >= 0.0) {
                    return Err(CliError::input(format!(
                        "--value must be a number >= 0, got {}",
                        self.value
                    )));
                }
                let n = table.n_rows();
                Ok((vec![self.value; n], vec![self.value / months; n]))
            }
        }
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

/// The rows of a table that could be scored.
pub struct Scored {
    /// Table row indices that could be scored.
    pub rows: Vec<usize>,
    /// Their calibrated probabilities.
    pub probabilities: Vec<f64>,
    /// `(source row, reason)` of every row that could not.
    pub invalid: Vec<(usize, String)>,
}

/// Scores `table` through core's one scored-rows path. Fails when no row can be scored.
pub fn score_rows(artifact: &Artifact, table: &Table, path: &Path) -> CliResult<Scored> {
    let scored = Scorer::new(artifact)
        .score_rows(table, Labels::Ignore)
        .map_err(|e| CliError::core(path, e))?;
    let (rows, probabilities): (Vec<usize>, Vec<f64>) = scored.scored().unzip();
    let invalid: Vec<(usize, String)> = scored
        .skipped
        .into_iter()
        .map(|s| (s.row, s.reason))
        .collect();
    if rows.is_empty() {
        let first = invalid.first().map_or("", |(_, why)| why.as_str());
        return Err(CliError::input(format!(
            "{}: no row could be scored; first problem: {first}",
            path.display()
        )));
    }
    Ok(Scored {
        rows,
        probabilities,
        invalid,
    })
}

/// The customer id of a row: the id column when the model has one, else the source row number.
pub fn row_id(artifact: &Artifact, table: &Table, r: usize) -> String {
    artifact
        .schema
        .id_column
        .as_deref()
        .and_then(|c| table.column_index(c))
        .map_or_else(
            || table.source_row(r).to_string(),
            |c| table.raw(r, c).to_string(),
        )
}

pub fn run(args: DecideArgs) -> CliResult {
    let artifact = read_artifact(&args.model)?;
    let (table, _) = read_table(&args.data)?;
    let (all_values, all_monthly) = args.value.values(&table, &args.data)?;
    let Scored {
        rows,
        probabilities,
        invalid,
    } = score_rows(&artifact, &table, &args.data)?;
    let values: Vec<f64> = rows.iter().map(|&r| all_values[r]).collect();
    let params = DecisionParams::default()
        .with_cost_per_contact(args.cost)
        .with_success_rate(args.success_rate)
        .with_capacity(args.capacity);
    let bad_flag = |e: ebb_core::Error| CliError::input(e.to_string());
    let plan = params.plan(&probabilities, &values).map_err(bad_flag)?;
    let at_model = params
        .outcome_at(&probabilities, &values, artifact.threshold)
        .map_err(bad_flag)?;

    let horizon = args.value.horizon_months;
    // Why each contact is at risk: the top reasons from the model's exact SHAP explanation.
    let explainer = ebb_core::insight::explain::Explainer::new(&artifact)
        .map_err(|e| CliError::core(&args.model, e))?;
    let reasons_of = |r: usize| -> CliResult<String> {
        if args.reasons == 0 {
            return Ok(String::new());
        }
        let explanation = explainer
            .explain_row(&table, r)
            .map_err(|e| CliError::core(&args.data, e))?;
        let texts: Vec<String> = explanation
            .top_reasons(args.reasons)
            .into_iter()
            .map(|x| x.text)
            .collect();
        Ok(texts.join("; "))
    };
    let contacts: Vec<serde_json::Value> = plan
        .contacts
        .iter()
        .map(|c| {
            let r = rows[c.row];
            Ok(serde_json::json!({
                "top_reasons": reasons_of(r)?,
                "id": row_id(&artifact, &table, r),
                "row": table.source_row(r),
                "probability": c.probability,
                "customer_value": c.customer_value,
                "expected_saved": c.expected_saved,
                "expected_value": c.expected_value,
                "remaining_value": remaining_value(all_monthly[r], c.probability, horizon),
            }))
        })
        .collect::<CliResult<_>>()?;

    let mut csv = String::from("id,probability,expected_value,remaining_value,top_reasons\n");
    for c in &contacts {
        let mut id = String::new();
        ebb_core::data::ingest::write_csv_field(&mut id, c["id"].as_str().unwrap_or(""), b',');
        let mut reasons = String::new();
        ebb_core::data::ingest::write_csv_field(
            &mut reasons,
            c["top_reasons"].as_str().unwrap_or(""),
            b',',
        );
        csv.push_str(&format!(
            "{id},{},{},{},{reasons}\n",
            c["probability"], c["expected_value"], c["remaining_value"]
        ));
    }
    crate::write_file(&args.out, &csv)?;

    if args.json {
        print_json(&serde_json::json!({
            "model_id": artifact.model_id,
            "customers": plan.customers,
            "invalid": invalid.len(),
            "invalid_examples": invalid.iter().take(10).collect::<Vec<_>>(),
            "cost_per_contact": params.cost_per_contact,
            "success_rate": params.success_rate,
            "capacity": params.capacity,
            "horizon_months": horizon,
            "value_column": args.value.value_column,
            "worth_contacting": plan.worth_contacting,
            "contacted": plan.contacted,
            "best_threshold": plan.best_threshold,
            "best": plan.best,
            "model_threshold": artifact.threshold,
            "at_model_threshold": at_model,
            "profit_by_threshold": plan.by_threshold,
            "profit_by_count": plan.by_count,
            "contacts": contacts,
            "out": args.out,
        }));
        return Ok(());
    }
    let c = &plan.contacted;
    println!(
        "{} customers scored; {} worth contacting; contacting {} (capacity {}) into {}",
        plan.customers,
        plan.worth_contacting,
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
            threshold(plan.best_threshold),
            plan.best.contacted.to_string(),
            format!("{:.2}", plan.best.net),
        ],
        vec![
            "model".to_string(),
            threshold(Some(artifact.threshold)),
            at_model.contacted.to_string(),
            format!("{:.2}", at_model.net),
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
