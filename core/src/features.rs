//! The fitted feature pipeline: the one piece of code that turns a customer's raw fields into
//! model inputs, at training time and at serving time alike.
//!
//! A [`FeatureParams`] is fitted on a training table ([`FeatureParams::fit_transform`]) into a
//! [`FittedPipeline`] that is stored in the model artifact. Scoring (CLI batch, edge worker,
//! browser what-if) calls [`FittedPipeline::transform_values`] on the same stored parameters, so
//! there is no training/serving skew by construction.
//!
//! Per input column kind:
//! - numeric: winsorised at fitted quantiles; for the linear model also median-imputed with a
//!   missing-indicator column and standard-scaled. Tree models keep `NaN` for missing values and
//!   learn where to send them.
//! - boolean: 1/0, treated as numeric.
//! - datetime: age in days at the snapshot date (the row's time column when the schema has one,
//!   else the fitted default snapshot: the latest date seen in training), then as numeric.
//! - categorical: levels rarer than `rare_min_count` become `other`; with few remaining levels,
//!   one-hot columns (unseen levels at serving time fall into `other`); with many, one column of
//!   out-of-fold target encoding (or frequency encoding). For boosting with native categorical
//!   splits (`native_categorical`), instead one column of level codes that the trees split as
//!   sets of levels.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use hashbrown::HashMap;
use ndarray::Array2;
use serde::{Deserialize, Deserializer, Serialize};

use crate::data::datetime::parse_datetime;
use crate::data::schema::{ColumnKind, Schema};
use crate::data::table::{is_na, parse_bool, parse_number, Rows, Table, Value};
use crate::error::{Error, Result};
use crate::progress::Reporter;
use crate::rng::Rng;
use crate::tagged::{self, Tagged};

/// Which model family the matrix is for: linear models need imputed, scaled inputs; trees
/// handle raw scales and missing values themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Keep `NaN` for missing values, no scaling.
    Trees,
    /// Impute, add missing indicators, standard-scale.
    Linear,
}

crate::unit_enum!(Target { Trees as "trees", Linear as "linear" });

/// How to encode categorical columns with many levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HighCardinality {
    /// Smoothed churn rate of the level, computed out of fold on training rows.
    TargetEncoding,
    /// Share of training rows with the level.
    Frequency,
}

/// Settings of the feature pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureParams {
    /// Model family the output feeds.
    pub target: Target,
    /// Categorical columns with at most this many levels (after rare levels are merged) are
    /// one-hot encoded; more levels use `high_cardinality`.
    pub one_hot_max_levels: usize,
    /// Levels seen fewer times than this in training are merged into `other`.
    pub rare_min_count: usize,
    /// Encoding for categorical columns with many levels.
    pub high_cardinality: HighCardinality,
    /// Lower and upper quantiles numeric values are clipped to (`None` disables).
    pub winsorize: Option<(f64, f64)>,
    /// Folds for out-of-fold target encoding of training rows.
    pub target_encoding_folds: usize,
    /// Pseudo-count pulling a level's churn rate towards the overall rate.
    pub target_encoding_smoothing: f64,
    /// Seed of the out-of-fold assignment.
    pub seed: u64,
    /// Encode every categorical column (for trees) as one column of level codes
    /// ([`CategoricalEncoder::Codes`]) for a model that splits them as sets of levels.
    #[serde(default)]
    pub native_categorical: bool,
}

impl Default for FeatureParams {
    fn default() -> Self {
        FeatureParams {
            target: Target::Trees,
            one_hot_max_levels: 12,
            rare_min_count: 10,
            high_cardinality: HighCardinality::TargetEncoding,
            winsorize: Some((0.001, 0.999)),
            target_encoding_folds: 5,
            target_encoding_smoothing: 20.0,
            seed: 0,
            native_categorical: false,
        }
    }
}

impl FeatureParams {
    /// Default settings for the given model family.
    pub fn for_target(target: Target) -> Self {
        FeatureParams {
            target,
            ..Default::default()
        }
    }

    /// Sets the seed of the out-of-fold target encoding.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets the high-cardinality encoding.
    pub fn with_high_cardinality(mut self, encoding: HighCardinality) -> Self {
        self.high_cardinality = encoding;
        self
    }

    /// Sets [`FeatureParams::native_categorical`].
    pub fn with_native_categorical(mut self, native: bool) -> Self {
        self.native_categorical = native;
        self
    }

    /// Sets the one-hot level limit.
    pub fn with_one_hot_max_levels(mut self, levels: usize) -> Self {
        self.one_hot_max_levels = levels;
        self
    }

