//! Evaluate: the ROC, precision-recall, calibration, lift and cumulative-gains charts of the
//! calibrated out-of-fold probabilities (core's `metrics::curves`), and a threshold slider with
//! the precision, recall, F1, contacts and confusion matrix at that threshold (counted by core's
//! `metrics::ThresholdIndex` in the worker: a binary search per move).

use leptos::prelude::*;

use crate::app::{compute, AppState};
use crate::charts::{CalibrationChart, GainsChart, LiftChart, PrChart, RocChart};
use crate::compute::protocol::Request;
use crate::format::{count, metric};

#[component]
pub fn EvaluateView() -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        <section aria-labelledby="evaluate-title">
            <h2 id="evaluate-title">"Evaluate"</h2>
            {move || match state.trained.get() {
                None => view! { <p class="hint">"Train a model first (Train view)."</p> }.into_any(),
                Some(t) => {
                    let point = Signal::derive(move || {
                        state
                            .at
                            .get()
                            .map(|a| {
                                let c = a.confusion;
                                let rate = |k: usize, of: usize| if of == 0 { 0.0 } else { k as f64 / of as f64 };
                                (rate(c.fp, c.fp + c.tn), rate(c.tp, c.tp + c.fn_))
                            })
                    });
                    let pr_point = Signal::derive(move || {
                        state.at.get().map(|a| (a.recall, a.precision))
                    });
                    // Back on this view, the slider stays where the metrics shown were counted.
                    let threshold = RwSignal::new(
                        state.at.get_untracked().map_or(t.threshold, |a| a.threshold),
                    );
                    view! {
                        <p>
                            {format!(
                                "Model {} ({}): calibrated out-of-fold probabilities of {} customers; ROC-AUC {}, PR-AUC {}.",
                                t.model_id,
                                t.chosen,
                                count(t.calibrated.n),
                                metric(t.calibrated.roc_auc),
                                metric(t.calibrated.pr_auc),
                            )}
                        </p>
                        <div class="evaluate">
                            <RocChart curve=t.curves.roc.clone() auc=t.calibrated.roc_auc point=point/>
                            <div>
                                <label for="threshold">
                                    {move || format!("Decision threshold: {:.3}", threshold.get())}
                                </label>
                                <input
                                    id="threshold"
                                    type="range"
                                    min="0"
                                    max="1"
                                    step="0.001"
                                    prop:value=move || threshold.get().to_string()
                                    on:input=move |ev| {
                                        if let Ok(v) = event_target_value(&ev).parse::<f64>() {
                                            threshold.set(v);
                                            compute().send(Request::Threshold { threshold: v });
                                        }
                                    }
                                />
                                <p class="hint">
                                    {format!("The model's own threshold (best F1) is {:.3}.", t.threshold)}
                                </p>
                                <AtThresholdTable/>
                                <ConfusionMatrix/>
                            </div>
                        </div>
                        <div class="charts">
                            <PrChart
                                curve=t.curves.pr.clone()
                                average_precision=t.calibrated.pr_auc
                                churn_rate=t.calibrated.positive_rate
                                point=pr_point
                            />
                            <CalibrationChart bins=t.curves.calibration.clone() ece=t.calibrated.ece/>
                            <LiftChart deciles=t.curves.lift.clone()/>
                            <GainsChart deciles=t.curves.lift.clone()/>
                        </div>
                    }
                        .into_any()
                }
            }}
        </section>
    }
}

#[component]
fn AtThresholdTable() -> impl IntoView {
    let state = expect_context::<AppState>();
    move || {
        state
            .at
            .get()
            .map(|a| {
                let c = a.confusion;
                let contacts = c.tp + c.fp;
                view! {
                    <table id="at-threshold">
                        <tbody>
                            <tr>
                                <th scope="row">"Precision"</th>
                                <td id="precision" class="num" data-value=a.precision.to_string()>{metric(a.precision)}</td>
                            </tr>
                            <tr>
                                <th scope="row">"Recall"</th>
                                <td id="recall" class="num" data-value=a.recall.to_string()>{metric(a.recall)}</td>
                            </tr>
                            <tr>
                                <th scope="row">"F1"</th>
                                <td id="f1" class="num">{metric(a.f1)}</td>
                            </tr>
                            <tr>
                                <th scope="row">"Contacts"</th>
                                <td id="contacts" class="num">
                                    {format!("{} of {}", count(contacts), count(c.tp + c.fp + c.tn + c.fn_))}
                                </td>
                            </tr>
                            <tr>
                                <th scope="row">"Churners caught / missed"</th>
                                <td class="num">{format!("{} / {}", count(c.tp), count(c.fn_))}</td>
                            </tr>
                            <tr>
                                <th scope="row">"Stayers contacted / left alone"</th>
                                <td class="num">{format!("{} / {}", count(c.fp), count(c.tn))}</td>
                            </tr>
                        </tbody>
                    </table>
                }
            })
    }
}

/// The confusion matrix at the slider's threshold: actual outcome by row, the call by column.
#[component]
fn ConfusionMatrix() -> impl IntoView {
    let state = expect_context::<AppState>();
    move || {
        state.at.get().map(|a| {
            let c = a.confusion;
            view! {
                <table id="confusion" class="confusion">
                    <caption>{format!("Confusion matrix at threshold {:.3}", a.threshold)}</caption>
                    <thead>
                        <tr>
                            <td></td>
                            <th scope="col">"Called churner (contacted)"</th>
                            <th scope="col">"Called stayer"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <tr>
                            <th scope="row">"Churned"</th>
                            <td id="tp" class="num good">{count(c.tp)}</td>
                            <td id="fn" class="num bad">{count(c.fn_)}</td>
                        </tr>
                        <tr>
                            <th scope="row">"Stayed"</th>
                            <td id="fp" class="num bad">{count(c.fp)}</td>
                            <td id="tn" class="num good">{count(c.tn)}</td>
                        </tr>
                    </tbody>
                </table>
            }
        })
    }
}
