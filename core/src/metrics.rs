//! Evaluation metrics for binary churn scores: ranking quality (ROC, precision–recall, lift),
//! probability quality (log loss, Brier score, calibration), threshold metrics (confusion counts,
//! best F1, operating points), the one-call [`Report`] and storable [`CurveSet`], and seeded
//! bootstrap confidence intervals.
//!
//! Every function takes labels `y` (`0.0` = stayed, `1.0` = churned) and scores `p`, one per
//! row, and rejects empty or mismatched inputs, other label values and non-finite scores with
//! [`Error::InvalidParameter`]. Rows are ranked by score with [`f64::total_cmp`] (ties kept in
//! row order), so every result is the same on every target. Rows with equal scores always move
//! together across a threshold (a row is positive when `p >= threshold`); only the lift deciles
//! have to cut through a block of ties, and they do so in row order.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::rng::Rng;

/// Probabilities are clipped to `[LOG_LOSS_EPS, 1 - LOG_LOSS_EPS]` in [`log_loss`], so one
/// confident miss costs a large but finite penalty instead of making the mean infinite.
pub const LOG_LOSS_EPS: f64 = 1e-15;

/// Calibration bins used by [`evaluate`] and [`curves`].
pub const CALIBRATION_BINS: usize = 10;

/// Most points [`curves`] keeps per ROC or precision–recall curve, so stored curves stay small.
pub const MAX_CURVE_POINTS: usize = 200;

fn invalid(name: &'static str, message: String) -> Error {
    Error::InvalidParameter {
        name: name.into(),
        message,
    }
}

/// Checks that labels are present and all `0.0` or `1.0`; returns the number of positives.
pub(crate) fn check_labels(y: &[f64]) -> Result<usize> {
    if y.is_empty() {
        return Err(invalid(
            "labels",
            String::from("there are no labelled rows: pass at least one row"),
        ));
    }
    let mut positives = 0;
    for (i, &label) in y.iter().enumerate() {
        if label == 1.0 {
            positives += 1;
        } else if label != 0.0 {
            return Err(invalid(
                "labels",
                format!(
                    "row {}: label {label} is not 0 or 1: encode churned rows as 1 and the rest as 0",
                    i + 1
                ),
            ));
        }
    }
    Ok(positives)
}

/// Checks labels and scores together; returns the number of positives.
fn check(y: &[f64], p: &[f64]) -> Result<usize> {
    let positives = check_labels(y)?;
    if y.len() != p.len() {
        return Err(invalid(
            "scores",
            format!(
                "{} labels but {} scores: pass exactly one score per labelled row",
                y.len(),
                p.len()
            ),
        ));
    }
    if let Some(i) = p.iter().position(|s| !s.is_finite()) {
        return Err(invalid(
            "scores",
            format!(
                "row {}: score {} is not a finite number: score every row",
                i + 1,
                p[i]
            ),
        ));
    }
    Ok(positives)
}

/// Like [`check`], and also requires scores to be probabilities in `[0, 1]`.
fn check_probabilities(y: &[f64], p: &[f64]) -> Result<usize> {
    let positives = check(y, p)?;
    if let Some(i) = p.iter().position(|s| !(0.0..=1.0).contains(s)) {
        return Err(invalid(
            "scores",
            format!(
                "row {}: score {} is not a probability in [0, 1]: calibration needs predicted probabilities, not raw scores",
                i + 1,
                p[i]
            ),
        ));
    }
    Ok(positives)
}

fn need_both_classes(what: &str, positives: usize, n: usize) -> Result<()> {
    if positives == 0 || positives == n {
        let only = if positives == 0 {
            "stayed (0)"
        } else {
            "churned (1)"
        };
        return Err(invalid(
            "labels",
            format!(
                "{what} needs both classes but every row is {only}: evaluate on rows that include churned and retained customers"
            ),
        ));
    }
    Ok(())
}

fn need_positives(what: &str, positives: usize) -> Result<()> {
    if positives == 0 {
        return Err(invalid(
            "labels",
            format!(
                "{what} needs at least one churned (1) row: evaluate on rows that include churners"
            ),
        ));
    }
    Ok(())
}

