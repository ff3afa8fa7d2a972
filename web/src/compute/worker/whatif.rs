//! The What-if view's requests: core's `workflow::whatif` (what `ebb whatif` runs) on the
//! current model, with the model's explainer kept between edits.

use std::cell::RefCell;
use std::rc::Rc;

use ebb_core::data::table::is_na;
use ebb_core::insight::explain::Explainer;
use ebb_core::serve::artifact::Artifact;
use ebb_core::workflow::whatif::{self, Edit, Record};

use super::{Response, State, STATE};
use crate::compute::protocol::WhatIfForm;

type Cached = Rc<Explainer<Rc<Artifact>>>;

thread_local! {
    /// The current model's explainer under the model's id: built once per model, since
    /// building its tables costs milliseconds and a what-if edit must answer within a frame.
    static EXPLAINER: RefCell<Option<(String, Cached)>> = const { RefCell::new(None) };
}

fn no_model() -> String {
    "train or upload a model first (Train or Models view)".into()
}

/// The current model's explainer, built on first use (from a copy of the model, which the
/// explainer owns so that it can be kept).
fn explainer(s: &State) -> Result<Cached, String> {
    let artifact = s.current().ok_or_else(no_model)?;
    EXPLAINER.with_borrow_mut(|cache| {
        if let Some((id, e)) = cache.as_ref() {
            if *id == artifact.model_id {
                return Ok(e.clone());
            }
        }
        // The old one goes first: two models need not fit in memory at once.
        *cache = None;
        let e = Rc::new(
            Explainer::new(Rc::new(artifact.clone()))
                .map_err(|e| format!("model {}: {e}", artifact.model_id))?,
        );
        *cache = Some((artifact.model_id.clone(), e.clone()));
        Ok(e)
    })
}

fn failed(seq: u64, message: String) -> Response {
    Response::WhatIfFailed { seq, message }
}

/// A core error in the user's terms: a field's bad value by its field, else as core says it.
fn message(e: ebb_core::Error) -> String {
    whatif::field_error(&e).unwrap_or_else(|| e.to_string())
}

fn record(fields: &[(String, Option<String>)]) -> Record {
    fields
        .iter()
        .map(|(k, v)| {
            let value = v
                .clone()
                .map_or(serde_json::Value::Null, serde_json::Value::String);
            (k.clone(), value)
        })
        .collect()
}

/// The form of the current model, with a customer of the loaded data (by id, else by 1-based
/// data row) or blank.
pub(super) fn start(customer: Option<&str>) -> Response {
    STATE.with_borrow(|s| {
        let Some(artifact) = s.current() else {
            return failed(0, no_model());
        };
        let (record, who) = match customer.map(str::trim) {
            None => (Vec::new(), None),
            Some(wanted) => match customer_record(s, wanted) {
                Ok(found) => found,
                Err(e) => return failed(0, e),
            },
        };
        Response::WhatIfForm(Box::new(WhatIfForm {
            model_id: artifact.model_id.clone(),
            threshold: artifact.threshold,
            fields: whatif::form_fields(artifact),
            record,
            customer: who,
        }))
    })
}

type Found = (Vec<(String, Option<String>)>, Option<String>);

/// A row of the loaded file as raw fields (the target left out), found by its id or row.
fn customer_record(s: &State, wanted: &str) -> Result<Found, String> {
    let (Some(source), Some(prepared)) = (&s.source, &s.prepared) else {
        return Err(
            "load a data file first (Data view) to start from one of its customers, or start from a blank form"
                .into(),
        );
    };
    if wanted.is_empty() {
        return Err("type a row number or a customer id".into());
    }
    let table = &source.table;
    let id_column = prepared
        .schema
        .id_column
        .as_deref()
        .and_then(|c| table.column_index(c));
    let by_id = id_column.and_then(|c| (0..table.n_rows()).find(|&r| table.raw(r, c) == wanted));
    let by_row = || {
        let n: usize = wanted.parse().ok()?;
        (0..table.n_rows()).find(|&r| table.source_row(r) == n)
    };
    let Some(r) = by_id.or_else(by_row) else {
        let ids = if id_column.is_some() {
            " or a customer id"
        } else {
            ""
        };
        return Err(format!(
            "`{wanted}` is not a customer of {}: type a row number from 1 to {}{ids}",
            source.name,
            table.n_rows()
        ));
    };
    let target = prepared.schema.target.as_ref().map(|t| t.name.as_str());
    let fields = table
        .names()
        .iter()
        .enumerate()
        .filter(|(_, name)| Some(name.as_str()) != target)
        .map(|(c, name)| {
            let raw = table.raw(r, c);
            (name.clone(), (!is_na(raw)).then(|| raw.to_string()))
        })
        .collect();
    let mut who = format!("row {}", table.source_row(r));
    if let Some(c) = id_column {
        who.push_str(&format!(" (id {})", table.raw(r, c)));
    }
    Ok((fields, Some(who)))
}

pub(super) fn what_if(seq: u64, fields: &[(String, Option<String>)], edits: &[Edit]) -> Response {
    let explainer = match STATE.with_borrow(explainer) {
        Ok(e) => e,
        Err(e) => return failed(seq, e),
    };
    match whatif::what_if(&explainer, &record(fields), edits, REASONS) {
        Ok(report) => Response::WhatIf {
            seq,
            report: Box::new(report),
        },
        Err(e) => failed(seq, message(e)),
    }
}

pub(super) fn suggest(
    seq: u64,
    fields: &[(String, Option<String>)],
    edits: &[Edit],
    actionable: &[String],
) -> Response {
    let explainer = match STATE.with_borrow(explainer) {
        Ok(e) => e,
        Err(e) => return failed(seq, e),
    };
    match whatif::suggest(&explainer, &record(fields), edits, actionable) {
        Ok(report) => Response::Suggested {
            seq,
            report: Box::new(report),
        },
        Err(e) => failed(seq, message(e)),
    }
}

/// Reasons shown, as `ebb whatif` prints by default.
const REASONS: usize = 5;
