//! Segments: the loaded customers clustered into personas — core's `workflow::segments`, what
//! `ebb segment MODEL DATA` prints: each segment's size, mean churn risk, mean value, value at
//! risk and the inputs that set it apart. Also the model report: the HTML page
//! `ebb report MODEL DATA --out report.html [--by COLUMN]` writes, built in the worker.

use leptos::prelude::*;

use super::decide::{ModelDataHint, NumberField, ValueColumnSelect};
use super::fairness::problem_of;
use super::train::CancelButton;
use crate::app::{compute, AppState};
use crate::charts::SegmentMap;
use crate::compute::protocol::{Request, SegmentSummary};
use crate::format::{count, money, percent};
use crate::group_inputs::{parse_segments, Field, SegmentInputs};

#[component]
pub fn SegmentsView() -> impl IntoView {
    let state = expect_context::<AppState>();
    let shown = state.segments.with_untracked(|s| {
        s.as_ref().map_or_else(SegmentInputs::default, |s| {
            SegmentInputs::from_options(&s.options)
        })
    });
    let k = RwSignal::new(shown.k);
    let value = RwSignal::new(shown.value);
    let value_column = RwSignal::new(shown.value_column.unwrap_or_default());
    let horizon = RwSignal::new(shown.horizon_months);
    let report_by = RwSignal::new(String::new());
    let problems = RwSignal::new(Vec::<(Field, String)>::new());
    // Columns a monthly value can come from: the numeric ones (the target has no quality row).
    let columns = move || {
        state
            .data
            .with(|d| d.as_ref().map_or_else(Vec::new, |d| d.names.clone()))
    };
    let ready = move || {
        state.busy.get().is_none()
            && state.model.with(Option::is_some)
            && state.data.with(Option::is_some)
    };
    let find = move |_| {
        let column = value_column.get_untracked();
        let inputs = SegmentInputs {
            k: k.get_untracked(),
            value: value.get_untracked(),
            value_column: (!column.is_empty()).then_some(column),
            horizon_months: horizon.get_untracked(),
        };
        match parse_segments(&inputs) {
            Err(found) => problems.set(found),
            Ok(options) => {
                problems.set(Vec::new());
                state.start("finding segments");
                compute().send(Request::Segment(options));
            }
        }
    };
    let report = move |_| {
        let by = report_by.get_untracked();
        state.start("building the model report");
        compute().send(Request::Report {
            by: (!by.is_empty()).then_some(by),
        });
    };
    view! {
        <section aria-labelledby="segments-title">
            <h2 id="segments-title">"Segments"</h2>
            <ModelDataHint describe=|model, file| format!("Clusters the customers of {file} into personas on the model's inputs and gives each its churn risk under model {model} — what `ebb segment MODEL DATA` does.")/>
            <fieldset>
                <legend>"Personas"</legend>
                <div class="fields">
                    <NumberField
                        id="segment-k"
                        label="Segments (empty: chosen by silhouette, 2–8)"
                        value=k
                        problem=problem_of(problems, Field::K)
                        min="2"
                        step="1"
                    />
                    <ValueColumnSelect id="segment-value-column" value_column=value_column/>
                    <Show when=move || value_column.with(String::is_empty)>
                        <NumberField
                            id="segment-value"
                            label="Customer value"
                            value=value
                            problem=problem_of(problems, Field::Value)
                            min="0"
                            step="any"
                        />
                    </Show>
                    <NumberField
                        id="segment-horizon"
                        label="Horizon (months)"
                        value=horizon
                        problem=problem_of(problems, Field::Horizon)
                        min="1"
                        step="1"
                    />
                </div>
            </fieldset>
            <div class="actions">
                <button id="segment" type="button" disabled=move || !ready() on:click=find>
                    "Find segments"
                </button>
            </div>
            {move || state.segments.get().map(|s| view! { <Personas found=s/> })}
            <fieldset>
                <legend>"Model report"</legend>
                <p class="hint">
                    "One self-contained HTML page on the current model and the loaded data (which needs the target column): metrics, curves, profit, importance, drift and, optionally, a fairness table — the file `ebb report MODEL DATA --out report.html [--by COLUMN]` writes."
                </p>
                <div class="fields">
                    <div class="field">
                        <label for="report-by">"Fairness table by (optional)"</label>
                        <select
                            id="report-by"
                            prop:value=move || report_by.get()
                            on:change=move |ev| report_by.set(event_target_value(&ev))
                        >
                            <option value="">"No fairness table"</option>
                            {move || {
                                columns()
                                    .into_iter()
                                    .map(|c| {
                                        let text = c.clone();
                                        view! { <option value=c>{text}</option> }
                                    })
                                    .collect_view()
                            }}
                        </select>
                    </div>
                </div>
                <div class="actions">
                    <button id="download-report" type="button" disabled=move || !ready() on:click=report>
                        "Download report (HTML)"
                    </button>
                    <CancelButton/>
                </div>
            </fieldset>
        </section>
    }
}

