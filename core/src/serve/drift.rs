//! Reference distributions for drift monitoring, stored in the artifact.
//!
//! Each model input column is summarised as a mergeable sketch: for numeric-like columns, counts
//! over the training data's decile bins plus running moments; for categorical columns, counts per
//! training level plus `other` and missing. The model's score distribution is kept as counts over
//! twenty equal-width probability bins. A current window is summarised into the *same* bins with
//! [`ColumnSketch::observe`], so the edge worker and the browser can accumulate windows without
//! keeping raw rows, and two sketches of one column can be added together.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use serde::{Deserialize, Deserializer, Serialize};

use crate::data::table::Table;
use crate::error::Result;
use crate::features::{categorical_levels, level_text, numeric_value, Encoder, FittedPipeline};
use crate::tagged::{self, Tagged};

/// Number of equal-width bins of the score histogram.
pub const SCORE_BINS: usize = 20;

/// Number of quantile bins per numeric column.
const NUMERIC_BINS: usize = 10;

/// Where a column's values fall, binned on the training data's bins.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Bins {
    /// `upper_edges[i]` is the inclusive upper edge of bin `i`; the last bin is open-ended.
    Numeric { upper_edges: Vec<f64> },
    /// One bin per training level, then `other`.
    Categorical { levels: Vec<String> },
}

// Read without serde's buffering (`crate::tagged`), like the artifact's other tagged enums.
tagged::deserialize_tagged!(Bins);

impl Tagged for Bins {
    const NAME: &'static str = "Bins";
    const TAG: &'static str = "type";
    const VARIANTS: &'static [&'static str] = &["numeric", "categorical"];

    fn read<'de, D: Deserializer<'de>>(
        index: usize,
        rest: D,
    ) -> core::result::Result<Self, D::Error> {
        struct Numeric {
            upper_edges: Vec<f64>,
        }
        crate::map_struct!(Numeric { upper_edges });

        struct Categorical {
            levels: Vec<String>,
        }
        crate::map_struct!(Categorical { levels });

        Ok(match index {
            0 => Bins::Numeric {
                upper_edges: Numeric::deserialize(rest)?.upper_edges,
            },
            _ => Bins::Categorical {
                levels: Categorical::deserialize(rest)?.levels,
            },
        })
    }
}

/// A mergeable summary of one column over some rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    /// Sum of present numeric values, divided by `scale`.
    pub sum: f64,
    /// Sum of squares of present numeric values, divided by `scale²`.
    pub sum_squares: f64,
    /// Power of two the two sums are divided by. It stays 1 (and out of the file, so ordinary
    /// artifacts are unchanged) until a sum would overflow, as one of `1e200` already does in
    /// its square: the sums then shrink by [`RESCALE`] steps, so they stay finite for any
    /// finite input and a saved artifact always loads.
    #[serde(skip_serializing_if = "is_unit_scale")]
    pub scale: f64,
}

crate::map_struct!(ColumnSketch {
    name,
    bins,
    counts,
    missing,
    present,
    sum,
    sum_squares,
    scale = unit_scale(),
});

/// The factor a sketch's scale grows by when a sum would overflow: two steps bring even
/// `f64::MAX` to a value whose square is finite.
const RESCALE: f64 = 1.157_920_892_373_162e77; // 2^256

fn unit_scale() -> f64 {
    1.0
}