    /// Fits the pipeline on `table` (clean rows only: quarantine bad rows first) and returns it
    /// with the training matrix. Training rows get out-of-fold target encodings, so the matrix
    /// differs from `transform_table` on the same rows by design (no target leakage).
    ///
    /// `table` is a whole [`Table`] or a [`Rows`] view of some of its rows (a fold's training
    /// rows); `labels` line up with the view's rows. A view gives exactly what a table holding
    /// just those rows in that order would.
    pub fn fit_transform<'a>(
        &self,
        table: impl Into<Rows<'a>>,
        schema: &Schema,
        labels: &[f64],
    ) -> Result<(FittedPipeline, Array2<f64>)> {
        self.fit_transform_with_progress(table, schema, labels, &mut Reporter::silent())
    }

    /// [`fit_transform`](Self::fit_transform), reporting each input column as it is encoded
    /// (tens of milliseconds each on 100k rows) and stopping when `progress` says so.
    pub fn fit_transform_with_progress<'a>(
        &self,
        table: impl Into<Rows<'a>>,
        schema: &Schema,
        labels: &[f64],
        progress: &mut Reporter<'_>,
    ) -> Result<(FittedPipeline, Array2<f64>)> {
        let (pipeline, columns) =
            self.fit_with_progress(table, schema, labels, &mut progress.sub(0.0, FIT_SHARE))?;
        let x = columns.into_matrix(&pipeline, &mut progress.sub(FIT_SHARE, 1.0))?;
        Ok((pipeline, x))
    }

    /// Fits the pipeline like [`fit_transform`](Self::fit_transform), reporting each input
    /// column to `progress`, but returns the training rows' features as [`TrainingColumns`] to
    /// walk one feature column at a time: a model that keeps something smaller than the `f64`
    /// matrix (boosting keeps bins) never holds the matrix.
    pub fn fit_with_progress<'a>(
        &self,
        table: impl Into<Rows<'a>>,
        schema: &Schema,
        labels: &[f64],
        progress: &mut Reporter<'_>,
    ) -> Result<(FittedPipeline, TrainingColumns<'a>)> {
        let table = table.into();
        let n = table.n_rows();
        if n == 0 {
            return Err(Error::EmptyInput);
        }
        if labels.len() != n {
            return Err(Error::InvalidParameter {
                name: "labels".into(),
                message: format!("{} labels for {} rows", labels.len(), n),
            });
        }
        let time_index = match &schema.time_column {
            Some(name) => {
                Some(
                    table
                        .table()
                        .column_index(name)
                        .ok_or_else(|| Error::MissingColumn {
                            column: name.clone(),
                        })?,
                )
            }
            None => None,
        };
        let excluded = |name: &str| {
            schema.id_column.as_deref() == Some(name) || schema.time_column.as_deref() == Some(name)
        };
        // The default snapshot is the latest date anywhere in the training data's date columns.
        let mut default_snapshot = f64::NEG_INFINITY;
        for c in &schema.columns {
            if c.kind == ColumnKind::Datetime {
                let idx =
                    table
                        .table()
                        .column_index(&c.name)
                        .ok_or_else(|| Error::MissingColumn {
                            column: c.name.clone(),
                        })?;
                for raw in table.cells(idx) {
                    if let Some(d) = parse_datetime(raw) {
                        default_snapshot = default_snapshot.max(d);
                    }
                }
            }
        }
        if !default_snapshot.is_finite() {
            default_snapshot = 0.0;
        }
        let snapshots: Vec<f64> = match time_index {
            Some(t) => (0..n)
                .map(|r| snapshot_of(table.raw(r, t)).unwrap_or(default_snapshot))
                .collect(),
            None => vec![default_snapshot; n],
        };

        // Every input's encoder is fitted here (holding one raw column at a time); the features
        // are written later, a column at a time, by `TrainingColumns::for_each`.
        let mut inputs = Vec::new();
        let mut kept_values = Vec::new();
        let model_inputs: Vec<_> = schema
            .columns
            .iter()
            .filter(|c| c.kind.is_model_input() && !excluded(&c.name))
            .collect();
        for (i, c) in model_inputs.iter().enumerate() {
            progress.report(
                "preparing features",
                i as f64 / model_inputs.len() as f64,
                &c.name,
            )?;
            let idx = table
                .table()
                .column_index(&c.name)
                .ok_or_else(|| Error::MissingColumn {
                    column: c.name.clone(),
                })?;
            let (encoder, values) = match c.kind {
                ColumnKind::Categorical => self.fit_categorical(table, idx, labels)?,
                kind => {
                    let raw: Vec<f64> = (0..n)
                        .map(|r| {
                            let value = table.value(r, idx);
                            training_number(kind, &c.name, value, snapshots[r], table.source_row(r))
                        })
                        .collect::<Result<_>>()?;
                    (self.fit_numeric(raw), None)
                }
            };
            kept_values.push((idx, values));
            inputs.push(InputColumn {
                name: c.name.clone(),
                kind: c.kind,
                encoder,
            });
        }
        let pipeline = FittedPipeline {
            target: self.target,
            inputs,
            time_column: schema.time_column.clone(),
            default_snapshot,
            blend: Vec::new(),
        };
        Ok((
            pipeline,
            TrainingColumns {
                table,
                snapshots,
                sources: kept_values,
            },
        ))
    }

    /// Fits a numeric column (already turned into numbers, `NaN` = missing).
    fn fit_numeric(&self, raw: Vec<f64>) -> Encoder {
        let mut present: Vec<f64> = raw.iter().copied().filter(|v| !v.is_nan()).collect();
        present.sort_unstable_by(f64::total_cmp);
        let has_missing = present.len() < raw.len();
        let (clip_low, clip_high) = match (self.winsorize, present.is_empty()) {
            (Some((lo, hi)), false) => (quantile(&present, lo), quantile(&present, hi)),
            // Finite sentinels: JSON has no infinities.
            _ => (f64::MIN, f64::MAX),
        };
        let median = if present.is_empty() {
            0.0
        } else {
            quantile(&present, 0.5)
        };
        let mut enc = NumericEncoder {
            clip_low,
            clip_high,
            median,
            mean: 0.0,
            scale: 1.0,
            missing_indicator: has_missing && self.target == Target::Linear,
        };
        if self.target == Target::Linear {
            // Mean and std of what the model will see: clipped and imputed values.
            let seen: Vec<f64> = raw.iter().map(|&v| enc.clip_impute(v)).collect();
            let (mean, std) = mean_std(&seen);
            enc.mean = mean;
            // A constant column scales to all zeros rather than dividing by zero.
            enc.scale = if std > 0.0 { std } else { 1.0 };
        }
        Encoder::Numeric(enc)
    }

    /// Fits a categorical column. One-hot columns are written from the encoder; a high-cardinality
    /// column also returns its training rows' values, which differ from what the encoder gives
    /// (out of fold for target encoding; missing rows' own frequency).
    fn fit_categorical(
        &self,
        table: Rows<'_>,
        idx: usize,
        labels: &[f64],
    ) -> Result<(Encoder, Option<Vec<f64>>)> {
        let n = table.n_rows();
        let mut counts: HashMap<&str, usize> = HashMap::new();
        let mut has_missing = false;
        for raw in table.cells(idx) {
            if is_na(raw) {
                has_missing = true;
            } else {
                *counts.entry(raw.trim()).or_insert(0) += 1;
            }
        }
        let mut levels: Vec<(&str, usize)> = counts.into_iter().collect();
        // Most frequent first, ties by name, so the encoding never depends on hash order.
        levels.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let kept: Vec<String> = levels
            .iter()
            .filter(|(_, c)| *c >= self.rare_min_count)
            .map(|(l, _)| l.to_string())
            .collect();
        let has_other = kept.len() < levels.len();

        if self.native_categorical && self.target == Target::Trees && !kept.is_empty() {
            // Codes are one-byte bins and `other` takes one: the rarest levels beyond that
            // many fall into `other`.
            let mut kept = kept;
            kept.truncate(MAX_CODES - 1);
            let index: HashMap<&str, usize> = kept
                .iter()
                .enumerate()
                .map(|(i, l)| (l.as_str(), i))
                .collect();
            let other = kept.len() as f64;
            let values = table
                .cells(idx)
                .map(|raw| {
                    if is_na(raw) {
                        f64::NAN
                    } else {
                        index.get(raw.trim()).map_or(other, |&i| i as f64)
                    }
                })
                .collect();
            drop(index);
            let enc = CategoricalEncoder::Codes { levels: kept };
            return Ok((Encoder::Categorical(enc), Some(values)));
        }

        if kept.len() + usize::from(has_other) <= self.one_hot_max_levels {
            let enc = CategoricalEncoder::OneHot {
                levels: kept,
                other_column: has_other,
                missing_indicator: has_missing,
            };
            return Ok((Encoder::Categorical(enc), None));
        }

        let level_index: HashMap<&str, usize> = kept
            .iter()
            .enumerate()
            .map(|(i, l)| (l.as_str(), i))
            .collect();
        // Level slot per row: kept levels, then `other`, then missing.
        let other_slot = kept.len();
        let missing_slot = kept.len() + 1;
        let slots: Vec<usize> = table
            .cells(idx)
            .map(|raw| {
                if is_na(raw) {
                    missing_slot
                } else {
                    level_index.get(raw.trim()).copied().unwrap_or(other_slot)
                }
            })
            .collect();
        drop(level_index);
        let n_slots = kept.len() + 2;
        let (enc, values) = match self.high_cardinality {
            HighCardinality::Frequency => {
                let mut freq = vec![0.0; n_slots];
                for &s in &slots {
                    freq[s] += 1.0;
                }
                for f in &mut freq {
                    *f /= n as f64;
                }
                let values = slots.iter().map(|&s| freq[s]).collect();
                (
                    CategoricalEncoder::Encoded {
                        levels: kept,
                        values: freq,
                        missing_value: 0.0,
                    },
                    values,
                )
            }
            HighCardinality::TargetEncoding => {
                let prior = labels.iter().sum::<f64>() / n as f64;
                let m = self.target_encoding_smoothing;
                let encode = |sum: f64, count: f64| (sum + m * prior) / (count + m);
                let mut sum = vec![0.0; n_slots];
                let mut count = vec![0.0; n_slots];
                for (&s, &y) in slots.iter().zip(labels) {
                    sum[s] += y;
                    count[s] += 1.0;
                }
                let full: Vec<f64> = sum
                    .iter()
                    .zip(&count)
                    .map(|(&s, &c)| encode(s, c))
                    .collect();
                // Out of fold for training rows: a row's own label never shapes its encoding.
                let k = self.target_encoding_folds.max(2);
                let mut rng = Rng::new(self.seed ^ 0x7E_A7E1);
                let fold: Vec<usize> = (0..n).map(|_| rng.below(k)).collect();
                let mut fold_sum = vec![vec![0.0; n_slots]; k];
                let mut fold_count = vec![vec![0.0; n_slots]; k];
                for r in 0..n {
                    fold_sum[fold[r]][slots[r]] += labels[r];
                    fold_count[fold[r]][slots[r]] += 1.0;
                }
                let values = (0..n)
                    .map(|r| {
                        let (s, f) = (slots[r], fold[r]);
                        encode(sum[s] - fold_sum[f][s], count[s] - fold_count[f][s])
                    })
                    .collect();
                let missing_value = full[missing_slot];
                (
                    CategoricalEncoder::Encoded {
                        levels: kept,
                        values: full,
                        missing_value,
                    },
                    values,
                )
            }
        };
        debug_assert_eq!(enc.width(), 1);
        Ok((Encoder::Categorical(enc), Some(values)))
    }
}

