//! The app shell: the state every view reads (signals), the compute worker's answers turned into
//! state changes, and the navigation between views.

use std::cell::OnceCell;

use leptos::prelude::*;

use crate::compute::protocol::{
    AtThreshold, BatchSummary, DataSummary, DecideSummary, DriftSummary, FamilyRow, ModelFile,
    ModelInfo, Progress, Request, Response, RowScore, TrainSummary, TRAINED_HERE,
};
use crate::compute::protocol::{FairnessSummary, SegmentSummary};
use crate::compute::{Cancelling, Compute, Event};
use crate::recent::{self, Recent};
use crate::views::{
    DataView, DecideView, DriftView, EdgeState, EvaluateView, MetricsToken, ModelsView,
    MonitorState, ServiceView, TrainView, WhatIfState, WhatIfView,
};
use crate::views::{ExplainState, ExplainView, FairnessView, SegmentsView};
use ebb_core::progress::Partial;

/// The views, in the order the navigation lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Data,
    Train,
    Evaluate,
    Decide,
    Explain,
    WhatIf,
    Drift,
    Fairness,
    Segments,
    Models,
    Service,
}

impl Tab {
    const ALL: [Tab; 11] = [
        Tab::Data,
        Tab::Train,
        Tab::Evaluate,
        Tab::Decide,
        Tab::Explain,
        Tab::WhatIf,
        Tab::Drift,
        Tab::Fairness,
        Tab::Segments,
        Tab::Models,
        Tab::Service,
    ];

    fn label(self) -> &'static str {
        match self {
            Tab::Data => "Data",
            Tab::Train => "Train",
            Tab::Evaluate => "Evaluate",
            Tab::Decide => "Decide",
            Tab::Explain => "Explain",
            Tab::WhatIf => "What-if",
            Tab::Drift => "Drift",
            Tab::Fairness => "Fairness",
            Tab::Segments => "Segments",
            Tab::Models => "Models",
            Tab::Service => "Service",
        }
    }

    /// The nav button's id is `tab-` and this; the view's title is this and `-title`.
    fn id(self) -> String {
        self.label().to_lowercase().replace('-', "")
    }
}

/// What the page says it is doing between Cancel and the worker's answer.
const CANCELLING: &str = "cancelling";

/// A message above the views: what went wrong and what to do, or what just happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub error: bool,
    pub text: String,
}

/// Everything the views show; each field changes only through the handlers below or a view's
/// own controls.
#[derive(Clone, Copy)]
pub struct AppState {
    pub tab: RwSignal<Tab>,
    /// What the worker is doing for the user, when it is busy.
    pub busy: RwSignal<Option<String>>,
    pub progress: RwSignal<Option<Progress>>,
    pub notice: RwSignal<Option<Notice>>,
    pub data: RwSignal<Option<DataSummary>>,
    pub trained: RwSignal<Option<TrainSummary>>,
    /// Metrics at the Evaluate view's threshold.
    pub at: RwSignal<Option<AtThreshold>>,
    /// Families cross-validated so far by the training that is running.
    pub live: RwSignal<Vec<FamilyRow>>,
    /// The Decide view's last answer (cleared with the model it came from).
    pub decision: RwSignal<Option<DecideSummary>>,
    /// The current model (trained or loaded) and its file.
    pub model: RwSignal<Option<CurrentModel>>,
    /// The models kept in this browser, newest first; `None` until the browser's storage has
    /// been read.
    pub recent: RwSignal<Option<Vec<Recent>>>,
    /// The last customer the current model scored.
    pub row_score: RwSignal<Option<RowScore>>,
    /// The newer batch the worker holds for the Drift view (gone with the worker).
    pub batch: RwSignal<Option<BatchSummary>>,
    /// The Drift view's last report (cleared with the model or batch it came from).
    pub drift: RwSignal<Option<DriftSummary>>,
    /// The Explain view's answers (cleared with the data or model they came from).
    pub explain: ExplainState,
    /// The Fairness view's last audit (cleared with the model or data it came from).
    pub fairness: RwSignal<Option<FairnessSummary>>,
    /// The Segments view's last personas (cleared with the model or data they came from).
    pub segments: RwSignal<Option<SegmentSummary>>,
    /// Set while a new worker reloads the data after Cancel replaced the worker: the current
    /// model is sent to it once the data is back, so no request can come in between.
    resend_after_data: RwSignal<bool>,
    /// The What-if view's form and answers.
    pub whatif: WhatIfState,
}

