//! Data: choose a file (or generate customers), then read what core found: counts, a preview,
//! the quality report per column, rows set aside and why, and the target/id/time columns.

use leptos::ev::DragEvent;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;

use crate::app::{compute, AppState};
use crate::compute::protocol::{Columns, DataSummary, Request};
use crate::format::{count, number, percent};

fn load_first(state: AppState, files: Option<web_sys::FileList>) {
    if let Some(file) = files.and_then(|f| f.get(0)) {
        state.start(&format!("reading {}", file.name()));
        compute().load_file(file);
    }
}

#[component]
pub fn DataView() -> impl IntoView {
    let state = expect_context::<AppState>();
    let rows = RwSignal::new("5000".to_string());
    let seed = RwSignal::new("42".to_string());
    let dragging = RwSignal::new(false);
    let generate = move |_| {
        let (Ok(r), Ok(s)) = (
            rows.get().trim().parse::<usize>(),
            seed.get().trim().parse::<u64>(),
        ) else {
            state.error("customers and seed must be whole numbers".into());
            return;
        };
        if !(100..=1_000_000).contains(&r) {
            state.error("generate between 100 and 1,000,000 customers".into());
            return;
        }
        state.start(&format!("generating {} customers", count(r)));
        compute().generate(r, s);
    };
    view! {
        <section aria-labelledby="data-title">
            <h2 id="data-title">"Data"</h2>
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
                    load_first(state, ev.data_transfer().and_then(|d| d.files()));
                }
            >
                <label for="file">"Customer file (CSV or JSON, up to 1 GB): drop it here or choose it"</label>
                <input
                    id="file"
                    type="file"
                    accept=".csv,.json,.tsv,.txt,text/csv,application/json"
                    on:change=move |ev| {
                        let input: HtmlInputElement = ev.target().unwrap().unchecked_into();
                        load_first(state, input.files());
                        // Choosing the same file again must load it again.
                        input.set_value("");
                    }
                />
            </div>
            <fieldset class="inline">
                <legend>"Or generate demo customers"</legend>
                <label for="gen-rows">"Customers"</label>
                <input
                    id="gen-rows"
                    type="number"
                    min="100"
                    max="1000000"
                    prop:value=move || rows.get()
                    on:input=move |ev| rows.set(event_target_value(&ev))
                />
                <label for="gen-seed">"Seed"</label>
                <input
                    id="gen-seed"
                    type="number"
                    min="0"
                    prop:value=move || seed.get()
                    on:input=move |ev| seed.set(event_target_value(&ev))
                />
                <button
                    id="generate"
                    type="button"
                    disabled=move || state.busy.get().is_some()
                    on:click=generate
                >
                    "Generate demo data"
                </button>
            </fieldset>
            {move || state.data.get().map(|d| view! { <Summary data=d/> })}
        </section>
    }
}

#[component]
fn Summary(data: DataSummary) -> impl IntoView {
    let headline = format!(
        "{}: {} rows × {} columns; {} rows usable, {} set aside",
        data.name,
        count(data.n_rows),
        count(data.names.len()),
        count(data.clean_rows),
        count(data.quarantined_rows)
    );
    let target_line = match &data.target {
        Some(t) => format!(
            "Target `{}`: `{}` = churned ({} rows, {}), `{}` = stayed ({} rows); {} missing, {} invalid",
            t.column,
            t.positive,
            count(t.n_positive),
            t.positive_rate.map(percent).unwrap_or_else(|| "-".into()),
            t.negative,
            count(t.n_negative),
            count(t.n_missing),
            count(t.n_invalid),
        ),
        None => "No target column: choose the column that says whether a customer left \
                 (training needs one)."
            .to_string(),
    };
    view! {
        <p id="data-summary" class="headline">{headline}</p>
        <p id="target-summary">{target_line}</p>
        <Roles names=data.names.clone() columns=data.columns.clone()/>
        <List id="warnings" title="Warnings" items=data.warnings.clone()/>
        <List id="notes" title="Notes on detected types and roles" items=data.notes.clone()/>
        <Quality data=data.clone()/>
        <SetAside data=data.clone()/>
        <Preview data=data/>
    }
}

#[component]
fn List(id: &'static str, title: &'static str, items: Vec<String>) -> impl IntoView {
    (!items.is_empty()).then(|| {
        view! {
            <h3>{title}</h3>
            <ul id=id>{items.into_iter().map(|i| view! { <li>{i}</li> }).collect_view()}</ul>
        }
    })
}

