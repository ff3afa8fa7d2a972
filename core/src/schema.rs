//! Column types and the schema: what each column of a table is, which column is the target,
//! which one identifies a customer, and which one carries time. A schema is inferred from a
//! training table, stored in the artifact, and enforced on later data.

use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

/// What a column holds, as inferred from its values (or as declared in a saved schema).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    /// Real numbers.
    Numeric,
    /// Two-valued: yes/no, true/false, y/n, 1/0.
    Boolean,
    /// A small-to-moderate set of labels.
    Categorical,
    /// ISO 8601 dates or date-times; turned into ages in days at a snapshot date.
    Datetime,
    /// Unique per row (an id): never a model input.
    Identifier,
    /// Free text: excluded from modelling with a note.
    Text,
}

impl ColumnKind {
    /// Whether columns of this kind feed the model.
    pub fn is_model_input(self) -> bool {
        matches!(
            self,
            ColumnKind::Numeric
                | ColumnKind::Boolean
                | ColumnKind::Categorical
                | ColumnKind::Datetime
        )
    }
}

/// One input column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnSchema {
    /// Header name.
    pub name: String,
    /// Inferred or declared type.
    pub kind: ColumnKind,
    /// For categorical columns: the levels seen in training, most frequent first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    /// Whether training data had missing values in this column.
    pub nullable: bool,
}

/// The target column and how its two raw values map to 1 (churned) and 0 (stayed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetSpec {
    /// Header name of the target.
    pub name: String,
    /// Raw value mapped to 1.
    pub positive: String,
    /// Raw value mapped to 0.
    pub negative: String,
}

/// Everything known about a table's columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    /// Every column except the target, in file order.
    pub columns: Vec<ColumnSchema>,
    /// The target, when the table is for training or evaluation.
    pub target: Option<TargetSpec>,
    /// The customer-id column, if any.
    pub id_column: Option<String>,
    /// The time / snapshot column used for time-based validation, if any.
    pub time_column: Option<String>,
}
