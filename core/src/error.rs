//! The one error type of the engine. Every variant says what went wrong and where (file row,
//! column, value) so a face (CLI, worker, browser) can show it to a user who can act on it.

use alloc::string::String;
use core::fmt;

/// Result alias used throughout the engine.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// What went wrong. Rows are 1-based data-row numbers (the header is row 0 of a CSV file's
/// records; the first customer is row 1) so messages match what a user sees in a spreadsheet.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// The input had no data rows at all.
    EmptyInput,
    /// A CSV/JSON syntax problem at a given data row.
    Malformed { row: usize, message: String },
    /// A row had a different number of fields than the header.
    RaggedRow {
        row: usize,
        expected: usize,
        found: usize,
    },
    /// A column the operation needs is absent.
    MissingColumn { column: String },
    /// A header names the same column twice.
    DuplicateColumn { column: String },
    /// A value could not be read as the column's type.
    BadValue {
        row: usize,
        column: String,
        value: String,
        expected: &'static str,
    },
    /// The target column cannot be used to train (one class, more than two values, ...).
    BadTarget { column: String, message: String },
    /// No target column was given and none could be detected.
    NoTarget,
    /// Parameters that cannot work together (e.g. more folds than rows of a class).
    InvalidParameter { name: &'static str, message: String },
    /// Data does not match a saved schema.
    SchemaMismatch { message: String },
    /// A model artifact could not be loaded.
    Artifact { message: String },
    /// Validation set every row aside, so nothing is left to train on.
    AllQuarantined {
        rows: usize,
        first_row: usize,
        reason: String,
    },
    /// The caller's progress callback asked to stop; nothing was produced.
    Cancelled { stage: String },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::EmptyInput => write!(f, "the input holds no data rows"),
            Error::Malformed { row, message } => write!(f, "row {row}: {message}"),
            Error::RaggedRow { row, expected, found } => write!(
                f,
                "row {row}: expected {expected} fields as in the header but found {found}"
            ),
            Error::MissingColumn { column } => write!(f, "column `{column}` is missing"),
            Error::DuplicateColumn { column } => {
                write!(f, "column `{column}` appears more than once in the header")
            }
            Error::BadValue { row, column, value, expected } => write!(
                f,
                "row {row}, column `{column}`: `{value}` is not a valid {expected}"
            ),
            Error::BadTarget { column, message } => {
                write!(f, "target column `{column}`: {message}")
            }
            Error::NoTarget => write!(
                f,
                "no target column found: name it with --target (looked for churn, churned, exited, attrition, cancelled, ...)"
            ),
            Error::InvalidParameter { name, message } => write!(f, "parameter `{name}`: {message}"),
            Error::SchemaMismatch { message } => write!(f, "data does not match the schema: {message}"),
            Error::Artifact { message } => write!(f, "model artifact: {message}"),
            Error::AllQuarantined { rows, first_row, reason } => write!(
                f,
                "every row was quarantined ({rows} rows), so none is left to train on; the first, row {first_row}: {reason} (`ebb validate --quarantine FILE` lists them all)"
            ),
            Error::Cancelled { stage } => write!(f, "cancelled during {stage}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}
