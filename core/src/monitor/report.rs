//! The model report's numbers: what a model does on one labelled table, summarised.
//!
//! [`build_report`] scores the table through the one [`Scorer`] path and keeps only summaries —
//! curves thinned by [`crate::metrics::curves`], deciles, per-column drift, per-group fairness
//! rows — never the rows themselves, so the page stays small whatever the table's size.
//! [`ModelReport::to_html`] (in [`super::html`]) renders them.
//!
//! The pieces other modules own are borrowed, not recomputed: the profit curve ([`profit_curve`])
//! prices contacts with [`crate::eval::decision`]'s cost model, and the drift section is the
//! [`DriftReport`] of `ebb drift` itself: the table is binned into a [`CurrentWindow`] and judged
//! by the same statistics and verdicts at the default [`DriftParams`], so the page and the drift
//! report never show two numbers for one column.
//!
//! Every type here serialises both ways, so a face can store or pass a report (the browser with
//! serde-wasm-bindgen) and render it later with [`ModelReport::to_html`].

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::data::table::{is_na, Table};
use crate::error::{Error, Result};
use crate::eval::decision::{rank_by_probability, DecisionParams, Outcome};
use crate::metrics::{curves, evaluate, roc_auc, CurveSet, Report};
use crate::model::family::Model;
use crate::monitor::{CurrentWindow, DriftParams, DriftReport, TableRows};
use crate::progress::Reporter;
use crate::serve::artifact::Artifact;
use crate::serve::scorer::{Labels, Scorer};

/// Groups shown in the fairness table; smaller groups are pooled as `(other)`.
const MAX_GROUPS: usize = 20;

/// Rows summarised between two progress reports of [`build_report`].
const ROWS_PER_REPORT: usize = 8_192;

/// Progress stages of [`build_report`], as its reporter names them.
const STAGE_SCORING: &str = "report: scoring";
const STAGE_ROWS: &str = "report: summarising rows";
const STAGE_CURVES: &str = "report: curves";

/// The money side of contacting customers, for the profit curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ProfitAssumptions {
    /// Cost of one retention contact.
    pub cost_per_contact: f64,
    /// Value kept when a churner is saved.
    pub value_per_save: f64,
    /// Share of contacted churners who stay.
    pub success_rate: f64,
}

impl Default for ProfitAssumptions {
    fn default() -> Self {
        ProfitAssumptions {
            cost_per_contact: 10.0,
            value_per_save: 600.0,
            success_rate: 0.3,
        }
    }
}

impl ProfitAssumptions {
    /// Sets [`ProfitAssumptions::cost_per_contact`].
    pub fn with_cost_per_contact(mut self, v: f64) -> Self {
        self.cost_per_contact = v;
        self
    }

    /// Sets [`ProfitAssumptions::value_per_save`].
    pub fn with_value_per_save(mut self, v: f64) -> Self {
        self.value_per_save = v;
        self
    }

    /// Sets [`ProfitAssumptions::success_rate`].
    pub fn with_success_rate(mut self, v: f64) -> Self {
        self.success_rate = v;
        self
    }

    fn decision_params(&self) -> DecisionParams {
        DecisionParams::default()
            .with_cost_per_contact(self.cost_per_contact)
            .with_success_rate(self.success_rate)
    }
}

/// What to put in a report.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReportParams {
    /// Column whose values split the fairness table (none: no fairness table).
    pub by: Option<String>,
    /// Profit curve assumptions.
    pub profit: ProfitAssumptions,
}

impl ReportParams {
    /// Sets [`ReportParams::by`].
    pub fn with_by(mut self, column: Option<String>) -> Self {
        self.by = column;
        self
    }

    /// Sets [`ReportParams::profit`].
    pub fn with_profit(mut self, profit: ProfitAssumptions) -> Self {
        self.profit = profit;
        self
    }
}

/// Profit of contacting the highest-scored `fraction` of customers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ProfitPoint {
    /// Share of customers contacted.
    pub fraction: f64,
    /// Customers contacted.
    pub contacted: usize,
    /// Lowest probability among those contacted (1 when nobody is).
    pub threshold: f64,
    /// `success_rate × value_per_save × churners contacted − cost_per_contact × contacted`.
    pub profit: f64,
}

/// One input column's share of the model's importance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Importance {
    /// Input column.
    pub column: String,
    /// Share of the total (sums to 1 over columns when the model uses any feature).
    pub share: f64,
}

