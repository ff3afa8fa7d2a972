//! `GET /v1/monitoring` and the daily cron check: drift of recent logged traffic against the
//! active artifact's reference, prediction volume and score distribution per model version and
//! A/B arm, and (where labels arrived) performance against training. The statistics are core's
//! ([`ebb_core::monitor`]), fed from the raw inputs the worker logged with each prediction, so
//! the edge and `ebb drift` agree on the same rows.

use std::collections::BTreeMap;

use ebb_core::monitor::{
    performance, CurrentWindow, DriftParams, DriftReport, Performance, Verdict,
};
use serde::{Deserialize, Serialize};

use crate::model::LoadedModel;

/// Fewest logged predictions for a drift verdict (fewer make every test noise).
pub const MIN_ROWS_FOR_DRIFT: usize = 50;
/// Fewest labelled predictions (with both outcomes) for a performance check.
pub const MIN_LABELS_FOR_PERFORMANCE: usize = 30;
/// Score histogram bins reported per arm.
const SCORE_BINS: usize = 10;

/// One logged prediction, as read back from D1.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LoggedPrediction {
    /// Customer id, when the request had one.
    pub customer_id: Option<String>,
    /// Version that scored it.
    pub model_version: String,
    /// A/B arm, when an experiment ran.
    pub arm: Option<String>,
    /// Calibrated probability served.
    pub probability: f64,
    /// The raw inputs (JSON object) the worker logged.
    pub inputs: String,
    /// The customer's later outcome, when labelled (1 churned, 0 stayed).
    pub churned: Option<i64>,
}

/// Volume and score distribution of one model version in one arm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmTraffic {
    /// Model version.
    pub model_version: String,
    /// `control`, `treatment`, or absent outside experiments.
    pub arm: Option<String>,
    /// Predictions logged.
    pub predictions: u64,
    /// Mean probability served.
    pub mean_probability: f64,
    /// Share of customers at or above the model's threshold (only for the monitored model).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_rate: Option<f64>,
    /// Counts of probabilities in ten equal bins over [0, 1].
    pub score_histogram: [u64; SCORE_BINS],
}

/// The monitoring answer (serialises both ways: stored in D1, read back by the dashboard).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitoringReport {
    /// The model whose reference the traffic is compared with (the active one).
    pub model_version: String,
    /// Start of the window (ms since the Unix epoch).
    pub window_start_ms: u64,
    /// End of the window.
    pub window_end_ms: u64,
    /// Predictions in the window (all versions).
    pub predictions: u64,
    /// Traffic per version and arm.
    pub traffic: Vec<ArmTraffic>,
    /// Drift of the monitored model's traffic, when there were enough rows.
    pub drift: Option<DriftReport>,
    /// Performance on labelled traffic, when there were enough labels.
    pub performance: Option<Performance>,
    /// Why drift or performance is absent.
    pub notes: Vec<String>,
    /// The drift report's dataset verdict, `ok`, `warn` or `drift` (drift also when
    /// performance degraded).
    pub status: String,
    /// Whether an alert should go out: the dataset verdict or the score distribution reached
    /// the alert level (`drift` by default, `warn` for a more sensitive watch), or performance
    /// degraded.
    pub alert: bool,
    /// Why the alert fires, one sentence per cause.
    pub alert_reasons: Vec<String>,
}