/// The current model as the page holds it: what it shows, the file to publish, and an object
/// URL of the same bytes for the download link.
#[derive(Debug, Clone, PartialEq)]
pub struct CurrentModel {
    pub info: ModelInfo,
    pub json: std::sync::Arc<str>,
    pub url: String,
}

impl AppState {
    fn new() -> Self {
        AppState {
            tab: RwSignal::new(Tab::Data),
            busy: RwSignal::new(None),
            progress: RwSignal::new(None),
            notice: RwSignal::new(None),
            data: RwSignal::new(None),
            trained: RwSignal::new(None),
            at: RwSignal::new(None),
            live: RwSignal::new(Vec::new()),
            decision: RwSignal::new(None),
            model: RwSignal::new(None),
            recent: RwSignal::new(None),
            row_score: RwSignal::new(None),
            batch: RwSignal::new(None),
            drift: RwSignal::new(None),
            explain: ExplainState::default(),
            fairness: RwSignal::new(None),
            segments: RwSignal::new(None),
            resend_after_data: RwSignal::new(false),
            whatif: WhatIfState::default(),
        }
    }

    /// Marks the worker busy with `what` and clears the last message.
    pub fn start(&self, what: &str) {
        self.notice.set(None);
        self.progress.set(None);
        self.live.set(Vec::new());
        self.busy.set(Some(what.to_string()));
    }

    pub fn error(&self, text: String) {
        self.notice.set(Some(Notice { error: true, text }));
    }

    fn idle(&self) {
        self.busy.set(None);
        self.progress.set(None);
        // Partial results belong to the work that just ended (finished, failed or cancelled).
        self.live.set(Vec::new());
    }

    /// Forgets the Fairness and Segments answers: they were about the model or data replaced.
    fn clear_groups(&self) {
        self.fairness.set(None);
        self.segments.set(None);
    }

    fn on_event(&self, event: Event) {
        match event {
            Event::Response(response) => self.on_response(response),
            Event::Crashed(why) => {
                self.idle();
                self.trained.set(None);
                self.at.set(None);
                self.decision.set(None);
                self.clear_groups();
                // The new worker holds no model: the user picks one again (recent models).
                self.resend_after_data.set(false);
                self.set_model(None);
                self.forget_batch();
                self.error(why);
            }
            Event::Replaced { replaying } => self.on_replaced(replaying),
            Event::Refused(why) => {
                self.idle();
                self.data.set(None);
                self.trained.set(None);
                self.decision.set(None);
                self.clear_groups();
                self.error(why);
            }
        }
    }

    fn on_response(&self, response: Response) {
        match response {
            // The compute module consumes `Ready` and `Done` itself.
            Response::Ready | Response::Done { .. } => {}
            Response::Data(summary) => {
                self.idle();
                self.trained.set(None);
                self.at.set(None);
                self.decision.set(None);
                self.row_score.set(None);
                self.explain.clear();
                self.clear_groups();
                // New data drops the model trained on the old; a loaded model stays.
                self.forget_trained_model();
                self.data.set(Some(*summary));
                self.resend_pending_model();
            }
            Response::Progress(p) => {
                if let Some(Partial::Family {
                    name,
                    cv,
                    fit_seconds,
                }) = &p.partial
                {
                    self.live.update(|rows| {
                        rows.push(FamilyRow {
                            name: name.clone(),
                            cv: cv.clone(),
                            fit_seconds: *fit_seconds,
                        })
                    });
                }
                self.progress.set(Some(p));
            }
            Response::Trained(summary) => {
                self.idle();
                self.decision.set(None);
                self.clear_groups();
                self.at.set(Some(summary.at_threshold.clone()));
                self.trained.set(Some(*summary));
            }
            Response::AtThreshold(at) => self.at.set(Some(at)),
            Response::Decided(decision) => {
                self.idle();
                self.decision.set(Some(*decision));
            }
            Response::Model(file) => {
                self.idle();
                // A decision shown was made with the previous model.
                self.decision.set(None);
                self.clear_groups();
                self.keep_model(*file);
            }
            Response::RowScore(score) => {
                self.idle();
                self.row_score.set(Some(score));
            }
            // The sample and a dependence plot follow in the same request: still busy.
            Response::Importance(summary) => self.explain.importance.set(Some(*summary)),
            Response::ShapSample(sample) => self.explain.sample.set(Some(*sample)),
            Response::Dependence(d) => {
                self.idle();
                self.explain.dependence.set(Some(*d));
            }
            Response::RowExplained(row) => {
                self.idle();
                self.explain.row.set(Some(*row));
            }
            Response::Fairness(audit) => {
                self.idle();
                self.fairness.set(Some(*audit));
            }
            Response::Segments(found) => {
                self.idle();
                self.segments.set(Some(*found));
            }
            Response::Report(file) => {
                self.idle();
                if let Err(e) = crate::views::download(&file.html, &file.name, "text/html") {
                    self.error(format!("the report could not be downloaded: {e:?}"));
                }
            }
            Response::Failed {
                message,
                has_data,
                has_model,
            } => {
                self.ended_without_result(has_data, has_model);
                self.error(message);
            }
            Response::Cancelled {
                stage,
                has_data,
                has_model,
            } => {
                self.ended_without_result(has_data, has_model);
                let kept = if has_data {
                    "; your data is still loaded"
                } else {
                    ""
                };
                self.notice.set(Some(Notice {
                    error: false,
                    text: format!("Cancelled during {stage}{kept}."),
                }));
            }
            Response::Batch(batch) => {
                self.idle();
                self.drift.set(None);
                self.batch.set(Some(batch));
            }
            Response::Drifted(report) => {
                self.idle();
                self.drift.set(Some(*report));
            }
            // Not `idle()`: what-if answers come between the user's other work.
            Response::WhatIfForm(form) => self.whatif.on_form(*form),
            Response::WhatIf { seq, report } => self.whatif.on_report(seq, *report),
            Response::Suggested { seq, report } => self.whatif.on_suggested(seq, *report),
            Response::WhatIfFailed { seq, message } => self.whatif.on_failed(seq, message),
        }
    }