/// Share of `fit_transform`'s progress given to fitting the encoders (the rest is writing the
/// matrix).
const FIT_SHARE: f64 = 0.5;

/// The training rows' features of a pipeline just fitted by [`FeatureParams::fit_with_progress`],
/// written on demand one feature column at a time.
#[derive(Debug)]
pub struct TrainingColumns<'a> {
    table: Rows<'a>,
    /// Each row's snapshot date (for date ages).
    snapshots: Vec<f64>,
    /// Per input: its column in the table and, for a high-cardinality categorical, the training
    /// rows' values (out of fold, so not what the encoder gives).
    sources: Vec<(usize, Option<Vec<f64>>)>,
}

impl TrainingColumns<'_> {
    /// Hands `each` every feature column of the training rows in matrix column order: the
    /// feature's index and its values, row by row, exactly the floats of that column of
    /// [`FeatureParams::fit_transform`]'s matrix. Only one column (and, for a one-hot group,
    /// each row's hot column) is held at a time. Reports each input column to `progress`;
    /// `each` may stop the walk by returning an error.
    pub fn for_each(
        self,
        pipeline: &FittedPipeline,
        progress: &mut Reporter<'_>,
        mut each: impl FnMut(usize, &[f64]) -> Result<()>,
    ) -> Result<()> {
        let table = self.table;
        let n = table.n_rows();
        let width = pipeline.n_features();
        let mut column = vec![0.0; n];
        let mut f = 0;
        for (input, (idx, values)) in pipeline.inputs.iter().zip(self.sources) {
            progress.report("preparing features", f as f64 / width as f64, &input.name)?;
            let mut buf = vec![0.0; input.width()];
            match (&input.encoder, values) {
                (_, Some(values)) => each(f, &values)?,
                (Encoder::Categorical(enc @ CategoricalEncoder::OneHot { .. }), None) => {
                    // Each row's hot column (`u32::MAX`: none), found once by the encoder
                    // itself, then the group's 1/0 columns written from it.
                    let hot: Vec<u32> = (0..n)
                        .map(|r| {
                            enc.encode(table.value(r, idx), &mut buf);
                            buf.iter()
                                .position(|&v| v == 1.0)
                                .map_or(u32::MAX, |i| i as u32)
                        })
                        .collect();
                    for j in 0..input.width() {
                        for (c, &h) in column.iter_mut().zip(&hot) {
                            *c = if h == j as u32 { 1.0 } else { 0.0 };
                        }
                        each(f + j, &column)?;
                    }
                }
                (encoder, None) => {
                    for j in 0..input.width() {
                        for (r, c) in column.iter_mut().enumerate() {
                            match encoder {
                                Encoder::Categorical(enc) => {
                                    enc.encode(table.value(r, idx), &mut buf)
                                }
                                Encoder::Numeric(enc) => {
                                    let v = training_number(
                                        input.kind,
                                        &input.name,
                                        table.value(r, idx),
                                        self.snapshots[r],
                                        table.source_row(r),
                                    )?;
                                    enc.encode(pipeline.target, v, &mut buf);
                                }
                            }
                            *c = buf[j];
                        }
                        each(f + j, &column)?;
                    }
                }
            }
            f += input.width();
        }
        progress.report("preparing features", 1.0, "features written")
    }

    /// The training matrix (rows × features): every column of [`TrainingColumns::for_each`].
    pub fn into_matrix(
        self,
        pipeline: &FittedPipeline,
        progress: &mut Reporter<'_>,
    ) -> Result<Array2<f64>> {
        let mut x = Array2::<f64>::zeros((self.table.n_rows(), pipeline.n_features()));
        self.for_each(pipeline, progress, |f, column| {
            x.column_mut(f)
                .iter_mut()
                .zip(column)
                .for_each(|(d, s)| *d = *s);
            Ok(())
        })?;
        Ok(x)
    }
}

/// A training row's value of numeric-like input `column`, or what is wrong with it (naming the
/// row's 1-based data-row number in the source file, `source_row`).
fn training_number(
    kind: ColumnKind,
    column: &str,
    value: Value<'_>,
    snapshot: f64,
    source_row: usize,
) -> Result<f64> {
    numeric_of(kind, value, snapshot).map_err(|value| Error::BadValue {
        row: source_row,
        column: column.to_string(),
        value,
        expected: kind_name(kind).into(),
    })
}

fn kind_name(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Numeric => "number",
        ColumnKind::Boolean => "boolean (yes/no, true/false, 1/0)",
        ColumnKind::Datetime => "ISO 8601 date",
        ColumnKind::Categorical => "category",
        ColumnKind::Identifier => "identifier",
        ColumnKind::Text => "text",
    }
}

/// A row's snapshot date from its time column (a date, or a number of days).
fn snapshot_of(raw: &str) -> Option<f64> {
    parse_datetime(raw).or_else(|| parse_number(raw))
}

/// Reads a value of a numeric-like column as a number; `Err` carries the offending text.
fn numeric_of(
    kind: ColumnKind,
    value: Value<'_>,
    snapshot: f64,
) -> core::result::Result<f64, String> {
    let bad = |s: &str| Err(s.to_string());
    match (kind, value) {
        (_, Value::Missing) => Ok(f64::NAN),
        (ColumnKind::Boolean, Value::Bool(b)) => Ok(if b { 1.0 } else { 0.0 }),
        (ColumnKind::Boolean, Value::Number(x)) if x == 0.0 || x == 1.0 => Ok(x),
        (ColumnKind::Boolean, Value::Text(t)) => match parse_bool(t) {
            Some(b) => Ok(if b { 1.0 } else { 0.0 }),
            None => bad(t),
        },
        (ColumnKind::Datetime, Value::Text(t)) => match parse_datetime(t) {
            Some(d) => Ok(snapshot - d),
            None => bad(t),
        },
        (ColumnKind::Numeric, Value::Number(x)) if x.is_finite() => Ok(x),
        (ColumnKind::Numeric, Value::Bool(b)) => Ok(if b { 1.0 } else { 0.0 }),
        (ColumnKind::Numeric, Value::Text(t)) => parse_number(t).ok_or_else(|| t.to_string()),
        (_, Value::Number(x)) => Err(format!("{x}")),
        (_, Value::Bool(b)) => Err(format!("{b}")),
        (_, Value::Text(t)) => bad(t),
    }
}

/// A numeric-like value for monitoring: the number the pipeline would read, `NaN` when missing
/// or unreadable.
pub(crate) fn numeric_value(kind: ColumnKind, value: Value<'_>, snapshot: f64) -> f64 {
    numeric_of(kind, value, snapshot).unwrap_or(f64::NAN)
}

