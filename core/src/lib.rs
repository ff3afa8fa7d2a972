//! Ebb's engine: every algorithm the CLI, the edge worker and the browser share.
//!
//! The crate is `#![no_std]` with `alloc` so the same code compiles to native and to
//! `wasm32-unknown-unknown`. All transcendental maths goes through `libm`, so a given seed
//! gives the same model and the same scores bit for bit on every target.
//!
//! The folders follow the flow; a module imports only from stages above it in this table:
//!
//! | stage | modules | what happens |
//! |---|---|---|
//! | [`data`] | ingest, table, schema, quality, datetime, events, split, synth | bytes → [`data::table::Table`] → inferred schema, quality report, folds |
//! | [`features`] | | the fitted pipeline: raw fields → model matrix, the same in training and serving |
//! | [`metrics`] | | ROC/PR-AUC, log loss, calibration, bootstrap intervals (low: quality's leakage check uses it) |
//! | [`model`] | logistic, forest, boosting, trees, calibration | matrices in, fitted models out |
//! | [`eval`] | decision, fairness | scores → thresholds by business cost, per-group rates |
//! | [`serve`] | artifact, scorer, drift references | the saved model, validated on load, and the one scoring path |
//! | [`train`] | train, tune | cross-validation, family choice, calibration, threshold → artifact |
//! | [`insight`] | explain, segment | TreeSHAP, what-if, global importance, customer segments |
//! | [`monitor`] | statistics, windows, drift verdicts, report, html | drift of new data and served traffic; the model report and its HTML page |
//! | [`workflow`] | prepare, hold out, train, evaluate | the steps every face calls, one function each |
//!
//! Errors are one typed [`Error`]; randomness is one seeded [`rng`]; long work reports and can be
//! cancelled through one [`progress::Reporter`].
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod data;
pub mod error;
pub mod eval;
pub mod features;
pub mod insight;
pub mod map_struct;
pub mod metrics;
pub mod model;
pub mod monitor;
pub mod order;
pub mod progress;
pub mod rng;
pub mod serve;
mod tagged;
pub mod train;
pub mod workflow;

pub use error::{Error, ErrorKind, Result};

/// Helpers shared by the unit tests of several modules.
#[cfg(test)]
pub(crate) mod testing {
    use serde::de::DeserializeOwned;
    use serde::Serialize;

    /// Asserts that `value` comes back unchanged from JSON, as a web page receives and returns
    /// it (compared as JSON values, so types without `PartialEq` are checked too).
    pub fn assert_round_trip<T: Serialize + DeserializeOwned>(value: &T) {
        let json = serde_json::to_value(value).expect("serialises");
        let back: T = serde_json::from_value(json.clone()).expect("deserialises");
        assert_eq!(serde_json::to_value(&back).unwrap(), json);
    }
}
