//! The Explain view's charts as SVG markup built in plain Rust: importance bars, the SHAP
//! summary (beeswarm), a dependence plot and one customer's waterfall. They draw thousands of
//! dots, so one string per chart (set as the container's inner HTML) is far smaller in the
//! wasm module and faster to render than a reactive node per dot; and, having no DOM, the
//! markup is tested natively. Every text from the data goes through [`escape`].
//!
//! Field names label rows, so the row charts have their own wider view box; the dependence plot
//! uses the common 420 x 400 frame of the other charts.

use std::fmt::Write;

use ebb_core::insight::explain::{ColumnImportance, Dependence, Explanation, ShapSample, Space};

use super::scale::{Axis, Frame, HEIGHT, LEFT, TOP, WIDTH};
use super::shap_layout::{
    categories, rank_shares, swarm, value_colour, waterfall, waterfall_range,
};
use crate::format::count;

/// The unit contributions are measured in, as axis titles and tooltips say it.
pub fn unit(space: Space) -> &'static str {
    match space {
        Space::LogOdds => "log-odds",
        Space::Probability => "probability, before calibration",
    }
}

fn contribution_title(space: Space) -> &'static str {
    match space {
        Space::LogOdds => "Contribution (log-odds of churn)",
        Space::Probability => "Contribution (probability, before calibration)",
    }
}

/// `text` safe inside SVG/HTML text and double-quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
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

/// The opening tag of a chart labelled by its own `<title>`; `extra` holds more attributes.
fn open(out: &mut String, id: &str, class: &str, view_box: &str, title: &str, extra: &str) {
    let _ = write!(
        out,
        r#"<svg id="{id}" class="{class}" viewBox="{view_box}" role="img" aria-labelledby="{id}-title"{extra}><title id="{id}-title">{}</title>"#,
        escape(title)
    );
}

/// View box of the row charts: field names on the left, the plot to their right.
const ROW_WIDTH: f64 = 640.0;
const ROW_LEFT: f64 = 230.0;
const ROW_PLOT: f64 = 380.0;
const ROW_TOP: f64 = 8.0;
/// Room under the rows for tick labels and the axis title.
const ROW_BOTTOM: f64 = 48.0;

/// A horizontal axis over rows of fields.
struct Rows {
    axis: Axis,
    height: f64,
}

impl Rows {
    fn px(&self, v: f64) -> f64 {
        ROW_LEFT + (v - self.axis.lo) / (self.axis.hi - self.axis.lo) * ROW_PLOT
    }

    fn view_box(&self) -> String {
        format!("0 0 {ROW_WIDTH} {}", ROW_TOP + self.height + ROW_BOTTOM)
    }

    /// Grid, ticks and the axis title under the rows.
    fn frame(&self, out: &mut String) {
        let bottom = ROW_TOP + self.height;
        for &t in &self.axis.ticks {
            let x = self.px(t);
            let _ = write!(
                out,
                r#"<line class="grid" x1="{x:.1}" y1="{ROW_TOP}" x2="{x:.1}" y2="{bottom:.1}"></line><text class="tick" x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                bottom + 16.0,
                self.axis.label(t)
            );
        }
        let _ = write!(
            out,
            r#"<line class="axis" x1="{ROW_LEFT}" y1="{bottom:.1}" x2="{}" y2="{bottom:.1}"></line><text class="axis-title" x="{}" y="{:.1}" text-anchor="middle">{}</text>"#,
            ROW_LEFT + ROW_PLOT,
            ROW_LEFT + ROW_PLOT / 2.0,
            bottom + 38.0,
            self.axis.title
        );
    }
}

/// A field name at the left of row `y` (cut when very long; the tooltips have it whole).
fn row_label(out: &mut String, y: f64, text: &str) {
    let shown = if text.chars().count() > 34 {
        format!("{}…", text.chars().take(33).collect::<String>())
    } else {
        text.to_string()
    };
    let _ = write!(
        out,
        r#"<text class="tick" x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
        ROW_LEFT - 8.0,
        y + 4.0,
        escape(&shown)
    );
}

