//! Drift: a newer batch of customers (uploaded, or generated with an injected shift as `ebb
//! generate --drift` does) compared with the current model's training data by core's
//! `monitor::drift_of_table` in the worker, what `ebb drift MODEL CURRENT` prints: per column
//! PSI, the test and its p-value, the distance, a verdict and the missing-rate change; the score
//! distribution's drift; with labels, performance now against training; and core's
//! recommendation, word for word.

use leptos::ev::DragEvent;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;

use ebb_core::monitor::{ColumnDrift, DriftParams, MetricCheck, Performance, Verdict};

use super::train::CancelButton;
use crate::app::{compute, AppState};
use crate::charts::OverlaidHistogram;
use crate::compute::protocol::{BinnedCounts, DriftSummary, Request};
use crate::format::{count, metric, number, percent};

fn load_batch(state: AppState, files: Option<web_sys::FileList>) {
    if let Some(file) = files.and_then(|f| f.get(0)) {
        state.start(&format!("reading the batch {}", file.name()));
        compute().load_batch(file, move |why| {
            state.busy.set(None);
            state.error(why);
        });
    }
}

/// A verdict as a chip: its word and a colour, so it reads without colour too.
pub(crate) fn chip_text(verdict: Verdict) -> impl IntoView {
    let v = verdict.as_str();
    view! { <span class=format!("chip verdict-{v}")>{v}</span> }
}

/// A p-value as the CLI prints it.
fn p_text(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".into()
    } else {
        format!("{p:.3}")
    }
}

/// A text field with a label, for the whole numbers and the share below.
#[component]
fn Field(id: &'static str, label: &'static str, value: RwSignal<String>) -> impl IntoView {
    view! {
        <label for=id>{label}</label>
        <input
            id=id
            type="number"
            min="0"
            step="any"
            prop:value=move || value.get()
            on:input=move |ev| value.set(event_target_value(&ev))
        />
    }
}

