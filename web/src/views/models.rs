//! Models: the current model (trained here or loaded from a file) — download it as `ebb train`
//! writes it, load one, keep recent ones in this browser, score one customer with it — and the
//! model registry of an Ebb edge API: publish (the calls `ebb publish` makes), list the
//! versions, activate one, roll back.

use leptos::prelude::*;
use serde::Deserialize;
use wasm_bindgen_futures::JsFuture;

use crate::api::{self, Token};
use crate::app::{compute, AppState};
use crate::compute::protocol::Request;
use crate::compute::MAX_FILE_BYTES;
use crate::format::{count, metric};
use crate::recent;

#[component]
pub fn ModelsView() -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        <section aria-labelledby="models-title">
            <h2 id="models-title">"Models"</h2>
            <Current/>
            <Upload/>
            {move || state.model.with(|m| m.is_some()).then(|| view! { <CheckCustomer/> })}
            <RecentModels/>
            <Publish/>
        </section>
    }
}

#[component]
fn Current() -> impl IntoView {
    let state = expect_context::<AppState>();
    move || {
        match state.model.get() {
        None => view! {
            <p class="hint" id="no-model">
                "No current model: train one (Train view), upload a model file or pick a recent one below."
            </p>
        }
        .into_any(),
        Some(m) => {
            let i = m.info;
            let rows = [
                ("Model id", i.id.clone()),
                ("Family", i.family),
                ("Created", i.created_at),
                ("Threshold", format!("{:.4}", i.threshold)),
                ("Inputs", count(i.inputs)),
                ("Cross-validated ROC-AUC", metric(i.cv_roc_auc)),
                ("From", i.origin),
            ];
            view! {
                <h3>"Current model"</h3>
                <table id="model-info">
                    <tbody>
                        {rows
                            .into_iter()
                            .map(|(k, v)| view! { <tr><th scope="row">{k}</th><td>{v}</td></tr> })
                            .collect_view()}
                    </tbody>
                </table>
                <p class="actions">
                    // The bytes `ebb train --out` writes: `ebb evaluate`, `ebb score` and
                    // `ebb publish` take this file as it is.
                    <a id="download-model" class="button" href=m.url download=format!("model-{}.json", i.id)>
                        "Download model"
                    </a>
                </p>
            }
            .into_any()
        }
    }
    }
}

#[component]
fn Upload() -> impl IntoView {
    let state = expect_context::<AppState>();
    let on_change = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        // The same file chosen again after a fix still fires `change`.
        input.set_value("");
        let name = file.name();
        if file.size() > MAX_FILE_BYTES {
            state.error(format!(
                "{name}: the file is {:.1} GB; the dashboard reads model files up to 1 GB",
                file.size() / 1e9
            ));
            return;
        }
        state.start("checking the model file");
        leptos::task::spawn_local(async move {
            match JsFuture::from(file.text()).await {
                Ok(text) => compute().send(Request::UseModel {
                    name,
                    json: text.as_string().unwrap_or_default(),
                }),
                Err(e) => {
                    state.busy.set(None);
                    state.error(format!(
                        "{name}: the browser could not read the file: {e:?}"
                    ));
                }
            }
        });
    };
    view! {
        <h3>"Upload a model"</h3>
        <p>
            <label for="model-file">"Model file (JSON written by ebb train or downloaded here): "</label>
            <input id="model-file" type="file" accept=".json,application/json" on:change=on_change/>
        </p>
    }
}

