//! The Fairness view's per-group rates and the Segments view's map of personas.

use leptos::prelude::*;

use ebb_core::eval::fairness::{FairnessReport, GroupReport};
use ebb_core::insight::segment::Segment;

use super::scale::{Axis, Frame};
use super::Plot;
use crate::format::{count, money, percent};

/// Geometry of the group-rates chart: group names on the left, one horizontal bar per rate.
const VIEW_WIDTH: f64 = 420.0;
const NAMES: f64 = 128.0;
const BARS_RIGHT: f64 = 404.0;
const BAR: f64 = 10.0;
const BAND_GAP: f64 = 10.0;
const CHART_TOP: f64 = 46.0;
const CHART_BOTTOM: f64 = 52.0;
/// Longest group name drawn in full; the tooltip always has all of it.
const NAME_CHARS: usize = 18;

/// The rates the chart draws: legend names and CSS classes, in the order of [`rates`].
const RATES: [(&str, &str); 4] = [
    ("selection rate", "rate-selection"),
    ("precision", "rate-precision"),
    ("recall (TPR)", "rate-recall"),
    ("false-positive rate", "rate-fpr"),
];

/// One group's values of [`RATES`].
fn rates(g: &GroupReport) -> [Option<f64>; 4] {
    [
        Some(g.positive_rate),
        g.precision,
        g.recall,
        g.false_positive_rate,
    ]
}

/// Per group, the share flagged (selection rate) and, with labels, precision, recall and the
/// false-positive rate, as horizontal bars on one 0–1 scale; a dashed line marks `min_ratio`
/// times the highest selection rate among judged groups (the four-fifths line). Groups too
/// small to judge are drawn faint.
#[component]
pub fn GroupRatesChart(report: FairnessReport) -> impl IntoView {
    let shown = if report.labelled { 4 } else { 1 };
    let band = shown as f64 * BAR + BAND_GAP;
    let plot_bottom = CHART_TOP + report.groups.len() as f64 * band;
    let height = plot_bottom + CHART_BOTTOM;
    let axis = Axis::unit("Rate (0–1)");
    let px = move |x: f64| NAMES + x.clamp(0.0, 1.0) * (BARS_RIGHT - NAMES);
    let ticks = axis
        .ticks
        .iter()
        .map(|&t| {
            view! {
                <line class="grid" x1=px(t) y1=CHART_TOP x2=px(t) y2=plot_bottom></line>
                <text class="tick" x=px(t) y=plot_bottom + 16.0 text-anchor="middle">{axis.label(t)}</text>
            }
        })
        .collect_view();
    let legend = RATES
        .into_iter()
        .take(shown)
        .enumerate()
        .map(|(i, (name, class))| {
            // Two per line: the names stay whole at phone width.
            let (x, y) = (8.0 + (i % 2) as f64 * 170.0, 4.0 + (i / 2) as f64 * 18.0);
            view! {
                <rect class=class x=x y=y width="10" height="10"></rect>
                <text x=x + 14.0 y=y + 9.0>{name}</text>
            }
        })
        .collect_view();
    let min_ratio = report.min_ratio;
    let groups = report
        .groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let top = CHART_TOP + i as f64 * band + BAND_GAP / 2.0;
            let name: String = if g.group.chars().count() > NAME_CHARS {
                g.group.chars().take(NAME_CHARS - 1).chain(['…']).collect()
            } else {
                g.group.clone()
            };
            let small = if g.judged { "" } else { " (too small)" };
            let bars = RATES
                .into_iter()
                .zip(rates(g))
                .take(shown)
                .enumerate()
                .map(|(j, ((metric, class), value))| {
                    let y = top + j as f64 * BAR;
                    let tip = match value {
                        Some(v) => format!(
                            "{}{small}: {metric} {v:.4} ({} customers)",
                            g.group,
                            count(g.size)
                        ),
                        None => format!(
                            "{}{small}: {metric} not defined (no customers it counts)",
                            g.group
                        ),
                    };
                    let width = value.map_or(0.0, |v| px(v) - px(0.0));
                    view! {
                        <rect class=class x=px(0.0) y=y width=width height=BAR - 1.0>
                            <title>{tip}</title>
                        </rect>
                    }
                })
                .collect_view();
            let name_y = top + shown as f64 * BAR / 2.0 + 4.0;
            view! {
                <g class=if g.judged { "group" } else { "group small" }>
                    <text x=NAMES - 6.0 y=name_y text-anchor="end">
                        {name}
                        <title>{format!("{}{small}: {} customers", g.group, count(g.size))}</title>
                    </text>
                    {bars}
                </g>
            }
        })
        .collect_view();
    let best = report
        .groups
        .iter()
        .filter(|g| g.judged)
        .map(|g| g.positive_rate)
        .fold(None, |m: Option<f64>, r| Some(m.map_or(r, |m| m.max(r))));
    let line = best.map(|best| {
        let x = px(min_ratio * best);
        view! {
            <line class="best" x1=x y1=CHART_TOP x2=x y2=plot_bottom>
                <title>
                    {format!(
                        "{min_ratio} × the highest selection rate ({best:.4}) = {:.4}: a judged group's selection rate under this line is flagged",
                        min_ratio * best
                    )}
                </title>
            </line>
        }
    });
    let summary = format!(
        "Selection rate{} per group of {}; the dashed line is {min_ratio} times the highest selection rate",
        if report.labelled { ", precision, recall and false-positive rate" } else { "" },
        report.column
    );
    view! {
        <svg
            id="fairness-chart"
            class="chart"
            viewBox=format!("0 0 {VIEW_WIDTH} {height}")
            role="img"
            aria-labelledby="fairness-chart-title"
        >
            <title id="fairness-chart-title">{summary}</title>
            {legend}
            {ticks}
            <line class="axis" x1=px(0.0) y1=plot_bottom x2=px(1.0) y2=plot_bottom></line>
            <line class="axis" x1=px(0.0) y1=CHART_TOP x2=px(0.0) y2=plot_bottom></line>
            {groups}
            {line}
            <text class="axis-title" x=(NAMES + BARS_RIGHT) / 2.0 y=plot_bottom + 38.0 text-anchor="middle">
                {axis.title}
            </text>
        </svg>
    }
}

