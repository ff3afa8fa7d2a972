//! Charts drawn as SVG from Rust: small components with labelled axes and ticks.

use leptos::prelude::*;

use ebb_core::metrics::Curve;

/// Plot area inside the SVG's 420 x 400 view box, leaving room for tick labels and titles.
const LEFT: f64 = 60.0;
const TOP: f64 = 12.0;
const SIZE: f64 = 340.0;
const TICKS: [f64; 6] = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0];

fn x_of(rate: f64) -> f64 {
    LEFT + rate * SIZE
}

fn y_of(rate: f64) -> f64 {
    TOP + (1.0 - rate) * SIZE
}

/// A ROC curve with the diagonal of guessing and a marker at `point` (false-positive rate,
/// true-positive rate), e.g. the chosen threshold's.
#[component]
pub fn RocChart(
    curve: Curve,
    auc: f64,
    #[prop(into)] point: Signal<Option<(f64, f64)>>,
) -> impl IntoView {
    let points = curve
        .x
        .iter()
        .zip(&curve.y)
        .map(|(&x, &y)| format!("{:.2},{:.2}", x_of(x), y_of(y)))
        .collect::<Vec<_>>()
        .join(" ");
    let grid = TICKS
        .iter()
        .map(|&t| {
            let label = format!("{t:.1}");
            view! {
                <line class="grid" x1=x_of(t) y1=y_of(0.0) x2=x_of(t) y2=y_of(1.0)></line>
                <line class="grid" x1=x_of(0.0) y1=y_of(t) x2=x_of(1.0) y2=y_of(t)></line>
                <text class="tick" x=x_of(t) y=y_of(0.0) + 18.0 text-anchor="middle">{label.clone()}</text>
                <text class="tick" x=x_of(0.0) - 8.0 y=y_of(t) + 4.0 text-anchor="end">{label}</text>
            }
        })
        .collect_view();
    let summary = format!("ROC curve, area under it {auc:.4}");
    view! {
        <svg
            id="roc"
            class="chart"
            viewBox="0 0 420 400"
            role="img"
            aria-labelledby="roc-title"
        >
            <title id="roc-title">{summary.clone()}</title>
            {grid}
            <line class="axis" x1=x_of(0.0) y1=y_of(0.0) x2=x_of(1.0) y2=y_of(0.0)></line>
            <line class="axis" x1=x_of(0.0) y1=y_of(0.0) x2=x_of(0.0) y2=y_of(1.0)></line>
            <line class="chance" x1=x_of(0.0) y1=y_of(0.0) x2=x_of(1.0) y2=y_of(1.0)></line>
            <polyline class="curve" points=points>
                <title>{summary}</title>
            </polyline>
            {move || {
                point
                    .get()
                    .map(|(fpr, tpr)| {
                        view! {
                            <circle class="marker" cx=x_of(fpr) cy=y_of(tpr) r="6">
                                <title>
                                    {format!("false-positive rate {fpr:.3}, true-positive rate {tpr:.3}")}
                                </title>
                            </circle>
                        }
                    })
            }}
            <text class="axis-title" x=x_of(0.5) y=y_of(0.0) + 40.0 text-anchor="middle">
                "False-positive rate (stayers flagged)"
            </text>
            <text
                class="axis-title"
                x="16"
                y=y_of(0.5)
                text-anchor="middle"
                transform=format!("rotate(-90 16 {})", y_of(0.5))
            >
                "True-positive rate (churners caught)"
            </text>
        </svg>
    }
}
