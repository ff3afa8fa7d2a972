//! Why a customer got their score, and what would change it.
//!
//! This module owns exact Shapley-value explanations of every model family, their grouping back
//! to the customer's own input fields, readable reasons, table-wide importance and dependence
//! data, and the what-if tools (re-scoring an edited record, and a greedy search for the
//! smallest change of actionable fields that brings a customer under the decision threshold).
//!
//! # Which numbers are explained
//! - Gradient boosting: the raw log-odds score `base_score + Σ trees`. Each tree is explained
//!   with exact path-dependent TreeSHAP (Lundberg et al. 2018, Algorithm 2): the expectation of
//!   a tree given a subset of features follows the known features' branches and averages the
//!   others' by training cover (`Tree::cover`); missing values take `default_left`. The base
//!   value is `base_score` plus every tree's cover-weighted mean leaf value. Trees are
//!   explained by the `fast` submodule's exact quadrature form (same values up to rounding);
//!   Algorithm 2 remains for trees with a leaf of more than 32 distinct path features.
//! - Random forest: the forest's own output, the mean of the trees' leaf probabilities, in
//!   **probability space** ([`Space::Probability`]). The forest is additive in its trees only in
//!   that space, so this is the one space where the Shapley values are exact; mapping them to
//!   log-odds would need a non-additive rescaling, so none is made.
//! - Logistic regression: exact linear SHAP in log-odds space, `coef_j · (x_j − E[x_j])`, on
//!   the pipeline's features. `E[x_j]` is the training mean of what the model saw: 0 for every
//!   standard-scaled number (the pipeline centres on the mean of the clipped, imputed training
//!   values), the training missing rate for a missing indicator, the level's training share
//!   for a one-hot column, and the count-weighted mean of the stored level encodings for a
//!   target- or frequency-encoded column. Shares and rates come from the artifact's drift
//!   reference, which counts exactly those training rows, so no new artifact field is needed.
//!
//! Every explanation is additive: `base_value + Σ contributions = raw_score` up to rounding.
//! Contributions of model features are summed per input column
//! ([`FittedPipeline::feature_sources`]), so one-hot groups and missing indicators merge into
//! the field a user knows. The reported `probability` is the calibrated one the scorer gives;
//! calibration is monotone, so a contribution's direction is also its direction on the
//! probability.

use crate::data::table::{Table, Value};
use crate::error::{Error, Result};
use crate::features::{CategoricalEncoder, Encoder, FittedPipeline};
use crate::model::family::Model;
use crate::model::tree::Tree;
use crate::serve::artifact::Artifact;
use crate::serve::drift::ColumnSketch;
use crate::serve::record::{Field, Record};
use crate::serve::scorer::{ArtifactRef, Scorer};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
mod fast;
mod importance;
mod lookup;
mod treeshap;
mod types;
mod whatif;

use fast::{Buffers, FastTree, Rules};
pub use lookup::{find_row, FoundBy, FoundRow, LookupError};
use treeshap::{check_tree, tree_shap, PathElem, TreeInfo};
pub use types::*;

/// read from it per call), so an explainer can own its artifact and be cached with it.
enum Engine {
    Linear {
        intercept: f64,
        coefficients: Vec<f64>,
        means: Vec<f64>,
    },
    Trees {
        info: Vec<TreeInfo>,
        /// Per tree, its data for [`fast`] (`None`: the tree keeps Algorithm 2).
        fast: Vec<Option<FastTree>>,
        rules: Rules,
        /// Output = offset + scale · Σ trees.
        offset: f64,
        scale: f64,
    },
    /// An ensemble: `bias + Σ weight · member`, each member explained on its own slice of the
    /// features and its values scaled by its weight, so they stay exact and additive.
    Blend { bias: f64, parts: Vec<BlendPart> },
}

/// One member of an ensemble's explanation.
struct BlendPart {
    engine: Engine,
    /// The member's index in the ensemble (where its trees are).
    member: usize,
    /// Its features: `start..start + width` of the row.
    start: usize,
    width: usize,
    weight: f64,
}

impl Engine {
    /// Output = `offset + scale · Σ trees`.
    fn trees(trees: &[Tree], offset: f64, scale: f64) -> Self {
        let info: Vec<TreeInfo> = trees.iter().map(TreeInfo::new).collect();
        let rules = Rules::default();
        let fast = trees
            .iter()
            .zip(&info)
            .map(|(tree, info)| FastTree::new(tree, &info.left_share, &rules))
            .collect();
        Engine::Trees {
            info,
            fast,
            rules,
            offset,
            scale,
        }
    }
}

/// The engine of a single family's model (not an ensemble), reading `pipeline`'s features
/// (`sketches` give a linear model's feature means), and the space its output is in.
fn single_engine(
    model: &Model,
    pipeline: &FittedPipeline,
    sketches: &[ColumnSketch],
) -> (Engine, Space) {
    match model {
        Model::Logistic(m) => {
            let means = linear_means(pipeline, sketches);
            (
                Engine::Linear {
                    intercept: m.intercept,
                    coefficients: m.coefficients.clone(),
                    means,
                },
                Space::LogOdds,
            )
        }
        Model::Gbdt(m) => (Engine::trees(&m.trees, m.base_score, 1.0), Space::LogOdds),
        Model::Forest(m) => (
            Engine::trees(
                &m.trees,
                0.0,
                if m.trees.is_empty() {
                    0.0
                } else {
                    1.0 / m.trees.len() as f64
                },
            ),
            Space::Probability,
        ),
        Model::Ensemble(e) => {
            let mut parts = Vec::with_capacity(e.members.len());
            let mut start = 0;
            for (member, m) in e.members.iter().enumerate() {
                // Validation refuses nested ensembles; a member's own pipeline is the matching
                // slice of the ensemble's.
                let own = pipeline.member(member).unwrap_or_else(|| pipeline.clone());
                let (engine, _) = single_engine(&m.model, &own, sketches);
                let width = m.model.n_features();
                parts.push(BlendPart {
                    engine,
                    member,
                    start,
                    width,
                    weight: m.weight,
                });
                start += width;
            }
            (
                Engine::Blend {
                    bias: e.bias,
                    parts,
                },
                Space::LogOdds,
            )
        }
    }
}

/// Member `member` of `model` when it is an ensemble, else `model` itself.
fn member_model(model: &Model, member: usize) -> &Model {
    match model {
        Model::Ensemble(e) => e.members.get(member).map_or(model, |m| &m.model),
        _ => model,
    }
}

impl Engine {
    /// The expected output over the training data (the base value), the path buffer
    /// Algorithm 2 needs, and the fast path's (splits, rule points) capacities.
    fn sizes(&self) -> (f64, usize, (usize, usize)) {
        match self {
            Engine::Linear {
                intercept,
                coefficients,
                means,
            } => (
                intercept
                    + coefficients
                        .iter()
                        .zip(means)
                        .map(|(c, m)| c * m)
                        .sum::<f64>(),
                0,
                (0, 0),
            ),
            Engine::Trees {
                info,
                fast,
                offset,
                scale,
                ..
            } => {
                // Only trees off the fast path need Algorithm 2's path buffer.
                let depth = info
                    .iter()
                    .zip(fast)
                    .filter(|(_, f)| f.is_none())
                    .map(|(t, _)| t.depth)
                    .max();
                (
                    offset + scale * info.iter().map(|t| t.expected).sum::<f64>(),
                    // One path copy per recursion level, each at most depth + 2 long.
                    depth.map_or(0, |d| (d + 2) * (d + 3) / 2),
                    (
                        fast.iter()
                            .flatten()
                            .map(FastTree::n_slots)
                            .max()
                            .unwrap_or(0),
                        fast.iter()
                            .flatten()
                            .map(FastTree::points)
                            .max()
                            .unwrap_or(0),
                    ),
                )
            }
            Engine::Blend { bias, parts } => {
                let mut sizes = (*bias, 0, (0, 0));
                for part in parts {
                    let (base, path, (splits, points)) = part.engine.sizes();
                    sizes.0 += part.weight * base;
                    sizes.1 = sizes.1.max(path);
                    sizes.2 = (sizes.2 .0.max(splits), sizes.2 .1.max(points));
                }
                sizes
            }
        }
    }

