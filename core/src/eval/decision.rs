//! Business decisions from calibrated churn probabilities: who to contact, at which threshold,
//! and what it is expected to earn.
//!
//! # The cost model
//!
//! Contacting a customer costs `cost` (default 10). A contacted customer who would have churned
//! is kept with probability `success_rate` (default 0.3), which saves their value `v` (default
//! 600: a year of a 50-a-month subscription; or a per-customer value such as
//! `monthly_fee x horizon_months`, see [`values_from_column`]). With `p` the calibrated 30-day
//! churn probability, the expected net value of contacting one customer is
//!
//! ```text
//! expected_saved = p * success_rate * v
//! expected_value = expected_saved - cost
//! ```
//!
//! and contacting a set of customers earns the sum of their `expected_value`. Customers who
//! are not contacted cost and save nothing (the baseline is "do nothing").
//!
//! # Thresholds and the contact list
//!
//! A threshold `t` contacts every customer with `p >= t`. The profit curve gives the expected
//! profit of each threshold (and so of each number contacted, in order of falling probability);
//! the profit-maximising threshold is the one with the highest profit over every distinct
//! probability in the data. With a single value for every customer the optimum is the smallest
//! probability at or above the break-even probability `cost / (success_rate * v)`.
//!
//! The contact list ranks customers by `expected_value` (not by probability: a valuable customer
//! at moderate risk can be worth more than a cheap one at high risk), keeps only positive
//! expected values and at most `capacity` rows (default 1,000 a day).
//!
//! # Remaining value
//!
//! [`remaining_value`] is the expected revenue still to come from a customer over a horizon,
//! under geometric survival: the 30-day churn probability `p` becomes a monthly hazard
//! `h = 1 - (1 - p)^(30.4375 / 30)` (a calendar month is 30.4375 days on average), the customer
//! is still paying in month `k` with probability `(1 - h)^k`, and
//!
//! ```text
//! remaining_value = m * sum_{k=1..H} (1 - h)^k = m * (1 - h) * (1 - (1 - h)^H) / h
//! ```
//!
//! for a monthly value `m` over `H` months (`m * H` when `h = 0`).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::data::table::{is_na, parse_number, Table};
use crate::error::{Error, Result};

/// Average length of a calendar month in days (365.25 / 12).
const DAYS_PER_MONTH: f64 = 30.4375;

/// The days a churn probability covers (the model predicts churn in the next 30 days).
const PREDICTION_DAYS: f64 = 30.0;

/// The cost model. See the module documentation for the formulas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionParams {
    /// Cost of one contact (default 10).
    pub cost_per_contact: f64,
    /// Share of contacted would-be churners who stay because of the contact (default 0.3).
    pub success_rate: f64,
    /// Most customers contacted (default 1,000, a day's capacity).
    pub capacity: usize,
    /// Points on the returned profit curve's threshold grid (default 101: 0.00, 0.01, ... 1.00).
    pub curve_points: usize,
}

impl Default for DecisionParams {
    fn default() -> Self {
        DecisionParams {
            cost_per_contact: 10.0,
            success_rate: 0.3,
            capacity: 1_000,
            curve_points: 101,
        }
    }
}

impl DecisionParams {
    /// Sets the cost of one contact.
    pub fn with_cost_per_contact(mut self, cost: f64) -> Self {
        self.cost_per_contact = cost;
        self
    }

    /// Sets the retention success rate.
    pub fn with_success_rate(mut self, rate: f64) -> Self {
        self.success_rate = rate;
        self
    }

    /// Sets the contact capacity.
    pub fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// Sets the number of points on the profit curve's threshold grid (at least 2).
    pub fn with_curve_points(mut self, points: usize) -> Self {
        self.curve_points = points;
        self
    }

    /// Fails with [`Error::InvalidParameter`] naming the setting that cannot work (a negative
    /// cost, a success rate outside `(0, 1]`, fewer than 2 curve points).
    pub fn check(&self) -> Result<()> {
        if !(self.cost_per_contact.is_finite() && self.cost_per_contact >= 0.0) {
            return Err(Error::InvalidParameter {
                name: "cost".into(),
                message: format!(
                    "the cost per contact must be a finite number >= 0, got {}",
                    self.cost_per_contact
                ),
            });
        }
        if !(self.success_rate > 0.0 && self.success_rate <= 1.0) {
            return Err(Error::InvalidParameter {
                name: "success_rate".into(),
                message: format!(
                    "the retention success rate must be in (0, 1], got {}",
                    self.success_rate
                ),
            });
        }
        if self.curve_points < 2 {
            return Err(Error::InvalidParameter {
                name: "curve_points".into(),
                message: format!(
                    "the profit curve needs at least 2 points, got {}",
                    self.curve_points
                ),
            });
        }
        Ok(())
    }

