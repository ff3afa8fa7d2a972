//! Two-sample statistics on binned counts: the numbers a drift verdict is made of.
//!
//! Every function takes counts over the same bins (the reference's), so the same code serves a
//! batch, a merged window of served traffic and the browser. See [`crate::monitor`] for what
//! each statistic means and how the verdicts use them.

use alloc::vec;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

/// Floor of a bin's share in PSI, so a bin empty on one side contributes a finite term.
pub const PSI_EPSILON: f64 = 1e-4;

pub(crate) fn total(counts: &[u64]) -> u64 {
    counts.iter().sum()
}

fn shares(counts: &[u64]) -> Vec<f64> {
    let n = total(counts);
    if n == 0 {
        return vec![0.0; counts.len()];
    }
    counts.iter().map(|&c| c as f64 / n as f64).collect()
}

/// Population stability index of `current` against `reference` (counts over the same bins),
/// shares floored at [`PSI_EPSILON`].
pub fn psi(reference: &[u64], current: &[u64]) -> f64 {
    shares(reference)
        .iter()
        .zip(&shares(current))
        .map(|(&r, &c)| {
            let (r, c) = (r.max(PSI_EPSILON), c.max(PSI_EPSILON));
            (c - r) * libm::log(c / r)
        })
        .sum()
}

/// A test statistic with its p-value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    /// The statistic.
    pub statistic: f64,
    /// Probability of a statistic at least this large if both samples share one distribution.
    pub p_value: f64,
}

/// Survival function of the Kolmogorov distribution, `Q(λ) = P(K > λ)`.
pub fn kolmogorov_q(lambda: f64) -> f64 {
    if lambda.is_nan() || lambda <= 0.0 {
        return 1.0;
    }
    let pi = core::f64::consts::PI;
    if lambda < 1.18 {
        // The theta-function form converges in a few terms for small λ, where the alternating
        // series below would need many.
        let y = libm::exp(-pi * pi / (8.0 * lambda * lambda));
        let sum: f64 = (1..=6)
            .map(|j: i32| libm::pow(y, f64::from((2 * j - 1) * (2 * j - 1))))
            .sum();
        (1.0 - libm::sqrt(2.0 * pi) / lambda * sum).clamp(0.0, 1.0)
    } else {
        let mut q = 0.0;
        let mut sign = 1.0;
        for j in 1..=100 {
            let term = libm::exp(-2.0 * f64::from(j * j) * lambda * lambda);
            q += sign * term;
            sign = -sign;
            if term < 1e-17 {
                break;
            }
        }
        (2.0 * q).clamp(0.0, 1.0)
    }
}

/// Binned two-sample Kolmogorov–Smirnov test: the largest gap of the cumulative shares of
/// `reference` and `current` (counts over the same ordered bins), with the asymptotic p-value.
pub fn ks_binned(reference: &[u64], current: &[u64]) -> TestResult {
    let (n, m) = (total(reference), total(current));
    if n == 0 || m == 0 {
        return TestResult {
            statistic: 0.0,
            p_value: 1.0,
        };
    }
    let (mut fr, mut fc, mut d) = (0.0, 0.0, 0.0f64);
    for (&r, &c) in reference.iter().zip(current) {
        fr += r as f64 / n as f64;
        fc += c as f64 / m as f64;
        d = d.max((fr - fc).abs());
    }
    let ne = n as f64 * m as f64 / (n + m) as f64;
    let root = libm::sqrt(ne);
    TestResult {
        statistic: d,
        p_value: kolmogorov_q((root + 0.12 + 0.11 / root) * d),
    }
}

/// A chi-square test of homogeneity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChiSquare {
    /// The χ² statistic.
    pub statistic: f64,
    /// Degrees of freedom (bins with any count, minus one).
    pub dof: usize,
    /// Upper-tail probability of the statistic.
    pub p_value: f64,
}