#[component]
pub fn DriftView() -> impl IntoView {
    let state = expect_context::<AppState>();
    let defaults = DriftParams::default();
    let rows = RwSignal::new("5000".to_string());
    let gen_seed = RwSignal::new("7".to_string());
    let strength = RwSignal::new("0.5".to_string());
    let shown = state
        .drift
        .with_untracked(|d| d.as_ref().map(|d| (d.bootstrap, d.seed)));
    let (boot, seed) = shown.unwrap_or((defaults.n_boot, defaults.seed));
    let bootstrap = RwSignal::new(boot.to_string());
    let seed = RwSignal::new(seed.to_string());
    let dragging = RwSignal::new(false);
    let idle = move || state.busy.get().is_none();
    let generate = move |_| {
        let parsed = (
            rows.get_untracked().trim().parse::<usize>(),
            gen_seed.get_untracked().trim().parse::<u64>(),
            strength.get_untracked().trim().parse::<f64>(),
        );
        let (Ok(r), Ok(s), Ok(d)) = parsed else {
            state.error(
                "customers and seed must be whole numbers, drift strength a number from 0 to 1"
                    .into(),
            );
            return;
        };
        if !(100..=1_000_000).contains(&r) {
            state.error("generate between 100 and 1,000,000 customers".into());
            return;
        }
        state.start(&format!("generating a batch of {} customers", count(r)));
        compute().send(Request::GenerateBatch {
            rows: r,
            seed: s,
            drift: d,
        });
    };
    let can_compare =
        move || idle() && state.model.with(Option::is_some) && state.batch.with(Option::is_some);
    let compare = move |_| {
        let (Ok(b), Ok(s)) = (
            bootstrap.get_untracked().trim().parse::<usize>(),
            seed.get_untracked().trim().parse::<u64>(),
        ) else {
            state.error("bootstrap resamples and seed must be whole numbers".into());
            return;
        };
        if b > 100_000 {
            state.error("use at most 100,000 bootstrap resamples (200 is the default)".into());
            return;
        }
        state.start("comparing the batch with the training data");
        // The report on screen was made with other settings or another batch.
        state.drift.set(None);
        compute().send(Request::Drift {
            bootstrap: b,
            seed: s,
        });
    };
    view! {
        <section aria-labelledby="drift-title">
            <h2 id="drift-title">"Drift"</h2>
            {move || {
                let model = state.model.with(|m| m.as_ref().map(|m| m.info.id.clone()));
                let what = match model {
                    Some(model) => format!(
                        "Compares a newer batch with the data model {model} was trained on — what `ebb drift MODEL CURRENT` does.",
                    ),
                    None => "Train a model (Train view) or upload one (Models view): drift is measured against its training data.".to_string(),
                };
                view! { <p class="hint">{what}</p> }
            }}
            <div
                class="drop"
                class:dragging=move || dragging.get()
                on:dragover=move |ev: DragEvent| {
                    ev.prevent_default();
                    dragging.set(true);
                }
                on:dragleave=move |_| dragging.set(false)
                on:drop=move |ev: DragEvent| {
                    ev.prevent_default();
                    dragging.set(false);
                    load_batch(state, ev.data_transfer().and_then(|d| d.files()));
                }
            >
                <label for="batch-file">
                    "Newer batch (CSV or JSON, up to 1 GB, the model's input columns; with the target column for performance): drop it here or choose it"
                </label>
                <input
                    id="batch-file"
                    type="file"
                    accept=".csv,.json,.tsv,.txt,text/csv,application/json"
                    on:change=move |ev| {
                        let input: HtmlInputElement = ev.target().unwrap().unchecked_into();
                        load_batch(state, input.files());
                        input.set_value("");
                    }
                />
            </div>
            <fieldset class="inline">
                <legend>"Or generate a batch with a shift (as ebb generate --drift)"</legend>
                <Field id="batch-rows" label="Customers" value=rows/>
                <Field id="batch-seed" label="Seed" value=gen_seed/>
                <Field id="batch-drift" label="Drift strength (0–1)" value=strength/>
                <button id="generate-batch" type="button" disabled=move || !idle() on:click=generate>
                    "Generate batch"
                </button>
            </fieldset>
            <p id="batch-summary" class="headline">
                {move || {
                    state
                        .batch
                        .get()
                        .map(|b| {
                            format!(
                                "Batch: {} — {} rows × {} columns",
                                b.name,
                                count(b.rows),
                                count(b.columns),
                            )
                        })
                        .unwrap_or_else(|| "No batch yet.".into())
                }}
            </p>
            <fieldset class="inline">
                <legend>"Performance check (when the batch has labels)"</legend>
                <Field id="drift-bootstrap" label="Bootstrap resamples" value=bootstrap/>
                <Field id="drift-seed" label="Bootstrap seed" value=seed/>
                <button id="check-drift" type="button" disabled=move || !can_compare() on:click=compare>
                    "Compare with training"
                </button>
                <CancelButton/>
            </fieldset>
            {move || {
                state
                    .progress
                    .get()
                    .filter(|_| state.busy.get().is_some())
                    .map(|p| {
                        view! {
                            <label for="progress">{format!("{} {:.0}% {}", p.stage, p.fraction * 100.0, p.message)}</label>
                            <progress id="progress" max=1 value=p.fraction></progress>
                        }
                    })
            }}
            {move || state.drift.get().map(|d| view! { <Report summary=d/> })}
        </section>
    }
}

/// The test, its p-value and the distance of one column, as `ebb drift` prints them.
fn test_cells(c: &ColumnDrift) -> (String, Option<f64>, Option<f64>, String) {
    match (&c.ks, &c.chi_square) {
        (Some(ks), _) => (
            format!("KS D = {}", number(ks.statistic)),
            Some(ks.p_value),
            c.wasserstein,
            "W1/sd".into(),
        ),
        (None, Some(chi)) => (
            format!("chi² = {} ({} dof)", number(chi.statistic), chi.dof),
            Some(chi.p_value),
            c.js_distance,
            "JS".into(),
        ),
        (None, None) => ("-".into(), None, None, String::new()),
    }
}

