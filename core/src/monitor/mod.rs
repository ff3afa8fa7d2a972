//! Drift monitoring: compares a current batch (or a window the edge worker accumulated) with the
//! training reference stored in the artifact, and, when labels are back, the model's performance
//! with its cross-validated training performance.
//!
//! Everything works on mergeable sketches ([`CurrentWindow`]): per input column the counts over
//! the *reference's* bins, missing and present counts and running moments, plus the score
//! histogram. Windows of one model add up with [`CurrentWindow::merge`], so a worker can keep one
//! window per hour and report over a day without keeping rows.
//!
//! # Statistics
//!
//! All distribution statistics are computed from the binned counts (present values only; missing
//! values are judged separately by the missing-rate change):
//! - **PSI** `Σ (c_i − r_i) · ln(c_i / r_i)` over the bins, with shares floored at
//!   [`PSI_EPSILON`] (`1e-4`) so an empty bin gives a large but finite term. Numeric columns use
//!   the reference's decile bins, categorical columns one bin per training level plus `other`,
//!   the score the twenty equal-width probability bins.
//! - **KS** (numeric columns and the score): the largest gap between the two *binned* CDFs,
//!   evaluated at the bin edges. This is the binned approximation of the two-sample KS
//!   statistic: it never exceeds the exact one and equals it when the largest gap falls on an
//!   edge. Its p-value is the asymptotic Kolmogorov distribution `Q(λ)` with
//!   `λ = (√nₑ + 0.12 + 0.11/√nₑ) · D` and `nₑ = n·m/(n+m)` (Stephens' small-sample correction).
//! - **Wasserstein-1** (numeric): the distance between the two binned distributions with each
//!   bin placed at a representative point — interior bins at their midpoint, the two open end
//!   bins half a neighbouring bin width beyond their edge (the reference standard deviation when
//!   there is a single edge) — divided by the reference standard deviation (from the running
//!   moments), so `0.1` means "a tenth of a standard deviation of mass moved".
//! - **Chi-square** (categorical): the test of homogeneity of the 2 × k table reference/current
//!   counts over the bins with any count; `dof = k − 1`; the p-value is the regularised upper
//!   incomplete gamma `Q(dof/2, χ²/2)`.
//! - **Jensen–Shannon distance** (categorical): the square root of the JS divergence in bits, in
//!   `[0, 1]`.
//! - **Missing rate**: current minus reference share of missing cells, with a two-proportion
//!   z-test p-value.
//!
//! # Verdicts
//!
//! A column's distribution verdict is `drift` when PSI ≥ [`DriftParams::psi_drift`] (0.25) *and*
//! the test (KS for numeric, chi-square for categorical) has p < [`DriftParams::alpha`] (0.01);
//! `warn` when PSI ≥ [`DriftParams::psi_warn`] (0.1) and p < alpha; `ok` otherwise. Requiring
//! both guards in both directions: PSI is an effect size, so a huge sample whose tests reject
//! trivial shifts (p ≈ 0 with PSI 0.01) stays `ok`; the p-value guards small samples, whose PSI
//! is noisy. The missing-rate verdict is `drift` when the absolute change is ≥ 0.10, `warn` when
//! ≥ 0.05, each also needing p < alpha. The column's verdict is the worse of the two. The score
//! follows the same PSI/KS rule.
//!
//! The dataset verdict is `drift` when the share of drifted columns is ≥
//! [`DriftParams::dataset_drift_share`] (0.2) or labelled performance degraded; `warn` when any
//! column or the score is `warn` or `drift`; `ok` otherwise.
//!
//! # Performance
//!
//! With labels, ROC-AUC and recall at the artifact's threshold are compared with the training
//! cross-validated values (`artifact.metrics.calibrated_cv`). Each gets a percentile bootstrap
//! confidence interval; a metric is *degraded* only when the training value lies above the
//! interval's upper end, so sampling noise of a small batch does not raise an alarm.

pub mod report;

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::data::schema::ColumnKind;
use crate::data::table::{Table, Value};
use crate::error::{Error, Result};
use crate::features::{level_text, numeric_value, FittedPipeline};
use crate::metrics::{bootstrap_ci, roc_auc};
use crate::serve::artifact::Artifact;
use crate::serve::drift::{Bins, ColumnSketch, Reference, ScoreHistogram, SCORE_BINS};
use crate::serve::scorer::Scorer;

/// Floor of a bin's share in PSI, so a bin empty on one side contributes a finite term.
pub const PSI_EPSILON: f64 = 1e-4;

/// Distinct unseen categorical levels a window names; further ones are only counted.
pub const MAX_UNSEEN_LEVELS: usize = 32;

/// Thresholds of the verdicts and settings of the performance check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftParams {
    /// PSI at or above which a column (or the score) is `warn`.
    pub psi_warn: f64,
    /// PSI at or above which a column (or the score) is `drift`.
    pub psi_drift: f64,
    /// Significance level the tests must reach before any flag.
    pub alpha: f64,
    /// Absolute missing-rate change at or above which a column is `warn`.
    pub missing_warn: f64,
    /// Absolute missing-rate change at or above which a column is `drift`.
    pub missing_drift: f64,
    /// Share of drifted columns at or above which the dataset is `drift`.
    pub dataset_drift_share: f64,
    /// Bootstrap resamples of the performance confidence intervals.
    pub n_boot: usize,
    /// Confidence level of those intervals.
    pub confidence: f64,
    /// Seed of the bootstrap.
    pub seed: u64,
}