/// The training levels a categorical encoder knows (empty for numeric encoders).
pub(crate) fn categorical_levels(encoder: &Encoder) -> Vec<String> {
    match encoder {
        Encoder::Categorical(
            CategoricalEncoder::OneHot { levels, .. }
            | CategoricalEncoder::Encoded { levels, .. }
            | CategoricalEncoder::Codes { levels },
        ) => levels.clone(),
        Encoder::Numeric(_) => Vec::new(),
    }
}

/// A categorical value as level text (`None` when missing); numbers are written into `scratch`.
pub(crate) fn level_text<'a>(value: Value<'a>, scratch: &'a mut String) -> Option<&'a str> {
    match value {
        Value::Missing => None,
        Value::Text(t) => Some(t.trim()),
        Value::Bool(b) => Some(if b { "true" } else { "false" }),
        Value::Number(x) => {
            use core::fmt::Write;
            scratch.clear();
            let _ = write!(scratch, "{x}");
            Some(scratch.as_str())
        }
    }
}

/// Linear-interpolated quantile of sorted values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    let frac = pos - lo as f64;
    sorted[lo] + (sorted[hi] - sorted[lo]) * frac
}

/// Mean and population standard deviation of `xs` (non-empty, finite). The plain sums are used
/// when they stay finite; values whose sum or squares overflow (a column of `1e200`) are summed
/// again divided by a power of two at least as large as the largest, which is exact but for
/// subnormals, so both results are finite for any finite input.
fn mean_std(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    if mean.is_finite() && var.is_finite() {
        return (mean, libm::sqrt(var));
    }
    let largest = xs.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    // 2^1023 is the largest power of two; every finite value divided by it is below 2.
    let scale = libm::exp2(libm::ceil(libm::log2(largest)).min(1023.0));
    let scaled_mean = xs.iter().map(|x| x / scale).sum::<f64>() / n;
    let scaled_var = xs
        .iter()
        .map(|x| (x / scale - scaled_mean) * (x / scale - scaled_mean))
        .sum::<f64>()
        / n;
    let clamp = |x: f64| x.clamp(f64::MIN, f64::MAX);
    (
        clamp(scaled_mean * scale),
        clamp(libm::sqrt(scaled_var) * scale),
    )
}

/// Fitted parameters of one numeric-like column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NumericEncoder {
    /// Values below are raised to this (fitted low quantile).
    pub clip_low: f64,
    /// Values above are lowered to this (fitted high quantile).
    pub clip_high: f64,
    /// Imputed for missing values (linear model only).
    pub median: f64,
    /// Subtracted before scaling (linear model only).
    pub mean: f64,
    /// Divisor of the standard scaling (linear model only).
    pub scale: f64,
    /// Whether a 1/0 missing-indicator column follows the value.
    pub missing_indicator: bool,
}

crate::map_struct!(NumericEncoder {
    clip_low,
    clip_high,
    median,
    mean,
    scale,
    missing_indicator,
});

impl NumericEncoder {
    fn width(&self) -> usize {
        1 + usize::from(self.missing_indicator)
    }

    fn clip_impute(&self, v: f64) -> f64 {
        if v.is_nan() {
            self.median
        } else {
            v.clamp(self.clip_low, self.clip_high)
        }
    }

    fn encode(&self, target: Target, v: f64, out: &mut [f64]) {
        match target {
            Target::Trees => {
                out[0] = if v.is_nan() {
                    v
                } else {
                    v.clamp(self.clip_low, self.clip_high)
                }
            }
            Target::Linear => {
                let x = self.clip_impute(v);
                let centred = x - self.mean;
                out[0] = if centred.is_finite() {
                    centred / self.scale
                } else {
                    // Values of opposite sign near f64::MAX: halving is exact, so this is the
                    // same quotient without the overflowing difference.
                    (x / 2.0 - self.mean / 2.0) / (self.scale / 2.0)
                };
                if self.missing_indicator {
                    out[1] = if v.is_nan() { 1.0 } else { 0.0 };
                }
            }
        }
    }
}

/// Most level codes of a [`CategoricalEncoder::Codes`] column (kept levels plus `other`): a
/// code is a histogram bin of one byte, whose last value is the missing bin.
pub const MAX_CODES: usize = 255;

/// Fitted parameters of one categorical column.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "encoding", rename_all = "snake_case")]
pub enum CategoricalEncoder {
    /// One 1/0 column per kept level, then `other` (rare and unseen levels) if training had
    /// rare levels, then a missing indicator if training had missing values.
    OneHot {
        levels: Vec<String>,
        other_column: bool,
        missing_indicator: bool,
    },
    /// One column: `values[i]` for `levels[i]`, `values[levels.len()]` for `other`.
    Encoded {
        levels: Vec<String>,
        values: Vec<f64>,
        missing_value: f64,
    },
    /// One column of level codes, for boosting's native categorical splits: `i` for
    /// `levels[i]`, `levels.len()` for `other` (rare and unseen levels), `NaN` when missing.
    Codes { levels: Vec<String> },
}

// Read without serde's buffering (`crate::tagged`); nested in `Encoder`, whose tag comes first.
tagged::deserialize_tagged!(CategoricalEncoder);

impl Tagged for CategoricalEncoder {
    const NAME: &'static str = "CategoricalEncoder";
    const TAG: &'static str = "encoding";
    const VARIANTS: &'static [&'static str] = &["one_hot", "encoded", "codes"];

    fn read<'de, D: Deserializer<'de>>(
        index: usize,
        rest: D,
    ) -> core::result::Result<Self, D::Error> {
        struct OneHot {
            levels: Vec<String>,
            other_column: bool,
            missing_indicator: bool,
        }
        crate::map_struct!(OneHot {
            levels,
            other_column,
            missing_indicator,
        });

        struct Encoded {
            levels: Vec<String>,
            values: Vec<f64>,
            missing_value: f64,
        }
        crate::map_struct!(Encoded {
            levels,
            values,
            missing_value,
        });

        struct Codes {
            levels: Vec<String>,
        }
        crate::map_struct!(Codes { levels });

        Ok(match index {
            0 => {
                let OneHot {
                    levels,
                    other_column,
                    missing_indicator,
                } = OneHot::deserialize(rest)?;
                CategoricalEncoder::OneHot {
                    levels,
                    other_column,
                    missing_indicator,
                }
            }
            1 => {
                let Encoded {
                    levels,
                    values,
                    missing_value,
                } = Encoded::deserialize(rest)?;
                CategoricalEncoder::Encoded {
                    levels,
                    values,
                    missing_value,
                }
            }
            _ => CategoricalEncoder::Codes {
                levels: Codes::deserialize(rest)?.levels,
            },
        })
    }
}

impl CategoricalEncoder {
    fn width(&self) -> usize {
        match self {
            CategoricalEncoder::OneHot {
                levels,
                other_column,
                missing_indicator,
            } => levels.len() + usize::from(*other_column) + usize::from(*missing_indicator),
            CategoricalEncoder::Encoded { .. } | CategoricalEncoder::Codes { .. } => 1,
        }
    }

    /// How many level codes a [`CategoricalEncoder::Codes`] column writes (its levels and
    /// `other`); `None` for the other encodings.
    pub fn n_codes(&self) -> Option<usize> {
        match self {
            CategoricalEncoder::Codes { levels } => Some(levels.len() + 1),
            _ => None,
        }
    }

