//! The messages between the page and the compute worker. Both sides are this crate, so one set of
//! serde types is the whole contract; they cross `postMessage` through `serde-wasm-bindgen`.
//!
//! A file's bytes never go through serde: they travel beside a [`Request::Load`] as a transferred
//! `ArrayBuffer` (moved to the worker, not copied).

use ebb_core::data::quality::{
    ColumnQuality, DuplicateIds, DuplicateRows, QuarantinedRow, TargetQuality,
};
use ebb_core::eval::decision::{CurvePoint, Outcome};
use ebb_core::eval::fairness::FairnessReport;
use ebb_core::insight::segment::Segmentation;
use ebb_core::metrics::{Confusion, CurveSet, Report};
use ebb_core::serve::scorer::SkippedRow;
use ebb_core::workflow::{ContactRow, DecideOptions, FairnessOptions, SegmentOptions};
use serde::{Deserialize, Serialize};

/// The columns with a role; `None` lets core detect it (target, id) or leaves it unset (time).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Columns {
    pub target: Option<String>,
    pub id: Option<String>,
    pub time: Option<String>,
}

/// What `ebb train` takes as flags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainSettings {
    /// Family names as `ebb train --model` spells them.
    pub families: Vec<String>,
    pub folds: usize,
    pub seed: u64,
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
    Fairness(Box<FairnessSummary>),
    Segments(Box<SegmentSummary>),
    Report(Box<ReportFile>),
    /// The request could not be done; the message says why in the user's terms. The flags say
    /// what the worker still holds afterwards (a failed load leaves no data).
    Failed {
        message: String,
        has_data: bool,
        has_model: bool,
    },
}
