//! Models. Every family follows one pattern: a `Params` struct with defaults and builder
//! methods, `Params::fit(x, y, weights) -> Fitted`, and a fitted model that only predicts.
//!
//! Inputs are dense row-major `f64` matrices (`ndarray::ArrayView2`) with `NaN` for missing
//! values, labels are `0.0`/`1.0`, and optional per-row weights carry class weighting.
//! Models know nothing of column names: [`crate::features`] sits between tables and models.

pub mod binning;
pub mod boost;
pub mod calibrate;
pub mod compact;
pub mod ensemble;
pub mod family;
pub mod forest;
pub mod linear;
pub mod packed;
pub mod ranked;
pub mod tree;

use alloc::format;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The logistic function `1 / (1 + e^-z)`, evaluated so that it neither overflows nor loses
/// the tiny tail probabilities: `exp` is only ever taken of a non-positive number.
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + libm::exp(-z))
    } else {
        let e = libm::exp(z);
        e / (1.0 + e)
    }
}

/// Probabilities closer to 0 or 1 than this are clamped by [`logit`], which keeps log-odds
/// finite (about ±34.5) for probabilities of exactly 0 or 1.
pub const PROBABILITY_EPS: f64 = 1e-15;

/// The log-odds `ln(p / (1 - p))`, with `p` clamped to `[PROBABILITY_EPS, 1 - PROBABILITY_EPS]`
/// so the result is always finite. `NaN` stays `NaN`.
pub fn logit(p: f64) -> f64 {
    let p = p.clamp(PROBABILITY_EPS, 1.0 - PROBABILITY_EPS);
    libm::log(p) - libm::log1p(-p)
}

/// `ln(1 + e^z)` without overflow for large `z` nor loss of precision for very negative `z`:
/// the log loss of a label-0 row scored `z` in log-odds (label 1: `softplus(z) - z`).
pub fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + libm::log1p(libm::exp(-z))
    } else {
        libm::log1p(libm::exp(z))
    }
}

/// How much each class counts in training, on top of any per-row sample weights.
///
/// Churners are usually the minority; weighting them up trades calibration for recall, which is
/// why a class-weighted model's probabilities should be recalibrated ([`crate::model::calibrate`]).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassWeight {
    /// Every row counts once.
    #[default]
    None,
    /// Each class gets weight `n / (2 * n_class)` (scikit-learn's `"balanced"`), so both
    /// classes carry the same total weight. Class counts are row counts, not sums of sample
    /// weights, as in scikit-learn.
    Balanced,
    /// Positive rows (label 1) get this weight, negative rows 1.
    Positive(f64),
}

impl ClassWeight {
    /// Per-row training weights: the class weight of each row's label times its sample weight
    /// (1 when `sample_weight` is `None`).
    ///
    /// Labels are taken as positive when `> 0.5`. The inputs are assumed to have been validated
    /// by the caller (same lengths, labels 0/1); a missing sample weight counts as 1.
    pub fn weights(&self, y: &[f64], sample_weight: Option<&[f64]>) -> Vec<f64> {
        let (w_neg, w_pos) = match *self {
            ClassWeight::None => (1.0, 1.0),
            ClassWeight::Positive(w) => (1.0, w),
            ClassWeight::Balanced => {
                let n = y.len();
                let n_pos = y.iter().filter(|&&v| v > 0.5).count();
                let n_neg = n - n_pos;
                // A class with no rows never needs its weight, so any finite value does.
                let balance = |count: usize| {
                    if count == 0 {
                        1.0
                    } else {
                        n as f64 / (2.0 * count as f64)
                    }
                };
                (balance(n_neg), balance(n_pos))
            }
        };
        y.iter()
            .enumerate()
            .map(|(i, &label)| {
                let class_w = if label > 0.5 { w_pos } else { w_neg };
                let sample_w = sample_weight.and_then(|s| s.get(i)).copied().unwrap_or(1.0);
                class_w * sample_w
            })
            .collect()
    }
}

