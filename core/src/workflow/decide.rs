//! `decide`: who to contact. Scores every customer of a table with a model, applies the cost
//! model of [`crate::eval::decision`] and lists the contacts with their top reasons — what
//! `ebb decide` prints and the dashboard's Decide view shows, from this one function.

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::data::ingest::write_csv_field;
use crate::data::table::Table;
use crate::error::{Error, Result};
use crate::eval::decision::{
    remaining_value, values_from_column, CurvePoint, DecisionParams, Outcome,
};
use crate::insight::explain::Explainer;
use crate::progress::Reporter;
use crate::serve::artifact::Artifact;
use crate::serve::scorer::{Labels, Scorer, SkippedRow};

/// What keeping a customer is worth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerValue {
    /// One value for every customer (what keeping a customer is worth over the horizon).
    Fixed(f64),
    /// A numeric column of monthly value (e.g. `monthly_fee`), times the horizon in months.
    MonthlyColumn(String),
}

/// The business inputs of [`decide`] (`ebb decide`'s flags).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecideOptions {
    /// Cost per contact, retention success rate, daily capacity.
    pub params: DecisionParams,
    /// Customer value.
    pub value: CustomerValue,
    /// Months of value saved by keeping a customer, and the horizon of the remaining value.
    pub horizon_months: u32,
    /// Top reasons (exact SHAP) listed per contact; 0 leaves them empty (faster).
    pub reasons: usize,
}

impl Default for DecideOptions {
    fn default() -> Self {
        DecideOptions {
            params: DecisionParams::default(),
            value: CustomerValue::Fixed(600.0),
            horizon_months: 12,
            reasons: 3,
        }
    }
}

impl DecideOptions {
    /// Per-row customer value and monthly value of `table`. A missing or non-numeric value
    /// cell is an error naming its row and column.
    pub fn values(&self, table: &Table) -> Result<(Vec<f64>, Vec<f64>)> {
        if self.horizon_months == 0 {
            return Err(Error::InvalidParameter {
                name: "horizon_months".into(),
                message: "the horizon must be at least 1 month".into(),
            });
        }
        let months = f64::from(self.horizon_months);
        match &self.value {
            CustomerValue::MonthlyColumn(column) => {
                let monthly = values_from_column(table, column, 1.0)?;
                let value = monthly.iter().map(|m| m * months).collect();
                Ok((value, monthly))
            }
            CustomerValue::Fixed(value) => {
                if !(value.is_finite() && *value >= 0.0) {
                    return Err(Error::InvalidParameter {
                        name: "value".into(),
                        message: alloc::format!(
                            "the customer value must be a number >= 0, got {value}"
                        ),
                    });
                }
                let n = table.n_rows();
                Ok((vec![*value; n], vec![value / months; n]))
            }
        }
    }
}

/// One customer on the contact list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactRow {
    /// The customer id: the model's id column when the data has it, else the source row.
    pub id: String,
    /// 1-based data row in the source file.
    pub row: usize,
    /// Calibrated churn probability.
    pub probability: f64,
    /// The customer's value.
    pub customer_value: f64,
    /// `probability * success_rate * customer_value`.
    pub expected_saved: f64,
    /// `expected_saved - cost`: the ranking key.
    pub expected_value: f64,
    /// Expected revenue still to come over the horizon (see [`remaining_value`]).
    pub remaining_value: f64,
    /// The strongest SHAP reasons, `; `-separated (empty when none were asked for).
    pub top_reasons: String,
}

/// What [`decide`] found: the plan's numbers, the profit curves and the contact list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// The model's id.
    pub model_id: String,
    /// Customers scored.
    pub customers: usize,
    /// Rows that could not be scored, with the reason (left out of everything else).
    pub skipped: Vec<SkippedRow>,
    /// Customers with a positive expected value, before the capacity limit.
    pub worth_contacting: usize,
    /// The outcome of contacting exactly the contact list.
    pub contacted: Outcome,
    /// The profit-maximising probability threshold (no capacity limit); `None` when no
    /// threshold earns more than contacting nobody.
    pub best_threshold: Option<f64>,
    /// The outcome at `best_threshold`.
    pub best: Outcome,
    /// The model's own decision threshold.
    pub model_threshold: f64,
    /// The outcome at the model's threshold (no capacity limit).
    pub at_model_threshold: Outcome,
    /// Profit on an even threshold grid from 0 to 1.
    pub profit_by_threshold: Vec<CurvePoint>,
    /// Profit against the number contacted, one point per distinct probability.
    pub profit_by_count: Vec<CurvePoint>,
    /// The contact list, highest expected value first, at most `capacity` rows.
    pub contacts: Vec<ContactRow>,
}

