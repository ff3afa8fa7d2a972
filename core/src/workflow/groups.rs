//! `fairness` and `segments`: the model's decisions compared between groups of customers, and
//! the customers clustered into personas — what `ebb fairness` and `ebb segment` print and the
//! dashboard's Fairness and Segments views show, from these two functions.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::data::table::Table;
use crate::error::{Error, Result};
use crate::eval::fairness::{audit, FairnessParams, FairnessReport, Grouping};
use crate::insight::segment::{segment, SegmentParams, Segmentation};
use crate::serve::artifact::Artifact;
use crate::serve::scorer::{Labels, ScoredRows, Scorer, SkippedRow};
use crate::workflow::decide::{CustomerValue, DecideOptions};

/// The inputs of [`fairness`] (`ebb fairness`'s flags).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FairnessOptions {
    /// The column to group by.
    pub by: String,
    /// Four-fifths limit, smallest judged group and the grouping rules.
    pub params: FairnessParams,
}

/// What [`fairness`] found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FairnessAudit {
    /// The model's id.
    pub model_id: String,
    /// Rates, ratios and flags per group of the scored rows.
    pub report: FairnessReport,
    /// Rows that could not be scored (left out of every group).
    pub skipped: Vec<SkippedRow>,
}

/// Scores every row of `table` that can be, the way `decide` does, and fails with
/// [`Error::NothingScored`] when none can.
fn score(artifact: &Artifact, table: &Table) -> Result<(ScoredRows, Vec<usize>, Vec<f64>)> {
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
    Ok((scored, rows, probabilities))
}

/// Audits the model's decisions at its own threshold by the groups of `options.by` over the
/// scored rows of `table`. Labels come from the model's target column when `table` has it
/// (precision, recall and false-positive rates need them); without it only positive rates are
/// compared. The grouping is checked before any scoring: a wrong column is the likeliest
/// mistake and needs no model to report.
pub fn fairness(
    artifact: &Artifact,
    table: &Table,
    options: &FairnessOptions,
) -> Result<FairnessAudit> {
    let grouping = Grouping::from_column(table, &options.by, &options.params)?;
    let (scored, rows, probabilities) = score(artifact, table)?;
    let target = artifact
        .schema
        .target
        .as_ref()
        .and_then(|t| table.column_index(&t.name).map(|c| (t, c)));
    let labels: Option<Vec<Option<bool>>> = target.map(|(t, c)| {
        rows.iter()
            .map(|&r| t.label(table.raw(r, c)).map(|l| l > 0.5))
            .collect()
    });
    let grouping = Grouping {
        of_row: rows.iter().map(|&r| grouping.of_row[r]).collect(),
        ..grouping
    };
    let report = audit(
        &grouping,
        &probabilities,
        artifact.threshold,
        labels.as_deref(),
        &options.params,
    )?;
    Ok(FairnessAudit {
        model_id: artifact.model_id.clone(),
        report,
        skipped: scored.skipped,
    })
}

/// `ebb segment`'s default seed, so the dashboard's segments are the CLI's.
pub const SEGMENT_SEED: u64 = 42;

/// The inputs of [`segments`] (`ebb segment`'s flags).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentOptions {
    /// Number of segments; `None` chooses it in `2..=8` by silhouette.
    pub k: Option<usize>,
    /// Seed of the silhouette sample and of k-means++.
    pub seed: u64,
    /// Customer value, as `decide` takes it.
    pub value: CustomerValue,
    /// Months of a monthly value column counted as the customer's value.
    pub horizon_months: u32,
}

impl Default for SegmentOptions {
    /// `ebb segment`'s defaults.
    fn default() -> Self {
        let decide = DecideOptions::default();
        SegmentOptions {
            k: None,
            seed: SEGMENT_SEED,
            value: decide.value,
            horizon_months: decide.horizon_months,
        }
    }
}

/// What [`segments`] found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segments {
    /// The model's id.
    pub model_id: String,
    /// Customers segmented (the scored rows).
    pub customers: usize,
    /// The segments (`assignments` lines up with the scored rows, in table order).
    pub segmentation: Segmentation,
    /// Rows that could not be scored (left out of every segment).
    pub skipped: Vec<SkippedRow>,
}

