//! Explain: why the current model scores customers as it does, on the loaded file — the
//! importance of each input field (mean |SHAP|, what `ebb explain MODEL DATA` prints), a SHAP
//! summary plot, a dependence plot for one field, and one customer's waterfall from the average
//! to their score (`ebb explain MODEL DATA --row ID`). All numbers come from core's `Explainer`
//! in the worker.

use leptos::prelude::*;

use ebb_core::insight::explain::{Dependence, FoundBy, ShapSample, Space};

use super::decide::ModelDataHint;
use super::train::CancelButton;
use crate::app::{compute, AppState};
use crate::charts::{beeswarm_svg, dependence_svg, importance_svg, unit, waterfall_svg};
use crate::compute::protocol::{ImportanceSummary, Request, RowExplanation};
use crate::format::{count, metric};

/// Rows the importance is computed on by default: `ebb explain`'s `--sample` default.
const IMPORTANCE_ROWS: &str = "500";
/// Customers in the summary plot by default: enough to see each field's spread, few enough
/// that the dots stay readable.
const SAMPLE_ROWS: &str = "300";
/// The summary plot's sample is drawn with this seed, so it is the same every time.
const SAMPLE_SEED: u64 = 42;
/// Fields in the summary plot: the most important ones.
const SUMMARY_FIELDS: usize = 10;
/// The largest row count the fields accept (a million rows of SHAP would take minutes).
const MAX_ROWS: usize = 1_000_000;

/// The view's answers, kept while the user visits other views.
#[derive(Clone, Copy)]
pub struct ExplainState {
    pub importance: RwSignal<Option<ImportanceSummary>>,
    pub sample: RwSignal<Option<ShapSample>>,
    pub dependence: RwSignal<Option<Dependence>>,
    pub row: RwSignal<Option<RowExplanation>>,
}

impl Default for ExplainState {
    fn default() -> Self {
        ExplainState {
            importance: RwSignal::new(None),
            sample: RwSignal::new(None),
            dependence: RwSignal::new(None),
            row: RwSignal::new(None),
        }
    }
}

impl ExplainState {
    /// Forgets every answer (the data or the model changed).
    pub fn clear(&self) {
        self.importance.set(None);
        self.sample.set(None);
        self.dependence.set(None);
        self.row.set(None);
    }
}

/// A whole number of rows from 1 to [`MAX_ROWS`], or what is wrong with the text.
fn rows(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_ROWS).contains(&n) => Ok(n),
        _ => Err(format!("give a whole number from 1 to {}", count(MAX_ROWS))),
    }
}

/// A labelled row-count field with its problem beside it.
#[component]
fn RowsField(id: &'static str, label: &'static str, value: RwSignal<String>) -> impl IntoView {
    let error_id = format!("{id}-error");
    let problem = move || value.with(|v| rows(v).err());
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input
                id=id
                type="number"
                min="1"
                step="1"
                aria-invalid=move || problem().is_some().then_some("true")
                aria-describedby=error_id.clone()
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
            <span id=error_id class="field-error">{problem}</span>
        </div>
    }
}

#[component]
pub fn ExplainView() -> impl IntoView {
    let state = expect_context::<AppState>();
    let ex = state.explain;
    let importance_rows = RwSignal::new(IMPORTANCE_ROWS.to_string());
    let sample_rows = RwSignal::new(SAMPLE_ROWS.to_string());
    let query = RwSignal::new(String::new());
    let ready = move || state.model.with(Option::is_some) && state.data.with(Option::is_some);
    let idle = move || state.busy.get().is_none();
    let explain = move |_| {
        let (Ok(rows), Ok(sample)) = (
            rows(&importance_rows.get_untracked()),
            rows(&sample_rows.get_untracked()),
        ) else {
            return;
        };
        ex.clear();
        state.start("explaining the model");
        compute().send(Request::Explain {
            rows,
            sample,
            seed: SAMPLE_SEED,
        });
    };
    let find = move || {
        // A failed search must not leave the last customer's chart looking like its answer.
        ex.row.set(None);
        state.start("explaining one customer");
        compute().send(Request::ExplainRow {
            query: query.get_untracked(),
        });
    };
    let show_dependence = move |column: String| {
        state.start("computing the dependence plot");
        compute().send(Request::Dependence { column });
    };
    view! {
        <section aria-labelledby="explain-title">
            <h2 id="explain-title">"Explain"</h2>
            <ModelDataHint describe=|model, file| format!("Explains model {model} on {file} with exact SHAP values — what `ebb explain MODEL DATA` prints.")/>
            <fieldset>
                <legend>"Whole file"</legend>
                <div class="fields">
                    <RowsField id="explain-rows" label="Rows for importance (evenly spaced)" value=importance_rows/>
                    <RowsField id="explain-sample" label="Customers in the summary plot" value=sample_rows/>
                </div>
            </fieldset>
            <div class="actions">
                <button id="explain" type="button" disabled=move || !(idle() && ready()) on:click=explain>
                    "Explain the model"
                </button>
                <CancelButton/>
            </div>
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
            {move || ex.importance.get().map(|i| view! { <Importance summary=i/> })}
            {move || {
                ex.sample
                    .get()
                    .zip(ex.importance.get())
                    .map(|(s, i)| view! { <Summary sample=s importance=i/> })
            }}
            {move || {
                ex.importance
                    .get()
                    .map(|i| {
                        let fields = i.columns.iter().map(|c| c.column.clone()).collect::<Vec<_>>();
                        view! {
                            <h3>"Dependence"</h3>
                            <div class="field">
                                <label for="dependence-field">"Field"</label>
                                <select
                                    id="dependence-field"
                                    disabled=move || !idle()
                                    prop:value=move || ex.dependence.with(|d| d.as_ref().map(|d| d.column.clone()).unwrap_or_default())
                                    on:change=move |ev| show_dependence(event_target_value(&ev))
                                >
                                    {fields
                                        .into_iter()
                                        .map(|f| { let text = f.clone(); view! { <option value=f>{text}</option> } })
                                        .collect_view()}
                                </select>
                            </div>
                            {move || {
                                ex.dependence
                                    .get()
                                    .map(|d| {
                                        let (column, points) = (d.column.clone(), d.points.len().to_string());
                                        view! {
                                            <div id="dependence-plot" data-column=column data-points=points inner_html=dependence_svg(&d)></div>
                                        }
                                    })
                            }}
                        }
                    })
            }}
            <h3>"One customer"</h3>
            <form
                class="fields"
                on:submit=move |ev| {
                    ev.prevent_default();
                    if idle() && ready() {
                        find();
                    }
                }
            >
                <div class="field">
                    <label for="customer">"Customer id or row number"</label>
                    <input
                        id="customer"
                        type="text"
                        prop:value=move || query.get()
                        on:input=move |ev| query.set(event_target_value(&ev))
                    />
                </div>
                <div class="actions">
                    <button id="find-customer" type="submit" disabled=move || !(idle() && ready())>
                        "Explain this customer"
                    </button>
                </div>
            </form>
            {move || ex.row.get().map(|r| view! { <Customer row=r/> })}
        </section>
    }
}

