//! Service: the edge API serving this page (same origin) — status, active model, traffic split,
//! monitoring — read from its `/v1/app-info` route. When the API sets `METRICS_TOKEN`, app-info
//! answers without the model's details (`details_withheld`) until asked with that token, so the
//! view asks the user for it. Below it, edge monitoring reads this or another edge API's registry
//! and traffic monitoring with an API token (`views::monitor`).

use leptos::prelude::*;
use serde::Deserialize;

use crate::api::{self, Token};
use crate::views::monitor::EdgeMonitor;

/// The parts of `/v1/app-info` this view shows (worker/src/handlers.rs writes it).
#[derive(Debug, Clone, Deserialize)]
struct AppInfo {
    status: String,
    active_model: Option<String>,
    /// Set (to what to send) when the details need `METRICS_TOKEN`; the fields below are
    /// then absent.
    details_withheld: Option<String>,
    registered_models: Option<usize>,
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

async fn fetch_app_info(token: Option<String>) -> Result<AppInfo, String> {
    let token = token.as_deref().map_or(Token::None, Token::Metrics);
    let text = api::call("GET", "/v1/app-info", token, None).await?;
    serde_json::from_str(&text).map_err(|e| format!("unexpected answer: {e}"))
}

/// The metrics token, once entered: kept for the page's life (in memory only, never stored), so
/// coming back to this view shows the details again.
#[derive(Clone, Copy)]
pub struct MetricsToken(pub RwSignal<Option<String>>);

#[component]
pub fn ServiceView() -> impl IntoView {
    let MetricsToken(token) = expect_context::<MetricsToken>();
    let info = LocalResource::new(move || fetch_app_info(token.get()));
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
                            // A token was sent and refused: say so, and ask again.
                            Err(e) if token.with_untracked(|t| t.is_some()) => {
                                view! {
                                    <p id="service-status">"Status: details need the metrics token"</p>
                                    <p id="service-token-error" role="alert" class="error">{e}</p>
                                    <TokenForm token=token/>
                                }
                                    .into_any()
                            }
                            Err(e) => {
                                view! { <p id="service-status">{format!("Status: unreachable ({e})")}</p> }
                                    .into_any()
                            }
                            Ok(i) => {
                                let withheld = i.details_withheld.is_some();
                                view! {
                                    <Status info=i/>
                                    {withheld.then(|| view! { <TokenForm token=token/> })}
                                }
                                    .into_any()
                            }
                        })
                }}
            </Suspense>
            <EdgeMonitor/>
        </section>
    }
}

#[component]
fn Status(info: AppInfo) -> impl IntoView {
    let withheld = info.details_withheld.is_some();
    let mut rows = vec![(
        "Active model",
        info.active_model
            .unwrap_or_else(|| "none (publish one in the Models view or with ebb publish)".into()),
    )];
    if let Some(m) = info.serving_model.and_then(|m| m.training_metrics) {
        rows.push(("Cross-validated ROC-AUC", format!("{:.3}", m.roc_auc)));
    }
    if withheld {
        rows.push((
            "Details",
            "withheld: this API sets METRICS_TOKEN; enter it below".into(),
        ));
    }
    if let Some(n) = info.registered_models {
        rows.push(("Models registered", n.to_string()));
    }
    if withheld {
        return status_view(info.status, rows);
    }
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
    status_view(info.status, rows)
}

fn status_view(status: String, rows: Vec<(&'static str, String)>) -> impl IntoView {
    let status_class = status.clone();
    view! {
        <p id="service-status">"Status: " <strong class=status_class>{status}</strong></p>
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

/// Asks for `METRICS_TOKEN` (or the API or admin token, which open the same details).
#[component]
fn TokenForm(token: RwSignal<Option<String>>) -> impl IntoView {
    let entered = RwSignal::new(String::new());
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let t = entered.get_untracked().trim().to_string();
        if !t.is_empty() {
            token.set(Some(t));
        }
    };
    view! {
        <form id="metrics-token-form" class="inline" on:submit=send>
            <label for="metrics-token">"Metrics token (METRICS_TOKEN) to see the model's details"</label>
            <input
                id="metrics-token"
                type="password"
                autocomplete="off"
                prop:value=move || entered.get()
                on:input=move |ev| entered.set(event_target_value(&ev))
            />
            <button id="metrics-token-send" type="submit">"Show details"</button>
        </form>
    }
}
