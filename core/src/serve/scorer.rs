//! The one scoring entry point. The CLI's batch scoring, the edge worker's `/v1/predict` and the
//! browser's what-if all go through a [`Scorer`] built from an artifact: raw fields → fitted
//! pipeline → model → calibration → decision at the artifact's threshold.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::ops::Deref;
use serde::{Deserialize, Serialize};

use crate::data::table::{Table, Value};
use crate::error::{Error, Result};
use crate::model::family::PackedModel;
use crate::serve::artifact::Artifact;
use crate::serve::record::{Record, RecordKeys};

/// How a [`Scorer`] (or an explainer) holds its artifact: `&Artifact` for a one-off, `Rc` or
/// `Arc<Artifact>` to keep one built and share the artifact with others, never a copy. With the
/// `parallel` feature tables are scored on all cores, so the holder must be `Sync`; a
/// single-threaded build (wasm) asks nothing more.
#[cfg(feature = "parallel")]
pub trait ArtifactRef: Deref<Target = Artifact> + Sync {}
#[cfg(feature = "parallel")]
impl<T: Deref<Target = Artifact> + Sync> ArtifactRef for T {}
/// How a [`Scorer`] (or an explainer) holds its artifact: `&Artifact` for a one-off, `Rc` or
/// `Arc<Artifact>` to keep one built and share the artifact with others, never a copy. With the
/// `parallel` feature tables are scored on all cores, so the holder must be `Sync`; a
/// single-threaded build (wasm) asks nothing more.
#[cfg(not(feature = "parallel"))]
pub trait ArtifactRef: Deref<Target = Artifact> {}
#[cfg(not(feature = "parallel"))]
impl<T: Deref<Target = Artifact>> ArtifactRef for T {}

/// How worried to be about a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskBand {
    /// Below the training churn rate.
    Low,
    /// At or above the training churn rate, below the decision threshold.
    Medium,
    /// At or above the decision threshold: contact this customer.
    High,
}

/// The answer for one customer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Score {
    /// Calibrated probability of churning.
    pub probability: f64,
    /// Whether the probability reaches the artifact's threshold.
    pub decision: bool,
    /// Coarse band for people reading a list.
    pub risk_band: RiskBand,
}

/// One problem with one field of a JSON record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldError {
    /// The field's name.
    pub field: String,
    /// What is wrong, in words a caller can act on.
    pub message: String,
}

/// Whether [`Scorer::score_rows`] reads the target column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Labels {
    /// Scores only.
    Ignore,
    /// Labels too where the table has the target column (monitoring: labels come back late).
    IfPresent,
    /// The table must hold the target column and at least one scored row with a known label
    /// (evaluation); scored rows without one are skipped with the reason.
    Required,
}

/// A row left out, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedRow {
    /// 1-based data-row number in the source file.
    pub row: usize,
    /// What is wrong, naming the column.
    pub reason: String,
}

/// A table scored row by row (see [`Scorer::score_rows`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredRows {
    /// Per table row: the calibrated probability, `None` where the row could not be scored.
    pub probabilities: Vec<Option<f64>>,
    /// Per table row: 1 (churned) or 0 (stayed), `None` where the target is missing or not a
    /// value the model knows; empty when labels were not read.
    pub labels: Vec<Option<f64>>,
    /// Rows left out: those that could not be scored and, with [`Labels::Required`], scored
    /// rows without a known label.
    pub skipped: Vec<SkippedRow>,
}

impl ScoredRows {
    /// `(table row, probability)` of every scored row, in table order.
    pub fn scored(&self) -> impl Iterator<Item = (usize, f64)> + '_ {
        self.probabilities
            .iter()
            .enumerate()
            .filter_map(|(r, p)| p.map(|p| (r, p)))
    }

    /// `(table row, label, probability)` of every scored row with a known label, in table order.
    pub fn labelled(&self) -> impl Iterator<Item = (usize, f64, f64)> + '_ {
        self.labels
            .iter()
            .zip(&self.probabilities)
            .enumerate()
            .filter_map(|(r, (y, p))| Some((r, (*y)?, (*p)?)))
    }
}