    fn encode(&self, value: Value<'_>, out: &mut [f64]) {
        let mut scratch = String::new();
        let level = level_text(value, &mut scratch);
        match self {
            CategoricalEncoder::OneHot {
                levels,
                other_column,
                missing_indicator,
            } => {
                out.iter_mut().for_each(|o| *o = 0.0);
                match level {
                    None if *missing_indicator => out[out.len() - 1] = 1.0,
                    None => {}
                    Some(l) => match levels.iter().position(|k| k == l) {
                        Some(i) => out[i] = 1.0,
                        None if *other_column => out[levels.len()] = 1.0,
                        None => {}
                    },
                }
            }
            CategoricalEncoder::Encoded {
                levels,
                values,
                missing_value,
            } => {
                out[0] = match level {
                    None => *missing_value,
                    Some(l) => match levels.iter().position(|k| k == l) {
                        Some(i) => values[i],
                        None => values[levels.len()],
                    },
                };
            }
            CategoricalEncoder::Codes { levels } => {
                out[0] = match level {
                    None => f64::NAN,
                    Some(l) => levels.iter().position(|k| k == l).unwrap_or(levels.len()) as f64,
                };
            }
        }
    }

    fn names(&self, column: &str) -> Vec<String> {
        match self {
            CategoricalEncoder::OneHot {
                levels,
                other_column,
                missing_indicator,
            } => {
                let mut names: Vec<String> =
                    levels.iter().map(|l| format!("{column}={l}")).collect();
                if *other_column {
                    names.push(format!("{column}=other"));
                }
                if *missing_indicator {
                    names.push(format!("{column}__missing"));
                }
                names
            }
            CategoricalEncoder::Encoded { .. } => vec![format!("{column}__encoded")],
            CategoricalEncoder::Codes { .. } => vec![column.to_string()],
        }
    }
}

/// How one input column becomes model features.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Encoder {
    /// Numeric, boolean and datetime columns.
    Numeric(NumericEncoder),
    /// Categorical columns.
    Categorical(CategoricalEncoder),
}

// Read without serde's buffering (`crate::tagged`).
tagged::deserialize_tagged!(Encoder);

impl Tagged for Encoder {
    const NAME: &'static str = "Encoder";
    const TAG: &'static str = "type";
    const VARIANTS: &'static [&'static str] = &["numeric", "categorical"];

    fn read<'de, D: Deserializer<'de>>(
        index: usize,
        rest: D,
    ) -> core::result::Result<Self, D::Error> {
        Ok(match index {
            0 => Encoder::Numeric(NumericEncoder::deserialize(rest)?),
            _ => Encoder::Categorical(CategoricalEncoder::deserialize(rest)?),
        })
    }
}

/// One raw input column of the pipeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputColumn {
    /// Header name.
    pub name: String,
    /// Column type.
    pub kind: ColumnKind,
    /// Fitted encoding.
    pub encoder: Encoder,
}

crate::map_struct!(InputColumn {
    name,
    kind,
    encoder,
});

impl InputColumn {
    fn check(&self, max_levels: usize) -> core::result::Result<(), String> {
        check_encoder(&self.encoder, self.kind, max_levels)
    }

    /// Number of model features this column produces.
    pub fn width(&self) -> usize {
        self.encoder.width()
    }
}

impl Encoder {
    /// Number of model features this encoder writes.
    pub fn width(&self) -> usize {
        match self {
            Encoder::Numeric(e) => e.width(),
            Encoder::Categorical(e) => e.width(),
        }
    }

    /// Writes the features of `input`'s value into `out` (length [`Encoder::width`]); this
    /// encoder may be another member's encoding of `input` than its own.
    fn write(
        &self,
        target: Target,
        input: &InputColumn,
        value: Value<'_>,
        snapshot: f64,
        row: usize,
        out: &mut [f64],
    ) -> Result<()> {
        match self {
            Encoder::Numeric(e) => {
                let v = numeric_of(input.kind, value, snapshot).map_err(|v| Error::BadValue {
                    row,
                    column: input.name.clone(),
                    value: v,
                    expected: kind_name(input.kind).into(),
                })?;
                e.encode(target, v, out);
            }
            Encoder::Categorical(e) => e.encode(value, out),
        }
        Ok(())
    }

    fn names(&self, column: &str, names: &mut Vec<String>) {
        match self {
            Encoder::Numeric(e) => {
                names.push(column.to_string());
                if e.missing_indicator {
                    names.push(format!("{column}__missing"));
                }
            }
            Encoder::Categorical(e) => names.extend(e.names(column)),
        }
    }
}

/// Checks that `encoder` fits a column of `kind` and holds usable numbers; the error names the
/// field under `encoder`.
fn check_encoder(
    encoder: &Encoder,
    kind: ColumnKind,
    max_levels: usize,
) -> core::result::Result<(), String> {
    {
        let finite = |field: &str, x: f64| {
            if x.is_finite() {
                Ok(())
            } else {
                Err(format!("encoder.{field} = {x} is not a finite number"))
            }
        };
        match (encoder, kind) {
            (
                Encoder::Numeric(e),
                ColumnKind::Numeric | ColumnKind::Boolean | ColumnKind::Datetime,
            ) => {
                finite("clip_low", e.clip_low)?;
                finite("clip_high", e.clip_high)?;
                finite("median", e.median)?;
                finite("mean", e.mean)?;
                finite("scale", e.scale)?;
                if e.clip_low > e.clip_high {
                    return Err(format!(
                        "encoder.clip_low = {} is above clip_high = {}",
                        e.clip_low, e.clip_high
                    ));
                }
                if e.scale <= 0.0 {
                    return Err(format!("encoder.scale = {} is not positive", e.scale));
                }
                Ok(())
            }
            (Encoder::Categorical(e), ColumnKind::Categorical) => {
                let levels = match e {
                    CategoricalEncoder::OneHot { levels, .. } => levels,
                    CategoricalEncoder::Codes { levels } => {
                        if levels.len() >= MAX_CODES {
                            return Err(format!(
                                "encoder.levels: {} levels, more than the {} level codes a column may have with `other`",
                                levels.len(),
                                MAX_CODES - 1
                            ));
                        }
                        levels
                    }
                    CategoricalEncoder::Encoded {
                        levels,
                        values,
                        missing_value,
                    } => {
                        // Training also stores the missing slot's value after `other`.
                        if values.len() <= levels.len() {
                            return Err(format!(
                                "encoder.values: {} entries, but {} levels need at least {} (one per level, then `other`)",
                                values.len(),
                                levels.len(),
                                levels.len() + 1
                            ));
                        }
                        if let Some(j) = values.iter().position(|v| !v.is_finite()) {
                            return Err(format!(
                                "encoder.values[{j}] = {} is not a finite number",
                                values[j]
                            ));
                        }
                        finite("missing_value", *missing_value)?;
                        levels
                    }
                };
                if levels.len() > max_levels {
                    return Err(format!(
                        "encoder.levels: {} levels, more than the {max_levels} allowed",
                        levels.len()
                    ));
                }
                Ok(())
            }
            (_, kind) => Err(format!(
                "encoder: a {} encoder cannot read a {} column",
                match encoder {
                    Encoder::Numeric(_) => "numeric",
                    Encoder::Categorical(_) => "categorical",
                },
                kind_name(kind)
            )),
        }
    }
}

/// Rows that could not be transformed: (table row index, what is wrong).
pub type RowErrors = Vec<(usize, Error)>;

/// The fitted pipeline stored in the artifact.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FittedPipeline {
    /// Model family the output feeds.
    pub target: Target,
    /// Input columns in the order values are passed to [`FittedPipeline::transform_values`].
    pub inputs: Vec<InputColumn>,
    /// Column holding each row's snapshot date, if any.
    pub time_column: Option<String>,
    /// Snapshot date (days since 1970-01-01) used for date ages when a row has none.
    pub default_snapshot: f64,
    /// An ensemble's further members' encodings of the same `inputs`, one part per member after
    /// the first (whose encoding is `target` and `inputs` itself); empty for a single family,
    /// and then not written, so files of single models are unchanged. The features are the
    /// first member's, then each part's in order, so each member reads one contiguous slice.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blend: Vec<BlendPart>,
}

