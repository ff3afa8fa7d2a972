//! What-if on one customer record, as `ebb whatif` and the dashboard's What-if view run it:
//! apply edits to the record, explain it before and after, and (separately, as it is the slow
//! part) search for the smallest change of the actionable fields that brings it under the
//! threshold. Also the form a model's schema gives a blank what-if: each input with the range
//! or the values the artifact knows for it.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::data::schema::ColumnKind;
use crate::data::table::Value;
use crate::error::{Error, Result};
use crate::features::{CategoricalEncoder, Encoder};
use crate::insight::explain::{Explainer, Explanation, FieldChange, Reason, Space, Suggestion};
use crate::serve::artifact::Artifact;
use crate::serve::drift::Bins;
use crate::serve::scorer::{ArtifactRef, RiskBand};

/// A customer as raw fields (what `--record` and `POST /v1/predict` take).
pub type Record = serde_json::Map<String, serde_json::Value>;

/// One field set to a new raw value (`None`: missing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Edit {
    pub field: String,
    pub value: Option<String>,
}

/// A record's score on one side of an edit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Side {
    /// Calibrated probability of churning.
    pub probability: f64,
    /// Whether it reaches the model's threshold.
    pub decision: bool,
    pub risk_band: RiskBand,
    /// The explained score (see `space`).
    pub raw_score: f64,
}

/// A record scored before and after some edits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhatIfReport {
    pub model_id: String,
    pub threshold: f64,
    /// Scale of the contributions and `raw_score`.
    pub space: Space,
    pub before: Side,
    pub after: Side,
    pub probability_change: f64,
    /// Fields whose value or contribution changed, largest change of contribution first.
    pub changes: Vec<FieldChange>,
    /// The edited record's top reasons.
    pub reasons: Vec<Reason>,
    /// Model inputs missing in the edited record (scored as missing).
    pub missing_fields: usize,
}

/// The greedy search's answer, with a sentence saying what it means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuggestReport {
    /// `None` when no actionable field was given.
    pub suggestion: Option<Suggestion>,
    pub note: String,
}

fn unknown_field(parameter: &'static str, field: &str, inputs: &[&str]) -> Error {
    Error::InvalidParameter {
        name: parameter.into(),
        message: format!(
            "unknown field `{field}`; the model's fields are: {}",
            inputs.join(", ")
        ),
    }
}

/// `record` with `edits` applied; an edit of a field the model does not read is an error
/// (reported as parameter `set`).
pub fn edited_record(artifact: &Artifact, record: &Record, edits: &[Edit]) -> Result<Record> {
    let inputs: Vec<&str> = artifact.pipeline.input_names().collect();
    let mut edited = record.clone();
    for edit in edits {
        let field = edit.field.trim();
        if !inputs.contains(&field) {
            return Err(unknown_field("set", field, &inputs));
        }
        let value = match &edit.value {
            Some(v) if !crate::data::table::is_na(v) => serde_json::Value::String(v.clone()),
            _ => serde_json::Value::Null,
        };
        edited.insert(field.to_string(), value);
    }
    Ok(edited)
}

fn side(e: &Explanation, explainer: &Explainer<impl ArtifactRef>) -> Side {
    Side {
        probability: e.probability,
        decision: e.decision,
        risk_band: explainer.scorer().decide(e.probability).risk_band,
        raw_score: e.raw_score,
    }
}

/// Explains `record` before and after `edits` (both at the original record's snapshot date),
/// with the edited record's `top` reasons.
pub fn what_if<A: ArtifactRef>(
    explainer: &Explainer<A>,
    record: &Record,
    edits: &[Edit],
    top: usize,
) -> Result<WhatIfReport> {
    let artifact = explainer.artifact();
    let edited = edited_record(artifact, record, edits)?;
    let before = explainer.read_map(record)?;
    let edited = explainer.read_map(&edited)?;
    let after = edited.values();
    let w = explainer.what_if(&before.values(), &after, before.snapshot())?;
    Ok(WhatIfReport {
        model_id: artifact.model_id.clone(),
        threshold: artifact.threshold,
        space: w.after.space,
        before: side(&w.before, explainer),
        after: side(&w.after, explainer),
        probability_change: w.after.probability - w.before.probability,
        reasons: w.after.top_reasons(top),
        changes: w.changes,
        missing_fields: after.iter().filter(|v| matches!(v, Value::Missing)).count(),
    })
}