/// Mean |contribution| per input field, most important first; each bar's group carries the
/// field (`data-column`) and the full-precision value (`data-value`).
pub fn importance_svg(columns: &[ColumnImportance], space: Space, rows: usize) -> String {
    const ROW: f64 = 22.0;
    let top = columns.iter().map(|c| c.mean_abs).fold(0.0, f64::max);
    let chart = Rows {
        axis: Axis::covering(
            0.0,
            top,
            match space {
                Space::LogOdds => "Mean |contribution| (log-odds)",
                Space::Probability => "Mean |contribution| (probability)",
            },
        ),
        height: ROW * columns.len() as f64,
    };
    let mut out = String::new();
    let first = columns.first().map_or("", |c| c.column.as_str());
    open(
        &mut out,
        "importance",
        "chart wide",
        &chart.view_box(),
        &format!("Importance of each input field (mean absolute contribution); the most important is {first}"),
        "",
    );
    chart.frame(&mut out);
    for (i, c) in columns.iter().enumerate() {
        let y = ROW_TOP + ROW * (i as f64 + 0.5);
        let (x0, x1) = (chart.px(0.0), chart.px(c.mean_abs));
        let name = escape(&c.column);
        let _ = write!(
            out,
            r#"<g class="importance" data-column="{name}" data-value="{}">"#,
            c.mean_abs
        );
        row_label(&mut out, y, &c.column);
        let _ = write!(
            out,
            r#"<rect class="bar" x="{x0:.1}" y="{:.1}" width="{:.1}" height="{:.1}"><title>{name}: mean |contribution| {:.4}, mean {:+.4} {} over {} customers</title></rect></g>"#,
            y - ROW * 0.35,
            (x1 - x0).max(0.5),
            ROW * 0.7,
            c.mean_abs,
            c.mean,
            unit(space),
            count(rows)
        );
    }
    out.push_str("</svg>");
    out
}

