//! Edge monitoring, in the Service view: an Ebb edge API (this origin, or the team's deployed
//! worker) read with its API token — the registry and the A/B experiment's arms
//! (`GET /v1/models`), and the monitoring report of served traffic (`GET /v1/monitoring`):
//! volume and score histograms per version and arm, per-column drift against the active
//! model's training data, performance where labels arrived, and the alert level. The numbers
//! are the API's (core's monitoring, run by the worker); this view only draws them.

use ebb_core::monitor::{DriftReport, Performance};
use leptos::prelude::*;
use serde::Deserialize;

use crate::api::{self, Token};
use crate::format::{count, metric, percent};
use crate::views::drift::{chip_text, DriftColumnsTable, PerformanceTable};

/// `GET /v1/models` (edge/src/registry.rs), the parts shown.
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Registry {
    models: Vec<Version>,
    active: Option<String>,
    experiment: Option<Experiment>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Version {
    version: String,
    family: String,
    cv_roc_auc: f64,
    threshold: f64,
    uploaded_at_ms: f64,
}

/// A running A/B test (edge/src/experiment.rs).
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Experiment {
    control: String,
    treatment: String,
    treatment_share: f64,
    started_at_ms: f64,
}

/// `GET /v1/monitoring` (edge/src/monitoring.rs `MonitoringReport`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Monitoring {
    model_version: String,
    window_start_ms: f64,
    window_end_ms: f64,
    predictions: u64,
    traffic: Vec<ArmTraffic>,
    drift: Option<DriftReport>,
    performance: Option<Performance>,
    notes: Vec<String>,
    status: String,
    alert: bool,
    alert_reasons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct ArmTraffic {
    model_version: String,
    arm: Option<String>,
    predictions: u64,
    mean_probability: f64,
    contact_rate: Option<f64>,
    /// Counts in ten equal bins over [0, 1].
    score_histogram: Vec<u64>,
}

/// What one connection read.
#[derive(Debug, Clone, PartialEq)]
struct Snapshot {
    base: String,
    registry: Registry,
    monitoring: Monitoring,
}

/// Window lengths the API accepts (`?hours=`), the first the default.
const WINDOWS: [(&str, &str); 4] = [
    ("24", "last 24 hours"),
    ("168", "last 7 days"),
    ("720", "last 30 days"),
    ("1", "last hour"),
];

fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

fn iso(ms: f64) -> String {
    String::from(js_sys::Date::new(&ms.into()).to_iso_string())
}

async fn read(base: String, token: String, hours: String) -> Result<Snapshot, String> {
    let base = base.trim().trim_end_matches('/').to_string();
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err(format!(
            "the API URL must start with http:// or https:// (got `{base}`)"
        ));
    }
    if token.trim().is_empty() {
        return Err("enter the API's API_TOKEN (or ADMIN_TOKEN): monitoring is not public".into());
    }
    let get = |path: String| {
        let token = token.clone();
        async move {
            let text = api::call("GET", &path, Token::Api(&token), None).await?;
            Ok::<_, String>((path, text))
        }
    };
    let (path, text) = get(format!("{base}/v1/models")).await?;
    let registry: Registry =
        serde_json::from_str(&text).map_err(|e| format!("GET {path}: unexpected answer: {e}"))?;
    let (path, text) = get(format!("{base}/v1/monitoring?hours={hours}")).await?;
    let monitoring: Monitoring =
        serde_json::from_str(&text).map_err(|e| format!("GET {path}: unexpected answer: {e}"))?;
    Ok(Snapshot {
        base,
        registry,
        monitoring,
    })
}

/// The connection's inputs, kept for the page's life (the token in memory only: never stored,
/// gone on reload).
#[derive(Clone, Copy)]
pub struct MonitorState {
    url: RwSignal<String>,
    token: RwSignal<String>,
    hours: RwSignal<String>,
    pending: RwSignal<bool>,
    answer: RwSignal<Option<Result<Snapshot, String>>>,
}

impl Default for MonitorState {
    fn default() -> Self {
        MonitorState {
            url: RwSignal::new(origin()),
            token: RwSignal::new(String::new()),
            hours: RwSignal::new(WINDOWS[0].0.to_string()),
            pending: RwSignal::new(false),
            answer: RwSignal::new(None),
        }
    }
}