#[component]
fn ColumnRow(c: ColumnDrift) -> impl IntoView {
    let (test, p, distance, distance_name) = test_cells(&c);
    let statistic =
        c.ks.map(|k| k.statistic)
            .or(c.chi_square.map(|x| x.statistic));
    let m = c.missing;
    // Core's reasons name new levels only when the column is flagged; list them (with counts)
    // otherwise too.
    let flagged_levels = c.reasons.iter().any(|r| r.starts_with("new categories"));
    let notes: Vec<String> = c
        .reasons
        .iter()
        .cloned()
        .chain((!c.new_categories.is_empty() && !flagged_levels).then(|| {
            let names: Vec<String> = c
                .new_categories
                .iter()
                .take(3)
                .map(|l| format!("{} ({})", l.level, count(l.count as usize)))
                .collect();
            format!("new levels: {}", names.join(", "))
        }))
        .collect();
    view! {
        <tr
            data-column=c.name.clone()
            data-verdict=c.verdict.as_str()
            data-psi=c.psi.map(|v| v.to_string())
            data-p=p.map(|v| v.to_string())
            data-statistic=statistic.map(|v| v.to_string())
            data-distance=distance.map(|v| v.to_string())
            data-missing-change=m.change.to_string()
        >
            <th scope="row">{c.name.clone()}</th>
            <td data-label="Verdict">{chip_text(c.verdict)}</td>
            <td class="num" data-label="PSI">{c.psi.map(|v| format!("{v:.3}")).unwrap_or_else(|| "-".into())}</td>
            <td data-label="Test">{test}</td>
            <td class="num" data-label="p-value">{p.map(p_text).unwrap_or_else(|| "-".into())}</td>
            <td class="num" data-label="Distance">
                {distance.map(|d| format!("{distance_name} {d:.3}")).unwrap_or_else(|| "-".into())}
            </td>
            <td class="num" data-label="Missing">
                {format!(
                    "{} → {} ({:+.1} pts)",
                    percent(m.reference_rate),
                    percent(m.current_rate),
                    m.change * 100.0
                )}
            </td>
            <td data-label="Why">{notes.join("; ")}</td>
        </tr>
    }
}

/// Counts with a `(missing)` bin when either side has missing values, for the chart.
fn with_missing(b: &BinnedCounts) -> (Vec<String>, Vec<u64>, Vec<u64>) {
    let (mut bins, mut reference, mut current) =
        (b.bins.clone(), b.reference.clone(), b.current.clone());
    if b.reference_missing + b.current_missing > 0 {
        bins.push("(missing)".into());
        reference.push(b.reference_missing);
        current.push(b.current_missing);
    }
    (bins, reference, current)
}