#[component]
fn Personas(found: SegmentSummary) -> impl IntoView {
    let s = found.segmentation;
    let cards = s
        .segments
        .iter()
        .map(|g| {
            let traits = g
                .distinctions
                .iter()
                .map(|d| {
                    let direction = if d.standardised_difference >= 0.0 {
                        "higher"
                    } else {
                        "lower"
                    };
                    view! {
                        <li
                            data-feature=d.feature.clone()
                            data-sd=d.standardised_difference.to_string()
                            data-segment-mean=d.segment_mean.to_string()
                            data-overall-mean=d.overall_mean.to_string()
                        >
                            <strong>{d.feature.clone()}</strong>
                            {format!(
                                " {direction}: {:+.2} sd ({:.3} here, {:.3} overall)",
                                d.standardised_difference, d.segment_mean, d.overall_mean
                            )}
                        </li>
                    }
                })
                .collect_view();
            view! {
                <article
                    class="persona"
                    data-id=g.id.to_string()
                    data-size=g.size.to_string()
                    data-share=g.share.to_string()
                    data-mean-risk=g.mean_risk.to_string()
                    data-mean-value=g.mean_value.to_string()
                    data-value-at-risk=g.value_at_risk.to_string()
                >
                    <h3>{format!("Segment {}: {} of customers", g.id, percent(g.share))}</h3>
                    <dl>
                        <dt>"Customers"</dt>
                        <dd>{count(g.size)}</dd>
                        <dt>"Mean churn risk"</dt>
                        <dd>{format!("{:.3}", g.mean_risk)}</dd>
                        <dt>"Mean value"</dt>
                        <dd>{money(g.mean_value)}</dd>
                        <dt>"Value at risk"</dt>
                        <dd>{money(g.value_at_risk)}</dd>
                    </dl>
                    <p class="hint">"Set apart by"</p>
                    <ul class="traits">{traits}</ul>
                </article>
            }
        })
        .collect_view();
    view! {
        <p id="segments-summary" class="headline" data-k=s.k.to_string() data-silhouette=s.silhouette.to_string()>
            {format!(
                "{} customers in {} segments (silhouette {:.3} on {} sampled rows, {}); segment 0 has the highest mean churn risk.",
                count(found.customers),
                s.k,
                s.silhouette,
                count(s.sample_size),
                if found.options.k.is_some() { "k given" } else { "k chosen by silhouette" },
            )}
        </p>
        {(found.skipped > 0).then(|| view! {
            <p class="hint">{format!("{} rows could not be scored and were left out.", count(found.skipped))}</p>
        })}
        {(!s.space.skipped_columns.is_empty()).then(|| view! {
            <p class="hint">
                {format!("Left out of the clustering (constant or too many levels): {}.", s.space.skipped_columns.join(", "))}
            </p>
        })}
        <div class="segments">
            <div id="personas" class="personas">{cards}</div>
            <SegmentMap segments=s.segments.clone()/>
        </div>
    }
}