#[component]
pub fn EdgeMonitor() -> impl IntoView {
    let s = expect_context::<MonitorState>();
    let connect = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // The last answer goes while this one is read: a stale error or report must not pass
        // for the answer to this request.
        s.answer.set(None);
        s.pending.set(true);
        let (url, token, hours) = (
            s.url.get_untracked(),
            s.token.get_untracked(),
            s.hours.get_untracked(),
        );
        leptos::task::spawn_local(async move {
            let answer = read(url, token, hours).await;
            s.answer.set(Some(answer));
            s.pending.set(false);
        });
    };
    view! {
        <h3 id="monitor-title">"Edge monitoring"</h3>
        <p class="hint">
            "Read an Ebb edge API's registry and the monitoring of the traffic it served: this origin, or your deployed worker (its ALLOWED_ORIGINS must list this page's origin). Needs the API token; it stays in this page's memory."
        </p>
        <form id="monitor-form" class="inline" on:submit=connect>
            <label for="monitor-url">"API URL"</label>
            <input
                id="monitor-url"
                type="url"
                prop:value=move || s.url.get()
                on:input=move |ev| s.url.set(event_target_value(&ev))
            />
            <label for="monitor-token">"API token"</label>
            <input
                id="monitor-token"
                type="password"
                autocomplete="off"
                prop:value=move || s.token.get()
                on:input=move |ev| s.token.set(event_target_value(&ev))
            />
            <label for="monitor-hours">"Window"</label>
            <select
                id="monitor-hours"
                prop:value=move || s.hours.get()
                on:change=move |ev| s.hours.set(event_target_value(&ev))
            >
                {WINDOWS
                    .iter()
                    .map(|(v, label)| view! { <option value=*v>{*label}</option> })
                    .collect_view()}
            </select>
            <button id="monitor-connect" type="submit" disabled=move || s.pending.get()>
                {move || if s.pending.get() { "Reading…" } else { "Connect" }}
            </button>
        </form>
        {move || {
            s.answer
                .get()
                .map(|answer| match answer {
                    Err(e) => view! { <p id="monitor-error" role="alert" class="error">{e}</p> }.into_any(),
                    Ok(snapshot) => view! { <SnapshotView snapshot=snapshot/> }.into_any(),
                })
        }}
    }
}