/// Chi-square test that `reference` and `current` (counts over the same bins) come from one
/// distribution. Bins empty on both sides are left out.
pub fn chi_square(reference: &[u64], current: &[u64]) -> ChiSquare {
    let (n, m) = (total(reference) as f64, total(current) as f64);
    let mut statistic = 0.0;
    let mut bins = 0usize;
    if n > 0.0 && m > 0.0 {
        for (&r, &c) in reference.iter().zip(current) {
            let column = (r + c) as f64;
            if column == 0.0 {
                continue;
            }
            bins += 1;
            let er = n * column / (n + m);
            let ec = m * column / (n + m);
            statistic +=
                (r as f64 - er) * (r as f64 - er) / er + (c as f64 - ec) * (c as f64 - ec) / ec;
        }
    }
    let dof = bins.saturating_sub(1);
    let p_value = if dof == 0 {
        1.0
    } else {
        gamma_q(dof as f64 / 2.0, statistic / 2.0)
    };
    ChiSquare {
        statistic,
        dof,
        p_value,
    }
}

/// Regularised upper incomplete gamma function `Q(a, x) = Γ(a, x) / Γ(a)` for `a > 0`.
pub fn gamma_q(a: f64, x: f64) -> f64 {
    if x.is_nan() || a.is_nan() || x <= 0.0 {
        return 1.0;
    }
    if a <= 0.0 {
        return 0.0;
    }
    // ln(x^a e^-x / Γ(a)), the common prefactor of both expansions.
    let log_prefix = a * libm::log(x) - x - libm::lgamma(a);
    if x < a + 1.0 {
        // Series of the lower function P converges fast below the mean.
        let mut term = 1.0 / a;
        let mut sum = term;
        let mut ap = a;
        for _ in 0..1000 {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if term.abs() < sum.abs() * 1e-16 {
                break;
            }
        }
        (1.0 - sum * libm::exp(log_prefix)).clamp(0.0, 1.0)
    } else {
        // Continued fraction of Q (modified Lentz) converges fast above the mean.
        const TINY: f64 = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / TINY;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..1000 {
            let i = f64::from(i);
            let an = -i * (i - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < TINY {
                d = TINY;
            }
            c = b + an / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-16 {
                break;
            }
        }
        (libm::exp(log_prefix) * h).clamp(0.0, 1.0)
    }
}

/// Jensen–Shannon distance (square root of the divergence in bits) between the shares of two
/// count vectors over the same bins; in `[0, 1]`.
pub fn js_distance(reference: &[u64], current: &[u64]) -> f64 {
    let (p, q) = (shares(reference), shares(current));
    let kl = |a: f64, m: f64| if a > 0.0 { a * libm::log2(a / m) } else { 0.0 };
    let divergence: f64 = p
        .iter()
        .zip(&q)
        .map(|(&a, &b)| {
            let m = (a + b) / 2.0;
            0.5 * kl(a, m) + 0.5 * kl(b, m)
        })
        .sum();
    libm::sqrt(divergence.max(0.0))
}

/// Representative points of the bins defined by ascending `upper_edges` (see the module docs).
pub(crate) fn bin_points(upper_edges: &[f64], fallback_width: f64) -> Vec<f64> {
    let k = upper_edges.len();
    match k {
        0 => vec![0.0],
        1 => vec![
            upper_edges[0] - fallback_width / 2.0,
            upper_edges[0] + fallback_width / 2.0,
        ],
        _ => {
            let mut points = Vec::with_capacity(k + 1);
            points.push(upper_edges[0] - (upper_edges[1] - upper_edges[0]) / 2.0);
            points.extend(upper_edges.windows(2).map(|w| (w[0] + w[1]) / 2.0));
            points.push(upper_edges[k - 1] + (upper_edges[k - 1] - upper_edges[k - 2]) / 2.0);
            points
        }
    }
}

/// Wasserstein-1 distance between two distributions given as counts at sorted `points`.
pub fn wasserstein_points(points: &[f64], reference: &[u64], current: &[u64]) -> f64 {
    let (n, m) = (total(reference), total(current));
    if n == 0 || m == 0 {
        return 0.0;
    }
    let (mut fr, mut fc, mut w) = (0.0, 0.0, 0.0);
    for i in 0..points.len().saturating_sub(1) {
        fr += reference.get(i).copied().unwrap_or(0) as f64 / n as f64;
        fc += current.get(i).copied().unwrap_or(0) as f64 / m as f64;
        w += (fr - fc).abs() * (points[i + 1] - points[i]);
    }
    w
}

pub(crate) fn two_proportion_p(a: u64, n: u64, b: u64, m: u64) -> f64 {
    if n == 0 || m == 0 {
        return 1.0;
    }
    let (pa, pb) = (a as f64 / n as f64, b as f64 / m as f64);
    let pooled = (a + b) as f64 / (n + m) as f64;
    let se = libm::sqrt(pooled * (1.0 - pooled) * (1.0 / n as f64 + 1.0 / m as f64));
    if se == 0.0 {
        return if pa == pb { 1.0 } else { 0.0 };
    }
    libm::erfc((pa - pb).abs() / se / core::f64::consts::SQRT_2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn psi_matches_hand_computation() {
        // (0.25 - 0.5) ln(0.5) + (0.75 - 0.5) ln(1.5)
        assert!(close(psi(&[50, 50], &[25, 75]), 0.274_653_072, 1e-8));
        // An empty bin is floored at 1e-4: (0.5 - 1) ln(0.5) + (0.5 - 1e-4) ln(5000).
        assert!(close(psi(&[100, 0], &[50, 50]), 4.604_318_467, 1e-8));
        assert_eq!(psi(&[3, 7], &[30, 70]), 0.0);
    }

    #[test]
    fn kolmogorov_distribution_matches_known_values_on_both_branches() {
        for (lambda, q) in [
            (0.5, 0.963_945_243_7),
            (0.8, 0.544_142_411_6),
            (1.0, 0.269_999_671_7),
            (1.18, 0.123_453_809_4),
            (1.36, 0.049_485_876_8),
            (2.0, 0.000_670_925_3),
        ] {
            assert!(close(kolmogorov_q(lambda), q, 1e-9), "Q({lambda})");
        }
        assert_eq!(kolmogorov_q(0.0), 1.0);
    }

    #[test]
    fn binned_ks_matches_hand_computation() {
        // CDFs 0.3, 0.6, 1 and 0.1, 0.3, 1: D = 0.3 with n = m = 100.
        let ks = ks_binned(&[30, 30, 40], &[10, 20, 70]);
        assert!(close(ks.statistic, 0.3, 1e-12));
        assert!(close(ks.p_value, 0.000_174_213, 1e-8));
        let same = ks_binned(&[5, 5], &[50, 50]);
        assert_eq!(same.statistic, 0.0);
        assert_eq!(same.p_value, 1.0);
    }

    #[test]
    fn chi_square_and_incomplete_gamma_match_hand_computation() {
        // Expected 15 in every cell: 4 * 25 / 15; with 1 dof the p-value is erfc(sqrt(x / 2)).
        let c = chi_square(&[10, 20, 0], &[20, 10, 0]);
        assert!(close(c.statistic, 20.0 / 3.0, 1e-12));
        assert_eq!(c.dof, 1);
        assert!(close(c.p_value, 0.009_823_274_5, 1e-9));
        // Closed forms for integer a: Q(a, x) = e^-x Σ_{k<a} x^k / k!.
        assert!(close(gamma_q(2.0, 4.74385), 0.050_000_599_5, 1e-9)); // continued fraction
        assert!(close(gamma_q(3.0, 1.5), 0.808_846_830_5, 1e-9)); // series
        assert!(close(gamma_q(1.0, 0.3), libm::exp(-0.3), 1e-12));
        assert_eq!(chi_square(&[4, 0], &[8, 0]).p_value, 1.0);
    }

    #[test]
    fn js_distance_matches_hand_computation() {
        assert!(close(js_distance(&[1, 0], &[0, 1]), 1.0, 1e-12));
        assert!(close(js_distance(&[7, 3], &[70, 30]), 0.0, 1e-12));
        // M = (0.75, 0.25): JS = (0.207519 + 0.415037) / 2.
        assert!(close(js_distance(&[1, 1], &[1, 0]), 0.557_923_045, 1e-8));
    }

    #[test]
    fn wasserstein_on_bin_points() {
        assert_eq!(bin_points(&[1.0, 2.0, 4.0], 1.0), vec![0.5, 1.5, 3.0, 5.0]);
        assert_eq!(bin_points(&[3.0], 2.0), vec![2.0, 4.0]);
        assert!(close(
            wasserstein_points(&[0.0, 1.0, 2.0], &[4, 0, 0], &[0, 0, 4]),
            2.0,
            1e-12
        ));
        assert!(close(
            wasserstein_points(&[0.0, 1.0], &[1, 1], &[0, 2]),
            0.5,
            1e-12
        ));
    }
}
