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

pub mod drift;
pub mod html;
pub mod report;
pub mod statistics;
pub mod windows;

pub use drift::{
    drift_of_table, performance, ColumnDrift, DriftParams, DriftReport, MetricCheck, MissingChange,
    Performance, ScoreDrift, TableDrift, Verdict,
};
pub use statistics::{
    chi_square, gamma_q, js_distance, kolmogorov_q, ks_binned, psi, wasserstein_points, ChiSquare,
    TestResult, PSI_EPSILON,
};
pub(crate) use windows::TableRows;
pub use windows::{CurrentColumn, CurrentWindow, LevelCount, MAX_UNSEEN_LEVELS};