    /// A request failed or was cancelled: the page forgets what the worker no longer holds.
    fn ended_without_result(&self, has_data: bool, has_model: bool) {
        self.idle();
        if !has_data {
            self.data.set(None);
            self.clear_groups();
        }
        // `has_model` speaks of a model trained here: an uploaded one stays current, and so
        // does what was decided with it.
        if !has_model {
            self.trained.set(None);
            self.at.set(None);
            self.forget_trained_model();
        }
        self.resend_pending_model();
    }

    /// The Cancel buttons: asks the worker to stop (see `Compute::cancel`); the page stays
    /// busy until it answers.
    pub fn cancel(&self) {
        match compute().cancel() {
            Cancelling::Asked => self.busy.set(Some(CANCELLING.into())),
            Cancelling::Replaced { replaying } => self.on_replaced(replaying),
            Cancelling::Idle => self.idle(),
        }
    }

    /// Whether Cancel has something to stop: the worker is busy and not already stopping.
    pub fn can_cancel(&self) -> bool {
        self.busy
            .with(|b| b.as_deref().is_some_and(|b| b != CANCELLING))
    }

    /// Cancel terminated the worker and started a new one.
    fn on_replaced(&self, replaying: bool) {
        self.resend_model(replaying);
        self.idle();
        let text = if replaying {
            self.busy
                .set(Some("loading the data into a new worker".into()));
            "Cancelled: the compute worker was stopped and replaced; your data is being loaded into the new one."
        } else {
            "Cancelled: the compute worker was stopped and replaced."
        };
        self.notice.set(Some(Notice {
            error: false,
            text: text.into(),
        }));
    }

    /// Replaces the current model, releasing the old download link's bytes.
    fn set_model(&self, model: Option<CurrentModel>) {
        if let Some(old) = self.model.get_untracked() {
            let _ = web_sys::Url::revoke_object_url(&old.url);
        }
        self.row_score.set(None);
        // A drift report was measured against the previous model's training data.
        self.drift.set(None);
        self.whatif.clear();
        self.explain.clear();
        self.model.set(model);
    }

    /// The worker was replaced: the batch it held is gone, and the report about it with it.
    fn forget_batch(&self) {
        self.batch.set(None);
        self.drift.set(None);
    }

    /// After Cancel replaced the worker the new one holds no model: a loaded one is sent to it
    /// again (after the data when `replaying`), one trained here goes with the training it came
    /// from (the data's reload drops it). After a crash nothing is resent: the model may be
    /// what crashed it.
    fn resend_model(&self, replaying: bool) {
        // The batch is not sent again: the user chooses it once more.
        self.forget_batch();
        if replaying {
            self.resend_after_data.set(true);
        } else {
            self.send_model();
        }
    }

    fn resend_pending_model(&self) {
        if self.resend_after_data.get_untracked() {
            self.resend_after_data.set(false);
            self.send_model();
        }
    }

    fn send_model(&self) {
        if let Some(m) = self
            .model
            .get_untracked()
            .filter(|m| m.info.origin != TRAINED_HERE)
        {
            compute().send(Request::UseModel {
                name: m.info.origin,
                json: m.json.to_string(),
            });
        }
    }