/// An integer whose order is [`f64::total_cmp`]'s order: sorting `(key, row)` pairs in place is
/// several times faster on large inputs than sorting rows through an indirect comparator.
pub(crate) fn sort_key(x: f64) -> u64 {
    let bits = x.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// `(key, row)` pairs by score, highest first, equal scores in row order. Adding `0.0` turns
/// `-0.0` into `0.0` so the two tie, as `p >= threshold` sees them.
fn ranked(p: &[f64]) -> Vec<(u64, usize)> {
    let mut keyed: Vec<(u64, usize)> = p
        .iter()
        .enumerate()
        .map(|(i, &s)| (!sort_key(s + 0.0), i))
        .collect();
    keyed.sort_unstable();
    keyed
}

/// Row indices by score, highest first; equal scores keep row order.
fn rank_desc(p: &[f64]) -> Vec<usize> {
    ranked(p).into_iter().map(|(_, i)| i).collect()
}

/// Cumulative counts at every distinct score, highest first: calling rows with
/// `p >= thresholds[k]` positive yields `tp[k]` true and `fp[k]` false positives.
struct Ranking {
    thresholds: Vec<f64>,
    tp: Vec<usize>,
    fp: Vec<usize>,
    positives: usize,
    negatives: usize,
}

impl Ranking {
    /// Inputs must have passed [`check`].
    fn new(y: &[f64], p: &[f64]) -> Self {
        let keyed = ranked(p);
        let mut r = Ranking {
            thresholds: Vec::new(),
            tp: Vec::new(),
            fp: Vec::new(),
            positives: 0,
            negatives: 0,
        };
        for (k, &(key, i)) in keyed.iter().enumerate() {
            if y[i] == 1.0 {
                r.positives += 1;
            } else {
                r.negatives += 1;
            }
            if keyed.get(k + 1).is_none_or(|&(next, _)| next != key) {
                r.thresholds.push(p[i]);
                r.tp.push(r.positives);
                r.fp.push(r.negatives);
            }
        }
        r
    }

    /// A threshold above every score, for the curve point where no row is called positive.
    /// Finite when possible (infinity does not survive JSON), so `max + 1` as scikit-learn once
    /// did; infinity only when the scores are too large for `+ 1` to register.
    fn above_all(&self) -> f64 {
        let max = self.thresholds.first().copied().unwrap_or(0.0);
        let t = max + 1.0;
        if t > max {
            t
        } else {
            f64::INFINITY
        }
    }

    fn blocks(&self) -> impl Iterator<Item = (f64, usize, usize)> + '_ {
        self.thresholds
            .iter()
            .zip(&self.tp)
            .zip(&self.fp)
            .map(|((&t, &tp), &fp)| (t, tp, fp))
    }

    fn roc_auc(&self) -> f64 {
        // Each negative earns one point per positive ranked strictly above it and half a point
        // per tied positive; counting doubled points in integers keeps ties exact.
        let mut doubled: u128 = 0;
        let (mut prev_tp, mut prev_fp) = (0usize, 0usize);
        for (_, tp, fp) in self.blocks() {
            let (new_pos, new_neg) = (tp - prev_tp, fp - prev_fp);
            doubled += new_neg as u128 * (2 * prev_tp + new_pos) as u128;
            prev_tp = tp;
            prev_fp = fp;
        }
        doubled as f64 / (2 * self.positives as u128 * self.negatives as u128) as f64
    }

    fn average_precision(&self) -> f64 {
        let mut sum = 0.0;
        let mut prev_tp = 0usize;
        for (_, tp, fp) in self.blocks() {
            sum += (tp - prev_tp) as f64 * (tp as f64 / (tp + fp) as f64);
            prev_tp = tp;
        }
        sum / self.positives as f64
    }

    /// `(threshold, f1)` of the best block; the highest threshold wins ties.
    fn best_f1(&self) -> (f64, f64) {
        let mut best = (self.above_all(), 0.0);
        for (t, tp, fp) in self.blocks() {
            // 2tp / (2tp + fp + fn) with fn = positives - tp.
            let f1 = 2.0 * tp as f64 / (tp + fp + self.positives) as f64;
            if f1 > best.1 {
                best = (t, f1);
            }
        }
        best
    }
}

fn mean(values: impl Iterator<Item = f64>, n: usize) -> f64 {
    values.sum::<f64>() / n as f64
}

/// A ROC curve: false-positive rate `x`, true-positive rate `y`, and the threshold of each
/// point, thresholds descending from one above every score (the `(0, 0)` point).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Curve {
    /// False-positive rate per point.
    pub x: Vec<f64>,
    /// True-positive rate per point.
    pub y: Vec<f64>,
    /// Rows with `p >= threshold` are called positive at this point.
    pub thresholds: Vec<f64>,
}

/// A precision–recall curve, thresholds descending. The first point (recall 0, precision 1)
/// sits at a threshold above every score, where no row is called positive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrCurve {
    /// Precision per point.
    pub precision: Vec<f64>,
    /// Recall per point.
    pub recall: Vec<f64>,
    /// Rows with `p >= threshold` are called positive at this point.
    pub thresholds: Vec<f64>,
}

/// The ROC curve with one point per distinct score (no intermediate points dropped).
pub fn roc_curve(y: &[f64], p: &[f64]) -> Result<Curve> {
    let positives = check(y, p)?;
    need_both_classes("a ROC curve", positives, y.len())?;
    Ok(roc_from(&Ranking::new(y, p)))
}

fn roc_from(r: &Ranking) -> Curve {
    let mut curve = Curve {
        x: vec![0.0],
        y: vec![0.0],
        thresholds: vec![r.above_all()],
    };
    for (t, tp, fp) in r.blocks() {
        curve.x.push(fp as f64 / r.negatives as f64);
        curve.y.push(tp as f64 / r.positives as f64);
        curve.thresholds.push(t);
    }
    curve
}

/// Area under the ROC curve: the chance that a random churner scores above a random
/// non-churner, ties counting one half (as scikit-learn's `roc_auc_score`).
pub fn roc_auc(y: &[f64], p: &[f64]) -> Result<f64> {
    let positives = check(y, p)?;
    need_both_classes("ROC-AUC", positives, y.len())?;
    Ok(Ranking::new(y, p).roc_auc())
}

/// The precision–recall curve with one point per distinct score.
pub fn pr_curve(y: &[f64], p: &[f64]) -> Result<PrCurve> {
    let positives = check(y, p)?;
    need_positives("a precision-recall curve", positives)?;
    Ok(pr_from(&Ranking::new(y, p)))
}

fn pr_from(r: &Ranking) -> PrCurve {
    let mut curve = PrCurve {
        precision: vec![1.0],
        recall: vec![0.0],
        thresholds: vec![r.above_all()],
    };
    for (t, tp, fp) in r.blocks() {
        curve.precision.push(tp as f64 / (tp + fp) as f64);
        curve.recall.push(tp as f64 / r.positives as f64);
        curve.thresholds.push(t);
    }
    curve
}

/// Average precision as scikit-learn defines it: `sum_n (R_n - R_{n-1}) P_n` over distinct
/// thresholds (a step-wise area, no interpolation). Needs at least one churned row.
pub fn average_precision(y: &[f64], p: &[f64]) -> Result<f64> {
    let positives = check(y, p)?;
    need_positives("average precision", positives)?;
    Ok(Ranking::new(y, p).average_precision())
}

