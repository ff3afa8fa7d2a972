//! The one scoring entry point. The CLI's batch scoring, the edge worker's `/v1/predict` and the
//! browser's what-if all go through a [`Scorer`] built from an artifact: raw fields → fitted
//! pipeline → model → calibration → decision at the artifact's threshold.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use serde::Serialize;

use crate::data::table::{Table, Value};
use crate::error::{Error, Result};
use crate::model::packed::PackedTrees;
use crate::serve::artifact::Artifact;

/// How worried to be about a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldError {
    /// The field's name.
    pub field: String,
    /// What is wrong, in words a caller can act on.
    pub message: String,
}

/// Scores customers with an artifact.
#[derive(Debug, Clone)]
pub struct Scorer {
    artifact: Artifact,
    base_rate: f64,
    /// The model's trees laid out for single-row scoring (same values, fewer cache misses).
    packed: Option<PackedTrees>,
}

impl Scorer {
    /// A scorer for `artifact`.
    pub fn new(artifact: Artifact) -> Self {
        let base_rate = artifact.metrics.calibrated_cv.positive_rate;
        let packed = artifact.model.pack();
        Scorer {
            artifact,
            base_rate,
            packed,
        }
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

    /// Scores one customer given as a JSON object of raw fields named as in the training file
    /// (numbers as numbers or numeric strings, categories as strings, `null` or absent for
    /// missing). Every problem is reported, not just the first.
    pub fn score_json(
        &self,
        record: &serde_json::Map<String, serde_json::Value>,
    ) -> core::result::Result<Score, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut values = Vec::with_capacity(self.artifact.pipeline.inputs.len());
        for input in &self.artifact.pipeline.inputs {
            let value = match record.get(&input.name) {
                None | Some(serde_json::Value::Null) => Value::Missing,
                Some(serde_json::Value::Number(n)) => match n.as_f64() {
                    Some(x) => Value::Number(x),
                    None => Value::Missing,
                },
                Some(serde_json::Value::Bool(b)) => Value::Bool(*b),
                Some(serde_json::Value::String(s)) => {
                    if crate::data::table::is_na(s) {
                        Value::Missing
                    } else {
                        Value::Text(s.as_str())
                    }
                }
                Some(other) => {
                    let what = if other.is_array() {
                        "an array"
                    } else {
                        "an object"
                    };
                    errors.push(FieldError {
                        field: input.name.clone(),
                        message: format!("expected a number, string or null, got {what}"),
                    });
                    Value::Missing
                }
            };
            values.push(value);
        }
        let snapshot = self
            .artifact
            .pipeline
            .time_column
            .as_ref()
            .and_then(|t| record.get(t))
            .and_then(|v| v.as_str())
            .and_then(crate::data::datetime::parse_datetime);
        if errors.is_empty() {
            match self.score_values(&values, snapshot, 0) {
                Ok(score) => return Ok(score),
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
        let mut features = vec![0.0; self.artifact.pipeline.n_features()];
        let mut single = vec![Value::Missing; values.len()];
        for (i, input) in self.artifact.pipeline.inputs.iter().enumerate() {
            single[i] = values[i];
            if let Err(Error::BadValue {
                value, expected, ..
            }) = self
                .artifact
                .pipeline
                .transform_values(&single, snapshot, 0, &mut features)
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
        errors.sort_by_key(|e| position(&e.field));
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
            self.artifact.model.predict_proba_block(&block, &mut raw);
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
}