impl Default for DriftParams {
    fn default() -> Self {
        DriftParams {
            psi_warn: 0.1,
            psi_drift: 0.25,
            alpha: 0.01,
            missing_warn: 0.05,
            missing_drift: 0.10,
            dataset_drift_share: 0.2,
            n_boot: 200,
            confidence: 0.95,
            seed: 42,
        }
    }
}

impl DriftParams {
    /// Sets the PSI thresholds of `warn` and `drift`.
    pub fn with_psi(mut self, warn: f64, drift: f64) -> Self {
        self.psi_warn = warn;
        self.psi_drift = drift;
        self
    }

    /// Sets the significance level.
    pub fn with_alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }

    /// Sets the share of drifted columns that makes the dataset `drift`.
    pub fn with_dataset_drift_share(mut self, share: f64) -> Self {
        self.dataset_drift_share = share;
        self
    }

    /// Sets the number of bootstrap resamples.
    pub fn with_n_boot(mut self, n_boot: usize) -> Self {
        self.n_boot = n_boot;
        self
    }

    /// Sets the bootstrap seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

// ---------------------------------------------------------------------------------------------
// Statistics on binned counts.

fn total(counts: &[u64]) -> u64 {
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
fn bin_points(upper_edges: &[f64], fallback_width: f64) -> Vec<f64> {
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

fn two_proportion_p(a: u64, n: u64, b: u64, m: u64) -> f64 {
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

// ---------------------------------------------------------------------------------------------
// Current windows.

/// An unseen categorical level and how often it appeared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelCount {
    /// The level as written in the data.
    pub level: String,
    /// Rows holding it.
    pub count: u64,
}

/// One input column of a current window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurrentColumn {
    /// Counts on the reference's bins.
    pub sketch: ColumnSketch,
    /// Column type, to read values as the pipeline does.
    pub kind: ColumnKind,
    /// Levels the model does not know, by level (at most [`MAX_UNSEEN_LEVELS`]).
    pub unseen: Vec<LevelCount>,
    /// Unseen-level rows not named in `unseen` because it was full.
    pub unseen_untracked: u64,
}

impl CurrentColumn {
    fn note_unseen(&mut self, level: &str) {
        match self
            .unseen
            .binary_search_by(|l| l.level.as_str().cmp(level))
        {
            Ok(i) => self.unseen[i].count += 1,
            Err(i) if self.unseen.len() < MAX_UNSEEN_LEVELS => self.unseen.insert(
                i,
                LevelCount {
                    level: level.to_string(),
                    count: 1,
                },
            ),
            Err(_) => self.unseen_untracked += 1,
        }
    }

    fn merge(&mut self, other: &CurrentColumn) {
        self.sketch.merge(&other.sketch);
        self.unseen_untracked += other.unseen_untracked;
        for l in &other.unseen {
            match self.unseen.binary_search_by(|m| m.level.cmp(&l.level)) {
                Ok(i) => self.unseen[i].count += l.count,
                Err(i) => self.unseen.insert(i, l.clone()),
            }
        }
        if self.unseen.len() > MAX_UNSEEN_LEVELS {
            // Keep the most frequent levels named; the rest stay counted.
            self.unseen
                .sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.level.cmp(&b.level)));
            let dropped: u64 = self.unseen[MAX_UNSEEN_LEVELS..]
                .iter()
                .map(|l| l.count)
                .sum();
            self.unseen_untracked += dropped;
            self.unseen.truncate(MAX_UNSEEN_LEVELS);
            self.unseen.sort_by(|a, b| a.level.cmp(&b.level));
        }
    }
}

/// Mergeable summary of a current batch or time window of one model's inputs and scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurrentWindow {
    /// Model the window belongs to (windows of different models do not merge).
    pub model_id: String,
    /// Snapshot date for date ages when a row has none (the pipeline's).
    pub default_snapshot: f64,
    /// One entry per model input column, in pipeline input order.
    pub columns: Vec<CurrentColumn>,
    /// Scores of the rows that could be scored.
    pub scores: ScoreHistogram,
    /// Rows observed.
    pub rows: u64,
}

impl CurrentWindow {
    /// An empty window for `artifact`'s model.
    pub fn new(artifact: &Artifact) -> Result<Self> {
        Self::for_pipeline(&artifact.model_id, &artifact.pipeline, &artifact.reference)
    }

    /// An empty window on `reference`'s bins for the inputs of `pipeline`.
    pub fn for_pipeline(
        model_id: &str,
        pipeline: &FittedPipeline,
        reference: &Reference,
    ) -> Result<Self> {
        if pipeline.inputs.len() != reference.columns.len()
            || pipeline
                .inputs
                .iter()
                .zip(&reference.columns)
                .any(|(i, c)| i.name != c.name)
        {
            return Err(Error::Artifact {
                message: String::from(
                    "the drift reference does not list the model's input columns: retrain to rebuild it",
                ),
            });
        }
        let columns = pipeline
            .inputs
            .iter()
            .zip(&reference.columns)
            .map(|(input, sketch)| CurrentColumn {
                sketch: sketch.empty_like(),
                kind: input.kind,
                unseen: Vec::new(),
                unseen_untracked: 0,
            })
            .collect();
        Ok(CurrentWindow {
            model_id: model_id.to_string(),
            default_snapshot: pipeline.default_snapshot,
            columns,
            scores: ScoreHistogram::default(),
            rows: 0,
        })
    }