/// The customer id of table row `r`: the model's id column when the table has it, else the
/// source row number.
pub fn customer_id(artifact: &Artifact, table: &Table, r: usize) -> String {
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

/// Scores `table` with `artifact`, builds the decision plan of `options` and explains each
/// contact. Fails on invalid options (before any scoring), on a value column that is missing or
/// holds a non-number, and with [`Error::NothingScored`] when no row can be scored. `reporter`
/// hears about the explanations (the slow part: exact SHAP per contact) and may cancel.
pub fn decide(
    artifact: &Artifact,
    table: &Table,
    options: &DecideOptions,
    reporter: &mut Reporter,
) -> Result<Decision> {
    let params = &options.params;
    params.check()?;
    let (all_values, all_monthly) = options.values(table)?;
    reporter.report("scoring", 0.0, "")?;
    let scored = Scorer::new(artifact).score_rows(table, Labels::Ignore)?;
    let (rows, probabilities): (Vec<usize>, Vec<f64>) = scored.scored().unzip();
    if rows.is_empty() {
        let first = scored.skipped.first();
        return Err(Error::NothingScored {
            rows: table.n_rows(),
            first_row: first.map_or(0, |s| s.row),
            reason: first.map(|s| s.reason.clone()).unwrap_or_default(),
        });
    }
    let values: Vec<f64> = rows.iter().map(|&r| all_values[r]).collect();
    reporter.report("planning", 0.1, "")?;
    let plan = params.plan(&probabilities, &values)?;
    let at_model_threshold = params.outcome_at(&probabilities, &values, artifact.threshold)?;

    let explainer = match options.reasons {
        0 => None,
        _ => Some(Explainer::new(artifact)?),
    };
    let mut explaining = reporter.sub(0.2, 1.0);
    let total = plan.contacts.len();
    let mut contacts = Vec::with_capacity(total);
    for (i, c) in plan.contacts.iter().enumerate() {
        let r = rows[c.row];
        let top_reasons = match &explainer {
            None => String::new(),
            Some(explainer) => {
                let texts: Vec<String> = explainer
                    .explain_row(table, r)?
                    .top_reasons(options.reasons)
                    .into_iter()
                    .map(|x| x.text)
                    .collect();
                texts.join("; ")
            }
        };
        contacts.push(ContactRow {
            id: customer_id(artifact, table, r),
            row: table.source_row(r),
            probability: c.probability,
            customer_value: c.customer_value,
            expected_saved: c.expected_saved,
            expected_value: c.expected_value,
            remaining_value: remaining_value(all_monthly[r], c.probability, options.horizon_months),
            top_reasons,
        });
        // Every 64 contacts: often enough for a bar, rarely enough to cost nothing.
        if i % 64 == 63 {
            explaining.step("explaining contacts", i + 1, total, "")?;
        }
    }
    explaining.report("decided", 1.0, "")?;
    Ok(Decision {
        model_id: artifact.model_id.clone(),
        customers: plan.customers,
        skipped: scored.skipped,
        worth_contacting: plan.worth_contacting,
        contacted: plan.contacted,
        best_threshold: plan.best_threshold,
        best: plan.best,
        model_threshold: artifact.threshold,
        at_model_threshold,
        profit_by_threshold: plan.by_threshold,
        profit_by_count: plan.by_count,
        contacts,
    })
}

/// The header of [`contacts_csv`].
pub const CONTACTS_CSV_HEADER: &str = "id,probability,expected_value,remaining_value,top_reasons";

/// The contact list as the CSV a CRM imports (`ebb decide --out`): one row per contact, numbers
/// in their shortest round-trip form (as JSON writes them), text fields quoted where needed.
pub fn contacts_csv(contacts: &[ContactRow]) -> String {
    let mut csv = String::from(CONTACTS_CSV_HEADER);
    csv.push('\n');
    for c in contacts {
        write_csv_field(&mut csv, &c.id, b',');
        for x in [c.probability, c.expected_value, c.remaining_value] {
            csv.push(',');
            csv.push_str(&number(x));
        }
        csv.push(',');
        write_csv_field(&mut csv, &c.top_reasons, b',');
        csv.push('\n');
    }
    csv
}

/// `x` as JSON writes it (`0.5`, `600.0`, `1e-7`; `null` for a non-finite number), so the CSV
/// and the JSON output of the same contact show the same digits.
fn number(x: f64) -> String {
    serde_json::to_string(&x).unwrap_or_else(|_| String::from("null"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::family::Family;
    use crate::train::TrainParams;

    /// Generated customers and a small model trained on them.
    fn fixture() -> (Table, Artifact) {
        let mut params = TrainParams::default()
            .with_families(vec![Family::Gbdt])
            .with_folds(2)
            .with_seed(1);
        params.boost.n_trees = 15;
        params.boost.early_stopping_rounds = None;
        crate::workflow::fixture::trained(500, 9, &params)
    }

    fn options(capacity: usize, reasons: usize) -> DecideOptions {
        DecideOptions {
            params: DecisionParams::default()
                .with_cost_per_contact(5.0)
                .with_success_rate(0.25)
                .with_capacity(capacity),
            value: CustomerValue::Fixed(500.0),
            horizon_months: 12,
            reasons,
        }
    }

    #[test]
    fn decide_is_the_plan_of_the_scored_rows_with_ids_and_reasons() {
        let (table, artifact) = fixture();
        let opts = options(30, 2);
        let d = decide(&artifact, &table, &opts, &mut Reporter::silent()).unwrap();

        // The same numbers as scoring and planning by hand.
        let scored = Scorer::new(&artifact)
            .score_rows(&table, Labels::Ignore)
            .unwrap();
        let p: Vec<f64> = scored.probabilities.iter().map(|p| p.unwrap()).collect();
        let values = vec![500.0; p.len()];
        let plan = opts.params.plan(&p, &values).unwrap();
        assert_eq!(d.customers, table.n_rows());
        assert!(d.skipped.is_empty());
        assert_eq!(d.best_threshold, plan.best_threshold);
        assert_eq!(d.best, plan.best);
        assert_eq!(d.profit_by_threshold, plan.by_threshold);
        assert_eq!(d.profit_by_count, plan.by_count);
        assert_eq!(d.worth_contacting, plan.worth_contacting);
        assert_eq!(d.contacted, plan.contacted);
        assert_eq!(
            d.at_model_threshold,
            opts.params
                .outcome_at(&p, &values, artifact.threshold)
                .unwrap()
        );
        assert!(plan.worth_contacting > 30, "{}", plan.worth_contacting);
        assert_eq!(d.contacts.len(), 30, "capacity caps the list");
        let id_col = table
            .column_index(artifact.schema.id_column.as_deref().unwrap())
            .unwrap();
        for (c, planned) in d.contacts.iter().zip(&plan.contacts) {
            assert_eq!(c.probability, planned.probability);
            assert_eq!(c.expected_value, planned.expected_value);
            assert_eq!(c.id, table.raw(planned.row, id_col));
            assert_eq!(c.row, table.source_row(planned.row));
            assert_eq!(
                c.remaining_value,
                remaining_value(500.0 / 12.0, c.probability, 12)
            );
            assert_eq!(c.top_reasons.split("; ").count(), 2, "{}", c.top_reasons);
            assert!(c.top_reasons.contains(" risk ("), "{}", c.top_reasons);
        }

        // No reasons asked: the same list without them.
        let bare = decide(&artifact, &table, &options(30, 0), &mut Reporter::silent()).unwrap();
        assert!(bare.contacts.iter().all(|c| c.top_reasons.is_empty()));
        assert_eq!(bare.contacted, d.contacted);

        // The result crosses a serde boundary (a Web Worker message) unchanged.
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(serde_json::from_str::<Decision>(&json).unwrap(), d);
    }

    #[test]
    fn unscorable_rows_are_listed_and_a_value_column_sets_the_values() {
        let (table, artifact) = fixture();
        let tenure = table.column_index("tenure_months").unwrap();
        let mut broken = Table::new(table.names().to_vec()).unwrap();
        for r in 0..table.n_rows() {
            let cells: Vec<&str> = (0..table.n_cols())
                .map(|c| match (r, c == tenure) {
                    (0 | 7, true) => "abc",
                    _ => table.raw(r, c),
                })
                .collect();
            broken.push_row(table.source_row(r), cells).unwrap();
        }
        let mut opts = options(10, 0);
        opts.value = CustomerValue::MonthlyColumn("monthly_fee".into());
        opts.horizon_months = 24;
        let d = decide(&artifact, &broken, &opts, &mut Reporter::silent()).unwrap();
        assert_eq!(d.customers, table.n_rows() - 2);
        let skipped: Vec<usize> = d.skipped.iter().map(|s| s.row).collect();
        assert_eq!(
            skipped,
            [table.source_row(0), table.source_row(7)],
            "{:?}",
            d.skipped
        );
        assert!(d.skipped[0].reason.contains("tenure_months"));
        let fee = table.column_index("monthly_fee").unwrap();
        for c in &d.contacts {
            let r = (0..table.n_rows())
                .find(|&r| table.source_row(r) == c.row)
                .unwrap();
            let monthly: f64 = table.raw(r, fee).parse().unwrap();
            assert_eq!(c.customer_value, monthly * 24.0);
            assert_eq!(
                c.expected_value,
                opts.params.expected_value(c.probability, monthly * 24.0)
            );
        }
    }

    #[test]
    fn bad_inputs_are_named() {
        let (table, artifact) = fixture();
        let run = |opts: &DecideOptions| {
            decide(&artifact, &table, opts, &mut Reporter::silent()).unwrap_err()
        };
        let mut opts = options(10, 0);
        opts.params.success_rate = 1.5;
        assert_eq!(run(&opts).field(), Some("success_rate"));
        let mut opts = options(10, 0);
        opts.params.cost_per_contact = -1.0;
        assert_eq!(run(&opts).field(), Some("cost"));
        let mut opts = options(10, 0);
        opts.value = CustomerValue::Fixed(f64::NAN);
        assert_eq!(run(&opts).field(), Some("value"));
        let mut opts = options(10, 0);
        opts.horizon_months = 0;
        assert_eq!(run(&opts).field(), Some("horizon_months"));
        let mut opts = options(10, 0);
        opts.value = CustomerValue::MonthlyColumn("fee".into());
        assert_eq!(run(&opts).column(), Some("fee"));

        // Nothing scorable: said with the first row's reason.
        let tenure = table.column_index("tenure_months").unwrap();
        let mut broken = Table::new(table.names().to_vec()).unwrap();
        for r in 0..3 {
            let cells: Vec<&str> = (0..table.n_cols())
                .map(|c| if c == tenure { "x" } else { table.raw(r, c) })
                .collect();
            broken.push_row(table.source_row(r), cells).unwrap();
        }
        let err = decide(&artifact, &broken, &options(10, 0), &mut Reporter::silent()).unwrap_err();
        assert!(
            matches!(&err, Error::NothingScored { rows: 3, first_row, .. } if *first_row == table.source_row(0)),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .starts_with("no row could be scored; first problem: row "),
            "{err}"
        );
    }

    #[test]
    fn contacts_csv_quotes_text_and_writes_numbers_as_json_does() {
        let contact = |id: &str, p: f64, reasons: &str| ContactRow {
            id: id.into(),
            row: 1,
            probability: p,
            customer_value: 600.0,
            expected_saved: 0.0,
            expected_value: 600.0,
            remaining_value: 1e-7,
            top_reasons: reasons.into(),
        };
        let csv = contacts_csv(&[
            contact("C1", 0.5, "plan = basic raised risk (+0.100 log-odds)"),
            contact("a,b", 1.0, "x = \"y\" raised risk"),
        ]);
        assert_eq!(
            csv,
            "id,probability,expected_value,remaining_value,top_reasons\n\
             C1,0.5,600.0,1e-7,plan = basic raised risk (+0.100 log-odds)\n\
             \"a,b\",1.0,600.0,1e-7,\"x = \"\"y\"\" raised risk\"\n"
        );
        assert_eq!(
            contacts_csv(&[]),
            "id,probability,expected_value,remaining_value,top_reasons\n"
        );
    }
}