/// Mean binary cross-entropy (natural log), probabilities clipped to
/// `[LOG_LOSS_EPS, 1 - LOG_LOSS_EPS]`.
pub fn log_loss(y: &[f64], p: &[f64]) -> Result<f64> {
    check(y, p)?;
    let losses = y.iter().zip(p).map(|(&label, &prob)| {
        let q = prob.clamp(LOG_LOSS_EPS, 1.0 - LOG_LOSS_EPS);
        if label == 1.0 {
            -libm::log(q)
        } else {
            -libm::log(1.0 - q)
        }
    });
    Ok(mean(losses, y.len()))
}

/// Brier score: mean squared difference between probability and label.
pub fn brier(y: &[f64], p: &[f64]) -> Result<f64> {
    check(y, p)?;
    Ok(mean(
        y.iter().zip(p).map(|(l, q)| (q - l) * (q - l)),
        y.len(),
    ))
}

/// Confusion counts at one threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Confusion {
    /// Churners called churners.
    pub tp: usize,
    /// Stayers called churners.
    pub fp: usize,
    /// Stayers called stayers.
    pub tn: usize,
    /// Churners called stayers.
    #[serde(rename = "fn")]
    pub fn_: usize,
}

crate::map_struct!(Confusion {
    tp,
    fp,
    tn,
    fn_ as "fn",
});

fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

impl Confusion {
    /// `tp / (tp + fp)`; 0 when no row is called positive.
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }

    /// `tp / (tp + fn)`; 0 when there are no churners.
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }

    /// Harmonic mean of precision and recall, `2tp / (2tp + fp + fn)`; 0 when `tp = 0`.
    pub fn f1(&self) -> f64 {
        ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn_)
    }

    /// Share of rows classified correctly; 0 for no rows.
    pub fn accuracy(&self) -> f64 {
        ratio(self.tp + self.tn, self.tp + self.fp + self.tn + self.fn_)
    }
}

/// Confusion counts when rows with `p >= threshold` are called churners.
pub fn confusion(y: &[f64], p: &[f64], threshold: f64) -> Result<Confusion> {
    check(y, p)?;
    check_threshold(threshold)?;
    let mut c = Confusion::default();
    for (&label, &score) in y.iter().zip(p) {
        match (label == 1.0, score >= threshold) {
            (true, true) => c.tp += 1,
            (false, true) => c.fp += 1,
            (false, false) => c.tn += 1,
            (true, false) => c.fn_ += 1,
        }
    }
    Ok(c)
}

fn check_threshold(threshold: f64) -> Result<()> {
    if threshold.is_nan() {
        return Err(invalid(
            "threshold",
            String::from("the threshold is NaN: pass a number such as 0.5"),
        ));
    }
    Ok(())
}

/// Confusion counts at any threshold in `O(log n)`: the scores sorted once, with the churners
/// counted below each position. For a threshold slider over many rows, where recounting every
/// row per move ([`confusion`]) would be `O(n)`; the counts are the same.
#[derive(Debug, Clone, PartialEq)]
pub struct ThresholdIndex {
    /// Scores, ascending.
    sorted: Vec<f64>,
    /// `churners_below[i]`: churners among `sorted[..i]` (one more entry than `sorted`).
    churners_below: Vec<usize>,
}

impl ThresholdIndex {
    /// Sorts `p` with its labels `y` (same checks as [`confusion`]).
    pub fn new(y: &[f64], p: &[f64]) -> Result<Self> {
        check(y, p)?;
        let mut rows: Vec<(f64, bool)> = p.iter().zip(y).map(|(&s, &l)| (s, l == 1.0)).collect();
        rows.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut churners_below = Vec::with_capacity(rows.len() + 1);
        let mut below = 0;
        churners_below.push(below);
        for &(_, churned) in &rows {
            below += usize::from(churned);
            churners_below.push(below);
        }
        Ok(ThresholdIndex {
            sorted: rows.into_iter().map(|(s, _)| s).collect(),
            churners_below,
        })
    }

    /// Rows indexed.
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// Whether no row is indexed.
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// [`confusion`] at `threshold`: rows with `p >= threshold` are called churners.
    pub fn confusion(&self, threshold: f64) -> Result<Confusion> {
        check_threshold(threshold)?;
        // Scores are finite (checked in `new`), so `s < threshold` is false from one point on.
        let stayers = self.sorted.partition_point(|&s| s < threshold);
        let churners = self.churners_below[self.sorted.len()];
        let fn_ = self.churners_below[stayers];
        let tp = churners - fn_;
        Ok(Confusion {
            tp,
            fp: self.sorted.len() - stayers - tp,
            tn: stayers - fn_,
            fn_,
        })
    }
}

/// The threshold among the distinct scores with the highest F1, and that F1. On ties the
/// highest threshold wins (fewest customers to contact). Needs at least one churned row.
pub fn best_f1_threshold(y: &[f64], p: &[f64]) -> Result<(f64, f64)> {
    let positives = check(y, p)?;
    need_positives("the best-F1 threshold", positives)?;
    Ok(Ranking::new(y, p).best_f1())
}

fn check_fraction(name: &'static str, v: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&v) {
        return Err(invalid(name, format!("{v} is not between 0 and 1")));
    }
    Ok(())
}

/// The highest recall reachable with precision at least `min_precision`, as
/// `(threshold, recall)` over the distinct scores; the highest such threshold on ties. `None`
/// when no threshold is precise enough. Needs at least one churned row.
pub fn recall_at_precision(y: &[f64], p: &[f64], min_precision: f64) -> Result<Option<(f64, f64)>> {
    let positives = check(y, p)?;
    check_fraction("min_precision", min_precision)?;
    need_positives("recall at precision", positives)?;
    let r = Ranking::new(y, p);
    let mut best: Option<(f64, f64)> = None;
    for (t, tp, fp) in r.blocks() {
        let precision = tp as f64 / (tp + fp) as f64;
        let recall = tp as f64 / positives as f64;
        if precision >= min_precision && best.is_none_or(|(_, b)| recall > b) {
            best = Some((t, recall));
        }
    }
    Ok(best)
}