/// A chart with field names beside its rows: on a phone it keeps a readable size and scrolls
/// sideways inside its own region (the page itself does not).
#[component]
fn WideChart(label: &'static str, svg: String) -> impl IntoView {
    view! { <div class="wide-chart" tabindex="0" role="region" aria-label=label inner_html=svg></div> }
}

#[component]
fn Importance(summary: ImportanceSummary) -> impl IntoView {
    let i = summary;
    let skipped = if i.skipped > 0 {
        format!(
            " {} rows did not fit the model's schema and were left out.",
            count(i.skipped)
        )
    } else {
        String::new()
    };
    view! {
        <h3>"Global importance"</h3>
        <p id="importance-note" class="hint" data-rows=i.rows.to_string()>
            {format!(
                "Mean |SHAP value| per input field over {} customers (evenly spaced through the file, as `ebb explain --sample`), in {}; the average model output is {:.4}.{skipped}",
                count(i.rows),
                unit(i.space),
                i.base_value
            )}
        </p>
        <WideChart label="Global importance chart" svg=importance_svg(&i.columns, i.space, i.rows)/>
    }
}

#[component]
fn Summary(sample: ShapSample, importance: ImportanceSummary) -> impl IntoView {
    let fields: Vec<String> = importance
        .columns
        .iter()
        .take(SUMMARY_FIELDS)
        .map(|c| c.column.clone())
        .collect();
    let note = format!(
        "One dot per customer for the {} most important fields: {} customers drawn at random (seed {}){}. x is the field's contribution ({}); colour is the field's value among these customers, blue low to red high; categorical fields and missing values are grey.",
        fields.len(),
        count(sample.rows.len()),
        sample.seed,
        if sample.skipped > 0 {
            format!(", {} more drawn but not fitting the schema", count(sample.skipped))
        } else {
            String::new()
        },
        unit(sample.space),
    );
    view! {
        <h3>"SHAP summary"</h3>
        <p id="sample-note" class="hint" data-rows=sample.rows.len().to_string()>{note}</p>
        <div class="legend" aria-hidden="true">
            <span class="swatch low"></span>"low value"
            <span class="swatch high"></span>"high value"
            <span class="swatch none"></span>"category or missing"
        </div>
        <WideChart label="SHAP summary chart" svg=beeswarm_svg(&sample, &fields)/>
    }
}

#[component]
fn Customer(row: RowExplanation) -> impl IntoView {
    let e = &row.explanation;
    let who = match (&row.by, &row.id) {
        (FoundBy::Id, Some((column, id))) => {
            format!("Customer {column} = {id} (data row {})", row.row)
        }
        (_, Some((column, id))) => format!("Data row {} ({column} = {id})", row.row),
        (_, None) => format!("Data row {}", row.row),
    };
    let output = match e.space {
        Space::LogOdds => "log-odds",
        Space::Probability => "forest probability, before calibration",
    };
    view! {
        <p
            id="customer-result"
            class="headline"
            data-row=row.row.to_string()
            data-probability=e.probability.to_string()
        >
            {format!(
                "{who}: churn probability {} (calibrated; {} at the model's threshold {:.3}). Model output {:.4} {output} = average {:.4} + the contributions below.",
                metric(e.probability),
                if e.decision { "flagged" } else { "not flagged" },
                row.threshold,
                e.raw_score,
                e.base_value,
            )}
        </p>
        <WideChart label="Waterfall chart" svg=waterfall_svg(e)/>
    }
}