    /// Shapley values of `features` into `phi` (zeroed by the caller), reading the trees of
    /// `model` (member by member for an ensemble); `with_raw`, also returns the raw output
    /// (else it may be 0), which costs one more walk of every tree.
    fn contributions(
        &self,
        model: &Model,
        features: &[f64],
        phi: &mut [f64],
        path: &mut [PathElem],
        buffers: &mut Buffers,
        with_raw: bool,
    ) -> f64 {
        match self {
            Engine::Linear {
                intercept,
                coefficients,
                means,
            } => {
                let mut raw = *intercept;
                for (((p, &c), &m), &x) in phi.iter_mut().zip(coefficients).zip(means).zip(features)
                {
                    *p = c * (x - m);
                    raw += c * x;
                }
                raw
            }
            Engine::Trees {
                info,
                fast,
                rules,
                offset,
                scale,
            } => {
                let mut sum = 0.0;
                for ((tree, info), fast) in model.trees().iter().zip(info).zip(fast) {
                    if with_raw {
                        sum += tree.predict(features);
                    }
                    match fast {
                        Some(fast) => fast.shap(rules, features, phi, buffers),
                        None => tree_shap(tree, info, features, phi, path),
                    }
                }
                phi.iter_mut().for_each(|p| *p *= scale);
                offset + scale * sum
            }
            Engine::Blend { bias, parts } => {
                let mut raw = *bias;
                for part in parts {
                    let range = part.start..part.start + part.width;
                    let phi = &mut phi[range.clone()];
                    let member = part.engine.contributions(
                        member_model(model, part.member),
                        &features[range],
                        phi,
                        path,
                        buffers,
                        with_raw,
                    );
                    phi.iter_mut().for_each(|p| *p *= part.weight);
                    raw += part.weight * member;
                }
                raw
            }
        }
    }
}

/// Reusable buffers for explaining one row at a time without allocating.
#[derive(Debug, Clone)]
pub struct Workspace {
    features: Vec<f64>,
    phi: Vec<f64>,
    columns: Vec<f64>,
    path: Vec<PathElem>,
    buffers: Buffers,
}

impl Workspace {
    /// Contributions per model feature of the last explained row.
    pub fn feature_contributions(&self) -> &[f64] {
        &self.phi
    }

    /// Contributions per input column of the last explained row.
    pub fn column_contributions(&self) -> &[f64] {
        &self.columns
    }
}

/// Explains scores of one artifact. Building it precomputes per-tree data once; explaining a
/// row then needs only a [`Workspace`]. It reads records, scores and decides through its
/// [`Scorer`], which holds the artifact as `A` ([`ArtifactRef`]): `&Artifact` for a one-off, or
/// an `Rc`/`Arc<Artifact>` shared with other users of the same model to keep a built
/// explainer, e.g. per model in the edge worker, since building the tables costs milliseconds.
pub struct Explainer<A: ArtifactRef> {
    scorer: Scorer<A>,
    engine: Engine,
    sources: Vec<usize>,
    base_value: f64,
    space: Space,
    path_capacity: usize,
    /// Nodes of the largest tree on the fast path, and the most rule points of any.
    fast_capacity: (usize, usize),
}

impl<A: ArtifactRef> Explainer<A> {
    /// An explainer for `artifact` (an error if its pipeline and model disagree on the number
    /// of features, which only a hand-edited file can cause).
    pub fn new(owner: A) -> Result<Self> {
        let scorer = Scorer::new(owner);
        let artifact = scorer.artifact();
        let pipeline = &artifact.pipeline;
        let n = pipeline.n_features();
        if artifact.model.n_features() != n {
            return Err(Error::Artifact {
                message: format!(
                    "the pipeline makes {n} features but the model expects {}: retrain the model",
                    artifact.model.n_features()
                ),
            });
        }
        match &artifact.model {
            Model::Ensemble(e) => e.members.iter().try_for_each(|m| {
                let width = m.model.n_features();
                m.model
                    .trees()
                    .iter()
                    .try_for_each(|t| check_tree(t, width))
            })?,
            model => model.trees().iter().try_for_each(|t| check_tree(t, n))?,
        }
        let (engine, space) = single_engine(&artifact.model, pipeline, &artifact.reference.columns);
        let (base_value, path_capacity, fast_capacity) = engine.sizes();
        let sources = pipeline.feature_sources();
        Ok(Explainer {
            scorer,
            engine,
            sources,
            base_value,
            space,
            path_capacity,
            fast_capacity,
        })
    }

    /// The artifact explained.
    pub fn artifact(&self) -> &Artifact {
        self.scorer.artifact()
    }

    /// The scorer this explainer reads records and scores through.
    pub fn scorer(&self) -> &Scorer<A> {
        &self.scorer
    }

    /// The expected model output over the training data.
    pub fn base_value(&self) -> f64 {
        self.base_value
    }

    /// The scale of the explanations.
    pub fn space(&self) -> Space {
        self.space
    }

    /// Fresh buffers sized for this artifact.
    pub fn workspace(&self) -> Workspace {
        Workspace {
            features: vec![0.0; self.sources.len()],
            phi: vec![0.0; self.sources.len()],
            columns: vec![0.0; self.artifact().pipeline.inputs.len()],
            path: vec![PathElem::default(); self.path_capacity],
            buffers: Buffers::with_capacity(self.fast_capacity.0, self.fast_capacity.1),
        }
    }

    /// Shapley values of an already-transformed feature row into `ws` (per feature and per
    /// input column); returns the raw model output. `features` must hold
    /// [`FittedPipeline::n_features`] values.
    pub fn explain_features(&self, features: &[f64], ws: &mut Workspace) -> Result<f64> {
        if features.len() != ws.phi.len() {
            return Err(Error::InvalidParameter {
                name: "features".into(),
                message: format!(
                    "expected {} model features, got {}",
                    ws.phi.len(),
                    features.len()
                ),
            });
        }
        Ok(self.contributions_into(features, ws, true))
    }

    /// Shapley values of `features` (of the right length) into `ws`; `with_raw`, also the raw
    /// model output (else 0), which costs one more walk of every tree.
    fn contributions_into(&self, features: &[f64], ws: &mut Workspace, with_raw: bool) -> f64 {
        ws.phi.fill(0.0);
        let model = &self.artifact().model;
        let raw = self.engine.contributions(
            model,
            features,
            &mut ws.phi,
            &mut ws.path,
            &mut ws.buffers,
            with_raw,
        );
        ws.columns.fill(0.0);
        for (&source, &p) in self.sources.iter().zip(&ws.phi) {
            ws.columns[source] += p;
        }
        raw
    }