#[component]
fn CheckCustomer() -> impl IntoView {
    let state = expect_context::<AppState>();
    let row = RwSignal::new(String::new());
    let check = move |_| {
        let text = row.get_untracked();
        let row = match text.trim() {
            "" => None,
            t => match t.parse::<usize>() {
                Ok(r) if r >= 1 => Some(r),
                _ => {
                    state.error(format!(
                        "`{t}` is not a row number: enter a whole number from 1 (the first data row)"
                    ));
                    return;
                }
            },
        };
        state.start("scoring the customer");
        compute().send(Request::ScoreRow { row });
    };
    view! {
        <h3>"Check one customer"</h3>
        {move || {
            state
                .data
                .with(|d| d.is_none())
                .then(|| view! { <p class="hint">"Load the customers' data first (Data view)."</p> })
        }}
        <fieldset class="inline">
            <legend>"A row of the loaded data, scored as ebb score does"</legend>
            <label for="check-row">"Data row (1 = first after the header; empty: first clean row)"</label>
            <input
                id="check-row"
                type="number"
                min="1"
                prop:value=move || row.get()
                on:input=move |ev| row.set(event_target_value(&ev))
            />
            <button
                id="check"
                type="button"
                disabled=move || state.busy.get().is_some() || state.data.with(|d| d.is_none())
                on:click=check
            >
                "Score"
            </button>
        </fieldset>
        {move || {
            state
                .row_score
                .get()
                .map(|s| {
                    view! {
                        <p id="check-result" role="status">
                            {format!("Row {} — probability of churning: ", s.row)}
                            // Full precision for exact comparisons (the API's answer, tests).
                            <strong id="check-probability" data-row=s.row.to_string() data-value=s.probability.to_string()>
                                {format!("{:.4}", s.probability)}
                            </strong>
                            {if s.decision { " — at or above the threshold: contact" } else { " — below the threshold" }}
                        </p>
                    }
                })
        }}
    }
}

