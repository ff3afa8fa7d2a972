//! Fairness: the current model's decisions compared between the groups of one column of the
//! loaded data — core's `workflow::fairness`, what `ebb fairness MODEL DATA --by COLUMN` prints:
//! per group the size, selection rate, precision, recall and false-positive rate, their ratios
//! to the best group, and every ratio under the four-fifths limit flagged.

use leptos::prelude::*;

use super::decide::{ModelDataHint, NumberField};
use crate::app::{compute, AppState};
use crate::charts::GroupRatesChart;
use crate::compute::protocol::{FairnessSummary, Request};
use crate::format::count;
use crate::group_inputs::{parse_fairness, FairnessInputs, Field};

/// A problem next to its field, from the last check of the inputs.
pub(super) fn problem_of(
    problems: RwSignal<Vec<(Field, String)>>,
    field: Field,
) -> Signal<Option<String>> {
    Signal::derive(move || {
        problems.with(|p| p.iter().find(|(f, _)| *f == field).map(|(_, m)| m.clone()))
    })
}

#[component]
pub fn FairnessView() -> impl IntoView {
    let state = expect_context::<AppState>();
    // Back on this view, the fields show the inputs of the audit on display.
    let shown = state.fairness.with_untracked(|f| {
        f.as_ref().map_or_else(FairnessInputs::default, |f| {
            FairnessInputs::from_options(&f.options)
        })
    });
    let by = RwSignal::new(shown.by);
    let min_ratio = RwSignal::new(shown.min_ratio);
    let min_group_size = RwSignal::new(shown.min_group_size);
    let problems = RwSignal::new(Vec::<(Field, String)>::new());
    let by_problem = problem_of(problems, Field::By);
    let columns = move || state.data.with(|d| d.as_ref().map(|d| d.names.clone()));
    let can_audit = move || {
        state.busy.get().is_none()
            && state.model.with(Option::is_some)
            && state.data.with(Option::is_some)
    };
    let audit = move |_| {
        let inputs = FairnessInputs {
            by: by.get_untracked(),
            min_ratio: min_ratio.get_untracked(),
            min_group_size: min_group_size.get_untracked(),
        };
        match parse_fairness(&inputs) {
            Err(found) => problems.set(found),
            Ok(options) => {
                problems.set(Vec::new());
                state.start("comparing groups");
                compute().send(Request::Fairness(options));
            }
        }
    };
    view! {
        <section aria-labelledby="fairness-title">
            <h2 id="fairness-title">"Fairness"</h2>
            <ModelDataHint describe=|model, file| format!("Compares model {model}'s decisions between the groups of one column of {file} — what `ebb fairness MODEL DATA --by COLUMN` does. A ratio under the minimum (the four-fifths rule: 0.8) is flagged in groups large enough to judge.")/>
            <fieldset>
                <legend>"Audit"</legend>
                <div class="fields">
                    <div class="field">
                        <label for="fairness-by">"Group by column"</label>
                        <select
                            id="fairness-by"
                            aria-invalid=move || by_problem.get().is_some().then_some("true")
                            aria-describedby="fairness-by-error"
                            prop:value=move || by.get()
                            on:change=move |ev| by.set(event_target_value(&ev))
                        >
                            <option value="">"Choose a column"</option>
                            {move || {
                                columns()
                                    .unwrap_or_default()
                                    .into_iter()
                                    .map(|c| {
                                        let text = c.clone();
                                        view! { <option value=c>{text}</option> }
                                    })
                                    .collect_view()
                            }}
                        </select>
                        <span id="fairness-by-error" class="field-error">{move || by_problem.get()}</span>
                    </div>
                    <NumberField
                        id="min-ratio"
                        label="Minimum ratio (0–1)"
                        value=min_ratio
                        problem=problem_of(problems, Field::MinRatio)
                        min="0"
                        max="1"
                        step="0.01"
                    />
                    <NumberField
                        id="min-group-size"
                        label="Minimum group size (customers)"
                        value=min_group_size
                        problem=problem_of(problems, Field::MinGroupSize)
                        min="0"
                        step="1"
                    />
                </div>
            </fieldset>
            <div class="actions">
                <button id="audit" type="button" disabled=move || !can_audit() on:click=audit>
                    "Compare groups"
                </button>
            </div>
            {move || state.fairness.get().map(|f| view! { <Audit audit=f/> })}
        </section>
    }
}

/// A rate or ratio to three decimals; `–` when core could not compute it.
fn cell(x: Option<f64>) -> String {
    x.map_or_else(|| "–".to_string(), |x| format!("{x:.3}"))
}

/// The exact number for tests and copying (`""` when there is none), as JSON would print it.
fn exact(x: Option<f64>) -> String {
    x.map(|x| x.to_string()).unwrap_or_default()
}

/// What the ratio names of core's flags mean to a reader.
fn ratio_name(ratio: &str) -> &str {
    match ratio {
        "positive_rate_ratio" => "selection-rate ratio",
        "precision_ratio" => "precision ratio",
        "recall_ratio" => "recall ratio",
        "fpr_ratio" => "false-positive-rate ratio",
        other => other,
    }
}