/// Checks optional per-row weights: one per row, each finite and non-negative. `name` is the
/// parameter named in the error.
pub(crate) fn check_weights(name: &'static str, weights: &[f64], n: usize) -> Result<()> {
    if weights.len() != n {
        return Err(Error::InvalidParameter {
            name: name.into(),
            message: format!(
                "has {} weights for {n} rows; pass one weight per row",
                weights.len()
            ),
        });
    }
    if let Some((i, w)) = weights
        .iter()
        .enumerate()
        .find(|(_, w)| !(w.is_finite() && **w >= 0.0))
    {
        return Err(Error::InvalidParameter {
            name: name.into(),
            message: format!("row {}: weight {w} must be finite and >= 0", i + 1),
        });
    }
    Ok(())
}

/// Checks that every label is exactly 0 or 1 and that both occur (error parameter `y`).
pub(crate) fn check_labels(y: &[f64]) -> Result<()> {
    if let Some((i, v)) = y.iter().enumerate().find(|(_, &v)| v != 0.0 && v != 1.0) {
        return Err(Error::InvalidParameter {
            name: "y".into(),
            message: format!(
                "row {}: label {v} is not 0 or 1; map the target to 0 (stayed) and 1 (churned)",
                i + 1
            ),
        });
    }
    let positives = y.iter().filter(|&&v| v == 1.0).count();
    if positives == 0 || positives == y.len() {
        let only = if positives == 0 { 0 } else { 1 };
        return Err(Error::InvalidParameter {
            name: "y".into(),
            message: format!(
                "every label is {only}; training needs both churned (1) and retained (0) customers"
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigmoid_and_logit_are_inverse_and_safe_at_extremes() {
        for z in [-30.0, -5.0, -0.3, 0.0, 0.7, 4.0, 25.0] {
            assert!((logit(sigmoid(z)) - z).abs() < 1e-6 * (1.0 + z * z), "{z}");
        }
        assert_eq!(sigmoid(-1000.0), 0.0);
        assert_eq!(sigmoid(1000.0), 1.0);
        assert!(sigmoid(-700.0) > 0.0, "tail keeps precision");
        assert!(logit(0.0).is_finite() && logit(0.0) < -30.0);
        assert!(logit(1.0).is_finite() && logit(1.0) > 30.0);
        assert!(logit(f64::NAN).is_nan());
        assert!((softplus(1000.0) - 1000.0).abs() < 1e-9);
        assert!((softplus(-1000.0)).abs() < 1e-300 + 1e-12);
        assert!((softplus(0.0) - libm::log(2.0)).abs() < 1e-15);
    }

    #[test]
    fn class_weights_per_row() {
        let y = [0.0, 0.0, 0.0, 1.0];
        assert_eq!(ClassWeight::None.weights(&y, None), [1.0; 4]);
        let b = ClassWeight::Balanced.weights(&y, None);
        assert!((b[0] - 4.0 / 6.0).abs() < 1e-15 && (b[3] - 2.0).abs() < 1e-15);
        let total_neg: f64 = b[..3].iter().sum();
        assert!(
            (total_neg - b[3]).abs() < 1e-12,
            "classes carry equal weight"
        );
        let p = ClassWeight::Positive(3.0).weights(&y, Some(&[1.0, 2.0, 1.0, 0.5]));
        assert_eq!(p, [1.0, 2.0, 1.0, 1.5]);
        let json = serde_json::to_string(&ClassWeight::Positive(2.5)).unwrap();
        assert_eq!(json, r#"{"positive":2.5}"#);
        let back: ClassWeight = serde_json::from_str(&json).unwrap();
        assert_eq!(back, ClassWeight::Positive(2.5));
        assert_eq!(
            serde_json::to_string(&ClassWeight::Balanced).unwrap(),
            r#""balanced""#
        );
    }
}