/// Each persona as a bubble: its share of customers against its mean churn risk, the bubble's
/// area following the value it puts at risk.
#[component]
pub fn SegmentMap(segments: Vec<Segment>) -> impl IntoView {
    let top_share = segments.iter().map(|s| s.share).fold(0.0, f64::max);
    let top_risk = segments.iter().map(|s| s.mean_risk).fold(0.0, f64::max);
    let most_at_risk = segments.iter().map(|s| s.value_at_risk).fold(0.0, f64::max);
    let frame = Frame {
        // Room beyond the largest values for the bubbles drawn there.
        x: Axis::covering(0.0, top_share * 1.15, "Share of customers"),
        y: Axis::covering(0.0, top_risk * 1.15, "Mean churn risk"),
    };
    let bubbles = segments
        .iter()
        .map(|s| {
            let area = if most_at_risk > 0.0 {
                (s.value_at_risk / most_at_risk).sqrt()
            } else {
                0.0
            };
            let (x, y) = (frame.px(s.share), frame.py(s.mean_risk));
            let tip = format!(
                "segment {}: {} customers ({}), mean churn risk {:.3}, mean value {}, value at risk {}",
                s.id,
                count(s.size),
                percent(s.share),
                s.mean_risk,
                money(s.mean_value),
                money(s.value_at_risk)
            );
            view! {
                <g class="persona-dot">
                    <circle class="dot" cx=x cy=y r=6.0 + 22.0 * area>
                        <title>{tip}</title>
                    </circle>
                    <text x=x y=y + 4.0 text-anchor="middle">{s.id.to_string()}</text>
                </g>
            }
        })
        .collect_view();
    view! {
        <Plot
            id="segments-chart"
            summary="Segments by share of customers and mean churn risk; bubble area is the value at risk".to_string()
            frame=frame.clone()
        >
            {bubbles}
        </Plot>
    }
}
