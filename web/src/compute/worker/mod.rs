//! The compute worker's side: it holds the data set and the last trained model, and answers the
//! page's requests by calling core — the same functions, with the same parameters, as the CLI's
//! `ebb validate`, `ebb train` and `ebb decide`. Everything here runs inside the dedicated Web Worker, so the
//! page stays responsive however long core takes.
//!
//! Handlers for one view each may live in files beside this one (child modules see `State`).

mod drift;
mod groups;
mod whatif;

use std::cell::{Cell, RefCell};

mod explain;

use ebb_core::data::ingest::{read_csv, read_json, CsvOptions};
use ebb_core::data::synth::{generate_table, SynthParams};
use ebb_core::data::table::Table;
use ebb_core::metrics::{curves, ThresholdIndex};
use ebb_core::model::family::Family;
use ebb_core::progress::{Control, Reporter};
use ebb_core::serve::artifact::{data_hash, Artifact};
use ebb_core::serve::scorer::Scorer;
use ebb_core::train::tune::{TuneOutput, TuneParams};
use ebb_core::train::{labels, TrainParams};
use ebb_core::workflow::{self, DecideOptions, PrepareOptions, Prepared, RunInfo};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use super::protocol::{
    AtThreshold, Columns, DataSummary, DecideSummary, FamilyRow, ModelFile, ModelInfo, Progress,
    Request, Response, RowScore, TrainSettings, TrainSummary, TuningSummary, TRAINED_HERE,
};

/// Rows of raw cells the Data view previews.
const PREVIEW_ROWS: usize = 10;
/// Set-aside rows listed with reasons (all are counted).
const SET_ASIDE_LISTED: usize = 50;
/// Contacts the Decide view lists (all of them are in the CSV).
const CONTACTS_LISTED: usize = 50;
/// Unscorable rows the Decide view lists (all are counted), as `ebb decide` prints them.
const SKIPPED_LISTED: usize = 10;

/// A file read into a table, before any schema.
struct Source {
    name: String,
    table: Table,
    hash: String,
}

/// The last trained model: its artifact (to score with) and its out-of-fold probabilities,
/// sorted once so that each threshold question costs a binary search, not a pass over the rows.
struct Scored {
    artifact: Artifact,
    index: ThresholdIndex,
}

#[derive(Default)]
struct State {
    source: Option<Source>,
    prepared: Option<Prepared>,
    scored: Option<Scored>,
    /// Set by an upload, cleared by training: the current model is this one when set, else
    /// the trained one. It outlives data loads, as a model file does not depend on them.
    uploaded: Option<Artifact>,
    /// A newer batch for the Drift view, held beside the data (loading data keeps it).
    batch: Option<Source>,
}