    /// The `k` largest reasons for one customer: its raw `values` (aligned with the pipeline's
    /// inputs) and the model `features` the scorer made of them. The same reasons as
    /// `explain_values(values, snapshot)?.top_reasons(k)`, computed without the raw score and
    /// the text of every field, in the buffers of `ws` (so a server that keeps one allocates
    /// nothing per row in the kernel).
    pub fn top_reasons(
        &self,
        values: &[Value<'_>],
        features: &[f64],
        k: usize,
        ws: &mut Workspace,
    ) -> Result<Vec<Reason>> {
        let inputs = &self.artifact().pipeline.inputs;
        if features.len() != ws.phi.len() || values.len() != inputs.len() {
            return Err(Error::InvalidParameter {
                name: "features".into(),
                message: format!(
                    "expected {} values and {} model features, got {} and {}",
                    inputs.len(),
                    ws.phi.len(),
                    values.len(),
                    features.len()
                ),
            });
        }
        self.contributions_into(features, ws, false);
        // The order `Explanation::contributions` has (largest first, ties in field order), by
        // picking the next largest k times: no sort over every field.
        let columns = &ws.columns;
        let mut taken = vec![false; columns.len()];
        let mut order = Vec::with_capacity(k.min(columns.len()));
        while order.len() < k {
            let mut best: Option<usize> = None;
            for (i, c) in columns.iter().enumerate() {
                let eligible = !taken[i] && *c != 0.0 && c.is_finite();
                if eligible && best.is_none_or(|b| c.abs().total_cmp(&columns[b].abs()).is_gt()) {
                    best = Some(i);
                }
            }
            let Some(i) = best else { break };
            taken[i] = true;
            order.push(i);
        }
        Ok(order
            .into_iter()
            .map(|i| {
                types::reason(
                    &Contribution {
                        column: inputs[i].name.clone(),
                        value_text: value_text(values[i]),
                        contribution: columns[i],
                    },
                    self.space,
                )
            })
            .collect())
    }

    /// Transforms raw values (aligned with the pipeline's inputs) and explains them into `ws`;
    /// returns the raw model output.
    pub fn explain_values_into(
        &self,
        values: &[Value<'_>],
        snapshot: Option<f64>,
        ws: &mut Workspace,
    ) -> Result<f64> {
        let mut features = core::mem::take(&mut ws.features);
        let transformed =
            self.artifact()
                .pipeline
                .transform_values(values, snapshot, 0, &mut features);
        let result = transformed.and_then(|()| self.explain_features(&features, ws));
        ws.features = features;
        result
    }

    /// Explains one customer given as raw values aligned with the pipeline's inputs.
    pub fn explain_values(
        &self,
        values: &[Value<'_>],
        snapshot: Option<f64>,
    ) -> Result<Explanation> {
        let mut ws = self.workspace();
        self.explain_with(values, snapshot, &mut ws)
    }

    fn explain_with(
        &self,
        values: &[Value<'_>],
        snapshot: Option<f64>,
        ws: &mut Workspace,
    ) -> Result<Explanation> {
        let raw = self.explain_values_into(values, snapshot, ws)?;
        let probability = self.probability_of(&ws.features);
        let mut contributions: Vec<Contribution> = self
            .artifact()
            .pipeline
            .inputs
            .iter()
            .zip(values)
            .zip(&ws.columns)
            .map(|((input, &value), &contribution)| Contribution {
                column: input.name.clone(),
                value_text: value_text(value),
                contribution,
            })
            .collect();
        contributions.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
        Ok(Explanation {
            space: self.space,
            base_value: self.base_value,
            raw_score: raw,
            probability,
            decision: self.scorer.decide(probability).decision,
            contributions,
        })
    }

    fn probability_of(&self, features: &[f64]) -> f64 {
        self.scorer.probability_of_features(features)
    }

    /// A JSON object of raw fields read by the scorer ([`Scorer::read_map`]); an array or
    /// object in an input is an error naming the first such field.
    pub fn read_map<'r>(
        &self,
        record: &'r serde_json::Map<String, serde_json::Value>,
    ) -> Result<Record<'r>> {
        let read = self.scorer.read_map(record).map_err(|e| Error::Artifact {
            message: e.to_string(),
        })?;
        self.check_record(&read)?;
        Ok(read)
    }

    /// An error naming the first input of `record` that is an array or an object.
    fn check_record(&self, record: &Record<'_>) -> Result<()> {
        let inputs = &self.artifact().pipeline.inputs;
        match record
            .fields()
            .iter()
            .zip(inputs)
            .find_map(|(field, input)| match field {
                Field::Nested(v) => Some((v, input)),
                _ => None,
            }) {
            None => Ok(()),
            Some((value, input)) => Err(Error::BadValue {
                row: 0,
                value: value.to_string(),
                column: input.name.clone(),
                expected: "number, string or null".into(),
            }),
        }
    }

    /// Explains one customer given as a JSON object of raw fields (as the scorer accepts them).
    pub fn explain_json(
        &self,
        record: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Explanation> {
        let record = self.read_map(record)?;
        self.explain_values(&record.values(), record.snapshot())
    }

    /// Explains row `row` (0-based) of `table`; errors name the source row and column.
    pub fn explain_row(&self, table: &Table, row: usize) -> Result<Explanation> {
        let mut ws = self.workspace();
        let (values, snapshot) = self.row_values(table, row)?;
        self.explain_with(&values, snapshot, &mut ws)
            .map_err(|e| with_row(e, table.source_row(row)))
    }

    fn row_values<'t>(
        &self,
        table: &'t Table,
        row: usize,
    ) -> Result<(Vec<Value<'t>>, Option<f64>)> {
        if row >= table.n_rows() {
            return Err(Error::InvalidParameter {
                name: "row".into(),
                message: format!("the table has {} rows, not {}", table.n_rows(), row + 1),
            });
        }
        let pipeline = &self.artifact().pipeline;
        let indices = pipeline.column_indices(table)?;
        let time_index = pipeline
            .time_column
            .as_deref()
            .and_then(|t| table.column_index(t));
        let values = indices.iter().map(|&c| table.value(row, c)).collect();
        Ok((values, pipeline.row_snapshot(table, time_index, row)))
    }
}

/// The number the model reads for a numeric-like column, unscaled (the linear pipeline's
/// standard scaling is undone; trees see the clipped value itself).
fn model_number(encoder: &Encoder, feature: f64) -> Option<f64> {
    match encoder {
        Encoder::Numeric(e) if !feature.is_nan() => Some(feature * e.scale + e.mean),
        _ => None,
    }
}

fn with_row(error: Error, row: usize) -> Error {
    match error {
        Error::BadValue {
            column,
            value,
            expected,
            ..
        } => Error::BadValue {
            row,
            column,
            value,
            expected,
        },
        other => other,
    }
}

/// A raw value as a user would write it.
pub fn value_text(value: Value<'_>) -> String {
    match value {
        Value::Missing => "missing".to_string(),
        Value::Number(x) => format!("{x}"),
        Value::Bool(b) => b.to_string(),
        Value::Text(t) => t.trim().to_string(),
    }
}

/// Training means of the linear model's features (see the module docs).
fn linear_means(pipeline: &FittedPipeline, sketches: &[ColumnSketch]) -> Vec<f64> {
    let mut means = Vec::with_capacity(pipeline.n_features());
    for (i, input) in pipeline.inputs.iter().enumerate() {
        // A reference that does not line up with the inputs (never written by `train`) falls
        // back to zero means: still exact and additive, only the base value moves.
        let sketch = sketches.get(i).filter(|s| s.name == input.name);
        let total = sketch.map_or(0.0, |s| (s.present + s.missing) as f64);
        let share = |count: u64| {
            if total > 0.0 {
                count as f64 / total
            } else {
                0.0
            }
        };
        let count = |bin: usize| sketch.and_then(|s| s.counts.get(bin)).copied().unwrap_or(0);
        let missing = sketch.map_or(0, |s| s.missing);
        match &input.encoder {
            Encoder::Numeric(e) => {
                means.push(0.0);
                if e.missing_indicator {
                    means.push(share(missing));
                }
            }
            Encoder::Categorical(CategoricalEncoder::OneHot {
                levels,
                other_column,
                missing_indicator,
            }) => {
                means.extend((0..levels.len()).map(|b| share(count(b))));
                if *other_column {
                    means.push(share(count(levels.len())));
                }
                if *missing_indicator {
                    means.push(share(missing));
                }
            }
            Encoder::Categorical(CategoricalEncoder::Encoded {
                levels,
                values,
                missing_value,
            }) => {
                let mut m = share(missing) * missing_value;
                for (b, v) in values.iter().enumerate().take(levels.len() + 1) {
                    m += share(count(b)) * v;
                }
                means.push(m);
            }
            // Level codes feed only trees, which need no means.
            Encoder::Categorical(CategoricalEncoder::Codes { .. }) => means.push(0.0),
        }
    }
    means
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::quality::{report, split_quarantine};
    use crate::data::schema::{infer, InferOptions};
    use crate::data::synth::{generate_table, SynthParams};
    use crate::model::family::Family;
    use crate::model::tree::LEAF;
    use crate::rng::Rng;
    use crate::serve::artifact::TrainingMetadata;
    use crate::train::{train, TrainParams};
    use proptest::prelude::*;
    use std::sync::OnceLock;

    /// A small trained artifact of one family and its clean training table (trained once per
    /// family and shared by the tests).
    fn trained(family: Family) -> &'static (Artifact, Table) {
        static CACHE: [OnceLock<(Artifact, Table)>; 3] =
            [OnceLock::new(), OnceLock::new(), OnceLock::new()];
        let slot = Family::ALL.iter().position(|&f| f == family).unwrap();
        CACHE[slot].get_or_init(|| {
            let table =
                generate_table(&SynthParams::default().with_n_customers(500).with_seed(3)).unwrap();
            let inference = infer(&table, &InferOptions::default()).unwrap();
            let quality = report(&table, &inference.schema);
            let (clean, _) = split_quarantine(table, &quality);
            let mut params = TrainParams::default()
                .with_families(vec![family])
                .with_folds(2)
                .with_seed(5);
            params.boost.n_trees = 40;
            params.forest.n_trees = 15;
            let out = train(
                &clean,
                &inference.schema,
                &params,
                &mut crate::progress::Reporter::silent(),
                &|| None,
            )
            .unwrap();
            let metadata = TrainingMetadata {
                rows: clean.n_rows(),
                quarantined_rows: 0,
                seed: 5,
                data_hash: String::new(),
                created_at: String::new(),
                ebb_version: String::new(),
                feature_names: Vec::new(),
            };
            let artifact = out.into_artifact(inference.schema, metadata).unwrap();
            (artifact, clean)
        })
    }

    fn model_raw(model: &Model, features: &[f64]) -> f64 {
        match model {
            Model::Logistic(m) => m.predict_raw(features),
            Model::Gbdt(m) => m.predict_raw(features),
            Model::Forest(m) => m.predict_proba(features),
            Model::Ensemble(m) => m.predict_raw(features),
        }
    }

    /// An ensemble of the three families' artifacts above (trained on the same table), with
    /// weights and a bias chosen here, saved and loaded again (so load validation passes it).
    fn blended() -> &'static Artifact {
        static CACHE: OnceLock<Artifact> = OnceLock::new();
        CACHE.get_or_init(|| {
            let parts: Vec<&Artifact> = Family::ALL.iter().map(|&f| &trained(f).0).collect();
            let pipelines: Vec<FittedPipeline> = parts.iter().map(|a| a.pipeline.clone()).collect();
            let members = parts
                .iter()
                .zip([0.6, 1.5, 0.5])
                .map(|(a, weight)| crate::model::ensemble::Member {
                    weight,
                    model: a.model.clone(),
                })
                .collect();
            let first = parts[0].clone();
            let artifact = Artifact::build(
                first.schema,
                FittedPipeline::blend_of(&pipelines).unwrap(),
                Model::Ensemble(crate::model::ensemble::EnsembleModel {
                    bias: -0.3,
                    members,
                }),
                first.calibration,
                first.threshold,
                first.metrics,
                first.reference,
                first.metadata,
            )
            .unwrap();
            Artifact::from_json(&artifact.to_json().unwrap()).unwrap()
        })
    }

