//! The messages between the page and the compute worker. Both sides are this crate, so one set of
//! serde types is the whole contract; they cross `postMessage` through `serde-wasm-bindgen`.
//!
//! A file's bytes never go through serde: they travel beside a [`Request::Load`] as a transferred
//! `ArrayBuffer` (moved to the worker, not copied).
//!
//! A message to the worker is `[request, bytes or undefined, seq, stop flag or undefined]`: `seq`
//! numbers the page's requests (1, 2, ...; never reused, even across workers), and the stop
//! flag is an `Int32Array` over a `SharedArrayBuffer` (only when the page is cross-origin
//! isolated) holding the highest `seq` the user cancelled. Every request gets exactly one
//! answer that ends it (after any `Progress` and partial answers), then [`Response::Done`].

use ebb_core::data::quality::{
    ColumnQuality, DuplicateIds, DuplicateRows, QuarantinedRow, TargetQuality,
};
use ebb_core::eval::decision::{CurvePoint, Outcome};
use ebb_core::eval::fairness::FairnessReport;
use ebb_core::insight::explain::{
    ColumnImportance, Dependence, Explanation, FoundBy, ShapSample, Space,
};
use ebb_core::insight::segment::Segmentation;
use ebb_core::metrics::{Confusion, CurveSet, Report};
use ebb_core::monitor::DriftReport;
use ebb_core::serve::scorer::SkippedRow;
pub use ebb_core::train::tune::Imbalance;
use ebb_core::workflow::whatif::{Edit, FormField, SuggestReport, WhatIfReport};
use ebb_core::workflow::{ContactRow, DecideOptions, FairnessOptions, SegmentOptions};
use serde::{Deserialize, Serialize};

/// The columns with a role; `None` lets core detect it (target, id) or leaves it unset (time).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Columns {
    pub target: Option<String>,
    pub id: Option<String>,
    pub time: Option<String>,
}

/// What `ebb train` (or, with `tune`, `ebb tune --out`) takes as flags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainSettings {
    /// Family names as `ebb train --model` spells them (ignored when tuning, which is
    /// gradient boosting only).
    pub families: Vec<String>,
    pub folds: usize,
    pub seed: u64,
    /// `ebb train --imbalance`: class weighting of gradient boosting (`None`: unweighted).
    pub imbalance: Option<Imbalance>,
    /// Tune gradient boosting first, as `ebb tune --trials T --max-trees R --out` does.
    pub tune: Option<TuneBudget>,
}

/// The budget of a tuning run: in trials and rounds, never seconds, so the same seed gives the
/// same model here as in the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TuneBudget {
    /// Configurations tried (`ebb tune --trials`).
    pub trials: usize,
    /// Boosting rounds of the last halving rung and the final model (`--max-trees`).
    pub max_trees: usize,
}

/// What a tuning run found, as `ebb tune` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TuningSummary {
    /// Evaluations run (every rung of every trial).
    pub evaluations: usize,
    pub trials: usize,
    /// Trial number (`config`) of the best evaluation, and its out-of-fold ROC-AUC.
    pub best_trial: usize,
    pub best_roc_auc: f64,
    /// The class weighting kept, and why.
    pub imbalance: Imbalance,
    pub imbalance_explanation: String,
    /// The kept parameters in words (learning rate, leaves, leaf size, rounds...).
    pub parameters: String,
}

