//! The ensemble family: a weighted blend of the other families' scores, one model in one
//! artifact.
//!
//! Each member is a fitted model of a single family reading its own slice of the feature row
//! (its own pipeline's encoding: see [`crate::features::BlendPart`]). The blend's raw score is
//! `bias + Σ weight_m · score_m`, its probability the logistic function of that, and the
//! artifact's one calibration is applied after the blend, as for any family.
//!
//! A member's score is its own raw output where that is additive in what explanations split it
//! into: log-odds for logistic regression and gradient boosting, and the **probability** for a
//! random forest. A forest is additive in its trees only in probability space; the log-odds of
//! its probability would make the blend non-additive in the forest's trees, and then the
//! blend's Shapley values (the weighted sum of the members', `insight::explain`) would no
//! longer be exact. The weights are fitted, so a forest's probability enters the blend at
//! whatever scale fits it best.
//!
//! The weights are fitted by [`fit_weights`]: the non-negative weights and the bias that
//! minimise the log loss of the blend on out-of-fold scores (a weight that comes out negative
//! is set to 0 and the rest refitted, until none is), by Newton's method: deterministic, no
//! randomness.

use alloc::vec;
use alloc::vec::Vec;
use serde::Serialize;

use super::family::{Model, PackedModel};
use super::linear::solve_spd;
use super::{sigmoid, softplus};

/// Most members of one ensemble (training makes at most one per other family): bounds the work
/// a crafted file can ask for.
pub const MAX_MEMBERS: usize = 16;

/// One member of an ensemble: a fitted model of a single family and its weight in the blend.
#[derive(Debug, Clone, Serialize)]
pub struct Member {
    /// Weight of the member's score in the blend (non-negative).
    pub weight: f64,
    /// The member's fitted model.
    pub model: Model,
}

crate::map_struct!(Member { weight, model });

/// A weighted blend of models of single families (see the module docs).
#[derive(Debug, Clone, Serialize)]
pub struct EnsembleModel {
    /// Added to the weighted sum of the members' scores (log-odds).
    pub bias: f64,
    /// The members, in the order their features follow each other in a row.
    pub members: Vec<Member>,
}

crate::map_struct!(EnsembleModel { bias, members });

impl EnsembleModel {
    /// Features a row holds: every member's, one member after the other.
    pub fn n_features(&self) -> usize {
        self.members.iter().map(|m| m.model.n_features()).sum()
    }

    /// The blend's raw score (log-odds) of one row.
    pub fn predict_raw(&self, row: &[f64]) -> f64 {
        self.predict_raw_packed(&[], row)
    }

    /// [`EnsembleModel::predict_raw`], each member walking its own layout from `packed` (one
    /// per member, in order, as [`Model::pack`] of the ensemble makes them; a member without
    /// one scores from its trees): the same value bit for bit.
    pub fn predict_raw_packed(&self, packed: &[Option<PackedModel>], row: &[f64]) -> f64 {
        let mut raw = self.bias;
        let mut at = 0;
        for (i, m) in self.members.iter().enumerate() {
            let width = m.model.n_features();
            let slice = row.get(at..at + width).unwrap_or(&[]);
            let layout = packed.get(i).and_then(Option::as_ref);
            raw += m.weight * m.model.blend_score_packed(layout, slice);
            at += width;
        }
        raw
    }

    /// The blend's (uncalibrated) probability of one row.
    pub fn predict_proba(&self, row: &[f64]) -> f64 {
        sigmoid(self.predict_raw(row))
    }

    /// [`EnsembleModel::predict_raw`] of a row-major block of rows
    /// ([`EnsembleModel::n_features`] values each) into `out`, member by member; equal bit for
    /// bit to the row-by-row score.
    pub fn predict_raw_block(&self, block: &[f64], out: &mut [f64]) {
        self.predict_raw_block_packed(&[], block, out);
    }

    /// [`EnsembleModel::predict_raw_block`], each member walking its own layout from `packed`
    /// (as in [`EnsembleModel::predict_raw_packed`]): the batch path of `ebb score` for an
    /// ensemble, the same values bit for bit.
    pub fn predict_raw_block_packed(
        &self,
        packed: &[Option<PackedModel>],
        block: &[f64],
        out: &mut [f64],
    ) {
        let width = self.n_features();
        out.fill(self.bias);
        let mut scores = vec![0.0; out.len()];
        let mut slice = Vec::new();
        let mut at = 0;
        for (i, m) in self.members.iter().enumerate() {
            let w = m.model.n_features();
            let layout = packed.get(i).and_then(Option::as_ref);
            if w == 0 {
                scores.fill(m.model.blend_score_packed(layout, &[]));
            } else {
                // Each member's trees walk a block of its own features only.
                slice.clear();
                for row in block.chunks_exact(width) {
                    slice.extend_from_slice(&row[at..at + w]);
                }
                m.model.blend_score_block(layout, &slice, &mut scores);
            }
            for (o, s) in out.iter_mut().zip(&scores) {
                *o += m.weight * s;
            }
            at += w;
        }
    }
}