/// The highest precision reachable with recall at least `min_recall`, as
/// `(threshold, precision)` over the distinct scores; the highest such threshold on ties.
/// `None` only when no threshold qualifies. Needs at least one churned row.
pub fn precision_at_recall(y: &[f64], p: &[f64], min_recall: f64) -> Result<Option<(f64, f64)>> {
    let positives = check(y, p)?;
    check_fraction("min_recall", min_recall)?;
    need_positives("precision at recall", positives)?;
    let r = Ranking::new(y, p);
    let mut best: Option<(f64, f64)> = None;
    for (t, tp, fp) in r.blocks() {
        let precision = tp as f64 / (tp + fp) as f64;
        let recall = tp as f64 / positives as f64;
        if recall >= min_recall && best.is_none_or(|(_, b)| precision > b) {
            best = Some((t, precision));
        }
    }
    Ok(best)
}

/// One tenth of the rows, ranked by score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decile {
    /// 1 for the highest-scored tenth, 10 for the lowest.
    pub decile: usize,
    /// Rows in this decile.
    pub rows: usize,
    /// Churners among them.
    pub positives: usize,
    /// `positives / rows`.
    pub rate: f64,
    /// `rate` divided by the overall churn rate (0 when there are no churners).
    pub lift: f64,
    /// Share of all churners found in deciles `1..=decile` (0 when there are no churners).
    pub cumulative_gain: f64,
}

/// Lift and cumulative gain per score decile. Rows are sorted by score descending (ties in row
/// order) and split into ten runs whose sizes differ by at most one; with fewer than ten rows the
/// empty deciles are left out. Equal scores that straddle a decile boundary are split there.
pub fn lift_by_decile(y: &[f64], p: &[f64]) -> Result<Vec<Decile>> {
    let positives = check(y, p)?;
    let order = rank_desc(p);
    let n = order.len();
    let overall = positives as f64 / n as f64;
    let mut deciles = Vec::with_capacity(10);
    let mut found = 0;
    for d in 0..10 {
        let rows = &order[d * n / 10..(d + 1) * n / 10];
        if rows.is_empty() {
            continue;
        }
        let hits = rows.iter().filter(|&&i| y[i] == 1.0).count();
        found += hits;
        let rate = hits as f64 / rows.len() as f64;
        deciles.push(Decile {
            decile: d + 1,
            rows: rows.len(),
            positives: hits,
            rate,
            lift: if positives == 0 { 0.0 } else { rate / overall },
            cumulative_gain: ratio(found, positives),
        });
    }
    Ok(deciles)
}

/// One probability bin of a reliability diagram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    /// Lower edge (inclusive).
    pub lower: f64,
    /// Upper edge (exclusive, except 1.0 for the last bin).
    pub upper: f64,
    /// Rows whose probability falls in the bin.
    pub count: usize,
    /// Mean predicted probability of those rows.
    pub mean_predicted: f64,
    /// Share of those rows that churned.
    pub observed_rate: f64,
}

/// Reliability diagram over `n_bins` equal-width bins on `[0, 1]`. Empty bins are left out
/// (they have no rate to plot). Scores must be probabilities.
pub fn calibration_curve(y: &[f64], p: &[f64], n_bins: usize) -> Result<Vec<CalibrationBin>> {
    check_probabilities(y, p)?;
    if n_bins == 0 {
        return Err(invalid(
            "n_bins",
            String::from("calibration needs at least 1 bin: use 10 for deciles"),
        ));
    }
    let mut count = vec![0usize; n_bins];
    let mut sum_p = vec![0.0; n_bins];
    let mut sum_y = vec![0.0; n_bins];
    for (&label, &prob) in y.iter().zip(p) {
        // Truncation is floor for non-negative values; p = 1.0 belongs to the last bin.
        let b = ((prob * n_bins as f64) as usize).min(n_bins - 1);
        count[b] += 1;
        sum_p[b] += prob;
        sum_y[b] += label;
    }
    let width = n_bins as f64;
    Ok((0..n_bins)
        .filter(|&b| count[b] > 0)
        .map(|b| CalibrationBin {
            lower: b as f64 / width,
            upper: (b + 1) as f64 / width,
            count: count[b],
            mean_predicted: sum_p[b] / count[b] as f64,
            observed_rate: sum_y[b] / count[b] as f64,
        })
        .collect())
}

/// Expected calibration error: the row-weighted mean of `|observed_rate - mean_predicted|`
/// over the bins of [`calibration_curve`].
pub fn expected_calibration_error(y: &[f64], p: &[f64], n_bins: usize) -> Result<f64> {
    let bins = calibration_curve(y, p, n_bins)?;
    Ok(ece_from(&bins, y.len()))
}

fn ece_from(bins: &[CalibrationBin], n: usize) -> f64 {
    bins.iter()
        .map(|b| b.count as f64 * (b.observed_rate - b.mean_predicted).abs())
        .sum::<f64>()
        / n as f64
}

/// Everything a user reads about a model's quality on one labelled set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Area under the ROC curve.
    pub roc_auc: f64,
    /// Average precision (area under the precision–recall curve, scikit-learn's definition).
    pub pr_auc: f64,
    /// Mean cross-entropy.
    pub log_loss: f64,
    /// Brier score.
    pub brier: f64,
    /// The decision threshold the threshold metrics below use.
    pub threshold: f64,
    /// Precision at `threshold`.
    pub precision: f64,
    /// Recall at `threshold`.
    pub recall: f64,
    /// F1 at `threshold`.
    pub f1: f64,
    /// Accuracy at `threshold`.
    pub accuracy: f64,
    /// Counts at `threshold`.
    pub confusion: Confusion,
    /// Best F1 over all distinct scores.
    pub best_f1: f64,
    /// Threshold achieving `best_f1`.
    pub best_f1_threshold: f64,
    /// Share of churned rows.
    pub positive_rate: f64,
    /// Rows evaluated.
    pub n: usize,
    /// Expected calibration error over [`CALIBRATION_BINS`] bins.
    pub ece: f64,
}