    /// Expected value saved by contacting a customer: `p * success_rate * value`.
    pub fn expected_saved(&self, probability: f64, value: f64) -> f64 {
        probability * self.success_rate * value
    }

    /// Expected net value of contacting a customer: `expected_saved - cost`.
    pub fn expected_value(&self, probability: f64, value: f64) -> f64 {
        self.expected_saved(probability, value) - self.cost_per_contact
    }

    /// Builds the decision plan for customers with calibrated `probabilities` and customer
    /// `values` (same length, one per customer).
    pub fn plan(&self, probabilities: &[f64], values: &[f64]) -> Result<Plan> {
        self.check()?;
        check_inputs(probabilities, values)?;
        let by_probability = rank_by_probability(probabilities);

        // Cut points: contacting the top `k` by probability, only where the probability changes
        // (a threshold cannot split customers with equal probabilities).
        let mut best = Outcome::nobody();
        let mut best_threshold = None;
        let mut running = Outcome::nobody();
        let mut by_count = Vec::new();
        for (i, &row) in by_probability.iter().enumerate() {
            running.add(self, probabilities[row], values[row]);
            let next = by_probability.get(i + 1).map(|&r| probabilities[r]);
            if next == Some(probabilities[row]) {
                continue;
            }
            if running.net > best.net {
                best = running.clone();
                best_threshold = Some(probabilities[row]);
            }
            by_count.push(CurvePoint {
                threshold: probabilities[row],
                outcome: running.clone(),
            });
        }

        let grid = self.curve_points - 1;
        let by_threshold = (0..=grid)
            .map(|g| {
                let threshold = g as f64 / grid as f64;
                let mut outcome = Outcome::nobody();
                for (&p, &v) in probabilities.iter().zip(values) {
                    if p >= threshold {
                        outcome.add(self, p, v);
                    }
                }
                CurvePoint { threshold, outcome }
            })
            .collect();

        let mut ranked: Vec<Contact> = (0..probabilities.len())
            .map(|row| Contact {
                row,
                probability: probabilities[row],
                customer_value: values[row],
                expected_saved: self.expected_saved(probabilities[row], values[row]),
                expected_value: self.expected_value(probabilities[row], values[row]),
            })
            .filter(|c| c.expected_value > 0.0)
            .collect();
        ranked.sort_by(|a, b| {
            b.expected_value
                .total_cmp(&a.expected_value)
                .then(b.probability.total_cmp(&a.probability))
                .then(a.row.cmp(&b.row))
        });
        let worth_contacting = ranked.len();
        ranked.truncate(self.capacity);
        let mut contacted = Outcome::nobody();
        for c in &ranked {
            contacted.add(self, c.probability, c.customer_value);
        }

        Ok(Plan {
            customers: probabilities.len(),
            best_threshold,
            best,
            by_threshold,
            by_count,
            worth_contacting,
            contacts: ranked,
            contacted,
        })
    }

    /// The outcome of contacting every customer with `probability >= threshold` (no capacity
    /// limit), e.g. to compare the model's own threshold with the profit-maximising one.
    pub fn outcome_at(
        &self,
        probabilities: &[f64],
        values: &[f64],
        threshold: f64,
    ) -> Result<Outcome> {
        self.check()?;
        check_inputs(probabilities, values)?;
        let mut outcome = Outcome::nobody();
        for (&p, &v) in probabilities.iter().zip(values) {
            if p >= threshold {
                outcome.add(self, p, v);
            }
        }
        Ok(outcome)
    }
}

/// Customer indices by falling probability, ties in row order: the order thresholds contact
/// customers in.
pub(crate) fn rank_by_probability(probabilities: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..probabilities.len()).collect();
    order.sort_by(|&a, &b| {
        probabilities[b]
            .total_cmp(&probabilities[a])
            .then(a.cmp(&b))
    });
    order
}