    /// The ensemble's Shapley values are its members' raw-score values times their weights:
    /// they add up to the blend's raw score minus its base value, per member and in all.
    #[test]
    fn ensemble_explanations_are_the_weighted_sum_of_its_members() {
        let artifact = blended();
        let table = &trained(Family::Gbdt).1;
        let explainer = Explainer::new(artifact).unwrap();
        assert_eq!(explainer.space(), Space::LogOdds);
        let singles: Vec<Explainer<&Artifact>> = Family::ALL
            .iter()
            .map(|&f| Explainer::new(&trained(f).0).unwrap())
            .collect();
        let weights = [0.6, 1.5, 0.5];
        let expected_base = -0.3
            + singles
                .iter()
                .zip(weights)
                .map(|(e, w)| w * e.base_value())
                .sum::<f64>();
        assert!((explainer.base_value() - expected_base).abs() < 1e-9);
        let (x, _) = artifact.pipeline.transform_table(table).unwrap();
        let scorer = Scorer::new(artifact);
        for r in (0..table.n_rows()).step_by(20) {
            let e = explainer.explain_row(table, r).unwrap();
            let features = x.row(r).to_vec();
            assert_additive(artifact, &e, &features);
            // The served probability is the calibrated blend of the same features.
            let served = scorer.score_table(table).unwrap()[r]
                .as_ref()
                .unwrap()
                .probability;
            assert_eq!(e.probability.to_bits(), served.to_bits());
            for c in &e.contributions {
                let by_members: f64 = singles
                    .iter()
                    .zip(weights)
                    .map(|(s, w)| {
                        let single = s.explain_row(table, r).unwrap();
                        let found = single.contributions.iter().find(|d| d.column == c.column);
                        w * found.unwrap().contribution
                    })
                    .sum();
                assert!(
                    (c.contribution - by_members).abs() < 1e-9,
                    "{}: {} vs {by_members}",
                    c.column,
                    c.contribution
                );
            }
        }
    }

    /// `ebb train`'s small-table gbdt averages symmetric trees into its leaf-wise ones (one
    /// model, values halved): explained exactly like any gbdt.
    #[test]
    fn the_averaged_small_table_gbdt_is_explained_exactly() {
        let (artifact, table) = trained(Family::Gbdt);
        let Model::Gbdt(model) = &artifact.model else {
            panic!("gbdt expected")
        };
        let member = crate::train::SMALL_TABLE_MEMBER_ROUNDS;
        assert_eq!(model.trees.len(), model.best_iteration + member);
        let explainer = Explainer::new(artifact).unwrap();
        let (x, _) = artifact.pipeline.transform_table(table).unwrap();
        for r in (0..table.n_rows()).step_by(25) {
            let e = explainer.explain_row(table, r).unwrap();
            assert_additive(artifact, &e, &x.row(r).to_vec());
        }
    }

    fn assert_additive(artifact: &Artifact, e: &Explanation, features: &[f64]) {
        let raw = model_raw(&artifact.model, features);
        let sum: f64 = e.contributions.iter().map(|c| c.contribution).sum();
        assert!(
            (e.base_value + sum - raw).abs() < 1e-6 && (e.raw_score - raw).abs() < 1e-9,
            "base {} + sum {} != raw {} ({:?})",
            e.base_value,
            sum,
            raw,
            artifact.family()
        );
    }

    /// Shapley values by definition: every subset of features, each valued by the tree's
    /// cover-weighted expectation given that subset (Algorithm 1 of the paper).
    fn brute_force(tree: &Tree, x: &[f64], n_features: usize) -> Vec<f64> {
        let info = TreeInfo::new(tree);
        fn expect(tree: &Tree, info: &TreeInfo, x: &[f64], known: u32, node: usize) -> f64 {
            let f = tree.feature[node];
            if f == LEAF {
                return tree.value[node];
            }
            let (l, r) = (tree.left[node] as usize, tree.right[node] as usize);
            if known & (1 << f) != 0 {
                let v = x[f as usize];
                let left = tree.goes_left(node, v);
                expect(tree, info, x, known, if left { l } else { r })
            } else {
                let s = info.left_share[node];
                s * expect(tree, info, x, known, l) + (1.0 - s) * expect(tree, info, x, known, r)
            }
        }
        let fact = |k: usize| (1..=k).map(|i| i as f64).product::<f64>();
        let m = n_features;
        let mut phi = vec![0.0; m];
        for (i, p) in phi.iter_mut().enumerate() {
            for subset in 0u32..(1 << m) {
                if subset & (1 << i) != 0 {
                    continue;
                }
                let size = subset.count_ones() as usize;
                let weight = fact(size) * fact(m - size - 1) / fact(m);
                *p += weight
                    * (expect(tree, &info, x, subset | (1 << i), 0)
                        - expect(tree, &info, x, subset, 0));
            }
        }
        phi
    }

    /// Both TreeSHAP kernels give `brute_force`'s Shapley values of `x` to 1e-9, and they add
    /// up to the tree's prediction (local accuracy for the tree alone).
    fn assert_exact_for_tree(tree: &Tree, x: &[f64], m: usize, case: usize) {
        let exact = brute_force(tree, x, m);
        let phi = shap_of(tree, x);
        for (a, b) in phi.iter().zip(&exact) {
            assert!((a - b).abs() < 1e-9, "case {case}: {phi:?} vs {exact:?}");
        }
        let quick = fast_shap_of(tree, x).unwrap();
        for (a, b) in quick.iter().zip(&exact) {
            assert!((a - b).abs() < 1e-9, "case {case}: {quick:?} vs {exact:?}");
        }
        let sum: f64 = phi.iter().sum();
        assert!(
            (TreeInfo::new(tree).expected + sum - tree.predict(x)).abs() < 1e-9,
            "case {case}"
        );
    }

