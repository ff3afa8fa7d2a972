//! Turning scores into action and checking them: business-cost [`decision`]s (thresholds, profit,
//! capacity) and per-group [`fairness`] rates.
pub mod decision;
pub mod fairness;
