//! One component per view.

mod data;
mod decide;
mod evaluate;
mod fairness;
mod models;
mod segments;
mod service;
mod train;

pub use data::DataView;
pub(crate) use decide::download;
pub use decide::DecideView;
pub use evaluate::EvaluateView;
pub use fairness::FairnessView;
pub use models::{EdgeState, ModelsView};
pub use segments::SegmentsView;
pub use service::{MetricsToken, ServiceView};
pub use train::TrainView;