crate::map_struct!(FittedPipeline {
    target,
    inputs,
    time_column,
    default_snapshot,
    blend = Default::default(),
});

/// One further member's encoding of an ensemble pipeline's inputs: the encoders its own
/// pipeline fitted, one per input (names, kinds and order are the pipeline's).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlendPart {
    /// Model family the part's features feed.
    pub target: Target,
    /// One fitted encoder per input column, in input order.
    pub encoders: Vec<Encoder>,
}

crate::map_struct!(BlendPart { target, encoders });

impl FittedPipeline {
    /// Number of model features (every member's, for an ensemble).
    pub fn n_features(&self) -> usize {
        self.member_widths().iter().sum()
    }

    /// Features per member, in member order: one entry for a single family's pipeline.
    pub fn member_widths(&self) -> Vec<usize> {
        let mut widths = Vec::with_capacity(1 + self.blend.len());
        widths.push(self.inputs.iter().map(InputColumn::width).sum());
        widths.extend(
            self.blend
                .iter()
                .map(|p| p.encoders.iter().map(Encoder::width).sum::<usize>()),
        );
        widths
    }

    /// Pipelines of single families combined into an ensemble's: `members[0]`'s inputs and
    /// target first, then each further member's encoders as a [`BlendPart`]. All must read the
    /// same input columns in the same order (as training fits them from one schema).
    pub fn blend_of(members: &[FittedPipeline]) -> Result<FittedPipeline> {
        let (first, rest) = members
            .split_first()
            .ok_or_else(|| Error::InvalidParameter {
                name: "members".into(),
                message: "an ensemble needs at least one member".into(),
            })?;
        let mut blended = first.clone();
        for m in rest {
            let same = m.inputs.len() == first.inputs.len()
                && m.inputs
                    .iter()
                    .zip(&first.inputs)
                    .all(|(a, b)| a.name == b.name && a.kind == b.kind)
                && m.blend.is_empty();
            if !same {
                return Err(Error::InvalidParameter {
                    name: "members".into(),
                    message: "ensemble members must read the same input columns".into(),
                });
            }
            blended.blend.push(BlendPart {
                target: m.target,
                encoders: m.inputs.iter().map(|c| c.encoder.clone()).collect(),
            });
        }
        Ok(blended)
    }

    /// The target of each member's features, in member order.
    pub fn member_targets(&self) -> Vec<Target> {
        core::iter::once(self.target)
            .chain(self.blend.iter().map(|p| p.target))
            .collect()
    }

    /// Member `m`'s own pipeline (`None` past the last member): for a single family, a copy of
    /// this one.
    pub fn member(&self, m: usize) -> Option<FittedPipeline> {
        let mut own = FittedPipeline {
            blend: Vec::new(),
            ..self.clone()
        };
        if m > 0 {
            let part = self.blend.get(m - 1)?;
            own.target = part.target;
            for (input, encoder) in own.inputs.iter_mut().zip(&part.encoders) {
                input.encoder = encoder.clone();
            }
        }
        Some(own)
    }

    /// Checks a loaded pipeline: at most `max_inputs` uniquely named columns, each encoder fit
    /// for its column type, finite numbers (clip bounds in order, a positive scale), target
    /// encodings with one value per level plus `other`, and at most `max_levels` levels per
    /// column. Returns what is wrong with its field path under `pipeline`
    /// (`inputs[2].encoder.values: ...`).
    pub fn check(&self, max_inputs: usize, max_levels: usize) -> core::result::Result<(), String> {
        if !self.default_snapshot.is_finite() {
            return Err(format!(
                "default_snapshot = {} is not a finite number",
                self.default_snapshot
            ));
        }
        if self.inputs.len() > max_inputs {
            return Err(format!(
                "inputs: {} columns, more than the {max_inputs} allowed",
                self.inputs.len()
            ));
        }
        let mut names = hashbrown::HashSet::with_capacity(self.inputs.len());
        for (i, input) in self.inputs.iter().enumerate() {
            if !names.insert(input.name.as_str()) {
                return Err(format!("inputs[{i}].name: `{}` appears twice", input.name));
            }
            input
                .check(max_levels)
                .map_err(|e| format!("inputs[{i}].{e}"))?;
        }
        for (p, part) in self.blend.iter().enumerate() {
            if part.encoders.len() != self.inputs.len() {
                return Err(format!(
                    "blend[{p}].encoders: {} encoders for {} inputs (one per input)",
                    part.encoders.len(),
                    self.inputs.len()
                ));
            }
            for (i, (encoder, input)) in part.encoders.iter().zip(&self.inputs).enumerate() {
                check_encoder(encoder, input.kind, max_levels)
                    .map_err(|e| format!("blend[{p}].encoders[{i}]{}", &e["encoder".len()..]))?;
            }
        }
        Ok(())
    }

    /// Per model feature, its number of level codes when it is a
    /// [`CategoricalEncoder::Codes`] column, else 0.
    pub fn feature_codes(&self) -> Vec<usize> {
        let mut codes = Vec::with_capacity(self.n_features());
        for input in &self.inputs {
            match &input.encoder {
                Encoder::Categorical(e) if e.n_codes().is_some() => {
                    codes.extend(e.n_codes());
                }
                _ => codes.extend(core::iter::repeat_n(0, input.width())),
            }
        }
        codes
    }

    /// Names of the model features, in matrix column order.
    /// An ensemble's further members' features are named `mM:` and the name (`m1:tenure`), so
    /// names stay unique.
    pub fn feature_names(&self) -> Vec<String> {
        let mut names = Vec::with_capacity(self.n_features());
        for input in &self.inputs {
            input.encoder.names(&input.name, &mut names);
        }
        for (p, part) in self.blend.iter().enumerate() {
            let start = names.len();
            for (encoder, input) in part.encoders.iter().zip(&self.inputs) {
                encoder.names(&input.name, &mut names);
            }
            for name in &mut names[start..] {
                *name = format!("m{}:{name}", p + 1);
            }
        }
        names
    }

    /// For each model feature, the index of the input column it comes from (so explanations can
    /// be summed back to fields a user knows; an ensemble's members' features all go back to
    /// the same inputs).
    pub fn feature_sources(&self) -> Vec<usize> {
        let mut sources: Vec<usize> = self
            .inputs
            .iter()
            .enumerate()
            .flat_map(|(i, c)| core::iter::repeat_n(i, c.width()))
            .collect();
        for part in &self.blend {
            for (i, e) in part.encoders.iter().enumerate() {
                sources.extend(core::iter::repeat_n(i, e.width()));
            }
        }
        sources
    }

    /// Names of the raw input columns, in the order `transform_values` expects.
    pub fn input_names(&self) -> impl Iterator<Item = &str> {
        self.inputs.iter().map(|c| c.name.as_str())
    }

