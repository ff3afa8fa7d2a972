//! The one error type of the engine. Every variant says what went wrong and where (file row,
//! column, value) so a face (CLI, worker, browser) can show it to a user who can act on it.

use alloc::borrow::Cow;
use alloc::string::String;
use core::fmt;

use serde::{Deserialize, Serialize};

/// Result alias used throughout the engine.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// What went wrong. Rows are 1-based data-row numbers (the header is row 0 of a CSV file's
/// records; the first customer is row 1) so messages match what a user sees in a spreadsheet.
///
/// Serialised with its [`ErrorKind`] as `kind` beside the variant's fields
/// (`{"kind": "bad_value", "row": 3, "column": "tenure", ...}`), so a web page gets it as a plain
/// object; the sentence for a person is its `Display`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
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
    /// A record has more fields than a table may have columns (`row` 0 is the header):
    /// [`crate::data::table::MAX_COLUMNS`] bounds the per-row memory of a hostile file.
    TooManyFields { row: usize, limit: usize },
    /// A record is longer than [`crate::data::ingest::MAX_RECORD_BYTES`]; `column` is where
    /// the limit was reached. Refused so one field (or an unclosed quote swallowing the rest of
    /// the file) cannot take memory without bound.
    RecordTooLarge {
        row: usize,
        column: String,
        limit: usize,
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
        /// What a valid value looks like (`number`, `date`, `target value`).
        expected: Cow<'static, str>,
    },
    /// The target column cannot be used to train (one class, more than two values, ...).
    BadTarget { column: String, message: String },
    /// No target column was given and none could be detected.
    NoTarget,
    /// Parameters that cannot work together (e.g. more folds than rows of a class).
    InvalidParameter {
        /// The setting, as the engine's API names it (`folds`, `n_trees`).
        name: Cow<'static, str>,
        message: String,
    },
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
    /// No row of the data could be scored, so there is nobody to decide about.
    NothingScored {
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
            Error::TooManyFields { row: 0, limit } => write!(
                f,
                "the data has more than {limit} columns, the most a table may have; check the \
                 delimiter, or keep only the columns the model needs"
            ),
            Error::TooManyFields { row, limit } => write!(
                f,
                "row {row}: more than {limit} fields, the most a table may have; check this \
                 row's delimiters and quotes"
            ),
            Error::RecordTooLarge { row, column, limit } => write!(
                f,
                "row {row}, {column}: the row is longer than {limit} bytes, the most one row may \
                 have; check for an unclosed `\"` that runs on to the end of the file"
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
                "no target column found: no column is named like churn, churned, exited, attrition, cancelled, ...; say which column records whether a customer left"
            ),
            Error::InvalidParameter { name, message } => write!(f, "parameter `{name}`: {message}"),
            Error::SchemaMismatch { message } => write!(f, "data does not match the schema: {message}"),
            Error::Artifact { message } => write!(f, "model artifact: {message}"),
            Error::AllQuarantined { rows, first_row, reason } => write!(
                f,
                "every row was quarantined ({rows} rows), so none is left to train on; the first, row {first_row}: {reason} (the quality report lists every row set aside and why)"
            ),
            Error::NothingScored { reason, .. } => {
                write!(f, "no row could be scored; first problem: {reason}")
            }
            Error::Cancelled { stage } => write!(f, "cancelled during {stage}"),
        }
    }
}

/// Which kind of error, without its details: for a face to branch on (show a file picker on
/// `missing_column`, offer to retry on `cancelled`) instead of matching message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    EmptyInput,
    Malformed,
    RaggedRow,
    TooManyFields,
    RecordTooLarge,
    MissingColumn,
    DuplicateColumn,
    BadValue,
    BadTarget,
    NoTarget,
    InvalidParameter,
    SchemaMismatch,
    Artifact,
    AllQuarantined,
    NothingScored,
    Cancelled,
}

impl Error {
    /// The kind of error (the `kind` tag of its serialised form).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::EmptyInput => ErrorKind::EmptyInput,
            Error::Malformed { .. } => ErrorKind::Malformed,
            Error::RaggedRow { .. } => ErrorKind::RaggedRow,
            Error::TooManyFields { .. } => ErrorKind::TooManyFields,
            Error::RecordTooLarge { .. } => ErrorKind::RecordTooLarge,
            Error::MissingColumn { .. } => ErrorKind::MissingColumn,
            Error::DuplicateColumn { .. } => ErrorKind::DuplicateColumn,
            Error::BadValue { .. } => ErrorKind::BadValue,
            Error::BadTarget { .. } => ErrorKind::BadTarget,
            Error::NoTarget => ErrorKind::NoTarget,
            Error::InvalidParameter { .. } => ErrorKind::InvalidParameter,
            Error::SchemaMismatch { .. } => ErrorKind::SchemaMismatch,
            Error::Artifact { .. } => ErrorKind::Artifact,
            Error::AllQuarantined { .. } => ErrorKind::AllQuarantined,
            Error::NothingScored { .. } => ErrorKind::NothingScored,
            Error::Cancelled { .. } => ErrorKind::Cancelled,
        }
    }

    /// The 1-based data row the error is about, where there is one.
    pub fn row(&self) -> Option<usize> {
        match self {
            Error::Malformed { row, .. }
            | Error::RaggedRow { row, .. }
            | Error::TooManyFields { row, .. }
            | Error::RecordTooLarge { row, .. }
            | Error::BadValue { row, .. }
            | Error::AllQuarantined { first_row: row, .. }
            | Error::NothingScored { first_row: row, .. } => Some(*row),
            _ => None,
        }
    }

    /// The column the error is about, where there is one.
    pub fn column(&self) -> Option<&str> {
        match self {
            Error::MissingColumn { column }
            | Error::DuplicateColumn { column }
            | Error::BadValue { column, .. }
            | Error::BadTarget { column, .. } => Some(column),
            _ => None,
        }
    }

    /// The named setting (parameter) the error is about, where there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::InvalidParameter { name, .. } => Some(name),
            _ => None,
        }
    }
}

// `core::error::Error` (stable since Rust 1.81) needs no `std`: the browser and worker builds get
// the same trait as native ones.
impl core::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    #[test]
    fn errors_round_trip_through_json_with_their_kind_and_location() {
        let errors = vec![
            Error::EmptyInput,
            Error::BadValue {
                row: 3,
                column: "tenure".into(),
                value: "abc".into(),
                expected: "number".into(),
            },
            Error::InvalidParameter {
                name: "folds".into(),
                message: "need at least 2 folds, got 1".into(),
            },
            Error::NoTarget,
            Error::Cancelled {
                stage: "fitting gbdt".into(),
            },
        ];
        for e in &errors {
            let json = serde_json::to_value(e).unwrap();
            assert_eq!(json["kind"], serde_json::to_value(e.kind()).unwrap());
            let back: Error = serde_json::from_value(json).unwrap();
            assert_eq!(&back, e);
        }
        let bad = &errors[1];
        assert_eq!(
            (bad.kind(), bad.row(), bad.column(), bad.field()),
            (ErrorKind::BadValue, Some(3), Some("tenure"), None)
        );
        assert_eq!(errors[2].field(), Some("folds"));
        assert_eq!(errors[0].row(), None);
        // Messages speak of the data, never of a face's flags.
        assert!(!Error::NoTarget.to_string().contains("--"));
        let boxed: alloc::boxed::Box<dyn core::error::Error> =
            alloc::boxed::Box::new(Error::NoTarget);
        assert!(boxed.to_string().starts_with("no target column found"));
    }
}
