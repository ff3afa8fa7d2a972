//! The fitted model of an artifact: one of the three families, or a blend of them (the
//! ensemble), behind one interface.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Deserializer, Serialize};

use super::boost::BoostModel;
use super::ensemble::{EnsembleModel, MAX_MEMBERS};
use super::forest::ForestModel;
use super::linear::LogisticModel;
use super::packed::PackedTrees;
use super::sigmoid;
use super::tree::{check_categories, check_trees, Tree, TreeBounds};
use crate::tagged::{self, Tagged};

/// The model families Ebb trains and compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// L2-regularised logistic regression on scaled, imputed features.
    Logistic,
    /// Random forest of Gini trees.
    Forest,
    /// Histogram gradient-boosted trees.
    Gbdt,
    /// A weighted blend of the other families' scores, fitted on their out-of-fold scores and
    /// kept only when it wins out of fold ([`crate::model::ensemble`]).
    Ensemble,
}

impl Family {
    /// Every family trained on its own (`ebb train --model`), in the order they are compared;
    /// the ensemble is made of these, never asked for by name.
    pub const ALL: [Family; 3] = [Family::Logistic, Family::Forest, Family::Gbdt];

    /// The name used on the command line and in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Family::Logistic => "logistic",
            Family::Forest => "forest",
            Family::Gbdt => "gbdt",
            Family::Ensemble => "ensemble",
        }
    }

    /// Parses a family name as written by [`Family::name`].
    pub fn from_name(name: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// A fitted model of any family.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "family", rename_all = "snake_case")]
pub enum Model {
    /// Logistic regression.
    Logistic(LogisticModel),
    /// Random forest.
    Forest(ForestModel),
    /// Gradient-boosted trees.
    Gbdt(BoostModel),
    /// A blend of models of the families above.
    Ensemble(EnsembleModel),
}

// Read without serde's buffering (`crate::tagged`): a model's trees are its biggest part.
tagged::deserialize_tagged!(Model);

impl Tagged for Model {
    const NAME: &'static str = "Model";
    const TAG: &'static str = "family";
    const VARIANTS: &'static [&'static str] = &["logistic", "forest", "gbdt", "ensemble"];

    fn read<'de, D: Deserializer<'de>>(index: usize, rest: D) -> Result<Self, D::Error> {
        Ok(match index {
            0 => Model::Logistic(LogisticModel::deserialize(rest)?),
            1 => Model::Forest(ForestModel::deserialize(rest)?),
            2 => Model::Gbdt(BoostModel::deserialize(rest)?),
            _ => Model::Ensemble(EnsembleModel::deserialize(rest)?),
        })
    }
}

/// A model's trees laid out for scoring ([`Model::pack`]), built when a model is loaded to
/// score: [`crate::model::tree::Tree`] stays the representation of training, artifacts and
/// explanations.
#[derive(Debug, Clone, PartialEq)]
pub enum PackedModel {
    /// A forest's or a boosted model's trees.
    Trees(PackedTrees),
    /// An ensemble's members', in member order; `None` for a member without trees.
    Members(Vec<Option<PackedModel>>),
}