/// Select the target, id and time columns, then infer again.
#[component]
fn Roles(names: Vec<String>, columns: Columns) -> impl IntoView {
    let state = expect_context::<AppState>();
    let target = RwSignal::new(columns.target.clone().unwrap_or_default());
    let id = RwSignal::new(columns.id.clone().unwrap_or_default());
    let time = RwSignal::new(columns.time.clone().unwrap_or_default());
    let select = move |key: &'static str, label: &'static str, value: RwSignal<String>| {
        let options = names
            .iter()
            .map(|n| {
                let selected = value.get_untracked() == *n;
                view! { <option value=n.clone() selected=selected>{n.clone()}</option> }
            })
            .collect_view();
        let select_id = format!("role-{key}");
        view! {
            <label for=select_id.clone()>{label}</label>
            <select id=select_id on:change=move |ev| value.set(event_target_value(&ev))>
                <option value="" selected=value.get_untracked().is_empty()>"(none)"</option>
                {options}
            </select>
        }
    };
    let some = |s: String| (!s.is_empty()).then_some(s);
    let apply = move |_| {
        state.start("checking the data with the chosen columns");
        compute().send(Request::SetColumns {
            columns: Columns {
                target: some(target.get_untracked()),
                id: some(id.get_untracked()),
                time: some(time.get_untracked()),
            },
        });
    };
    view! {
        <fieldset class="inline">
            <legend>"Column roles (detected; change and apply if wrong)"</legend>
            {select("target", "Target", target)}
            {select("id", "Customer id", id)}
            {select("time", "Time (snapshot date)", time)}
            <button
                id="apply-roles"
                type="button"
                disabled=move || state.busy.get().is_some()
                on:click=apply
            >
                "Apply"
            </button>
        </fieldset>
    }
}

#[component]
fn Quality(data: DataSummary) -> impl IntoView {
    let rows = data
        .quality
        .into_iter()
        .map(|c| {
            let summary = match &c.numeric {
                Some(n) => format!(
                    "{} to {} (median {}), {} outliers",
                    number(n.min),
                    number(n.max),
                    number(n.p50),
                    count(n.outliers)
                ),
                None => c
                    .top_values
                    .iter()
                    .take(3)
                    .map(|(v, k)| format!("{v} ({})", count(*k)))
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            let mut flags = Vec::new();
            if c.flags.constant {
                flags.push("constant".to_string());
            } else if c.flags.near_constant {
                flags.push("nearly constant".to_string());
            }
            if c.flags.high_cardinality {
                flags.push("high cardinality".to_string());
            }
            if c.flags.leakage_suspect {
                flags.push(match c.target_auc {
                    Some(auc) => format!("possible leakage (AUC {auc:.2})"),
                    None => "possible leakage".to_string(),
                });
            }
            let kind = format!("{:?}", c.kind).to_lowercase();
            view! {
                <tr>
                    // `data-label` names each cell where a phone shows the row as a card.
                    <th scope="row">{c.name}</th>
                    <td data-label="Type">{kind}</td>
                    <td class="num" data-label="Missing">{format!("{} ({})", count(c.missing), percent(c.missing_rate))}</td>
                    <td class="num" data-label="Distinct">{count(c.distinct)}</td>
                    <td class="num" data-label="Bad cells">{count(c.bad_cells)}</td>
                    <td data-label="Range / top">{summary}</td>
                    <td data-label="Flags">{flags.join(", ")}</td>
                </tr>
            }
        })
        .collect_view();
    let duplicates = format!(
        "Duplicate rows: {}. Duplicate ids: {}.",
        count(data.duplicate_rows.count),
        data.duplicate_ids
            .map(|d| format!("{} (column `{}`)", count(d.count), d.column))
            .unwrap_or_else(|| "no id column".into())
    );
    view! {
        <h3>"Quality report"</h3>
        <p>{duplicates}</p>
        <div class="scroll" tabindex="0" role="region" aria-label="Quality report">
            <table id="quality">
                <thead>
                    <tr>
                        <th scope="col">"Column"</th>
                        <th scope="col">"Type"</th>
                        <th scope="col">"Missing"</th>
                        <th scope="col">"Distinct"</th>
                        <th scope="col">"Bad cells"</th>
                        <th scope="col">"Range / top values"</th>
                        <th scope="col">"Flags"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

#[component]
fn SetAside(data: DataSummary) -> impl IntoView {
    (data.quarantined_rows > 0).then(|| {
        let listed = data.set_aside.len();
        let rows = data
            .set_aside
            .into_iter()
            .map(|r| {
                view! {
                    <tr>
                        <td class="num">{r.source_row}</td>
                        <td>{r.reasons.join("; ")}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <h3>"Rows set aside"</h3>
            <p>
                {format!(
                    "{} rows are not used for training (first {} listed).",
                    count(data.quarantined_rows),
                    listed
                )}
            </p>
            <div class="scroll" tabindex="0" role="region" aria-label="Rows set aside">
                <table id="set-aside">
                    <thead>
                        <tr>
                            <th scope="col">"Row in file"</th>
                            <th scope="col">"Reasons"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
    })
}

#[component]
fn Preview(data: DataSummary) -> impl IntoView {
    let head = data
        .names
        .into_iter()
        .map(|n| view! { <th scope="col">{n}</th> })
        .collect_view();
    let body = data
        .preview
        .into_iter()
        .map(|row| view! { <tr>{row.into_iter().map(|c| view! { <td>{c}</td> }).collect_view()}</tr> })
        .collect_view();
    view! {
        <h3>"First rows"</h3>
        <div class="scroll" tabindex="0" role="region" aria-label="First rows of the file">
            <table id="preview">
                <thead>
                    <tr>{head}</tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
}
