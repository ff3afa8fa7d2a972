//! The fitted model of an artifact: one of the three families behind one interface.

use serde::{Deserialize, Serialize};

use super::boost::BoostModel;
use super::forest::ForestModel;
use super::linear::LogisticModel;

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

    /// Uncalibrated probability of churn for one feature row.
    pub fn predict_proba(&self, row: &[f64]) -> f64 {
        match self {
            Model::Logistic(m) => m.predict_proba(row),
            Model::Forest(m) => m.predict_proba(row),
            Model::Gbdt(m) => m.predict_proba(row),
        }
    }
}