impl Model {
    /// Checks that the model can score rows of `n_features` values (what the pipeline makes)
    /// without panicking, looping or producing a non-number: lengths agree with `n_features`,
    /// every number is finite and every tree is well-formed within `bounds`. Returns what is
    /// wrong with its field path under the model (`trees[3].left[17] = ...`).
    pub fn check(&self, n_features: usize, bounds: &TreeBounds) -> Result<(), String> {
        let stated = self.n_features();
        if stated != n_features {
            let field = match self {
                Model::Logistic(_) => "coefficients",
                _ => "n_features",
            };
            return Err(format!(
                "{field}: the model takes {stated} features but the pipeline makes {n_features}"
            ));
        }
        match self {
            Model::Logistic(m) => {
                finite("intercept", m.intercept)?;
                finite_all("coefficients", &m.coefficients)
            }
            Model::Forest(m) => {
                if m.trees.is_empty() {
                    return Err("trees: a forest needs at least one tree".into());
                }
                check_trees(&m.trees, n_features, bounds)?;
                same_len("impurity_decrease", m.impurity_decrease.len(), n_features)?;
                finite_all("impurity_decrease", &m.impurity_decrease)?;
                if let Some(oob) = &m.oob {
                    finite("oob.accuracy", oob.accuracy)?;
                    finite("oob.log_loss", oob.log_loss)?;
                    // `NaN` (null) marks rows every tree saw, and an AUC without both classes.
                    if let Some(i) = oob
                        .oob_proba
                        .iter()
                        .position(|p| !p.is_nan() && !(0.0..=1.0).contains(p))
                    {
                        return Err(format!(
                            "oob.oob_proba[{i}] = {} is not a probability",
                            oob.oob_proba[i]
                        ));
                    }
                }
                Ok(())
            }
            Model::Gbdt(m) => {
                finite("base_score", m.base_score)?;
                check_trees(&m.trees, n_features, bounds)?;
                if !m.categories.is_empty() {
                    same_len("categories", m.categories.len(), n_features)?;
                }
                if let Some(f) = m.categories.iter().position(|&n| n == 1 || n > 255) {
                    return Err(format!(
                        "categories[{f}] = {}: a categorical feature has 2 to 255 level codes (0 marks a numeric one)",
                        m.categories[f]
                    ));
                }
                check_categories(&m.trees, &m.categories)?;
                same_len("gain_importance", m.gain_importance.len(), n_features)?;
                finite_all("gain_importance", &m.gain_importance)?;
                for (i, (_, loss)) in m.training_log.iter().enumerate() {
                    finite(&format!("training_log[{i}]"), *loss)?;
                }
                Ok(())
            }
            Model::Ensemble(e) => {
                finite("bias", e.bias)?;
                if e.members.is_empty() || e.members.len() > MAX_MEMBERS {
                    return Err(format!(
                        "members: {} members; an ensemble holds 1 to {MAX_MEMBERS}",
                        e.members.len()
                    ));
                }
                // The bounds hold for the ensemble as a whole, not per member.
                let trees: usize = e.members.iter().map(|m| m.model.trees().len()).sum();
                if trees > bounds.trees {
                    return Err(format!(
                        "members: {trees} trees in all, more than the {} allowed",
                        bounds.trees
                    ));
                }
                let mut nodes = 0usize;
                for m in &e.members {
                    for t in m.model.trees() {
                        nodes = nodes.saturating_add(t.n_nodes());
                    }
                }
                if nodes > bounds.total_nodes {
                    return Err(format!(
                        "members: {nodes} tree nodes in all, more than the {} allowed",
                        bounds.total_nodes
                    ));
                }
                for (i, m) in e.members.iter().enumerate() {
                    if !(m.weight.is_finite() && m.weight >= 0.0) {
                        return Err(format!(
                            "members[{i}].weight = {} is not a finite non-negative number",
                            m.weight
                        ));
                    }
                    if let Model::Ensemble(_) = m.model {
                        return Err(format!(
                            "members[{i}].model: an ensemble cannot be a member of an ensemble"
                        ));
                    }
                    m.model
                        .check(m.model.n_features(), bounds)
                        .map_err(|err| format!("members[{i}].model.{err}"))?;
                }
                Ok(())
            }
        }
    }

    /// The trees of a tree model (none for logistic regression and an ensemble, whose members
    /// hold theirs).
    pub fn trees(&self) -> &[Tree] {
        match self {
            Model::Gbdt(m) => &m.trees,
            Model::Forest(m) => &m.trees,
            Model::Logistic(_) | Model::Ensemble(_) => &[],
        }
    }

    /// The score this model adds to an ensemble's blend ([`crate::model::ensemble`]): log-odds
    /// for logistic regression and boosting (and an ensemble), the probability for a forest.
    pub fn blend_score(&self, row: &[f64]) -> f64 {
        self.blend_score_packed(None, row)
    }

