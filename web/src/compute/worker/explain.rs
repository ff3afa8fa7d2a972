//! The Explain view's requests: core's `Explainer` on the current model and the loaded file,
//! called as `ebb explain` calls it (`global_importance` with its `--sample`, `find_row` and
//! `explain_row` for `--row`), plus the summary plot's sample and dependence data.

use ebb_core::insight::explain::{find_row, Explainer};
use ebb_core::progress::Reporter;
use ebb_core::serve::artifact::Artifact;

use super::{post, progress_sink, Source, State, STATE};
use crate::compute::protocol::{ImportanceSummary, Response, RowExplanation};

/// Points of a dependence plot: evenly spaced rows, enough to see the shape, few enough to draw.
const DEPENDENCE_POINTS: usize = 1000;

/// The current model and the loaded file, or what to do first.
fn inputs(s: &State) -> Result<(&Artifact, &Source), String> {
    let artifact = s
        .current()
        .ok_or("train or upload a model first (Train or Models view)")?;
    let source = s
        .source
        .as_ref()
        .ok_or("load a data file first (Data view): its rows are the customers explained")?;
    Ok((artifact, source))
}

fn explainer(artifact: &Artifact) -> Result<Explainer<&Artifact>, String> {
    Explainer::new(artifact).map_err(|e| format!("model {}: {e}", artifact.model_id))
}

/// Global importance on at most `rows` rows (posted as soon as it is done), the summary plot's
/// sample of `sample` rows drawn with `seed` (posted too), then the dependence plot of the most
/// important field; core's progress goes to the page throughout.
pub(super) fn explain(rows: usize, sample: usize, seed: u64) -> Result<Response, String> {
    STATE.with_borrow(|s| {
        let (artifact, source) = inputs(s)?;
        let explainer = explainer(artifact)?;
        let table = &source.table;
        let mut sink = progress_sink();
        let importance = explainer
            .global_importance(table, rows, &mut Reporter::new(&mut sink))
            .map_err(|e| format!("{}: {e}", source.name))?;
        let top = importance.columns.first().map(|c| c.column.clone());
        if importance.rows == 0 {
            return Err(format!(
                "{}: no row fits the model's schema (see the Data view's report)",
                source.name
            ));
        }
        post(&Response::Importance(Box::new(ImportanceSummary {
            model_id: artifact.model_id.clone(),
            space: importance.space,
            base_value: explainer.base_value(),
            rows: importance.rows,
            skipped: importance.skipped,
            columns: importance.columns,
        })));
        let mut sink = progress_sink();
        let sample = explainer
            .shap_sample(table, sample, seed, &mut Reporter::new(&mut sink))
            .map_err(|e| format!("{}: {e}", source.name))?;
        post(&Response::ShapSample(Box::new(sample)));
        let top =
            top.ok_or_else(|| format!("model {}: it has no input fields", artifact.model_id))?;
        let d = explainer
            .dependence(table, &top, DEPENDENCE_POINTS)
            .map_err(|e| format!("{}: {e}", source.name))?;
        Ok(Response::Dependence(Box::new(d)))
    })
}

pub(super) fn dependence(column: &str) -> Result<Response, String> {
    STATE.with_borrow(|s| {
        let (artifact, source) = inputs(s)?;
        let d = explainer(artifact)?
            .dependence(&source.table, column, DEPENDENCE_POINTS)
            .map_err(|e| format!("{}: {e}", source.name))?;
        Ok(Response::Dependence(Box::new(d)))
    })
}

/// The customer `query` names, explained: core's `find_row` (an id of the model's id column,
/// else a row number) and `explain_row`, as `ebb explain --row` runs them.
pub(super) fn explain_row(query: &str) -> Result<Response, String> {
    STATE.with_borrow(|s| {
        let (artifact, source) = inputs(s)?;
        let table = &source.table;
        let id_column = artifact.schema.id_column.as_deref();
        let found =
            find_row(table, id_column, query).map_err(|e| format!("{}: {e}", source.name))?;
        let explanation = explainer(artifact)?
            .explain_row(table, found.index)
            .map_err(|e| format!("{}: {e}", source.name))?;
        let id = id_column.and_then(|c| {
            table
                .column_index(c)
                .map(|i| (c.to_string(), table.raw(found.index, i).trim().to_string()))
        });
        Ok(Response::RowExplained(Box::new(RowExplanation {
            query: query.trim().to_string(),
            row: found.source_row,
            by: found.by,
            id,
            model_id: artifact.model_id.clone(),
            threshold: artifact.threshold,
            explanation,
        })))
    })
}
