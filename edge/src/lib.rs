//! Ebb's edge API without a runtime attached.
//!
//! Everything the Cloudflare Worker (`worker/`) decides lives here as plain Rust that runs and
//! is tested natively: routing, who may call what (tokens, and browser origins through CORS),
//! reading and bounding requests, scoring and explaining a customer with a loaded artifact, the
//! model registry's rules, A/B arms, Prometheus metrics and the monitoring report over logged
//! predictions. The worker crate only moves bytes between these functions and Workers KV, D1,
//! `fetch` and the clock. Because the worker and the CLI both score through
//! `ebb_core::serve::scorer::Scorer`, the edge serves exactly what `ebb score` computes.

pub mod auth;
pub mod cors;
pub mod error;
pub mod experiment;
pub mod labels;
pub mod metrics;
pub mod model;
pub mod monitoring;
pub mod registry;
pub mod request;
pub mod route;

pub use error::{ApiError, ErrorCode};