    /// A random tree over `n_features` features, with repeated features on paths, random
    /// missing directions and random (sometimes zero) covers.
    fn random_tree(rng: &mut Rng, n_features: usize, splits: usize) -> Tree {
        let mut tree = Tree::leaf(0.0, 100.0);
        let mut leaves = vec![0usize];
        for _ in 0..splits {
            let at = leaves.swap_remove(rng.below(leaves.len()));
            let cover = tree.cover[at];
            let share = if rng.chance(0.1) { 0.0 } else { rng.next_f64() };
            let (l, r) = tree.split(
                at,
                rng.below(n_features),
                rng.next_f64() * 2.0 - 1.0,
                rng.chance(0.5),
                (rng.normal(), cover * share),
                (rng.normal(), cover * (1.0 - share)),
            );
            leaves.push(l);
            leaves.push(r);
        }
        tree
    }

    fn shap_of(tree: &Tree, x: &[f64]) -> Vec<f64> {
        let info = TreeInfo::new(tree);
        let mut phi = vec![0.0; x.len()];
        let mut path = vec![PathElem::default(); (info.depth + 2) * (info.depth + 3) / 2];
        tree_shap(tree, &info, x, &mut phi, &mut path);
        phi
    }

    #[test]
    fn tree_shap_matches_brute_force_shapley_values() {
        let mut rng = Rng::new(17);
        for case in 0..300 {
            let m = 1 + rng.below(5);
            let splits = 1 + rng.below(12);
            let tree = random_tree(&mut rng, m, splits);
            let x: Vec<f64> = (0..m)
                .map(|_| {
                    if rng.chance(0.15) {
                        f64::NAN
                    } else {
                        rng.next_f64() * 2.0 - 1.0
                    }
                })
                .collect();
            assert_exact_for_tree(&tree, &x, m, case);
        }
    }

    #[test]
    fn tree_shap_is_exact_on_categorical_splits() {
        // Feature 0 holds level codes 0..6, split as sets (several times on a path, mixed with
        // numeric splits of the others); the exact kernel must still match brute force.
        let mut rng = Rng::new(29);
        for case in 0..200 {
            let m = 2 + rng.below(3);
            let splits = 1 + rng.below(6);
            let mut tree = random_tree(&mut rng, m, splits);
            for _ in 0..1 + rng.below(4) {
                let leaves: Vec<usize> = (0..tree.n_nodes()).filter(|&n| tree.is_leaf(n)).collect();
                let at = leaves[rng.below(leaves.len())];
                let levels: Vec<u32> = (0..6).filter(|_| rng.chance(0.4)).collect();
                if levels.is_empty() {
                    continue;
                }
                let cover = tree.cover[at];
                let share = rng.next_f64();
                tree.split_categorical(
                    at,
                    0,
                    levels,
                    rng.chance(0.5),
                    (rng.normal(), cover * share),
                    (rng.normal(), cover * (1.0 - share)),
                );
            }
            let mut x: Vec<f64> = (0..m).map(|_| rng.next_f64() * 2.0 - 1.0).collect();
            x[0] = if rng.chance(0.15) {
                f64::NAN
            } else {
                rng.below(6) as f64
            };
            assert_exact_for_tree(&tree, &x, m, case);
        }
    }

    /// Symmetric trees (a level's cut repeated in every branch, features reused across
    /// levels) are explained exactly: the fast kernel equals Algorithm 2 and both add up.
    #[test]
    fn symmetric_trees_are_explained_exactly() {
        use crate::model::boost::{BoostParams, TreeShape};
        let mut rng = Rng::new(3);
        let n = 2_000;
        let x = ndarray::Array2::from_shape_fn((n, 5), |_| {
            if rng.chance(0.05) {
                f64::NAN
            } else {
                rng.normal()
            }
        });
        let y: Vec<f64> = (0..n)
            .map(|r| f64::from(u8::from(x[[r, 0]] + x[[r, 1]] * x[[r, 2]] > 0.0)))
            .collect();
        let model = BoostParams::default()
            .with_tree_shape(TreeShape::Symmetric)
            .with_n_trees(20)
            .fit(x.view(), &y, None)
            .unwrap();
        for tree in &model.trees {
            let info = TreeInfo::new(tree);
            for r in 0..25 {
                let row = x.row(r).to_vec();
                let exact = shap_of(tree, &row);
                let sum = info.expected + exact.iter().sum::<f64>();
                assert!((sum - tree.predict(&row)).abs() < 1e-9);
                let fast = fast_shap_of(tree, &row).unwrap();
                for (a, b) in fast.iter().zip(&exact) {
                    assert!((a - b).abs() < 1e-9, "{fast:?} vs {exact:?}");
                }
            }
        }
    }