/// Scores customers with an artifact held as `A` (see [`ArtifactRef`]).
#[derive(Debug, Clone)]
pub struct Scorer<A: ArtifactRef> {
    artifact: A,
    base_rate: f64,
    /// The model's trees laid out for single-row scoring (same values, fewer cache misses).
    packed: Option<PackedModel>,
    /// The field names a JSON record is read by.
    keys: RecordKeys,
}

impl<A: ArtifactRef> Scorer<A> {
    /// A scorer for `artifact`.
    pub fn new(artifact: A) -> Self {
        let base_rate = artifact.metrics.calibrated_cv.positive_rate;
        let packed = artifact.model.pack();
        let keys = RecordKeys::new(&artifact);
        Scorer {
            artifact,
            base_rate,
            packed,
            keys,
        }
    }

    /// The holder of the artifact (to share it: clone an `Rc`/`Arc`).
    pub fn holder(&self) -> &A {
        &self.artifact
    }

    /// The artifact behind this scorer.
    pub fn artifact(&self) -> &Artifact {
        &self.artifact
    }

    /// Names of the raw input fields, in the order [`Scorer::score_values`] expects.
    pub fn input_names(&self) -> impl Iterator<Item = &str> {
        self.artifact.pipeline.input_names()
    }

    /// Calibrated probability for an already-transformed feature row.
    pub fn probability_of_features(&self, features: &[f64]) -> f64 {
        let model = &self.artifact.model;
        self.artifact
            .calibration
            .apply(model.predict_proba_packed(self.packed.as_ref(), features))
    }

    /// Turns a probability into a decision and a band.
    pub fn decide(&self, probability: f64) -> Score {
        let decision = probability >= self.artifact.threshold;
        let risk_band = if decision {
            RiskBand::High
        } else if probability >= self.base_rate {
            RiskBand::Medium
        } else {
            RiskBand::Low
        };
        Score {
            probability,
            decision,
            risk_band,
        }
    }

