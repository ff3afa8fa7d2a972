//! Train: the settings of `ebb train` (families, folds, seed, class weighting) or of
//! `ebb tune --out` (a budget in trials and rounds), the validation the data implies, progress
//! with Cancel, and the leaderboard of cross-validated metrics per family.

use leptos::prelude::*;

use crate::app::{compute, AppState, Tab};
use crate::compute::protocol::{
    FamilyRow, Imbalance, Request, TrainSettings, TrainSummary, TuneBudget, TuningSummary,
};
use crate::format::{count, metric, percent};
use ebb_core::model::boost::{BoostParams, TreeShape, SYMMETRIC_DEPTH};
use ebb_core::train::{TrainParams, SMALL_TABLE_ROWS};

const FAMILIES: [(&str, &str); 3] = [
    ("gbdt", "Gradient boosting (gbdt)"),
    ("forest", "Random forest"),
    ("logistic", "Logistic regression"),
];

/// `ebb train --imbalance` choices, as core names them.
const WEIGHTINGS: [(&str, &str); 3] = [
    ("none", "none: every customer counts once"),
    (
        "balanced",
        "balanced: each class weighs as much in total as the other",
    ),
    (
        "positive_weight",
        "positive weight: each churner counts as many times as there are retained customers per churner",
    ),
];

/// `text` as a whole number in `range`, or a message naming `what`.
fn whole_in(
    text: &str,
    what: &str,
    range: core::ops::RangeInclusive<usize>,
) -> Result<usize, String> {
    text.trim()
        .parse::<usize>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            format!(
                "{what} must be a whole number from {} to {}",
                range.start(),
                range.end()
            )
        })
}

/// The Train view's settings as entered, checked into a request.
fn settings(
    families: Vec<String>,
    folds: &str,
    seed: &str,
    imbalance: &str,
    tune: Option<(&str, &str)>,
) -> Result<TrainSettings, String> {
    if families.is_empty() && tune.is_none() {
        return Err("choose at least one model family".into());
    }
    let folds = whole_in(folds, "folds", 2..=20)?;
    let seed = seed
        .trim()
        .parse::<u64>()
        .map_err(|_| "the seed must be a whole number".to_string())?;
    let imbalance = match imbalance {
        "none" => None,
        name => {
            Some(Imbalance::from_name(name).ok_or_else(|| format!("unknown weighting `{name}`"))?)
        }
    };
    let tune = tune
        .map(|(trials, trees)| {
            Ok::<_, String>(TuneBudget {
                trials: whole_in(trials, "tuning trials", 1..=200)?,
                max_trees: whole_in(trees, "tuning rounds", 10..=2000)?,
            })
        })
        .transpose()?;
    Ok(TrainSettings {
        families,
        folds,
        seed,
        imbalance,
        tune,
    })
}