    /// Adds one customer: raw `values` aligned with the model's inputs, its snapshot date (days
    /// since 1970-01-01, `None` for the pipeline's default) and its score when it could be
    /// scored. Unreadable values count as missing, as in the reference.
    pub fn observe_values(
        &mut self,
        values: &[Value<'_>],
        snapshot: Option<f64>,
        score: Option<f64>,
    ) -> Result<()> {
        if values.len() != self.columns.len() {
            return Err(Error::InvalidParameter {
                name: "values".into(),
                message: format!(
                    "expected {} values (one per model input) but got {}",
                    self.columns.len(),
                    values.len()
                ),
            });
        }
        let snapshot = snapshot.unwrap_or(self.default_snapshot);
        let mut scratch = String::new();
        for (column, &value) in self.columns.iter_mut().zip(values) {
            match &column.sketch.bins {
                Bins::Numeric { .. } => {
                    column
                        .sketch
                        .observe_number(numeric_value(column.kind, value, snapshot))
                }
                Bins::Categorical { levels } => {
                    let level = level_text(value, &mut scratch);
                    if let Some(l) = level {
                        if !levels.iter().any(|k| k == l) {
                            column.note_unseen(l);
                        }
                    }
                    column.sketch.observe_level(level);
                }
            }
        }
        if let Some(p) = score.filter(|p| !p.is_nan()) {
            self.scores.observe(p);
        }
        self.rows += 1;
        Ok(())
    }

    /// Adds another window of the same model into this one.
    pub fn merge(&mut self, other: &CurrentWindow) -> Result<()> {
        if other.model_id != self.model_id {
            return Err(Error::InvalidParameter {
                name: "window".into(),
                message: format!(
                    "windows of models {} and {} cannot be merged: merge windows of one model only",
                    self.model_id, other.model_id
                ),
            });
        }
        if other.columns.len() != self.columns.len()
            || other
                .columns
                .iter()
                .zip(&self.columns)
                .any(|(a, b)| a.sketch.bins != b.sketch.bins || a.sketch.name != b.sketch.name)
        {
            return Err(Error::InvalidParameter {
                name: "window".into(),
                message: String::from(
                    "the windows have different columns or bins: start both from the same artifact",
                ),
            });
        }
        for (a, b) in self.columns.iter_mut().zip(&other.columns) {
            a.merge(b);
        }
        for (a, b) in self.scores.counts.iter_mut().zip(&other.scores.counts) {
            *a += b;
        }
        self.rows += other.rows;
        Ok(())
    }

    /// The drift report of this window against `reference` with default thresholds.
    pub fn report(&self, reference: &Reference) -> Result<DriftReport> {
        self.report_with(reference, &DriftParams::default(), None)
    }

    /// The drift report of this window against `reference`, with `performance` when labels
    /// were available.
    pub fn report_with(
        &self,
        reference: &Reference,
        params: &DriftParams,
        performance: Option<Performance>,
    ) -> Result<DriftReport> {
        if self.rows == 0 {
            return Err(Error::EmptyInput);
        }
        if reference.columns.len() != self.columns.len()
            || reference
                .columns
                .iter()
                .zip(&self.columns)
                .any(|(r, c)| r.bins != c.sketch.bins)
        {
            return Err(Error::InvalidParameter {
                name: "reference".into(),
                message: String::from(
                    "the window was not built on this reference's bins: use the artifact the window was started from",
                ),
            });
        }
        let mut columns: Vec<ColumnDrift> = reference
            .columns
            .iter()
            .zip(&self.columns)
            .map(|(r, c)| column_drift(r, c, params))
            .collect();
        columns.sort_by(|a, b| {
            b.verdict
                .cmp(&a.verdict)
                .then_with(|| b.severity().total_cmp(&a.severity()))
                .then_with(|| a.name.cmp(&b.name))
        });
        let score_drift = score_drift(&reference.scores, &self.scores, params);
        let drifted = columns
            .iter()
            .filter(|c| c.verdict == Verdict::Drift)
            .count();
        let warned = columns
            .iter()
            .filter(|c| c.verdict == Verdict::Warn)
            .count();
        let drifted_share = if columns.is_empty() {
            0.0
        } else {
            drifted as f64 / columns.len() as f64
        };
        let degraded = performance.as_ref().is_some_and(|p| p.degraded);
        let dataset_verdict =
            if degraded || (drifted > 0 && drifted_share >= params.dataset_drift_share) {
                Verdict::Drift
            } else if drifted + warned > 0 || score_drift.verdict != Verdict::Ok {
                Verdict::Warn
            } else {
                Verdict::Ok
            };
        let recommendation = recommend(
            dataset_verdict,
            &columns,
            &score_drift,
            performance.as_ref(),
        );
        let reference_rows = reference
            .columns
            .first()
            .map(|c| c.present + c.missing)
            .unwrap_or_else(|| total(&reference.scores.counts));
        Ok(DriftReport {
            model_id: self.model_id.clone(),
            reference_rows,
            current_rows: self.rows,
            columns,
            drifted_columns: drifted,
            warned_columns: warned,
            drifted_share,
            score_drift,
            performance,
            dataset_verdict,
            recommendation,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Reports.

/// How worried to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Nothing beyond noise.
    Ok,
    /// A moderate shift: watch it.
    Warn,
    /// A large, significant shift.
    Drift,
}

impl Verdict {
    /// The verdict's name as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Warn => "warn",
            Verdict::Drift => "drift",
        }
    }
}

/// Missing-rate change of one column.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MissingChange {
    /// Share of missing cells in the reference.
    pub reference_rate: f64,
    /// Share of missing cells in the current data.
    pub current_rate: f64,
    /// `current_rate − reference_rate`.
    pub change: f64,
    /// Two-proportion z-test p-value of the change.
    pub p_value: f64,
}

/// Drift of one input column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnDrift {
    /// Column name.
    pub name: String,
    /// `numeric` or `categorical` (how it was binned).
    pub kind: String,
    /// Present values in the reference.
    pub reference_present: u64,
    /// Present values in the current data.
    pub current_present: u64,
    /// PSI over the bins (absent when either side has no present value).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub psi: Option<f64>,
    /// Binned KS test (numeric).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ks: Option<TestResult>,
    /// Binned Wasserstein-1 distance over the reference standard deviation (numeric).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub wasserstein: Option<f64>,
    /// Reference mean of present values (numeric).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reference_mean: Option<f64>,
    /// Current mean of present values (numeric).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub current_mean: Option<f64>,
    /// Chi-square test of homogeneity (categorical).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub chi_square: Option<ChiSquare>,
    /// Jensen–Shannon distance (categorical).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub js_distance: Option<f64>,
    /// Levels the model does not know, most frequent first (categorical).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub new_categories: Vec<LevelCount>,
    /// Rows with unknown levels not named in `new_categories`.
    #[serde(skip_serializing_if = "is_zero", default)]
    pub new_categories_untracked: u64,
    /// Training levels absent from the current data (categorical).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub vanished_categories: Vec<String>,
    /// Missing-rate change.
    pub missing: MissingChange,
    /// The column's verdict.
    pub verdict: Verdict,
    /// Why the verdict is not `ok`.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub reasons: Vec<String>,
}