    /// Scores one customer from raw values aligned with [`Scorer::input_names`]. `row` only
    /// labels error messages.
    pub fn score_values(
        &self,
        values: &[Value<'_>],
        snapshot: Option<f64>,
        row: usize,
    ) -> Result<Score> {
        let mut features = vec![0.0; self.artifact.pipeline.n_features()];
        self.artifact
            .pipeline
            .transform_values(values, snapshot, row, &mut features)?;
        Ok(self.decide(self.probability_of_features(&features)))
    }

    /// The field names JSON records are read by (inputs, time column, target, id field).
    pub fn keys(&self) -> &RecordKeys {
        &self.keys
    }

    /// Reads one customer from JSON text in one pass (see [`crate::serve::record`]): the one
    /// reading of a JSON record. Numbers may be JSON numbers or numeric strings, categories
    /// strings; `null`, an absent field or an NA token is missing.
    pub fn read_json<'r>(
        &self,
        json: &'r [u8],
    ) -> core::result::Result<Record<'r>, serde_json::Error> {
        self.keys.read_json(json)
    }

    /// Reads one customer from a parsed JSON object, with the same reader as
    /// [`Scorer::read_json`].
    pub fn read_map<'r>(
        &self,
        record: &'r serde_json::Map<String, serde_json::Value>,
    ) -> core::result::Result<Record<'r>, serde_json::Error> {
        self.keys.read_map(record)
    }

    /// The inputs of `record` that cannot be read as a value at all (an array or an object),
    /// each naming its field, in the model's field order.
    pub fn record_errors(&self, record: &Record<'_>) -> Vec<FieldError> {
        self.artifact
            .pipeline
            .inputs
            .iter()
            .zip(record.fields())
            .filter_map(|(input, field)| {
                // The kind first: the name is copied only for a field in error (this runs for
                // every input of every request).
                let kind = field.nested_kind()?;
                Some(FieldError {
                    field: input.name.clone(),
                    message: format!("expected a number, string or null, got {kind}"),
                })
            })
            .collect()
    }

    /// Scores one customer given as a JSON object of raw fields named as in the training file
    /// (read by [`Scorer::read_map`]). Every problem is reported, not just the first.
    pub fn score_json(
        &self,
        record: &serde_json::Map<String, serde_json::Value>,
    ) -> core::result::Result<Score, Vec<FieldError>> {
        match self.read_map(record) {
            Ok(record) => self.score_record(&record),
            Err(e) => Err(vec![FieldError {
                field: String::new(),
                message: e.to_string(),
            }]),
        }
    }

    /// Scores one customer read by [`Scorer::read_json`] or [`Scorer::read_map`]. Every problem
    /// is reported, not just the first.
    pub fn score_record(
        &self,
        record: &Record<'_>,
    ) -> core::result::Result<Score, Vec<FieldError>> {
        let mut features = vec![0.0; self.artifact.pipeline.n_features()];
        self.score_record_into(record, &mut features)
    }

    /// [`Scorer::score_record`], leaving the model features of the customer in `features`
    /// (length [`crate::features::FittedPipeline::n_features`]) for an explanation to reuse.
    pub fn score_record_into(
        &self,
        record: &Record<'_>,
        features: &mut [f64],
    ) -> core::result::Result<Score, Vec<FieldError>> {
        let values = record.values();
        let snapshot = record.snapshot();
        let mut errors = self.record_errors(record);
        if errors.is_empty() {
            match self
                .artifact
                .pipeline
                .transform_values(&values, snapshot, 0, features)
            {
                Ok(()) => return Ok(self.decide(self.probability_of_features(features))),
                Err(Error::BadValue { .. }) => {}
                Err(e) => {
                    return Err(vec![FieldError {
                        field: String::new(),
                        message: e.to_string(),
                    }])
                }
            }
        }
        // Something is wrong: check each field alone so the caller sees every problem at once.
        let mut scratch = vec![0.0; self.artifact.pipeline.n_features()];
        let mut single = vec![Value::Missing; values.len()];
        for (i, input) in self.artifact.pipeline.inputs.iter().enumerate() {
            single[i] = values[i];
            if let Err(Error::BadValue {
                value, expected, ..
            }) = self
                .artifact
                .pipeline
                .transform_values(&single, snapshot, 0, &mut scratch)
            {
                errors.push(FieldError {
                    field: input.name.clone(),
                    message: format!("`{value}` is not a valid {expected}"),
                });
            }
            single[i] = Value::Missing;
        }
        // Report problems in the model's field order, whatever check found them.
        let position = |field: &str| {
            self.artifact
                .pipeline
                .inputs
                .iter()
                .position(|c| c.name == field)
        };
        crate::order::sort_by_key(&mut errors, |e| position(&e.field));
        Err(errors)
    }

    /// Scores every row of a table. Rows whose values do not fit the schema get an `Err` naming
    /// the row and column; they are reported, never silently skipped. With the `parallel`
    /// feature rows are scored on all cores with identical results.
    pub fn score_table(&self, table: &Table) -> Result<Vec<Result<Score>>> {
        let pipeline = &self.artifact.pipeline;
        let indices = pipeline.column_indices(table)?;
        let time_index = pipeline
            .time_column
            .as_deref()
            .and_then(|t| table.column_index(t));
        let width = pipeline.n_features();
        // Rows are transformed into one block, then the model scores the block tree by tree.
        let score_range = |range: core::ops::Range<usize>| -> Vec<Result<Score>> {
            let mut values = Vec::with_capacity(indices.len());
            let mut block = vec![0.0; range.len() * width];
            let mut status: Vec<Result<()>> = Vec::with_capacity(range.len());
            for (i, r) in range.clone().enumerate() {
                let features = &mut block[i * width..(i + 1) * width];
                values.clear();
                values.extend(indices.iter().map(|&c| table.value(r, c)));
                let snapshot = pipeline.row_snapshot(table, time_index, r);
                status.push(pipeline.transform_values(
                    &values,
                    snapshot,
                    table.source_row(r),
                    features,
                ));
            }
            let mut raw = vec![0.0; range.len()];
            self.artifact
                .model
                .predict_proba_block_packed(self.packed.as_ref(), &block, &mut raw);
            status
                .into_iter()
                .zip(raw)
                .map(|(ok, p)| ok.map(|()| self.decide(self.artifact.calibration.apply(p))))
                .collect()
        };
        const CHUNK: usize = 512;
        let n = table.n_rows();
        #[cfg(feature = "parallel")]
        {
            use rayon::prelude::*;
            let chunks: Vec<Vec<Result<Score>>> = (0..n.div_ceil(CHUNK))
                .into_par_iter()
                .map(|c| score_range(c * CHUNK..((c + 1) * CHUNK).min(n)))
                .collect();
            Ok(chunks.into_iter().flatten().collect())
        }
        #[cfg(not(feature = "parallel"))]
        {
            let _ = CHUNK;
            Ok(score_range(0..n))
        }
    }

    /// Scores every row of `table` and, as `labels` asks, reads its target through the one
    /// label mapping ([`crate::data::schema::TargetSpec::label`]): what evaluation, reports,
    /// monitoring and decisions all start from. Rows left out come with their reason.
    ///
    /// With [`Labels::Required`] it fails when the model or the table has no target column, when
    /// no row can be scored (with the first row's problem) and when no scored row has a label
    /// the model knows (naming the values the column holds and the two the model knows).
    pub fn score_rows(&self, table: &Table, labels: Labels) -> Result<ScoredRows> {
        let target = match labels {
            Labels::Ignore => None,
            Labels::IfPresent => self
                .artifact
                .schema
                .target
                .as_ref()
                .and_then(|t| table.column_index(&t.name).map(|c| (t, c))),
            Labels::Required => {
                let t = self
                    .artifact
                    .schema
                    .target
                    .as_ref()
                    .ok_or(Error::NoTarget)?;
                let c = table
                    .column_index(&t.name)
                    .ok_or_else(|| Error::MissingColumn {
                        column: t.name.clone(),
                    })?;
                Some((t, c))
            }
        };
        let required = labels == Labels::Required;
        let scores = self.score_table(table)?;
        let mut out = ScoredRows {
            probabilities: Vec::with_capacity(scores.len()),
            labels: Vec::new(),
            skipped: Vec::new(),
        };
        let mut first_error = None;
        for (r, score) in scores.into_iter().enumerate() {
            let label = target.map(|(t, c)| t.label(table.raw(r, c)));
            let skip = |reason: String| SkippedRow {
                row: table.source_row(r),
                reason,
            };
            match (&score, label, target) {
                (_, Some(None), Some((t, c))) if required => {
                    let raw = table.raw(r, c).trim();
                    out.skipped.push(skip(if crate::data::table::is_na(raw) {
                        format!("target `{}` is missing", t.name)
                    } else {
                        format!(
                            "target `{}`: `{raw}` is neither `{}` (churned) nor `{}` (stayed)",
                            t.name, t.positive, t.negative
                        )
                    }))
                }
                (Err(e), _, _) => out.skipped.push(skip(e.to_string())),
                _ => {}
            }
            if let Some(label) = label {
                out.labels.push(label);
            }
            out.probabilities.push(match score {
                Ok(s) => Some(s.probability),
                Err(e) => {
                    first_error.get_or_insert(e);
                    None
                }
            });
        }
        if let (true, Some((t, c))) = (required, target) {
            if out.labelled().next().is_none() {
                if out.scored().next().is_none() {
                    if let Some(e) = first_error {
                        return Err(e);
                    }
                }
                return Err(t.mismatch(&t.values_in(table.column(c))));
            }
        }
        Ok(out)
    }
}
