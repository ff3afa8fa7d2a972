//! Two distributions over the same bins, overlaid: the training reference as wide pale bars,
//! the current batch as narrower dark bars on top, each bar's counts in its tooltip.

use leptos::prelude::*;

use super::scale::{Axis, Frame, HEIGHT, LEFT, TOP, WIDTH};
use crate::format::{count, percent};

/// Room under the plot for bin names written at a slant.
const LABEL_ROOM: f64 = 96.0;

/// Bars of `reference` and `current` counts per bin (`bins` names them), as shares of each
/// side's total so batches of any size compare.
#[component]
pub fn OverlaidHistogram(
    id: &'static str,
    summary: String,
    x_title: String,
    bins: Vec<String>,
    reference: Vec<u64>,
    current: Vec<u64>,
) -> impl IntoView {
    let share = |counts: &[u64]| {
        let total = counts.iter().sum::<u64>().max(1) as f64;
        counts.iter().map(|&c| c as f64 / total).collect::<Vec<_>>()
    };
    let (ref_share, cur_share) = (share(&reference), share(&current));
    let top = ref_share
        .iter()
        .chain(&cur_share)
        .copied()
        .fold(0.0, f64::max);
    let n = bins.len().max(1);
    let frame = Frame {
        x: Axis::categories(n, "bins"),
        y: Axis::covering(0.0, top, "Share of rows"),
    };
    let bottom = TOP + HEIGHT;
    let slot = WIDTH / n as f64;
    let y_ticks = frame
        .y
        .ticks
        .iter()
        .map(|&t| {
            let y = frame.py(t);
            view! {
                <line class="grid" x1=LEFT y1=y x2=LEFT + WIDTH y2=y></line>
                <text class="tick" x=LEFT - 8.0 y=y + 4.0 text-anchor="end">{percent(t)}</text>
            }
        })
        .collect_view();
    // Long level lists get smaller names so neighbours do not overlap.
    let font = if n > 24 { 8.0 } else { 11.0 };
    let bars = bins
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let x = frame.px((i + 1) as f64);
            let (r, c) = (ref_share[i], cur_share[i]);
            let tip = format!(
                "{name}: training {} ({} rows), current {} ({} rows)",
                percent(r),
                count(reference[i] as usize),
                percent(c),
                count(current[i] as usize)
            );
            let bar = |class: &'static str, width: f64, v: f64, tip: String| {
                let y = frame.py(v);
                view! {
                    <rect class=class x=x - width / 2.0 y=y width=width height=bottom - y>
                        <title>{tip}</title>
                    </rect>
                }
            };
            let label_y = bottom + 12.0;
            view! {
                {bar("bar-reference", slot * 0.9, r, tip.clone())}
                {bar("bar-current", slot * 0.5, c, tip)}
                <text
                    class="tick"
                    x=x
                    y=label_y
                    font-size=font
                    text-anchor="end"
                    transform=format!("rotate(-45 {x} {label_y})")
                >
                    {name.clone()}
                </text>
            }
        })
        .collect_view();
    let middle_y = TOP + HEIGHT / 2.0;
    let legend_y = bottom + LABEL_ROOM;
    let height = legend_y + 40.0;
    let title_id = format!("{id}-title");
    let labelled_by = title_id.clone();
    let legend_x = LEFT;
    view! {
        <svg
            id=id
            class="chart"
            viewBox=format!("0 0 420 {height}")
            role="img"
            aria-labelledby=labelled_by
        >
            <title id=title_id>{summary}</title>
            {y_ticks}
            {bars}
            <line class="axis" x1=LEFT y1=bottom x2=LEFT + WIDTH y2=bottom></line>
            <line class="axis" x1=LEFT y1=bottom x2=LEFT y2=TOP></line>
            <g class="legend">
                <rect class="bar-reference" x=legend_x y=legend_y width="14" height="10"></rect>
                <text x=legend_x + 20.0 y=legend_y + 9.0>"training (reference)"</text>
                <rect class="bar-current" x=legend_x + 170.0 y=legend_y width="14" height="10"></rect>
                <text x=legend_x + 190.0 y=legend_y + 9.0>"current batch"</text>
            </g>
            <text class="axis-title" x=LEFT + WIDTH / 2.0 y=height - 4.0 text-anchor="middle">
                {x_title}
            </text>
            <text
                class="axis-title"
                x="16"
                y=middle_y
                text-anchor="middle"
                transform=format!("rotate(-90 16 {middle_y})")
            >
                {frame.y.title}
            </text>
        </svg>
    }
}