fn is_zero(x: &u64) -> bool {
    *x == 0
}

impl ColumnDrift {
    /// Effect size used to order columns of equal verdict.
    fn severity(&self) -> f64 {
        self.psi.unwrap_or(0.0).max(self.missing.change.abs())
    }
}

/// Drift of the model's score distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreDrift {
    /// PSI over the twenty score bins.
    pub psi: f64,
    /// Binned KS test over the score bins.
    pub ks: TestResult,
    /// Mean reference score (bin midpoints).
    pub reference_mean: f64,
    /// Mean current score (bin midpoints).
    pub current_mean: f64,
    /// Rows scored in the current data.
    pub current_scored: u64,
    /// Verdict by the PSI/KS rule.
    pub verdict: Verdict,
}

/// A metric compared with its training value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MetricCheck {
    /// Cross-validated training value.
    pub training: f64,
    /// Value on the current labelled rows.
    pub current: f64,
    /// Lower end of the bootstrap interval of `current`.
    pub ci_low: f64,
    /// Upper end of the bootstrap interval of `current`.
    pub ci_high: f64,
    /// Whether the training value lies above the interval (a real drop, not noise).
    pub degraded: bool,
}

/// Performance on labelled current rows against training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Performance {
    /// Labelled rows scored.
    pub rows: usize,
    /// Share of churners among them.
    pub positive_rate: f64,
    /// Decision threshold recall is measured at.
    pub threshold: f64,
    /// Confidence level of the intervals.
    pub confidence: f64,
    /// ROC-AUC.
    pub roc_auc: MetricCheck,
    /// Recall at the threshold.
    pub recall: MetricCheck,
    /// Whether either metric degraded.
    pub degraded: bool,
}

/// Everything `ebb drift` reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    /// Model compared against.
    pub model_id: String,
    /// Rows behind the reference.
    pub reference_rows: u64,
    /// Rows in the current data.
    pub current_rows: u64,
    /// Per input column, most severe first.
    pub columns: Vec<ColumnDrift>,
    /// Columns with verdict `drift`.
    pub drifted_columns: usize,
    /// Columns with verdict `warn`.
    pub warned_columns: usize,
    /// `drifted_columns / columns`.
    pub drifted_share: f64,
    /// Drift of the score distribution.
    pub score_drift: ScoreDrift,
    /// Performance against training, when labels were given.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub performance: Option<Performance>,
    /// Overall verdict.
    pub dataset_verdict: Verdict,
    /// What to do, in one sentence.
    pub recommendation: String,
}

fn mean_of(sketch: &ColumnSketch) -> Option<f64> {
    (sketch.present > 0).then(|| sketch.sum / sketch.present as f64)
}

fn std_of(sketch: &ColumnSketch) -> f64 {
    match mean_of(sketch) {
        Some(mean) => {
            libm::sqrt((sketch.sum_squares / sketch.present as f64 - mean * mean).max(0.0))
        }
        None => 0.0,
    }
}

fn verdict_of(effect: f64, p_value: f64, warn: f64, drift: f64, alpha: f64) -> Verdict {
    if p_value >= alpha {
        Verdict::Ok
    } else if effect >= drift {
        Verdict::Drift
    } else if effect >= warn {
        Verdict::Warn
    } else {
        Verdict::Ok
    }
}

fn format_p(p: f64) -> String {
    if p < 0.001 {
        String::from("p < 0.001")
    } else {
        format!("p = {p:.3}")
    }
}

