//! Train: the settings of `ebb train` (families, folds, seed), progress with Cancel, and the
//! leaderboard of cross-validated metrics per family.

use leptos::prelude::*;

use crate::app::{compute, AppState};
use crate::compute::protocol::{FamilyRow, Request, TrainSettings, TrainSummary};
use crate::format::{metric, percent};

const FAMILIES: [(&str, &str); 3] = [
    ("gbdt", "Gradient boosting (gbdt)"),
    ("forest", "Random forest"),
    ("logistic", "Logistic regression"),
];

#[component]
pub fn TrainView() -> impl IntoView {
    let state = expect_context::<AppState>();
    let chosen = FAMILIES.map(|_| RwSignal::new(true));
    let folds = RwSignal::new("5".to_string());
    let seed = RwSignal::new("42".to_string());
    let can_train = move || {
        state.busy.get().is_none()
            && state
                .data
                .with(|d| d.as_ref().is_some_and(|d| d.columns.target.is_some()))
    };
    let train = move |_| {
        let families: Vec<String> = FAMILIES
            .iter()
            .zip(chosen)
            .filter(|(_, on)| on.get_untracked())
            .map(|((name, _), _)| name.to_string())
            .collect();
        if families.is_empty() {
            state.error("choose at least one model family".into());
            return;
        }
        let Ok(folds) = folds.get_untracked().trim().parse::<usize>() else {
            state.error("folds must be a whole number from 2 to 20".into());
            return;
        };
        if !(2..=20).contains(&folds) {
            state.error("folds must be a whole number from 2 to 20".into());
            return;
        }
        let Ok(seed) = seed.get_untracked().trim().parse::<u64>() else {
            state.error("the seed must be a whole number".into());
            return;
        };
        state.start("training");
        compute().send(Request::Train(TrainSettings {
            families,
            folds,
            seed,
        }));
    };
    let cancel = move |_| {
        let replaying = compute().cancel();
        state.resend_model(replaying);
        if replaying {
            state.start("cancelled; loading the data into a new worker");
        } else {
            state.busy.set(None);
            state.progress.set(None);
        }
    };
    let family_boxes = FAMILIES
        .iter()
        .zip(chosen)
        .map(|((name, label), on)| {
            let id = format!("family-{name}");
            view! {
                <input
                    id=id.clone()
                    type="checkbox"
                    prop:checked=move || on.get()
                    on:change=move |ev| on.set(event_target_checked(&ev))
                />
                <label for=id>{*label}</label>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="train-title">
            <h2 id="train-title">"Train"</h2>
            {move || {
                state
                    .data
                    .with(|d| match d {
                        None => Some("Load or generate data first (Data view)."),
                        Some(d) if d.columns.target.is_none() => {
                            Some("The data has no target column: choose one in the Data view.")
                        }
                        Some(_) => None,
                    })
                    .map(|t| view! { <p class="hint">{t}</p> })
            }}
            <fieldset class="inline">
                <legend>"Model families to compare"</legend>
                {family_boxes}
            </fieldset>
            <fieldset class="inline">
                <legend>"Validation"</legend>
                <label for="folds">"Folds"</label>
                <input
                    id="folds"
                    type="number"
                    min="2"
                    max="20"
                    prop:value=move || folds.get()
                    on:input=move |ev| folds.set(event_target_value(&ev))
                />
                <label for="seed">"Seed"</label>
                <input
                    id="seed"
                    type="number"
                    min="0"
                    prop:value=move || seed.get()
                    on:input=move |ev| seed.set(event_target_value(&ev))
                />
            </fieldset>
            <div class="actions">
                <button id="train" type="button" disabled=move || !can_train() on:click=train>
                    "Train"
                </button>
                <button
                    id="cancel"
                    type="button"
                    disabled=move || state.busy.get().is_none()
                    on:click=cancel
                >
                    "Cancel"
                </button>
            </div>
            {move || {
                state
                    .progress
                    .get()
                    .map(|p| {
                        view! {
                            <label for="progress">{format!("{} {:.0}% {}", p.stage, p.fraction * 100.0, p.message)}</label>
                            <progress id="progress" max=1 value=p.fraction></progress>
                        }
                    })
            }}
            {move || state.trained.get().map(|t| view! { <Leaderboard trained=t/> })}
            {move || {
                let live = state.live.get();
                (!live.is_empty() && state.trained.with(Option::is_none))
                    .then(|| view! { <LiveLeaderboard rows=live/> })
            }}
        </section>
    }
}

/// The families cross-validated so far, while the others still train.
#[component]
fn LiveLeaderboard(rows: Vec<FamilyRow>) -> impl IntoView {
    view! {
        <h3>"Cross-validated so far"</h3>
        <div class="scroll" tabindex="0" role="region" aria-label="Cross-validated so far">
            <table id="live-leaderboard">
                <LeaderboardHead/>
                <tbody>{family_rows(&rows, None)}</tbody>
            </table>
        </div>
    }
}

#[component]
fn LeaderboardHead() -> impl IntoView {
    view! {
        <thead>
            <tr>
                <th scope="col">"Model"</th>
                <th scope="col">"ROC-AUC"</th>
                <th scope="col">"PR-AUC"</th>
                <th scope="col">"Log loss"</th>
                <th scope="col">"Best F1"</th>
                <th scope="col">"Time"</th>
            </tr>
        </thead>
    }
}

/// One row per family, the `kept` one marked.
fn family_rows(models: &[FamilyRow], kept: Option<&str>) -> impl IntoView {
    models
        .iter()
        .map(|m| {
            let kept = kept == Some(m.name.as_str());
            view! {
                <tr class:kept=kept>
                    <th scope="row">{format!("{}{}", m.name, if kept { " (kept)" } else { "" })}</th>
                    // The full value rides along for exact comparisons (tests, copy-paste).
                    <td class="num roc-auc" data-value=m.cv.roc_auc.to_string()>{metric(m.cv.roc_auc)}</td>
                    <td class="num pr-auc" data-value=m.cv.pr_auc.to_string()>{metric(m.cv.pr_auc)}</td>
                    <td class="num">{metric(m.cv.log_loss)}</td>
                    <td class="num">{metric(m.cv.best_f1)}</td>
                    <td class="num">
                        {m.fit_seconds.map(|s| format!("{s:.1} s")).unwrap_or_default()}
                    </td>
                </tr>
            }
        })
        .collect_view()
}

#[component]
fn Leaderboard(trained: TrainSummary) -> impl IntoView {
    let rows = family_rows(&trained.models, Some(&trained.chosen));
    let c = &trained.calibrated;
    view! {
        <h3>"Leaderboard (out-of-fold, " {trained.validation.clone()} ")"</h3>
        <div class="scroll" tabindex="0" role="region" aria-label="Leaderboard">
            <table id="leaderboard">
                <LeaderboardHead/>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <p id="model-summary">
            {format!(
                "Kept {} as model {}. Calibration: {}. Threshold {:.3}: precision {}, recall {}, F1 {} on {} rows (churn rate {}).",
                trained.chosen,
                trained.model_id,
                trained.calibration,
                trained.threshold,
                metric(c.precision),
                metric(c.recall),
                metric(c.f1),
                c.n,
                percent(c.positive_rate),
            )}
        </p>
    }
}