    /// [`Model::blend_score`], walking `packed` (this model's [`Model::pack`]) when given: the
    /// same value bit for bit.
    pub fn blend_score_packed(&self, packed: Option<&PackedModel>, row: &[f64]) -> f64 {
        match (self, packed) {
            (Model::Forest(m), Some(PackedModel::Trees(p))) => m.predict_proba_packed(p, row),
            (Model::Gbdt(m), Some(PackedModel::Trees(p))) => p.sum(m.base_score, row),
            (Model::Ensemble(m), Some(PackedModel::Members(p))) => m.predict_raw_packed(p, row),
            (Model::Logistic(m), _) => m.predict_raw(row),
            (Model::Forest(m), _) => m.predict_proba(row),
            (Model::Gbdt(m), _) => m.predict_raw(row),
            (Model::Ensemble(m), _) => m.predict_raw(row),
        }
    }

    /// [`Model::blend_score`] of a row-major block of rows ([`Model::n_features`] values each,
    /// at least one) into `out`, equal bit for bit row by row; walking `packed` (this model's
    /// [`Model::pack`]) when given.
    pub fn blend_score_block(&self, packed: Option<&PackedModel>, block: &[f64], out: &mut [f64]) {
        let width = self.n_features();
        match (self, packed) {
            (Model::Forest(m), Some(PackedModel::Trees(p))) => {
                out.fill(0.0);
                p.add_to_block(block, width, out);
                let n_trees = m.trees.len() as f64;
                out.iter_mut().for_each(|o| *o /= n_trees);
            }
            (Model::Gbdt(m), Some(PackedModel::Trees(p))) => {
                out.fill(m.base_score);
                p.add_to_block(block, width, out);
            }
            (Model::Ensemble(m), Some(PackedModel::Members(p))) => {
                m.predict_raw_block_packed(p, block, out)
            }
            (Model::Logistic(m), _) => {
                for (o, row) in out.iter_mut().zip(block.chunks_exact(m.coefficients.len())) {
                    *o = m.predict_raw(row);
                }
            }
            (Model::Forest(m), _) => m.predict_proba_block(block, out),
            (Model::Gbdt(m), _) => {
                out.fill(m.base_score);
                for tree in &m.trees {
                    tree.accumulate(block, m.n_features, out);
                }
            }
            (Model::Ensemble(m), _) => m.predict_raw_block(block, out),
        }
    }

    /// Which family this model is.
    pub fn family(&self) -> Family {
        match self {
            Model::Logistic(_) => Family::Logistic,
            Model::Forest(_) => Family::Forest,
            Model::Gbdt(_) => Family::Gbdt,
            Model::Ensemble(_) => Family::Ensemble,
        }
    }

    /// Number of features a row must hold.
    pub fn n_features(&self) -> usize {
        match self {
            Model::Logistic(m) => m.coefficients.len(),
            Model::Forest(m) => m.n_features,
            Model::Gbdt(m) => m.n_features,
            Model::Ensemble(m) => m.n_features(),
        }
    }

    /// Uncalibrated probabilities of a row-major block of rows ([`Model::n_features`] values
    /// each) into `out`; equal bit for bit to [`Model::predict_proba`] row by row.
    pub fn predict_proba_block(&self, block: &[f64], out: &mut [f64]) {
        if self.n_features() == 0 {
            // Nothing to split rows by: every row gets the model's constant output.
            out.fill(self.predict_proba(&[]));
            return;
        }
        match self {
            Model::Logistic(m) => {
                for (o, row) in out.iter_mut().zip(block.chunks_exact(m.coefficients.len())) {
                    *o = m.predict_proba(row);
                }
            }
            Model::Forest(m) => m.predict_proba_block(block, out),
            Model::Gbdt(m) => m.predict_proba_block(block, out),
            Model::Ensemble(m) => {
                m.predict_raw_block(block, out);
                out.iter_mut().for_each(|o| *o = sigmoid(*o));
            }
        }
    }

