//! The Drift view's requests: hold a newer batch (uploaded, or generated with an injected shift
//! as `ebb generate --drift` does) beside the training data, and compare it with the current
//! model's training reference through core's `monitor::drift_of_table`, the function `ebb drift
//! MODEL CURRENT --bootstrap N --seed S` calls, with the same parameters.

use ebb_core::data::synth::{generate_table, SynthParams};
use ebb_core::monitor::{drift_of_table, DriftParams, TableDrift};
use ebb_core::progress::Reporter;
use ebb_core::serve::artifact::{data_hash, Artifact};
use ebb_core::serve::drift::{Bins, ColumnSketch, SCORE_BINS};

use super::{progress_sink, read_table, Source, STATE};
use crate::compute::protocol::{BatchSummary, BinnedCounts, DriftSummary, Response};

/// Unscored rows listed with their reasons (all are counted), as `ebb drift --json` lists them.
const UNSCORED_LISTED: usize = 10;

fn hold(source: Source) -> Response {
    let summary = BatchSummary {
        name: source.name.clone(),
        rows: source.table.n_rows(),
        columns: source.table.n_cols(),
    };
    STATE.with_borrow_mut(|s| s.batch = Some(source));
    Response::Batch(summary)
}

/// Reads an uploaded batch as the CLI reads `CURRENT` (JSON for `.json`, CSV otherwise). A
/// file that does not parse leaves the batch held before, if any.
pub(super) fn load_batch(name: String, bytes: &[u8]) -> Result<Response, String> {
    let table = read_table(&name, bytes)?;
    if table.n_rows() == 0 {
        return Err(format!(
            "{name}: the file has a header but no rows to compare"
        ));
    }
    let hash = data_hash(bytes);
    Ok(hold(Source { name, table, hash }))
}

/// Generates a batch as `ebb generate --rows --seed --drift` writes it (core checks the drift
/// strength is in 0..1).
pub(super) fn generate_batch(rows: usize, seed: u64, drift: f64) -> Result<Response, String> {
    let params = SynthParams::default()
        .with_n_customers(rows)
        .with_seed(seed)
        .with_drift(drift);
    let table = generate_table(&params).map_err(|e| format!("generating the batch: {e}"))?;
    let hash =
        data_hash(format!("ebb generate --rows {rows} --seed {seed} --drift {drift}").as_bytes());
    let name = format!(
        "generated: {} customers, seed {seed}, drift {drift}",
        crate::format::count(rows)
    );
    Ok(hold(Source { name, table, hash }))
}

/// A numeric edge short enough for an axis label.
fn edge(x: f64) -> String {
    let text = format!("{x:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

/// What each bin of `bins` holds, in the order of its counts: `≤ e0`, `e0–e1`, …, `> eₙ` for a
/// numeric column (upper edges are inclusive); the training levels then `other` (levels the
/// model never saw) for a categorical one.
fn bin_names(bins: &Bins) -> Vec<String> {
    match bins {
        Bins::Numeric { upper_edges } => {
            let Some((first, last)) = upper_edges.first().zip(upper_edges.last()) else {
                return vec!["all values".into()];
            };
            std::iter::once(format!("≤ {}", edge(*first)))
                .chain(
                    upper_edges
                        .windows(2)
                        .map(|w| format!("{}–{}", edge(w[0]), edge(w[1]))),
                )
                .chain(std::iter::once(format!("> {}", edge(*last))))
                .collect()
        }
        Bins::Categorical { levels } => levels
            .iter()
            .cloned()
            .chain(std::iter::once("other".to_string()))
            .collect(),
    }
}

fn binned(reference: &ColumnSketch, current: &ColumnSketch) -> BinnedCounts {
    BinnedCounts {
        name: reference.name.clone(),
        bins: bin_names(&reference.bins),
        reference: reference.counts.clone(),
        current: current.counts.clone(),
        reference_missing: reference.missing,
        current_missing: current.missing,
    }
}

/// The report with the counts it was computed from, columns in the report's order.
fn summarise(
    artifact: &Artifact,
    batch: &Source,
    d: TableDrift,
    bootstrap: usize,
    seed: u64,
) -> DriftSummary {
    let reference = &artifact.reference;
    let columns = d
        .report
        .columns
        .iter()
        .filter_map(|c| {
            let i = reference.columns.iter().position(|r| r.name == c.name)?;
            Some(binned(&reference.columns[i], &d.window.columns[i].sketch))
        })
        .collect();
    // Twenty bins named by their lower end: whole ranges would not fit under the bars.
    let step = 1.0 / SCORE_BINS as f64;
    let scores = BinnedCounts {
        name: "score".into(),
        bins: (0..SCORE_BINS)
            .map(|i| format!("{:.2}", i as f64 * step))
            .collect(),
        reference: reference.scores.counts.clone(),
        current: d.window.scores.counts.clone(),
        reference_missing: 0,
        current_missing: d.unscored.len() as u64,
    };
    DriftSummary {
        batch: batch.name.clone(),
        bootstrap,
        seed,
        unscored: d.unscored.len(),
        unscored_examples: d.unscored.into_iter().take(UNSCORED_LISTED).collect(),
        performance_note: d.performance_note,
        report: d.report,
        columns,
        scores,
    }
}

/// `ebb drift MODEL BATCH --bootstrap N --seed S` on the held batch with the current model
/// (trained here or uploaded), progress posted as core reports it.
pub(super) fn drift_current(bootstrap: usize, seed: u64) -> Result<Response, String> {
    STATE.with_borrow(|s| {
        let artifact = s
            .current()
            .ok_or("train or upload a model first (Train or Models view): drift is measured against its training data")?;
        let batch = s
            .batch
            .as_ref()
            .ok_or("upload or generate a newer batch first")?;
        let params = DriftParams::default()
            .with_n_boot(bootstrap)
            .with_seed(seed);
        let mut sink = progress_sink();
        let d = drift_of_table(
            artifact,
            &batch.table,
            &params,
            &mut Reporter::new(&mut sink),
        )
        .map_err(|e| format!("{}: {e}", batch.name))?;
        Ok(Response::Drifted(Box::new(summarise(
            artifact, batch, d, bootstrap, seed,
        ))))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_are_named_in_count_order() {
        let numeric = Bins::Numeric {
            upper_edges: vec![-0.0, 2.5, 10.0],
        };
        assert_eq!(bin_names(&numeric), ["≤ 0", "0–2.5", "2.5–10", "> 10"]);
        let categorical = Bins::Categorical {
            levels: vec!["basic".into(), "pro".into()],
        };
        assert_eq!(bin_names(&categorical), ["basic", "pro", "other"]);
    }
}
