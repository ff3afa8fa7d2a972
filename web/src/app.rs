//! The app shell: the state every view reads (signals), the compute worker's answers turned into
//! state changes, and the navigation between views.

use std::cell::OnceCell;

use leptos::prelude::*;

use crate::compute::protocol::{
    AtThreshold, DataSummary, DecideSummary, Progress, Response, TrainSummary,
};
use crate::compute::{Compute, Event};
use crate::views::{DataView, DecideView, EvaluateView, ServiceView, TrainView};

/// The views, in the order the navigation lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Data,
    Train,
    Evaluate,
    Decide,
    Service,
}

impl Tab {
    const ALL: [Tab; 5] = [
        Tab::Data,
        Tab::Train,
        Tab::Evaluate,
        Tab::Decide,
        Tab::Service,
    ];

    fn label(self) -> &'static str {
        match self {
            Tab::Data => "Data",
            Tab::Train => "Train",
            Tab::Evaluate => "Evaluate",
            Tab::Decide => "Decide",
            Tab::Service => "Service",
        }
    }
}

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
    /// The Decide view's last answer (cleared with the model it came from).
    pub decision: RwSignal<Option<DecideSummary>>,
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
            decision: RwSignal::new(None),
        }
    }

    /// Marks the worker busy with `what` and clears the last message.
    pub fn start(&self, what: &str) {
        self.notice.set(None);
        self.progress.set(None);
        self.busy.set(Some(what.to_string()));
    }

    pub fn error(&self, text: String) {
        self.notice.set(Some(Notice { error: true, text }));
    }

    fn idle(&self) {
        self.busy.set(None);
        self.progress.set(None);
    }

    fn on_event(&self, event: Event) {
        match event {
            Event::Response(response) => self.on_response(response),
            Event::Crashed(why) => {
                self.idle();
                self.trained.set(None);
                self.at.set(None);
                self.decision.set(None);
                self.error(why);
            }
            Event::Refused(why) => {
                self.idle();
                self.data.set(None);
                self.trained.set(None);
                self.decision.set(None);
                self.error(why);
            }
        }
    }

    fn on_response(&self, response: Response) {
        match response {
            // The compute module consumes `Ready` itself.
            Response::Ready => {}
            Response::Data(summary) => {
                self.idle();
                self.trained.set(None);
                self.at.set(None);
                self.decision.set(None);
                self.data.set(Some(*summary));
            }
            Response::Progress(p) => self.progress.set(Some(p)),
            Response::Trained(summary) => {
                self.idle();
                self.decision.set(None);
                self.at.set(Some(summary.at_threshold.clone()));
                self.trained.set(Some(*summary));
            }
            Response::AtThreshold(at) => self.at.set(Some(at)),
            Response::Decided(decision) => {
                self.idle();
                self.decision.set(Some(*decision));
            }
            Response::Failed {
                message,
                has_data,
                has_model,
            } => {
                self.idle();
                if !has_data {
                    self.data.set(None);
                }
                if !has_model {
                    self.trained.set(None);
                    self.at.set(None);
                    self.decision.set(None);
                }
                self.error(message);
            }
        }
    }
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
                id=format!("tab-{}", tab.label().to_lowercase())
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
                Tab::Service => view! { <ServiceView/> }.into_any(),
            }}
        </main>
    }
}