/// Newton iterations of one weight fit at most (it converges in well under 20).
const MAX_ITERATIONS: usize = 100;

/// A tiny ridge on the weights (times the row count) keeps the Newton system solvable when two
/// members' scores are nearly proportional, without moving a well-posed fit.
const RIDGE: f64 = 1e-6;

/// The bias and non-negative weights minimising the blend's log loss on `scores` (one slice per
/// member, one score per row) against labels `y` (see the module docs). Rows where any score is
/// `NaN` are skipped. A member whose weight would be negative gets 0.
pub fn fit_weights(scores: &[&[f64]], y: &[f64]) -> (f64, Vec<f64>) {
    let rows: Vec<usize> = (0..y.len())
        .filter(|&r| scores.iter().all(|s| s[r].is_finite()))
        .collect();
    let mut active: Vec<usize> = (0..scores.len()).collect();
    loop {
        let (bias, w) = fit_active(scores, y, &rows, &active);
        // The most negative weight leaves; the others are refitted without it.
        let worst = (0..active.len())
            .filter(|&i| w[i] < 0.0)
            .min_by(|&a, &b| w[a].total_cmp(&w[b]));
        match worst {
            Some(i) => {
                active.remove(i);
            }
            None => {
                let mut weights = vec![0.0; scores.len()];
                for (&m, &wi) in active.iter().zip(&w) {
                    weights[m] = wi;
                }
                return (bias, weights);
            }
        }
    }
}