    /// Transforms one customer's raw values (aligned with [`FittedPipeline::inputs`]) into
    /// `out` (length [`FittedPipeline::n_features`]). `snapshot` overrides the default snapshot
    /// date for date ages. A value of the wrong type is an error naming the column; `row` is only
    /// used in that message.
    pub fn transform_values(
        &self,
        values: &[Value<'_>],
        snapshot: Option<f64>,
        row: usize,
        out: &mut [f64],
    ) -> Result<()> {
        if values.len() != self.inputs.len() || out.len() != self.n_features() {
            return Err(Error::InvalidParameter {
                name: "values".into(),
                message: format!(
                    "expected {} values into {} features, got {} into {}",
                    self.inputs.len(),
                    self.n_features(),
                    values.len(),
                    out.len()
                ),
            });
        }
        let snapshot = snapshot.unwrap_or(self.default_snapshot);
        let mut at = 0;
        for (input, &value) in self.inputs.iter().zip(values) {
            let width = input.width();
            let slot = &mut out[at..at + width];
            input
                .encoder
                .write(self.target, input, value, snapshot, row, slot)?;
            at += width;
        }
        for part in &self.blend {
            for ((encoder, input), &value) in part.encoders.iter().zip(&self.inputs).zip(values) {
                let width = encoder.width();
                let slot = &mut out[at..at + width];
                encoder.write(part.target, input, value, snapshot, row, slot)?;
                at += width;
            }
        }
        Ok(())
    }

    /// Maps each input column to its index in `table` (an error names the first missing one).
    pub fn column_indices(&self, table: &Table) -> Result<Vec<usize>> {
        self.inputs
            .iter()
            .map(|c| {
                table
                    .column_index(&c.name)
                    .ok_or_else(|| Error::MissingColumn {
                        column: c.name.clone(),
                    })
            })
            .collect()
    }

    /// The snapshot date of `row` (from the time column when the table has it).
    pub fn row_snapshot(
        &self,
        table: &Table,
        time_index: Option<usize>,
        row: usize,
    ) -> Option<f64> {
        time_index.and_then(|t| snapshot_of(table.raw(row, t)))
    }

    /// Transforms a whole table, or the rows of a [`Rows`] view (a fold's test rows) in view
    /// order. Rows with a value of the wrong type are reported in the second element (row index
    /// in the view, error) and their matrix rows are left as `NaN`.
    pub fn transform_table<'a>(
        &self,
        table: impl Into<Rows<'a>>,
    ) -> Result<(Array2<f64>, RowErrors)> {
        let table = table.into();
        let mut x = Array2::<f64>::from_elem((table.n_rows(), self.n_features()), f64::NAN);
        let mut errors = Vec::new();
        self.for_each_row(table, |r, features| {
            match features {
                Ok(f) => x.row_mut(r).iter_mut().zip(f).for_each(|(d, s)| *d = *s),
                Err(e) => errors.push((r, e)),
            }
            Ok(())
        })?;
        Ok((x, errors))
    }