/// Quality of the model's decisions for one group of customers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupRow {
    /// The group's value (`(missing)`, `(other)` for pooled small groups).
    pub group: String,
    /// Customers in the group.
    pub rows: usize,
    /// Share who churned.
    pub churn_rate: f64,
    /// Mean calibrated probability.
    pub mean_probability: f64,
    /// Share flagged at the model's threshold.
    pub flagged_rate: f64,
    /// Precision among flagged (`None` when nobody is flagged).
    pub precision: Option<f64>,
    /// Recall of churners (`None` without churners).
    pub recall: Option<f64>,
    /// Share of non-churners flagged (`None` without non-churners).
    pub false_positive_rate: Option<f64>,
    /// ROC-AUC inside the group (`None` without both outcomes).
    pub roc_auc: Option<f64>,
}

/// The fairness table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fairness {
    /// Column the groups come from.
    pub column: String,
    /// One row per group, largest first.
    pub groups: Vec<GroupRow>,
}

/// Everything the report shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelReport {
    /// Model id of the artifact.
    pub model_id: String,
    /// Model family.
    pub family: String,
    /// Decision threshold of the artifact.
    pub threshold: f64,
    /// Rows scored and labelled.
    pub rows: usize,
    /// Rows left out (unreadable values or an unknown target), with the first reasons.
    pub skipped: usize,
    /// Up to ten `(row, reason)` examples of skipped rows.
    pub skipped_examples: Vec<(usize, String)>,
    /// Metrics at the artifact's threshold.
    pub metrics: Report,
    /// ROC, precision–recall, lift and calibration curves.
    pub curves: CurveSet,
    /// Profit assumptions used.
    pub profit_assumptions: ProfitAssumptions,
    /// Profit by share contacted, every percent.
    pub profit: Vec<ProfitPoint>,
    /// The most profitable point of `profit`.
    pub best_profit: ProfitPoint,
    /// How importance was measured (`gain`, `impurity`, `|coefficient|`).
    pub importance_method: String,
    /// Importance per input column, largest first.
    pub importance: Vec<Importance>,
    /// Drift of every input column and of the score distribution against the training
    /// reference, exactly as `ebb drift` reports it (without performance: the metrics above are
    /// this table's).
    pub drift: DriftReport,
    /// Per-group quality, when asked for.
    pub fairness: Option<Fairness>,
}

/// Profit of contacting the top `k` percent by score, for `k` = 0..=100 (ties in score are
/// broken by row order), priced with [`crate::eval::decision`]'s cost model. The profit is realised,
/// not expected: the label stands in for the probability, so each contacted churner saves
/// `success_rate × value_per_save` and each contacted stayer saves nothing.
pub fn profit_curve(y: &[f64], p: &[f64], assumptions: &ProfitAssumptions) -> Vec<ProfitPoint> {
    let n = y.len().min(p.len());
    let p = &p[..n];
    let order = rank_by_probability(p);
    let decision = assumptions.decision_params();
    let mut running = Outcome::nobody();
    let mut net_of_top = Vec::with_capacity(n + 1);
    net_of_top.push(running.net);
    for &i in &order {
        let churned = if y[i] > 0.5 { 1.0 } else { 0.0 };
        running.add(&decision, churned, assumptions.value_per_save);
        net_of_top.push(running.net);
    }
    (0..=100)
        .map(|k| {
            let contacted = (k * n + 50) / 100;
            ProfitPoint {
                fraction: k as f64 / 100.0,
                contacted,
                threshold: contacted
                    .checked_sub(1)
                    .and_then(|i| order.get(i))
                    .map_or(1.0, |&i| p[i]),
                profit: net_of_top[contacted],
            }
        })
        .collect()
}

fn importance(artifact: &Artifact) -> (&'static str, Vec<Importance>) {
    let (method, per_feature) = model_importance(&artifact.model);
    let inputs = &artifact.pipeline.inputs;
    let mut by_input = vec![0.0; inputs.len()];
    for (share, source) in per_feature.iter().zip(artifact.pipeline.feature_sources()) {
        if let Some(slot) = by_input.get_mut(source) {
            *slot += share;
        }
    }
    let mut rows: Vec<Importance> = inputs
        .iter()
        .zip(by_input)
        .map(|(c, share)| Importance {
            column: c.name.clone(),
            share,
        })
        .collect();
    rows.sort_by(|a, b| b.share.total_cmp(&a.share));
    (method, rows)
}

