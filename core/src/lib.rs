//! Ebb's engine: every algorithm the CLI, the edge worker and the browser share.
//!
//! The crate is `#![no_std]` with `alloc` so the same code compiles to native and to
//! `wasm32-unknown-unknown`. All transcendental maths goes through `libm`, so a given seed
//! gives the same model and the same scores bit for bit on every target.
//!
//! Data flows one way: bytes → [`ingest`] → [`table::Table`] → [`schema`] (types, quality)
//! → [`features`] (fitted pipeline) → matrix → [`model`] → [`artifact`].
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod artifact;
pub mod calibrate;
pub mod datetime;
pub mod decision;
pub mod drift;
pub mod error;
pub mod events;
pub mod explain;
pub mod fairness;
pub mod features;
pub mod ingest;
pub mod metrics;
pub mod model;
pub mod monitor;
pub mod quality;
pub mod report;
pub mod rng;
pub mod schema;
pub mod scorer;
pub mod segment;
pub mod split;
pub mod synth;
pub mod table;
pub mod train;
pub mod tune;

pub use error::{Error, Result};