/// Page → worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// Read the file whose bytes come with this message, infer its schema, report its quality.
    Load {
        name: String,
        columns: Columns,
    },
    /// Generate customers with core's synthetic generator, then as `Load`.
    Generate {
        rows: usize,
        seed: u64,
    },
    /// Infer again with other target/id/time columns (the table stays in the worker).
    SetColumns {
        columns: Columns,
    },
    Train(TrainSettings),
    /// Confusion counts of the out-of-fold probabilities at this threshold.
    Threshold {
        threshold: f64,
    },
    /// Score the loaded data with the trained model and plan the contacts (`ebb decide`).
    Decide(DecideOptions),
    /// Make this model file (uploaded, or kept in the browser) the current model, once core
    /// has checked it as `ebb evaluate` does.
    UseModel {
        name: String,
        json: String,
    },
    /// The current model's probability for one row of the loaded data (1-based data row of
    /// the file; `None`: the first row validation kept).
    ScoreRow {
        row: Option<usize>,
    },
    /// Read the newer batch whose bytes come with this message (CSV or JSON); it is held beside
    /// the training data, not in its place.
    LoadBatch {
        name: String,
    },
    /// Generate a newer batch with core's generator and an injected shift (`ebb generate
    /// --rows --seed --drift`).
    GenerateBatch {
        rows: usize,
        seed: u64,
        drift: f64,
    },
    /// Compare the held batch with the current model's training reference (`ebb drift MODEL
    /// BATCH --bootstrap --seed`).
    Drift {
        bootstrap: usize,
        seed: u64,
    },
    /// Start a what-if with the current model: from a customer of the loaded data (a 1-based
    /// data row, or a value of the id column) or, with `None`, from a blank form.
    WhatIfStart {
        customer: Option<String>,
    },
    /// `record` scored before and after `edits` (core's `workflow::whatif::what_if`, as
    /// `ebb whatif MODEL --record R --set F=V` runs it). `seq` names the answer.
    WhatIf {
        seq: u64,
        record: Vec<(String, Option<String>)>,
        edits: Vec<Edit>,
    },
    /// The smallest change of the `actionable` fields found to bring the edited record under
    /// the threshold (core's `workflow::whatif::suggest`, `ebb whatif --actionable`).
    Suggest {
        seq: u64,
        record: Vec<(String, Option<String>)>,
        edits: Vec<Edit>,
        actionable: Vec<String>,
    },
    /// Explain the current model on the loaded file (`ebb explain MODEL DATA --sample rows`):
    /// global importance on at most `rows` evenly spaced rows, the summary plot's
    /// contributions on `sample` rows drawn with `seed`, and the top field's dependence.
    Explain {
        rows: usize,
        sample: usize,
        seed: u64,
    },
    /// Value against contribution of one input field (core's `Explainer::dependence`).
    Dependence {
        column: String,
    },
    /// One customer's contributions (`ebb explain MODEL DATA --row query`): an id of the
    /// model's id column, or a 1-based data-row number.
    ExplainRow {
        query: String,
    },
    /// The current model's decisions compared between the groups of a column (`ebb fairness`).
    Fairness(FairnessOptions),
    /// The loaded customers clustered into personas (`ebb segment`).
    Segment(SegmentOptions),
    /// The model report page `ebb report MODEL DATA [--by COLUMN]` writes.
    Report {
        by: Option<String>,
    },
}

/// A step of long work: core's own progress type, posted as core reports it.
pub use ebb_core::progress::Progress;

/// A data set read and checked: what the Data view shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataSummary {
    pub name: String,
    pub n_rows: usize,
    pub names: Vec<String>,
    /// The first rows' raw cells.
    pub preview: Vec<Vec<String>>,
    /// The roles core settled on (detected or as asked).
    pub columns: Columns,
    /// Decisions the user may want to override.
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
    pub quality: Vec<ColumnQuality>,
    pub target: Option<TargetQuality>,
    pub duplicate_rows: DuplicateRows,
    pub duplicate_ids: Option<DuplicateIds>,
    pub clean_rows: usize,
    pub quarantined_rows: usize,
    /// The first rows set aside, with their reasons (all of them are counted above).
    pub set_aside: Vec<QuarantinedRow>,
}

/// One compared family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FamilyRow {
    pub name: String,
    /// Out-of-fold metrics, as `ebb train --json` reports them under `models[].cv`.
    pub cv: Report,
    pub fit_seconds: Option<f64>,
}

/// The confusion at one threshold; precision, recall and F1 as core defines them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AtThreshold {
    pub threshold: f64,
    pub confusion: Confusion,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// A trained model: what the Train and Evaluate views show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainSummary {
    pub models: Vec<FamilyRow>,
    pub chosen: String,
    pub model_id: String,
    pub threshold: f64,
    pub calibration: String,
    pub validation: String,
    /// Set when the model was tuned first.
    pub tuning: Option<TuningSummary>,
    /// Metrics of the calibrated out-of-fold probabilities at the model's threshold.
    pub calibrated: Report,
    /// ROC, precision-recall, lift and calibration curves of the calibrated out-of-fold
    /// probabilities (thinned by core).
    pub curves: CurveSet,
    pub at_threshold: AtThreshold,
}