/// Each model feature's share of the model's own importance measure, and its name.
fn model_importance(model: &Model) -> (&'static str, Vec<f64>) {
    match model {
        Model::Gbdt(m) => ("gain", m.feature_gain_importance()),
        Model::Forest(m) => ("impurity", m.feature_importance()),
        Model::Logistic(m) => {
            // Linear features are standardised, so coefficient sizes are comparable.
            let total: f64 = m.coefficients.iter().map(|c| c.abs()).sum();
            let shares = m
                .coefficients
                .iter()
                .map(|c| if total > 0.0 { c.abs() / total } else { 0.0 })
                .collect();
            ("|coefficient|", shares)
        }
        Model::Ensemble(e) => {
            // Each member's shares (its own measure), scaled by its share of the blend's
            // weights; the features follow each other member by member, as the shares do. The
            // weights are on each member's score scale, so this ranks rather than measures;
            // `ebb explain` gives the blend's exact contributions.
            let total: f64 = e.members.iter().map(|m| m.weight).sum();
            let mut shares = Vec::with_capacity(e.n_features());
            for m in &e.members {
                let share = if total > 0.0 { m.weight / total } else { 0.0 };
                shares.extend(model_importance(&m.model).1.iter().map(|s| s * share));
            }
            ("blend-weighted member importance", shares)
        }
    }
}

fn ratio(num: usize, den: usize) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

fn fairness(
    table: &Table,
    column: &str,
    scored: &[(usize, f64, f64)],
    threshold: f64,
) -> Result<Fairness> {
    let col = table
        .column_index(column)
        .ok_or_else(|| Error::MissingColumn {
            column: column.to_string(),
        })?;
    let key = |r: usize| {
        let raw = table.raw(r, col);
        if is_na(raw) {
            String::from("(missing)")
        } else {
            raw.trim().to_string()
        }
    };
    let mut sizes: hashbrown::HashMap<String, usize> = hashbrown::HashMap::new();
    for &(r, ..) in scored {
        *sizes.entry(key(r)).or_insert(0) += 1;
    }
    let mut ranked: Vec<(String, usize)> = sizes.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let shown: Vec<String> = if ranked.len() > MAX_GROUPS {
        ranked[..MAX_GROUPS - 1]
            .iter()
            .map(|(g, _)| g.clone())
            .collect()
    } else {
        ranked.iter().map(|(g, _)| g.clone()).collect()
    };
    let mut names = shown.clone();
    if ranked.len() > MAX_GROUPS {
        names.push(String::from("(other)"));
    }
    let mut members: Vec<(Vec<f64>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); names.len()];
    for &(r, label, p) in scored {
        let g = key(r);
        let slot = shown.iter().position(|s| *s == g).unwrap_or(shown.len());
        if let Some((ys, ps)) = members.get_mut(slot) {
            ys.push(label);
            ps.push(p);
        }
    }
    let groups = names
        .into_iter()
        .zip(members)
        .map(|(group, (ys, ps))| {
            let n = ys.len();
            let pos = ys.iter().filter(|&&v| v > 0.5).count();
            let flagged = ps.iter().filter(|&&p| p >= threshold).count();
            let tp = ys
                .iter()
                .zip(&ps)
                .filter(|(&v, &p)| v > 0.5 && p >= threshold)
                .count();
            GroupRow {
                group,
                rows: n,
                churn_rate: ratio(pos, n).unwrap_or(0.0),
                mean_probability: if n > 0 {
                    ps.iter().sum::<f64>() / n as f64
                } else {
                    0.0
                },
                flagged_rate: ratio(flagged, n).unwrap_or(0.0),
                precision: ratio(tp, flagged),
                recall: ratio(tp, pos),
                false_positive_rate: ratio(flagged - tp, n - pos),
                roc_auc: roc_auc(&ys, &ps).ok(),
            }
        })
        .collect();
    Ok(Fairness {
        column: column.to_string(),
        groups,
    })
}

