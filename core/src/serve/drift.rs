//! Reference distributions for drift monitoring, stored in the artifact.
//!
//! Each model input column is summarised as a mergeable sketch: for numeric-like columns, counts
//! over the training data's decile bins plus running moments; for categorical columns, counts per
//! training level plus `other` and missing. The model's score distribution is kept as counts over
//! twenty equal-width probability bins. A current window is summarised into the *same* bins with
//! [`ColumnSketch::observe`], so the edge worker and the browser can accumulate windows without
//! keeping raw rows, and two sketches of one column can be added together.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::data::table::Table;
use crate::error::Result;
use crate::features::{categorical_levels, level_text, numeric_value, Encoder, FittedPipeline};

/// Number of equal-width bins of the score histogram.
pub const SCORE_BINS: usize = 20;

/// Number of quantile bins per numeric column.
const NUMERIC_BINS: usize = 10;

/// Where a column's values fall, binned on the training data's bins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Bins {
    /// `upper_edges[i]` is the inclusive upper edge of bin `i`; the last bin is open-ended.
    Numeric { upper_edges: Vec<f64> },
    /// One bin per training level, then `other`.
    Categorical { levels: Vec<String> },
}

/// A mergeable summary of one column over some rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnSketch {
    /// Column name.
    pub name: String,
    /// The bins (fixed by the training data).
    pub bins: Bins,
    /// Rows per bin.
    pub counts: Vec<u64>,
    /// Rows with a missing value.
    pub missing: u64,
    /// Rows with a present value (numeric moments are over these).
    pub present: u64,
    /// Sum of present numeric values.
    pub sum: f64,
    /// Sum of squares of present numeric values.
    pub sum_squares: f64,
}

impl ColumnSketch {
    fn empty(name: String, bins: Bins) -> Self {
        let n_bins = match &bins {
            Bins::Numeric { upper_edges } => upper_edges.len() + 1,
            Bins::Categorical { levels } => levels.len() + 1,
        };
        ColumnSketch {
            name,
            bins,
            counts: vec![0; n_bins],
            missing: 0,
            present: 0,
            sum: 0.0,
            sum_squares: 0.0,
        }
    }

    /// An empty sketch with the same bins (the start of a current window).
    pub fn empty_like(&self) -> Self {
        ColumnSketch::empty(self.name.clone(), self.bins.clone())
    }

    /// Counts one numeric value (`NaN` = missing).
    pub fn observe_number(&mut self, x: f64) {
        if x.is_nan() {
            self.missing += 1;
            return;
        }
        if let Bins::Numeric { upper_edges } = &self.bins {
            let bin = upper_edges.partition_point(|&e| e < x);
            self.counts[bin] += 1;
        }
        self.present += 1;
        self.sum += x;
        self.sum_squares += x * x;
    }

    /// Counts one categorical level (`None` = missing).
    pub fn observe_level(&mut self, level: Option<&str>) {
        let Some(level) = level else {
            self.missing += 1;
            return;
        };
        if let Bins::Categorical { levels } = &self.bins {
            let bin = levels
                .iter()
                .position(|l| l == level)
                .unwrap_or(levels.len());
            self.counts[bin] += 1;
        }
        self.present += 1;
    }

    /// Adds another sketch of the same column (same bins) into this one.
    pub fn merge(&mut self, other: &ColumnSketch) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.missing += other.missing;
        self.present += other.present;
        self.sum += other.sum;
        self.sum_squares += other.sum_squares;
    }

    /// Share of rows with a missing value.
    pub fn missing_rate(&self) -> f64 {
        let total = self.missing + self.present;
        if total == 0 {
            0.0
        } else {
            self.missing as f64 / total as f64
        }
    }
}

/// Counts of scores over [`SCORE_BINS`] equal-width bins of `[0, 1]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreHistogram {
    /// Rows per bin.
    pub counts: Vec<u64>,
}

impl Default for ScoreHistogram {
    fn default() -> Self {
        ScoreHistogram {
            counts: vec![0; SCORE_BINS],
        }
    }
}

impl ScoreHistogram {
    /// Counts one probability.
    pub fn observe(&mut self, p: f64) {
        let bin = ((p.clamp(0.0, 1.0) * SCORE_BINS as f64) as usize).min(SCORE_BINS - 1);
        self.counts[bin] += 1;
    }
}

