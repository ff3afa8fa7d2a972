//! The Fairness and Segments views' requests, and the model report: core's `workflow::fairness`,
//! `workflow::segments` and `monitor::report` on the loaded file as read (every row of it, as
//! `ebb fairness|segment|report MODEL DATA` read DATA) with the current model.

use ebb_core::monitor::report::{build_report, ReportParams};
use ebb_core::progress::Reporter;
use ebb_core::serve::artifact::Artifact;
use ebb_core::workflow::{self, FairnessOptions, SegmentOptions};

use super::{progress_sink, Source, State, STATE};
use crate::compute::protocol::{FairnessSummary, ReportFile, Response, SegmentSummary};

/// The current model and the loaded file, or what the user should do to have them.
fn model_and_data(s: &State) -> Result<(&Artifact, &Source), String> {
    let artifact = s
        .current()
        .ok_or("train or upload a model first (Train or Models view)")?;
    let source = s
        .source
        .as_ref()
        .ok_or("load a data file first (Data view): its rows are the customers")?;
    Ok((artifact, source))
}

/// `ebb fairness MODEL DATA --by COLUMN [--min-ratio R] [--min-group-size N]`.
pub(super) fn fairness(options: &FairnessOptions) -> Result<Response, String> {
    STATE.with_borrow(|s| {
        let (artifact, source) = model_and_data(s)?;
        let audit = workflow::fairness(artifact, &source.table, options)
            .map_err(|e| format!("{}: {e}", source.name))?;
        Ok(Response::Fairness(Box::new(FairnessSummary {
            options: options.clone(),
            model_id: audit.model_id,
            report: audit.report,
            skipped: audit.skipped.len(),
        })))
    })
}

/// `ebb segment MODEL DATA [--k K] [--value V | --value-column C --horizon-months H]`.
pub(super) fn segment(options: &SegmentOptions) -> Result<Response, String> {
    STATE.with_borrow(|s| {
        let (artifact, source) = model_and_data(s)?;
        let found = workflow::segments(artifact, &source.table, options)
            .map_err(|e| format!("{}: {e}", source.name))?;
        let mut segmentation = found.segmentation;
        // One id per customer is not shown and would be the largest part of the message.
        segmentation.assignments = Vec::new();
        Ok(Response::Segments(Box::new(SegmentSummary {
            options: options.clone(),
            model_id: found.model_id,
            customers: found.customers,
            skipped: found.skipped.len(),
            segmentation,
        })))
    })
}

/// `ebb report MODEL DATA --out report.html [--by COLUMN]`: the same page, byte for byte.
pub(super) fn report(by: Option<String>) -> Result<Response, String> {
    STATE.with_borrow(|s| {
        let (artifact, source) = model_and_data(s)?;
        let mut sink = progress_sink();
        let report = build_report(
            artifact,
            &source.table,
            &ReportParams::default().with_by(by),
            &mut Reporter::new(&mut sink),
        )
        .map_err(|e| format!("{}: {e}", source.name))?;
        Ok(Response::Report(Box::new(ReportFile {
            name: format!("report-{}.html", artifact.model_id),
            html: report.to_html(),
        })))
    })
}
