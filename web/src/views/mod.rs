//! One component per view.

mod data;
mod decide;
mod drift;
mod evaluate;
mod explain;
mod fairness;
mod models;
mod monitor;
mod segments;
mod service;
mod train;
mod whatif;

pub use data::DataView;
pub(crate) use decide::download;
pub use decide::DecideView;
pub use drift::DriftView;
pub use evaluate::EvaluateView;
pub use explain::{ExplainState, ExplainView};
pub use fairness::FairnessView;
pub use models::{EdgeState, ModelsView};
pub use monitor::MonitorState;
pub use segments::SegmentsView;
pub use service::{MetricsToken, ServiceView};
pub use train::TrainView;
pub use whatif::{WhatIfState, WhatIfView};