/// Scores `table` (which must hold the model's target column) with `artifact` and summarises
/// everything the report shows. Rows whose values do not fit the model, or whose target is not
/// one of the two known outcomes, are counted in `skipped`, never silently dropped.
///
/// Progress goes to `reporter` (scoring, then every 8,192 rows summarised, then the curves);
/// when its callback asks to stop this returns [`Error::Cancelled`]. Pass [`Reporter::silent`]
/// when nobody watches.
pub fn build_report(
    artifact: &Artifact,
    table: &Table,
    params: &ReportParams,
    reporter: &mut Reporter<'_>,
) -> Result<ModelReport> {
    let mut rows = TableRows::new(&artifact.pipeline, table)?;
    // Every row's inputs count towards drift; only labelled, scored rows count towards the score
    // distribution, the rows every other section is about.
    let mut window = CurrentWindow::new(artifact)?;
    let mut scored = Vec::new();
    let n = table.n_rows();
    reporter.report(STAGE_SCORING, 0.0, "")?;
    let rows_scored = Scorer::new(artifact).score_rows(table, Labels::Required)?;
    // Scoring is one call; summarising the rows and the curves share the rest.
    let mut summarising = reporter.sub(0.4, 0.8);
    for r in 0..n {
        if r % ROWS_PER_REPORT == 0 {
            summarising.step(STAGE_ROWS, r, n, &format!("{r} of {n} rows"))?;
        }
        match (rows_scored.labels[r], rows_scored.probabilities[r]) {
            (Some(label), Some(p)) => {
                rows.observe(&mut window, r, Some(p))?;
                scored.push((r, label, p));
            }
            _ => rows.observe(&mut window, r, None)?,
        }
    }
    summarising.step(STAGE_ROWS, n, n, &format!("{n} of {n} rows"))?;
    reporter.report(STAGE_CURVES, 0.8, "")?;
    let skipped = rows_scored.skipped.len();
    let skipped_examples = rows_scored
        .skipped
        .into_iter()
        .take(10)
        .map(|s| (s.row, s.reason))
        .collect();
    let (y, p): (Vec<f64>, Vec<f64>) = scored.iter().map(|&(_, l, p)| (l, p)).unzip();
    let metrics = evaluate(&y, &p, artifact.threshold)?;
    let profit = profit_curve(&y, &p, &params.profit);
    let best_profit = profit
        .iter()
        .copied()
        .max_by(|a, b| {
            a.profit
                .total_cmp(&b.profit)
                .then(b.contacted.cmp(&a.contacted))
        })
        .unwrap_or(ProfitPoint {
            fraction: 0.0,
            contacted: 0,
            threshold: 1.0,
            profit: 0.0,
        });
    let (importance_method, importance) = importance(artifact);
    let fairness = match &params.by {
        Some(column) => Some(fairness(table, column, &scored, artifact.threshold)?),
        None => None,
    };
    Ok(ModelReport {
        model_id: artifact.model_id.clone(),
        family: artifact.family().name().to_string(),
        threshold: artifact.threshold,
        rows: y.len(),
        skipped,
        skipped_examples,
        metrics,
        curves: curves(&y, &p)?,
        profit_assumptions: params.profit,
        profit,
        best_profit,
        importance_method: importance_method.to_string(),
        importance,
        drift: window.report_with(&artifact.reference, &DriftParams::default(), None)?,
        fairness,
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::data::schema::{infer, InferOptions};
    use crate::data::synth::{generate_table, SynthParams};
    use crate::model::family::Family;
    use crate::monitor::{drift_of_table, Verdict};
    use crate::progress::{Control, Progress};
    use crate::serve::artifact::TrainingMetadata;
    use crate::train::{train, TrainParams};

    pub(in crate::monitor) fn artifact_and_table(drift: f64) -> (Artifact, Table) {
        let table = generate_table(&SynthParams::default().with_n_customers(800).with_seed(2))
            .expect("synthetic data");
        let schema = infer(&table, &InferOptions::new().with_target("churn"))
            .expect("schema")
            .schema;
        let params = TrainParams::default()
            .with_families(vec![Family::Gbdt])
            .with_folds(2);
        let params = TrainParams {
            boost: params.boost.clone().with_n_trees(40),
            ..params
        };
        let out = train(
            &table,
            &schema,
            &params,
            &mut crate::progress::Reporter::silent(),
            &|| None,
        )
        .expect("training");
        let metadata = TrainingMetadata {
            rows: table.n_rows(),
            quarantined_rows: 0,
            seed: 42,
            data_hash: String::new(),
            created_at: String::new(),
            ebb_version: String::new(),
            feature_names: Vec::new(),
        };
        let artifact = out.into_artifact(schema, metadata).expect("artifact");
        let current = generate_table(
            &SynthParams::default()
                .with_n_customers(800)
                .with_seed(9)
                .with_drift(drift),
        )
        .expect("synthetic data");
        (artifact, current)
    }

    #[test]
    fn profit_curve_counts_saved_churners_minus_contacts() {
        let y = [1.0, 0.0, 1.0, 0.0];
        let p = [0.9, 0.8, 0.7, 0.1];
        let a = ProfitAssumptions::default();
        let curve = profit_curve(&y, &p, &a);
        assert_eq!(curve.len(), 101);
        assert_eq!(curve[0].profit, 0.0);
        assert_eq!(curve[0].threshold, 1.0);
        // Top quarter: one churner contacted: 0.3 × 600 − 10.
        assert_eq!(curve[25].contacted, 1);
        assert!((curve[25].profit - 170.0).abs() < 1e-9);
        assert_eq!(curve[25].threshold, 0.9);
        // Everyone: two churners, four contacts.
        assert!((curve[100].profit - (2.0 * 180.0 - 40.0)).abs() < 1e-9);
    }

    #[test]
    fn report_is_self_contained_and_finds_drift_and_groups() {
        let (artifact, current) = artifact_and_table(1.0);
        let params = ReportParams::default().with_by(Some("plan".into()));
        let report =
            build_report(&artifact, &current, &params, &mut Reporter::silent()).expect("report");
        assert_eq!(report.rows + report.skipped, current.n_rows());
        let total: f64 = report.importance.iter().map(|i| i.share).sum();
        assert!((total - 1.0).abs() < 1e-9, "{total}");
        assert_eq!(report.importance.len(), artifact.pipeline.inputs.len());
        assert!(
            report
                .drift
                .columns
                .iter()
                .any(|d| d.verdict != Verdict::Ok),
            "{:?}",
            report.drift
        );
        // One figure per column: the page shows exactly what `ebb drift` reports.
        let drift = drift_of_table(
            &artifact,
            &current,
            &DriftParams::default(),
            &mut Reporter::silent(),
        )
        .expect("drift");
        assert_eq!(report.drift.columns, drift.report.columns);
        assert_eq!(report.drift.score_drift, drift.report.score_drift);
        // The browser receives the report as data and renders it there.
        let json = serde_json::to_string(&report).expect("serialise");
        let back: ModelReport = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back, report);
        let fairness = report.fairness.as_ref().expect("fairness table");
        assert!(fairness.groups.len() >= 2);
        assert_eq!(
            fairness.groups.iter().map(|g| g.rows).sum::<usize>(),
            report.rows
        );
        let best = report
            .profit
            .iter()
            .map(|p| p.profit)
            .fold(f64::MIN, f64::max);
        assert_eq!(report.best_profit.profit, best);

        let html = report.to_html();
        assert!(!html.contains("http"), "external reference in the page");
        assert!(!html.contains("<script"));
        assert_eq!(html.matches("<svg").count(), 6);
        for section in [
            "ROC curve",
            "Profit curve",
            "Fairness by plan",
            "Drift against training",
        ] {
            assert!(html.contains(section), "{section} missing");
        }
        assert!(html.len() < 100_000, "{} bytes", html.len());
    }

    #[test]
    fn same_data_has_less_drift_and_missing_columns_are_named() {
        let (artifact, current) = artifact_and_table(0.0);
        let report = build_report(
            &artifact,
            &current,
            &ReportParams::default(),
            &mut Reporter::silent(),
        )
        .expect("report");
        assert!(report.fairness.is_none());
        assert!(
            report.drift.score_drift.psi < DriftParams::default().psi_drift,
            "{:?}",
            report.drift.score_drift
        );
        let err = build_report(
            &artifact,
            &current,
            &ReportParams::default().with_by(Some("nope".into())),
            &mut Reporter::silent(),
        )
        .expect_err("unknown column");
        assert_eq!(
            err,
            Error::MissingColumn {
                column: "nope".into()
            }
        );
    }

    #[test]
    fn stopping_cancels_the_report_while_rows_are_summarised() {
        let (artifact, current) = artifact_and_table(0.0);
        let mut stages = Vec::new();
        let mut sink = |p: &Progress| {
            stages.push(p.stage.clone());
            if p.stage == STAGE_ROWS {
                Control::Stop
            } else {
                Control::Continue
            }
        };
        let err = build_report(
            &artifact,
            &current,
            &ReportParams::default(),
            &mut Reporter::new(&mut sink),
        )
        .expect_err("cancelled");
        assert_eq!(
            err,
            Error::Cancelled {
                stage: STAGE_ROWS.into()
            }
        );
        assert_eq!(stages, [STAGE_SCORING, STAGE_ROWS]);
    }
}