fn check_inputs(probabilities: &[f64], values: &[f64]) -> Result<()> {
    if probabilities.len() != values.len() {
        return Err(Error::InvalidParameter {
            name: "values".into(),
            message: format!(
                "expected one customer value per probability ({}), got {}",
                probabilities.len(),
                values.len()
            ),
        });
    }
    if let Some((i, p)) = probabilities
        .iter()
        .enumerate()
        .find(|(_, p)| !(0.0..=1.0).contains(*p))
    {
        return Err(Error::InvalidParameter {
            name: "probabilities".into(),
            message: format!("customer {} has probability {p}, outside [0, 1]", i + 1),
        });
    }
    if let Some((i, v)) = values
        .iter()
        .enumerate()
        .find(|(_, v)| !v.is_finite() || **v < 0.0)
    {
        return Err(Error::InvalidParameter {
            name: "values".into(),
            message: format!(
                "customer {} has value {v}: values must be finite and >= 0",
                i + 1
            ),
        });
    }
    Ok(())
}

/// What contacting a set of customers is expected to give.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// Customers contacted.
    pub contacted: usize,
    /// Sum of `p * success_rate * value` over them.
    pub expected_saved: f64,
    /// `contacted * cost`.
    pub cost: f64,
    /// `expected_saved - cost`.
    pub net: f64,
}

impl Outcome {
    pub(crate) fn nobody() -> Self {
        Outcome {
            contacted: 0,
            expected_saved: 0.0,
            cost: 0.0,
            net: 0.0,
        }
    }

    pub(crate) fn add(&mut self, params: &DecisionParams, probability: f64, value: f64) {
        self.contacted += 1;
        self.expected_saved += params.expected_saved(probability, value);
        self.cost += params.cost_per_contact;
        self.net = self.expected_saved - self.cost;
    }
}

/// One point of a profit curve: contacting everyone with `probability >= threshold`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// The probability threshold.
    pub threshold: f64,
    /// What contacting those customers is expected to give.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// One customer on the contact list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    /// Index of the customer in the inputs (0-based).
    pub row: usize,
    /// Calibrated churn probability.
    pub probability: f64,
    /// The customer's value `v`.
    pub customer_value: f64,
    /// `p * success_rate * v`.
    pub expected_saved: f64,
    /// `expected_saved - cost`: the ranking key.
    pub expected_value: f64,
}

/// The decision plan for a set of customers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Customers considered.
    pub customers: usize,
    /// The probability threshold with the highest expected profit (no capacity limit); `None`
    /// when no threshold earns more than contacting nobody.
    pub best_threshold: Option<f64>,
    /// The outcome at `best_threshold` (all zeros when it is `None`).
    pub best: Outcome,
    /// Profit on an even threshold grid from 0 to 1.
    pub by_threshold: Vec<CurvePoint>,
    /// Profit against the number contacted: one point per distinct probability, highest first.
    pub by_count: Vec<CurvePoint>,
    /// Customers with a positive expected value, before the capacity limit.
    pub worth_contacting: usize,
    /// The contact list: positive expected value only, highest first, at most `capacity` rows.
    pub contacts: Vec<Contact>,
    /// The outcome of contacting exactly the contact list.
    pub contacted: Outcome,
}

/// Per-customer values from a numeric column: `cell * multiplier` (e.g. `monthly_fee` times a
/// horizon in months). A missing or non-numeric cell is an error naming its row, column and
/// value, so no customer silently gets a value of zero.
pub fn values_from_column(table: &Table, column: &str, multiplier: f64) -> Result<Vec<f64>> {
    if !(multiplier.is_finite() && multiplier > 0.0) {
        return Err(Error::InvalidParameter {
            name: "horizon_months".into(),
            message: format!("the value multiplier must be a positive number, got {multiplier}"),
        });
    }
    let index = table
        .column_index(column)
        .ok_or_else(|| Error::MissingColumn {
            column: String::from(column),
        })?;
    table
        .column(index)
        .iter()
        .enumerate()
        .map(|(r, raw)| {
            let bad = |expected: &'static str| Error::BadValue {
                row: table.source_row(r),
                column: String::from(column),
                value: String::from(raw),
                expected: expected.into(),
            };
            if is_na(raw) {
                return Err(bad(
                    "customer value (the cell is empty: fill it or give one value for every customer)",
                ));
            }
            match parse_number(raw) {
                Some(v) if v >= 0.0 => Ok(v * multiplier),
                _ => Err(bad("customer value (a number >= 0)")),
            }
        })
        .collect()
}

