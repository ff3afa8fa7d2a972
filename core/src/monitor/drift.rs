//! Verdicts: the drift report of a window against the reference, performance against
//! training, and the whole-table entry point.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::data::table::Table;
use crate::error::{Error, Result};
use crate::metrics::{bootstrap_ci, roc_auc};
use crate::progress::Reporter;
use crate::serve::artifact::Artifact;
use crate::serve::drift::{Bins, ColumnSketch, Reference, ScoreHistogram, SCORE_BINS};
use crate::serve::scorer::{Labels, Scorer};

use super::statistics::{
    bin_points, chi_square, js_distance, ks_binned, psi, total, two_proportion_p,
    wasserstein_points, ChiSquare, TestResult,
};
use super::windows::{CurrentColumn, CurrentWindow, LevelCount, TableRows};

/// Thresholds of the verdicts and settings of the performance check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftParams {
    /// PSI at or above which a column (or the score) is `warn`.
    pub psi_warn: f64,
    /// PSI at or above which a column (or the score) is `drift`.
    pub psi_drift: f64,
    /// Wasserstein-1 over the reference standard deviation at or above which a numeric column
    /// is `warn`.
    pub wasserstein_warn: f64,
    /// Wasserstein-1 over the reference standard deviation at or above which a numeric column
    /// is `drift`.
    pub wasserstein_drift: f64,
    /// Jensen–Shannon distance (bits) at or above which a categorical column is `warn`.
    pub js_warn: f64,
    /// Jensen–Shannon distance (bits) at or above which a categorical column is `drift`.
    pub js_drift: f64,
    /// Chance of any false column flag in a report the tests allow: each column's test must
    /// reach `alpha / columns` (Bonferroni) before its effect sizes count; the score's test
    /// `alpha`.
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
            wasserstein_warn: 0.05,
            wasserstein_drift: 0.1,
            js_warn: 0.05,
            js_drift: 0.1,
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

    /// Sets the Wasserstein-1 / sd thresholds of `warn` and `drift` (numeric columns).
    pub fn with_wasserstein(mut self, warn: f64, drift: f64) -> Self {
        self.wasserstein_warn = warn;
        self.wasserstein_drift = drift;
        self
    }

    /// Sets the Jensen–Shannon distance thresholds of `warn` and `drift` (categorical columns).
    pub fn with_js(mut self, warn: f64, drift: f64) -> Self {
        self.js_warn = warn;
        self.js_drift = drift;
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

impl CurrentWindow {
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
        self.compare(reference, params, performance, &mut Reporter::silent())
    }

    /// [`CurrentWindow::report_with`], reporting column by column to `reporter`.
    fn compare(
        &self,
        reference: &Reference,
        params: &DriftParams,
        performance: Option<Performance>,
        reporter: &mut Reporter<'_>,
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
        let n = self.columns.len();
        // Bonferroni: every column is tested, so each test must reach alpha / columns for the
        // chance of any false alarm in the report to stay under alpha.
        let column_alpha = params.alpha / n.max(1) as f64;
        let mut columns: Vec<ColumnDrift> = Vec::with_capacity(n);
        for (i, (r, c)) in reference.columns.iter().zip(&self.columns).enumerate() {
            reporter.step(STAGE_COLUMNS, i, n, &r.name)?;
            columns.push(column_drift(r, c, params, column_alpha));
        }
        reporter.step(STAGE_COLUMNS, n, n, "score distribution")?;
        crate::order::sort_by(&mut columns, |a, b| {
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
    alpha: f64,
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
            drift.reference_mean = reference.mean();
            drift.current_mean = cur.mean();
            let ks = ks_binned(&reference.counts, &cur.counts);
            if both {
                let sd = reference.std();
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
            crate::order::sort_by(&mut unseen, |a, b| {
                b.count.cmp(&a.count).then_with(|| a.level.cmp(&b.level))
            });
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
    // Every effect size is judged on its own thresholds and the worst level counts; the test only
    // vetoes a flag its sample is too small to support.
    let mut effects = Vec::with_capacity(2);
    if let Some(v) = psi_value {
        effects.push(("PSI", v, params.psi_warn, params.psi_drift));
    }
    if let Some(v) = drift.wasserstein {
        effects.push((
            "W1/sd",
            v,
            params.wasserstein_warn,
            params.wasserstein_drift,
        ));
    }
    if let Some(v) = drift.js_distance {
        effects.push(("JS", v, params.js_warn, params.js_drift));
    }
    let level = |&(_, v, warn, drift): &(&str, f64, f64, f64)| verdict_of(v, p, warn, drift, alpha);
    let distribution = effects.iter().map(level).max().unwrap_or(Verdict::Ok);
    if distribution != Verdict::Ok {
        let crossed: Vec<String> = effects
            .iter()
            .filter(|e| level(e) == distribution)
            .map(|&(name, v, warn, drift)| {
                let threshold = if distribution == Verdict::Drift {
                    drift
                } else {
                    warn
                };
                format!("{name} {v:.3} >= {threshold}")
            })
            .collect();
        drift
            .reasons
            .push(format!("{} ({test} {})", crossed.join(", "), format_p(p)));
    }
    let missing_verdict = verdict_of(
        missing.change.abs(),
        missing.p_value,
        params.missing_warn,
        params.missing_drift,
        alpha,
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
    performance_reporting(training, threshold, y, p, params, &mut Reporter::silent())
}

/// [`performance`], reporting before each metric's bootstrap (each resamples every row
/// `n_boot` times: most of the time of a labelled batch).
fn performance_reporting(
    training: &crate::metrics::Report,
    threshold: f64,
    y: &[f64],
    p: &[f64],
    params: &DriftParams,
    reporter: &mut Reporter<'_>,
) -> Result<Performance> {
    reporter.report(STAGE_PERFORMANCE, 0.0, "ROC-AUC bootstrap")?;
    let auc = roc_auc(y, p)?;
    let (auc_low, auc_high) =
        bootstrap_ci(y, p, roc_auc, params.n_boot, params.confidence, params.seed)?;
    let decisions: Vec<f64> = p
        .iter()
        .map(|&s| if s >= threshold { 1.0 } else { 0.0 })
        .collect();
    reporter.report(STAGE_PERFORMANCE, 0.5, "recall bootstrap")?;
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
    reporter.report(STAGE_PERFORMANCE, 1.0, "")?;
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

/// Rows binned between two progress reports of [`drift_of_table`].
const ROWS_PER_REPORT: usize = 8_192;

/// Progress stages of [`drift_of_table`], as its reporter names them.
const STAGE_SCORING: &str = "drift: scoring";
const STAGE_BINNING: &str = "drift: binning rows";
const STAGE_PERFORMANCE: &str = "drift: performance";
const STAGE_COLUMNS: &str = "drift: comparing columns";

/// Scores `table` with `artifact`, summarises it into a window and reports its drift; when the
/// table has the target column, performance on the rows with a valid label is compared too.
///
/// Progress goes to `reporter` (scoring, then every 8,192 rows binned, each
/// performance bootstrap, each column compared); when its callback asks to stop this returns
/// [`Error::Cancelled`]. Pass [`Reporter::silent`] when nobody watches.
pub fn drift_of_table(
    artifact: &Artifact,
    table: &Table,
    params: &DriftParams,
    reporter: &mut Reporter<'_>,
) -> Result<TableDrift> {
    let n = table.n_rows();
    if n == 0 {
        return Err(Error::EmptyInput);
    }
    let mut rows = TableRows::new(&artifact.pipeline, table)?;
    reporter.report(STAGE_SCORING, 0.0, "")?;
    let scored = Scorer::new(artifact).score_rows(table, Labels::IfPresent)?;
    let mut window = CurrentWindow::new(artifact)?;
    // Scoring is one call; binning, the bootstraps and the comparison share the rest.
    let mut binning = reporter.sub(0.3, 0.5);
    for (r, &probability) in scored.probabilities.iter().enumerate() {
        if r % ROWS_PER_REPORT == 0 {
            binning.step(STAGE_BINNING, r, n, &format!("{r} of {n} rows"))?;
        }
        rows.observe(&mut window, r, probability)?;
    }
    binning.step(STAGE_BINNING, n, n, &format!("{n} of {n} rows"))?;
    let (y, p): (Vec<f64>, Vec<f64>) = scored.labelled().map(|(_, y, p)| (y, p)).unzip();
    let target = artifact
        .schema
        .target
        .as_ref()
        .and_then(|t| table.column_index(&t.name).map(|c| (t, c)));
    let (perf, performance_note) = match target {
        None => (None, None),
        // No row carries a label the model knows: say what the column holds instead.
        Some((t, c)) if scored.labels.iter().all(Option::is_none) => (
            None,
            Some(t.mismatch(&t.values_in(table.column(c))).to_string()),
        ),
        Some(_) if y.is_empty() => (
            None,
            Some(String::from(
                "no row with a label could be scored (see the unscored rows)",
            )),
        ),
        Some(_) => match performance_reporting(
            &artifact.metrics.calibrated_cv,
            artifact.threshold,
            &y,
            &p,
            params,
            &mut reporter.sub(0.5, 0.95),
        ) {
            Ok(perf) => (Some(perf), None),
            Err(e @ Error::Cancelled { .. }) => return Err(e),
            Err(e) => (None, Some(e.to_string())),
        },
    };
    let unscored = scored
        .skipped
        .into_iter()
        .map(|s| (s.row, s.reason))
        .collect();
    let report = window.compare(
        &artifact.reference,
        params,
        perf,
        &mut reporter.sub(0.95, 1.0),
    )?;
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
    use crate::monitor::report::tests::artifact_and_table;
    use crate::monitor::windows::tests::{close, fitted, observe, table};
    use crate::progress::{Control, Progress};

    #[test]
    fn table_drift_reports_each_stage_in_order_and_stops_when_asked() {
        let (artifact, current) = artifact_and_table(1.0);
        let params = DriftParams::default().with_n_boot(20);
        let mut seen: Vec<(String, f64, String)> = Vec::new();
        let mut sink = |p: &Progress| {
            seen.push((p.stage.clone(), p.fraction, p.message.clone()));
            Control::Continue
        };
        let watched =
            drift_of_table(&artifact, &current, &params, &mut Reporter::new(&mut sink)).unwrap();
        let silent = drift_of_table(&artifact, &current, &params, &mut Reporter::silent()).unwrap();
        assert_eq!(watched.report, silent.report);
        assert!(seen.windows(2).all(|w| w[0].1 <= w[1].1), "{seen:?}");
        let stages: Vec<&str> = seen.iter().map(|s| s.0.as_str()).collect();
        let first = |stage: &str| stages.iter().position(|s| *s == stage).unwrap();
        assert!(first(STAGE_SCORING) < first(STAGE_BINNING));
        assert!(first(STAGE_BINNING) < first(STAGE_PERFORMANCE));
        assert!(first(STAGE_PERFORMANCE) < first(STAGE_COLUMNS));
        // One update per column (named), then the score distribution.
        let columns: Vec<&str> = seen
            .iter()
            .filter(|s| s.0 == STAGE_COLUMNS)
            .map(|s| s.2.as_str())
            .collect();
        assert_eq!(columns.len(), artifact.pipeline.inputs.len() + 1);
        assert_eq!(columns[0], artifact.pipeline.inputs[0].name);
        assert_eq!(seen.last().unwrap().1, 1.0);

        for stop_at in [STAGE_BINNING, STAGE_PERFORMANCE, STAGE_COLUMNS] {
            let mut sink = |p: &Progress| {
                if p.stage == stop_at {
                    Control::Stop
                } else {
                    Control::Continue
                }
            };
            let err = drift_of_table(&artifact, &current, &params, &mut Reporter::new(&mut sink))
                .unwrap_err();
            assert_eq!(
                err,
                Error::Cancelled {
                    stage: stop_at.into()
                }
            );
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
