//! The fitted model of an artifact: one of the three families behind one interface.

use serde::{Deserialize, Serialize};

use super::boost::BoostModel;
use super::forest::ForestModel;
use super::linear::LogisticModel;
use super::packed::PackedTrees;

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
}

impl Family {
    /// Every family, in the order they are compared.
    pub const ALL: [Family; 3] = [Family::Logistic, Family::Forest, Family::Gbdt];

    /// The name used on the command line and in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Family::Logistic => "logistic",
            Family::Forest => "forest",
            Family::Gbdt => "gbdt",
        }
    }

    /// Parses a family name as written by [`Family::name`].
    pub fn from_name(name: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// A fitted model of any family.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "family", rename_all = "snake_case")]
pub enum Model {
    /// Logistic regression.
    Logistic(LogisticModel),
    /// Random forest.
    Forest(ForestModel),
    /// Gradient-boosted trees.
    Gbdt(BoostModel),
}

impl Model {
    /// Which family this model is.
    pub fn family(&self) -> Family {
        match self {
            Model::Logistic(_) => Family::Logistic,
            Model::Forest(_) => Family::Forest,
            Model::Gbdt(_) => Family::Gbdt,
        }
    }

    /// Number of features a row must hold.
    pub fn n_features(&self) -> usize {
        match self {
            Model::Logistic(m) => m.coefficients.len(),
            Model::Forest(m) => m.n_features,
            Model::Gbdt(m) => m.n_features,
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
        }
    }

    /// The trees packed for fast single-row scoring ([`Model::predict_proba_packed`]); `None`
    /// for logistic regression, which has no trees.
    pub fn pack(&self) -> Option<PackedTrees> {
        match self {
            Model::Logistic(_) => None,
            Model::Forest(m) => Some(PackedTrees::new(&m.trees)),
            Model::Gbdt(m) => Some(PackedTrees::new(&m.trees)),
        }
    }

    /// [`Model::predict_proba`], walking `packed` (this model's [`Model::pack`]) when given:
    /// the same value bit for bit.
    pub fn predict_proba_packed(&self, packed: Option<&PackedTrees>, row: &[f64]) -> f64 {
        match (self, packed) {
            (Model::Forest(m), Some(p)) => m.predict_proba_packed(p, row),
            (Model::Gbdt(m), Some(p)) => m.predict_proba_packed(p, row),
            _ => self.predict_proba(row),
        }
    }

    /// Uncalibrated probability of churn for one feature row.
    pub fn predict_proba(&self, row: &[f64]) -> f64 {
        match self {
            Model::Logistic(m) => m.predict_proba(row),
            Model::Forest(m) => m.predict_proba(row),
            Model::Gbdt(m) => m.predict_proba(row),
        }
    }
}