/// Clusters the scored customers of `table` into personas with core's k-means segmentation,
/// each with its size, mean churn risk, mean value and the inputs that set it apart. Customer
/// values are read (and a bad value column reported) before any scoring.
pub fn segments(artifact: &Artifact, table: &Table, options: &SegmentOptions) -> Result<Segments> {
    let decide = DecideOptions {
        value: options.value.clone(),
        horizon_months: options.horizon_months,
        ..DecideOptions::default()
    };
    let (values, _) = decide.values(table)?;
    let (scored, rows, risk) = score(artifact, table)?;
    let mut keep = vec![false; table.n_rows()];
    rows.iter().for_each(|&r| keep[r] = true);
    let customers = table.filter_rows(|r| keep[r]);
    let values: Vec<f64> = rows.iter().map(|&r| values[r]).collect();
    let params = SegmentParams::default()
        .with_k(options.k)
        .with_seed(options.seed);
    let segmentation = segment(&artifact.pipeline, &customers, &risk, &values, &params)?;
    Ok(Segments {
        model_id: artifact.model_id.clone(),
        customers: customers.n_rows(),
        segmentation,
        skipped: scored.skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::family::Family;
    use crate::train::TrainParams;

    /// Generated customers and a small model trained on them.
    fn fixture() -> (Table, Artifact) {
        let params = TrainParams::default()
            .with_families(vec![Family::Logistic])
            .with_folds(2)
            .with_seed(1);
        crate::workflow::fixture::trained(400, 5, &params)
    }

    #[test]
    fn fairness_is_the_audit_of_the_scored_rows_with_their_labels() {
        let (table, artifact) = fixture();
        let options = FairnessOptions {
            by: "region".into(),
            params: FairnessParams::default().with_min_group_size(10),
        };
        let found = fairness(&artifact, &table, &options).unwrap();
        assert_eq!(found.model_id, artifact.model_id);
        assert!(found.skipped.is_empty());
        let r = &found.report;
        assert!(r.labelled);
        assert_eq!(r.threshold, artifact.threshold);
        let sizes: usize = r.groups.iter().map(|g| g.size).sum();
        assert_eq!(sizes, table.n_rows());
        // By hand: score, label, group, audit.
        let scored = Scorer::new(&artifact)
            .score_rows(&table, Labels::Required)
            .unwrap();
        let p: Vec<f64> = scored.probabilities.iter().map(|p| p.unwrap()).collect();
        let labels: Vec<Option<bool>> = scored.labels.iter().map(|l| l.map(|l| l > 0.5)).collect();
        let grouping = Grouping::from_column(&table, "region", &options.params).unwrap();
        let expected = audit(
            &grouping,
            &p,
            artifact.threshold,
            Some(&labels),
            &options.params,
        )
        .unwrap();
        assert_eq!(*r, expected);

        // A wrong column is reported as such.
        let wrong = FairnessOptions {
            by: "ethnicity".into(),
            ..options
        };
        let e = fairness(&artifact, &table, &wrong).unwrap_err();
        assert!(matches!(e, Error::MissingColumn { .. }), "{e}");
    }

    #[test]
    fn segments_cover_the_customers_with_their_values() {
        let (table, artifact) = fixture();
        let options = SegmentOptions {
            k: Some(3),
            value: CustomerValue::MonthlyColumn("monthly_fee".into()),
            horizon_months: 6,
            ..SegmentOptions::default()
        };
        let found = segments(&artifact, &table, &options).unwrap();
        assert_eq!(found.customers, table.n_rows());
        let s = &found.segmentation;
        assert_eq!(s.k, 3);
        assert_eq!(s.assignments.len(), table.n_rows());
        let sizes: usize = s.segments.iter().map(|g| g.size).sum();
        assert_eq!(sizes, table.n_rows());
        // Mean value is six months of the monthly fee, over each segment's customers.
        let fee = table.column_index("monthly_fee").unwrap();
        for g in &s.segments {
            let (sum, n) = s
                .assignments
                .iter()
                .enumerate()
                .filter(|(_, &a)| a == g.id)
                .map(|(r, _)| 6.0 * crate::data::table::parse_number(table.raw(r, fee)).unwrap())
                .fold((0.0, 0), |(s, n), v| (s + v, n + 1));
            assert_eq!(n, g.size);
            assert!((g.mean_value - sum / n as f64).abs() < 1e-9 * sum.abs().max(1.0));
        }
        // Same inputs, same segments (the seed is the CLI's).
        assert_eq!(segments(&artifact, &table, &options).unwrap(), found);
        let missing = SegmentOptions {
            value: CustomerValue::MonthlyColumn("nope".into()),
            ..options
        };
        let e = segments(&artifact, &table, &missing).unwrap_err();
        assert!(matches!(e, Error::MissingColumn { .. }), "{e}");
    }
}