crate::map_struct!(Report {
    roc_auc,
    pr_auc,
    log_loss,
    brier,
    threshold,
    precision,
    recall,
    f1,
    accuracy,
    confusion,
    best_f1,
    best_f1_threshold,
    positive_rate,
    n,
    ece,
});

/// Computes a [`Report`] for predicted probabilities `p`, with threshold metrics at
/// `threshold`. Needs both classes and probabilities in `[0, 1]`.
pub fn evaluate(y: &[f64], p: &[f64], threshold: f64) -> Result<Report> {
    let positives = check_probabilities(y, p)?;
    need_both_classes("ROC-AUC", positives, y.len())?;
    let ranking = Ranking::new(y, p);
    let c = confusion(y, p, threshold)?;
    let (best_f1_threshold, best_f1) = ranking.best_f1();
    let bins = calibration_curve(y, p, CALIBRATION_BINS)?;
    Ok(Report {
        roc_auc: ranking.roc_auc(),
        pr_auc: ranking.average_precision(),
        log_loss: log_loss(y, p)?,
        brier: brier(y, p)?,
        threshold,
        precision: c.precision(),
        recall: c.recall(),
        f1: c.f1(),
        accuracy: c.accuracy(),
        confusion: c,
        best_f1,
        best_f1_threshold,
        positive_rate: positives as f64 / y.len() as f64,
        n: y.len(),
        ece: ece_from(&bins, y.len()),
    })
}

/// The curves a report plots, thinned for storage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurveSet {
    /// ROC curve, at most [`MAX_CURVE_POINTS`] points.
    pub roc: Curve,
    /// Precision–recall curve, at most [`MAX_CURVE_POINTS`] points.
    pub pr: PrCurve,
    /// Lift by decile.
    pub lift: Vec<Decile>,
    /// Reliability diagram over [`CALIBRATION_BINS`] bins.
    pub calibration: Vec<CalibrationBin>,
}

/// Point indices to keep: all when few, else [`MAX_CURVE_POINTS`] evenly spaced ones that
/// include the first and the last.
fn thin_indices(len: usize) -> Vec<usize> {
    if len <= MAX_CURVE_POINTS {
        return (0..len).collect();
    }
    (0..MAX_CURVE_POINTS)
        .map(|k| k * (len - 1) / (MAX_CURVE_POINTS - 1))
        .collect()
}

fn pick(values: &[f64], keep: &[usize]) -> Vec<f64> {
    keep.iter().map(|&i| values[i]).collect()
}

/// ROC, precision–recall, lift and calibration curves of probabilities `p`. Needs both classes.
pub fn curves(y: &[f64], p: &[f64]) -> Result<CurveSet> {
    let positives = check_probabilities(y, p)?;
    need_both_classes("a ROC curve", positives, y.len())?;
    let ranking = Ranking::new(y, p);
    let roc = roc_from(&ranking);
    let pr = pr_from(&ranking);
    // Both curves have one point per distinct score plus the start point.
    let keep = thin_indices(roc.x.len());
    Ok(CurveSet {
        roc: Curve {
            x: pick(&roc.x, &keep),
            y: pick(&roc.y, &keep),
            thresholds: pick(&roc.thresholds, &keep),
        },
        pr: PrCurve {
            precision: pick(&pr.precision, &keep),
            recall: pick(&pr.recall, &keep),
            thresholds: pick(&pr.thresholds, &keep),
        },
        lift: lift_by_decile(y, p)?,
        calibration: calibration_curve(y, p, CALIBRATION_BINS)?,
    })
}

/// A metric that [`bootstrap_ci`] can resample.
pub type Metric = fn(&[f64], &[f64]) -> Result<f64>;

/// Percentile bootstrap confidence interval `(low, high)` of `metric` at level `confidence`
/// (e.g. 0.95) from `n_boot` resamples of the rows drawn with replacement. Resample `b` draws
/// from `Rng::new(seed).fork(b)`, so the interval depends only on the seed (also with the
/// `parallel` feature). Resamples where the metric is undefined (say, no churner drawn) are
/// skipped; if more than half are, the interval would mislead and an error is returned.
pub fn bootstrap_ci(
    y: &[f64],
    p: &[f64],
    metric: Metric,
    n_boot: usize,
    confidence: f64,
    seed: u64,
) -> Result<(f64, f64)> {
    check(y, p)?;
    // Bad input surfaces as the metric's own error rather than as "every resample failed".
    metric(y, p)?;
    if n_boot == 0 {
        return Err(invalid(
            "n_boot",
            String::from("the bootstrap needs at least 1 resample: use 1000 for a stable interval"),
        ));
    }
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(invalid(
            "confidence",
            format!("{confidence} is not strictly between 0 and 1: use 0.95 for a 95% interval"),
        ));
    }
    let root = Rng::new(seed);
    let n = y.len();
    let replicate = |b: usize, (yb, pb): &mut (Vec<f64>, Vec<f64>)| -> Option<f64> {
        let mut rng = root.fork(b as u64);
        for (ys, ps) in yb.iter_mut().zip(pb.iter_mut()) {
            let i = rng.below(n);
            *ys = y[i];
            *ps = p[i];
        }
        metric(yb, pb).ok().filter(|v| v.is_finite())
    };
    #[cfg(feature = "parallel")]
    let mut values: Vec<f64> = {
        use rayon::prelude::*;
        (0..n_boot)
            .into_par_iter()
            .map_init(|| (vec![0.0; n], vec![0.0; n]), |buf, b| replicate(b, buf))
            .flatten()
            .collect()
    };
    #[cfg(not(feature = "parallel"))]
    let mut values: Vec<f64> = {
        let mut buf = (vec![0.0; n], vec![0.0; n]);
        (0..n_boot).filter_map(|b| replicate(b, &mut buf)).collect()
    };
    if values.len() * 2 < n_boot {
        return Err(invalid(
            "n_boot",
            format!(
                "the metric was undefined on {} of {n_boot} bootstrap resamples (too few rows of a class): evaluate on more rows",
                n_boot - values.len()
            ),
        ));
    }
    // One sort per report, of `n_boot` values: the shared one for short lists (values equal
    // under `total_cmp` are the same bits, so any sort gives this order).
    crate::order::sort_by(&mut values, f64::total_cmp);
    let tail = (1.0 - confidence) / 2.0;
    Ok((quantile(&values, tail), quantile(&values, 1.0 - tail)))
}

