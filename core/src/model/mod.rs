//! Models. Every family follows one pattern: a `Params` struct with defaults and builder
//! methods, `Params::fit(x, y, weights) -> Fitted`, and a fitted model that only predicts.
//!
//! Inputs are dense row-major `f64` matrices (`ndarray::ArrayView2`) with `NaN` for missing
//! values, labels are `0.0`/`1.0`, and optional per-row weights carry class weighting.
//! Models know nothing of column names: [`crate::features`] sits between tables and models.

pub mod binning;
pub mod boost;
pub mod tree;
