//! The Explain view's charts: importance bars, the SHAP summary (beeswarm), a dependence plot
//! and one customer's waterfall. Field names label rows, so the bar-like charts are wider
//! than the others (their own view box); the dependence plot uses the common frame.

use leptos::prelude::*;

use ebb_core::insight::explain::{ColumnImportance, Dependence, Explanation, ShapSample, Space};

use super::scale::{Axis, Frame, HEIGHT, LEFT, TOP, WIDTH};
use super::shap_layout::{
    categories, rank_shares, swarm, value_colour, waterfall, waterfall_range,
};
use super::{dot, segment, Plot};
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

    /// Grid, ticks and the axis title under rows `ROW_TOP..ROW_TOP + height`.
    fn frame(&self) -> impl IntoView {
        let bottom = ROW_TOP + self.height;
        let ticks = self
            .axis
            .ticks
            .iter()
            .map(|&t| {
                let x = self.px(t);
                view! {
                    <line class="grid" x1=x y1=ROW_TOP x2=x y2=bottom></line>
                    <text class="tick" x=x y=bottom + 16.0 text-anchor="middle">{self.axis.label(t)}</text>
                }
            })
            .collect_view();
        view! {
            {ticks}
            <line class="axis" x1=ROW_LEFT y1=bottom x2=ROW_LEFT + ROW_PLOT y2=bottom></line>
            <text class="axis-title" x=ROW_LEFT + ROW_PLOT / 2.0 y=bottom + 38.0 text-anchor="middle">
                {self.axis.title}
            </text>
        }
    }

    fn view_box(&self) -> String {
        format!("0 0 {ROW_WIDTH} {}", ROW_TOP + self.height + ROW_BOTTOM)
    }
}

/// A field name at the left of row `y` (cut when very long; the tooltip has it whole).
fn row_label(y: f64, text: String) -> impl IntoView {
    let shown = if text.chars().count() > 34 {
        format!("{}…", text.chars().take(33).collect::<String>())
    } else {
        text
    };
    view! { <text class="tick" x=ROW_LEFT - 8.0 y=y + 4.0 text-anchor="end">{shown}</text> }
}

/// Mean |contribution| per input field, most important first.
#[component]
pub fn ImportanceChart(columns: Vec<ColumnImportance>, space: Space, rows: usize) -> impl IntoView {
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
    let bars = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let y = ROW_TOP + ROW * (i as f64 + 0.5);
            let (x0, x1) = (chart.px(0.0), chart.px(c.mean_abs));
            let tip = format!(
                "{}: mean |contribution| {:.4}, mean {:+.4} {} over {} customers",
                c.column,
                c.mean_abs,
                c.mean,
                unit(space),
                count(rows)
            );
            view! {
                <g class="importance" data-column=c.column.clone() data-value=c.mean_abs.to_string()>
                    {row_label(y, c.column.clone())}
                    <rect class="bar" x=x0 y=y - ROW * 0.35 width=(x1 - x0).max(0.5) height=ROW * 0.7>
                        <title>{tip}</title>
                    </rect>
                </g>
            }
        })
        .collect_view();
    let first = columns
        .first()
        .map(|c| c.column.clone())
        .unwrap_or_default();
    view! {
        <svg id="importance" class="chart wide" viewBox=chart.view_box() role="img" aria-labelledby="importance-title">
            <title id="importance-title">
                {format!("Importance of each input field (mean absolute contribution); the most important is {first}")}
            </title>
            {chart.frame()}
            {bars}
        </svg>
    }
}

/// One dot per sampled customer per field (`fields`, top first): x is the field's contribution,
/// colour its value's rank among the sample (blue low, red high, grey for categories and
/// missing values).
#[component]
pub fn Beeswarm(sample: ShapSample, fields: Vec<String>) -> impl IntoView {
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
    let zero = chart.px(0.0);
    let dots = lanes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let centre = ROW_TOP + LANE * (i as f64 + 0.5);
            let xs: Vec<f64> = c.contributions.iter().map(|&v| chart.px(v)).collect();
            let ys = swarm(&xs, R, LANE / 2.0 - R);
            let shares = rank_shares(&c.numbers);
            let dots = xs
                .iter()
                .zip(&ys)
                .enumerate()
                .map(|(k, (&x, &dy))| {
                    let tip = format!(
                        "row {}: {} = {}, contribution {:+.4}",
                        sample.rows[k], c.column, c.values[k], c.contributions[k]
                    );
                    view! {
                        <circle cx=format!("{x:.1}") cy=format!("{:.1}", centre + dy) r=R fill=value_colour(shares[k])>
                            <title>{tip}</title>
                        </circle>
                    }
                })
                .collect_view();
            let name = if c.categorical {
                format!("{} (categories)", c.column)
            } else {
                c.column.clone()
            };
            view! {
                <g class="lane" data-column=c.column.clone()>
                    {row_label(centre, name)}
                    {dots}
                </g>
            }
        })
        .collect_view();
    let bottom = ROW_TOP + chart.height;
    view! {
        <svg id="beeswarm" class="chart wide" viewBox=chart.view_box() role="img" aria-labelledby="beeswarm-title">
            <title id="beeswarm-title">
                {format!("SHAP summary: each field's contribution for {} sampled customers", count(sample.rows.len()))}
            </title>
            {chart.frame()}
            <line class="chance" x1=zero y1=ROW_TOP x2=zero y2=bottom></line>
            {dots}
        </svg>
    }
}

