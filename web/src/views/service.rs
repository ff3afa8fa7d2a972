//! Service: the edge API serving this page (same origin) — status, active model, traffic split,
//! monitoring — read from its public `/v1/app-info` route.

use leptos::prelude::*;
use serde::Deserialize;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The parts of `/v1/app-info` this view shows (worker/src/handlers.rs writes it).
#[derive(Debug, Clone, Deserialize)]
struct AppInfo {
    status: String,
    active_model: Option<String>,
    registered_models: usize,
    experiment: Option<Experiment>,
    last_monitoring_run: Option<MonitoringRun>,
    serving_model: Option<ServingModel>,
}

#[derive(Debug, Clone, Deserialize)]
struct Experiment {
    control: String,
    treatment: String,
}

#[derive(Debug, Clone, Deserialize)]
struct MonitoringRun {
    ts_ms: f64,
    status: String,
}

#[derive(Debug, Clone, Deserialize)]
struct ServingModel {
    training_metrics: Option<Metrics>,
}

#[derive(Debug, Clone, Deserialize)]
struct Metrics {
    roc_auc: f64,
}

async fn fetch_app_info() -> Result<AppInfo, String> {
    let window = web_sys::window().ok_or("no window")?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str("/v1/app-info"))
        .await
        .map_err(|e| format!("{e:?}"))?
        .unchecked_into();
    if !response.ok() {
        return Err(format!("HTTP {}", response.status()));
    }
    let text = JsFuture::from(response.text().map_err(|e| format!("{e:?}"))?)
        .await
        .map_err(|e| format!("{e:?}"))?
        .as_string()
        .unwrap_or_default();
    serde_json::from_str(&text).map_err(|e| format!("unexpected answer: {e}"))
}

#[component]
pub fn ServiceView() -> impl IntoView {
    let info = LocalResource::new(fetch_app_info);
    view! {
        <section aria-labelledby="service-title">
            <h2 id="service-title">"Service"</h2>
            <p class="hint">
                "The edge API on this origin: what it serves now. Its description is "
                <a href="/v1/openapi.yaml">"/v1/openapi.yaml"</a>
                "; metrics for Prometheus are at "
                <a href="/metrics">"/metrics"</a>
                "."
            </p>
            <Suspense fallback=|| view! { <p id="service-status">"Status: checking…"</p> }>
                {move || {
                    info.get()
                        .map(|answer| match answer {
                            Err(e) => {
                                view! { <p id="service-status">{format!("Status: unreachable ({e})")}</p> }
                                    .into_any()
                            }
                            Ok(i) => view! { <Status info=i/> }.into_any(),
                        })
                }}
            </Suspense>
        </section>
    }
}

#[component]
fn Status(info: AppInfo) -> impl IntoView {
    let mut rows = vec![(
        "Active model",
        info.active_model
            .unwrap_or_else(|| "none (publish one with ebb publish)".into()),
    )];
    if let Some(m) = info.serving_model.and_then(|m| m.training_metrics) {
        rows.push(("Cross-validated ROC-AUC", format!("{:.3}", m.roc_auc)));
    }
    rows.push(("Models registered", info.registered_models.to_string()));
    rows.push((
        "Experiment",
        info.experiment
            .map(|e| format!("{} vs {}", e.control, e.treatment))
            .unwrap_or_else(|| "none".into()),
    ));
    rows.push((
        "Last monitoring run",
        info.last_monitoring_run
            .map(|r| {
                let at = js_sys::Date::new(&r.ts_ms.into()).to_iso_string();
                format!("{} ({})", String::from(at), r.status)
            })
            .unwrap_or_else(|| "not yet".into()),
    ));
    let status_class = info.status.clone();
    view! {
        <p id="service-status">"Status: " <strong class=status_class>{info.status}</strong></p>
        <table id="service-info">
            <tbody>
                {rows
                    .into_iter()
                    .map(|(k, v)| view! { <tr><th scope="row">{k}</th><td>{v}</td></tr> })
                    .collect_view()}
            </tbody>
        </table>
    }
}
