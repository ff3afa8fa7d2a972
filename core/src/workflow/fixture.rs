//! A prepared table of generated customers and a model trained on it, for the workflow tests.

use alloc::string::String;

use super::{prepare, train, PrepareOptions, RunInfo};
use crate::data::synth::{generate_table, SynthParams};
use crate::data::table::Table;
use crate::progress::Reporter;
use crate::serve::artifact::Artifact;
use crate::train::TrainParams;

/// `rows` generated customers (seed `seed`), their clean table and a model trained on it with
/// `params`.
pub(crate) fn trained(rows: usize, seed: u64, params: &TrainParams) -> (Table, Artifact) {
    let table = generate_table(
        &SynthParams::default()
            .with_n_customers(rows)
            .with_seed(seed),
    )
    .unwrap();
    let options = PrepareOptions {
        target: Some("churn".into()),
        require_target: true,
        ..PrepareOptions::default()
    };
    let prepared = prepare(table, String::new(), &options, &mut Reporter::silent()).unwrap();
    let trained = train(
        &prepared,
        params,
        &RunInfo::default(),
        &|| None,
        &mut Reporter::silent(),
    )
    .unwrap();
    (prepared.clean, trained.artifact)
}
