//! The binary log-loss objective: starting score, per-row gradients and hessians, and the
//! validation loss that drives early stopping. Scores are log-odds.

/// Hessians are floored so a confidently-fitted row still counts a little towards leaf mass,
/// which keeps leaf values finite.
const MIN_HESSIAN: f64 = 1e-16;

/// Probabilities are clamped this far from 0 and 1 before taking log-odds.
const PROB_EPS: f64 = 1e-15;

/// The logistic function, written so neither branch can overflow.
pub(crate) fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + libm::exp(-x))
    } else {
        let e = libm::exp(x);
        e / (1.0 + e)
    }
}

/// The log-odds of the weighted positive rate: the best constant score under log-loss.
pub(crate) fn base_score(y: &[f64], w: &[f64]) -> f64 {
    let (mut pos, mut total) = (0.0, 0.0);
    for (&yi, &wi) in y.iter().zip(w) {
        pos += yi * wi;
        total += wi;
    }
    let p = (pos / total).clamp(PROB_EPS, 1.0 - PROB_EPS);
    libm::log(p / (1.0 - p))
}

fn grad_hess(s: f64, y: f64, w: f64) -> [f64; 2] {
    let p = sigmoid(s);
    [(p - y) * w, (p * (1.0 - p)).max(MIN_HESSIAN) * w]
}

fn gradients_seq(scores: &[f64], y: &[f64], w: &[f64], gh: &mut [[f64; 2]]) {
    for (out, ((&s, &yi), &wi)) in gh.iter_mut().zip(scores.iter().zip(y).zip(w)) {
        *out = grad_hess(s, yi, wi);
    }
}

/// Writes `[gradient, hessian]` of the weighted log-loss for every row.
pub(crate) fn gradients(scores: &[f64], y: &[f64], w: &[f64], gh: &mut [[f64; 2]]) {
    // Rows are independent, so splitting them across threads cannot change any value.
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        const CHUNK: usize = 16_384;
        gh.par_chunks_mut(CHUNK)
            .zip(scores.par_chunks(CHUNK))
            .zip(y.par_chunks(CHUNK).zip(w.par_chunks(CHUNK)))
            .for_each(|((gh, s), (y, w))| gradients_seq(s, y, w, gh));
    }
    #[cfg(not(feature = "parallel"))]
    gradients_seq(scores, y, w, gh);
}

/// Weighted mean log-loss of log-odds `scores`, computed as `softplus(s) - y·s` so extreme
/// scores stay finite.
pub(crate) fn log_loss(scores: &[f64], y: &[f64], w: &[f64]) -> f64 {
    let (mut loss, mut total) = (0.0, 0.0);
    for ((&s, &yi), &wi) in scores.iter().zip(y).zip(w) {
        let softplus = s.max(0.0) + libm::log1p(libm::exp(-s.abs()));
        loss += wi * (softplus - yi * s);
        total += wi;
    }
    if total > 0.0 {
        loss / total
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradients_match_the_log_loss_derivative() {
        let (s, y, w) = ([0.3, -1.2], [1.0, 0.0], [2.0, 0.5]);
        let mut gh = [[0.0; 2]; 2];
        gradients(&s, &y, &w, &mut gh);
        for i in 0..2 {
            let h = 1e-6;
            let up = log_loss(&[s[i] + h], &[y[i]], &[1.0]);
            let down = log_loss(&[s[i] - h], &[y[i]], &[1.0]);
            let numeric = (up - down) / (2.0 * h) * w[i];
            assert!(
                (gh[i][0] - numeric).abs() < 1e-6,
                "{} vs {numeric}",
                gh[i][0]
            );
            let p = sigmoid(s[i]);
            assert!((gh[i][1] - p * (1.0 - p) * w[i]).abs() < 1e-12);
        }
    }

    #[test]
    fn base_score_is_weighted_log_odds_and_sigmoid_is_stable() {
        let b = base_score(&[1.0, 0.0, 0.0], &[2.0, 1.0, 1.0]);
        assert!(b.abs() < 1e-12, "{b}");
        assert!((sigmoid(b) - 0.5).abs() < 1e-12);
        assert_eq!(sigmoid(-1000.0), 0.0);
        assert_eq!(sigmoid(1000.0), 1.0);
        assert!(log_loss(&[-1000.0], &[1.0], &[1.0]).is_finite());
    }
}
