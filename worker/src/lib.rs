//! Ebb's edge API as a Cloudflare Worker.
//!
//! This crate only binds [`ebb_edge`] to the Workers runtime: it reads and writes the model
//! registry in Workers KV (`MODELS`), logs predictions and labels to D1 (`EBB`) off the response
//! path with `wait_until`, keeps a per-isolate cache of parsed models and Prometheus counters,
//! and runs the daily monitoring check from the cron trigger. Every decision (routing,
//! validation, auth, scoring, arms, registry rules, drift) is made in `ebb_edge` and
//! `ebb_core`, where it is tested natively.

#[cfg(target_arch = "wasm32")]
mod handlers;
#[cfg(target_arch = "wasm32")]
mod kv;
#[cfg(target_arch = "wasm32")]
mod store;