/// Who to contact: core's `workflow::decide` on the loaded data, as `ebb decide` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecideSummary {
    /// The inputs decided with.
    pub options: DecideOptions,
    /// Customers scored.
    pub customers: usize,
    /// Rows that could not be scored (all counted, the first listed).
    pub skipped: usize,
    pub skipped_examples: Vec<SkippedRow>,
    /// Customers with a positive expected value, before the capacity limit.
    pub worth_contacting: usize,
    /// Contacting the contact list.
    pub contacted: Outcome,
    /// The profit-maximising threshold (no capacity limit) and its outcome.
    pub best_threshold: Option<f64>,
    pub best: Outcome,
    pub model_threshold: f64,
    pub at_model_threshold: Outcome,
    /// Expected profit on the threshold grid 0, 0.01, ... 1.
    pub profit_by_threshold: Vec<CurvePoint>,
    /// The first contacts of the list (all of them are in `csv`).
    pub contacts: Vec<ContactRow>,
    /// The whole contact list as `ebb decide --out` writes it.
    pub csv: String,
}

/// [`ModelInfo::origin`] of a model trained in this page.
pub const TRAINED_HERE: &str = "trained here";

/// The current model, as the Models view lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub id: String,
    pub family: String,
    pub created_at: String,
    pub threshold: f64,
    /// Input columns a customer record carries.
    pub inputs: usize,
    /// ROC-AUC of the calibrated out-of-fold probabilities.
    pub cv_roc_auc: f64,
    /// `trained here` or the file it was loaded from.
    pub origin: String,
}

/// A model and its file: `Artifact::to_json`, the bytes `ebb train` writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelFile {
    pub info: ModelInfo,
    pub json: String,
}

/// One customer scored by the current model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowScore {
    /// 1-based data row of the file.
    pub row: usize,
    pub model_id: String,
    /// Calibrated probability of churning.
    pub probability: f64,
    /// Whether it reaches the model's threshold.
    pub decision: bool,
}

/// A newer batch the worker holds for the Drift view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchSummary {
    pub name: String,
    pub rows: usize,
    pub columns: usize,
}

/// One column's (or the score's) counts on the training reference's bins, for the overlaid
/// histograms: `bins[i]` names the bin of `reference[i]` and `current[i]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinnedCounts {
    pub name: String,
    pub bins: Vec<String>,
    pub reference: Vec<u64>,
    pub current: Vec<u64>,
    pub reference_missing: u64,
    pub current_missing: u64,
}

/// Core's `drift_of_table` on the held batch, as `ebb drift --json` prints it, and the binned
/// counts behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftSummary {
    /// The batch compared.
    pub batch: String,
    pub bootstrap: usize,
    pub seed: u64,
    pub report: DriftReport,
    /// Rows that could not be scored (their values still count), the first listed.
    pub unscored: usize,
    pub unscored_examples: Vec<(usize, String)>,
    /// Why performance is absent although the batch has the target column.
    pub performance_note: Option<String>,
    /// Per input column, in the report's order (most severe first).
    pub columns: Vec<BinnedCounts>,
    /// The score distribution on its twenty bins.
    pub scores: BinnedCounts,
}

/// A what-if's starting point: the current model's inputs and the record edited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhatIfForm {
    pub model_id: String,
    pub threshold: f64,
    /// The model's inputs as form fields, in the pipeline's order.
    pub fields: Vec<FormField>,
    /// Every raw field of the record (`None`: missing), model inputs or not (a time column
    /// gives the snapshot date).
    pub record: Vec<(String, Option<String>)>,
    /// Who it is: `row 7` (with the id when the data has one), or `None` for a blank form.
    pub customer: Option<String>,
}

