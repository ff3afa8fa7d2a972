//! What-if: a customer of the loaded data (or a blank form from the model's schema) with every
//! model input as a control; each edit re-scores the record in the worker with core's
//! `workflow::whatif::what_if` (what `ebb whatif` runs) and shows the probability, the decision,
//! the risk band and the top reasons; once the edits pause, core's `suggest` says what would
//! bring the customer under the threshold.
//!
//! Answers are numbered: while one edit is in the worker, later edits only mark the form
//! changed, and one request with the latest values follows the answer, so a fast typist never
//! queues a backlog. The slower suggestion is asked for only after a short pause.

use std::time::Duration;

use ebb_core::insight::explain::Suggestion;
use ebb_core::serve::scorer::RiskBand;
use ebb_core::workflow::whatif::{Edit, FieldForm, RangeFrom, SuggestReport, WhatIfReport};
use leptos::prelude::*;

use crate::app::{compute, AppState};
use crate::compute::protocol::{Request, WhatIfForm};
use crate::edits::{date_value, default_actionable, edits, field_values, slider_step};
use crate::format::{metric, number};

/// A record's raw fields as the protocol carries them.
type Fields = Vec<(String, Option<String>)>;

/// Quiet time after the last answer before the suggestion is asked for: a slider drag sends
/// an edit every frame, and the search (tens of milliseconds) would delay the next one.
const SUGGEST_AFTER: Duration = Duration::from_millis(60);

/// The What-if view's state (kept across tab changes, cleared with the model).
#[derive(Clone, Copy)]
pub struct WhatIfState {
    form: RwSignal<Option<WhatIfForm>>,
    /// The record's value of each field, then the values as edited.
    base: RwSignal<Vec<Option<String>>>,
    values: RwSignal<Vec<Option<String>>>,
    actionable: RwSignal<Vec<bool>>,
    report: RwSignal<Option<(u64, WhatIfReport)>>,
    suggestion: RwSignal<Option<(u64, SuggestReport)>>,
    error: RwSignal<Option<String>>,
    /// Number of the latest edit; whether a request is in the worker; whether the form
    /// changed since it was sent.
    seq: RwSignal<u64>,
    in_flight: RwSignal<bool>,
    pending: RwSignal<bool>,
}

impl Default for WhatIfState {
    fn default() -> Self {
        WhatIfState {
            form: RwSignal::new(None),
            base: RwSignal::new(Vec::new()),
            values: RwSignal::new(Vec::new()),
            actionable: RwSignal::new(Vec::new()),
            report: RwSignal::new(None),
            suggestion: RwSignal::new(None),
            error: RwSignal::new(None),
            seq: RwSignal::new(0),
            in_flight: RwSignal::new(false),
            pending: RwSignal::new(false),
        }
    }
}

impl WhatIfState {
    /// Forgets the form (its model is no longer current).
    pub fn clear(&self) {
        // A request lost with a crashed or cancelled worker must not hold later edits back.
        self.in_flight.set(false);
        self.pending.set(false);
        self.form.set(None);
        self.report.set(None);
        self.suggestion.set(None);
        self.error.set(None);
    }

    pub fn on_form(&self, form: WhatIfForm) {
        let base = field_values(&form.fields, &form.record);
        // A new start answers after any request still in the worker (one at a time).
        self.in_flight.set(false);
        self.pending.set(false);
        self.actionable.set(default_actionable(&form.fields));
        self.values.set(base.clone());
        self.base.set(base);
        self.form.set(Some(form));
        self.report.set(None);
        self.suggestion.set(None);
        self.error.set(None);
        self.changed();
    }

    /// The form changed: re-score now, or right after the answer in the worker.
    fn changed(&self) {
        self.seq.update(|s| *s += 1);
        if self.in_flight.get_untracked() {
            self.pending.set(true);
        } else {
            self.send();
        }
    }

    fn request_parts(&self) -> Option<(Fields, Vec<Edit>)> {
        let form = self.form.get_untracked()?;
        let edits = self
            .base
            .with_untracked(|b| self.values.with_untracked(|v| edits(&form.fields, b, v)));
        Some((form.record, edits))
    }

    fn send(&self) {
        let Some((record, edits)) = self.request_parts() else {
            return;
        };
        self.in_flight.set(true);
        self.pending.set(false);
        compute().send(Request::WhatIf {
            seq: self.seq.get_untracked(),
            record,
            edits,
        });
    }