    /// Transforms the rows of a table or view one at a time, in view order, handing `each` the
    /// row's index in the view and its features (or what is wrong with the row), without a
    /// matrix: scoring a fold's test rows this way holds one row, not all of them. `each` may
    /// stop the walk by returning an error.
    pub fn for_each_row<'a>(
        &self,
        table: impl Into<Rows<'a>>,
        mut each: impl FnMut(usize, Result<&[f64]>) -> Result<()>,
    ) -> Result<()> {
        let table = table.into();
        let indices = self.column_indices(table.table())?;
        let time_index = self
            .time_column
            .as_deref()
            .and_then(|t| table.table().column_index(t));
        let mut values = Vec::with_capacity(indices.len());
        let mut buf = vec![0.0; self.n_features()];
        for r in 0..table.n_rows() {
            values.clear();
            values.extend(indices.iter().map(|&c| table.value(r, c)));
            let snapshot = time_index.and_then(|t| snapshot_of(table.raw(r, t)));
            match self.transform_values(&values, snapshot, table.source_row(r), &mut buf) {
                Ok(()) => each(r, Ok(&buf))?,
                Err(e) => each(r, Err(e))?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::schema::ColumnSchema;

    fn table(rows: &[[&str; 4]]) -> Table {
        let mut t = Table::new(vec![
            "plan".into(),
            "fee".into(),
            "since".into(),
            "state".into(),
        ])
        .unwrap();
        for (i, r) in rows.iter().enumerate() {
            t.push_row(i + 1, r.iter().copied()).unwrap();
        }
        t
    }

    fn schema() -> Schema {
        let col = |name: &str, kind| ColumnSchema {
            name: name.into(),
            kind,
            categories: vec![],
            nullable: true,
        };
        Schema {
            columns: vec![
                col("plan", ColumnKind::Categorical),
                col("fee", ColumnKind::Numeric),
                col("since", ColumnKind::Datetime),
                col("state", ColumnKind::Categorical),
            ],
            target: None,
            id_column: None,
            time_column: None,
        }
    }

    fn sample() -> (Table, Vec<f64>) {
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        let states = [
            "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11",
        ];
        for i in 0..240 {
            let plan = ["basic", "premium", "family"][i % 3];
            let fee = if i % 17 == 0 {
                ""
            } else {
                ["10", "20", "30.5"][i % 3]
            };
            let since = ["2024-01-01", "2024-06-01", ""][i % 3];
            let state = if i == 5 { "rare" } else { states[i % 12] };
            rows.push([plan, fee, since, state]);
            labels.push(if i % 4 == 0 { 1.0 } else { 0.0 });
        }
        (table(&rows), labels)
    }

    #[test]
    fn trees_pipeline_keeps_missing_and_one_hots() {
        let (t, y) = sample();
        let params = FeatureParams::for_target(Target::Trees).with_one_hot_max_levels(4);
        let (p, x) = params.fit_transform(&t, &schema(), &y).unwrap();
        let names = p.feature_names();
        assert_eq!(names[..3], ["plan=basic", "plan=family", "plan=premium"]);
        assert_eq!(names[3], "fee");
        assert_eq!(names[4], "since");
        assert_eq!(names[5], "state__encoded");
        assert_eq!(x.ncols(), 6);
        assert!(x[[0, 3]].is_nan(), "missing fee stays NaN for trees");
        // Age in days at the default snapshot (latest date, 2024-06-01): 152 days.
        assert_eq!(x[[0, 4]], 152.0);
        assert_eq!(x[[1, 4]], 0.0);
        assert_eq!(p.feature_sources(), vec![0, 0, 0, 1, 2, 3]);
        // Serving the same rows gives the same matrix except for out-of-fold encodings.
        let (served, errors) = p.transform_table(&t).unwrap();
        assert!(errors.is_empty());
        for r in 0..t.n_rows() {
            for j in 0..5 {
                let (a, b) = (x[[r, j]], served[[r, j]]);
                assert!(a == b || (a.is_nan() && b.is_nan()), "row {r} col {j}");
            }
        }
    }

    #[test]
    fn native_categorical_pipeline_writes_level_codes() {
        let (t, y) = sample();
        let params = FeatureParams::for_target(Target::Trees).with_native_categorical(true);
        let (p, x) = params.fit_transform(&t, &schema(), &y).unwrap();
        assert_eq!(p.feature_names(), ["plan", "fee", "since", "state"]);
        // plan: 3 levels + other; state: 12 kept levels (the `rare` one is pooled) + other.
        assert_eq!(p.feature_codes(), [4, 0, 0, 13]);
        let Encoder::Categorical(CategoricalEncoder::Codes { levels }) = &p.inputs[3].encoder
        else {
            panic!("state as codes")
        };
        // Levels by count, then name: row 0 is `s0`, row 5 the rare level (`other` = 12).
        assert_eq!(
            x[[0, 3]],
            levels.iter().position(|l| l == "s0").unwrap() as f64
        );
        assert_eq!(x[[5, 3]], 12.0);
        // Serving writes the same codes; unseen levels are `other`, missing is NaN.
        let (served, errors) = p.transform_table(&t).unwrap();
        assert!(errors.is_empty());
        for r in 0..t.n_rows() {
            assert_eq!(served[[r, 0]], x[[r, 0]]);
            assert_eq!(served[[r, 3]], x[[r, 3]]);
        }
        let mut out = [0.0; 4];
        let values = [
            Value::Missing,
            Value::Number(1.0),
            Value::Missing,
            Value::Text("never seen"),
        ];
        p.transform_values(&values, None, 0, &mut out).unwrap();
        assert!(out[0].is_nan());
        assert_eq!(out[3], 12.0);
        // The linear pipeline never writes codes.
        let (lin, _) = FeatureParams::for_target(Target::Linear)
            .with_native_categorical(true)
            .fit_transform(&t, &schema(), &y)
            .unwrap();
        assert!(lin.feature_codes().iter().all(|&c| c == 0));
    }

    #[test]
    fn linear_pipeline_imputes_scales_and_flags_missing() {
        let (t, y) = sample();
        let (p, x) = FeatureParams::for_target(Target::Linear)
            .fit_transform(&t, &schema(), &y)
            .unwrap();
        let names = p.feature_names();
        let fee = names.iter().position(|n| n == "fee").unwrap();
        assert_eq!(names[fee + 1], "fee__missing");
        let col = x.column(fee);
        let mean = col.sum() / col.len() as f64;
        let var = col.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / col.len() as f64;
        assert!(
            mean.abs() < 1e-9 && (var - 1.0).abs() < 1e-9,
            "{mean} {var}"
        );
        assert!(x.iter().all(|v| v.is_finite()));
        assert_eq!(x[[0, fee + 1]], 1.0);
        assert_eq!(x[[1, fee + 1]], 0.0);
    }

    #[test]
    fn unseen_levels_go_to_other_and_wrong_types_are_errors() {
        let (t, y) = sample();
        let params = FeatureParams::for_target(Target::Trees).with_one_hot_max_levels(20);
        let (p, _) = params.fit_transform(&t, &schema(), &y).unwrap();
        let names = p.feature_names();
        let mut out = vec![0.0; p.n_features()];
        let values = [
            Value::Text("brand_new"),
            Value::Number(12.0),
            Value::Missing,
            Value::Text("rare"),
        ];
        p.transform_values(&values, None, 1, &mut out).unwrap();
        assert!(names.contains(&"state=other".to_string()), "{names:?}");
        let other = names.iter().position(|n| n == "state=other").unwrap();
        assert_eq!(out[other], 1.0, "a rare level maps to other");
        assert!(
            out[..3].iter().all(|&v| v == 0.0),
            "an unseen plan sets no known level"
        );
        let bad = [
            Value::Text("basic"),
            Value::Text("twelve"),
            Value::Missing,
            Value::Missing,
        ];
        let err = p.transform_values(&bad, None, 7, &mut out).unwrap_err();
        assert_eq!(
            err,
            Error::BadValue {
                row: 7,
                column: "fee".into(),
                value: "twelve".into(),
                expected: "number".into()
            }
        );
    }

    #[test]
    fn target_encoding_is_out_of_fold_and_smoothed() {
        let (t, y) = sample();
        let (p, x) = FeatureParams::for_target(Target::Trees)
            .fit_transform(&t, &schema(), &y)
            .unwrap();
        let Encoder::Categorical(CategoricalEncoder::Encoded { values, .. }) = &p.inputs[3].encoder
        else {
            panic!("state should be target encoded: {:?}", p.inputs[3].encoder);
        };
        let prior = 0.25;
        // Every value is pulled towards the prior, none reaches 0 or 1.
        assert!(values.iter().all(|v| *v > 0.0 && *v < 1.0));
        assert!(values.iter().any(|v| (*v - prior).abs() > 1e-3));
        let (served, _) = p.transform_table(&t).unwrap();
        let differs = (0..t.n_rows())
            .filter(|&r| x[[r, 5]] != served[[r, 5]])
            .count();
        assert!(differs > 0, "training rows must get out-of-fold encodings");
    }

    #[test]
    fn a_bad_training_value_names_its_data_row() {
        let (clean, y) = sample();
        // Source rows are numbered from 1; the bad fee is in view row 3 of rows 2.., data row 5.
        let mut rows: Vec<[&str; 4]> = (0..clean.n_rows())
            .map(|r| {
                [
                    clean.raw(r, 0),
                    clean.raw(r, 1),
                    clean.raw(r, 2),
                    clean.raw(r, 3),
                ]
            })
            .collect();
        rows[4][1] = "ten";
        let t = table(&rows);
        let view: Vec<usize> = (1..t.n_rows()).collect();
        for target in [Target::Trees, Target::Linear] {
            let err = FeatureParams::for_target(target)
                .fit_transform(Rows::subset(&t, &view), &schema(), &y[1..])
                .unwrap_err();
            assert_eq!(
                err,
                Error::BadValue {
                    row: 5,
                    column: "fee".into(),
                    value: "ten".into(),
                    expected: "number".into(),
                },
                "{target:?}"
            );
        }
    }

    #[test]
    fn missing_column_is_named() {
        let (t, y) = sample();
        let mut s = schema();
        s.columns[1].name = "monthly_fee".into();
        let err = FeatureParams::default()
            .fit_transform(&t, &s, &y)
            .unwrap_err();
        assert_eq!(
            err,
            Error::MissingColumn {
                column: "monthly_fee".into()
            }
        );
    }

    mod invariants {
        use super::*;
        use proptest::prelude::*;

        fn cell() -> impl Strategy<Value = String> {
            prop_oneof![
                Just(String::new()),
                Just("NA".to_string()),
                (-1e6f64..1e6).prop_map(|x| alloc::format!("{x}")),
                "[a-e]".prop_map(|s| s),
            ]
        }

        proptest! {
            /// Whatever the training values: the linear pipeline never emits a non-finite value,
            /// tree features are NaN exactly when the value is missing, and each one-hot group has
            /// at most one 1 per row.
            #[test]
            fn encodings_are_well_formed(fees in prop::collection::vec(cell(), 30..80),
                                         plans in prop::collection::vec("[a-e]?", 30..80)) {
                let n = fees.len().min(plans.len());
                let mut t = Table::new(vec!["plan".into(), "fee".into()]).unwrap();
                let mut labels = Vec::new();
                for r in 0..n {
                    // Only numeric-looking fees belong to a numeric column; others become missing.
                    let fee = if parse_number(&fees[r]).is_some() { fees[r].as_str() } else { "" };
                    t.push_row(r + 1, [plans[r].as_str(), fee]).unwrap();
                    labels.push((r % 3 == 0) as u8 as f64);
                }
                let col = |name: &str, kind| ColumnSchema { name: name.into(), kind, categories: vec![], nullable: true };
                let schema = Schema {
                    columns: vec![col("plan", ColumnKind::Categorical), col("fee", ColumnKind::Numeric)],
                    target: None, id_column: None, time_column: None,
                };
                let params = FeatureParams::for_target(Target::Linear).with_one_hot_max_levels(20);
                let (p, x) = params.fit_transform(&t, &schema, &labels).unwrap();
                prop_assert!(x.iter().all(|v| v.is_finite()));
                let (pt, xt) = FeatureParams::for_target(Target::Trees).with_one_hot_max_levels(20)
                    .fit_transform(&t, &schema, &labels).unwrap();
                let fee_col = pt.feature_names().iter().position(|n| n == "fee").unwrap();
                let plan_width = pt.inputs[0].width();
                for r in 0..n {
                    prop_assert_eq!(xt[[r, fee_col]].is_nan(), is_na(t.raw(r, 1)));
                    let ones: f64 = (0..plan_width).map(|j| xt[[r, j]]).sum();
                    prop_assert!(ones == 0.0 || ones == 1.0, "row {} has {} ones", r, ones);
                }
                prop_assert_eq!(p.n_features(), x.ncols());
            }
        }
    }
}
