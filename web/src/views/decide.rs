//! Decide: the business inputs of `ebb decide` (cost per contact, customer value, success rate,
//! daily capacity), then — from core's `workflow::decide` in the worker — the profit curve, the
//! recommended threshold and the ranked contact list with each customer's top reasons,
//! downloadable as the CSV the CLI writes.

use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

use super::train::CancelButton;
use crate::app::{compute, AppState};
use crate::charts::ProfitChart;
use crate::compute::protocol::{DecideSummary, Request};
use crate::format::{count, metric, money};
use crate::inputs::{parse, BusinessInputs, Field};

/// A labelled number field with its problem (if any) beside it.
#[component]
pub(crate) fn NumberField(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    #[prop(into)] problem: Signal<Option<String>>,
    min: &'static str,
    step: &'static str,
    #[prop(optional)] max: Option<&'static str>,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input
                id=id
                type="number"
                min=min
                max=max
                step=step
                aria-invalid=move || problem.get().is_some().then_some("true")
                aria-describedby=error_id.clone()
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
            <span id=error_id class="field-error">{move || problem.get()}</span>
        </div>
    }
}

#[component]
pub fn DecideView() -> impl IntoView {
    let state = expect_context::<AppState>();
    // Back on this view, the fields show the inputs of the decision on display.
    let shown = state.decision.with_untracked(|d| {
        d.as_ref().map_or_else(BusinessInputs::default, |d| {
            BusinessInputs::from_options(&d.options)
        })
    });
    let cost = RwSignal::new(shown.cost);
    let value = RwSignal::new(shown.value);
    let value_column = RwSignal::new(shown.value_column.unwrap_or_default());
    let horizon = RwSignal::new(shown.horizon_months);
    let success_rate = RwSignal::new(shown.success_rate);
    let capacity = RwSignal::new(shown.capacity);
    let problems = RwSignal::new(Vec::<(Field, String)>::new());
    let problem = move |field: Field| {
        Signal::derive(move || {
            problems.with(|p| p.iter().find(|(f, _)| *f == field).map(|(_, m)| m.clone()))
        })
    };
    // Columns a monthly value can come from: the numeric ones (the target has no quality row).
    let can_decide = move || {
        state.busy.get().is_none()
            && state.model.with(Option::is_some)
            && state.data.with(Option::is_some)
    };
    let decide = move |_| {
        let column = value_column.get_untracked();
        let inputs = BusinessInputs {
            cost: cost.get_untracked(),
            value: value.get_untracked(),
            value_column: (!column.is_empty()).then_some(column),
            horizon_months: horizon.get_untracked(),
            success_rate: success_rate.get_untracked(),
            capacity: capacity.get_untracked(),
        };
        match parse(&inputs) {
            Err(found) => problems.set(found),
            Ok(options) => {
                problems.set(Vec::new());
                state.start("deciding who to contact");
                compute().send(Request::Decide(options));
            }
        }
    };
    view! {
        <section aria-labelledby="decide-title">
            <h2 id="decide-title">"Decide"</h2>
            <ModelDataHint describe=|model, file| format!("Scores every row of {file} with model {model} — what `ebb decide MODEL DATA` does — and ranks who to contact.")/>
            <fieldset>
                <legend>"Business inputs"</legend>
                <div class="fields">
                    <NumberField id="cost" label="Cost per contact" value=cost problem=problem(Field::Cost) min="0" step="any"/>
                    <ValueColumnSelect id="value-column" value_column=value_column/>
                    <Show when=move || value_column.with(String::is_empty)>
                        <NumberField id="value" label="Customer value" value=value problem=problem(Field::Value) min="0" step="any"/>
                    </Show>
                    <NumberField id="horizon" label="Horizon (months)" value=horizon problem=problem(Field::Horizon) min="1" step="1"/>
                    <NumberField
                        id="success-rate"
                        label="Retention success rate (0–1)"
                        value=success_rate
                        problem=problem(Field::SuccessRate)
                        min="0"
                        max="1"
                        step="0.01"
                    />
                    <NumberField id="capacity" label="Daily capacity (contacts)" value=capacity problem=problem(Field::Capacity) min="1" step="1"/>
                </div>
            </fieldset>
            <div class="actions">
                <button id="decide" type="button" disabled=move || !can_decide() on:click=decide>
                    "Find who to contact"
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
            {move || state.decision.get().map(|d| view! { <Decision decision=d/> })}
        </section>
    }
}

/// Offers `text` as a file named `name` (a Blob behind an object URL, clicked through a
/// temporary `<a download>`).
pub(crate) fn download(text: &str, name: &str, mime: &str) -> Result<(), JsValue> {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let link: web_sys::HtmlAnchorElement = document.create_element("a")?.unchecked_into();
    link.set_href(&url);
    link.set_download(name);
    link.click();
    web_sys::Url::revoke_object_url(&url)
}