fn is_unit_scale(scale: &f64) -> bool {
    *scale == 1.0
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
            scale: 1.0,
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
        loop {
            // Dividing by a power of two is exact, so with scale 1 this is the plain sum.
            let y = x / self.scale;
            let (sum, squares) = (self.sum + y, self.sum_squares + y * y);
            if sum.is_finite() && squares.is_finite() {
                (self.sum, self.sum_squares) = (sum, squares);
                return;
            }
            self.rescale(RESCALE);
        }
    }

    /// Divides the sums by `factor` (a power of two) and multiplies the scale by it.
    fn rescale(&mut self, factor: f64) {
        self.scale *= factor;
        self.sum /= factor;
        self.sum_squares = self.sum_squares / factor / factor;
    }

    /// Mean of the present numeric values (`None` without any).
    pub fn mean(&self) -> Option<f64> {
        (self.present > 0).then(|| self.sum / self.present as f64 * self.scale)
    }

    /// Population standard deviation of the present numeric values (0 without any).
    pub fn std(&self) -> f64 {
        if self.present == 0 {
            return 0.0;
        }
        let n = self.present as f64;
        let mean = self.sum / n;
        // Worked out at the stored scale, so the square of the mean cannot overflow; the
        // result is at most the largest |value| (up to rounding), so it is finite.
        (libm::sqrt((self.sum_squares / n - mean * mean).max(0.0)) * self.scale).min(f64::MAX)
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
        // Bring both to the larger scale (exact: a ratio of powers of two), then add, growing
        // the scale while a sum would overflow.
        let (mut sum, mut squares) = (other.sum, other.sum_squares);
        if other.scale > self.scale {
            self.rescale(other.scale / self.scale);
        } else if other.scale < self.scale {
            let factor = self.scale / other.scale;
            sum /= factor;
            squares = squares / factor / factor;
        }
        loop {
            let (s, q) = (self.sum + sum, self.sum_squares + squares);
            if s.is_finite() && q.is_finite() {
                (self.sum, self.sum_squares) = (s, q);
                return;
            }
            self.rescale(RESCALE);
            sum /= RESCALE;
            squares = squares / RESCALE / RESCALE;
        }
    }

    /// Checks a loaded sketch: bins that fit its counts (one per bin), numeric edges finite and
    /// strictly ascending, at most `max_bins` bins, counts adding up to `present`, at most 2^53
    /// rows in all (so counts stay exact as `f64` and windows can be added without overflow),
    /// finite sums at a scale of at least 1. Returns what is wrong with the field name.
    pub fn check(&self, max_bins: usize) -> core::result::Result<(), String> {
        let n_bins = match &self.bins {
            Bins::Numeric { upper_edges } => {
                for (i, &e) in upper_edges.iter().enumerate() {
                    if !e.is_finite() {
                        return Err(format!(
                            "bins.upper_edges[{i}] = {e} is not a finite number"
                        ));
                    }
                    if i > 0 && e <= upper_edges[i - 1] {
                        return Err(format!(
                            "bins.upper_edges[{i}] = {e} is not above the edge before it: edges must ascend"
                        ));
                    }
                }
                upper_edges.len() + 1
            }
            Bins::Categorical { levels } => levels.len() + 1,
        };
        if n_bins > max_bins {
            return Err(format!(
                "bins: {n_bins} bins, more than the {max_bins} allowed"
            ));
        }
        if self.counts.len() != n_bins {
            return Err(format!(
                "counts: {} entries but the bins make {n_bins}",
                self.counts.len()
            ));
        }
        let binned = self
            .counts
            .iter()
            .try_fold(0u64, |a, &c| a.checked_add(c))
            .ok_or_else(|| String::from("counts: the counts overflow"))?;
        if binned != self.present {
            return Err(format!(
                "counts add up to {binned} but present = {}",
                self.present
            ));
        }
        const MAX_ROWS: u64 = 1 << 53;
        if self.present > MAX_ROWS || self.missing > MAX_ROWS - self.present {
            return Err(format!(
                "present + missing: more than 2^53 rows ({} + {})",
                self.present, self.missing
            ));
        }
        for (name, x) in [("sum", self.sum), ("sum_squares", self.sum_squares)] {
            if !x.is_finite() {
                return Err(format!("{name} = {x} is not a finite number"));
            }
        }
        if self.sum_squares < 0.0 {
            return Err(format!("sum_squares = {} is negative", self.sum_squares));
        }
        if !(self.scale.is_finite() && self.scale >= 1.0) {
            return Err(format!(
                "scale = {} is not a finite number of at least 1",
                self.scale
            ));
        }
        Ok(())
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
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreHistogram {
    /// Rows per bin.
    pub counts: Vec<u64>,
}

crate::map_struct!(ScoreHistogram { counts });

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
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reference {
    /// One sketch per model input column, in pipeline input order.
    pub columns: Vec<ColumnSketch>,
    /// Distribution of the model's (calibrated) training scores.
    pub scores: ScoreHistogram,
}

crate::map_struct!(Reference { columns, scores });

impl Reference {
    /// Checks a loaded reference against the pipeline it describes: one sketch per input
    /// column, in order and of the same kind, each well-formed ([`ColumnSketch::check`]), and
    /// a score histogram of [`SCORE_BINS`] bins. Returns what is wrong with its field path
    /// under `reference`.
    pub fn check(
        &self,
        pipeline: &FittedPipeline,
        max_bins: usize,
    ) -> core::result::Result<(), String> {
        if self.columns.len() != pipeline.inputs.len() {
            return Err(format!(
                "columns: {} sketches but the pipeline has {} input columns",
                self.columns.len(),
                pipeline.inputs.len()
            ));
        }
        for (i, (sketch, input)) in self.columns.iter().zip(&pipeline.inputs).enumerate() {
            if sketch.name != input.name {
                return Err(format!(
                    "columns[{i}].name: `{}` but input column {i} is `{}`",
                    sketch.name, input.name
                ));
            }
            let same_kind = matches!(
                (&sketch.bins, &input.encoder),
                (Bins::Numeric { .. }, Encoder::Numeric(_))
                    | (Bins::Categorical { .. }, Encoder::Categorical(_))
            );
            if !same_kind {
                return Err(format!(
                    "columns[{i}].bins: the bins' type does not match how the pipeline encodes `{}`",
                    input.name
                ));
            }
            sketch
                .check(max_bins)
                .map_err(|e| format!("columns[{i}].{e}"))?;
        }
        if self.scores.counts.len() != SCORE_BINS {
            return Err(format!(
                "scores.counts: {} entries, expected {SCORE_BINS}",
                self.scores.counts.len()
            ));
        }
        self.scores
            .counts
            .iter()
            .try_fold(0u64, |a, &c| a.checked_add(c))
            .filter(|&total| total <= 1 << 53)
            .ok_or_else(|| String::from("scores.counts: more than 2^53 scores in all"))?;
        Ok(())
    }

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
    fn moments_stay_finite_for_extreme_values() {
        let bins = Bins::Numeric {
            upper_edges: vec![0.0],
        };
        let mut a = ColumnSketch::empty("x".into(), bins);
        for x in [1e200, -1e200, 1e308, 1e308, f64::MAX, 3.0] {
            a.observe_number(x);
        }
        assert!(a.sum.is_finite() && a.sum_squares.is_finite(), "{a:?}");
        assert!(a.scale > 1.0);
        let mean = a.mean().unwrap();
        assert!(
            (mean - (1e308 / 3.0 + f64::MAX / 6.0)).abs() < 1e295,
            "{mean}"
        );
        assert!(a.std().is_finite() && a.std() > 1e307);
        let back: ColumnSketch = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(back, a);

        // Merging a plain sketch into a scaled one (and the reverse) keeps the moments.
        let mut small = a.empty_like();
        for x in [1.0, 2.0, 3.0] {
            small.observe_number(x);
        }
        assert_eq!(small.scale, 1.0);
        assert!((small.std() - libm::sqrt(2.0 / 3.0)).abs() < 1e-12);
        let mut merged = small.clone();
        merged.merge(&a);
        let mut reverse = a.clone();
        reverse.merge(&small);
        assert_eq!(merged.present, 9);
        for m in [&merged, &reverse] {
            assert!(m.sum.is_finite() && m.sum_squares.is_finite());
            let expected = 1e308 / 4.5 + f64::MAX / 9.0;
            assert!((m.mean().unwrap() - expected).abs() < 1e294);
        }

        // Ordinary values never leave scale 1, so their file is what it always was.
        let json = serde_json::to_string(&small).unwrap();
        assert!(!json.contains("scale"), "{json}");
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