/// A field's value against its contribution. Numbers (dates as age in days, yes/no as 1/0)
/// on a value axis; categories, sorted by name, one column each.
#[component]
pub fn DependenceChart(dependence: Dependence) -> impl IntoView {
    let d = dependence;
    let categorical = d.points.iter().all(|p| p.number.is_none());
    let (names, places) = categories(&d.points.iter().map(|p| p.value.clone()).collect::<Vec<_>>());
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
        // Too many categories to name under the axis: the tooltips name them.
        x.ticks.clear();
    }
    let frame = Frame {
        x,
        y: Axis::covering(ylo, yhi, contribution_title(d.space)),
    };
    let category_ticks = labelled.then(|| {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let x = frame.px((i + 1) as f64);
                view! {
                    <text class="tick category" x=x y=TOP + HEIGHT + 30.0 text-anchor="middle">{n.clone()}</text>
                }
            })
            .collect_view()
    });
    let dots = d
        .points
        .iter()
        .zip(&xs)
        .filter_map(|(p, x)| x.map(|x| (p, x)))
        .map(|(p, x)| {
            let tip = format!(
                "row {}: {} = {}, contribution {:+.4} {}",
                p.row,
                d.column,
                p.value,
                p.contribution,
                unit(d.space)
            );
            dot(&frame, x, p.contribution, 2.5, tip)
        })
        .collect_view();
    let missing = xs.iter().filter(|x| x.is_none()).count();
    let title = if categorical {
        format!("{} (category)", d.column)
    } else {
        format!("{} (value as the model reads it)", d.column)
    };
    let summary = format!(
        "Dependence of the contribution on {} over {} customers{}",
        d.column,
        count(d.points.len()),
        if missing > 0 {
            format!(" ({} with the value missing are not drawn)", count(missing))
        } else {
            String::new()
        }
    );
    view! {
        <Plot id="dependence" summary=summary frame=frame.clone()>
            {segment(&frame, "chance", (frame.x.lo, 0.0), (frame.x.hi, 0.0))}
            {dots}
            {category_ticks}
            <text class="axis-title" x=LEFT + WIDTH / 2.0 y=TOP + HEIGHT + 42.0 text-anchor="middle">{title}</text>
        </Plot>
    }
}

/// One customer's score built up from the average: a bar per field from the running sum
/// before it to the sum after it, largest contribution first, ending at the model's output.
#[component]
pub fn WaterfallChart(explanation: Explanation) -> impl IntoView {
    const ROW: f64 = 24.0;
    let e = explanation;
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
    let marker = |i: usize, label: String, value: f64, class: &'static str| {
        let (y, x) = (y_of(i), chart.px(value));
        view! {
            <g class=class data-value=value.to_string()>
                {row_label(y, label.clone())}
                <line class="total" x1=x y1=y - ROW * 0.45 x2=x y2=y + ROW * 0.45></line>
                <text class="tick" x=x + 6.0 y=y + 4.0>{format!("{value:.4}")}</text>
                <title>{format!("{label}: {value:.6} {}", unit(e.space))}</title>
            </g>
        }
    };
    let bars = e
        .contributions
        .iter()
        .zip(&steps)
        .enumerate()
        .map(|(i, (c, s))| {
            let y = y_of(i + 1);
            let (a, b) = (chart.px(s.from.min(s.to)), chart.px(s.from.max(s.to)));
            let up = c.contribution >= 0.0;
            let tip = format!(
                "{} = {}: {:+.6} {} ({:.4} → {:.4})",
                c.column,
                c.value_text,
                c.contribution,
                unit(e.space),
                s.from,
                s.to
            );
            view! {
                <g class="step" data-column=c.column.clone() data-contribution=c.contribution.to_string()>
                    {row_label(y, format!("{} = {}", c.column, c.value_text))}
                    <rect class=if up { "raise" } else { "lower" } x=a y=y - ROW * 0.35 width=(b - a).max(0.5) height=ROW * 0.7>
                        <title>{tip}</title>
                    </rect>
                    <text class="tick" x=if up { b + 4.0 } else { a - 4.0 } y=y + 4.0 text-anchor=if up { "start" } else { "end" }>
                        {format!("{:+.3}", c.contribution)}
                    </text>
                </g>
            }
        })
        .collect_view();
    let last = steps.len() + 1;
    view! {
        <svg
            id="waterfall"
            class="chart wide"
            viewBox=chart.view_box()
            role="img"
            aria-labelledby="waterfall-title"
            data-base=e.base_value.to_string()
            data-raw=e.raw_score.to_string()
        >
            <title id="waterfall-title">
                {format!(
                    "From the average model output {:.4} to this customer's {:.4} ({}), one bar per field",
                    e.base_value,
                    e.raw_score,
                    unit(e.space)
                )}
            </title>
            {chart.frame()}
            {marker(0, "average customer (base value)".to_string(), e.base_value, "base")}
            {bars}
            {marker(last, "this customer (model output)".to_string(), e.raw_score, "output")}
        </svg>
    }
}
