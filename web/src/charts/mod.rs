//! Charts drawn as SVG from Rust: small components with labelled axes, ticks and a tooltip
//! (`<title>`) on every point or bar. The geometry is in [`scale`].

mod groups;
mod histogram;
mod scale;
mod shap;
mod shap_layout;

pub use histogram::OverlaidHistogram;

pub use groups::{GroupRatesChart, SegmentMap};

use leptos::prelude::*;

use ebb_core::eval::decision::CurvePoint;
use ebb_core::metrics::{CalibrationBin, Curve, Decile, PrCurve};

use crate::format::{count, money, percent};
use scale::{spaced, Axis, Frame, HEIGHT, LEFT, TOP, WIDTH};
pub use shap::{beeswarm_svg, dependence_svg, importance_svg, unit, waterfall_svg};

/// Points of a long curve that carry a hover tooltip.
const HOVER_POINTS: usize = 40;

/// The frame every chart draws in: grid, ticks, axes and their titles; `children` draw the data.
#[component]
fn Plot(id: &'static str, summary: String, frame: Frame, children: Children) -> impl IntoView {
    let (bottom, right) = (TOP + HEIGHT, LEFT + WIDTH);
    let x_ticks = frame
        .x
        .ticks
        .iter()
        .map(|&t| {
            let x = frame.px(t);
            view! {
                <line class="grid" x1=x y1=TOP x2=x y2=bottom></line>
                <text class="tick" x=x y=bottom + 18.0 text-anchor="middle">{frame.x.label(t)}</text>
            }
        })
        .collect_view();
    let y_ticks = frame
        .y
        .ticks
        .iter()
        .map(|&t| {
            let y = frame.py(t);
            view! {
                <line class="grid" x1=LEFT y1=y x2=right y2=y></line>
                <text class="tick" x=LEFT - 8.0 y=y + 4.0 text-anchor="end">{frame.y.label(t)}</text>
            }
        })
        .collect_view();
    let middle_y = TOP + HEIGHT / 2.0;
    let title_id = format!("{id}-title");
    let labelled_by = title_id.clone();
    view! {
        <svg id=id class="chart" viewBox="0 0 420 400" role="img" aria-labelledby=labelled_by>
            <title id=title_id>{summary}</title>
            {x_ticks}
            {y_ticks}
            <line class="axis" x1=LEFT y1=bottom x2=right y2=bottom></line>
            <line class="axis" x1=LEFT y1=bottom x2=LEFT y2=TOP></line>
            {children()}
            <text class="axis-title" x=LEFT + WIDTH / 2.0 y=bottom + 42.0 text-anchor="middle">
                {frame.x.title}
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

/// A dot with a tooltip.
fn dot(frame: &Frame, x: f64, y: f64, r: f64, tip: String) -> impl IntoView {
    view! {
        <circle class="dot" cx=frame.px(x) cy=frame.py(y) r=r>
            <title>{tip}</title>
        </circle>
    }
}

/// A line from `(x1, y1)` to `(x2, y2)` in data coordinates.
fn segment(
    frame: &Frame,
    class: &'static str,
    (x1, y1): (f64, f64),
    (x2, y2): (f64, f64),
) -> impl IntoView {
    view! { <line class=class x1=frame.px(x1) y1=frame.py(y1) x2=frame.px(x2) y2=frame.py(y2)></line> }
}

/// A ROC curve with the diagonal of guessing and a marker at `point` (false-positive rate,
/// true-positive rate), e.g. the chosen threshold's.
#[component]
pub fn RocChart(
    curve: Curve,
    auc: f64,
    #[prop(into)] point: Signal<Option<(f64, f64)>>,
) -> impl IntoView {
    let frame = Frame {
        x: Axis::unit("False-positive rate (stayers flagged)"),
        y: Axis::unit("True-positive rate (churners caught)"),
    };
    let line = frame.points(curve.x.iter().copied().zip(curve.y.iter().copied()));
    let dots = spaced(curve.x.len(), HOVER_POINTS)
        .into_iter()
        .map(|i| {
            let (x, y) = (curve.x[i], curve.y[i]);
            let tip = format!(
                "threshold {:.3}: false-positive rate {x:.3}, true-positive rate {y:.3}",
                curve.thresholds[i]
            );
            dot(&frame, x, y, 3.0, tip)
        })
        .collect_view();
    let marker = frame.clone();
    view! {
        <Plot id="roc" summary=format!("ROC curve, area under it {auc:.4}") frame=frame.clone()>
            {segment(&frame, "chance", (0.0, 0.0), (1.0, 1.0))}
            <polyline class="curve" points=line></polyline>
            {dots}
            {move || {
                point
                    .get()
                    .map(|(fpr, tpr)| {
                        view! {
                            <circle class="marker" cx=marker.px(fpr) cy=marker.py(tpr) r="6">
                                <title>
                                    {format!("at the threshold: false-positive rate {fpr:.3}, true-positive rate {tpr:.3}")}
                                </title>
                            </circle>
                        }
                    })
            }}
        </Plot>
    }
}

/// A precision-recall curve with the churn rate (what contacting at random achieves) and a
/// marker at `point` (recall, precision).
#[component]
pub fn PrChart(
    curve: PrCurve,
    average_precision: f64,
    churn_rate: f64,
    #[prop(into)] point: Signal<Option<(f64, f64)>>,
) -> impl IntoView {
    let frame = Frame {
        x: Axis::unit("Recall (churners caught)"),
        y: Axis::unit("Precision (contacts who churn)"),
    };
    let line = frame.points(
        curve
            .recall
            .iter()
            .copied()
            .zip(curve.precision.iter().copied()),
    );
    let dots = spaced(curve.recall.len(), HOVER_POINTS)
        .into_iter()
        .map(|i| {
            let (r, p) = (curve.recall[i], curve.precision[i]);
            let tip = format!(
                "threshold {:.3}: recall {r:.3}, precision {p:.3}",
                curve.thresholds[i]
            );
            dot(&frame, r, p, 3.0, tip)
        })
        .collect_view();
    let marker = frame.clone();
    view! {
        <Plot
            id="pr"
            summary=format!("Precision-recall curve, average precision {average_precision:.4}; churn rate {}", percent(churn_rate))
            frame=frame.clone()
        >
            {segment(&frame, "chance", (0.0, churn_rate), (1.0, churn_rate))}
            <polyline class="curve" points=line></polyline>
            {dots}
            {move || {
                point
                    .get()
                    .map(|(recall, precision)| {
                        view! {
                            <circle class="marker" cx=marker.px(recall) cy=marker.py(precision) r="6">
                                <title>{format!("at the threshold: recall {recall:.3}, precision {precision:.3}")}</title>
                            </circle>
                        }
                    })
            }}
        </Plot>
    }
}

/// A reliability diagram: per probability bin, the mean predicted probability against the share
/// that churned; dot areas follow the bins' customer counts.
#[component]
pub fn CalibrationChart(bins: Vec<CalibrationBin>, ece: f64) -> impl IntoView {
    let frame = Frame {
        x: Axis::unit("Mean predicted probability"),
        y: Axis::unit("Observed churn rate"),
    };
    let line = frame.points(bins.iter().map(|b| (b.mean_predicted, b.observed_rate)));
    let most = bins.iter().map(|b| b.count).max().unwrap_or(1).max(1) as f64;
    let dots = bins
        .iter()
        .map(|b| {
            let r = 3.0 + 6.0 * (b.count as f64 / most).sqrt();
            let tip = format!(
                "probabilities {:.1}–{:.1}: {} customers, mean predicted {:.3}, observed {:.3}",
                b.lower,
                b.upper,
                count(b.count),
                b.mean_predicted,
                b.observed_rate
            );
            dot(&frame, b.mean_predicted, b.observed_rate, r, tip)
        })
        .collect_view();
    view! {
        <Plot
            id="calibration"
            summary=format!("Calibration: predicted against observed churn per probability bin; expected calibration error {ece:.4}")
            frame=frame.clone()
        >
            {segment(&frame, "chance", (0.0, 0.0), (1.0, 1.0))}
            <polyline class="curve" points=line></polyline>
            {dots}
        </Plot>
    }
}

/// Share of all customers in deciles `1..=d`: the x of the gains chart.
fn contacted_share(deciles: &[Decile], d: usize) -> f64 {
    let total: usize = deciles.iter().map(|x| x.rows).sum();
    let upto: usize = deciles.iter().take(d).map(|x| x.rows).sum();
    upto as f64 / total.max(1) as f64
}

/// Lift per score decile as bars, with the lift of contacting at random (1).
#[component]
pub fn LiftChart(deciles: Vec<Decile>) -> impl IntoView {
    let top = deciles.iter().map(|d| d.lift).fold(1.0, f64::max);
    let frame = Frame {
        x: Axis::categories(10, "Score decile (1 = highest risk)"),
        y: Axis::covering(0.0, top, "Lift (churn rate ÷ overall rate)"),
    };
    let bar_width = WIDTH / 10.0 * 0.7;
    let bars = deciles
        .iter()
        .map(|d| {
            let (x, y0, y1) = (frame.px(d.decile as f64), frame.py(0.0), frame.py(d.lift));
            view! {
                <rect class="bar" x=x - bar_width / 2.0 y=y1 width=bar_width height=y0 - y1>
                    <title>
                        {format!(
                            "decile {}: {} customers, {} churned ({}), lift {:.2}",
                            d.decile,
                            count(d.rows),
                            count(d.positives),
                            percent(d.rate),
                            d.lift
                        )}
                    </title>
                </rect>
            }
        })
        .collect_view();
    let first = deciles.first().map_or(0.0, |d| d.lift);
    view! {
        <Plot id="lift" summary=format!("Lift by score decile; the top tenth has lift {first:.2}") frame=frame.clone()>
            {bars}
            {segment(&frame, "chance", (0.5, 1.0), (10.5, 1.0))}
        </Plot>
    }
}

/// Cumulative gains: the share of churners found against the share of customers contacted,
/// highest risk first, with the diagonal of contacting at random.
#[component]
pub fn GainsChart(deciles: Vec<Decile>) -> impl IntoView {
    let frame = Frame {
        x: Axis::unit("Share of customers contacted (highest risk first)"),
        y: Axis::unit("Share of churners found"),
    };
    let xy: Vec<(f64, f64)> = std::iter::once((0.0, 0.0))
        .chain(
            deciles
                .iter()
                .enumerate()
                .map(|(i, d)| (contacted_share(&deciles, i + 1), d.cumulative_gain)),
        )
        .collect();
    let line = frame.points(xy.iter().copied());
    let dots = xy
        .iter()
        .skip(1)
        .map(|&(x, y)| {
            let tip = format!(
                "contacting the top {} finds {} of churners",
                percent(x),
                percent(y)
            );
            dot(&frame, x, y, 4.0, tip)
        })
        .collect_view();
    let top = deciles.first().map_or(0.0, |d| d.cumulative_gain);
    view! {
        <Plot
            id="gains"
            summary=format!("Cumulative gains; the top tenth holds {} of churners", percent(top))
            frame=frame.clone()
        >
            {segment(&frame, "chance", (0.0, 0.0), (1.0, 1.0))}
            <polyline class="curve" points=line></polyline>
            {dots}
        </Plot>
    }
}

/// Expected profit against the threshold, with the profit-maximising threshold marked.
#[component]
pub fn ProfitChart(points: Vec<CurvePoint>, best: Option<(f64, f64)>) -> impl IntoView {
    let nets = points
        .iter()
        .map(|p| p.outcome.net)
        .chain(best.map(|(_, net)| net));
    let (lo, hi) = nets.fold((0.0f64, 0.0f64), |(lo, hi), n| (lo.min(n), hi.max(n)));
    let frame = Frame {
        x: Axis::unit("Threshold (contact customers at or above it)"),
        y: Axis::covering(lo, hi, "Expected profit"),
    };
    let line = frame.points(points.iter().map(|p| (p.threshold, p.outcome.net)));
    let dots = spaced(points.len(), HOVER_POINTS)
        .into_iter()
        .map(|i| {
            let p = &points[i];
            let tip = format!(
                "threshold {:.2}: {} contacts, expected profit {}",
                p.threshold,
                count(p.outcome.contacted),
                money(p.outcome.net)
            );
            dot(&frame, p.threshold, p.outcome.net, 3.0, tip)
        })
        .collect_view();
    let marker = best.map(|(t, net)| {
        view! {
            {segment(&frame, "best", (t, frame.y.lo), (t, frame.y.hi))}
            <circle class="marker" cx=frame.px(t) cy=frame.py(net) r="6">
                <title>{format!("recommended threshold {t:.4}: expected profit {}", money(net))}</title>
            </circle>
        }
    });
    let summary = match best {
        Some((t, net)) => format!(
            "Expected profit by threshold; the best, {}, is at threshold {t:.4}",
            money(net)
        ),
        None => "Expected profit by threshold; no threshold earns more than contacting nobody"
            .to_string(),
    };
    view! {
        <Plot id="profit" summary=summary frame=frame.clone()>
            {segment(&frame, "chance", (0.0, 0.0), (1.0, 0.0))}
            <polyline class="curve" points=line></polyline>
            {dots}
            {marker}
        </Plot>
    }
}
