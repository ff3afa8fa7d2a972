//! The model report: what a model does on one labelled table, summarised and rendered as one
//! self-contained HTML page (inline CSS and SVG, no scripts, no network).
//!
//! [`build_report`] scores the table through the one [`Scorer`] path and keeps only summaries —
//! curves thinned by [`crate::metrics::curves`], deciles, per-column drift, per-group fairness
//! rows — never the rows themselves, so the page stays small whatever the table's size.
//! [`ModelReport::to_html`] renders them.
//!
//! The pieces other modules own are borrowed, not recomputed: the profit curve ([`profit_curve`])
//! prices contacts with [`crate::eval::decision`]'s cost model, and the drift table bins the table into
//! a [`crate::monitor::CurrentWindow`] and measures each column with [`crate::monitor::psi`] at
//! the default [`DriftParams`] thresholds.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Write;
use serde::Serialize;

use crate::data::table::{is_na, Table};
use crate::error::{Error, Result};
use crate::eval::decision::{rank_by_probability, DecisionParams, Outcome};
use crate::metrics::{curves, evaluate, roc_auc, CurveSet, Report};
use crate::model::family::Model;
use crate::monitor::{psi, CurrentWindow, DriftParams, TableRows};
use crate::serve::artifact::Artifact;
use crate::serve::drift::ColumnSketch;
use crate::serve::scorer::Scorer;

/// Groups shown in the fairness table; smaller groups are pooled as `(other)`.
const MAX_GROUPS: usize = 20;

/// The money side of contacting customers, for the profit curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Importance {
    /// Input column.
    pub column: String,
    /// Share of the total (sums to 1 over columns when the model uses any feature).
    pub share: f64,
}

/// How far one column moved from the training reference.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnDrift {
    /// Input column.
    pub column: String,
    /// Population stability index over the reference bins plus a missing bin.
    pub psi: f64,
    /// `stable`, `moderate` or `major` (PSI below 0.1, below 0.25, above).
    pub status: &'static str,
    /// Missing share in the training data.
    pub missing_reference: f64,
    /// Missing share in this data.
    pub missing_current: f64,
}

/// Quality of the model's decisions for one group of customers.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fairness {
    /// Column the groups come from.
    pub column: String,
    /// One row per group, largest first.
    pub groups: Vec<GroupRow>,
}

/// Everything the report shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    pub importance_method: &'static str,
    /// Importance per input column, largest first.
    pub importance: Vec<Importance>,
    /// Drift of the score distribution against training.
    pub score_psi: f64,
    /// Drift per input column, largest PSI first.
    pub drift: Vec<ColumnDrift>,
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

fn drift_status(psi: f64) -> &'static str {
    let thresholds = DriftParams::default();
    if psi >= thresholds.psi_drift {
        "major"
    } else if psi >= thresholds.psi_warn {
        "moderate"
    } else {
        "stable"
    }
}

/// Bin counts with the missing count as one more bin, so a change in missingness moves the PSI.
fn with_missing(sketch: &ColumnSketch) -> Vec<u64> {
    let mut counts = sketch.counts.clone();
    counts.push(sketch.missing);
    counts
}

/// Every input column of the window compared with the artifact's reference by PSI.
fn drift_table(artifact: &Artifact, window: &CurrentWindow) -> Vec<ColumnDrift> {
    let mut rows: Vec<ColumnDrift> = artifact
        .reference
        .columns
        .iter()
        .zip(&window.columns)
        .map(|(reference, current)| {
            let psi = psi(&with_missing(reference), &with_missing(&current.sketch));
            ColumnDrift {
                column: reference.name.clone(),
                psi,
                status: drift_status(psi),
                missing_reference: reference.missing_rate(),
                missing_current: current.sketch.missing_rate(),
            }
        })
        .collect();
    rows.sort_by(|a, b| b.psi.total_cmp(&a.psi));
    rows
}