#[component]
fn PerformanceRow(check: (&'static str, MetricCheck)) -> impl IntoView {
    let (name, m) = check;
    view! {
        <tr data-metric=name data-current=m.current.to_string() data-low=m.ci_low.to_string() data-high=m.ci_high.to_string() data-training=m.training.to_string()>
            <th scope="row">{name}</th>
            <td class="num" data-label="Now">{metric(m.current)}</td>
            <td class="num" data-label="Interval">{format!("{} – {}", metric(m.ci_low), metric(m.ci_high))}</td>
            <td class="num" data-label="At training">{metric(m.training)}</td>
            <td data-label="Verdict">
                {if m.degraded {
                    view! { <span class="chip verdict-drift">"degraded"</span> }.into_any()
                } else {
                    view! { <span class="chip verdict-ok">"within the interval"</span> }.into_any()
                }}
            </td>
        </tr>
    }
}

#[component]
fn Report(summary: DriftSummary) -> impl IntoView {
    let r = summary.report.clone();
    let s = r.score_drift.clone();
    let first = summary
        .columns
        .first()
        .map(|c| c.name.clone())
        .unwrap_or_default();
    let chosen = RwSignal::new(first);
    let columns = summary.columns.clone();
    let column_chart = move || {
        let name = chosen.get();
        columns.iter().find(|c| c.name == name).map(|c| {
            let (bins, reference, current) = with_missing(c);
            view! {
                <OverlaidHistogram
                    id="drift-histogram"
                    summary=format!("{name}: share of rows per training bin, training against the current batch")
                    x_title=format!("{name} (training bins)")
                    bins=bins
                    reference=reference
                    current=current
                />
            }
        })
    };
    let options = summary
        .columns
        .iter()
        .zip(&r.columns)
        .map(|(b, c)| {
            let text = format!("{} ({})", b.name, c.verdict.as_str());
            view! { <option value=b.name.clone()>{text}</option> }
        })
        .collect_view();
    let performance = r.performance.clone().map(|p| {
        view! {
            <h3 id="drift-performance-title">{format!("Performance on {} labelled rows ({:.0}% bootstrap intervals, {} resamples, seed {})", count(p.rows), p.confidence * 100.0, count(summary.bootstrap), summary.seed)}</h3>
            <PerformanceTable id="drift-performance" performance=p.clone()/>
            <p class="hint">{format!("Recall at the model's threshold {:.4}; churn rate in the batch {}.", p.threshold, percent(p.positive_rate))}</p>
        }
    });
    let note = summary
        .performance_note
        .clone()
        .map(|n| view! { <p id="performance-note" class="hint">{format!("Performance not computed: {n}")}</p> });
    let unscored = (summary.unscored > 0).then(|| {
        let examples = summary
            .unscored_examples
            .iter()
            // Core's reason names the row and column already.
            .map(|(_, why)| view! { <li>{why.clone()}</li> })
            .collect_view();
        view! {
            <p class="hint">{format!("{} rows could not be scored (their values still count):", count(summary.unscored))}</p>
            <ul class="hint">{examples}</ul>
        }
    });
    let (score_bins, score_ref, score_cur) = (
        summary.scores.bins.clone(),
        summary.scores.reference.clone(),
        summary.scores.current.clone(),
    );
    view! {
        <p id="drift-verdict" class="headline" data-verdict=r.dataset_verdict.as_str()>
            {chip_text(r.dataset_verdict)}
            {format!(
                " {}: {} training rows against {} current rows; {} of {} columns drifted, {} warn.",
                summary.batch,
                count(r.reference_rows as usize),
                count(r.current_rows as usize),
                r.drifted_columns,
                r.columns.len(),
                r.warned_columns
            )}
        </p>
        <p id="drift-recommendation" class="recommendation">{r.recommendation.clone()}</p>
        {unscored}
        {note}
        {performance}
        <h3>"Columns, most severe first"</h3>
        <DriftColumnsTable id="drift-columns" columns=r.columns.clone()/>
        <div class="charts">
            <div>
                <label for="drift-column">"Column to plot"</label>
                <select
                    id="drift-column"
                    prop:value=move || chosen.get()
                    on:change=move |ev| chosen.set(event_target_value(&ev))
                >
                    {options}
                </select>
                {column_chart}
            </div>
            <div>
                <h3 id="score-drift" data-psi=s.psi.to_string() data-verdict=s.verdict.as_str()>
                    "Score distribution "
                    {chip_text(s.verdict)}
                </h3>
                <p>
                    {format!(
                        "PSI {}, KS D = {} (p {}), mean score {:.3} → {:.3}; {} rows scored.",
                        number(s.psi),
                        number(s.ks.statistic),
                        p_text(s.ks.p_value),
                        s.reference_mean,
                        s.current_mean,
                        count(s.current_scored as usize)
                    )}
                </p>
                <OverlaidHistogram
                    id="score-histogram"
                    summary=format!("Churn probability: share of rows per bin, training against the current batch; PSI {}", number(s.psi))
                    x_title="Churn probability (bins of 0.05 by their lower end)".to_string()
                    bins=score_bins
                    reference=score_ref
                    current=score_cur
                />
            </div>
        </div>
    }
}

/// Core's per-column drift, most severe first: verdict chip, PSI, the test and its p-value, the
/// distance, the change of missing values and core's reasons (full precision in `data-*`).
/// Also drawn by the Service view for the traffic an edge API served.
#[component]
pub(crate) fn DriftColumnsTable(id: &'static str, columns: Vec<ColumnDrift>) -> impl IntoView {
    let rows = columns
        .into_iter()
        .map(|c| view! { <ColumnRow c=c/> })
        .collect_view();
    view! {
        <div class="scroll" tabindex="0" role="region" aria-label="Drift per column">
            <table id=id class="drift-columns">
                <thead>
                    <tr>
                        <th scope="col">"Column"</th>
                        <th scope="col">"Verdict"</th>
                        <th scope="col">"PSI"</th>
                        <th scope="col">"Test"</th>
                        <th scope="col">"p-value"</th>
                        <th scope="col">"Distance"</th>
                        <th scope="col">"Missing (training → now)"</th>
                        <th scope="col">"Why"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <p class="hint">
            "Verdicts as core sets them: PSI from 0.1 warn, 0.25 drift; W1/sd (numeric) and JS distance (categorical) from 0.05 warn, 0.1 drift; each only when the column's test has p below 0.01 ÷ columns; a missing-rate change from 5 points warn, 10 drift."
        </p>
    }
}

/// ROC-AUC and recall on labelled rows against training, with their bootstrap intervals.
#[component]
pub(crate) fn PerformanceTable(id: &'static str, performance: Performance) -> impl IntoView {
    view! {
        <table id=id class="performance">
            <thead>
                <tr>
                    <th scope="col">"Metric"</th>
                    <th scope="col">"Now"</th>
                    <th scope="col">"Interval"</th>
                    <th scope="col">"At training (cross-validated)"</th>
                    <th scope="col">"Verdict"</th>
                </tr>
            </thead>
            <tbody>
                <PerformanceRow check=("ROC-AUC", performance.roc_auc)/>
                <PerformanceRow check=("recall", performance.recall)/>
            </tbody>
        </table>
    }
}