    /// An answer came back: the next edit goes now, else the suggestion after a pause.
    fn answered(&self, seq: u64) {
        self.in_flight.set(false);
        if self.pending.get_untracked() {
            self.send();
            return;
        }
        let state = *self;
        set_timeout(move || state.ask_suggestion(seq), SUGGEST_AFTER);
    }

    fn ask_suggestion(&self, seq: u64) {
        if seq != self.seq.get_untracked() || self.in_flight.get_untracked() {
            return;
        }
        let Some(form) = self.form.get_untracked() else {
            return;
        };
        let actionable: Vec<String> = self.actionable.with_untracked(|a| {
            form.fields
                .iter()
                .zip(a)
                .filter(|(_, &on)| on)
                .map(|(f, _)| f.name.clone())
                .collect()
        });
        if actionable.is_empty() {
            self.suggestion.set(None);
            return;
        }
        let Some((record, edits)) = self.request_parts() else {
            return;
        };
        compute().send(Request::Suggest {
            seq,
            record,
            edits,
            actionable,
        });
    }

    pub fn on_report(&self, seq: u64, report: WhatIfReport) {
        if seq == self.seq.get_untracked() {
            self.error.set(None);
            self.report.set(Some((seq, report)));
        }
        self.answered(seq);
    }

    pub fn on_suggested(&self, seq: u64, report: SuggestReport) {
        if seq == self.seq.get_untracked() {
            self.suggestion.set(Some((seq, report)));
        }
    }

    pub fn on_failed(&self, seq: u64, message: String) {
        self.error.set(Some(message));
        if seq != 0 && self.in_flight.get_untracked() {
            self.in_flight.set(false);
            if self.pending.get_untracked() {
                self.send();
            }
        }
    }

    fn set_value(&self, i: usize, value: String) {
        self.values.update(|v| {
            if let Some(slot) = v.get_mut(i) {
                *slot = (!value.trim().is_empty()).then_some(value);
            }
        });
        self.changed();
    }

    /// Whether the result shown is for the form as it is now.
    fn busy(&self) -> bool {
        self.in_flight.get()
            || self
                .report
                .with(|r| r.as_ref().map(|(s, _)| *s) != Some(self.seq.get()))
    }
}

fn band(b: RiskBand) -> &'static str {
    match b {
        RiskBand::Low => "low (below the training churn rate)",
        RiskBand::Medium => "medium (above the training churn rate, below the threshold)",
        RiskBand::High => "high (at or above the threshold)",
    }
}

#[component]
pub fn WhatIfView() -> impl IntoView {
    let state = expect_context::<AppState>();
    let w = state.whatif;
    let customer = RwSignal::new(String::new());
    let has_model = move || state.model.with(Option::is_some);
    let start = move |who: Option<String>| {
        w.error.set(None);
        compute().send(Request::WhatIfStart { customer: who });
    };
    view! {
        <section aria-labelledby="whatif-title">
            <h2 id="whatif-title">"What-if"</h2>
            <p class="hint">
                {move || match state.model.with(|m| m.as_ref().map(|m| m.info.id.clone())) {
                    Some(id) => format!(
                        "Change a customer's fields and see model {id}'s answer at once — what `ebb whatif MODEL --record … --set field=value` prints. Runs in this browser, also offline."
                    ),
                    None => "Train a model (Train view) or upload one (Models view) first.".to_string(),
                }}
            </p>
            <form class="inline" on:submit=move |ev| {
                ev.prevent_default();
                start(Some(customer.get_untracked()));
            }>
                <label for="whatif-customer">"Customer (row number or id)"</label>
                <input
                    id="whatif-customer"
                    type="text"
                    prop:value=move || customer.get()
                    on:input=move |ev| customer.set(event_target_value(&ev))
                />
                <button id="whatif-load" type="submit" disabled=move || !has_model() || state.data.with(Option::is_none)>
                    "Start from this customer"
                </button>
                <button id="whatif-blank" type="button" disabled=move || !has_model() on:click=move |_| start(None)>
                    "Blank form"
                </button>
            </form>
            {move || w.error.get().map(|e| view! { <p id="whatif-error" class="error" role="alert">{e}</p> })}
            {move || w.form.get().map(|form| view! { <Form form=form/> })}
        </section>
    }
}

