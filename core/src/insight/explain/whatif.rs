//! What-if: re-scoring an edited record, and the greedy search for the smallest change of
//! actionable fields that brings a customer under the decision threshold.

use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;

use super::{value_text, Explainer, Explanation, FieldChange, SuggestedChange, Suggestion, WhatIf};
use crate::data::schema::ColumnKind;
use crate::data::table::Value;
use crate::error::{Error, Result};
use crate::features::{CategoricalEncoder, Encoder};
use crate::serve::drift::{Bins, ColumnSketch};
use crate::serve::scorer::ArtifactRef;

impl<A: ArtifactRef> Explainer<A> {
    pub(super) fn feature_start(&self, input: usize) -> usize {
        self.sources.iter().position(|&s| s == input).unwrap_or(0)
    }

    /// Explains a record before and after replacing some of its values (`after` aligned with
    /// the pipeline's inputs like `before`).
    pub fn what_if(
        &self,
        before: &[Value<'_>],
        after: &[Value<'_>],
        snapshot: Option<f64>,
    ) -> Result<WhatIf> {
        let mut ws = self.workspace();
        let b = self.explain_with(before, snapshot, &mut ws)?;
        let a = self.explain_with(after, snapshot, &mut ws)?;
        let mut changes: Vec<FieldChange> = Vec::new();
        for (i, input) in self.artifact().pipeline.inputs.iter().enumerate() {
            let find = |e: &Explanation| {
                e.contributions
                    .iter()
                    .find(|c| c.column == input.name)
                    .map(|c| c.contribution)
                    .unwrap_or(0.0)
            };
            let (from, to) = (value_text(before[i]), value_text(after[i]));
            let (cb, ca) = (find(&b), find(&a));
            if from != to || cb != ca {
                changes.push(FieldChange {
                    column: input.name.clone(),
                    from,
                    to,
                    contribution_before: cb,
                    contribution_after: ca,
                });
            }
        }
        changes.sort_by(|x, y| {
            let dx = (x.contribution_after - x.contribution_before).abs();
            let dy = (y.contribution_after - y.contribution_before).abs();
            dy.total_cmp(&dx)
        });
        Ok(WhatIf {
            before: b,
            after: a,
            changes,
        })
    }

    /// Greedily searches for the smallest change of the `actionable` columns that brings the
    /// record's calibrated probability under the threshold.
    ///
    /// Candidate values come from the training reference: the decile edges of a number, both
    /// values of a boolean, the kept levels of a category (dates are not suggested). Each round
    /// tries every candidate of every actionable column not yet changed; if some single change
    /// gets under the threshold, the one with the smallest size wins (for numbers the share of
    /// training customers between the old and the new value, for any other change 1), else the
    /// change that lowers the probability most is kept and the search goes on. It stops when no
    /// candidate lowers the probability. Greedy: a smaller combination may exist.
    pub fn suggest(
        &self,
        values: &[Value<'_>],
        snapshot: Option<f64>,
        actionable: &[&str],
    ) -> Result<Suggestion> {
        let pipeline = &self.artifact().pipeline;
        let threshold = self.artifact().threshold;
        let mut columns = Vec::with_capacity(actionable.len());
        for name in actionable {
            let i = pipeline
                .inputs
                .iter()
                .position(|c| c.name == *name)
                .ok_or_else(|| Error::MissingColumn {
                    column: name.to_string(),
                })?;
            if !columns.contains(&i) {
                columns.push(i);
            }
        }
        let mut features = vec![0.0; pipeline.n_features()];
        let mut score = |vals: &[Value<'_>]| -> Result<f64> {
            pipeline.transform_values(vals, snapshot, 0, &mut features)?;
            Ok(self.probability_of(&features))
        };
        let mut current: Vec<Value<'_>> = values.to_vec();
        let before = score(&current)?;
        let mut probability = before;
        let mut changes = Vec::new();
        let candidates: Vec<Vec<Value<'_>>> = columns.iter().map(|&i| self.candidates(i)).collect();
        let mut open: Vec<usize> = (0..columns.len()).collect();
        while probability >= threshold && !open.is_empty() {
            // (size, probability, open slot, candidate) of the best crossing and best drop.
            let mut best_cross: Option<(f64, f64, usize, Value<'_>)> = None;
            let mut best_drop: Option<(f64, f64, usize, Value<'_>)> = None;
            for (slot, &k) in open.iter().enumerate() {
                let col = columns[k];
                let old = current[col];
                for &cand in &candidates[k] {
                    if value_text(cand) == value_text(old) {
                        continue;
                    }
                    current[col] = cand;
                    let p = score(&current)?;
                    current[col] = old;
                    let size = self.change_size(col, old, cand);
                    if p < threshold {
                        if best_cross.is_none_or(|(s, q, ..)| (size, p) < (s, q)) {
                            best_cross = Some((size, p, slot, cand));
                        }
                    } else if p < probability && best_drop.is_none_or(|(_, q, ..)| p < q) {
                        best_drop = Some((size, p, slot, cand));
                    }
                }
            }
            let Some((_, p, slot, cand)) = best_cross.or(best_drop) else {
                break;
            };
            let col = columns[open.remove(slot)];
            changes.push(SuggestedChange {
                column: pipeline.inputs[col].name.clone(),
                from: value_text(current[col]),
                to: value_text(cand),
                probability_after: p,
            });
            current[col] = cand;
            probability = p;
        }
        Ok(Suggestion {
            probability_before: before,
            probability_after: probability,
            threshold,
            reached: probability < threshold,
            changes,
        })
    }

    fn sketch(&self, input: usize) -> Option<&ColumnSketch> {
        let name = &self.artifact().pipeline.inputs.get(input)?.name;
        self.artifact()
            .reference
            .columns
            .get(input)
            .filter(|s| &s.name == name)
    }

    fn candidates(&self, input: usize) -> Vec<Value<'_>> {
        let Some(column) = self.artifact().pipeline.inputs.get(input) else {
            return Vec::new();
        };
        match column.kind {
            ColumnKind::Boolean => vec![Value::Bool(false), Value::Bool(true)],
            ColumnKind::Numeric => match self.sketch(input).map(|s| &s.bins) {
                Some(Bins::Numeric { upper_edges }) => {
                    upper_edges.iter().map(|&e| Value::Number(e)).collect()
                }
                _ => Vec::new(),
            },
            ColumnKind::Categorical => match &column.encoder {
                Encoder::Categorical(CategoricalEncoder::OneHot { levels, .. })
                | Encoder::Categorical(CategoricalEncoder::Encoded { levels, .. })
                | Encoder::Categorical(CategoricalEncoder::Codes { levels }) => {
                    levels.iter().map(|l| Value::Text(l.as_str())).collect()
                }
                Encoder::Numeric(_) => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    fn change_size(&self, input: usize, old: Value<'_>, new: Value<'_>) -> f64 {
        let numeric =
            self.artifact().pipeline.inputs.get(input).map(|c| c.kind) == Some(ColumnKind::Numeric);
        let (Some(sketch), true) = (self.sketch(input), numeric) else {
            return 1.0;
        };
        let rank = |v: Value<'_>| -> Option<f64> {
            let x = match v {
                Value::Number(x) => x,
                Value::Text(t) => crate::data::table::parse_number(t)?,
                Value::Bool(b) => f64::from(u8::from(b)),
                Value::Missing => return None,
            };
            let Bins::Numeric { upper_edges } = &sketch.bins else {
                return None;
            };
            let present = sketch.present.max(1) as f64;
            let bin = upper_edges.partition_point(|&e| e < x);
            let below: u64 = sketch.counts.iter().take(bin).sum();
            let inside = sketch.counts.get(bin).copied().unwrap_or(0);
            Some((below as f64 + 0.5 * inside as f64) / present)
        };
        match (rank(old), rank(new)) {
            (Some(a), Some(b)) => (a - b).abs(),
            _ => 1.0,
        }
    }
}