/// The smallest change of the `actionable` fields found to bring the edited record under the
/// threshold ([`Explainer::suggest`]); unknown fields are an error (parameter `actionable`).
pub fn suggest<A: ArtifactRef>(
    explainer: &Explainer<A>,
    record: &Record,
    edits: &[Edit],
    actionable: &[String],
) -> Result<SuggestReport> {
    let artifact = explainer.artifact();
    let inputs: Vec<&str> = artifact.pipeline.input_names().collect();
    if let Some(field) = actionable.iter().find(|f| !inputs.contains(&f.as_str())) {
        return Err(unknown_field("actionable", field, &inputs));
    }
    if actionable.is_empty() {
        return Ok(SuggestReport {
            suggestion: None,
            note: "no actionable fields were given (use --actionable field1,field2)".to_string(),
        });
    }
    let edited = edited_record(artifact, record, edits)?;
    let edited = explainer.read_map(&edited)?;
    let fields: Vec<&str> = actionable.iter().map(String::as_str).collect();
    let s = explainer.suggest(&edited.values(), edited.snapshot(), &fields)?;
    let note = if s.probability_before < s.threshold {
        "the customer is already under the threshold".to_string()
    } else if s.reached {
        format!(
            "changing {} field(s) brings the customer under the threshold",
            s.changes.len()
        )
    } else {
        "no change of the actionable fields found brings the customer under the threshold"
            .to_string()
    };
    Ok(SuggestReport {
        suggestion: Some(s),
        note,
    })
}

/// An error about a single record in terms of its fields (core's row number means nothing
/// for one record); `None` when it is not about a field's value.
pub fn field_error(e: &Error) -> Option<String> {
    match e {
        Error::BadValue {
            column,
            value,
            expected,
            ..
        } => Some(format!(
            "field `{column}`: `{value}` is not a valid {expected}"
        )),
        _ => None,
    }
}

/// Where a number field's range comes from: the artifact keeps no minimum or maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RangeFrom {
    /// The pipeline's clip bounds (the 0.1% and 99.9% training quantiles): the model reads
    /// any value beyond them as the bound, so the range covers every distinct answer.
    ClipBounds,
    /// The drift reference's lowest and highest decile edges (no clipping was fitted).
    DecileEdges,
}

/// How a form shows one model input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldForm {
    /// A number: a slider over `low..=high` (when known) and a free number box. `edges` are
    /// the training decile edges.
    Number {
        range: Option<(f64, f64, RangeFrom)>,
        edges: Vec<f64>,
    },
    /// One of the levels the model kept (others are scored as `other`).
    Choice {
        levels: Vec<String>,
    },
    Boolean,
    /// A date (its age in days at the snapshot date is what the model reads).
    Date,
}

/// One input of the model, as a what-if form asks for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormField {
    pub name: String,
    pub form: FieldForm,
}