/// Unconstrained logistic fit of `y` on the `active` members' scores (and a bias) over `rows`,
/// by Newton's method with step halving.
fn fit_active(scores: &[&[f64]], y: &[f64], rows: &[usize], active: &[usize]) -> (f64, Vec<f64>) {
    let d = active.len() + 1;
    let ridge = RIDGE * rows.len() as f64;
    let x = |r: usize, j: usize| {
        if j == 0 {
            1.0
        } else {
            scores[active[j - 1]][r]
        }
    };
    let loss = |beta: &[f64]| -> f64 {
        let mut total = 0.0;
        for &r in rows {
            let z: f64 = (0..d).map(|j| beta[j] * x(r, j)).sum();
            total += softplus(z) - y[r] * z;
        }
        total + 0.5 * ridge * beta[1..].iter().map(|b| b * b).sum::<f64>()
    };
    let mut beta = vec![0.0; d];
    if rows.is_empty() {
        return (0.0, vec![0.0; active.len()]);
    }
    // Start from the base rate, weights 0.
    let rate = rows.iter().map(|&r| y[r]).sum::<f64>() / rows.len() as f64;
    beta[0] = super::logit(rate);
    let mut current = loss(&beta);
    for _ in 0..MAX_ITERATIONS {
        let mut g = vec![0.0; d];
        let mut h = vec![0.0; d * d];
        for &r in rows {
            let z: f64 = (0..d).map(|j| beta[j] * x(r, j)).sum();
            let p = sigmoid(z);
            let v = p * (1.0 - p);
            for i in 0..d {
                let xi = x(r, i);
                g[i] += (p - y[r]) * xi;
                for j in 0..=i {
                    h[i * d + j] += v * xi * x(r, j);
                }
            }
        }
        for i in 1..d {
            g[i] += ridge * beta[i];
            h[i * d + i] += ridge;
        }
        for i in 0..d {
            for j in i + 1..d {
                h[i * d + j] = h[j * d + i];
            }
        }
        let Some(step) = solve_spd(&h, d, &g) else {
            break;
        };
        let mut t = 1.0;
        let mut improved = false;
        for _ in 0..30 {
            let trial: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b - t * s).collect();
            let l = loss(&trial);
            if l <= current {
                let moved = step.iter().map(|s| (t * s).abs()).fold(0.0, f64::max);
                beta = trial;
                improved = current - l > 1e-12 * current.abs().max(1.0) || moved > 1e-9;
                current = l;
                break;
            }
            t *= 0.5;
        }
        if !improved {
            break;
        }
    }
    (beta[0], beta[1..].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::linear::LogisticModel;

    fn logistic(intercept: f64, coefficients: Vec<f64>) -> Model {
        Model::Logistic(LogisticModel {
            intercept,
            coefficients,
            iterations: 1,
            converged: true,
        })
    }

    #[test]
    fn rows_and_blocks_score_alike_and_members_read_their_own_slices() {
        let e = EnsembleModel {
            bias: -0.5,
            members: vec![
                Member {
                    weight: 0.7,
                    model: logistic(0.1, vec![1.0, -2.0]),
                },
                Member {
                    weight: 0.4,
                    model: logistic(-0.3, vec![0.5]),
                },
            ],
        };
        assert_eq!(e.n_features(), 3);
        let block = [1.0, 2.0, 3.0, -1.0, 0.5, 0.0];
        let mut out = [0.0; 2];
        e.predict_raw_block(&block, &mut out);
        for (row, o) in block.chunks_exact(3).zip(out) {
            let by_hand = -0.5 + 0.7 * (0.1 + row[0] - 2.0 * row[1]) + 0.4 * (-0.3 + 0.5 * row[2]);
            assert!((e.predict_raw(row) - by_hand).abs() < 1e-12);
            assert_eq!(e.predict_raw(row).to_bits(), o.to_bits());
        }
    }

    #[test]
    fn packed_members_score_rows_and_blocks_bit_for_bit() {
        use crate::model::boost::BoostParams;
        use crate::model::forest::ForestParams;
        use ndarray::Array2;
        let mut rng = crate::rng::Rng::new(17);
        let (n, f) = (600, 3);
        let mut x = Array2::from_shape_fn((n, f), |_| rng.normal());
        for r in (0..n).step_by(9) {
            x[[r, r % f]] = f64::NAN;
        }
        let y: Vec<f64> = (0..n)
            .map(|r| f64::from(u8::from(x[[r, 0]] * x[[r, 1]] + 0.3 * rng.normal() > 0.0)))
            .collect();
        let forest = ForestParams::default()
            .with_n_trees(20)
            .fit(x.view(), &y, None)
            .unwrap();
        let gbdt = BoostParams::default()
            .with_n_trees(30)
            .fit(x.view(), &y, None)
            .unwrap();
        // Members in the order their features follow each other: forest, gbdt, logistic.
        let model = Model::Ensemble(EnsembleModel {
            bias: -0.2,
            members: vec![
                Member {
                    weight: 1.3,
                    model: Model::Forest(forest),
                },
                Member {
                    weight: 0.6,
                    model: Model::Gbdt(gbdt),
                },
                Member {
                    weight: 0.2,
                    model: logistic(0.1, vec![0.5, -1.0, 0.25]),
                },
            ],
        });
        let packed = model.pack();
        let Some(PackedModel::Members(members)) = &packed else {
            panic!("an ensemble with tree members packs them");
        };
        assert!(members[0].is_some() && members[1].is_some() && members[2].is_none());
        let block: Vec<f64> = (0..n)
            .flat_map(|r| (0..3 * f).map(move |j| (r, j % f)))
            .map(|(r, j)| x[[r, j]])
            .collect();
        let mut out = vec![0.0; n];
        model.predict_proba_block_packed(packed.as_ref(), &block, &mut out);
        for (r, (o, row)) in out.iter().zip(block.chunks_exact(3 * f)).enumerate() {
            let expected = model.predict_proba(row).to_bits();
            assert_eq!(o.to_bits(), expected, "row {r}");
            let single = model.predict_proba_packed(packed.as_ref(), row);
            assert_eq!(single.to_bits(), expected, "row {r}");
        }
        // An ensemble of logistic members alone has nothing to pack.
        let linear = Model::Ensemble(EnsembleModel {
            bias: 0.0,
            members: vec![Member {
                weight: 1.0,
                model: logistic(0.0, vec![1.0]),
            }],
        });
        assert!(linear.pack().is_none());
    }

    #[test]
    fn weights_recover_the_generating_blend_and_never_go_negative() {
        // Labels drawn from sigmoid(-1 + 1.5 a + 0.5 b); c is noise anti-correlated with the
        // labels' log-odds only by chance, so its unconstrained weight may come out negative.
        let mut rng = crate::rng::Rng::new(3);
        let n = 20_000;
        let (mut a, mut b, mut c, mut y) = (vec![], vec![], vec![], vec![]);
        for _ in 0..n {
            let (sa, sb, sc) = (
                rng.next_f64() * 4.0 - 2.0,
                rng.next_f64() * 4.0 - 2.0,
                rng.next_f64(),
            );
            let p = sigmoid(-1.0 + 1.5 * sa + 0.5 * sb - 0.8 * sc);
            y.push(if rng.next_f64() < p { 1.0 } else { 0.0 });
            a.push(sa);
            b.push(sb);
            c.push(sc);
        }
        let (bias, w) = fit_weights(&[&a, &b], &y);
        assert!(
            (w[0] - 1.5).abs() < 0.1 && (w[1] - 0.5).abs() < 0.1,
            "{w:?}"
        );
        assert!(bias < -0.5, "{bias}");
        // c lowers the odds: its weight would be negative, so it is dropped and the rest refit.
        let (_, w) = fit_weights(&[&a, &b, &c], &y);
        assert_eq!(w[2], 0.0);
        assert!(w.iter().all(|&x| x >= 0.0));
        // Deterministic: the same inputs give the same bits.
        let again = fit_weights(&[&a, &b, &c], &y);
        assert_eq!(
            w.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            again.1.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
    }
}