fn importance(artifact: &Artifact) -> (&'static str, Vec<Importance>) {
    let (method, per_feature) = match &artifact.model {
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
    };
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
pub fn build_report(
    artifact: &Artifact,
    table: &Table,
    params: &ReportParams,
) -> Result<ModelReport> {
    let target = artifact.schema.target.as_ref().ok_or(Error::NoTarget)?;
    let target_col = table
        .column_index(&target.name)
        .ok_or_else(|| Error::MissingColumn {
            column: target.name.clone(),
        })?;
    let mut rows = TableRows::new(&artifact.pipeline, table)?;
    let scorer = Scorer::new(artifact.clone());
    // Every row's inputs count towards drift; only labelled, scored rows count towards the score
    // distribution, the rows every other section is about.
    let mut window = CurrentWindow::new(artifact)?;
    let mut scored = Vec::new();
    let mut skipped_examples = Vec::new();
    let mut skipped = 0;
    for (r, score) in scorer.score_table(table)?.into_iter().enumerate() {
        let raw = table.raw(r, target_col);
        let reason = match (target.label(raw), score) {
            (Some(label), Ok(s)) => {
                rows.observe(&mut window, r, Some(s.probability))?;
                scored.push((r, label, s.probability));
                continue;
            }
            (None, _) => format!(
                "target `{raw}` is not `{}` or `{}`",
                target.positive, target.negative
            ),
            (_, Err(e)) => e.to_string(),
        };
        rows.observe(&mut window, r, None)?;
        skipped += 1;
        if skipped_examples.len() < 10 {
            skipped_examples.push((table.source_row(r), reason));
        }
    }
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
        importance_method,
        importance,
        score_psi: psi(&artifact.reference.scores.counts, &window.scores.counts),
        drift: drift_table(artifact, &window),
        fairness,
    })
}

/// Text safe inside HTML elements and attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn opt(v: Option<f64>) -> String {
    v.map_or_else(|| String::from("–"), |x| format!("{x:.3}"))
}

const W: f64 = 360.0;
const H: f64 = 250.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 40.0;

/// Maps data coordinates into one chart's plot area.
struct Frame {
    x: (f64, f64),
    y: (f64, f64),
}

impl Frame {
    fn px(&self, x: f64) -> f64 {
        let span = self.x.1 - self.x.0;
        LEFT + if span > 0.0 {
            (x - self.x.0) / span
        } else {
            0.0
        } * (W - LEFT - RIGHT)
    }

    fn py(&self, y: f64) -> f64 {
        let span = self.y.1 - self.y.0;
        H - BOTTOM
            - if span > 0.0 {
                (y - self.y.0) / span
            } else {
                0.0
            } * (H - TOP - BOTTOM)
    }

    /// Opens an `<svg>` with axes, five ticks per axis and the axis labels.
    fn open(&self, out: &mut String, title: &str, x_label: &str, y_label: &str) {
        let _ = write!(
            out,
            "<svg viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" role=\"img\" aria-label=\"{t}\"><title>{t}</title>",
            t = escape(title)
        );
        let _ = write!(
            out,
            "<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{}\" height=\"{}\" class=\"plot\"/>",
            W - LEFT - RIGHT,
            H - TOP - BOTTOM
        );
        for k in 0..=4 {
            let f = k as f64 / 4.0;
            let (xv, yv) = (
                self.x.0 + f * (self.x.1 - self.x.0),
                self.y.0 + f * (self.y.1 - self.y.0),
            );
            let (x, y) = (self.px(xv), self.py(yv));
            let _ = write!(
                out,
                "<line x1=\"{x:.1}\" y1=\"{TOP}\" x2=\"{x:.1}\" y2=\"{:.1}\" class=\"grid\"/><text x=\"{x:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"middle\">{}</text>",
                H - BOTTOM,
                H - BOTTOM + 14.0,
                tick(xv)
            );
            let _ = write!(
                out,
                "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" class=\"grid\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"end\">{}</text>",
                W - RIGHT,
                LEFT - 4.0,
                y + 4.0,
                tick(yv)
            );
        }
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"axis\" text-anchor=\"middle\">{}</text><text x=\"12\" y=\"{:.1}\" class=\"axis\" text-anchor=\"middle\" transform=\"rotate(-90 12 {:.1})\">{}</text>",
            LEFT + (W - LEFT - RIGHT) / 2.0,
            H - 6.0,
            escape(x_label),
            TOP + (H - TOP - BOTTOM) / 2.0,
            TOP + (H - TOP - BOTTOM) / 2.0,
            escape(y_label)
        );
    }

    fn polyline(&self, out: &mut String, points: impl Iterator<Item = (f64, f64)>, class: &str) {
        let _ = write!(out, "<polyline class=\"{class}\" points=\"");
        for (x, y) in points {
            let _ = write!(out, "{:.1},{:.1} ", self.px(x), self.py(y));
        }
        out.push_str("\"/>");
    }
}