#[component]
fn Form(form: WhatIfForm) -> impl IntoView {
    let who = form
        .customer
        .clone()
        .unwrap_or_else(|| "a blank form (every field missing until set)".into());
    let any_decile_range = form.fields.iter().any(|f| {
        matches!(
            f.form,
            FieldForm::Number {
                range: Some((_, _, RangeFrom::DecileEdges)),
                ..
            }
        )
    });
    let fields = form
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| view! { <FieldControl i=i name=f.name.clone() form=f.form.clone()/> })
        .collect_view();
    view! {
        <div class="whatif">
            <fieldset class="whatif-fields">
                <legend>{format!("Fields of {who}")}</legend>
                <p class="hint">
                    "Slider ranges are the model's clip bounds (the 0.1% and 99.9% training quantiles): the model reads any value beyond them as the bound. The artifact keeps no minimum or maximum."
                    {any_decile_range.then_some(" Where no clipping was fitted, the range is the lowest to the highest training decile edge.")}
                    " Tick “can change” on the fields the business can act on."
                </p>
                <div class="whatif-grid">{fields}</div>
            </fieldset>
            <Result threshold=form.threshold/>
        </div>
    }
}

#[component]
fn FieldControl(i: usize, name: String, form: FieldForm) -> impl IntoView {
    let state = expect_context::<AppState>();
    let w = state.whatif;
    let id = format!("whatif-field-{i}");
    let value = move || {
        w.values
            .with(|v| v.get(i).cloned().flatten().unwrap_or_default())
    };
    let changed = move || {
        w.base.with(|b| {
            w.values
                .with(|v| b.get(i).cloned().flatten() != v.get(i).cloned().flatten())
        })
    };
    let act_id = format!("whatif-act-{i}");
    let control = match form {
        FieldForm::Number { range, .. } => {
            let slider = range.map(|(low, high, _)| {
                let step = slider_step(low, high);
                let at = move || {
                    value()
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite())
                        .map_or((low + high) / 2.0, |x| x.clamp(low, high))
                        .to_string()
                };
                view! {
                    <input
                        id=format!("whatif-slider-{i}")
                        class="slider"
                        type="range"
                        min=low.to_string()
                        max=high.to_string()
                        step=step.to_string()
                        aria-label=format!("{name} (slider from {} to {})", number(low), number(high))
                        prop:value=at
                        on:input=move |ev| w.set_value(i, event_target_value(&ev))
                    />
                }
            });
            view! {
                <input
                    id=id.clone()
                    type="text"
                    inputmode="decimal"
                    placeholder="missing"
                    prop:value=value
                    on:input=move |ev| w.set_value(i, event_target_value(&ev))
                />
                {slider}
            }
            .into_any()
        }
        FieldForm::Choice { levels } => choice(id.clone(), i, levels).into_any(),
        FieldForm::Boolean => choice(id.clone(), i, vec!["yes".into(), "no".into()]).into_any(),
        FieldForm::Date => view! {
            <input
                id=id.clone()
                type="date"
                prop:value=move || date_value(&value())
                on:input=move |ev| w.set_value(i, event_target_value(&ev))
            />
        }
        .into_any(),
    };
    view! {
        <div class="field whatif-field" data-name=name.clone() class:edited=changed>
            <label for=id>{name.clone()}</label>
            {control}
            <label class="check" for=act_id.clone()>
                <input
                    id=act_id.clone()
                    type="checkbox"
                    prop:checked=move || w.actionable.with(|a| a.get(i).copied().unwrap_or(false))
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        w.actionable.update(|a| {
                            if let Some(slot) = a.get_mut(i) {
                                *slot = on;
                            }
                        });
                        w.changed();
                    }
                />
                " can change"
            </label>
        </div>
    }
}

/// A select of `levels`, plus the record's own value when it is not one of them (scored as
/// `other`), plus missing.
fn choice(id: String, i: usize, levels: Vec<String>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let w = state.whatif;
    let value = move || {
        w.values
            .with(|v| v.get(i).cloned().flatten().unwrap_or_default())
    };
    let options = move || {
        let mut all = levels.clone();
        let own = [
            w.base.with(|b| b.get(i).cloned().flatten()),
            w.values.with(|v| v.get(i).cloned().flatten()),
        ];
        for v in own.into_iter().flatten() {
            if !all.contains(&v) {
                all.push(v);
            }
        }
        let current = value();
        std::iter::once(
            view! { <option value="" selected=current.is_empty()>"missing"</option> }.into_any(),
        )
        .chain(all.into_iter().map(|l| {
            let selected = l == current;
            let text = l.clone();
            view! { <option value=l selected=selected>{text}</option> }.into_any()
        }))
        .collect_view()
    };
    view! {
        <select id=id prop:value=value on:change=move |ev| w.set_value(i, event_target_value(&ev))>
            {options}
        </select>
    }
}