    fn forget_trained_model(&self) {
        if self
            .model
            .with_untracked(|m| m.as_ref().is_some_and(|m| m.info.origin == TRAINED_HERE))
        {
            // What the Decide, Fairness and Segments views show was found with it.
            self.decision.set(None);
            self.clear_groups();
            self.set_model(None);
        }
    }

    /// Makes `file` the current model and keeps it in the browser's recent models.
    fn keep_model(&self, file: ModelFile) {
        let ModelFile { info, json } = file;
        let url = match object_url(&json) {
            Ok(url) => url,
            Err(e) => return self.error(e),
        };
        let kept = Recent {
            id: info.id.clone(),
            family: info.family.clone(),
            created_at: info.created_at.clone(),
            cv_roc_auc: info.cv_roc_auc,
            saved_at_ms: js_sys::Date::now(),
        };
        let json: std::sync::Arc<str> = json.into();
        self.set_model(Some(CurrentModel {
            info,
            json: json.clone(),
            url,
        }));
        let state = *self;
        leptos::task::spawn_local(async move {
            let saved = recent::save(&kept, &json).await;
            state.refresh_recent().await;
            if let Err(e) = saved {
                state.error(format!("{e}; the model is current but not kept for later"));
            }
        });
    }

    /// Reads the recent models from the browser again.
    pub async fn refresh_recent(&self) {
        match recent::list().await {
            Ok(list) => self.recent.set(Some(list)),
            Err(e) => {
                self.recent.set(Some(Vec::new()));
                self.error(e);
            }
        }
    }
}

/// An object URL of `json` as a file, for a download link.
fn object_url(json: &str) -> Result<String, String> {
    let parts = js_sys::Array::of1(&json.into());
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/json");
    web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)
        .and_then(|blob| web_sys::Url::create_object_url_with_blob(&blob))
        .map_err(|e| format!("the browser could not prepare the model file for download: {e:?}"))
}

thread_local! {
    static COMPUTE: OnceCell<Compute> = const { OnceCell::new() };
}

/// The page's handle on the compute worker.
pub fn compute() -> Compute {
    COMPUTE
        .with(|c| c.get().cloned())
        .expect("compute worker started in mount")
}

/// Starts the compute worker and mounts the app.
pub fn mount(worker_script: String) {
    leptos::mount::mount_to_body(move || {
        let state = AppState::new();
        let started = Compute::start(&worker_script, move |event| state.on_event(event));
        COMPUTE.with(|c| {
            c.get_or_init(move || started);
        });
        provide_context(state);
        provide_context(EdgeState::default());
        provide_context(MetricsToken(RwSignal::new(None)));
        provide_context(MonitorState::default());
        leptos::task::spawn_local(async move { state.refresh_recent().await });
        view! { <App/> }
    });
}

#[component]
fn App() -> impl IntoView {
    let state = expect_context::<AppState>();
    let tabs = Tab::ALL.map(|tab| {
        view! {
            <button
                type="button"
                id=format!("tab-{}", tab.id())
                aria-current=move || (state.tab.get() == tab).then_some("page")
                on:click=move |_| state.tab.set(tab)
            >
                {tab.label()}
            </button>
        }
    });
    view! {
        <header>
            <h1>"Ebb"</h1>
            <nav aria-label="Views">{tabs}</nav>
        </header>
        <p id="busy" role="status" aria-live="polite">
            {move || state.busy.get().map(|b| format!("Working: {b}…")).unwrap_or_default()}
        </p>
        {move || {
            state
                .notice
                .get()
                .map(|n| {
                    view! {
                        <p id="notice" role="alert" class=if n.error { "error" } else { "info" }>
                            {n.text}
                        </p>
                    }
                })
        }}
        <main>
            {move || match state.tab.get() {
                Tab::Data => view! { <DataView/> }.into_any(),
                Tab::Train => view! { <TrainView/> }.into_any(),
                Tab::Evaluate => view! { <EvaluateView/> }.into_any(),
                Tab::Decide => view! { <DecideView/> }.into_any(),
                Tab::Drift => view! { <DriftView/> }.into_any(),
                Tab::WhatIf => view! { <WhatIfView/> }.into_any(),
                Tab::Explain => view! { <ExplainView/> }.into_any(),
                Tab::Fairness => view! { <FairnessView/> }.into_any(),
                Tab::Segments => view! { <SegmentsView/> }.into_any(),
                Tab::Models => view! { <ModelsView/> }.into_any(),
                Tab::Service => view! { <ServiceView/> }.into_any(),
            }}
        </main>
    }
}