/// A compact tick label: three significant places for small numbers, thousands as `k`.
fn tick(v: f64) -> String {
    let a = v.abs();
    if a >= 1_000_000.0 {
        format!("{:.1}M", v / 1_000_000.0)
    } else if a >= 1_000.0 {
        format!("{:.0}k", v / 1_000.0)
    } else if a >= 10.0 || a == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn table_html(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    out.push_str("<table><thead><tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", escape(cell));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1150px;color:#222;padding:0 1em}\
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}\
.charts{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0}figcaption{font-size:.85em;color:#555;max-width:360px}\
table{border-collapse:collapse;font-size:.9em;margin:.5em 0}th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}\
th:first-child,td:first-child{text-align:left}th{background:#f4f4f4}\
.plot{fill:#fff;stroke:#999}.grid{stroke:#eee}.tick{font-size:10px;fill:#555}.axis{font-size:11px;fill:#333}\
.line{fill:none;stroke:#1f6feb;stroke-width:2}.ref{fill:none;stroke:#aaa;stroke-dasharray:4 3}\
.bar{fill:#1f6feb}.mark{fill:#d1242f}.note{color:#555;font-size:.9em}";

impl ModelReport {
    /// The report as one self-contained HTML page.
    pub fn to_html(&self) -> String {
        let mut out = String::with_capacity(64 * 1024);
        let m = &self.metrics;
        let _ = write!(
            out,
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Ebb model report {id}</title><style>{STYLE}</style></head><body>\
             <h1>Model report: {id} ({family})</h1><p>{rows} customers scored; {skipped} rows left out. Decision threshold {t:.3} (calibrated probability).</p>",
            id = escape(&self.model_id),
            family = escape(&self.family),
            rows = self.rows,
            skipped = self.skipped,
            t = self.threshold
        );
        if !self.skipped_examples.is_empty() {
            out.push_str("<ul class=\"note\">");
            for (row, why) in &self.skipped_examples {
                let _ = write!(out, "<li>row {row}: {}</li>", escape(why));
            }
            out.push_str("</ul>");
        }
        out.push_str("<h2>Quality</h2>");
        table_html(
            &mut out,
            &["metric", "value"],
            &[
                ("ROC-AUC", m.roc_auc),
                ("PR-AUC", m.pr_auc),
                ("log loss", m.log_loss),
                ("Brier", m.brier),
                ("expected calibration error", m.ece),
                ("precision at threshold", m.precision),
                ("recall at threshold", m.recall),
                ("F1 at threshold", m.f1),
                ("churn rate", m.positive_rate),
            ]
            .iter()
            .map(|(k, v)| vec![k.to_string(), format!("{v:.4}")])
            .collect::<Vec<_>>(),
        );

        out.push_str("<h2>Curves</h2><div class=\"charts\">");
        self.roc_chart(&mut out);
        self.pr_chart(&mut out);
        self.calibration_chart(&mut out);
        self.lift_chart(&mut out);
        self.profit_chart(&mut out);
        out.push_str("</div>");

        let c = &m.confusion;
        out.push_str("<h2>Confusion matrix at the threshold</h2>");
        table_html(
            &mut out,
            &["", "predicted churn", "predicted stay"],
            &[
                vec!["churned".into(), c.tp.to_string(), c.fn_.to_string()],
                vec!["stayed".into(), c.fp.to_string(), c.tn.to_string()],
            ],
        );

        self.importance_chart(&mut out);

        let thresholds = DriftParams::default();
        let _ = write!(
            out,
            "<h2>Drift against training</h2><p class=\"note\">Population stability index per input column over the training reference bins (plus a missing bin): below {} stable, below {} moderate, above major. Score distribution PSI: {:.3} ({}).</p>",
            thresholds.psi_warn,
            thresholds.psi_drift,
            self.score_psi,
            drift_status(self.score_psi)
        );
        table_html(
            &mut out,
            &[
                "column",
                "PSI",
                "status",
                "missing (training)",
                "missing (now)",
            ],
            &self
                .drift
                .iter()
                .map(|d| {
                    vec![
                        d.column.clone(),
                        format!("{:.3}", d.psi),
                        d.status.to_string(),
                        format!("{:.1}%", 100.0 * d.missing_reference),
                        format!("{:.1}%", 100.0 * d.missing_current),
                    ]
                })
                .collect::<Vec<_>>(),
        );

        if let Some(f) = &self.fairness {
            let _ = write!(
                out,
                "<h2>Fairness by {}</h2><p class=\"note\">Decisions at the threshold per group: large gaps in flagged rate, recall or false-positive rate mean the model treats groups differently.</p>",
                escape(&f.column)
            );
            table_html(
                &mut out,
                &[
                    "group",
                    "rows",
                    "churn rate",
                    "mean probability",
                    "flagged",
                    "precision",
                    "recall",
                    "false-positive rate",
                    "ROC-AUC",
                ],
                &f.groups
                    .iter()
                    .map(|g| {
                        vec![
                            g.group.clone(),
                            g.rows.to_string(),
                            format!("{:.3}", g.churn_rate),
                            format!("{:.3}", g.mean_probability),
                            format!("{:.3}", g.flagged_rate),
                            opt(g.precision),
                            opt(g.recall),
                            opt(g.false_positive_rate),
                            opt(g.roc_auc),
                        ]
                    })
                    .collect::<Vec<_>>(),
            );
        }
        out.push_str("</body></html>\n");
        out
    }

    fn roc_chart(&self, out: &mut String) {
        let f = Frame {
            x: (0.0, 1.0),
            y: (0.0, 1.0),
        };
        out.push_str("<figure>");
        f.open(
            out,
            "ROC curve",
            "false-positive rate",
            "true-positive rate",
        );
        f.polyline(out, [(0.0, 0.0), (1.0, 1.0)].into_iter(), "ref");
        let roc = &self.curves.roc;
        f.polyline(
            out,
            roc.x.iter().copied().zip(roc.y.iter().copied()),
            "line",
        );
        let _ = write!(
            out,
            "</svg><figcaption>ROC-AUC {:.3}; the dashed line is a random ranking.</figcaption></figure>",
            self.metrics.roc_auc
        );
    }

    fn pr_chart(&self, out: &mut String) {
        let f = Frame {
            x: (0.0, 1.0),
            y: (0.0, 1.0),
        };
        out.push_str("<figure>");
        f.open(out, "Precision-recall curve", "recall", "precision");
        let base = self.metrics.positive_rate;
        f.polyline(out, [(0.0, base), (1.0, base)].into_iter(), "ref");
        let pr = &self.curves.pr;
        f.polyline(
            out,
            pr.recall.iter().copied().zip(pr.precision.iter().copied()),
            "line",
        );
        let _ = write!(
            out,
            "</svg><figcaption>PR-AUC {:.3}; the dashed line is the churn rate.</figcaption></figure>",
            self.metrics.pr_auc
        );
    }

    fn calibration_chart(&self, out: &mut String) {
        let f = Frame {
            x: (0.0, 1.0),
            y: (0.0, 1.0),
        };
        out.push_str("<figure>");
        f.open(
            out,
            "Calibration",
            "mean predicted probability",
            "observed churn rate",
        );
        f.polyline(out, [(0.0, 0.0), (1.0, 1.0)].into_iter(), "ref");
        let bins: Vec<_> = self
            .curves
            .calibration
            .iter()
            .filter(|b| b.count > 0)
            .collect();
        f.polyline(
            out,
            bins.iter().map(|b| (b.mean_predicted, b.observed_rate)),
            "line",
        );
        for b in &bins {
            let _ = write!(
                out,
                "<circle class=\"mark\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\"/>",
                f.px(b.mean_predicted),
                f.py(b.observed_rate)
            );
        }
        let _ = write!(
            out,
            "</svg><figcaption>Expected calibration error {:.3}; points on the diagonal are perfectly calibrated.</figcaption></figure>",
            self.metrics.ece
        );
    }

    fn lift_chart(&self, out: &mut String) {
        let lift = &self.curves.lift;
        let top = lift.iter().map(|d| d.lift).fold(1.0, f64::max);
        let f = Frame {
            x: (0.0, lift.len().max(1) as f64),
            y: (0.0, top),
        };
        out.push_str("<figure>");
        f.open(
            out,
            "Lift by decile",
            "decile (highest scores first)",
            "lift",
        );
        for (i, d) in lift.iter().enumerate() {
            let (x0, x1) = (f.px(i as f64 + 0.1), f.px(i as f64 + 0.9));
            let y = f.py(d.lift);
            let _ = write!(
                out,
                "<rect class=\"bar\" x=\"{x0:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\"/>",
                x1 - x0,
                (f.py(0.0) - y).max(0.0)
            );
        }
        f.polyline(out, [(0.0, 1.0), (f.x.1, 1.0)].into_iter(), "ref");
        let first = lift.first().map_or(0.0, |d| d.lift);
        let _ = write!(
            out,
            "</svg><figcaption>The top decile holds {first:.1}× the average churn rate.</figcaption></figure>"
        );
    }

    fn profit_chart(&self, out: &mut String) {
        let (lo, hi) = self.profit.iter().fold((0.0f64, 0.0f64), |(lo, hi), p| {
            (lo.min(p.profit), hi.max(p.profit))
        });
        let f = Frame {
            x: (0.0, 1.0),
            y: (lo, if hi > lo { hi } else { lo + 1.0 }),
        };
        out.push_str("<figure>");
        f.open(
            out,
            "Profit curve",
            "share of customers contacted",
            "profit",
        );
        f.polyline(out, [(0.0, 0.0), (1.0, 0.0)].into_iter(), "ref");
        f.polyline(
            out,
            self.profit.iter().map(|p| (p.fraction, p.profit)),
            "line",
        );
        let b = &self.best_profit;
        let a = &self.profit_assumptions;
        let _ = write!(
            out,
            "<circle class=\"mark\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\"/></svg><figcaption>Cost {} per contact, {} kept per saved churner, {:.0}% of contacted churners saved. Best: contact the top {:.0}% ({} customers, probability ≥ {:.3}) for a profit of {:.0}.</figcaption></figure>",
            f.px(b.fraction),
            f.py(b.profit),
            a.cost_per_contact,
            a.value_per_save,
            100.0 * a.success_rate,
            100.0 * b.fraction,
            b.contacted,
            b.threshold,
            b.profit
        );
    }

    fn importance_chart(&self, out: &mut String) {
        let rows: Vec<&Importance> = self.importance.iter().take(15).collect();
        let _ = write!(
            out,
            "<h2>Importance</h2><p class=\"note\">Share of the model's {} per input column (encoded features summed back to their column), top {}.</p>",
            escape(self.importance_method),
            rows.len()
        );
        let (label_w, bar_w, row_h) = (200.0, 320.0, 18.0);
        let height = row_h * rows.len() as f64 + 8.0;
        let top = rows.first().map_or(0.0, |r| r.share).max(1e-12);
        let _ = write!(
            out,
            "<svg viewBox=\"0 0 {w} {height}\" width=\"{w}\" height=\"{height}\" role=\"img\" aria-label=\"Importance\"><title>Importance</title>",
            w = label_w + bar_w + 60.0
        );
        for (i, r) in rows.iter().enumerate() {
            let y = 4.0 + i as f64 * row_h;
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" class=\"axis\" text-anchor=\"end\">{}</text><rect class=\"bar\" x=\"{label_w}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\">{:.1}%</text>",
                label_w - 6.0,
                y + 12.0,
                escape(&r.column),
                y + 2.0,
                bar_w * r.share / top,
                row_h - 4.0,
                label_w + bar_w * r.share / top + 4.0,
                y + 12.0,
                100.0 * r.share
            );
        }
        out.push_str("</svg>");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::schema::{infer, InferOptions};
    use crate::data::synth::{generate_table, SynthParams};
    use crate::model::family::Family;
    use crate::serve::artifact::TrainingMetadata;
    use crate::train::{train, TrainParams};

    fn artifact_and_table(drift: f64) -> (Artifact, Table) {
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
            feature_names: out.pipeline.feature_names(),
        };
        let artifact = Artifact::build(
            schema,
            out.pipeline,
            out.model,
            out.calibration,
            out.threshold,
            out.metrics,
            out.reference,
            metadata,
        )
        .expect("artifact");
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
        let report = build_report(&artifact, &current, &params).expect("report");
        assert_eq!(report.rows + report.skipped, current.n_rows());
        let total: f64 = report.importance.iter().map(|i| i.share).sum();
        assert!((total - 1.0).abs() < 1e-9, "{total}");
        assert_eq!(report.importance.len(), artifact.pipeline.inputs.len());
        assert!(
            report.drift.iter().any(|d| d.status != "stable"),
            "{:?}",
            report.drift
        );
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
        let report = build_report(&artifact, &current, &ReportParams::default()).expect("report");
        assert!(report.fairness.is_none());
        assert!(
            report.score_psi < DriftParams::default().psi_drift,
            "{}",
            report.score_psi
        );
        let err = build_report(
            &artifact,
            &current,
            &ReportParams::default().with_by(Some("nope".into())),
        )
        .expect_err("unknown column");
        assert_eq!(
            err,
            Error::MissingColumn {
                column: "nope".into()
            }
        );
        // Names of columns and groups are escaped, never injected as markup.
        assert_eq!(escape("<a href='x'>&"), "&lt;a href=&#39;x&#39;&gt;&amp;");
    }
}
