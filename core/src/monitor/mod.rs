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
//! Each column's distribution is judged by effect sizes, numbers that measure *how far* it moved
//! and do not grow with the sample (a p-value does: at 100,000 rows any trivial shift has
//! p ≈ 0):
//!
//! | statistic | columns | `warn` from | `drift` from |
//! |---|---|---|---|
//! | PSI | all | [`DriftParams::psi_warn`] 0.1 | [`DriftParams::psi_drift`] 0.25 |
//! | Wasserstein-1 / reference sd | numeric | [`DriftParams::wasserstein_warn`] 0.05 | [`DriftParams::wasserstein_drift`] 0.1 |
//! | Jensen–Shannon distance (bits) | categorical | [`DriftParams::js_warn`] 0.05 | [`DriftParams::js_drift`] 0.1 |
//!
//! The distribution verdict is the worst level any of them reaches, and only when the column's
//! test (KS for numeric, chi-square for categorical) has p < [`DriftParams::alpha`] (0.01)
//! divided by the number of columns (Bonferroni, so the chance of *any* false column flag in a
//! report stays under alpha). The test never raises a verdict; it vetoes one on a sample too
//! small to tell a shift from noise (on ten bins a fresh 50-row batch has PSI ≈ 0.2 by chance,
//! and at 2,000 rows `referral_source`'s many levels give JS ≈ 0.05). At the sizes drift is
//! checked on in practice the test rejects long before an effect size reaches its threshold, so
//! there the verdict is the effect size's.
//!
//! Why these statistics and thresholds:
//! - PSI's 0.1 / 0.25 are the credit-scoring conventions ("some" / "major" population shift). PSI
//!   only sees mass moving *between* decile bins, so a shift within the bins reads low: a 10% fee
//!   rise or a 30% usage drop on the generated data gives PSI 0.17–0.18, under 0.25.
//! - Wasserstein-1 over the reference sd sees how far the mass moved, in standard deviations
//!   (for a shift of the whole distribution it is the shift over sd, Cohen's d). 0.1 is the
//!   default drift threshold of Evidently's normed Wasserstein distance; those two cases give
//!   0.12–0.13, so they are `drift`, as a price rise is to any operator. `warn` at half that.
//! - Jensen–Shannon distance is bounded in [0, 1], defined when a level is new or gone (PSI needs
//!   a floor there) and grows like the square root of the share moved: 0.1 bits is about 2% of
//!   customers moving to a level the reference never had, or a re-mix of existing levels with PSI
//!   ≈ 0.05. 0.1 is Evidently's default for categorical drift too (in nats, 0.12 bits). `warn`
//!   at half that.
//! - Without the per-column correction, 40 fresh batches of 300 and 2,000 rows drew a `warn` on
//!   5 of their 960 column checks (noise crossing a 0.05 threshold with p < 0.01); with it, 80
//!   fresh batches of 50 to 10,000 rows against a 100,000-row reference flagged no column.
//!
//! The missing-rate verdict is `drift` when the absolute change is ≥ 0.10, `warn` when ≥ 0.05,
//! each also needing its z-test at the same corrected level. The column's verdict is the worse of the two. The score follows
//! the PSI/KS rule (PSI ≥ 0.1 `warn`, ≥ 0.25 `drift`, KS p < alpha).
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