/// The monthly churn hazard implied by a 30-day churn probability:
/// `1 - (1 - p)^(30.4375 / 30)`.
pub fn monthly_hazard(probability_30d: f64) -> f64 {
    let p = probability_30d.clamp(0.0, 1.0);
    1.0 - libm::pow(1.0 - p, DAYS_PER_MONTH / PREDICTION_DAYS)
}

/// Expected revenue still to come from a customer paying `monthly_value` a month over
/// `horizon_months`, under geometric survival with the monthly hazard of
/// [`monthly_hazard`] (see the module documentation for the formula).
pub fn remaining_value(monthly_value: f64, probability_30d: f64, horizon_months: u32) -> f64 {
    let h = monthly_hazard(probability_30d);
    let survive = 1.0 - h;
    if h <= 0.0 {
        return monthly_value * f64::from(horizon_months);
    }
    monthly_value * survive * (1.0 - libm::pow(survive, f64::from(horizon_months))) / h
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} != {b}");
    }

    #[test]
    fn expected_value_formula_by_hand() {
        let d = DecisionParams::default();
        // 0.5 * 0.3 * 600 = 90, minus 10.
        close(d.expected_saved(0.5, 600.0), 90.0);
        close(d.expected_value(0.5, 600.0), 80.0);
        // Break-even: 10 / (0.3 * 600) = 1/18.
        close(d.expected_value(1.0 / 18.0, 600.0), 0.0);
    }

    #[test]
    fn golden_plan_with_constant_value() {
        // success 0.5, value 100, cost 10: net = 50 p - 10, break-even p = 0.2.
        let d = DecisionParams::default()
            .with_success_rate(0.5)
            .with_cost_per_contact(10.0)
            .with_capacity(2)
            .with_curve_points(11);
        let p = [0.1, 0.9, 0.3, 0.5, 0.3, 0.15];
        let v = [100.0; 6];
        let plan = d.plan(&p, &v).unwrap();
        // Nets: -5, 35, 5, 15, 5, -2.5. Best cut: p >= 0.3 -> 35 + 15 + 5 + 5 = 60.
        assert_eq!(plan.best_threshold, Some(0.3));
        assert_eq!(plan.best.contacted, 4);
        close(plan.best.expected_saved, 100.0);
        close(plan.best.cost, 40.0);
        close(plan.best.net, 60.0);
        // by_count: one point per distinct probability; the tie at 0.3 is one point.
        let counts: Vec<usize> = plan.by_count.iter().map(|c| c.outcome.contacted).collect();
        assert_eq!(counts, [1, 2, 4, 5, 6]);
        let nets: Vec<f64> = plan.by_count.iter().map(|c| c.outcome.net).collect();
        for (a, b) in nets.iter().zip([35.0, 50.0, 60.0, 57.5, 52.5]) {
            close(*a, b);
        }
        // Threshold grid 0.0, 0.1, ..., 1.0: at 0.2 everyone from 0.3 up; at 1.0 nobody.
        assert_eq!(plan.by_threshold.len(), 11);
        close(plan.by_threshold[2].outcome.net, 60.0);
        close(plan.by_threshold[0].outcome.net, 52.5);
        assert_eq!(plan.by_threshold[10].outcome.contacted, 0);
        // Contact list: 4 positive, capacity 2 -> rows 1 (35) and 3 (15).
        assert_eq!(plan.worth_contacting, 4);
        let rows: Vec<usize> = plan.contacts.iter().map(|c| c.row).collect();
        assert_eq!(rows, [1, 3]);
        assert_eq!(plan.contacted.contacted, 2);
        close(plan.contacted.net, 50.0);
    }

    #[test]
    fn contact_list_ranks_by_value_not_probability() {
        let d = DecisionParams::default(); // cost 10, success 0.3
        let p = [0.8, 0.4, 0.05];
        let v = [100.0, 1_000.0, 600.0];
        // Nets: 0.8*0.3*100-10 = 14; 0.4*0.3*1000-10 = 110; 0.05*0.3*600-10 = -1.
        let plan = d.plan(&p, &v).unwrap();
        let got: Vec<(usize, f64)> = plan
            .contacts
            .iter()
            .map(|c| (c.row, c.expected_value))
            .collect();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, 1);
        close(got[0].1, 110.0);
        assert_eq!(got[1].0, 0);
        close(got[1].1, 14.0);
    }

    #[test]
    fn nobody_worth_contacting_gives_no_threshold() {
        let d = DecisionParams::default().with_cost_per_contact(1_000.0);
        let plan = d.plan(&[0.2, 0.9], &[600.0, 600.0]).unwrap();
        assert_eq!(plan.best_threshold, None);
        assert_eq!(plan.best.contacted, 0);
        assert!(plan.contacts.is_empty());
        let at = d.outcome_at(&[0.2, 0.9], &[600.0, 600.0], 0.5).unwrap();
        assert_eq!(at.contacted, 1);
        close(at.net, 0.9 * 0.3 * 600.0 - 1_000.0);
    }

    #[test]
    fn capacity_zero_and_bad_inputs() {
        let plan = DecisionParams::default()
            .with_capacity(0)
            .plan(&[0.9], &[600.0])
            .unwrap();
        assert!(plan.contacts.is_empty());
        assert_eq!(plan.worth_contacting, 1);
        let d = DecisionParams::default();
        assert!(d.plan(&[0.5], &[1.0, 2.0]).is_err());
        assert!(d.plan(&[1.5], &[1.0]).is_err());
        assert!(d.plan(&[0.5], &[-1.0]).is_err());
        assert!(d
            .clone()
            .with_success_rate(0.0)
            .plan(&[0.5], &[1.0])
            .is_err());
        assert!(d
            .with_cost_per_contact(f64::NAN)
            .plan(&[0.5], &[1.0])
            .is_err());
    }

    #[test]
    fn remaining_value_by_hand() {
        // p = 0 -> full horizon.
        close(remaining_value(50.0, 0.0, 12), 600.0);
        // p = 1 -> hazard 1, nothing remains.
        close(remaining_value(50.0, 1.0, 12), 0.0);
        // Hazard from p = 0.1: 1 - 0.9^(30.4375/30).
        let h = monthly_hazard(0.1);
        close(h, 1.0 - libm::pow(0.9, 30.4375 / 30.0));
        // Two months by hand: m * ((1-h) + (1-h)^2).
        let s = 1.0 - h;
        close(remaining_value(10.0, 0.1, 2), 10.0 * (s + s * s));
        // Higher risk never leaves more value.
        assert!(remaining_value(50.0, 0.3, 12) < remaining_value(50.0, 0.1, 12));
    }

    #[test]
    fn values_from_a_column() {
        let mut t = Table::new(vec!["id".into(), "fee".into()]).unwrap();
        t.push_row(1, ["a", "20"]).unwrap();
        t.push_row(2, ["b", "12.5"]).unwrap();
        assert_eq!(
            values_from_column(&t, "fee", 12.0).unwrap(),
            vec![240.0, 150.0]
        );
        assert_eq!(
            values_from_column(&t, "nope", 12.0).unwrap_err(),
            Error::MissingColumn {
                column: "nope".into()
            }
        );
        t.push_row(3, ["c", ""]).unwrap();
        match values_from_column(&t, "fee", 12.0).unwrap_err() {
            Error::BadValue { row, column, .. } => {
                assert_eq!(row, 3);
                assert_eq!(column, "fee");
            }
            e => panic!("{e:?}"),
        }
        assert!(values_from_column(&t, "id", 12.0).is_err());
    }

    proptest::proptest! {
        #[test]
        fn best_threshold_beats_every_grid_point(
            p in proptest::collection::vec(0.0f64..=1.0, 1..40),
            value in 1.0f64..2_000.0,
        ) {
            let v = vec![value; p.len()];
            let plan = DecisionParams::default().plan(&p, &v).unwrap();
            for point in &plan.by_threshold {
                proptest::prop_assert!(plan.best.net >= point.outcome.net - 1e-9);
            }
            proptest::prop_assert!(plan.best.net >= 0.0);
            proptest::prop_assert!(plan.contacts.len() <= 1_000);
            proptest::prop_assert!(plan.contacts.iter().all(|c| c.expected_value > 0.0));
            // With one value for all, the optimum contacts exactly the positive-value customers.
            proptest::prop_assert_eq!(plan.best.contacted, plan.worth_contacting);
        }
    }
}