#[component]
pub fn TrainView() -> impl IntoView {
    let state = expect_context::<AppState>();
    let chosen = FAMILIES.map(|_| RwSignal::new(true));
    let folds = RwSignal::new("5".to_string());
    let seed = RwSignal::new("42".to_string());
    let imbalance = RwSignal::new("none".to_string());
    let tuning = RwSignal::new(false);
    let trials = RwSignal::new("9".to_string());
    let max_trees = RwSignal::new("300".to_string());
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
        let (t, r) = (trials.get_untracked(), max_trees.get_untracked());
        let checked = settings(
            families,
            &folds.get_untracked(),
            &seed.get_untracked(),
            &imbalance.get_untracked(),
            tuning.get_untracked().then_some((t.as_str(), r.as_str())),
        );
        match checked {
            Ok(settings) => {
                // The worker drops the last trained model when training starts.
                state.trained.set(None);
                state.at.set(None);
                state.start(if settings.tune.is_some() {
                    "tuning"
                } else {
                    "training"
                });
                compute().send(Request::Train(settings));
            }
            Err(message) => state.error(message),
        }
    };
    let family_boxes = FAMILIES
        .iter()
        .zip(chosen)
        .map(|((name, label), on)| {
            let id = format!("family-{name}");
            // One unit, so a narrow screen never wraps a box away from its label.
            view! {
                <span class="choice">
                    <input
                        id=id.clone()
                        type="checkbox"
                        prop:checked=move || on.get()
                        on:change=move |ev| on.set(event_target_checked(&ev))
                    />
                    <label for=id>{*label}</label>
                </span>
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
                <span class="choice">
                    <label for="folds">"Folds"</label>
                    <input
                        id="folds"
                        type="number"
                        min="2"
                        max="20"
                        prop:value=move || folds.get()
                        on:input=move |ev| folds.set(event_target_value(&ev))
                    />
                </span>
                <span class="choice">
                    <label for="seed">"Seed"</label>
                    <input
                        id="seed"
                        type="number"
                        min="0"
                        prop:value=move || seed.get()
                        on:input=move |ev| seed.set(event_target_value(&ev))
                    />
                </span>
                <p id="validation-plan" class="hint">
                    {move || validation_plan(state)}
                    " "
                    <button type="button" class="link" on:click=move |_| state.tab.set(Tab::Data)>
                        "Change the time column in the Data view"
                    </button>
                </p>
                {move || {
                    state
                        .data
                        .with(|d| d.as_ref().map(|d| model_size_plan(d.clean_rows)))
                        .map(|plan| view! { <p id="model-size" class="hint">{plan}</p> })
                }}
            </fieldset>
            <fieldset class="inline">
                <legend>"Class imbalance (gradient boosting)"</legend>
                <label for="imbalance">"Weighting"</label>
                <select
                    id="imbalance"
                    prop:value=move || imbalance.get()
                    on:change=move |ev| imbalance.set(event_target_value(&ev))
                >
                    {WEIGHTINGS
                        .iter()
                        .map(|(name, label)| view! { <option value=*name>{*label}</option> })
                        .collect_view()}
                </select>
            </fieldset>
            <fieldset class="inline">
                <legend>"Tuning"</legend>
                <input
                    id="tune"
                    type="checkbox"
                    prop:checked=move || tuning.get()
                    on:change=move |ev| tuning.set(event_target_checked(&ev))
                />
                <label for="tune">"Tune gradient boosting first (ebb tune)"</label>
                <label for="tune-trials">"Trials"</label>
                <input
                    id="tune-trials"
                    type="number"
                    min="1"
                    max="200"
                    disabled=move || !tuning.get()
                    prop:value=move || trials.get()
                    on:input=move |ev| trials.set(event_target_value(&ev))
                />
                <label for="tune-max-trees">"Rounds of the final model"</label>
                <input
                    id="tune-max-trees"
                    type="number"
                    min="10"
                    max="2000"
                    disabled=move || !tuning.get()
                    prop:value=move || max_trees.get()
                    on:input=move |ev| max_trees.set(event_target_value(&ev))
                />
                <p class="hint">
                    "Tuning races seeded configurations of gradient boosting by successive halving, compares the class weightings (replacing the choice above) and trains the winner; the families above are not compared. The budget is in trials and rounds, not seconds, so the same seed gives the same model here and in the CLI."
                </p>
            </fieldset>
            <div class="actions">
                <button id="train" type="button" disabled=move || !can_train() on:click=train>
                    "Train"
                </button>
                <CancelButton/>
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

/// Cancel for the view's long work (training, deciding, explaining, a drift report): enabled
/// while the worker is busy and until it is asked to stop. Every view names it `cancel`: one
/// view shows at a time.
#[component]
pub(crate) fn CancelButton() -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        <button
            id="cancel"
            type="button"
            aria-describedby="busy"
            disabled=move || !state.can_cancel()
            on:click=move |_| state.cancel()
        >
            "Cancel"
        </button>
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
        {trained.tuning.clone().map(|t| view! { <TuningResult tuning=t/> })}
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

/// How `ebb train` will validate the loaded data: time-based when the Data view set a time
/// column (core's `make_folds`), k-fold otherwise.
fn validation_plan(state: AppState) -> String {
    state.data.with(|d| {
        match d.as_ref().and_then(|d| d.columns.time.clone()) {
            Some(time) => format!(
                "Validation: time-based (rolling origin on `{time}`: each fold trains on the past and tests on the next period), because `{time}` is the time column."
            ),
            None => "Validation: stratified k-fold (grouped by customer when ids repeat). Set a time column for time-based validation.".to_string(),
        }
    })
}

/// The tree sizes `ebb train` picks for a table of `clean_rows` rows, from core's own rule
/// (`TrainParams::sized_for`, what training applies), so the page cannot disagree with it.
fn model_size_plan(clean_rows: usize) -> String {
    let sized = TrainParams::default().sized_for(clean_rows);
    let small = TrainParams::default().sized_for(SMALL_TABLE_ROWS - 1).boost;
    let large = TrainParams::default().sized_for(SMALL_TABLE_ROWS).boost;
    format!(
        "Model size for {} clean rows: gradient boosting grows {}, the forest {} trees. Both follow the table's size ({}, under {} rows; {} from there; more forest trees on small tables, where they are cheap): README, \"Defaults that follow the table's size\".",
        count(clean_rows),
        boosting_trees(&sized.boost),
        sized.forest.n_trees,
        boosting_trees(&small),
        count(SMALL_TABLE_ROWS),
        boosting_trees(&large),
    )
}

/// "trees of 7 leaves, each on 80% of the features" or "symmetric trees of 6 levels", and
/// ", averaged with 300 symmetric trees of 5 levels" when a second configuration is averaged in.
fn boosting_trees(boost: &BoostParams) -> String {
    let shape = |b: &BoostParams| match b.tree_shape {
        TreeShape::Symmetric => format!(
            "symmetric trees of {} levels{}",
            b.max_depth.unwrap_or(SYMMETRIC_DEPTH),
            features_per_tree(b.feature_fraction)
        ),
        TreeShape::LeafWise => format!(
            "trees of {} leaves{}",
            b.num_leaves,
            features_per_tree(b.feature_fraction)
        ),
    };
    match &boost.average_with {
        Some(member) => format!(
            "{}, averaged with {} {}",
            shape(boost),
            member.n_trees,
            shape(member)
        ),
        None => shape(boost),
    }
}

/// ", each on 80% of the features" for a feature fraction below one, nothing for all of them.
fn features_per_tree(fraction: f64) -> String {
    if fraction < 1.0 {
        format!(", each on {:.0}% of the features", fraction * 100.0)
    } else {
        String::new()
    }
}

#[component]
fn TuningResult(tuning: TuningSummary) -> impl IntoView {
    view! {
        <p id="tuning-summary">
            {format!(
                "Tuned: {} configurations in {} evaluations; best trial {} (out-of-fold ROC-AUC {}). Weighting kept: {}. {} Parameters: {}.",
                tuning.trials,
                tuning.evaluations,
                tuning.best_trial,
                metric(tuning.best_roc_auc),
                tuning.imbalance.name(),
                tuning.imbalance_explanation,
                tuning.parameters,
            )}
        </p>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_size_shown_is_the_one_training_picks() {
        let small = model_size_plan(5_000);
        assert!(small.starts_with("Model size for 5,000 clean rows: gradient boosting grows trees of 7 leaves, each on 80% of the features, averaged with 300 symmetric trees of 5 levels, the forest 300 trees."), "{small}");
        let large = model_size_plan(100_000);
        assert!(
            large.contains("grows symmetric trees of 6 levels, the forest 150 trees."),
            "{large}"
        );
        assert!(
            large.contains(
                "(trees of 7 leaves, each on 80% of the features, averaged with 300 symmetric trees of 5 levels, under 20,000 rows; symmetric trees of 6 levels from there;"
            ),
            "{large}"
        );
    }

    #[test]
    fn settings_are_checked_with_a_message_naming_the_field() {
        let ok = settings(vec!["gbdt".into()], "3", "7", "balanced", None).unwrap();
        assert_eq!(ok.folds, 3);
        assert_eq!(ok.seed, 7);
        assert_eq!(ok.imbalance, Some(Imbalance::Balanced));
        assert_eq!(ok.tune, None);
        let none = settings(vec!["gbdt".into()], "3", "7", "none", None).unwrap();
        assert_eq!(none.imbalance, None);
        let tuned = settings(vec![], "5", "42", "none", Some(("9", "300"))).unwrap();
        assert_eq!(
            tuned.tune,
            Some(TuneBudget {
                trials: 9,
                max_trees: 300
            })
        );
        let err = |r: Result<TrainSettings, String>| r.unwrap_err();
        assert_eq!(
            err(settings(vec![], "5", "1", "none", None)),
            "choose at least one model family"
        );
        assert_eq!(
            err(settings(vec!["gbdt".into()], "1", "1", "none", None)),
            "folds must be a whole number from 2 to 20"
        );
        assert_eq!(
            err(settings(vec!["gbdt".into()], "5", "-1", "none", None)),
            "the seed must be a whole number"
        );
        assert_eq!(
            err(settings(vec![], "5", "1", "none", Some(("0", "300")))),
            "tuning trials must be a whole number from 1 to 200"
        );
        assert_eq!(
            err(settings(vec![], "5", "1", "none", Some(("9", "5")))),
            "tuning rounds must be a whole number from 10 to 2000"
        );
    }
}