fn column_drift(
    reference: &ColumnSketch,
    current: &CurrentColumn,
    params: &DriftParams,
) -> ColumnDrift {
    let cur = &current.sketch;
    let both = reference.present > 0 && cur.present > 0;
    let psi_value = both.then(|| psi(&reference.counts, &cur.counts));
    let ref_total = reference.present + reference.missing;
    let cur_total = cur.present + cur.missing;
    let missing = MissingChange {
        reference_rate: reference.missing_rate(),
        current_rate: cur.missing_rate(),
        change: cur.missing_rate() - reference.missing_rate(),
        p_value: two_proportion_p(reference.missing, ref_total, cur.missing, cur_total),
    };
    let mut drift = ColumnDrift {
        name: reference.name.clone(),
        kind: String::new(),
        reference_present: reference.present,
        current_present: cur.present,
        psi: psi_value,
        ks: None,
        wasserstein: None,
        reference_mean: None,
        current_mean: None,
        chi_square: None,
        js_distance: None,
        new_categories: Vec::new(),
        new_categories_untracked: 0,
        vanished_categories: Vec::new(),
        missing,
        verdict: Verdict::Ok,
        reasons: Vec::new(),
    };
    let test_p = match &reference.bins {
        Bins::Numeric { upper_edges } => {
            drift.kind = String::from("numeric");
            drift.reference_mean = mean_of(reference);
            drift.current_mean = mean_of(cur);
            let ks = ks_binned(&reference.counts, &cur.counts);
            if both {
                let sd = std_of(reference);
                let points = bin_points(upper_edges, sd);
                let w = wasserstein_points(&points, &reference.counts, &cur.counts);
                drift.wasserstein = Some(if sd > 0.0 { w / sd } else { w });
                drift.ks = Some(ks);
            }
            ("KS", ks.p_value)
        }
        Bins::Categorical { levels } => {
            drift.kind = String::from("categorical");
            let chi = chi_square(&reference.counts, &cur.counts);
            if both {
                drift.chi_square = Some(chi);
                drift.js_distance = Some(js_distance(&reference.counts, &cur.counts));
            }
            let mut unseen = current.unseen.clone();
            unseen.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.level.cmp(&b.level)));
            drift.new_categories = unseen;
            drift.new_categories_untracked = current.unseen_untracked;
            if cur.present > 0 {
                drift.vanished_categories = levels
                    .iter()
                    .zip(reference.counts.iter().zip(&cur.counts))
                    .filter(|(_, (&r, &c))| r > 0 && c == 0)
                    .map(|(l, _)| l.clone())
                    .collect();
            }
            ("chi-square", chi.p_value)
        }
    };
    let (test, p) = test_p;
    let distribution = match psi_value {
        Some(v) => verdict_of(v, p, params.psi_warn, params.psi_drift, params.alpha),
        None => Verdict::Ok,
    };
    if distribution != Verdict::Ok {
        drift.reasons.push(format!(
            "PSI {:.3} >= {} ({test} {})",
            psi_value.unwrap_or(0.0),
            if distribution == Verdict::Drift {
                params.psi_drift
            } else {
                params.psi_warn
            },
            format_p(p)
        ));
    }
    let missing_verdict = verdict_of(
        missing.change.abs(),
        missing.p_value,
        params.missing_warn,
        params.missing_drift,
        params.alpha,
    );
    if missing_verdict != Verdict::Ok {
        drift.reasons.push(format!(
            "missing rate {:.3} -> {:.3} ({})",
            missing.reference_rate,
            missing.current_rate,
            format_p(missing.p_value)
        ));
    }
    if !drift.new_categories.is_empty() && distribution != Verdict::Ok {
        let names: Vec<&str> = drift
            .new_categories
            .iter()
            .take(3)
            .map(|l| l.level.as_str())
            .collect();
        drift
            .reasons
            .push(format!("new categories: {}", names.join(", ")));
    }
    drift.verdict = distribution.max(missing_verdict);
    drift
}

fn histogram_mean(counts: &[u64]) -> f64 {
    let n = total(counts);
    if n == 0 {
        return 0.0;
    }
    counts
        .iter()
        .enumerate()
        .map(|(i, &c)| c as f64 * (i as f64 + 0.5) / SCORE_BINS as f64)
        .sum::<f64>()
        / n as f64
}

fn score_drift(
    reference: &ScoreHistogram,
    current: &ScoreHistogram,
    params: &DriftParams,
) -> ScoreDrift {
    let scored = total(&current.counts);
    let both = scored > 0 && total(&reference.counts) > 0;
    let psi_value = if both {
        psi(&reference.counts, &current.counts)
    } else {
        0.0
    };
    let ks = ks_binned(&reference.counts, &current.counts);
    ScoreDrift {
        psi: psi_value,
        ks,
        reference_mean: histogram_mean(&reference.counts),
        current_mean: histogram_mean(&current.counts),
        current_scored: scored,
        verdict: verdict_of(
            psi_value,
            ks.p_value,
            params.psi_warn,
            params.psi_drift,
            params.alpha,
        ),
    }
}

fn name_list(columns: &[&ColumnDrift]) -> String {
    let names: Vec<&str> = columns.iter().take(3).map(|c| c.name.as_str()).collect();
    names.join(", ")
}