#[component]
fn RecentModels() -> impl IntoView {
    let state = expect_context::<AppState>();
    let rows = move || {
        state.recent.with(|list| {
            list.iter()
                .flatten()
                .map(|m| {
                    let id = m.id.clone();
                    let (use_id, delete_id) = (m.id.clone(), m.id.clone());
                    let current =
                        move || state.model.with(|c| c.as_ref().is_some_and(|c| c.info.id == id));
                    let use_it = move |_| {
                        let id = use_id.clone();
                        state.start("checking the model file");
                        leptos::task::spawn_local(async move {
                            match recent::file(&id).await {
                                Ok(json) => compute().send(Request::UseModel {
                                    name: "kept in this browser".into(),
                                    json,
                                }),
                                Err(e) => {
                                    state.busy.set(None);
                                    state.error(e);
                                }
                            }
                        });
                    };
                    let delete = move |_| {
                        let id = delete_id.clone();
                        leptos::task::spawn_local(async move {
                            if let Err(e) = recent::remove(&id).await {
                                state.error(e);
                            }
                            state.refresh_recent().await;
                        });
                    };
                    let label = m.id.clone();
                    view! {
                        <tr data-id=m.id.clone()>
                            <th scope="row">{m.id.clone()}{move || if current() { " (current)" } else { "" }}</th>
                            <td class="row-actions">
                                <button
                                    type="button"
                                    class="use"
                                    aria-label=format!("Make {label} current")
                                    disabled=move || state.busy.get().is_some()
                                    on:click=use_it
                                >
                                    "Use"
                                </button>
                                " "
                                <button type="button" class="delete" aria-label=format!("Forget {label}") on:click=delete>
                                    "Delete"
                                </button>
                            </td>
                            <td>{m.family.clone()}</td>
                            <td>{m.created_at.clone()}</td>
                            <td class="num">{metric(m.cv_roc_auc)}</td>
                        </tr>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <h3>"Recent models"</h3>
        {move || {
            let (reading, empty) = state
                .recent
                .with(|r| (r.is_none(), r.as_ref().is_some_and(|r| r.is_empty())));
            if reading {
                view! { <p class="hint">"Reading the models kept in this browser…"</p> }.into_any()
            } else if empty {
                view! { <p class="hint" id="no-recent">"None kept yet: trained and uploaded models are kept in this browser."</p> }
                    .into_any()
            } else {
                view! {
                    <p class="hint">{format!("The last {} models trained or uploaded here, kept in this browser.", recent::KEEP)}</p>
                    <div class="scroll" tabindex="0" role="region" aria-label="Recent models">
                        <table id="recent-models">
                            <thead>
                                <tr>
                                    <th scope="col">"Model"</th>
                                    <th scope="col">"Actions"</th>
                                    <th scope="col">"Family"</th>
                                    <th scope="col">"Created"</th>
                                    <th scope="col">"ROC-AUC"</th>
                                </tr>
                            </thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                }
                    .into_any()
            }
        }}
    }
}

/// `GET /v1/models` (edge/src/registry.rs).
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Versions {
    active: Option<String>,
    models: Vec<Version>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Version {
    version: String,
    family: String,
    cv_roc_auc: f64,
    uploaded_at_ms: f64,
}

/// The answer of `PUT /v1/models/{id}`.
#[derive(Debug, Clone, Deserialize)]
struct Published {
    created: bool,
    active: bool,
}

/// The answer of activate and rollback.
#[derive(Debug, Clone, Deserialize)]
struct Activation {
    version: String,
    previous: Option<String>,
}

fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// The Publish panel's state, kept for the page's life so switching views loses nothing (the
/// token included: in memory only, never written to storage, gone on reload).
#[derive(Clone, Copy)]
pub struct EdgeState {
    url: RwSignal<String>,
    token: RwSignal<String>,
    activate: RwSignal<bool>,
    versions: RwSignal<Option<Versions>>,
    /// The last call's outcome: (is error, text).
    result: RwSignal<Option<(bool, String)>>,
    pending: RwSignal<bool>,
}

impl Default for EdgeState {
    fn default() -> Self {
        EdgeState {
            url: RwSignal::new(origin()),
            token: RwSignal::new(String::new()),
            activate: RwSignal::new(false),
            versions: RwSignal::new(None),
            result: RwSignal::new(None),
            pending: RwSignal::new(false),
        }
    }
}

#[component]
fn Publish() -> impl IntoView {
    let state = expect_context::<AppState>();
    let EdgeState {
        url,
        token,
        activate,
        versions,
        result,
        pending,
    } = expect_context::<EdgeState>();
    let base = move || url.get_untracked().trim().trim_end_matches('/').to_string();

    // Runs one registry call and shows its outcome; after a success, lists the versions again
    // so the table shows its effect (a failed call changed nothing).
    let run = move |call: std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<String, String>>>,
    >| {
        pending.set(true);
        result.set(None);
        leptos::task::spawn_local(async move {
            match call.await {
                Ok(text) => match list_versions(&base(), &token.get_untracked()).await {
                    Ok(v) => {
                        versions.set(Some(v));
                        result.set(Some((false, text)));
                    }
                    Err(e) => result.set(Some((true, format!("{text}; then {e}")))),
                },
                Err(e) => result.set(Some((true, e))),
            }
            pending.set(false);
        });
    };
    let publish = move |_| {
        let Some(m) = state.model.get_untracked() else {
            return;
        };
        let (base, token, activate) = (base(), token.get_untracked(), activate.get_untracked());
        run(Box::pin(async move {
            let mut target = format!("{base}/v1/models/{}", m.info.id);
            if activate {
                target.push_str("?activate=true");
            }
            let text = api::call("PUT", &target, Token::Admin(&token), Some(&m.json)).await?;
            let p: Published = serde_json::from_str(&text)
                .map_err(|e| format!("PUT {target}: unexpected answer: {e}"))?;
            Ok(format!(
                "Published {} ({}){}",
                m.info.id,
                if p.created {
                    "new version"
                } else {
                    "already there"
                },
                if p.active {
                    ", active"
                } else {
                    ", not active: activate it below"
                }
            ))
        }));
    };
    let list = move |_| {
        run(Box::pin(
            async move { Ok("Versions listed below".to_string()) },
        ));
    };
    let rollback = move |_| {
        let (base, token) = (base(), token.get_untracked());
        run(Box::pin(async move {
            let target = format!("{base}/v1/rollback");
            let text = api::call("POST", &target, Token::Admin(&token), None).await?;
            describe_activation(&target, &text, "Rolled back to")
        }));
    };
    let activate_version = move |version: String| {
        let (base, token) = (base(), token.get_untracked());
        run(Box::pin(async move {
            let target = format!("{base}/v1/models/{version}/activate");
            let text = api::call("POST", &target, Token::Admin(&token), None).await?;
            describe_activation(&target, &text, "Activated")
        }));
    };
    let idle = move || !pending.get();
    let has_token = move || !token.with(|t| t.trim().is_empty());
    view! {
        <h3>"Publish to an Ebb edge API"</h3>
        <p class="hint">
            "The calls ebb publish makes, with the API's admin token (ADMIN_TOKEN). The token stays in this page's memory only: it is not stored, and a reload forgets it."
        </p>
        <fieldset class="inline">
            <legend>"Edge API"</legend>
            <label for="edge-url">"URL"</label>
            <input
                id="edge-url"
                type="url"
                prop:value=move || url.get()
                on:input=move |ev| url.set(event_target_value(&ev))
            />
            <label for="admin-token">"Admin token"</label>
            <input
                id="admin-token"
                type="password"
                autocomplete="off"
                prop:value=move || token.get()
                on:input=move |ev| token.set(event_target_value(&ev))
            />
        </fieldset>
        <div class="actions wrap">
            <input
                id="publish-activate"
                type="checkbox"
                prop:checked=move || activate.get()
                on:change=move |ev| activate.set(event_target_checked(&ev))
            />
            <label for="publish-activate">"Activate once published"</label>
            <button
                id="publish"
                type="button"
                disabled=move || !idle() || !has_token() || state.model.with(|m| m.is_none())
                on:click=publish
            >
                "Publish current model"
            </button>
            <button id="list-versions" type="button" disabled=move || !idle() || !has_token() on:click=list>
                "List versions"
            </button>
            <button id="rollback" type="button" disabled=move || !idle() || !has_token() on:click=rollback>
                "Roll back"
            </button>
        </div>
        {move || {
            result
                .get()
                .map(|(error, text)| {
                    view! {
                        <p id="publish-result" role=if error { "alert" } else { "status" } class=if error { "error" } else { "info" }>
                            {text}
                        </p>
                    }
                })
        }}
        {move || {
            versions
                .get()
                .map(|v| {
                    let active = v.active.clone();
                    let rows = v
                        .models
                        .into_iter()
                        .rev()
                        .map(|m| {
                            let is_active = active.as_deref() == Some(m.version.as_str());
                            let version = m.version.clone();
                            let uploaded = String::from(
                                js_sys::Date::new(&m.uploaded_at_ms.into()).to_iso_string(),
                            );
                            view! {
                                <tr data-version=m.version.clone() class:kept=is_active>
                                    <th scope="row">{m.version.clone()}</th>
                                    <td class="state">
                                        {if is_active {
                                            view! { <strong>"active"</strong> }.into_any()
                                        } else {
                                            let label = format!("Activate {}", m.version);
                                            view! {
                                                <button
                                                    type="button"
                                                    class="activate"
                                                    aria-label=label
                                                    disabled=move || !idle()
                                                    on:click=move |_| activate_version(version.clone())
                                                >
                                                    "Activate"
                                                </button>
                                            }
                                                .into_any()
                                        }}
                                    </td>
                                    <td>{m.family}</td>
                                    <td class="num">{metric(m.cv_roc_auc)}</td>
                                    <td>{uploaded}</td>
                                </tr>
                            }
                        })
                        .collect_view();
                    view! {
                        <p id="active-version">
                            "Active: " <strong>{active.clone().unwrap_or_else(|| "none".into())}</strong>
                        </p>
                        <div class="scroll" tabindex="0" role="region" aria-label="Published versions">
                            <table id="versions">
                                <thead>
                                    <tr>
                                        <th scope="col">"Version"</th>
                                        <th scope="col">"State"</th>
                                        <th scope="col">"Family"</th>
                                        <th scope="col">"ROC-AUC"</th>
                                        <th scope="col">"Uploaded"</th>
                                    </tr>
                                </thead>
                                <tbody>{rows}</tbody>
                            </table>
                        </div>
                    }
                })
        }}
    }
}

fn describe_activation(target: &str, text: &str, done: &str) -> Result<String, String> {
    let a: Activation =
        serde_json::from_str(text).map_err(|e| format!("POST {target}: unexpected answer: {e}"))?;
    Ok(format!(
        "{done} {} (before: {})",
        a.version,
        a.previous.as_deref().unwrap_or("none")
    ))
}

async fn list_versions(base: &str, token: &str) -> Result<Versions, String> {
    let target = format!("{base}/v1/models");
    let text = api::call("GET", &target, Token::Admin(token), None).await?;
    serde_json::from_str(&text).map_err(|e| format!("GET {target}: unexpected answer: {e}"))
}
