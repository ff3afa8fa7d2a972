//! The explanation types every face renders (serialised as JSON by the CLI, the edge and the
//! dashboard's Web Worker).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

/// The scale contributions are measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Space {
    /// Log-odds of churn (gradient boosting, logistic regression).
    LogOdds,
    /// Uncalibrated churn probability (random forest: the mean of the trees' leaves).
    Probability,
}

impl Space {
    /// Unit written after a contribution in reason texts.
    pub fn unit(self) -> &'static str {
        match self {
            Space::LogOdds => "log-odds",
            Space::Probability => "probability",
        }
    }
}

/// One input column's share of a score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// Input column name.
    pub column: String,
    /// The customer's value as text (`missing` when absent).
    pub value_text: String,
    /// Shapley value in the explanation's [`Space`]; positive raises the churn risk.
    pub contribution: f64,
}

/// An explained score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// Scale of `base_value`, `raw_score` and the contributions.
    pub space: Space,
    /// Expected model output over the training data.
    pub base_value: f64,
    /// The model's output for this customer: `base_value + Σ contributions`.
    pub raw_score: f64,
    /// Calibrated churn probability (what the scorer reports).
    pub probability: f64,
    /// Whether `probability` reaches the artifact's threshold.
    pub decision: bool,
    /// One entry per input column, largest `|contribution|` first.
    pub contributions: Vec<Contribution>,
}

/// Which way a field pushed the risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The field made churn more likely than for the average training customer.
    Raised,
    /// The field made churn less likely.
    Lowered,
}

/// A readable reason behind a score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    /// Input column name.
    pub column: String,
    /// The customer's value as text.
    pub value: String,
    /// Which way it pushed the risk.
    pub direction: Direction,
    /// Its contribution (see [`Explanation::space`]).
    pub contribution: f64,
    /// E.g. `days_since_last_login = 41 raised risk (+0.412 log-odds)`.
    pub text: String,
}

impl Explanation {
    /// The `k` largest contributions as reasons; fields that did not move the score are left out.
    pub fn top_reasons(&self, k: usize) -> Vec<Reason> {
        self.contributions
            .iter()
            .filter(|c| c.contribution != 0.0 && c.contribution.is_finite())
            .take(k)
            .map(|c| reason(c, self.space))
            .collect()
    }
}

pub(super) fn reason(c: &Contribution, space: Space) -> Reason {
    let direction = if c.contribution > 0.0 {
        Direction::Raised
    } else {
        Direction::Lowered
    };
    let verb = match direction {
        Direction::Raised => "raised",
        Direction::Lowered => "lowered",
    };
    Reason {
        column: c.column.clone(),
        value: c.value_text.clone(),
        direction,
        contribution: c.contribution,
        text: format!(
            "{} = {} {verb} risk ({:+.3} {})",
            c.column,
            c.value_text,
            c.contribution,
            space.unit()
        ),
    }
}

/// Mean absolute and mean signed contribution of one input column over a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnImportance {
    /// Input column name.
    pub column: String,
    /// Mean `|contribution|` over the explained rows.
    pub mean_abs: f64,
    /// Mean signed contribution.
    pub mean: f64,
}

/// Table-wide importance, most important column first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GlobalImportance {
    /// Scale of the contributions.
    pub space: Space,
    /// Rows explained.
    pub rows: usize,
    /// Rows whose values did not fit the schema (left out; see `ebb validate`).
    pub skipped: usize,
    /// Per input column.
    pub columns: Vec<ColumnImportance>,
}

/// One point of a dependence plot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DependencePoint {
    /// 1-based data-row number in the source file.
    pub row: usize,
    /// The value as text.
    pub value: String,
    /// The value as the model reads it (numbers, booleans 1/0, dates as age in days); `None`
    /// for categories and missing values.
    pub number: Option<f64>,
    /// The column's contribution on that row.
    pub contribution: f64,
}

/// Value vs contribution of one column over (a sample of) a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dependence {
    /// Input column name.
    pub column: String,
    /// Scale of the contributions.
    pub space: Space,
    /// Points in table order.
    pub points: Vec<DependencePoint>,
}

/// One field's part in a what-if comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// Input column name.
    pub column: String,
    /// Value before.
    pub from: String,
    /// Value after.
    pub to: String,
    /// Contribution before.
    pub contribution_before: f64,
    /// Contribution after.
    pub contribution_after: f64,
}

/// A record scored before and after an edit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhatIf {
    /// Explanation of the original record.
    pub before: Explanation,
    /// Explanation of the edited record.
    pub after: Explanation,
    /// Fields whose value or contribution changed, largest change of contribution first.
    pub changes: Vec<FieldChange>,
}

/// One step of a suggested change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuggestedChange {
    /// Input column name.
    pub column: String,
    /// Current value.
    pub from: String,
    /// Suggested value.
    pub to: String,
    /// Calibrated probability once this and every earlier step are applied.
    pub probability_after: f64,
}

/// The result of the greedy search for a change under the threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    /// Calibrated probability of the record as given.
    pub probability_before: f64,
    /// Probability after every suggested step.
    pub probability_after: f64,
    /// The artifact's decision threshold.
    pub threshold: f64,
    /// Whether `probability_after` is under the threshold.
    pub reached: bool,
    /// Steps in the order found.
    pub changes: Vec<SuggestedChange>,
}

/// One input column over the rows of a [`ShapSample`] (vectors aligned with its `rows`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleColumn {
    /// Input column name.
    pub column: String,
    /// Whether the model reads it as categories (then `numbers` are all `None`).
    pub categorical: bool,
    /// Each row's value as text.
    pub values: Vec<String>,
    /// Each row's value as the model reads it (as in [`DependencePoint::number`]).
    pub numbers: Vec<Option<f64>>,
    /// Each row's contribution of this column.
    pub contributions: Vec<f64>,
}

/// Contributions of every input column on a seeded random sample of rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShapSample {
    /// Scale of the contributions.
    pub space: Space,
    /// The seed the rows were drawn with.
    pub seed: u64,
    /// 1-based data-row numbers of the explained rows, in table order.
    pub rows: Vec<usize>,
    /// Drawn rows whose values did not fit the schema (left out).
    pub skipped: usize,
    /// Per input column, in the pipeline's order.
    pub columns: Vec<SampleColumn>,
}