/// The form of a blank what-if: every model input, in the pipeline's order.
pub fn form_fields(artifact: &Artifact) -> Vec<FormField> {
    let pipeline = &artifact.pipeline;
    pipeline
        .inputs
        .iter()
        .enumerate()
        .map(|(i, input)| {
            let sketch = artifact
                .reference
                .columns
                .get(i)
                .filter(|s| s.name == input.name);
            let form = match (input.kind, &input.encoder) {
                (ColumnKind::Boolean, _) => FieldForm::Boolean,
                (ColumnKind::Datetime, _) => FieldForm::Date,
                (
                    _,
                    Encoder::Categorical(
                        CategoricalEncoder::OneHot { levels, .. }
                        | CategoricalEncoder::Encoded { levels, .. }
                        | CategoricalEncoder::Codes { levels },
                    ),
                ) => FieldForm::Choice {
                    levels: levels.clone(),
                },
                (_, Encoder::Numeric(e)) => {
                    let edges = match sketch.map(|s| &s.bins) {
                        Some(Bins::Numeric { upper_edges }) => upper_edges.clone(),
                        _ => Vec::new(),
                    };
                    // f64::MIN / MAX are the "no clipping" sentinels.
                    let clipped = e.clip_low > f64::MIN && e.clip_high < f64::MAX;
                    let range = if clipped && e.clip_low < e.clip_high {
                        Some((e.clip_low, e.clip_high, RangeFrom::ClipBounds))
                    } else {
                        match (edges.first(), edges.last()) {
                            (Some(&lo), Some(&hi)) if lo < hi => {
                                Some((lo, hi, RangeFrom::DecileEdges))
                            }
                            _ => None,
                        }
                    };
                    FieldForm::Number { range, edges }
                }
            };
            FormField {
                name: input.name.clone(),
                form,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::synth::{generate_table, SynthParams};
    use crate::model::family::Family;
    use crate::progress::Reporter;
    use crate::train::TrainParams;
    use crate::workflow::{prepare, train, PrepareOptions, RunInfo};

    fn artifact() -> Artifact {
        let table =
            generate_table(&SynthParams::default().with_n_customers(400).with_seed(3)).unwrap();
        let options = PrepareOptions {
            target: Some("churn".into()),
            require_target: true,
            ..PrepareOptions::default()
        };
        let prepared = prepare(table, String::new(), &options, &mut Reporter::silent()).unwrap();
        let mut params = TrainParams::default()
            .with_families(alloc::vec![Family::Gbdt])
            .with_folds(2)
            .with_seed(1);
        params.boost.n_trees = 10;
        params.boost.early_stopping_rounds = None;
        train(
            &prepared,
            &params,
            &RunInfo::default(),
            &|| None,
            &mut Reporter::silent(),
        )
        .unwrap()
        .artifact
    }

    #[test]
    fn edits_move_the_score_and_the_search_reports_on_the_edited_record() {
        let artifact = artifact();
        let explainer = Explainer::new(&artifact).unwrap();
        let fields = form_fields(&artifact);
        assert_eq!(fields.len(), artifact.pipeline.inputs.len());
        let record = Record::new();
        // A blank record: every input missing, and nothing changed.
        let blank = what_if(&explainer, &record, &[], 5).unwrap();
        assert_eq!(blank.missing_fields, fields.len());
        assert_eq!(blank.before, blank.after);
        assert_eq!(blank.probability_change, 0.0);
        // Each number set to its highest decile edge: the score moves, and `after` is what
        // the explainer gives the edited record itself.
        let edits: Vec<Edit> = fields
            .iter()
            .filter_map(|f| match &f.form {
                FieldForm::Number { edges, .. } => edges.last().map(|e| Edit {
                    field: f.name.clone(),
                    value: Some(format!("{e}")),
                }),
                _ => None,
            })
            .collect();
        assert!(!edits.is_empty());
        let w = what_if(&explainer, &record, &edits, 5).unwrap();
        let edited = edited_record(&artifact, &record, &edits).unwrap();
        let direct = explainer.explain_json(&edited).unwrap();
        assert_eq!(w.after.probability, direct.probability);
        assert_eq!(
            w.probability_change,
            w.after.probability - w.before.probability
        );
        assert!(w.reasons.len() <= 5);
        let actionable: Vec<String> = edits.iter().map(|e| e.field.clone()).collect();
        let s = suggest(&explainer, &record, &edits, &actionable).unwrap();
        let found = s.suggestion.unwrap();
        assert_eq!(found.probability_before, w.after.probability);
        assert!(found.changes.iter().all(|c| actionable.contains(&c.column)));
        assert!(suggest(&explainer, &record, &edits, &[])
            .unwrap()
            .suggestion
            .is_none());
    }

    #[test]
    fn unknown_fields_and_bad_values_are_named() {
        let artifact = artifact();
        let explainer = Explainer::new(&artifact).unwrap();
        let edit = |field: &str, value: &str| Edit {
            field: field.into(),
            value: Some(value.into()),
        };
        let e = what_if(&explainer, &Record::new(), &[edit("shoe_size", "42")], 5).unwrap_err();
        assert!(e.to_string().contains("unknown field `shoe_size`"), "{e}");
        let e = suggest(&explainer, &Record::new(), &[], &["shoe_size".into()]).unwrap_err();
        assert!(matches!(e, Error::InvalidParameter { ref name, .. } if name == "actionable"));
        let number = form_fields(&artifact)
            .into_iter()
            .find(|f| matches!(f.form, FieldForm::Number { .. }))
            .unwrap();
        let e = what_if(&explainer, &Record::new(), &[edit(&number.name, "lots")], 5).unwrap_err();
        assert_eq!(
            field_error(&e).unwrap(),
            format!("field `{}`: `lots` is not a valid number", number.name)
        );
    }
}