#[component]
fn Result(threshold: f64) -> impl IntoView {
    let state = expect_context::<AppState>();
    let w = state.whatif;
    let shown = move || {
        w.report.get().map(|(seq, r)| {
            let decision = if r.after.decision {
                format!("contact: at or above the threshold {}", metric(threshold))
            } else {
                format!("no contact: below the threshold {}", metric(threshold))
            };
            let change = (r.probability_change != 0.0).then(|| {
                format!(
                    "{:+.4} from {}",
                    r.probability_change,
                    metric(r.before.probability)
                )
            });
            let missing = (r.missing_fields > 0).then(|| {
                format!("{} of the model's fields are missing and scored as missing.", r.missing_fields)
            });
            let reasons = r
                .reasons
                .iter()
                .map(|x| view! { <li>{x.text.clone()}</li> })
                .collect_view();
            let changes = (!r.changes.is_empty()).then(|| {
                let rows = r
                    .changes
                    .iter()
                    .map(|c| {
                        view! {
                            <tr>
                                <th scope="row">{c.column.clone()}</th>
                                <td>{c.from.clone()}</td>
                                <td>{c.to.clone()}</td>
                                <td class="num">{format!("{:+.4}", c.contribution_before)}</td>
                                <td class="num">{format!("{:+.4}", c.contribution_after)}</td>
                            </tr>
                        }
                    })
                    .collect_view();
                view! {
                    <div class="scroll">
                        <table id="whatif-changes">
                            <caption>"Fields changed"</caption>
                            <thead><tr><th>"Field"</th><th>"From"</th><th>"To"</th><th>"Contribution before"</th><th>"After"</th></tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                }
            });
            view! {
                <p class="headline">
                    "Churn probability "
                    <strong id="whatif-probability" data-value=r.after.probability.to_string() data-seq=seq.to_string()>
                        {metric(r.after.probability)}
                    </strong>
                    {change.map(|c| view! { <span class="hint">" ("{c}")"</span> })}
                </p>
                <p id="whatif-decision">{decision}</p>
                <p id="whatif-band">"Risk band: " {band(r.after.risk_band)}</p>
                {missing.map(|m| view! { <p class="hint">{m}</p> })}
                <h3>"Top reasons"</h3>
                <ol id="whatif-reasons">{reasons}</ol>
                {changes}
            }
        })
    };
    view! {
        <div
            id="whatif-result"
            aria-live="polite"
            aria-busy=move || if w.busy() { "true" } else { "false" }
            data-seq=move || w.report.with(|r| r.as_ref().map(|(s, _)| s.to_string()).unwrap_or_default())
        >
            {shown}
            <h3>"What would change it"</h3>
            <Suggested/>
        </div>
    }
}

#[component]
fn Suggested() -> impl IntoView {
    let state = expect_context::<AppState>();
    let w = state.whatif;
    let apply = move |s: &Suggestion| {
        let Some(form) = w.form.get_untracked() else {
            return;
        };
        w.values.update(|v| {
            for c in &s.changes {
                if let Some(i) = form.fields.iter().position(|f| f.name == c.column) {
                    v[i] = Some(c.to.clone());
                }
            }
        });
        w.changed();
    };
    move || {
        let none_ticked = w.actionable.with(|a| !a.contains(&true));
        if none_ticked {
            return view! { <p id="whatif-suggestion" class="hint">"Tick “can change” on the fields the business can act on."</p> }.into_any();
        }
        match w.suggestion.get().filter(|(s, _)| *s == w.seq.get()) {
            None => {
                view! { <p id="whatif-suggestion" class="hint" aria-busy="true">"Searching…"</p> }
                    .into_any()
            }
            Some((seq, report)) => {
                let steps = report.suggestion.as_ref().map(|s| {
                    s.changes
                        .iter()
                        .map(|c| {
                            view! {
                                <li>{format!("set {} from {} to {} → probability {}", c.column, c.from, c.to, metric(c.probability_after))}</li>
                            }
                        })
                        .collect_view()
                });
                let applicable = report.suggestion.clone().filter(|s| !s.changes.is_empty());
                view! {
                    <div id="whatif-suggestion" data-seq=seq.to_string()>
                        <p>{report.note.clone()}</p>
                        <ol>{steps}</ol>
                        {applicable.map(|s| view! {
                            <button id="whatif-apply" type="button" on:click=move |_| apply(&s)>"Apply these changes"</button>
                        })}
                    </div>
                }
                .into_any()
            }
        }
    }
}