fn recommend(
    verdict: Verdict,
    columns: &[ColumnDrift],
    score: &ScoreDrift,
    performance: Option<&Performance>,
) -> String {
    let drifted: Vec<&ColumnDrift> = columns
        .iter()
        .filter(|c| c.verdict == Verdict::Drift)
        .collect();
    let warned: Vec<&ColumnDrift> = columns
        .iter()
        .filter(|c| c.verdict == Verdict::Warn)
        .collect();
    let n = columns.len();
    let mut parts: Vec<String> = Vec::new();
    if let Some(p) = performance {
        for (name, m) in [("ROC-AUC", &p.roc_auc), ("recall", &p.recall)] {
            if m.degraded {
                parts.push(format!(
                    "{name} {:.3} (CI {:.3}-{:.3}) is below the training {:.3}",
                    m.current, m.ci_low, m.ci_high, m.training
                ));
            }
        }
    }
    if !drifted.is_empty() {
        parts.push(format!(
            "{} of {n} columns drifted, including {}",
            drifted.len(),
            name_list(&drifted)
        ));
    }
    if !warned.is_empty() {
        parts.push(format!(
            "{} of {n} columns show a warning ({})",
            warned.len(),
            name_list(&warned)
        ));
    }
    if score.verdict != Verdict::Ok {
        parts.push(format!(
            "the score distribution shifted (PSI {:.3}, mean {:.3} -> {:.3})",
            score.psi, score.reference_mean, score.current_mean
        ));
    }
    match verdict {
        Verdict::Drift => format!("retrain: {}", parts.join("; ")),
        Verdict::Warn => format!(
            "watch: {}; not enough to retrain yet, check the next batch",
            parts.join("; ")
        ),
        Verdict::Ok => {
            String::from("no action: no column drifted and the score distribution is stable")
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Performance and whole tables.

fn recall_of_decisions(y: &[f64], decisions: &[f64]) -> Result<f64> {
    let positives = y.iter().filter(|&&v| v == 1.0).count();
    if positives == 0 {
        return Err(Error::InvalidParameter {
            name: "labels".into(),
            message: String::from("recall needs at least one churner among the labelled rows"),
        });
    }
    let hits = y
        .iter()
        .zip(decisions)
        .filter(|(&t, &d)| t == 1.0 && d == 1.0)
        .count();
    Ok(hits as f64 / positives as f64)
}

/// Compares ROC-AUC and recall at `threshold` of calibrated probabilities `p` on labels `y`
/// with the training values `training` (cross-validated report), with bootstrap intervals.
pub fn performance(
    training: &crate::metrics::Report,
    threshold: f64,
    y: &[f64],
    p: &[f64],
    params: &DriftParams,
) -> Result<Performance> {
    let auc = roc_auc(y, p)?;
    let (auc_low, auc_high) =
        bootstrap_ci(y, p, roc_auc, params.n_boot, params.confidence, params.seed)?;
    let decisions: Vec<f64> = p
        .iter()
        .map(|&s| if s >= threshold { 1.0 } else { 0.0 })
        .collect();
    let recall = recall_of_decisions(y, &decisions)?;
    let (rec_low, rec_high) = bootstrap_ci(
        y,
        &decisions,
        recall_of_decisions,
        params.n_boot,
        params.confidence,
        params.seed,
    )?;
    let check = |training: f64, current: f64, low: f64, high: f64| MetricCheck {
        training,
        current,
        ci_low: low,
        ci_high: high,
        degraded: training > high,
    };
    let roc_auc = check(training.roc_auc, auc, auc_low, auc_high);
    let recall = check(training.recall, recall, rec_low, rec_high);
    Ok(Performance {
        rows: y.len(),
        positive_rate: y.iter().sum::<f64>() / y.len() as f64,
        threshold,
        confidence: params.confidence,
        degraded: roc_auc.degraded || recall.degraded,
        roc_auc,
        recall,
    })
}

/// Reads a table's rows into a [`CurrentWindow`] as the pipeline reads them for scoring: the
/// model's input columns by name and each row's own snapshot date when the table has one.
pub(crate) struct TableRows<'a> {
    table: &'a Table,
    pipeline: &'a FittedPipeline,
    indices: Vec<usize>,
    time_index: Option<usize>,
    values: Vec<Value<'a>>,
}

impl<'a> TableRows<'a> {
    /// Fails when `table` lacks one of the model's input columns.
    pub(crate) fn new(pipeline: &'a FittedPipeline, table: &'a Table) -> Result<Self> {
        let indices = pipeline.column_indices(table)?;
        let time_index = pipeline
            .time_column
            .as_deref()
            .and_then(|t| table.column_index(t));
        Ok(TableRows {
            table,
            pipeline,
            values: Vec::with_capacity(indices.len()),
            indices,
            time_index,
        })
    }

    /// Adds row `r` to `window`, with its score when it could be scored.
    pub(crate) fn observe(
        &mut self,
        window: &mut CurrentWindow,
        r: usize,
        score: Option<f64>,
    ) -> Result<()> {
        let table = self.table;
        self.values.clear();
        self.values
            .extend(self.indices.iter().map(|&c| table.value(r, c)));
        let snapshot = self.pipeline.row_snapshot(table, self.time_index, r);
        window.observe_values(&self.values, snapshot, score)
    }
}

/// The outcome of checking a table for drift.
#[derive(Debug, Clone)]
pub struct TableDrift {
    /// The report.
    pub report: DriftReport,
    /// The table's window (mergeable with others of the same model).
    pub window: CurrentWindow,
    /// `(source row, reason)` of rows that could not be scored (their values still count).
    pub unscored: Vec<(usize, String)>,
    /// Why performance is absent although the table has the target column.
    pub performance_note: Option<String>,
}

/// Scores `table` with `artifact`, summarises it into a window and reports its drift; when the
/// table has the target column, performance on the rows with a valid label is compared too.
pub fn drift_of_table(
    artifact: &Artifact,
    table: &Table,
    params: &DriftParams,
) -> Result<TableDrift> {
    if table.n_rows() == 0 {
        return Err(Error::EmptyInput);
    }
    let mut rows = TableRows::new(&artifact.pipeline, table)?;
    let scores = Scorer::new(artifact.clone()).score_table(table)?;
    let target = artifact
        .schema
        .target
        .as_ref()
        .and_then(|t| table.column_index(&t.name).map(|c| (t, c)));
    let mut window = CurrentWindow::new(artifact)?;
    let mut unscored = Vec::new();
    let (mut y, mut p) = (Vec::new(), Vec::new());
    for (r, score) in scores.into_iter().enumerate() {
        let probability = match score {
            Ok(s) => Some(s.probability),
            Err(e) => {
                unscored.push((table.source_row(r), e.to_string()));
                None
            }
        };
        rows.observe(&mut window, r, probability)?;
        if let (Some((spec, c)), Some(prob)) = (target, probability) {
            if let Some(label) = spec.label(table.raw(r, c)) {
                y.push(label);
                p.push(prob);
            }
        }
    }
    let (perf, performance_note) = match target {
        None => (None, None),
        Some(_) if y.is_empty() => (
            None,
            Some(String::from(
                "the target column has no valid labels on scored rows",
            )),
        ),
        Some(_) => match performance(
            &artifact.metrics.calibrated_cv,
            artifact.threshold,
            &y,
            &p,
            params,
        ) {
            Ok(perf) => (Some(perf), None),
            Err(e) => (None, Some(e.to_string())),
        },
    };
    let report = window.report_with(&artifact.reference, params, perf)?;
    Ok(TableDrift {
        report,
        window,
        unscored,
        performance_note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::schema::{infer, InferOptions};
    use crate::data::synth::{generate_table, SynthParams};
    use crate::features::{FeatureParams, Target};

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

    fn table(n: usize, seed: u64, drift: f64) -> Table {
        generate_table(
            &SynthParams::default()
                .with_n_customers(n)
                .with_seed(seed)
                .with_drift(drift),
        )
        .unwrap()
    }

    /// A pipeline and reference fitted on 20,000 training rows; the scores are stand-ins (the
    /// label) so the score histogram has two spikes.
    fn fitted() -> (FittedPipeline, Reference) {
        let t = table(20_000, 1, 0.0);
        let schema = infer(&t, &InferOptions::default()).unwrap().schema;
        let y = crate::train::labels(&t, &schema).unwrap();
        let (pipeline, _) = FeatureParams::for_target(Target::Trees)
            .fit_transform(&t, &schema, &y)
            .unwrap();
        let scores: Vec<f64> = y.iter().map(|v| 0.1 + 0.8 * v).collect();
        let reference = Reference::build(&pipeline, &t, &scores).unwrap();
        (pipeline, reference)
    }

    fn observe(
        window: &mut CurrentWindow,
        pipeline: &FittedPipeline,
        t: &Table,
        rows: core::ops::Range<usize>,
    ) {
        let indices = pipeline.column_indices(t).unwrap();
        let schema = infer(t, &InferOptions::default()).unwrap().schema;
        let y = crate::train::labels(t, &schema).unwrap();
        for r in rows {
            let values: Vec<Value<'_>> = indices.iter().map(|&c| t.value(r, c)).collect();
            let score = 0.1 + 0.8 * y[r];
            window.observe_values(&values, None, Some(score)).unwrap();
        }
    }

    #[test]
    fn injected_shift_is_flagged_and_a_fresh_sample_is_not() {
        let (pipeline, reference) = fitted();
        let report_of = |t: &Table| {
            let mut w = CurrentWindow::for_pipeline("m-test", &pipeline, &reference).unwrap();
            observe(&mut w, &pipeline, t, 0..t.n_rows());
            w.report(&reference).unwrap()
        };
        let verdict = |r: &DriftReport, name: &str| {
            r.columns
                .iter()
                .find(|c| c.name == name)
                .map(|c| c.verdict)
                .unwrap()
        };

        // Full strength: every documented column moves clearly and the others not at all.
        let drifted = report_of(&table(20_000, 2, 1.0));
        for name in [
            "usage_hours_7d",
            "usage_hours_30d",
            "usage_hours_90d",
            "plan",
            "region",
            "engagement_score",
        ] {
            assert_eq!(
                verdict(&drifted, name),
                Verdict::Drift,
                "{name}: {drifted:#?}"
            );
        }
        assert_ne!(verdict(&drifted, "payment_method"), Verdict::Ok);
        for name in [
            "age",
            "gender",
            "tenure_months",
            "sessions_30d",
            "days_since_last_login",
            "devices",
            "support_tickets_90d",
            "discount_pct",
            "nps_score",
            "billing_cycle",
            "snapshot_date",
            "signup_date",
            "autopay",
            "payment_delays_6m",
            "monthly_fee",
        ] {
            assert_eq!(verdict(&drifted, name), Verdict::Ok, "{name}");
        }
        let region = drifted.columns.iter().find(|c| c.name == "region").unwrap();
        assert_eq!(region.new_categories[0].level, "overseas");
        let engagement = drifted
            .columns
            .iter()
            .find(|c| c.name == "engagement_score")
            .unwrap();
        assert!(close(engagement.missing.change, 0.25, 0.02));
        assert_eq!(drifted.dataset_verdict, Verdict::Drift);
        assert_eq!(drifted.columns[0].verdict, Verdict::Drift);
        assert!(drifted.recommendation.starts_with("retrain: "));
        assert_eq!(drifted.score_drift.current_scored, 20_000);

        let fresh = report_of(&table(20_000, 3, 0.0));
        assert!(
            fresh.columns.iter().all(|c| c.verdict != Verdict::Drift),
            "{fresh:#?}"
        );
        assert_ne!(fresh.dataset_verdict, Verdict::Drift);
        assert_eq!(fresh.drifted_columns, 0);
        assert_eq!(
            fresh.score_drift.verdict,
            Verdict::Ok,
            "{:?}",
            fresh.score_drift
        );
    }

    #[test]
    fn merged_windows_equal_one_window_over_all_rows() {
        let (pipeline, reference) = fitted();
        let t = table(3_000, 4, 0.7);
        let start = || CurrentWindow::for_pipeline("m-test", &pipeline, &reference).unwrap();
        let mut whole = start();
        observe(&mut whole, &pipeline, &t, 0..3_000);
        let mut a = start();
        observe(&mut a, &pipeline, &t, 0..1_234);
        let mut b = start();
        observe(&mut b, &pipeline, &t, 1_234..3_000);
        a.merge(&b).unwrap();
        assert_eq!(a.rows, whole.rows);
        assert_eq!(a.scores, whole.scores);
        for (x, y) in a.columns.iter().zip(&whole.columns) {
            assert_eq!(x.sketch.counts, y.sketch.counts);
            assert_eq!(
                (x.sketch.missing, x.sketch.present),
                (y.sketch.missing, y.sketch.present)
            );
            assert!(close(
                x.sketch.sum,
                y.sketch.sum,
                1e-9 * y.sketch.sum.abs().max(1.0)
            ));
            assert_eq!(x.unseen, y.unseen);
        }
        let (ra, rw) = (
            a.report(&reference).unwrap(),
            whole.report(&reference).unwrap(),
        );
        assert_eq!(ra.dataset_verdict, rw.dataset_verdict);
        assert_eq!(ra.drifted_columns, rw.drifted_columns);

        let json = serde_json::to_string(&whole).unwrap();
        let back: CurrentWindow = serde_json::from_str(&json).unwrap();
        assert_eq!(back, whole);

        let mut other = CurrentWindow::for_pipeline("m-other", &pipeline, &reference).unwrap();
        assert!(other.merge(&whole).is_err());
        assert!(start().report(&reference).is_err());
        assert!(start()
            .observe_values(&[Value::Missing], None, None)
            .is_err());
    }

    #[test]
    fn unseen_levels_are_bounded_and_merge_keeps_the_most_frequent() {
        let sketch = ColumnSketch {
            name: "plan".into(),
            bins: Bins::Categorical {
                levels: vec!["basic".into()],
            },
            counts: vec![0, 0],
            missing: 0,
            present: 0,
            sum: 0.0,
            sum_squares: 0.0,
        };
        let mut column = CurrentColumn {
            sketch,
            kind: ColumnKind::Categorical,
            unseen: Vec::new(),
            unseen_untracked: 0,
        };
        let mut other = column.clone();
        for i in 0..MAX_UNSEEN_LEVELS + 5 {
            column.note_unseen(&format!("a{i:02}"));
        }
        assert_eq!(column.unseen.len(), MAX_UNSEEN_LEVELS);
        assert_eq!(column.unseen_untracked, 5);
        for _ in 0..3 {
            other.note_unseen("zz");
        }
        column.merge(&other);
        assert_eq!(column.unseen.len(), MAX_UNSEEN_LEVELS);
        assert!(column
            .unseen
            .iter()
            .any(|l| l.level == "zz" && l.count == 3));
        assert_eq!(column.unseen_untracked, 6);
        assert!(column.unseen.windows(2).all(|w| w[0].level < w[1].level));
    }

    #[test]
    fn performance_flags_only_drops_outside_the_interval() {
        let mut rng = crate::rng::Rng::new(7);
        let y: Vec<f64> = (0..2_000).map(|i| f64::from(i % 5 == 0)).collect();
        // Scores that separate the classes well: AUC near 0.9.
        let p: Vec<f64> = y
            .iter()
            .map(|&v| (0.3 * v + 0.7 * rng.next_f64()).clamp(0.0, 1.0))
            .collect();
        let current = roc_auc(&y, &p).unwrap();
        let training = crate::metrics::evaluate(&y, &p, 0.5).unwrap();
        let params = DriftParams::default().with_n_boot(100);
        let same = performance(&training, 0.5, &y, &p, &params).unwrap();
        assert!(!same.roc_auc.degraded);
        assert!(same.roc_auc.ci_low <= current && current <= same.roc_auc.ci_high);
        let mut better = training.clone();
        better.roc_auc = 0.99;
        better.recall = 1.0;
        let worse = performance(&better, 0.5, &y, &p, &params).unwrap();
        assert!(worse.roc_auc.degraded && worse.recall.degraded && worse.degraded);
    }
}