/// Builds the report for `model` from the window's logged predictions (any order, any
/// versions) between `window` = (start, end) in ms. Rows whose logged inputs cannot be read are counted in the notes, not dropped
/// silently.
pub fn report(
    model: &LoadedModel,
    rows: &[LoggedPrediction],
    window: (u64, u64),
    alert_level: Verdict,
) -> MonitoringReport {
    let (window_start_ms, window_end_ms) = window;
    let artifact = model.artifact();
    let version = model.version();
    let mut notes = Vec::new();

    #[derive(Default)]
    struct Tally {
        n: u64,
        sum: f64,
        contacts: u64,
        histogram: [u64; SCORE_BINS],
    }
    let mut groups: BTreeMap<(String, Option<String>), Tally> = BTreeMap::new();
    for row in rows {
        let t = groups
            .entry((row.model_version.clone(), row.arm.clone()))
            .or_default();
        t.n += 1;
        t.sum += row.probability;
        if row.probability >= artifact.threshold {
            t.contacts += 1;
        }
        let bin = ((row.probability * SCORE_BINS as f64) as usize).min(SCORE_BINS - 1);
        t.histogram[bin] += 1;
    }
    let traffic = groups
        .into_iter()
        .map(|((model_version, arm), t)| ArmTraffic {
            contact_rate: (model_version == version).then(|| t.contacts as f64 / t.n as f64),
            model_version,
            arm,
            predictions: t.n,
            mean_probability: t.sum / t.n as f64,
            score_histogram: t.histogram,
        })
        .collect();

    let own: Vec<&LoggedPrediction> = rows.iter().filter(|r| r.model_version == version).collect();
    let params = DriftParams::default();
    let performance = labelled_performance(model, &own, &params, &mut notes);
    let drift = if own.len() < MIN_ROWS_FOR_DRIFT {
        notes.push(format!(
            "drift needs at least {MIN_ROWS_FOR_DRIFT} predictions of {version} in the window; there are {}",
            own.len()
        ));
        None
    } else {
        drift_report(model, &own, &params, performance.clone(), &mut notes)
    };
    let mut alert_reasons = Vec::new();
    if let Some(d) = &drift {
        if d.dataset_verdict >= alert_level {
            // Named, so the operator reading the alert knows where to look without opening
            // the dashboard.
            let flagged: Vec<String> = d
                .columns
                .iter()
                .filter(|c| c.verdict != Verdict::Ok)
                .map(|c| format!("{} ({})", c.name, c.verdict.as_str()))
                .collect();
            alert_reasons.push(format!(
                "{} of {} input columns drifted, {} more warn: {}",
                d.drifted_columns,
                d.columns.len(),
                d.warned_columns,
                flagged.join(", ")
            ));
        }
        if d.score_drift.verdict >= alert_level {
            alert_reasons.push(format!(
                "the score distribution moved (PSI {:.3}, mean {:.3} -> {:.3})",
                d.score_drift.psi, d.score_drift.reference_mean, d.score_drift.current_mean
            ));
        }
    }
    if let Some(p) = performance.as_ref().filter(|p| p.degraded) {
        alert_reasons.push(format!(
            "performance degraded: ROC-AUC {:.3} (training {:.3}), recall {:.3} (training {:.3})",
            p.roc_auc.current, p.roc_auc.training, p.recall.current, p.recall.training
        ));
    }
    let status = match &drift {
        Some(d) => d.dataset_verdict,
        None if !alert_reasons.is_empty() => Verdict::Drift,
        None => Verdict::Ok,
    };
    MonitoringReport {
        model_version: version.to_string(),
        window_start_ms,
        window_end_ms,
        predictions: rows.len() as u64,
        traffic,
        drift,
        performance,
        notes,
        status: status.as_str().to_string(),
        alert: !alert_reasons.is_empty(),
        alert_reasons,
    }
}

impl MonitoringReport {
    /// The input columns whose drift verdict is `warn` or `drift`, in the report's order.
    pub fn flagged_columns(&self) -> Vec<&str> {
        self.drift
            .iter()
            .flat_map(|d| &d.columns)
            .filter(|c| c.verdict != Verdict::Ok)
            .map(|c| c.name.as_str())
            .collect()
    }
}

fn drift_report(
    model: &LoadedModel,
    rows: &[&LoggedPrediction],
    params: &DriftParams,
    performance: Option<Performance>,
    notes: &mut Vec<String>,
) -> Option<DriftReport> {
    let artifact = model.artifact();
    let mut window = match CurrentWindow::new(artifact) {
        Ok(w) => w,
        Err(e) => {
            notes.push(format!("drift unavailable: {e}"));
            return None;
        }
    };
    let mut unreadable = 0usize;
    for row in rows {
        let parsed: Result<serde_json::Map<String, serde_json::Value>, _> =
            serde_json::from_slice(row.inputs.as_bytes()); // the bodies' reader type, as in registry.rs
        let observed = parsed.ok().and_then(|record| {
            let read = model.scorer().read_map(&record).ok()?;
            if !model.scorer().record_errors(&read).is_empty() {
                return None;
            }
            window
                .observe_values(&read.values(), read.snapshot(), Some(row.probability))
                .ok()
        });
        if observed.is_none() {
            unreadable += 1;
        }
    }
    if unreadable > 0 {
        notes.push(format!(
            "{unreadable} logged predictions had unreadable inputs and were left out of drift"
        ));
    }
    match window.report_with(&artifact.reference, params, performance) {
        Ok(report) => Some(report),
        Err(e) => {
            notes.push(format!("drift unavailable: {e}"));
            None
        }
    }
}

fn labelled_performance(
    model: &LoadedModel,
    rows: &[&LoggedPrediction],
    params: &DriftParams,
    notes: &mut Vec<String>,
) -> Option<Performance> {
    // One pair per customer: the latest logged prediction (rows arrive oldest first).
    let mut latest: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    for row in rows {
        if let (Some(id), Some(churned)) = (row.customer_id.as_deref(), row.churned) {
            latest.insert(id, (if churned != 0 { 1.0 } else { 0.0 }, row.probability));
        }
    }
    let (y, p): (Vec<f64>, Vec<f64>) = latest.into_values().unzip();
    let positives = y.iter().filter(|&&v| v == 1.0).count();
    if y.len() < MIN_LABELS_FOR_PERFORMANCE || positives == 0 || positives == y.len() {
        notes.push(format!(
            "performance needs at least {MIN_LABELS_FOR_PERFORMANCE} labelled customers with both outcomes; there are {} ({positives} churned)",
            y.len()
        ));
        return None;
    }
    let artifact = model.artifact();
    match performance(
        &artifact.metrics.calibrated_cv,
        artifact.threshold,
        &y,
        &p,
        params,
    ) {
        Ok(p) => Some(p),
        Err(e) => {
            notes.push(format!("performance unavailable: {e}"));
            None
        }
    }
}