impl State {
    /// The model the Models and Decide views score with: an uploaded one, else the trained one.
    fn current(&self) -> Option<&Artifact> {
        self.uploaded
            .as_ref()
            .or(self.scored.as_ref().map(|s| &s.artifact))
    }
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
    /// The page's stop flag (see `protocol`): the highest request number the user cancelled.
    /// `None` when the page is not cross-origin isolated (it then terminates this worker).
    static STOP_FLAG: RefCell<Option<js_sys::Int32Array>> = const { RefCell::new(None) };
    /// The number of the request being handled.
    static RUNNING: Cell<i32> = const { Cell::new(0) };
    /// Set when the progress sink told core to stop the running request: the stage it was in.
    static STOPPED: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Whether the user cancelled the running request: the page wrote its number (or a later one)
/// into the shared flag. An atomic read of shared memory, so it sees the page's write while
/// this worker is busy inside core and cannot receive messages.
fn stop_asked() -> bool {
    STOP_FLAG.with_borrow(|flag| {
        flag.as_ref().is_some_and(|flag| {
            js_sys::Atomics::load(flag, 0).is_ok_and(|cancelled| cancelled >= RUNNING.get())
        })
    })
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn post(response: &Response) {
    // A response that does not serialise or post is a bug in this crate, not bad input: say so
    // on the page instead of leaving it waiting.
    let sent = serde_wasm_bindgen::to_value(response)
        .map_err(|e| e.to_string())
        .and_then(|v| scope().post_message(&v).map_err(|e| format!("{e:?}")));
    if let Err(e) = sent {
        let failed = failed(format!(
            "internal error: the worker could not send its answer ({e})"
        ));
        if let Ok(v) = serde_wasm_bindgen::to_value(&failed) {
            let _ = scope().post_message(&v);
        }
    }
}

/// The worker's entry point: listen, then tell the page so.
pub fn run() {
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(|event: MessageEvent| {
        let (seq, decoded) = decode(&event.data());
        RUNNING.set(seq);
        STOPPED.set(None);
        let response = match decoded {
            Ok((request, bytes)) => handle(request, bytes),
            Err(message) => failed(message),
        };
        post(&response);
        post(&Response::Done { seq });
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    on_message.forget();
    post(&Response::Ready);
}

/// A request and the bytes beside it, or why the message could not be read.
type Decoded = Result<(Request, Option<Vec<u8>>), String>;

/// A message is `[request, bytes?, seq, stop flag?]` (see `protocol`); its number comes back
/// in `Done` even when the rest cannot be read. The stop flag is kept for the requests after it.
fn decode(data: &JsValue) -> (i32, Decoded) {
    let Ok(parts) = data.clone().dyn_into::<js_sys::Array>() else {
        return (0, Err("internal error: malformed message".into()));
    };
    let seq = parts.get(2).as_f64().map_or(0, |n| n as i32);
    if let Ok(flag) = parts.get(3).dyn_into::<js_sys::Int32Array>() {
        STOP_FLAG.set(Some(flag));
    }
    let request = serde_wasm_bindgen::from_value(parts.get(0))
        .map_err(|e| format!("internal error: malformed request ({e})"));
    let bytes = parts
        .get(1)
        .dyn_into::<js_sys::ArrayBuffer>()
        .ok()
        .map(|b| js_sys::Uint8Array::new(&b).to_vec());
    (seq, request.map(|r| (r, bytes)))
}

fn handle(request: Request, bytes: Option<Vec<u8>>) -> Response {
    let answer = match request {
        Request::Load { name, columns } => {
            load(name, bytes.unwrap_or_default()).and_then(|()| prepare_current(&columns))
        }
        Request::Generate { rows, seed } => {
            generate(rows, seed).and_then(|()| prepare_current(&Columns::default()))
        }
        Request::SetColumns { columns } => prepare_current(&columns),
        Request::Train(settings) => train_current(&settings),
        Request::Threshold { threshold } => at_threshold(threshold).map(Response::AtThreshold),
        Request::Decide(options) => decide_current(&options),
        Request::UseModel { name, json } => use_model(name, &json),
        Request::ScoreRow { row } => score_row(row).map(Response::RowScore),
        Request::LoadBatch { name } => drift::load_batch(name, &bytes.unwrap_or_default()),
        Request::GenerateBatch { rows, seed, drift } => drift::generate_batch(rows, seed, drift),
        Request::Drift { bootstrap, seed } => drift::drift_current(bootstrap, seed),
        Request::WhatIfStart { customer } => Ok(whatif::start(customer.as_deref())),
        Request::WhatIf { seq, record, edits } => Ok(whatif::what_if(seq, &record, &edits)),
        Request::Suggest {
            seq,
            record,
            edits,
            actionable,
        } => Ok(whatif::suggest(seq, &record, &edits, &actionable)),
        Request::Explain { rows, sample, seed } => explain::explain(rows, sample, seed),
        Request::Dependence { column } => explain::dependence(&column),
        Request::ExplainRow { query } => explain::explain_row(&query),
        Request::Fairness(options) => groups::fairness(&options),
        Request::Segment(options) => groups::segment(&options),
        Request::Report { by } => groups::report(by),
    };
    // Core's `Error::Cancelled` reaches here as text like any error: the sink's record says
    // whether the user's Cancel is what ended the request.
    answer.unwrap_or_else(|message| match STOPPED.take() {
        Some(stage) => {
            let (has_data, has_model) = holding();
            Response::Cancelled {
                stage,
                has_data,
                has_model,
            }
        }
        None => failed(message),
    })
}

/// What the worker still holds: the prepared data, a model trained here.
fn holding() -> (bool, bool) {
    STATE.with(|s| match s.try_borrow() {
        Ok(s) => (s.prepared.is_some(), s.scored.is_some()),
        // Only while a request runs (a progress message failed to send): its data is intact.
        Err(_) => (true, false),
    })
}

/// A failure, with what the worker still holds.
fn failed(message: String) -> Response {
    let (has_data, has_model) = holding();
    Response::Failed {
        message,
        has_data,
        has_model,
    }
}

/// Drops the data and what was trained on it; an uploaded model stays.
fn clear_data() {
    STATE.with_borrow_mut(|s| {
        *s = State {
            uploaded: s.uploaded.take(),
            batch: s.batch.take(),
            ..State::default()
        }
    });
}

/// Parses a file as the CLI's `io::read_table` does: JSON for `.json`, CSV otherwise.
fn read_table(name: &str, bytes: &[u8]) -> Result<Table, String> {
    let is_json = name.to_ascii_lowercase().ends_with(".json");
    if is_json {
        read_json(bytes)
    } else {
        read_csv(bytes, &CsvOptions::default())
    }
    .map_err(|e| format!("{name}: {e}"))
}

fn load(name: String, bytes: Vec<u8>) -> Result<(), String> {
    clear_data();
    let table = read_table(&name, &bytes)?;
    let hash = data_hash(&bytes);
    STATE.with_borrow_mut(|s| s.source = Some(Source { name, table, hash }));
    Ok(())
}

fn generate(rows: usize, seed: u64) -> Result<(), String> {
    clear_data();
    let params = SynthParams {
        n_customers: rows,
        seed,
        ..SynthParams::default()
    };
    let table = generate_table(&params).map_err(|e| e.to_string())?;
    // The hash names the data in the artifact: the generator's settings identify it.
    let hash = data_hash(format!("ebb generate --rows {rows} --seed {seed}").as_bytes());
    let name = format!(
        "generated: {} customers, seed {seed}",
        crate::format::count(rows)
    );
    STATE.with_borrow_mut(|s| s.source = Some(Source { name, table, hash }));
    Ok(())
}

/// Schema inference, quality report and quarantine split: core's `workflow::prepare`, as
/// `ebb validate` runs it (without requiring a target: the Data view also describes files that
/// cannot train yet).
fn prepare(source: &Source, columns: &Columns) -> Result<Prepared, ebb_core::Error> {
    let options = PrepareOptions {
        target: columns.target.clone(),
        id: columns.id.clone(),
        time: columns.time.clone(),
        ..PrepareOptions::default()
    };
    workflow::prepare(
        source.table.clone(),
        source.hash.clone(),
        &options,
        &mut Reporter::silent(),
    )
}

fn prepare_current(columns: &Columns) -> Result<Response, String> {
    STATE.with_borrow_mut(|s| {
        s.prepared = None;
        s.scored = None;
        let source = s.source.as_ref().ok_or("load a data file first")?;
        let prepared = prepare(source, columns).map_err(|e| format!("{}: {e}", source.name))?;
        let summary = summarise(source, &prepared);
        s.prepared = Some(prepared);
        Ok(Response::Data(Box::new(summary)))
    })
}

fn summarise(source: &Source, prepared: &Prepared) -> DataSummary {
    let table = &source.table;
    let schema = &prepared.schema;
    let q = &prepared.quality;
    DataSummary {
        name: source.name.clone(),
        n_rows: table.n_rows(),
        names: table.names().to_vec(),
        preview: (0..table.n_rows().min(PREVIEW_ROWS))
            .map(|r| {
                (0..table.n_cols())
                    .map(|c| table.raw(r, c).to_string())
                    .collect()
            })
            .collect(),
        columns: Columns {
            target: schema.target.as_ref().map(|t| t.name.clone()),
            id: schema.id_column.clone(),
            time: schema.time_column.clone(),
        },
        notes: prepared.notes.clone(),
        warnings: q.warnings(),
        quality: q.columns.clone(),
        target: q.target.clone(),
        duplicate_rows: q.duplicate_rows.clone(),
        duplicate_ids: q.duplicate_ids.clone(),
        clean_rows: prepared.clean.n_rows(),
        quarantined_rows: prepared.quarantined.n_rows(),
        set_aside: q
            .quarantine
            .entries
            .iter()
            .take(SET_ASIDE_LISTED)
            .cloned()
            .collect(),
    }
}

/// `ebb train`'s flags to core's parameters, exactly as `cli::commands::train::run` maps them.
fn train_params(settings: &TrainSettings) -> Result<TrainParams, String> {
    let families = settings
        .families
        .iter()
        .map(|name| {
            Family::from_name(name).ok_or_else(|| format!("`{name}` is not a model family"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(TrainParams::default()
        .with_families(families)
        .with_folds(settings.folds)
        .with_seed(settings.seed)
        .with_imbalance(settings.imbalance))
}

/// The time as ISO 8601 UTC to the second, as the CLI stamps artifacts.
fn now_iso() -> String {
    let secs = (js_sys::Date::now() / 1000.0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        ebb_core::data::datetime::format_date(days),
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Progress is posted when the stage changes or at least this much more is done, so a long
/// fit sends a few hundred messages, not one per boosting round of every fold.
const PROGRESS_STEP: f64 = 0.005;

/// A progress callback that posts core's progress to the page, thinned by [`PROGRESS_STEP`],
/// and tells core to stop once the user cancelled the running request (core then returns
/// `Error::Cancelled` within one checkpoint: a boosting round, a tree, a batch of rows).
fn progress_sink() -> impl FnMut(&Progress) -> Control {
    let mut last: Option<(String, f64)> = None;
    move |p: &Progress| {
        if stop_asked() {
            STOPPED.set(Some(p.stage.clone()));
            return Control::Stop;
        }
        // A partial result is always sent: the leaderboard fills from them.
        let due = p.partial.is_some()
            || match &last {
                Some((stage, fraction)) => {
                    *stage != p.stage || p.fraction >= fraction + PROGRESS_STEP || p.fraction >= 1.0
                }
                None => true,
            };
        if due {
            post(&Response::Progress(p.clone()));
            last = Some((p.stage.clone(), p.fraction));
        }
        Control::Continue
    }
}

/// Cross-validates, calibrates, refits and assembles the artifact with core's
/// `workflow::train`, the function `ebb train` calls, and keeps the out-of-fold probabilities
/// for the Evaluate view; with a tuning budget, core's `workflow::tune_and_train` first, the
/// function `ebb tune --out` calls. Cancel stops it through the progress sink.
fn train_current(settings: &TrainSettings) -> Result<Response, String> {
    let params = train_params(settings)?;
    STATE.with_borrow_mut(|s| {
        s.scored = None;
        let prepared = s.prepared.as_ref().ok_or("load a data file first")?;
        if prepared.schema.target.is_none() {
            return Err(
                "no target column: choose the column that says whether a customer left".into(),
            );
        }
        if prepared.clean.n_rows() == 0 {
            return Err(format!(
                "every row was set aside ({} rows): see the Data view for the reasons",
                prepared.quarantined.n_rows()
            ));
        }
        let clock = || Some(js_sys::Date::now() / 1000.0);
        let run = RunInfo {
            created_at: now_iso(),
            ebb_version: env!("CARGO_PKG_VERSION").to_string(),
        };
        let mut sink = progress_sink();
        let mut reporter = Reporter::new(&mut sink);
        let (trained, tuning) = match settings.tune {
            None => (
                workflow::train(prepared, &params, &run, &clock, &mut reporter)
                    .map_err(|e| e.to_string())?,
                None,
            ),
            Some(budget) => {
                // `ebb tune --trials T --max-trees R --folds F --seed S --out`.
                let tune_params = TuneParams::default()
                    .with_trials(budget.trials)
                    .with_max_trees(budget.max_trees)
                    .with_folds(settings.folds)
                    .with_seed(settings.seed);
                let tuned =
                    workflow::tune_and_train(prepared, &tune_params, &run, &clock, &mut reporter)
                        .map_err(|e| e.to_string())?;
                let tuning = tuning_summary(&tuned.search, budget.trials);
                (tuned.trained, Some(tuning))
            }
        };
        let y = labels(&prepared.clean, &prepared.schema).map_err(|e| e.to_string())?;
        // Rows never in a test fold (possible with time-based folds) have no out-of-fold score.
        let (labels, probabilities): (Vec<f64>, Vec<f64>) = y
            .iter()
            .zip(&trained.oof_probabilities)
            .filter(|(_, p)| !p.is_nan())
            .map(|(&y, &p)| (y, p))
            .unzip();
        let curves = curves(&labels, &probabilities).map_err(|e| e.to_string())?;
        let summary = trained.summary;
        let models = summary
            .models
            .into_iter()
            .map(|m| FamilyRow {
                name: m.name,
                cv: m.cv,
                fit_seconds: m.fit_seconds,
            })
            .collect();
        // The model file goes in its own message: the summary is cloned by every view reading
        // it, the file (megabytes for a forest) only where it is saved.
        post(&Response::Model(Box::new(model_file(
            &trained.artifact,
            TRAINED_HERE,
        )?)));
        let scored = Scored {
            artifact: trained.artifact,
            index: ThresholdIndex::new(&labels, &probabilities).map_err(|e| e.to_string())?,
        };
        let at = threshold_metrics(&scored, summary.threshold)?;
        s.scored = Some(scored);
        s.uploaded = None;
        Ok(Response::Trained(Box::new(TrainSummary {
            models,
            chosen: summary.chosen,
            model_id: summary.model_id,
            threshold: summary.threshold,
            calibration: summary.calibration,
            validation: summary.validation,
            tuning,
            calibrated: summary.calibrated_cv,
            curves,
            at_threshold: at,
        })))
    })
}

fn tuning_summary(search: &TuneOutput, trials: usize) -> TuningSummary {
    let best = &search.trials[search.best_trial];
    TuningSummary {
        evaluations: search.trials.len(),
        trials,
        best_trial: best.config,
        best_roc_auc: best.cv.roc_auc,
        imbalance: search.chosen_imbalance,
        imbalance_explanation: search.imbalance_explanation.clone(),
        parameters: search.best.to_string(),
    }
}

fn threshold_metrics(scored: &Scored, threshold: f64) -> Result<AtThreshold, String> {
    let c = scored
        .index
        .confusion(threshold)
        .map_err(|e| e.to_string())?;
    Ok(AtThreshold {
        threshold,
        confusion: c,
        precision: c.precision(),
        recall: c.recall(),
        f1: c.f1(),
    })
}

fn at_threshold(threshold: f64) -> Result<AtThreshold, String> {
    STATE.with_borrow(|s| {
        let scored = s.scored.as_ref().ok_or("train a model first")?;
        threshold_metrics(scored, threshold)
    })
}

/// Who to contact: core's `workflow::decide` (what `ebb decide MODEL DATA` runs) on the loaded
/// file as read, every row of it, with the trained model, and the contact list as the CSV the
/// CLI writes. Explaining the contacts is the slow part; its progress goes to the page.
fn decide_current(options: &DecideOptions) -> Result<Response, String> {
    STATE.with_borrow(|s| {
        let artifact = s
            .current()
            .ok_or("train or upload a model first (Train or Models view)")?;
        let source = s.source.as_ref().ok_or("load a data file first")?;
        let mut sink = progress_sink();
        let d = workflow::decide(
            artifact,
            &source.table,
            options,
            &mut Reporter::new(&mut sink),
        )
        .map_err(|e| format!("{}: {e}", source.name))?;
        let csv = workflow::contacts_csv(&d.contacts);
        Ok(Response::Decided(Box::new(DecideSummary {
            options: options.clone(),
            customers: d.customers,
            skipped: d.skipped.len(),
            skipped_examples: d.skipped.into_iter().take(SKIPPED_LISTED).collect(),
            worth_contacting: d.worth_contacting,
            contacted: d.contacted,
            best_threshold: d.best_threshold,
            best: d.best,
            model_threshold: d.model_threshold,
            at_model_threshold: d.at_model_threshold,
            profit_by_threshold: d.profit_by_threshold,
            contacts: d.contacts.into_iter().take(CONTACTS_LISTED).collect(),
            csv,
        })))
    })
}

/// What the Models view shows of `artifact`, and the artifact as `ebb train` writes it.
fn model_file(artifact: &Artifact, origin: &str) -> Result<ModelFile, String> {
    let json = artifact.to_json().map_err(|e| e.to_string())?;
    let cv = &artifact.metrics.calibrated_cv;
    Ok(ModelFile {
        info: ModelInfo {
            id: artifact.model_id.clone(),
            family: artifact.family().name().to_string(),
            created_at: artifact.metadata.created_at.clone(),
            threshold: artifact.threshold,
            inputs: artifact.pipeline.inputs.len(),
            cv_roc_auc: cv.roc_auc,
            origin: origin.to_string(),
        },
        json,
    })
}

/// Loads a model file through core's `Artifact::from_json`, the check `ebb evaluate` and the
/// edge run on every load (format version, content hash, structure, sizes).
fn use_model(name: String, json: &str) -> Result<Response, String> {
    let artifact = Artifact::from_json(json).map_err(|e| {
        format!("{name}: {e}; choose the file as ebb train wrote it or as Download model saved it")
    })?;
    let file = model_file(&artifact, &name)?;
    STATE.with_borrow_mut(|s| s.uploaded = Some(artifact));
    Ok(Response::Model(Box::new(file)))
}

/// Scores one row of the loaded file with the current model through `Scorer::score_table`,
/// the path `ebb score` takes. `row` is the 1-based data row of the file; `None` is the first
/// row validation kept.
fn score_row(row: Option<usize>) -> Result<RowScore, String> {
    STATE.with_borrow(|s| {
        let artifact = s
            .current()
            .ok_or("train or upload a model first (Train or Models view)")?;
        let (Some(source), Some(prepared)) = (&s.source, &s.prepared) else {
            return Err("load a data file first (Data view): its rows are the customers".into());
        };
        let table = &source.table;
        let row = match row {
            Some(r) => r,
            None if prepared.clean.n_rows() > 0 => prepared.clean.source_row(0),
            None => return Err("every row of the data was set aside: choose a row number".into()),
        };
        let index = (0..table.n_rows())
            .find(|&r| table.source_row(r) == row)
            .ok_or_else(|| {
                format!(
                    "row {row} is not in {}: choose a row from 1 to {}",
                    source.name,
                    table.n_rows()
                )
            })?;
        let one = table.filter_rows(|r| r == index);
        let score = Scorer::new(artifact)
            .score_table(&one)
            .and_then(|mut scores| scores.remove(0))
            .map_err(|e| format!("{}, row {row}: {e}", source.name))?;
        Ok(RowScore {
            row,
            model_id: artifact.model_id.clone(),
            probability: score.probability,
            decision: score.decision,
        })
    })
}