/// Linear-interpolation quantile of sorted, non-empty `values` (numpy's default).
fn quantile(values: &[f64], q: f64) -> f64 {
    let pos = q * (values.len() - 1) as f64;
    let lo = pos as usize;
    let hi = (lo + 1).min(values.len() - 1);
    values[lo] + (values[hi] - values[lo]) * (pos - lo as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use proptest::prelude::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    const Y: [f64; 4] = [0.0, 0.0, 1.0, 1.0];
    const P: [f64; 4] = [0.1, 0.4, 0.35, 0.8];

    #[test]
    fn scikit_learn_documented_example() {
        assert!(close(roc_auc(&Y, &P).unwrap(), 0.75));
        assert!(close(average_precision(&Y, &P).unwrap(), 5.0 / 6.0));
        let roc = roc_curve(&Y, &P).unwrap();
        assert_eq!(roc.x, [0.0, 0.0, 0.5, 0.5, 1.0]);
        assert_eq!(roc.y, [0.0, 0.5, 0.5, 1.0, 1.0]);
        assert_eq!(roc.thresholds, [1.8, 0.8, 0.4, 0.35, 0.1]);
        let pr = pr_curve(&Y, &P).unwrap();
        assert_eq!(pr.recall, [0.0, 0.5, 0.5, 1.0, 1.0]);
        assert!(close(pr.precision[3], 2.0 / 3.0));
        assert_eq!(pr.precision[4], 0.5);
    }

    #[test]
    fn sort_key_follows_total_order() {
        let xs = [
            f64::NEG_INFINITY,
            -2.5,
            -1e-300,
            -0.0,
            0.0,
            1e-300,
            0.5,
            3.0,
            f64::MAX,
        ];
        assert!(xs.windows(2).all(|w| sort_key(w[0]) < sort_key(w[1])));
        assert_eq!(rank_desc(&[0.2, 0.7, 0.2, -1.0, 0.7]), [1, 4, 0, 2, 3]);
        assert_eq!(rank_desc(&[-0.0, 0.0, -0.0]), [0, 1, 2]);
        assert_eq!(roc_auc(&[1.0, 0.0], &[-0.0, 0.0]).unwrap(), 0.5);
    }

    #[test]
    fn ties_count_half() {
        // One tied pair counts half; a positive tied with one negative and above another: 0.75.
        assert_eq!(roc_auc(&[0.0, 1.0], &[0.3, 0.3]).unwrap(), 0.5);
        let auc = roc_auc(&[1.0, 0.0, 0.0], &[0.5, 0.5, 0.2]).unwrap();
        assert!(close(auc, 0.75));
        // All tied: AP equals the base rate.
        let ap = average_precision(&[1.0, 0.0, 0.0, 0.0], &[0.2; 4]).unwrap();
        assert!(close(ap, 0.25));
    }

    #[test]
    fn bad_inputs_are_errors() {
        let one_class = roc_auc(&[1.0, 1.0], &[0.2, 0.3]).unwrap_err();
        assert!(format!("{one_class}").contains("ROC-AUC needs both classes"));
        assert!(roc_auc(&[], &[]).is_err());
        assert!(roc_auc(&[0.0, 1.0], &[0.5]).is_err());
        let bad_label = brier(&[0.0, 2.0], &[0.1, 0.2]).unwrap_err();
        assert!(format!("{bad_label}").contains("row 2"));
        assert!(log_loss(&[0.0, 1.0], &[0.1, f64::NAN]).is_err());
        assert!(average_precision(&[0.0, 0.0], &[0.1, 0.2]).is_err());
        assert!(calibration_curve(&[0.0, 1.0], &[0.1, 1.5], 10).is_err());
        assert!(calibration_curve(&[0.0, 1.0], &[0.1, 0.5], 0).is_err());
        assert!(confusion(&[0.0], &[0.1], f64::NAN).is_err());
        assert!(recall_at_precision(&Y, &P, 1.5).is_err());
        assert!(evaluate(&[0.0, 0.0], &[0.1, 0.2], 0.5).is_err());
        assert!(bootstrap_ci(&Y, &P, roc_auc, 0, 0.95, 1).is_err());
        assert!(bootstrap_ci(&Y, &P, roc_auc, 10, 1.0, 1).is_err());
        assert!(bootstrap_ci(&[1.0, 1.0], &[0.1, 0.2], roc_auc, 10, 0.9, 1).is_err());
    }

    #[test]
    fn log_loss_and_brier_hand_values() {
        let y = [1.0, 0.0];
        let p = [0.8, 0.4];
        let expected = -(libm::log(0.8) + libm::log(0.6)) / 2.0;
        assert!(close(log_loss(&y, &p).unwrap(), expected));
        assert!(close(brier(&y, &p).unwrap(), (0.04 + 0.16) / 2.0));
        // A certain miss is clipped, not infinite: -ln(1e-15) ~= 34.54.
        let clipped = log_loss(&[1.0], &[0.0]).unwrap();
        assert!((clipped - 34.538_776_394_910_684).abs() < 1e-9, "{clipped}");
        assert_eq!(brier(&[1.0, 0.0], &[1.0, 0.0]).unwrap(), 0.0);
    }

    #[test]
    fn confusion_counts_and_ratios() {
        let y = [1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0];
        let p = [0.9, 0.5, 0.2, 0.5, 0.4, 0.1, 0.0];
        let c = confusion(&y, &p, 0.5).unwrap();
        assert_eq!(
            c,
            Confusion {
                tp: 2,
                fp: 1,
                tn: 3,
                fn_: 1
            }
        );
        assert!(close(c.precision(), 2.0 / 3.0));
        assert!(close(c.recall(), 2.0 / 3.0));
        assert!(close(c.f1(), 2.0 / 3.0));
        assert!(close(c.accuracy(), 5.0 / 7.0));
        let none = confusion(&y, &p, 2.0).unwrap();
        assert_eq!((none.precision(), none.f1()), (0.0, 0.0));
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, r#"{"tp":2,"fp":1,"tn":3,"fn":1}"#);
        assert_eq!(serde_json::from_str::<Confusion>(&json).unwrap(), c);
    }

    #[test]
    fn operating_points() {
        // Ranked: 0.9 (1), 0.8 (1), 0.7 (0), 0.6 (1), 0.5 (0).
        let y = [1.0, 1.0, 0.0, 1.0, 0.0];
        let p = [0.9, 0.8, 0.7, 0.6, 0.5];
        assert_eq!(
            recall_at_precision(&y, &p, 1.0).unwrap(),
            Some((0.8, 2.0 / 3.0))
        );
        assert_eq!(recall_at_precision(&y, &p, 0.75).unwrap(), Some((0.6, 1.0)));
        assert_eq!(precision_at_recall(&y, &p, 1.0).unwrap(), Some((0.6, 0.75)));
        assert_eq!(precision_at_recall(&y, &p, 0.5).unwrap(), Some((0.8, 1.0)));
        // Precision 1 is never reached when the top row is a stayer.
        assert_eq!(
            recall_at_precision(&[0.0, 1.0], &[0.9, 0.1], 1.0).unwrap(),
            None
        );
    }

    #[test]
    fn lift_deciles_cover_all_rows() {
        let n = 103;
        let y: Vec<f64> = (0..n).map(|i| f64::from(u8::from(i % 4 == 0))).collect();
        let p: Vec<f64> = (0..n)
            .map(|i| f64::from((i * 37 % 11) as u8) / 10.0)
            .collect();
        let deciles = lift_by_decile(&y, &p).unwrap();
        assert_eq!(deciles.len(), 10);
        assert_eq!(deciles.iter().map(|d| d.rows).sum::<usize>(), n);
        assert!(deciles.iter().all(|d| d.rows == 10 || d.rows == 11));
        let positives = y.iter().filter(|&&v| v == 1.0).count();
        assert_eq!(
            deciles.iter().map(|d| d.positives).sum::<usize>(),
            positives
        );
        assert!(close(deciles[9].cumulative_gain, 1.0));
        assert!(deciles
            .windows(2)
            .all(|w| w[0].cumulative_gain <= w[1].cumulative_gain));
        // A perfect ranking puts every churner in the first decile.
        let y: Vec<f64> = (0..20).map(|i| f64::from(u8::from(i < 2))).collect();
        let p: Vec<f64> = (0..20).map(|i| 1.0 - f64::from(i) / 20.0).collect();
        let d = lift_by_decile(&y, &p).unwrap();
        assert_eq!(
            (d[0].positives, d[0].lift, d[0].cumulative_gain),
            (2, 10.0, 1.0)
        );
        // Few rows: empty deciles are left out, rows still add up.
        let few = lift_by_decile(&[1.0, 0.0, 0.0], &[0.2, 0.3, 0.1]).unwrap();
        assert_eq!(few.iter().map(|d| d.rows).sum::<usize>(), 3);
        assert!(close(few[few.len() - 1].cumulative_gain, 1.0));
    }

    #[test]
    fn calibration_bins_and_ece() {
        // 0.25 with 1 churner in 4, 0.75 with 3 in 4: perfectly calibrated.
        let y = [1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0];
        let p = [0.25, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75, 0.75];
        let bins = calibration_curve(&y, &p, 10).unwrap();
        assert_eq!(bins.len(), 2);
        assert_eq!((bins[0].lower, bins[0].upper, bins[0].count), (0.2, 0.3, 4));
        assert_eq!(expected_calibration_error(&y, &p, 10).unwrap(), 0.0);
        // Predicting 0.9 for rows that churn half the time is off by 0.4.
        let ece = expected_calibration_error(&[1.0, 0.0], &[0.9, 0.9], 10).unwrap();
        assert!(close(ece, 0.4));
        // p = 1.0 lands in the last bin.
        let last = calibration_curve(&[1.0], &[1.0], 4).unwrap();
        assert_eq!((last[0].lower, last[0].upper), (0.75, 1.0));
    }

    #[test]
    fn report_and_curves() {
        let r = evaluate(&Y, &P, 0.5).unwrap();
        assert!(close(r.roc_auc, 0.75));
        assert!(close(r.pr_auc, 5.0 / 6.0));
        assert_eq!(
            r.confusion,
            Confusion {
                tp: 1,
                fp: 0,
                tn: 2,
                fn_: 1
            }
        );
        assert_eq!((r.n, r.positive_rate), (4, 0.5));
        assert_eq!(
            (r.best_f1_threshold, r.best_f1),
            best_f1_threshold(&Y, &P).unwrap()
        );
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<Report>(&json).unwrap(), r);

        let n = 5000;
        let mut rng = Rng::new(5);
        let p: Vec<f64> = (0..n).map(|_| rng.next_f64()).collect();
        let y: Vec<f64> = p
            .iter()
            .map(|&q| f64::from(u8::from(rng.chance(q))))
            .collect();
        let set = curves(&y, &p).unwrap();
        let full = roc_curve(&y, &p).unwrap();
        assert_eq!(set.roc.x.len(), MAX_CURVE_POINTS);
        assert_eq!(set.pr.recall.len(), MAX_CURVE_POINTS);
        assert_eq!(set.roc.x.first(), full.x.first());
        assert_eq!(set.roc.y.last(), full.y.last());
        assert_eq!(set.pr.recall.last(), Some(&1.0));
        let json = serde_json::to_string(&set).unwrap();
        assert_eq!(serde_json::from_str::<CurveSet>(&json).unwrap(), set);
        let report = evaluate(&y, &p, 0.5).unwrap();
        assert!(report.ece < 0.05, "{}", report.ece);
        assert!(report.roc_auc > 0.75, "{}", report.roc_auc);
    }

    #[test]
    fn bootstrap_interval_is_seeded_and_brackets_the_estimate() {
        let n = 400;
        let mut rng = Rng::new(8);
        let p: Vec<f64> = (0..n).map(|_| rng.next_f64()).collect();
        let y: Vec<f64> = p
            .iter()
            .map(|&q| f64::from(u8::from(rng.chance(q))))
            .collect();
        let auc = roc_auc(&y, &p).unwrap();
        let (lo, hi) = bootstrap_ci(&y, &p, roc_auc, 200, 0.9, 3).unwrap();
        // Pinned so that the `parallel` build (which must agree) cannot drift unnoticed.
        assert_eq!((lo, hi), (0.784_295_000_471_999_3, 0.851_563_875_975_823_1));
        assert!(lo < auc && auc < hi, "{lo} {auc} {hi}");
        assert!(hi - lo < 0.15, "{lo} {hi}");
        assert_eq!(
            bootstrap_ci(&y, &p, roc_auc, 200, 0.9, 3).unwrap(),
            (lo, hi)
        );
        assert_ne!(
            bootstrap_ci(&y, &p, roc_auc, 200, 0.9, 4).unwrap(),
            (lo, hi)
        );
        let wide = bootstrap_ci(&y, &p, roc_auc, 200, 0.99, 3).unwrap();
        assert!(wide.0 <= lo && wide.1 >= hi);
    }

    fn brute_auc(y: &[f64], p: &[f64]) -> f64 {
        let mut points = 0.0;
        let mut pairs = 0.0;
        for (i, &yi) in y.iter().enumerate() {
            for (j, &yj) in y.iter().enumerate() {
                if yi == 1.0 && yj == 0.0 {
                    pairs += 1.0;
                    if p[i] > p[j] {
                        points += 1.0;
                    } else if p[i] == p[j] {
                        points += 0.5;
                    }
                }
            }
        }
        points / pairs
    }

    fn labelled_rows() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
        // Scores from five values so that ties are frequent.
        proptest::collection::vec((any::<bool>(), 0u8..5), 1..40).prop_map(|rows| {
            rows.iter()
                .map(|&(l, s)| (f64::from(u8::from(l)), f64::from(s) / 4.0))
                .unzip()
        })
    }

    proptest! {
        #[test]
        fn threshold_index_counts_as_confusion((y, p) in labelled_rows()) {
            let index = ThresholdIndex::new(&y, &p).unwrap();
            prop_assert_eq!(index.len(), y.len());
            // Every score (ties included), between scores, and beyond both ends.
            let mut thresholds = p.clone();
            thresholds.extend(p.iter().map(|s| s + 0.125));
            thresholds.extend([f64::NEG_INFINITY, -1.0, 0.0, 2.0, f64::INFINITY]);
            for t in thresholds {
                prop_assert_eq!(index.confusion(t).unwrap(), confusion(&y, &p, t).unwrap(), "at {}", t);
            }
            prop_assert!(index.confusion(f64::NAN).is_err());
        }

        #[test]
        fn roc_auc_matches_pair_count((y, p) in labelled_rows()) {
            let positives = y.iter().filter(|&&v| v == 1.0).count();
            prop_assume!(positives > 0 && positives < y.len());
            let auc = roc_auc(&y, &p).unwrap();
            prop_assert!((auc - brute_auc(&y, &p)).abs() < 1e-12);
            // The trapezoid area under the curve agrees with the pair count.
            let c = roc_curve(&y, &p).unwrap();
            let trapezoid: f64 = (1..c.x.len())
                .map(|k| (c.x[k] - c.x[k - 1]) * (c.y[k] + c.y[k - 1]) / 2.0)
                .sum();
            prop_assert!((auc - trapezoid).abs() < 1e-12);
        }

        #[test]
        fn best_f1_matches_brute_force((y, p) in labelled_rows()) {
            prop_assume!(y.contains(&1.0));
            let (threshold, f1) = best_f1_threshold(&y, &p).unwrap();
            let mut best: f64 = 0.0;
            for &t in &p {
                best = best.max(confusion(&y, &p, t).unwrap().f1());
            }
            prop_assert!((f1 - best).abs() < 1e-12);
            prop_assert!((confusion(&y, &p, threshold).unwrap().f1() - f1).abs() < 1e-12);
        }

        #[test]
        fn average_precision_matches_definition((y, p) in labelled_rows()) {
            prop_assume!(y.contains(&1.0));
            let mut thresholds = p.clone();
            thresholds.sort_by(|a, b| b.total_cmp(a));
            thresholds.dedup();
            let mut ap = 0.0;
            let mut prev_recall = 0.0;
            for &t in &thresholds {
                let c = confusion(&y, &p, t).unwrap();
                ap += (c.recall() - prev_recall) * c.precision();
                prev_recall = c.recall();
            }
            prop_assert!((average_precision(&y, &p).unwrap() - ap).abs() < 1e-12);
        }
    }
}