    /// [`Model::predict_proba_block`], walking `packed` (this model's [`Model::pack`]) when
    /// given: the same values bit for bit, several times faster on deep trees.
    pub fn predict_proba_block_packed(
        &self,
        packed: Option<&PackedModel>,
        block: &[f64],
        out: &mut [f64],
    ) {
        if packed.is_none() || self.n_features() == 0 {
            return self.predict_proba_block(block, out);
        }
        // A forest's blend score is its probability; the others' are log-odds.
        self.blend_score_block(packed, block, out);
        if !matches!(self, Model::Forest(_)) {
            out.iter_mut().for_each(|o| *o = sigmoid(*o));
        }
    }

    /// The trees laid out for fast scoring ([`Model::predict_proba_packed`],
    /// [`Model::predict_proba_block_packed`]): a forest's by threshold rank, a boosted model's
    /// by value for single rows and by rank for blocks, an ensemble's members' each as its family's; `None` for logistic regression
    /// (and an ensemble of it alone), which has no trees.
    pub fn pack(&self) -> Option<PackedModel> {
        match self {
            Model::Logistic(_) => None,
            Model::Forest(m) => Some(PackedModel::Trees(PackedTrees::with_ranks(&m.trees))),
            Model::Gbdt(m) => Some(PackedModel::Trees(PackedTrees::with_block_ranks(&m.trees))),
            Model::Ensemble(m) => {
                let members: Vec<Option<PackedModel>> =
                    m.members.iter().map(|member| member.model.pack()).collect();
                members
                    .iter()
                    .any(Option::is_some)
                    .then_some(PackedModel::Members(members))
            }
        }
    }

    /// [`Model::predict_proba`], walking `packed` (this model's [`Model::pack`]) when given:
    /// the same value bit for bit.
    pub fn predict_proba_packed(&self, packed: Option<&PackedModel>, row: &[f64]) -> f64 {
        match (self, packed) {
            (Model::Forest(m), Some(PackedModel::Trees(p))) => m.predict_proba_packed(p, row),
            (Model::Gbdt(m), Some(PackedModel::Trees(p))) => m.predict_proba_packed(p, row),
            (Model::Ensemble(m), Some(PackedModel::Members(p))) => {
                sigmoid(m.predict_raw_packed(p, row))
            }
            _ => self.predict_proba(row),
        }
    }

    /// [`Model::predict_proba`] and [`Model::blend_score`] of one row, equal bit for bit to
    /// calling both. A boosted model given `packed` (its [`Model::pack`]) walks its trees once
    /// for both, the packed way: scoring the test rows of every cross-validation fold was a
    /// fifth of `ebb train --model gbdt`'s CPU when each row walked the trees twice.
    pub fn predict_proba_and_blend(&self, packed: Option<&PackedModel>, row: &[f64]) -> (f64, f64) {
        match (self, packed) {
            (Model::Gbdt(m), Some(PackedModel::Trees(p))) => {
                let raw = p.sum(m.base_score, row);
                (sigmoid(raw), raw)
            }
            _ => (self.predict_proba(row), self.blend_score(row)),
        }
    }

    /// Uncalibrated probability of churn for one feature row.
    pub fn predict_proba(&self, row: &[f64]) -> f64 {
        match self {
            Model::Logistic(m) => m.predict_proba(row),
            Model::Forest(m) => m.predict_proba(row),
            Model::Gbdt(m) => m.predict_proba(row),
            Model::Ensemble(m) => m.predict_proba(row),
        }
    }
}

fn finite(field: &str, x: f64) -> Result<(), String> {
    if x.is_finite() {
        Ok(())
    } else {
        Err(format!("{field} = {x} is not a finite number"))
    }
}

fn finite_all(field: &str, xs: &[f64]) -> Result<(), String> {
    match xs.iter().position(|x| !x.is_finite()) {
        Some(i) => Err(format!("{field}[{i}] = {} is not a finite number", xs[i])),
        None => Ok(()),
    }
}

fn same_len(field: &str, len: usize, n_features: usize) -> Result<(), String> {
    if len == n_features {
        Ok(())
    } else {
        Err(format!(
            "{field}: {len} entries, but the model has {n_features} features"
        ))
    }
}