#[component]
fn Decision(decision: DecideSummary) -> impl IntoView {
    let state = expect_context::<AppState>();
    let d = decision;
    let params = &d.options.params;
    let threshold = |t: Option<f64>| t.map_or_else(|| "none".to_string(), |t| format!("{t:.4}"));
    let best_threshold_value = d.best_threshold.map(|t| t.to_string()).unwrap_or_default();
    let csv = d.csv.clone();
    let on_download = move |_| {
        if let Err(e) = download(&csv, "contacts.csv", "text/csv") {
            state.error(format!("the contact list could not be downloaded: {e:?}"));
        }
    };
    let rows = d
        .contacts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            view! {
                <tr>
                    <td class="num">{i + 1}</td>
                    <th scope="row">{c.id.clone()}</th>
                    <td class="num">{metric(c.probability)}</td>
                    <td class="num">{money(c.expected_value)}</td>
                    <td class="reasons">
                        {c
                            .top_reasons
                            .split("; ")
                            .map(|r| view! { <span>{r.to_string()}</span> })
                            .collect_view()}
                    </td>
                </tr>
            }
        })
        .collect_view();
    let listed = d.contacts.len();
    let all = d.contacted.contacted;
    let skipped = (d.skipped > 0).then(|| {
        let examples = d
            .skipped_examples
            .iter()
            .map(|s| view! { <li>{format!("row {}: {}", s.row, s.reason)}</li> })
            .collect_view();
        view! {
            <p class="hint">{format!("{} rows could not be scored and were left out:", count(d.skipped))}</p>
            <ul class="hint">{examples}</ul>
        }
    });
    view! {
        <p id="decision-summary" class="headline">
            {format!(
                "{} customers scored; {} worth contacting; contacting {} (capacity {}): expected saved {}, cost {}, net {}.",
                count(d.customers),
                count(d.worth_contacting),
                count(all),
                count(params.capacity),
                money(d.contacted.expected_saved),
                money(d.contacted.cost),
                money(d.contacted.net),
            )}
        </p>
        {skipped}
        <div class="evaluate">
            <ProfitChart points=d.profit_by_threshold.clone() best=d.best_threshold.map(|t| (t, d.best.net))/>
            <div>
                <h3>"Thresholds (no capacity limit)"</h3>
                <table id="thresholds">
                    <thead>
                        <tr>
                            <th scope="col">"Threshold"</th>
                            <th scope="col">"Value"</th>
                            <th scope="col">"Contacts"</th>
                            <th scope="col">"Expected profit"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <tr>
                            <th scope="row">"Recommended (profit-maximising)"</th>
                            <td id="best-threshold" class="num" data-value=best_threshold_value>{threshold(d.best_threshold)}</td>
                            <td class="num">{count(d.best.contacted)}</td>
                            <td id="best-profit" class="num" data-value=d.best.net.to_string()>{money(d.best.net)}</td>
                        </tr>
                        <tr>
                            <th scope="row">"The model's (best F1)"</th>
                            <td class="num">{threshold(Some(d.model_threshold))}</td>
                            <td class="num">{count(d.at_model_threshold.contacted)}</td>
                            <td class="num">{money(d.at_model_threshold.net)}</td>
                        </tr>
                    </tbody>
                </table>
                <div class="actions">
                    <button id="download-contacts" type="button" on:click=on_download>
                        "Download contact list (CSV)"
                    </button>
                </div>
                <p class="hint">
                    {format!("{} contacts: the customers with the highest expected value, at most the daily capacity.", count(all))}
                </p>
            </div>
        </div>
        <h3>{format!("Contact list: the first {} of {}", count(listed), count(all))}</h3>
        <div class="scroll" tabindex="0" role="region" aria-label="Contact list">
            <table id="contact-list">
                <thead>
                    <tr>
                        <th scope="col">"#"</th>
                        <th scope="col">"Customer"</th>
                        <th scope="col">"Churn probability"</th>
                        <th scope="col">"Expected value"</th>
                        <th scope="col">"Top reasons"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// Where a customer's value comes from: one value for everyone, or a numeric column of the
/// loaded data (a monthly amount, times the horizon). Shared by Decide and Segments, as
/// `--value` / `--value-column` are by `ebb decide` and `ebb segment`.
#[component]
pub(crate) fn ValueColumnSelect(id: &'static str, value_column: RwSignal<String>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let numeric_columns = move || {
        state.data.with(|d| {
            d.as_ref().map_or_else(Vec::new, |d| {
                d.quality
                    .iter()
                    .filter(|q| q.numeric.is_some())
                    .map(|q| q.name.clone())
                    .collect::<Vec<_>>()
            })
        })
    };
    view! {
        <div class="field">
            <label for=id>"Customer value from"</label>
            <select
                id=id
                prop:value=move || value_column.get()
                on:change=move |ev| value_column.set(event_target_value(&ev))
            >
                <option value="">"One value for all"</option>
                {move || {
                    numeric_columns()
                        .into_iter()
                        .map(|c| {
                            let text = format!("{c} (monthly) × horizon");
                            view! { <option value=c>{text}</option> }
                        })
                        .collect_view()
                }}
            </select>
        </div>
    }
}

/// What a view that needs a model and the loaded data will do with them (`describe` gets the
/// model's id and the file's name), or what to load first. Shared by Decide, Explain, Fairness
/// and Segments.
#[component]
pub(crate) fn ModelDataHint(describe: fn(&str, &str) -> String) -> impl IntoView {
    let state = expect_context::<AppState>();
    move || {
        let model = state.model.with(|m| m.as_ref().map(|m| m.info.id.clone()));
        let file = state.data.with(|d| d.as_ref().map(|d| d.name.clone()));
        let what = match (model, file) {
            (Some(model), Some(file)) => describe(&model, &file),
            _ => "Load a data file (Data view) and train a model (Train view) or upload one (Models view).".to_string(),
        };
        view! { <p class="hint">{what}</p> }
    }
}
