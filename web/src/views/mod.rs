//! One component per view.

mod data;
mod decide;
mod evaluate;
mod explain;
mod models;
mod service;
mod train;

pub use data::DataView;
pub use decide::DecideView;
pub use evaluate::EvaluateView;
pub use explain::{ExplainState, ExplainView};
pub use models::{EdgeState, ModelsView};
pub use service::{MetricsToken, ServiceView};
pub use train::TrainView;
