//! One component per view.

mod data;
mod decide;
mod evaluate;
mod models;
mod service;
mod train;
mod whatif;

pub use data::DataView;
pub use decide::DecideView;
pub use evaluate::EvaluateView;
pub use models::{EdgeState, ModelsView};
pub use service::{MetricsToken, ServiceView};
pub use train::TrainView;
pub use whatif::{WhatIfState, WhatIfView};