    #[test]
    fn single_split_tree_by_hand() {
        // Root splits feature 1 at 0.5: left (value 1, cover 3), right (value 5, cover 1).
        let mut tree = Tree::leaf(0.0, 4.0);
        tree.split(0, 1, 0.5, false, (1.0, 3.0), (5.0, 1.0));
        // Expected value 2; a row going right gets the whole difference 5 - 2 on feature 1.
        assert_eq!(shap_of(&tree, &[0.0, 0.9]), vec![0.0, 3.0]);
        assert_eq!(shap_of(&tree, &[0.0, 0.1]), vec![0.0, -1.0]);
        // Missing follows default_left = false: right.
        assert_eq!(shap_of(&tree, &[0.0, f64::NAN]), vec![0.0, 3.0]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn random_trees_are_additive(seed in any::<u64>(), splits in 1usize..40) {
            let mut rng = Rng::new(seed);
            let tree = random_tree(&mut rng, 6, splits);
            let x: Vec<f64> = (0..6)
                .map(|_| if rng.chance(0.2) { f64::NAN } else { rng.normal() })
                .collect();
            let phi = shap_of(&tree, &x);
            let info = TreeInfo::new(&tree);
            prop_assert!((info.expected + phi.iter().sum::<f64>() - tree.predict(&x)).abs() < 1e-9);
            // The fast path gives the same values as Algorithm 2 (up to rounding).
            let fast = fast_shap_of(&tree, &x).unwrap();
            for (a, b) in fast.iter().zip(&phi) {
                prop_assert!((a - b).abs() < 1e-9, "{fast:?} vs {phi:?}");
            }
        }

        #[test]
        fn large_random_trees_match_algorithm_2(seed in any::<u64>(), splits in 30usize..300) {
            // Many features, deep paths and repeated splits: larger quadrature rules, ratios of
            // repeated factors, corrections, and branches with no cover.
            let mut rng = Rng::new(seed);
            let tree = random_tree(&mut rng, 24, splits);
            let x: Vec<f64> = (0..24)
                .map(|_| if rng.chance(0.2) { f64::NAN } else { rng.next_f64() * 2.0 - 1.0 })
                .collect();
            let exact = shap_of(&tree, &x);
            let fast = fast_shap_of(&tree, &x).unwrap();
            for (a, b) in fast.iter().zip(&exact) {
                prop_assert!((a - b).abs() < 1e-9, "{fast:?} vs {exact:?}");
            }
        }

        #[test]
        fn every_family_is_additive_on_edited_records(
            family in 0usize..3,
            row in 0usize..400,
            edits in proptest::collection::vec((0usize..30, -50.0f64..500.0, any::<bool>()), 0..4),
        ) {
            let (artifact, table) = trained(Family::ALL[family]);
            let explainer = Explainer::new(artifact).unwrap();
            let (mut values, snapshot) = explainer.row_values(table, row % table.n_rows()).unwrap();
            let texts: Vec<String> = edits.iter().map(|(_, x, _)| format!("{x}")).collect();
            for ((col, _, missing), text) in edits.iter().zip(&texts) {
                let col = col % values.len();
                values[col] = if *missing { Value::Missing } else { Value::Text(text) };
            }
            let mut features = vec![0.0; artifact.pipeline.n_features()];
            // Numbers in categorical or date columns are fine; in boolean ones they are not.
            if artifact.pipeline.transform_values(&values, snapshot, 0, &mut features).is_ok() {
                let e = explainer.explain_values(&values, snapshot).unwrap();
                assert_additive(artifact, &e, &features);
                prop_assert_eq!(e.contributions.len(), artifact.pipeline.inputs.len());
                let p = artifact.calibration.apply(artifact.model.predict_proba(&features));
                prop_assert_eq!(e.probability, p);
            }
        }
    }

    #[test]
    fn contributions_group_features_by_input_column() {
        let (artifact, table) = trained(Family::Logistic);
        let explainer = Explainer::new(artifact).unwrap();
        // The synthetic data has one-hot categories and missing indicators: widths above one.
        assert!(artifact.pipeline.inputs.iter().any(|c| c.width() > 1));
        let mut ws = explainer.workspace();
        let (values, snapshot) = explainer.row_values(table, 7).unwrap();
        explainer
            .explain_values_into(&values, snapshot, &mut ws)
            .unwrap();
        let sources = artifact.pipeline.feature_sources();
        for (i, &grouped) in ws.column_contributions().iter().enumerate() {
            let sum: f64 = ws
                .feature_contributions()
                .iter()
                .zip(&sources)
                .filter(|(_, &s)| s == i)
                .map(|(p, _)| p)
                .sum();
            assert_eq!(grouped, sum);
        }
        let e = explainer.explain_row(table, 7).unwrap();
        for pair in e.contributions.windows(2) {
            assert!(pair[0].contribution.abs() >= pair[1].contribution.abs());
        }
    }

    #[test]
    fn linear_background_is_the_training_mean() {
        // With E[x] the training mean of what the model saw, contributions average to zero over
        // the training rows for every column, one-hot groups and missing indicators included.
        let (artifact, table) = trained(Family::Logistic);
        let explainer = Explainer::new(artifact).unwrap();
        let g = explainer
            .global_importance(table, usize::MAX, &mut crate::progress::Reporter::silent())
            .unwrap();
        let sample = explainer
            .global_importance(table, 50, &mut crate::progress::Reporter::silent())
            .unwrap();
        assert_eq!(sample.rows, 50);
        assert_eq!(g.rows, table.n_rows());
        assert_eq!(g.space, Space::LogOdds);
        for c in &g.columns {
            assert!(c.mean.abs() < 1e-9, "{}: mean {}", c.column, c.mean);
        }
        assert!(g.columns[0].mean_abs > 0.0);
        for pair in g.columns.windows(2) {
            assert!(pair[0].mean_abs >= pair[1].mean_abs);
        }
    }

    #[test]
    fn shap_sample_is_seeded_and_matches_row_explanations() {
        let (artifact, table) = trained(Family::Gbdt);
        let explainer = Explainer::new(artifact).unwrap();
        let silent = &mut crate::progress::Reporter::silent();
        let s = explainer.shap_sample(table, 40, 7, silent).unwrap();
        assert_eq!(s.rows.len() + s.skipped, 40);
        assert_eq!(s, explainer.shap_sample(table, 40, 7, silent).unwrap());
        assert_ne!(
            s.rows,
            explainer.shap_sample(table, 40, 8, silent).unwrap().rows
        );
        assert!(
            s.rows.windows(2).all(|w| w[0] < w[1]),
            "distinct, in table order"
        );
        for (k, &row) in s.rows.iter().enumerate().take(5) {
            let index = (0..table.n_rows())
                .find(|&r| table.source_row(r) == row)
                .unwrap();
            let e = explainer.explain_row(table, index).unwrap();
            for c in &s.columns {
                let one = e
                    .contributions
                    .iter()
                    .find(|x| x.column == c.column)
                    .unwrap();
                assert_eq!(c.contributions[k], one.contribution);
                assert_eq!(c.values[k], one.value_text);
            }
        }
        // A sample as large as the table is the whole table.
        let all = explainer.shap_sample(table, usize::MAX, 7, silent).unwrap();
        assert_eq!(all.rows.len() + all.skipped, table.n_rows());
    }

    #[test]
    fn forest_is_explained_in_probability_space() {
        let (artifact, table) = trained(Family::Forest);
        let explainer = Explainer::new(artifact).unwrap();
        assert_eq!(explainer.space(), Space::Probability);
        let e = explainer.explain_row(table, 0).unwrap();
        assert!(e.raw_score >= 0.0 && e.raw_score <= 1.0);
        assert!(e.top_reasons(1)[0].text.ends_with(" probability)"));
    }

    #[test]
    fn reasons_read_as_text_and_skip_zero_contributions() {
        let contribution = |column: &str, value: &str, c: f64| Contribution {
            column: column.into(),
            value_text: value.into(),
            contribution: c,
        };
        let e = Explanation {
            space: Space::LogOdds,
            base_value: -1.0,
            raw_score: -0.1,
            probability: 0.47,
            decision: true,
            contributions: vec![
                contribution("days_since_last_login", "41", 0.6),
                contribution("tenure_months", "30", -0.25),
                contribution("plan", "basic", 0.0),
            ],
        };
        let reasons = e.top_reasons(5);
        assert_eq!(reasons.len(), 2);
        assert_eq!(
            reasons[0].text,
            "days_since_last_login = 41 raised risk (+0.600 log-odds)"
        );
        assert_eq!(reasons[0].direction, Direction::Raised);
        assert_eq!(
            reasons[1].text,
            "tenure_months = 30 lowered risk (-0.250 log-odds)"
        );
        assert_eq!(reasons[1].direction, Direction::Lowered);
        assert_eq!(e.top_reasons(1).len(), 1);
    }

    #[test]
    fn what_if_reports_changed_fields_and_new_probability() {
        let (artifact, table) = trained(Family::Gbdt);
        let explainer = Explainer::new(artifact).unwrap();
        let (values, snapshot) = explainer.row_values(table, 3).unwrap();
        let col = artifact
            .pipeline
            .inputs
            .iter()
            .position(|c| c.name == "days_since_last_login")
            .unwrap();
        let mut edited = values.clone();
        edited[col] = Value::Number(90.0);
        let w = explainer.what_if(&values, &edited, snapshot).unwrap();
        let change = w
            .changes
            .iter()
            .find(|c| c.column == "days_since_last_login")
            .unwrap();
        assert_eq!(change.to, "90");
        let delta_raw = w.after.raw_score - w.before.raw_score;
        let delta_contrib: f64 = w
            .changes
            .iter()
            .map(|c| c.contribution_after - c.contribution_before)
            .sum();
        // Only listed fields moved, so their changes add up to the change of the score.
        assert!((delta_raw - delta_contrib).abs() < 1e-9);
        let same = explainer.what_if(&values, &values, snapshot).unwrap();
        assert!(same.changes.is_empty());
        assert_eq!(same.before, same.after);
    }

    #[test]
    fn suggestion_searches_actionable_fields_only() {
        let (artifact, table) = trained(Family::Gbdt);
        let explainer = Explainer::new(artifact).unwrap();
        // The riskiest training customer.
        let mut ws = explainer.workspace();
        let mut riskiest = (0, f64::MIN);
        for r in 0..table.n_rows() {
            let (v, s) = explainer.row_values(table, r).unwrap();
            let raw = explainer.explain_values_into(&v, s, &mut ws).unwrap();
            if raw > riskiest.1 {
                riskiest = (r, raw);
            }
        }
        let (values, snapshot) = explainer.row_values(table, riskiest.0).unwrap();
        let actionable = ["days_since_last_login", "plan", "autopay", "discount_pct"];
        let s = explainer.suggest(&values, snapshot, &actionable).unwrap();
        assert!(s.probability_before >= s.threshold);
        assert!(s.changes.len() <= actionable.len());
        let mut last = s.probability_before;
        for c in &s.changes {
            assert!(actionable.contains(&c.column.as_str()));
            assert!(c.probability_after < last);
            last = c.probability_after;
        }
        assert_eq!(s.reached, s.probability_after < s.threshold);
        assert_eq!(s.probability_after, last);
        // Nothing actionable: nothing suggested.
        let none = explainer.suggest(&values, snapshot, &[]).unwrap();
        assert!(none.changes.is_empty() && !none.reached);
        assert_eq!(
            explainer.suggest(&values, snapshot, &["shoe_size"]),
            Err(Error::MissingColumn {
                column: "shoe_size".into()
            })
        );
    }

    #[test]
    fn dependence_pairs_values_with_contributions() {
        let (artifact, table) = trained(Family::Gbdt);
        let explainer = Explainer::new(artifact).unwrap();
        let d = explainer.dependence(table, "tenure_months", 50).unwrap();
        assert_eq!(d.points.len(), 50);
        let rows: Vec<usize> = d.points.iter().map(|p| p.row).collect();
        assert!(rows.windows(2).all(|w| w[0] < w[1]));
        assert!(d.points.iter().any(|p| p.number.is_some()));
        let e = explainer.explain_row(table, 0).unwrap();
        let c = e
            .contributions
            .iter()
            .find(|c| c.column == "tenure_months")
            .unwrap();
        assert_eq!(d.points[0].contribution, c.contribution);
        assert!(matches!(
            explainer.dependence(table, "nope", 5),
            Err(Error::MissingColumn { .. })
        ));
    }

    /// The server's reasons (from the scorer's features, a kept workspace, no raw score) are
    /// the full explanation's top reasons, bit for bit, for every family.
    #[test]
    fn top_reasons_equal_the_explanation_s() {
        for family in Family::ALL {
            let (artifact, table) = trained(family);
            let explainer = Explainer::new(artifact).unwrap();
            let scorer = explainer.scorer();
            let mut ws = explainer.workspace();
            for row in 0..30 {
                let (values, snapshot) = explainer.row_values(table, row).unwrap();
                let mut features = vec![0.0; artifact.pipeline.n_features()];
                artifact
                    .pipeline
                    .transform_values(&values, snapshot, 0, &mut features)
                    .unwrap();
                let want = explainer.explain_values(&values, snapshot).unwrap();
                for k in [1, 3, 50] {
                    let got = explainer
                        .top_reasons(&values, &features, k, &mut ws)
                        .unwrap();
                    assert_eq!(got, want.top_reasons(k), "{family:?} row {row}");
                }
                assert_eq!(
                    scorer.probability_of_features(&features).to_bits(),
                    want.probability.to_bits()
                );
            }
        }
    }

    /// The one reader gives the same record from request bytes as from the parsed object, and
    /// refuses exactly the bodies `serde_json::Value` refuses, with the same error.
    #[test]
    fn records_read_from_bytes_equal_records_read_from_objects() {
        let (artifact, table) = trained(Family::Gbdt);
        let scorer = Scorer::new(artifact);
        let keys = scorer.keys();
        let names = table.names();
        let mut bodies: Vec<String> = (0..20)
            .map(|r| {
                let fields: Vec<String> = names
                    .iter()
                    .enumerate()
                    .map(|(c, name)| {
                        let raw = table.raw(r, c);
                        let value = match crate::data::table::parse_number(raw) {
                            Some(x) if r % 2 == 0 => serde_json::json!(x),
                            _ => serde_json::json!(raw),
                        };
                        format!("{}:{value}", serde_json::json!(name))
                    })
                    .collect();
                format!("{{{}}}", fields.join(","))
            })
            .collect();
        let first = &names[1];
        bodies.extend([
            // Escapes, duplicates (the last wins), nulls, NA tokens, unknown and nested fields,
            // integers, negative zero, numeric ids.
            format!(
                r#"{{"{first}": 1, "zz": 1, "{first}": "\u0031\t", "aa": [1, {{"b": null}}]}}"#
            ),
            format!(r#"{{"{first}": null, "customer_id": 42, "zz": 2, "zz": 3}}"#),
            format!(r#"{{"{first}": -0, "customer_id": "", "tenure_months": "NA"}}"#),
            format!(
                r#"{{"{first}": {{"x": [1, 2.5e3]}}, "customer_id": 1.50, "snapshot_date": null}}"#
            ),
            format!(r#"{{"{first}": true, "customer_id": "\ud83d\ude00", "churn": [1]}}"#),
            r#"{}"#.to_string(),
        ]);
        for body in &bodies {
            let map: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(body).unwrap();
            let from_bytes = keys.read_json(body.as_bytes()).unwrap();
            let from_map = keys.read_map(&map).unwrap();
            assert_eq!(from_bytes, from_map, "{body}");
            // What a log kept before: the inputs and time column of the object, without nulls.
            let mut kept = serde_json::Map::new();
            for name in artifact
                .pipeline
                .input_names()
                .chain(artifact.pipeline.time_column.as_deref())
            {
                if let Some(v) = map.get(name).filter(|v| !v.is_null()) {
                    kept.insert(name.to_string(), v.clone());
                }
            }
            assert_eq!(
                keys.logged_inputs(&from_bytes),
                serde_json::Value::Object(kept).to_string(),
                "{body}"
            );
            let ignored: Vec<&String> = map.keys().filter(|k| !keys.knows(k)).collect();
            assert_eq!(
                from_bytes.ignored_fields().iter().collect::<Vec<_>>(),
                ignored
            );
            let id = match map.get(keys.id_field()) {
                Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s.clone()),
                Some(serde_json::Value::Number(n)) => Some(n.to_string()),
                _ => None,
            };
            assert_eq!(from_bytes.customer_id(), id.as_deref(), "{body}");
            assert_eq!(
                scorer.score_record(&from_bytes),
                scorer.score_json(&map),
                "{body}"
            );
        }
        let odd = keys.read_json(bodies[20].as_bytes()).unwrap();
        assert_eq!(odd.ignored_fields(), ["aa", "zz"]);
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        for bad in [
            "",
            "{",
            r#"{"a": 1,}"#,
            r#"{"a": NaN}"#,
            r#"{"a": 1e999}"#,
            r#"{"a": "\ud800"}"#,
            r#"{"a": 1} x"#,
            "{1: 2}",
            &format!(r#"{{"a": {deep}}}"#),
            &format!(r#"{{"{first}": {deep}}}"#),
            &format!(r#"{{"customer_id": {deep}}}"#),
        ] {
            let want = serde_json::from_str::<serde_json::Value>(bad).unwrap_err();
            let got = keys.read_json(bad.as_bytes()).unwrap_err();
            assert_eq!(got.to_string(), want.to_string(), "{bad}");
        }
        // Valid JSON that is not an object is refused too.
        assert!(keys.read_json(b"[1]").is_err());
    }

    #[test]
    fn json_records_and_bad_input() {
        let (artifact, table) = trained(Family::Logistic);
        let explainer = Explainer::new(artifact).unwrap();
        let mut record = serde_json::Map::new();
        for (i, name) in table.names().iter().enumerate() {
            record.insert(
                name.clone(),
                serde_json::Value::String(table.raw(2, i).into()),
            );
        }
        let from_json = explainer.explain_json(&record).unwrap();
        assert_eq!(from_json, explainer.explain_row(table, 2).unwrap());
        record.insert("tenure_months".into(), serde_json::json!([1, 2]));
        assert!(matches!(
            explainer.explain_json(&record),
            Err(Error::BadValue { ref column, .. }) if column == "tenure_months"
        ));
        record.insert("tenure_months".into(), serde_json::json!("lots"));
        assert!(matches!(
            explainer.explain_json(&record),
            Err(Error::BadValue { .. })
        ));
        assert!(explainer.explain_row(table, table.n_rows()).is_err());
    }

    /// Shapley values from [`fast`], or `None` when the tree is left to Algorithm 2.
    fn fast_shap_of(tree: &Tree, x: &[f64]) -> Option<Vec<f64>> {
        let info = TreeInfo::new(tree);
        let rules = Rules::default();
        let fast = FastTree::new(tree, &info.left_share, &rules)?;
        let mut phi = vec![0.0; x.len()];
        // Empty buffers: they grow to what the tree needs.
        fast.shap(&rules, x, &mut phi, &mut Buffers::default());
        Some(phi)
    }

    /// A chain of splits on features `0..n`: every right child a leaf.
    fn chain(n: usize) -> Tree {
        let mut tree = Tree::leaf(0.0, 100.0);
        let mut at = 0;
        for f in 0..n {
            let (l, _) = tree.split(at, f, 0.0, f % 2 == 0, (1.0, 60.0), (f as f64, 40.0));
            at = l;
        }
        tree
    }

    #[test]
    fn trained_models_take_the_fast_path_with_algorithm_2_values() {
        for family in [Family::Gbdt, Family::Forest] {
            let (artifact, table) = trained(family);
            let explainer = Explainer::new(artifact).unwrap();
            let Engine::Trees { info, fast, .. } = &explainer.engine else {
                panic!("tree engine expected");
            };
            let trees = artifact.model.trees();
            assert!(fast.iter().all(Option::is_some), "{family:?}");
            let (x, _) = artifact.pipeline.transform_table(table).unwrap();
            let mut ws = explainer.workspace();
            let scale = if family == Family::Forest {
                1.0 / trees.len() as f64
            } else {
                1.0
            };
            for r in (0..x.nrows()).step_by(25) {
                let row = x.row(r).to_vec();
                explainer.explain_features(&row, &mut ws).unwrap();
                let mut plain = vec![0.0; row.len()];
                let depth = info.iter().map(|t| t.depth).max().unwrap_or(0);
                let mut path = vec![PathElem::default(); (depth + 2) * (depth + 3) / 2];
                for (tree, info) in trees.iter().zip(info) {
                    tree_shap(tree, info, &row, &mut plain, &mut path);
                }
                for (a, b) in ws.feature_contributions().iter().zip(&plain) {
                    assert!((a - b * scale).abs() < 1e-9, "{family:?} row {r}");
                }
            }
        }
    }

    #[test]
    fn wide_leaves_take_larger_rules_up_to_the_limit() {
        // Leaves with 1..=n distinct features along a chain: the rule must grow with n to stay
        // exact (brute force is affordable up to 13 features; Algorithm 2 checks the rest).
        let x: Vec<f64> = (0..fast::MAX_UNIQUE + 1)
            .map(|i| match i % 3 {
                0 => 1.0,
                1 => -1.0,
                _ => f64::NAN,
            })
            .collect();
        let rules = Rules::default();
        for n in [1, 3, 4, 5, 9, 13, 16, 17, 24, fast::MAX_UNIQUE] {
            let tree = chain(n);
            let info = TreeInfo::new(&tree);
            let fast = FastTree::new(&tree, &info.left_share, &rules).unwrap();
            assert!(
                2 * fast.points() >= n,
                "{n} features, {} points",
                fast.points()
            );
            let x = &x[..n];
            let phi = fast_shap_of(&tree, x).unwrap();
            let exact = if n <= 13 {
                brute_force(&tree, x, n)
            } else {
                shap_of(&tree, x)
            };
            for (a, b) in phi.iter().zip(&exact) {
                assert!((a - b).abs() < 1e-9, "{n}: {phi:?} vs {exact:?}");
            }
        }
        // Past MAX_UNIQUE distinct features on a path the tree keeps Algorithm 2.
        let deep = chain(fast::MAX_UNIQUE + 1);
        let info = TreeInfo::new(&deep);
        assert!(FastTree::new(&deep, &info.left_share, &rules).is_none());
    }

    #[test]
    fn repeated_splits_on_one_feature_match_the_definition() {
        // Feature 0 split four times down one path and twice down another, with other
        // features between: exercises the ratios of repeated factors and the corrections.
        let mut tree = Tree::leaf(0.0, 100.0);
        let (a, b) = tree.split(0, 0, 0.0, true, (1.0, 70.0), (2.0, 30.0));
        let (c, d) = tree.split(a, 1, 0.0, false, (3.0, 40.0), (-1.0, 30.0));
        let (e, _) = tree.split(c, 0, -1.0, true, (0.5, 25.0), (4.0, 15.0));
        let (g, _) = tree.split(e, 2, 0.5, false, (2.5, 5.0), (-3.0, 20.0));
        let (i, _) = tree.split(g, 0, -2.0, true, (7.0, 3.0), (1.0, 2.0));
        tree.split(i, 0, -3.0, false, (-2.0, 1.0), (6.0, 2.0));
        tree.split(d, 0, -0.5, true, (0.0, 10.0), (9.0, 20.0));
        tree.split(b, 2, 1.0, true, (1.5, 10.0), (-4.0, 20.0));
        for x in [
            [-3.5, -1.0, 0.0],
            [-2.5, -1.0, 0.0],
            [-1.5, 1.0, 1.0],
            [-0.7, 1.0, f64::NAN],
            [0.5, f64::NAN, 2.0],
            [f64::NAN, -1.0, 0.7],
        ] {
            let exact = brute_force(&tree, &x, 3);
            let phi = fast_shap_of(&tree, &x).unwrap();
            for (a, b) in phi.iter().zip(&exact) {
                assert!((a - b).abs() < 1e-12, "{x:?}: {phi:?} vs {exact:?}");
            }
        }
    }

    /// Trains a 300-tree, 31-leaf boosted model on 5,000 synthetic customers and explains
    /// 1,000 of them one by one. With `EBB_SHAP_MATRIX=path` it also writes the model's feature
    /// matrix and labels as CSV so another tool can be timed on the same shape.
    #[test]
    #[ignore]
    fn timing_300_trees() {
        use std::time::Instant;
        let table =
            generate_table(&SynthParams::default().with_n_customers(5000).with_seed(9)).unwrap();
        let inference = infer(&table, &InferOptions::default()).unwrap();
        let quality = report(&table, &inference.schema);
        let (clean, _) = split_quarantine(table, &quality);
        let mut params = TrainParams::default()
            .with_families(vec![Family::Gbdt])
            .with_folds(2)
            .with_seed(1);
        params.boost.n_trees = 300;
        params.boost.num_leaves = 31;
        params.boost.early_stopping_rounds = None;
        // 31 leaves exactly: not the size rule's 7.
        params.sized = false;
        let out = train(
            &clean,
            &inference.schema,
            &params,
            &mut crate::progress::Reporter::silent(),
            &|| None,
        )
        .unwrap();
        let metadata = TrainingMetadata {
            rows: clean.n_rows(),
            quarantined_rows: 0,
            seed: 1,
            data_hash: String::new(),
            created_at: String::new(),
            ebb_version: String::new(),
            feature_names: Vec::new(),
        };
        let artifact = out
            .into_artifact(inference.schema.clone(), metadata)
            .unwrap();
        let Model::Gbdt(m) = &artifact.model else {
            panic!("gbdt expected")
        };
        let leaves: usize = m.trees.iter().map(Tree::n_leaves).sum();
        let depth = m.trees.iter().map(Tree::depth).max().unwrap_or(0);
        let start = Instant::now();
        let explainer = Explainer::new(&artifact).unwrap();
        let build = start.elapsed();
        let rows = 1000.min(clean.n_rows());
        let (x, _) = artifact.pipeline.transform_table(&clean).unwrap();
        let mut ws = explainer.workspace();
        let start = Instant::now();
        let mut check = 0.0;
        for r in 0..rows {
            let row = x.row(r);
            check += explainer
                .explain_features(row.as_slice().unwrap(), &mut ws)
                .unwrap();
        }
        let features_time = start.elapsed();
        let start = Instant::now();
        let mut values = Vec::new();
        let indices = artifact.pipeline.column_indices(&clean).unwrap();
        for r in 0..rows {
            values.clear();
            values.extend(indices.iter().map(|&c| clean.value(r, c)));
            explainer
                .explain_values_into(&values, None, &mut ws)
                .unwrap();
        }
        let values_time = start.elapsed();
        std::println!(
            "model: {} trees, {leaves} leaves ({:.1}/tree), max depth {depth}, {} features",
            m.trees.len(),
            leaves as f64 / m.trees.len() as f64,
            m.n_features
        );
        std::println!("explainer build: {build:?}; check {check:.3}");
        std::println!(
            "explain {rows} feature rows: {features_time:?} ({:.1} us/row)",
            features_time.as_secs_f64() * 1e6 / rows as f64
        );
        std::println!(
            "explain {rows} raw records (with the pipeline): {values_time:?} ({:.1} us/row)",
            values_time.as_secs_f64() * 1e6 / rows as f64
        );
        if let Ok(path) = std::env::var("EBB_SHAP_MATRIX") {
            let labels = crate::train::labels(&clean, &inference.schema).unwrap();
            let mut csv = artifact.pipeline.feature_names().join(",");
            csv.push_str(",label\n");
            for (row, y) in x.rows().into_iter().zip(&labels) {
                for v in row {
                    if !v.is_nan() {
                        csv.push_str(&format!("{v}"));
                    }
                    csv.push(',');
                }
                csv.push_str(&format!("{y}\n"));
            }
            std::fs::write(path, csv).unwrap();
        }
    }

    #[test]
    fn malformed_trees_are_rejected() {
        let mut tree = Tree::leaf(0.0, 1.0);
        tree.split(0, 0, 0.0, true, (0.0, 1.0), (1.0, 1.0));
        assert!(check_tree(&tree, 1).is_ok());
        assert!(check_tree(&tree, 0).is_err());
        tree.left[0] = 0;
        assert!(check_tree(&tree, 1).is_err());
        tree.left[0] = 1;
        tree.cover.pop();
        assert!(check_tree(&tree, 1).is_err());
    }
}