/// The training data's reference distributions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    /// One sketch per model input column, in pipeline input order.
    pub columns: Vec<ColumnSketch>,
    /// Distribution of the model's (calibrated) training scores.
    pub scores: ScoreHistogram,
}

impl Reference {
    /// Builds reference sketches of `table`'s model input columns and the model's scores on
    /// those rows (`NaN` scores, e.g. rows without an out-of-fold prediction, are skipped).
    pub fn build(pipeline: &FittedPipeline, table: &Table, scores: &[f64]) -> Result<Reference> {
        let indices = pipeline.column_indices(table)?;
        let time_index = pipeline
            .time_column
            .as_deref()
            .and_then(|t| table.column_index(t));
        let n = table.n_rows();
        let mut columns = Vec::with_capacity(pipeline.inputs.len());
        for (input, &c) in pipeline.inputs.iter().zip(&indices) {
            let sketch = match &input.encoder {
                Encoder::Numeric(_) => {
                    let values: Vec<f64> = (0..n)
                        .map(|r| {
                            let snapshot = pipeline
                                .row_snapshot(table, time_index, r)
                                .unwrap_or(pipeline.default_snapshot);
                            numeric_value(input.kind, table.value(r, c), snapshot)
                        })
                        .collect();
                    let mut present: Vec<f64> =
                        values.iter().copied().filter(|v| !v.is_nan()).collect();
                    present.sort_unstable_by(f64::total_cmp);
                    let mut upper_edges: Vec<f64> = (1..NUMERIC_BINS)
                        .filter_map(|k| present.get(k * present.len() / NUMERIC_BINS).copied())
                        .collect();
                    upper_edges.dedup();
                    let mut sketch =
                        ColumnSketch::empty(input.name.clone(), Bins::Numeric { upper_edges });
                    values.into_iter().for_each(|v| sketch.observe_number(v));
                    sketch
                }
                Encoder::Categorical(_) => {
                    let levels = categorical_levels(&input.encoder);
                    let mut sketch =
                        ColumnSketch::empty(input.name.clone(), Bins::Categorical { levels });
                    let mut scratch = String::new();
                    for r in 0..n {
                        sketch.observe_level(level_text(table.value(r, c), &mut scratch));
                    }
                    sketch
                }
            };
            columns.push(sketch);
        }
        let mut hist = ScoreHistogram::default();
        scores
            .iter()
            .filter(|p| !p.is_nan())
            .for_each(|&p| hist.observe(p));
        Ok(Reference {
            columns,
            scores: hist,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_sketch_bins_and_merges() {
        let mut a = ColumnSketch::empty(
            "x".into(),
            Bins::Numeric {
                upper_edges: vec![1.0, 2.0],
            },
        );
        for x in [0.5, 1.0, 1.5, 3.0, f64::NAN] {
            a.observe_number(x);
        }
        assert_eq!(a.counts, vec![2, 1, 1]);
        assert_eq!(a.missing, 1);
        let mut b = a.empty_like();
        b.observe_number(2.0);
        a.merge(&b);
        assert_eq!(a.counts, vec![2, 2, 1]);
        assert_eq!(a.present, 5);
        assert!((a.missing_rate() - 1.0 / 6.0).abs() < 1e-12);
    }

    #[test]
    fn categorical_sketch_counts_other_and_missing() {
        let mut s = ColumnSketch::empty(
            "plan".into(),
            Bins::Categorical {
                levels: vec!["basic".into(), "premium".into()],
            },
        );
        for l in [
            Some("basic"),
            Some("student"),
            None,
            Some("premium"),
            Some("basic"),
        ] {
            s.observe_level(l);
        }
        assert_eq!(s.counts, vec![2, 1, 1]);
        assert_eq!(s.missing, 1);
    }

    #[test]
    fn score_histogram_edges() {
        let mut h = ScoreHistogram::default();
        for p in [0.0, 0.049, 0.05, 0.999, 1.0] {
            h.observe(p);
        }
        assert_eq!(h.counts[0], 2);
        assert_eq!(h.counts[1], 1);
        assert_eq!(h.counts[SCORE_BINS - 1], 2);
    }
}
