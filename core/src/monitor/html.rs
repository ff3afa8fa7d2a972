//! The model report as one self-contained HTML page (inline CSS and SVG, no scripts, no
//! network), rendered from the numbers [`super::report::build_report`] summarised. Rendering is
//! kept apart from those numbers so any face can offer the same page from a stored or received
//! [`ModelReport`].

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Write;

use super::report::{Importance, ModelReport};
use crate::monitor::DriftParams;

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

fn format_p(p: f64) -> String {
    if p < 0.001 {
        String::from("< 0.001")
    } else {
        format!("{p:.3}")
    }
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

        let t = DriftParams::default();
        let d = &self.drift;
        let s = &d.score_drift;
        let _ = write!(
            out,
            "<h2>Drift against training</h2><p class=\"note\">The same figures and verdicts as <code>ebb drift</code>, present values on the training reference bins. A column is <b>drift</b> when PSI ≥ {}, Wasserstein-1/sd ≥ {} (numbers) or Jensen–Shannon distance ≥ {} (categories), <b>warn</b> from PSI {}, W1/sd {} or JS {}, each only when its test has p &lt; {}; a missing-rate change of {} or {} counts alike. {}</p><p class=\"note\">Score distribution: PSI {:.3}, mean {:.3} → {:.3} ({}).</p>",
            t.psi_drift,
            t.wasserstein_drift,
            t.js_drift,
            t.psi_warn,
            t.wasserstein_warn,
            t.js_warn,
            t.alpha,
            t.missing_warn,
            t.missing_drift,
            escape(&d.recommendation),
            s.psi,
            s.reference_mean,
            s.current_mean,
            s.verdict.as_str()
        );
        table_html(
            &mut out,
            &[
                "column",
                "verdict",
                "PSI",
                "distance",
                "test p",
                "missing (training)",
                "missing (now)",
                "why",
            ],
            &d.columns
                .iter()
                .map(|c| {
                    let (distance, p) = match (&c.ks, &c.chi_square) {
                        (Some(ks), _) => (
                            format!("W1/sd {}", opt(c.wasserstein)),
                            format_p(ks.p_value),
                        ),
                        (None, Some(chi)) => {
                            (format!("JS {}", opt(c.js_distance)), format_p(chi.p_value))
                        }
                        (None, None) => (String::from("–"), String::from("–")),
                    };
                    vec![
                        c.name.clone(),
                        c.verdict.as_str().to_string(),
                        opt(c.psi),
                        distance,
                        p,
                        format!("{:.1}%", 100.0 * c.missing.reference_rate),
                        format!("{:.1}%", 100.0 * c.missing.current_rate),
                        c.reasons.join("; "),
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
            escape(&self.importance_method),
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

    #[test]
    fn names_are_escaped_never_injected_as_markup() {
        assert_eq!(escape("<a href='x'>&"), "&lt;a href=&#39;x&#39;&gt;&amp;");
    }
}