#[component]
fn Audit(audit: FairnessSummary) -> impl IntoView {
    let r = audit.report;
    let params = &audit.options.params;
    let min_ratio = r.min_ratio;
    let min_size = params.min_group_size;
    let customers: usize = r.groups.iter().map(|g| g.size).sum();
    let flagged =
        |group: &str, ratio: &str| r.flags.iter().any(|f| f.group == group && f.ratio == ratio);
    let rows = r
        .groups
        .iter()
        .map(|g| {
            let ratio = |name: &'static str, label: &'static str, value: Option<f64>| {
                let under = flagged(&g.group, name);
                view! {
                    <td
                        class=if under { "num ratio flagged" } else { "num ratio" }
                        data-field=name
                        data-label=label
                        data-value=exact(value)
                        data-flagged=under.to_string()
                    >
                        {cell(value)}
                        {under.then(|| format!(" ✗ under {min_ratio}"))}
                    </td>
                }
                .into_any()
            };
            let rate = |name: &'static str, label: &'static str, value: Option<f64>| {
                view! {
                    <td class="num" data-field=name data-label=label data-value=exact(value)>
                        {cell(value)}
                    </td>
                }
                .into_any()
            };
            let flags = r.flags.iter().filter(|f| f.group == g.group).count();
            let verdict = if !g.judged {
                format!("too small to judge (under {} customers)", count(min_size))
            } else if flags > 0 {
                format!("flagged: {flags} ratio{} under {min_ratio}", if flags == 1 { "" } else { "s" })
            } else {
                "no ratio under the minimum".to_string()
            };
            let class = if !g.judged {
                "small"
            } else if flags > 0 {
                "flagged"
            } else {
                "fair"
            };
            view! {
                <tr data-group=g.group.clone() data-judged=g.judged.to_string() class=class>
                    <th scope="row">{g.group.clone()}</th>
                    <td class="num" data-field="size" data-label="Customers" data-value=g.size.to_string()>{count(g.size)}</td>
                    <td class="num" data-field="flagged" data-label="Flagged" data-value=g.flagged.to_string()>{count(g.flagged)}</td>
                    {rate("positive_rate", "Selection rate", Some(g.positive_rate))}
                    {rate("churn_rate", "Churn rate", g.churn_rate)}
                    {rate("precision", "Precision", g.precision)}
                    {rate("recall", "Recall (TPR)", g.recall)}
                    {rate("false_positive_rate", "False-positive rate", g.false_positive_rate)}
                    {ratio("positive_rate_ratio", "Selection ratio", g.positive_rate_ratio)}
                    {ratio("precision_ratio", "Precision ratio", g.precision_ratio)}
                    {ratio("recall_ratio", "Recall ratio", g.recall_ratio)}
                    {ratio("fpr_ratio", "FPR ratio", g.fpr_ratio)}
                    <td class="verdict">{verdict}</td>
                </tr>
            }
        })
        .collect_view();
    let small = r.groups.iter().filter(|g| !g.judged).count();
    let flags = if r.flags.is_empty() {
        view! {
            <p id="fairness-flags" class="hint">
                {format!("No ratio under {min_ratio} in groups of at least {} customers.", count(min_size))}
            </p>
        }
        .into_any()
    } else {
        let items = r
            .flags
            .iter()
            .map(|f| {
                view! {
                    <li data-group=f.group.clone() data-ratio=f.ratio.clone() data-value=f.value.to_string()>
                        {format!("{}: {} {:.3}, under {min_ratio}", f.group, ratio_name(&f.ratio), f.value)}
                    </li>
                }
            })
            .collect_view();
        view! {
            <div>
                <h3>{format!("Flagged (ratio under {min_ratio})")}</h3>
                <ul id="fairness-flags" class="flags">{items}</ul>
            </div>
        }
        .into_any()
    };
    view! {
        <p id="fairness-summary" class="headline">
            {format!(
                "Model {} at threshold {:.4} on {} customers by `{}`{}: {} groups, {} flagged ratio{}.",
                audit.model_id,
                r.threshold,
                count(customers),
                r.column,
                if r.binned { " (quartiles)" } else { "" },
                r.groups.len(),
                r.flags.len(),
                if r.flags.len() == 1 { "" } else { "s" },
            )}
        </p>
        {(!r.labelled).then(|| view! {
            <p class="hint">"The data has no target column: only selection rates are compared."</p>
        })}
        {(small > 0).then(|| view! {
            <p id="fairness-small" class="hint">
                {format!(
                    "{small} group{} under {} customers {} reported but not judged: {} rates are too noisy.",
                    if small == 1 { "" } else { "s" },
                    count(min_size),
                    if small == 1 { "is" } else { "are" },
                    if small == 1 { "its" } else { "their" },
                )}
            </p>
        })}
        {(audit.skipped > 0).then(|| view! {
            <p class="hint">{format!("{} rows could not be scored and were left out.", count(audit.skipped))}</p>
        })}
        {flags}
        <div class="scroll" tabindex="0" role="region" aria-label="Rates and ratios per group">
            <table id="fairness-groups">
                <thead>
                    <tr>
                        <th scope="col">"Group"</th>
                        <th scope="col">"Customers"</th>
                        <th scope="col">"Flagged"</th>
                        <th scope="col">"Selection rate"</th>
                        <th scope="col">"Churn rate"</th>
                        <th scope="col">"Precision"</th>
                        <th scope="col">"Recall (TPR)"</th>
                        <th scope="col">"False-positive rate"</th>
                        <th scope="col">"Selection ratio"</th>
                        <th scope="col">"Precision ratio"</th>
                        <th scope="col">"Recall ratio"</th>
                        <th scope="col">"FPR ratio"</th>
                        <th scope="col">"Verdict"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <p class="hint">
            "Ratios compare each group with the best judged group: its rate over the highest (selection rate, precision, recall), or the lowest false-positive rate over its own."
        </p>
        <GroupRatesChart report=r.clone()/>
    }
}