#[component]
fn SnapshotView(snapshot: Snapshot) -> impl IntoView {
    let Snapshot {
        base,
        registry,
        monitoring: m,
    } = snapshot;
    let arm_of = |version: &str| {
        registry.experiment.as_ref().and_then(|e| {
            if e.control == version {
                Some("control arm")
            } else if e.treatment == version {
                Some("treatment arm")
            } else {
                None
            }
        })
    };
    let versions = registry
        .models
        .iter()
        .rev()
        .map(|v| {
            let active = registry.active.as_deref() == Some(v.version.as_str());
            let role = match (active, arm_of(&v.version)) {
                (_, Some(arm)) => arm.to_string(),
                (true, None) => "active".to_string(),
                (false, None) => String::new(),
            };
            view! {
                <tr data-version=v.version.clone() class:kept=active>
                    <th scope="row">{v.version.clone()}</th>
                    <td data-label="Serving">{role}</td>
                    <td data-label="Family">{v.family.clone()}</td>
                    <td class="num" data-label="ROC-AUC">{metric(v.cv_roc_auc)}</td>
                    <td class="num" data-label="Threshold">{format!("{:.3}", v.threshold)}</td>
                    <td data-label="Uploaded">{iso(v.uploaded_at_ms)}</td>
                </tr>
            }
        })
        .collect_view();
    let experiment = match &registry.experiment {
        Some(e) => format!(
            "A/B experiment since {}: control {} gets {} of customers, treatment {} gets {}.",
            iso(e.started_at_ms),
            e.control,
            percent(1.0 - e.treatment_share),
            e.treatment,
            percent(e.treatment_share)
        ),
        None => "No A/B experiment is running: the active version serves every customer.".into(),
    };
    let traffic = m
        .traffic
        .iter()
        .map(|t| {
            let histogram: Vec<String> = t.score_histogram.iter().map(u64::to_string).collect();
            view! {
                <tr
                    data-version=t.model_version.clone()
                    data-arm=t.arm.clone().unwrap_or_default()
                    data-predictions=t.predictions.to_string()
                    data-histogram=histogram.join(",")
                >
                    <th scope="row">{t.model_version.clone()}</th>
                    <td data-label="Arm">{t.arm.clone().unwrap_or_else(|| "-".into())}</td>
                    <td class="num" data-label="Predictions">{count(t.predictions as usize)}</td>
                    <td class="num" data-label="Mean probability">{format!("{:.3}", t.mean_probability)}</td>
                    <td class="num" data-label="Contact rate">
                        {t.contact_rate.map(percent).unwrap_or_else(|| "-".into())}
                    </td>
                    <td data-label="Scores">
                        <ScoreBars
                            counts=t.score_histogram.clone()
                            label=format!("Scores served by {}", t.model_version)
                        />
                    </td>
                </tr>
            }
        })
        .collect_view();
    let alert = if m.alert {
        format!("Alert: {}", m.alert_reasons.join(" "))
    } else {
        "No alert.".to_string()
    };
    let notes = m
        .notes
        .iter()
        .map(|n| view! { <li>{n.clone()}</li> })
        .collect_view();
    let drift = m.drift.clone().map(|d| {
        view! {
            <h4>
                {format!(
                    "Drift of {}'s served traffic ({} rows) against its training data",
                    m.model_version,
                    count(d.current_rows as usize)
                )}
            </h4>
            <p id="monitor-score-drift" data-psi=d.score_drift.psi.to_string()>
                {format!("Score distribution: PSI {:.3}, ", d.score_drift.psi)}
                {chip_text(d.score_drift.verdict)}
            </p>
            <p class="recommendation">{d.recommendation.clone()}</p>
            <DriftColumnsTable id="monitor-drift-columns" columns=d.columns/>
        }
    });
    let performance = m.performance.clone().map(|p| {
        view! {
            <h4>{format!("Performance on {} labelled predictions", count(p.rows))}</h4>
            <PerformanceTable id="monitor-performance" performance=p/>
        }
    });
    view! {
        <p id="monitor-status" class="headline" data-status=m.status.clone() data-alert=m.alert.to_string()>
            <span class=format!("chip verdict-{}", m.status)>{m.status.clone()}</span>
            {format!(
                " {base}: {} predictions from {} to {}, monitored against {}. ",
                count(m.predictions as usize),
                iso(m.window_start_ms),
                iso(m.window_end_ms),
                m.model_version
            )}
            <strong id="monitor-alert">{alert}</strong>
        </p>
        <h4>"Registry"</h4>
        <p id="monitor-experiment">{experiment}</p>
        <div class="scroll" tabindex="0" role="region" aria-label="Registered versions">
            <table id="monitor-versions">
                <thead>
                    <tr>
                        <th scope="col">"Version"</th>
                        <th scope="col">"Serving"</th>
                        <th scope="col">"Family"</th>
                        <th scope="col">"ROC-AUC"</th>
                        <th scope="col">"Threshold"</th>
                        <th scope="col">"Uploaded"</th>
                    </tr>
                </thead>
                <tbody>{versions}</tbody>
            </table>
        </div>
        <h4>"Traffic per version and arm"</h4>
        <div class="scroll" tabindex="0" role="region" aria-label="Traffic per version and arm">
            <table id="monitor-traffic">
                <thead>
                    <tr>
                        <th scope="col">"Version"</th>
                        <th scope="col">"Arm"</th>
                        <th scope="col">"Predictions"</th>
                        <th scope="col">"Mean probability"</th>
                        <th scope="col">"Contact rate"</th>
                        <th scope="col">"Scores (0 to 1, ten bins)"</th>
                    </tr>
                </thead>
                <tbody>{traffic}</tbody>
            </table>
        </div>
        {(!m.notes.is_empty()).then(|| view! { <ul id="monitor-notes" class="hint">{notes}</ul> })}
        {performance}
        {drift}
    }
}

/// Width and height of a score histogram drawn in a table cell.
const BARS_W: f64 = 120.0;
const BARS_H: f64 = 32.0;

/// Ten bars of served probabilities over [0, 1], each bar's range and count in its tooltip.
#[component]
fn ScoreBars(counts: Vec<u64>, label: String) -> impl IntoView {
    let top = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let n = counts.len().max(1);
    let slot = BARS_W / n as f64;
    let bars = counts
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let h = BARS_H * c as f64 / top;
            let (lo, hi) = (i as f64 / n as f64, (i + 1) as f64 / n as f64);
            view! {
                <rect x=i as f64 * slot + 1.0 y=BARS_H - h width=slot - 2.0 height=h class="bar">
                    <title>{format!("{lo:.1}–{hi:.1}: {}", count(c as usize))}</title>
                </rect>
            }
        })
        .collect_view();
    view! {
        <svg
            class="sparkbars"
            role="img"
            aria-label=label
            viewBox=format!("0 0 {BARS_W} {BARS_H}")
            width=BARS_W
            height=BARS_H
        >
            {bars}
        </svg>
    }
}