/// Table-wide importance of the current model's inputs on the loaded file, as
/// `ebb explain --json` reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportanceSummary {
    pub model_id: String,
    pub space: Space,
    pub base_value: f64,
    /// Rows explained and rows left out (not fitting the schema).
    pub rows: usize,
    pub skipped: usize,
    /// Most important first.
    pub columns: Vec<ColumnImportance>,
}

/// One customer explained, as `ebb explain --row --json` reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowExplanation {
    /// What was searched for.
    pub query: String,
    /// 1-based data row of the file, and whether the text matched an id or a row number.
    pub row: usize,
    pub by: FoundBy,
    /// The model's id column and this customer's value in it (when the file has it).
    pub id: Option<(String, String)>,
    pub model_id: String,
    pub threshold: f64,
    pub explanation: Explanation,
}

/// The fairness audit of the loaded data by one column: core's `workflow::fairness`, what
/// `ebb fairness --json` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FairnessSummary {
    /// The inputs audited with.
    pub options: FairnessOptions,
    pub model_id: String,
    pub report: FairnessReport,
    /// Rows that could not be scored (left out of every group).
    pub skipped: usize,
}

/// The personas of the loaded data: core's `workflow::segments`, what `ebb segment --json`
/// prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentSummary {
    /// The inputs segmented with.
    pub options: SegmentOptions,
    pub model_id: String,
    /// Customers segmented.
    pub customers: usize,
    /// Rows that could not be scored (left out of every segment).
    pub skipped: usize,
    /// The segments; `assignments` is left empty (one id per row is for library callers, and
    /// `ebb segment --json` leaves it out too).
    pub segmentation: Segmentation,
}

/// The model report as the file `ebb report --out` writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportFile {
    /// A file name for the download.
    pub name: String,
    pub html: String,
}

/// Worker → page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Response {
    /// The worker is listening (sent once after it starts).
    Ready,
    Data(Box<DataSummary>),
    Progress(Progress),
    Trained(Box<TrainSummary>),
    AtThreshold(AtThreshold),
    Decided(Box<DecideSummary>),
    /// A model became current (trained or loaded).
    Model(Box<ModelFile>),
    RowScore(RowScore),
    WhatIfForm(Box<WhatIfForm>),
    WhatIf {
        seq: u64,
        report: Box<WhatIfReport>,
    },
    Suggested {
        seq: u64,
        report: Box<SuggestReport>,
    },
    /// A what-if request could not be answered (`seq` 0 for a start); said in the view.
    WhatIfFailed {
        seq: u64,
        message: String,
    },
    /// Global importance: the first part of an `Explain` answer (the sample follows).
    Importance(Box<ImportanceSummary>),
    /// The summary plot's sample: the second part of an `Explain` answer.
    ShapSample(Box<ShapSample>),
    /// A field's dependence: the answer to `Dependence`, and the last part of `Explain`'s.
    Dependence(Box<Dependence>),
    RowExplained(Box<RowExplanation>),
    Fairness(Box<FairnessSummary>),
    Segments(Box<SegmentSummary>),
    Report(Box<ReportFile>),
    /// The request could not be done; the message says why in the user's terms. The flags say
    /// what the worker still holds afterwards: `has_data` the loaded data (a failed load
    /// leaves none), `has_model` a model trained in the page (an uploaded one is not counted:
    /// nothing but a new upload or training replaces it).
    Failed {
        message: String,
        has_data: bool,
        has_model: bool,
    },
    /// The request stopped because the user cancelled it (core returned `Error::Cancelled`
    /// at its next progress checkpoint); nothing of it was kept. The worker holds its data and
    /// models as before, except what the request had already dropped (`has_data`, `has_model`
    /// as in `Failed`).
    Cancelled {
        /// The stage core was in, as its progress named it (`training gbdt`).
        stage: String,
        has_data: bool,
        has_model: bool,
    },
    /// A newer batch is held (Drift view).
    Batch(BatchSummary),
    Drifted(Box<DriftSummary>),
    /// The request numbered `seq` is finished: its last answer came before this. The compute
    /// module consumes it (to know whether a cancelled request has stopped).
    Done {
        seq: i32,
    },
}