/// One dot per sampled customer per field (`fields`, top first): x is the field's contribution,
/// colour its value's rank among the sample (blue low, red high, grey for categories and
/// missing values). Each lane's group carries its field (`data-column`).
pub fn beeswarm_svg(sample: &ShapSample, fields: &[String]) -> String {
    const LANE: f64 = 40.0;
    const R: f64 = 2.4;
    let lanes: Vec<_> = fields
        .iter()
        .filter_map(|f| sample.columns.iter().find(|c| &c.column == f))
        .collect();
    let (lo, hi) = lanes
        .iter()
        .flat_map(|c| c.contributions.iter().copied())
        .fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let chart = Rows {
        axis: Axis::covering(lo, hi, contribution_title(sample.space)),
        height: LANE * lanes.len() as f64,
    };
    let mut out = String::new();
    open(
        &mut out,
        "beeswarm",
        "chart wide",
        &chart.view_box(),
        &format!(
            "SHAP summary: each field's contribution for {} sampled customers",
            count(sample.rows.len())
        ),
        "",
    );
    chart.frame(&mut out);
    let zero = chart.px(0.0);
    let _ = write!(
        out,
        r#"<line class="chance" x1="{zero:.1}" y1="{ROW_TOP}" x2="{zero:.1}" y2="{:.1}"></line>"#,
        ROW_TOP + chart.height
    );
    for (i, c) in lanes.iter().enumerate() {
        let centre = ROW_TOP + LANE * (i as f64 + 0.5);
        let name = escape(&c.column);
        let _ = write!(out, r#"<g class="lane" data-column="{name}">"#);
        let label = if c.categorical {
            format!("{} (categories)", c.column)
        } else {
            c.column.clone()
        };
        row_label(&mut out, centre, &label);
        let xs: Vec<f64> = c.contributions.iter().map(|&v| chart.px(v)).collect();
        let ys = swarm(&xs, R, LANE / 2.0 - R);
        let shares = rank_shares(&c.numbers);
        for (k, (&x, &dy)) in xs.iter().zip(&ys).enumerate() {
            let _ = write!(
                out,
                r#"<circle cx="{x:.1}" cy="{:.1}" r="{R}" fill="{}"><title>row {}: {name} = {}, contribution {:+.4}</title></circle>"#,
                centre + dy,
                value_colour(shares[k]),
                sample.rows[k],
                escape(&c.values[k]),
                c.contributions[k]
            );
        }
        out.push_str("</g>");
    }
    out.push_str("</svg>");
    out
}

/// A field's value against its contribution: numbers (dates as age in days, yes/no as 1/0) on
/// a value axis; categories sorted by name, one column each (named under the axis when there
/// are at most 12). Values missing from a numeric field are not drawn (the title counts them).
pub fn dependence_svg(d: &Dependence) -> String {
    let categorical = d.points.iter().all(|p| p.number.is_none());
    let texts: Vec<String> = d.points.iter().map(|p| p.value.clone()).collect();
    let (names, places) = categories(&texts);
    let xs: Vec<Option<f64>> = if categorical {
        places.iter().map(|&p| Some(p as f64)).collect()
    } else {
        d.points.iter().map(|p| p.number).collect()
    };
    let (xlo, xhi) = xs
        .iter()
        .flatten()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let (ylo, yhi) = d.points.iter().fold((0.0f64, 0.0f64), |(lo, hi), p| {
        (lo.min(p.contribution), hi.max(p.contribution))
    });
    let labelled = categorical && names.len() <= 12;
    let mut x = if categorical {
        Axis::categories(names.len(), "")
    } else {
        Axis::covering(xlo, xhi, "")
    };
    if categorical && !labelled {
        // Too many categories to number under the axis: the tooltips name them.
        x.ticks.clear();
    }
    let f = Frame {
        x,
        y: Axis::covering(ylo, yhi, contribution_title(d.space)),
    };
    let missing = xs.iter().filter(|x| x.is_none()).count();
    let title = format!(
        "Dependence of the contribution on {} over {} customers{}",
        d.column,
        count(d.points.len()),
        if missing > 0 {
            format!(" ({} with the value missing are not drawn)", count(missing))
        } else {
            String::new()
        }
    );
    let mut out = String::new();
    open(
        &mut out,
        "dependence",
        "chart",
        "0 0 420 400",
        &title,
        &format!(r#" data-column="{}""#, escape(&d.column)),
    );
    let (bottom, right) = (TOP + HEIGHT, LEFT + WIDTH);
    for &t in &f.x.ticks {
        let x = f.px(t);
        let label = if categorical {
            String::new()
        } else {
            f.x.label(t)
        };
        let _ = write!(
            out,
            r#"<line class="grid" x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{bottom}"></line><text class="tick" x="{x:.1}" y="{}" text-anchor="middle">{label}</text>"#,
            bottom + 18.0
        );
    }
    if labelled {
        for (i, n) in names.iter().enumerate() {
            let _ = write!(
                out,
                r#"<text class="tick" x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
                f.px((i + 1) as f64),
                bottom + 30.0,
                escape(n)
            );
        }
    }
    for &t in &f.y.ticks {
        let y = f.py(t);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{LEFT}" y1="{y:.1}" x2="{right}" y2="{y:.1}"></line><text class="tick" x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            LEFT - 8.0,
            y + 4.0,
            f.y.label(t)
        );
    }
    let zero = f.py(0.0);
    let _ = write!(
        out,
        r#"<line class="axis" x1="{LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}"></line><line class="axis" x1="{LEFT}" y1="{bottom}" x2="{LEFT}" y2="{TOP}"></line><line class="chance" x1="{LEFT}" y1="{zero:.1}" x2="{right}" y2="{zero:.1}"></line>"#
    );
    let name = escape(&d.column);
    for (p, x) in d.points.iter().zip(&xs) {
        if let Some(x) = x {
            let _ = write!(
                out,
                r#"<circle class="dot" cx="{:.1}" cy="{:.1}" r="2.5"><title>row {}: {name} = {}, contribution {:+.4} {}</title></circle>"#,
                f.px(*x),
                f.py(p.contribution),
                p.row,
                escape(&p.value),
                p.contribution,
                unit(d.space)
            );
        }
    }
    let middle = TOP + HEIGHT / 2.0;
    let _ = write!(
        out,
        r#"<text class="axis-title" x="{}" y="{}" text-anchor="middle">{name} ({})</text><text class="axis-title" x="16" y="{middle}" text-anchor="middle" transform="rotate(-90 16 {middle})">{}</text></svg>"#,
        LEFT + WIDTH / 2.0,
        bottom + 44.0,
        if categorical {
            "category"
        } else {
            "value as the model reads it"
        },
        f.y.title
    );
    out
}

/// One customer's score built up from the average: a bar per field from the running sum before
/// it to the sum after it, largest contribution first, ending at the model's raw output. The
/// chart carries the base value and raw output (`data-base`, `data-raw`) and each step its
/// field and contribution (`data-column`, `data-contribution`) at full precision.
pub fn waterfall_svg(e: &Explanation) -> String {
    const ROW: f64 = 24.0;
    let amounts: Vec<f64> = e.contributions.iter().map(|c| c.contribution).collect();
    let steps = waterfall(e.base_value, &amounts);
    let (lo, hi) = waterfall_range(e.base_value, &steps);
    let (lo, hi) = (lo.min(e.raw_score), hi.max(e.raw_score));
    let chart = Rows {
        axis: Axis::covering(
            lo,
            hi,
            match e.space {
                Space::LogOdds => "Model output (log-odds of churn)",
                Space::Probability => "Model output (probability, before calibration)",
            },
        ),
        height: ROW * (steps.len() + 2) as f64,
    };
    let y_of = |i: usize| ROW_TOP + ROW * (i as f64 + 0.5);
    let mut out = String::new();
    open(
        &mut out,
        "waterfall",
        "chart wide",
        &chart.view_box(),
        &format!(
            "From the average model output {:.4} to this customer's {:.4} ({}), one bar per field",
            e.base_value,
            e.raw_score,
            unit(e.space)
        ),
        &format!(
            r#" data-base="{}" data-raw="{}""#,
            e.base_value, e.raw_score
        ),
    );
    chart.frame(&mut out);
    let marker = |out: &mut String, i: usize, label: &str, class: &str, value: f64| {
        let (y, x) = (y_of(i), chart.px(value));
        let _ = write!(out, r#"<g class="{class}" data-value="{value}">"#);
        row_label(out, y, label);
        let _ = write!(
            out,
            r#"<line class="total" x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}"></line><text class="tick" x="{:.1}" y="{:.1}">{value:.4}</text><title>{label}: {value:.6} {}</title></g>"#,
            y - ROW * 0.45,
            y + ROW * 0.45,
            x + 6.0,
            y + 4.0,
            unit(e.space)
        );
    };
    marker(
        &mut out,
        0,
        "average customer (base value)",
        "base",
        e.base_value,
    );
    for (i, (c, s)) in e.contributions.iter().zip(&steps).enumerate() {
        let y = y_of(i + 1);
        let (a, b) = (chart.px(s.from.min(s.to)), chart.px(s.from.max(s.to)));
        let up = c.contribution >= 0.0;
        let _ = write!(
            out,
            r#"<g class="step" data-column="{}" data-contribution="{}">"#,
            escape(&c.column),
            c.contribution
        );
        row_label(&mut out, y, &format!("{} = {}", c.column, c.value_text));
        let _ = write!(
            out,
            r#"<rect class="{}" x="{a:.1}" y="{:.1}" width="{:.1}" height="{:.1}"><title>{} = {}: {:+.6} {} ({:.4} → {:.4})</title></rect><text class="tick" x="{:.1}" y="{:.1}" text-anchor="{}">{:+.3}</text></g>"#,
            if up { "raise" } else { "lower" },
            y - ROW * 0.35,
            (b - a).max(0.5),
            ROW * 0.7,
            escape(&c.column),
            escape(&c.value_text),
            c.contribution,
            unit(e.space),
            s.from,
            s.to,
            if up { b + 4.0 } else { a - 4.0 },
            y + 4.0,
            if up { "start" } else { "end" },
            c.contribution
        );
    }
    marker(
        &mut out,
        steps.len() + 1,
        "this customer (model output)",
        "output",
        e.raw_score,
    );
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ebb_core::insight::explain::{Contribution, DependencePoint, SampleColumn};

    fn between<'a>(s: &'a str, start: &str, end: &str) -> Vec<&'a str> {
        s.match_indices(start)
            .map(|(i, _)| {
                let rest = &s[i + start.len()..];
                &rest[..rest.find(end).unwrap()]
            })
            .collect()
    }

    #[test]
    fn data_texts_are_escaped() {
        assert_eq!(
            escape(r#"<b a="1">&'"#),
            "&lt;b a=&quot;1&quot;&gt;&amp;&#39;"
        );
        let d = Dependence {
            column: "plan<x>".into(),
            space: Space::LogOdds,
            points: vec![DependencePoint {
                row: 1,
                value: "\"><script>".into(),
                number: None,
                contribution: 0.5,
            }],
        };
        let svg = dependence_svg(&d);
        assert!(
            !svg.contains("<script>") && !svg.contains("plan<x>"),
            "{svg}"
        );
        assert!(svg.contains(r#"data-column="plan&lt;x&gt;""#));
    }

    #[test]
    fn waterfall_carries_every_step_at_full_precision() {
        let contribution = |column: &str, c: f64| Contribution {
            column: column.into(),
            value_text: "1".into(),
            contribution: c,
        };
        let e = Explanation {
            space: Space::LogOdds,
            base_value: -1.8470999999999997,
            raw_score: -1.8470999999999997 + 0.1 - 0.30000000000000004,
            probability: 0.1,
            decision: false,
            contributions: vec![
                contribution("a", 0.1),
                contribution("b", -0.30000000000000004),
            ],
        };
        let svg = waterfall_svg(&e);
        assert_eq!(
            between(&svg, "data-contribution=\"", "\""),
            ["0.1", "-0.30000000000000004"]
        );
        assert_eq!(between(&svg, "data-base=\"", "\""), ["-1.8470999999999997"]);
        assert_eq!(
            between(&svg, "<g class=\"", "\""),
            ["base", "step", "step", "output"]
        );
        // A raise is red, a fall blue (CSS classes), each with its signed amount.
        assert_eq!(between(&svg, "<rect class=\"", "\""), ["raise", "lower"]);
        assert!(svg.contains(">+0.100<") && svg.contains(">-0.300<"));
        assert!(svg.ends_with("</svg>"));
    }

    #[test]
    fn beeswarm_draws_one_dot_per_row_in_each_chosen_lane() {
        let column = |name: &str, categorical: bool| SampleColumn {
            column: name.into(),
            categorical,
            values: vec!["x".into(); 3],
            numbers: if categorical {
                vec![None; 3]
            } else {
                vec![Some(1.0), Some(2.0), None]
            },
            contributions: vec![-0.5, 0.0, 0.5],
        };
        let sample = ShapSample {
            space: Space::Probability,
            seed: 42,
            rows: vec![3, 8, 9],
            skipped: 0,
            columns: vec![
                column("n", false),
                column("c", true),
                column("unused", false),
            ],
        };
        let svg = beeswarm_svg(&sample, &["c".into(), "n".into()]);
        assert_eq!(
            between(&svg, "<g class=\"lane\" data-column=\"", "\""),
            ["c", "n"]
        );
        assert_eq!(svg.matches("<circle").count(), 6);
        // Categories are grey; the numeric lane runs blue to red, missing grey.
        let fills = between(&svg, "fill=\"", "\"");
        assert_eq!(fills[..3], ["#9aa0a6"; 3]);
        assert_eq!(fills[3..], ["#1e6ee6", "#dc2850", "#9aa0a6"]);
        assert!(svg.contains("c (categories)") && svg.contains("probability, before calibration"));
    }

    #[test]
    fn importance_bars_keep_their_order_and_values() {
        let columns = vec![
            ColumnImportance {
                column: "a".into(),
                mean_abs: 0.8123456789012345,
                mean: 0.1,
            },
            ColumnImportance {
                column: "b".into(),
                mean_abs: 0.0,
                mean: 0.0,
            },
        ];
        let svg = importance_svg(&columns, Space::LogOdds, 500);
        assert_eq!(
            between(&svg, "data-value=\"", "\""),
            ["0.8123456789012345", "0"]
        );
        assert!(svg.contains("over 500 customers"));
    }
}
