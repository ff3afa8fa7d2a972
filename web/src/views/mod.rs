//! One component per view.

mod data;
mod decide;
mod evaluate;
mod service;
mod train;

pub use data::DataView;
pub use decide::DecideView;
pub use evaluate::EvaluateView;
pub use service::ServiceView;
pub use train::TrainView;
