//! Column types and the schema: what each column of a table is, which column is the target,
//! which one identifies a customer, and which one carries time. A schema is inferred from a
//! training table ([`infer`]), stored in the artifact ([`Schema::to_json`]), and enforced on
//! later data ([`Schema::check`]).
//!
//! Inference works on the distinct trimmed values of a column (counted once per column), so
//! parsing costs one attempt per distinct value rather than per cell.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use hashbrown::{HashMap, HashSet};
use serde::{Deserialize, Serialize};

use crate::data::table::{is_na, parse_bool, parse_number, StoredType, Table, TextColumn};
use crate::error::{Error, Result};

/// What a column holds, as inferred from its values (or as declared in a saved schema).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

crate::unit_enum!(ColumnKind {
    Numeric as "numeric",
    Boolean as "boolean",
    Categorical as "categorical",
    Datetime as "datetime",
    Identifier as "identifier",
    Text as "text",
});

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
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnSchema {
    /// Header name.
    pub name: String,
    /// Inferred or declared type.
    pub kind: ColumnKind,
    /// For categorical columns: the levels seen in training, most frequent first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    /// Whether training data had missing values in this column.
    pub nullable: bool,
}

crate::map_struct!(ColumnSchema {
    name,
    kind,
    categories = Default::default(),
    nullable,
});

/// The target column and how its two raw values map to 1 (churned) and 0 (stayed).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetSpec {
    /// Header name of the target.
    pub name: String,
    /// Raw value mapped to 1.
    pub positive: String,
    /// Raw value mapped to 0.
    pub negative: String,
}

crate::map_struct!(TargetSpec {
    name,
    positive,
    negative,
});

/// Everything known about a table's columns.
#[derive(Debug, Clone, PartialEq, Serialize)]
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

crate::map_struct!(Schema {
    columns,
    target,
    id_column,
    time_column,
});

/// Share (in percent) of a column's non-missing values that must parse as numbers or dates for
/// the column to take that type; the remaining cells are bad cells that the quality report
/// counts and quarantines.
const PARSE_SHARE_PERCENT: usize = 98;

/// Target names recognised without `--target`, compared case-insensitively with `_`, `-` and
/// spaces removed, in order of preference.
const TARGET_NAMES: [&str; 12] = [
    "churn",
    "churned",
    "ischurn",
    "haschurned",
    "exited",
    "attrition",
    "cancelled",
    "canceled",
    "churnflag",
    "left",
    "target",
    "label",
];

/// Word stems that mark a target value as the churn outcome (`Churned`, `Exited`, `Attrited
/// Customer`, ...).
const CHURN_STEMS: [&str; 5] = ["churn", "exit", "cancel", "left", "attrit"];

/// How many unseen categorical levels [`Schema::check`] lists per column.
const MAX_NEW_LEVELS: usize = 10;

/// How many example cells a [`TypeChange`] carries.
const MAX_TYPE_CHANGE_EXAMPLES: usize = 5;

/// Options for [`infer`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InferOptions {
    /// The target column; detected by name when `None`.
    pub target: Option<String>,
    /// The customer-id column; detected (a unique column named like an id) when `None`.
    pub id: Option<String>,
    /// The time column for time-based validation (must hold dates or numbers).
    pub time: Option<String>,
    /// A text column with at most this many distinct values is categorical.
    pub max_categories: usize,
    /// Fail with [`Error::NoTarget`] when no target is given or detected (training needs one;
    /// describing a scoring file does not).
    pub require_target: bool,
}

impl Default for InferOptions {
    fn default() -> Self {
        InferOptions {
            target: None,
            id: None,
            time: None,
            max_categories: 50,
            require_target: false,
        }
    }
}

impl InferOptions {
    /// Default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Names the target column.
    pub fn with_target(mut self, name: impl Into<String>) -> Self {
        self.target = Some(name.into());
        self
    }

    /// Names the customer-id column.
    pub fn with_id(mut self, name: impl Into<String>) -> Self {
        self.id = Some(name.into());
        self
    }

    /// Names the time column.
    pub fn with_time(mut self, name: impl Into<String>) -> Self {
        self.time = Some(name.into());
        self
    }

    /// Sets the largest number of distinct values a categorical column may have.
    pub fn with_max_categories(mut self, max_categories: usize) -> Self {
        self.max_categories = max_categories;
        self
    }

    /// Requires a target column.
    pub fn with_require_target(mut self, require_target: bool) -> Self {
        self.require_target = require_target;
        self
    }
}

/// An inferred schema and the decisions behind it, phrased so a user can override them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inference {
    /// The schema.
    pub schema: Schema,
    /// One line per decision a user may want to override (target choice and mapping, id,
    /// excluded columns, bad cells).
    pub notes: Vec<String>,
}

/// Counts of a column's trimmed non-missing values.
struct Frequencies<'a> {
    counts: HashMap<&'a str, usize>,
    missing: usize,
}

impl<'a> Frequencies<'a> {
    fn of(column: &'a TextColumn) -> Self {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        let mut missing = 0;
        for raw in column.iter() {
            if is_na(raw) {
                missing += 1;
            } else {
                *counts.entry(raw.trim()).or_insert(0) += 1;
            }
        }
        Frequencies { counts, missing }
    }

    fn present(&self) -> usize {
        self.counts.values().sum()
    }

    /// Values by count (most frequent first), ties by text, so output never depends on hashing.
    fn sorted(&self) -> Vec<(&'a str, usize)> {
        let mut levels: Vec<(&str, usize)> = self.counts.iter().map(|(k, c)| (*k, *c)).collect();
        levels.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        levels
    }
}

/// Whether a header looks like a customer / record id: `id`, `*_id`, `*id`, or `customer`,
/// `user`, `account` alone or followed by `no`, `num`, `number`, `code`, `key` or `ref`
/// (case-insensitive, ignoring `_`, `-` and spaces). Only used together with uniqueness. The
/// prefixes are not matched on their own because `account_length` or `customer_age` are
/// ordinary numeric features.
fn looks_like_id(name: &str) -> bool {
    let n = normalized_name(name);
    n.ends_with("id")
        || ["customer", "user", "account"].iter().any(|prefix| {
            n.strip_prefix(prefix).is_some_and(|rest| {
                ["", "no", "num", "number", "code", "key", "ref"].contains(&rest)
            })
        })
}

fn normalized_name(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '_' | '-') && !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether `raw` is an ISO 8601 date or date-time, by the same parser the feature pipeline uses
/// (so a column inferred as dates never fails to parse later).
fn looks_like_iso_datetime(raw: &str) -> bool {
    crate::data::datetime::parse_datetime(raw).is_some()
}

/// Whether a trimmed, non-missing cell can be read as `kind`. Kinds without a parse
/// (categorical, identifier, text) accept everything.
pub(crate) fn cell_matches(kind: ColumnKind, cell: &str) -> bool {
    match kind {
        ColumnKind::Numeric => parse_number(cell).is_some(),
        ColumnKind::Boolean => parse_bool(cell).is_some(),
        ColumnKind::Datetime => looks_like_iso_datetime(cell),
        ColumnKind::Categorical | ColumnKind::Identifier | ColumnKind::Text => true,
    }
}

/// What a cell of `kind` should have looked like, for messages ("`abc` is not a number").
pub(crate) fn expected_text(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Numeric => "a number",
        ColumnKind::Boolean => "a yes/no value",
        ColumnKind::Datetime => "an ISO 8601 date (YYYY-MM-DD)",
        ColumnKind::Categorical => "a known category",
        ColumnKind::Identifier => "an identifier",
        ColumnKind::Text => "text",
    }
}

/// Smallest value (by text) among the cells that fail `kind`, to quote in a note.
fn first_bad<'a>(freq: &Frequencies<'a>, kind: ColumnKind) -> Option<&'a str> {
    freq.counts
        .keys()
        .filter(|k| !cell_matches(kind, k))
        .min()
        .copied()
}

/// Infers one column's kind from its value counts, adding a note for every call a user may
/// want to override. A `stored` type from a typed source settles the question its text would
/// leave open: booleans and dates are taken as they are, numbers are numeric (or an id) even
/// when they look like yes/no 0/1, and text is never numeric (postcodes stay categories).
fn infer_kind(
    name: &str,
    freq: &Frequencies<'_>,
    n_rows: usize,
    max_categories: usize,
    stored: Option<StoredType>,
    notes: &mut Vec<String>,
) -> ColumnKind {
    let present = freq.present();
    if present == 0 {
        notes.push(format!(
            "column `{name}` has no values: it carries no information"
        ));
        return ColumnKind::Numeric;
    }
    match stored {
        Some(StoredType::Boolean) => return ColumnKind::Boolean,
        Some(StoredType::Datetime) => return ColumnKind::Datetime,
        Some(StoredType::Number | StoredType::Text) | None => {}
    }
    let distinct = freq.counts.len();
    let id_name = looks_like_id(name);

    if stored != Some(StoredType::Number) && freq.counts.keys().all(|k| parse_bool(k).is_some()) {
        let mut tokens: Vec<String> = freq.counts.keys().map(|k| k.to_ascii_lowercase()).collect();
        tokens.sort_unstable();
        tokens.dedup();
        if tokens.len() <= 2 {
            return ColumnKind::Boolean;
        }
    }

    let mut numbers = 0;
    let mut integers = true;
    for (k, c) in &freq.counts {
        if let Some(v) = parse_number(k) {
            numbers += c;
            integers &= libm::trunc(v) == v;
        }
    }
    let numeric = match stored {
        Some(StoredType::Number) => true,
        Some(StoredType::Text) => false,
        _ => numbers * 100 >= present * PARSE_SHARE_PERCENT,
    };
    if numeric {
        if numbers == present && integers && distinct == present && id_name {
            notes.push(format!(
                "column `{name}` holds a distinct whole number on every row and is named like an id: treated as an identifier, not a model input"
            ));
            return ColumnKind::Identifier;
        }
        if let Some(bad) = first_bad(freq, ColumnKind::Numeric) {
            notes.push(format!(
                "column `{name}` is numeric but {} values are not numbers (e.g. `{bad}`): rows holding them are quarantined",
                present - numbers
            ));
        }
        return ColumnKind::Numeric;
    }

    let dates: usize = freq
        .counts
        .iter()
        .filter(|(k, _)| looks_like_iso_datetime(k))
        .map(|(_, c)| c)
        .sum();
    if dates * 100 >= present * PARSE_SHARE_PERCENT {
        if let Some(bad) = first_bad(freq, ColumnKind::Datetime) {
            notes.push(format!(
                "column `{name}` holds dates but {} values are not ISO 8601 dates (e.g. `{bad}`): rows holding them are quarantined",
                present - dates
            ));
        }
        return ColumnKind::Datetime;
    }

    let chars: usize = freq.counts.iter().map(|(k, c)| k.chars().count() * c).sum();
    let spaced: usize = freq
        .counts
        .iter()
        .filter(|(k, _)| k.contains(char::is_whitespace))
        .map(|(_, c)| c)
        .sum();
    let free_text = chars > 30 * present || spaced * 2 > present;
    let unique = distinct == present;

    if unique && (id_name || (present >= 20 && !free_text)) {
        notes.push(format!(
            "column `{name}` has a distinct value on every row: treated as an identifier, not a model input"
        ));
        return ColumnKind::Identifier;
    }
    if distinct <= max_categories || distinct * 20 <= n_rows {
        return ColumnKind::Categorical;
    }
    if free_text {
        notes.push(format!(
            "column `{name}` looks like free text: excluded from modelling"
        ));
        return ColumnKind::Text;
    }
    notes.push(format!(
        "column `{name}` is categorical with {distinct} levels (high cardinality): rare levels carry little signal"
    ));
    ColumnKind::Categorical
}

/// One column's inferred type before the id and time options are applied.
struct ColumnGuess {
    kind: ColumnKind,
    /// Levels by frequency, for categorical guesses.
    categories: Vec<String>,
    nullable: bool,
    notes: Vec<String>,
}

/// Infers column `index` on its own, so columns can be read in parallel.
fn guess_column(table: &Table, index: usize, max_categories: usize) -> ColumnGuess {
    let freq = Frequencies::of(table.column(index));
    let mut notes = Vec::new();
    let name = &table.names()[index];
    let kind = infer_kind(
        name,
        &freq,
        table.n_rows(),
        max_categories,
        table.stored_type(index),
        &mut notes,
    );
    let categories = if kind == ColumnKind::Categorical {
        freq.sorted()
            .into_iter()
            .map(|(v, _)| v.to_string())
            .collect()
    } else {
        Vec::new()
    };
    ColumnGuess {
        kind,
        categories,
        nullable: freq.missing > 0,
        notes,
    }
}

/// Whether a target value reads as the churn outcome.
fn churn_like(value: &str) -> bool {
    if parse_bool(value) == Some(true) {
        return true;
    }
    let lower = value.to_ascii_lowercase();
    CHURN_STEMS.iter().any(|stem| lower.contains(stem))
}

fn quoted_list<'a>(values: impl Iterator<Item = &'a str>) -> String {
    let quoted: Vec<String> = values.map(|v| format!("`{v}`")).collect();
    quoted.join(", ")
}

/// Checks that the target has exactly two values and decides which one means churn.
fn target_spec(table: &Table, index: usize, notes: &mut Vec<String>) -> Result<TargetSpec> {
    let name = table.names()[index].clone();
    let freq = Frequencies::of(table.column(index));
    let levels = freq.sorted();
    let bad = |message: String| Error::BadTarget {
        column: name.clone(),
        message,
    };
    // Mixed yes/no spellings of two outcomes (`Yes`, `yes`, `1` / `No`, `0`) are two values, not
    // five: keep the most frequent spelling of each; [`TargetSpec::label`] maps the others.
    let levels = match (
        levels.iter().find(|(v, _)| parse_bool(v) == Some(true)),
        levels.iter().find(|(v, _)| parse_bool(v) == Some(false)),
    ) {
        (Some(&yes), Some(&no)) if levels.iter().all(|(v, _)| parse_bool(v).is_some()) => {
            let count = |b: bool| {
                levels
                    .iter()
                    .filter(|(v, _)| parse_bool(v) == Some(b))
                    .map(|(_, c)| c)
                    .sum::<usize>()
            };
            let (yes, no) = ((yes.0, count(true)), (no.0, count(false)));
            if yes.1 >= no.1 {
                alloc::vec![yes, no]
            } else {
                alloc::vec![no, yes]
            }
        }
        _ => levels,
    };
    let (first, second) = match levels.as_slice() {
        [] => {
            return Err(bad(String::from(
                "no row has a value: label the rows with the outcome (e.g. yes/no)",
            )))
        }
        [(value, count)] => {
            return Err(bad(format!(
                "all {count} labelled rows have the value `{value}`: a model needs both outcomes"
            )))
        }
        [a, b] => (*a, *b),
        _ => {
            let shown = quoted_list(levels.iter().take(5).map(|(v, _)| *v));
            let more = if levels.len() > 5 { ", ..." } else { "" };
            return Err(bad(format!(
                "it has {} distinct values ({shown}{more}): a churn target needs exactly two, such as yes/no or 1/0; recode it or name another column as the target",
                levels.len()
            )));
        }
    };
    // `levels` is sorted by count, so `second` is the less frequent value (ties: later by text).
    let (positive, negative, why) = match (churn_like(first.0), churn_like(second.0)) {
        (true, false) => (first.0, second.0, ""),
        (false, true) => (second.0, first.0, ""),
        _ => (
            second.0,
            first.0,
            " (neither value reads as churn, so the less frequent one is taken as churn)",
        ),
    };
    notes.push(format!(
        "target `{name}`: `{positive}` -> 1 (churned), `{negative}` -> 0{why}"
    ));
    Ok(TargetSpec {
        name,
        positive: positive.to_string(),
        negative: negative.to_string(),
    })
}

fn detect_target(table: &Table) -> Option<usize> {
    let normalized: Vec<String> = table.names().iter().map(|n| normalized_name(n)).collect();
    TARGET_NAMES
        .iter()
        .find_map(|want| normalized.iter().position(|n| n == want))
}

fn named_column(table: &Table, name: &str) -> Result<usize> {
    table
        .column_index(name)
        .ok_or_else(|| Error::MissingColumn {
            column: name.to_string(),
        })
}

/// Infers a schema from a training (or scoring) table.
///
/// Per column, on its non-missing values: all yes/no-like tokens with at most two distinct
/// spellings → boolean (so a 0/1 column is boolean); at least 98% numbers → numeric; at least
/// 98% ISO 8601 dates → datetime; otherwise text columns are split into identifiers (a distinct
/// value on every row, with at least 20 rows or an id-like name), categorical (at most
/// `max_categories` levels or at most 5% of rows), free text (long or mostly multi-word values,
/// excluded) and high-cardinality categorical. Numeric columns of distinct whole numbers named
/// like an id are identifiers.
///
/// Columns a typed source declared ([`Table::stored_type`]) skip what the declaration settles:
/// booleans and dates are taken as declared, numbers are numeric (or an id, as above) even when
/// only 0 and 1 occur, and text is never numeric.
pub fn infer(table: &Table, options: &InferOptions) -> Result<Inference> {
    if table.n_rows() == 0 {
        return Err(Error::EmptyInput);
    }
    // How the file was read (encoding, number formats) comes first: it explains the rest.
    let mut notes = table.notes().to_vec();
    let target_index = match &options.target {
        Some(name) => Some(named_column(table, name)?),
        None => {
            let found = detect_target(table);
            match found {
                Some(i) => notes.push(format!(
                    "target `{}` detected by its name; name another column as the target if it is not the right one",
                    table.names()[i]
                )),
                None if options.require_target => return Err(Error::NoTarget),
                None => {}
            }
            found
        }
    };
    let id_index = options
        .id
        .as_deref()
        .map(|n| named_column(table, n))
        .transpose()?;
    let time_index = options
        .time
        .as_deref()
        .map(|n| named_column(table, n))
        .transpose()?;
    let clash = |name: &'static str, a: Option<usize>, b: Option<usize>, what: &str| match (a, b) {
        (Some(a), Some(b)) if a == b => Err(Error::InvalidParameter {
            name: name.into(),
            message: format!(
                "column `{}` is also the {what}: choose a different column",
                table.names()[a]
            ),
        }),
        _ => Ok(()),
    };
    clash("id", id_index, target_index, "target")?;
    clash("time", time_index, target_index, "target")?;
    clash("time", time_index, id_index, "id column")?;
    let target = target_index
        .map(|i| target_spec(table, i, &mut notes))
        .transpose()?;

    let inputs: Vec<usize> = (0..table.n_cols())
        .filter(|&i| Some(i) != target_index)
        .collect();
    let guess = |&i: &usize| guess_column(table, i, options.max_categories);
    #[cfg(feature = "parallel")]
    let guesses: Vec<ColumnGuess> = {
        use rayon::prelude::*;
        inputs.par_iter().map(guess).collect()
    };
    #[cfg(not(feature = "parallel"))]
    let guesses: Vec<ColumnGuess> = inputs.iter().map(guess).collect();

    let mut columns = Vec::with_capacity(table.n_cols());
    let mut id_column = None;
    let mut time_column = None;
    for (i, guess) in inputs.into_iter().zip(guesses) {
        let name = &table.names()[i];
        let ColumnGuess {
            mut kind,
            mut categories,
            nullable,
            notes: column_notes,
        } = guess;
        notes.extend(column_notes);
        if Some(i) == id_index {
            if kind != ColumnKind::Identifier {
                notes.push(format!(
                    "column `{name}` is the id column as requested (its values are not all distinct)"
                ));
            }
            kind = ColumnKind::Identifier;
            id_column = Some(name.clone());
        } else if id_index.is_none()
            && id_column.is_none()
            && kind == ColumnKind::Identifier
            && looks_like_id(name)
        {
            notes.push(format!(
                "column `{name}` used as the customer id; name another column as the id if it is not the right one"
            ));
            id_column = Some(name.clone());
        }
        if Some(i) == time_index {
            if !matches!(kind, ColumnKind::Datetime | ColumnKind::Numeric) {
                return Err(Error::InvalidParameter {
                    name: "time".into(),
                    message: format!(
                        "column `{name}` was read as {kind:?}, but the time column must hold ISO 8601 dates (YYYY-MM-DD) or numbers"
                    ),
                });
            }
            time_column = Some(name.clone());
        }
        if kind != ColumnKind::Categorical {
            categories.clear();
        }
        columns.push(ColumnSchema {
            name: name.clone(),
            kind,
            categories,
            nullable,
        });
    }
    Ok(Inference {
        schema: Schema {
            columns,
            target,
            id_column,
            time_column,
        },
        notes,
    })
}

impl TargetSpec {
    /// The label of one raw target value: 1 for the positive value, 0 for the negative one,
    /// `None` for anything else, missing values included. This is the one mapping training,
    /// evaluation and monitoring use.
    ///
    /// After trimming, the two known values match exactly. When both known values are yes/no-like
    /// with opposite meanings (`Yes`/`No`, `1`/`0`, `true`/`false`), every yes/no-like spelling
    /// maps the same way ([`parse_bool`]: yes/no, true/false, y/n, t/f, 1/0 in any case), so a
    /// model trained on `Yes`/`No` reads a file labelled `1`/`0`. Other pairs (`Churned`/`Stayed`)
    /// have no such equivalents and only match exactly.
    pub fn label(&self, raw: &str) -> Option<f64> {
        let t = raw.trim();
        if t == self.positive {
            return Some(1.0);
        }
        if t == self.negative {
            return Some(0.0);
        }
        let positive = parse_bool(&self.positive)?;
        if parse_bool(&self.negative)? == positive {
            return None;
        }
        parse_bool(t).map(|b| if b == positive { 1.0 } else { 0.0 })
    }

    /// Why no row of a table could be labelled, in the data's terms: the values the target
    /// column holds (`seen`, distinct, most frequent first) against the two the model knows.
    pub fn mismatch(&self, seen: &[&str]) -> Error {
        let message = if seen.is_empty() {
            format!(
                "no row has a value; the model knows `{}` = churned, `{}` = stayed",
                self.positive, self.negative
            )
        } else {
            let more = if seen.len() > 5 { ", ..." } else { "" };
            format!(
                "the column holds {}{more}; the model knows `{}` = churned, `{}` = stayed: recode the column to these values",
                quoted_list(seen.iter().take(5).copied()),
                self.positive,
                self.negative
            )
        };
        Error::BadTarget {
            column: self.name.clone(),
            message,
        }
    }

    /// The distinct non-missing values of this target in `column` (trimmed, most frequent
    /// first), for [`TargetSpec::mismatch`].
    pub fn values_in<'t>(&self, column: &'t TextColumn) -> Vec<&'t str> {
        Frequencies::of(column)
            .sorted()
            .into_iter()
            .map(|(v, _)| v)
            .collect()
    }

    /// Labels of every row of `table`: `None` where the target is missing. A value that is
    /// neither of the two known outcomes is an error naming the row; the quality report's
    /// quarantine sets such rows aside beforehand.
    pub fn labels(&self, table: &Table) -> Result<Vec<Option<f64>>> {
        let index = named_column(table, &self.name)?;
        table
            .column(index)
            .iter()
            .enumerate()
            .map(|(row, raw)| {
                if is_na(raw) {
                    return Ok(None);
                }
                self.label(raw).map(Some).ok_or_else(|| Error::BadValue {
                    row: table.source_row(row),
                    column: self.name.clone(),
                    value: raw.to_string(),
                    expected: "one of the two target values seen in training".into(),
                })
            })
            .collect()
    }
}

/// A column whose cells no longer parse as the schema's type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypeChange {
    /// Column name.
    pub column: String,
    /// The type in the schema.
    pub expected: ColumnKind,
    /// Number of non-missing cells that do not parse.
    pub bad_values: usize,
    /// The first few bad cells as (source row, raw value).
    pub examples: Vec<(usize, String)>,
}

/// How a table differs from a schema. The target column may be absent (scoring data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchemaCheck {
    /// Rows in the checked table.
    pub n_rows: usize,
    /// Schema columns absent from the table.
    pub missing_columns: Vec<String>,
    /// The subset of `missing_columns` the model reads.
    pub missing_model_inputs: Vec<String>,
    /// Table columns the schema does not know (ignored when scoring).
    pub extra_columns: Vec<String>,
    /// Per categorical column, the first unseen levels in row order.
    pub new_categories: Vec<(String, Vec<String>)>,
    /// Columns with cells that do not parse as the schema's type.
    pub type_changes: Vec<TypeChange>,
}

impl SchemaCheck {
    fn too_many_bad(&self, change: &TypeChange) -> bool {
        change.bad_values * 100 > self.n_rows * 2
    }

    /// Whether the table can be scored: every model input is present and no column has more
    /// than 2% of its rows failing to parse (fewer bad rows are quarantined instead).
    pub fn is_usable(&self) -> bool {
        self.missing_model_inputs.is_empty()
            && !self.type_changes.iter().any(|c| self.too_many_bad(c))
    }

    /// This check, or [`Error::SchemaMismatch`] naming the columns that make it unusable.
    pub fn into_result(self) -> Result<SchemaCheck> {
        if self.is_usable() {
            return Ok(self);
        }
        let mut parts = Vec::new();
        if !self.missing_model_inputs.is_empty() {
            parts.push(format!(
                "columns the model needs are missing: {}",
                quoted_list(self.missing_model_inputs.iter().map(String::as_str))
            ));
        }
        for change in self.type_changes.iter().filter(|c| self.too_many_bad(c)) {
            let example = change
                .examples
                .first()
                .map(|(row, value)| format!(" (e.g. row {row}: `{value}`)"))
                .unwrap_or_default();
            parts.push(format!(
                "column `{}` should hold {} but {} of {} rows do not{example}",
                change.column,
                expected_text(change.expected),
                change.bad_values,
                self.n_rows
            ));
        }
        Err(Error::SchemaMismatch {
            message: format!(
                "{}; fix the file or retrain on data with this layout",
                parts.join("; ")
            ),
        })
    }
}

impl Schema {
    /// The schema of column `name`.
    pub fn column(&self, name: &str) -> Option<&ColumnSchema> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The columns the model reads, with their index in [`Schema::columns`]: model-input kinds
    /// other than the id and time columns.
    pub fn model_inputs(&self) -> impl Iterator<Item = (usize, &ColumnSchema)> + '_ {
        self.columns.iter().enumerate().filter(move |(_, c)| {
            c.kind.is_model_input()
                && self.id_column.as_deref() != Some(c.name.as_str())
                && self.time_column.as_deref() != Some(c.name.as_str())
        })
    }

    /// Compares `table` with this schema: missing and extra columns, unseen categorical levels
    /// and cells that no longer parse as their column's type.
    pub fn check(&self, table: &Table) -> SchemaCheck {
        let inputs: HashSet<&str> = self.model_inputs().map(|(_, c)| c.name.as_str()).collect();
        let target = self.target.as_ref().map(|t| t.name.as_str());
        let mut check = SchemaCheck {
            n_rows: table.n_rows(),
            missing_columns: Vec::new(),
            missing_model_inputs: Vec::new(),
            extra_columns: table
                .names()
                .iter()
                .filter(|n| self.column(n).is_none() && Some(n.as_str()) != target)
                .cloned()
                .collect(),
            new_categories: Vec::new(),
            type_changes: Vec::new(),
        };
        for col in &self.columns {
            let Some(index) = table.column_index(&col.name) else {
                check.missing_columns.push(col.name.clone());
                if inputs.contains(col.name.as_str()) {
                    check.missing_model_inputs.push(col.name.clone());
                }
                continue;
            };
            let cells = table.column(index);
            match col.kind {
                ColumnKind::Categorical => {
                    let known: HashSet<&str> = col.categories.iter().map(String::as_str).collect();
                    let mut unseen: Vec<String> = Vec::new();
                    for raw in cells.iter().filter(|r| !is_na(r)) {
                        let t = raw.trim();
                        if !known.contains(t) && !unseen.iter().any(|u| u == t) {
                            unseen.push(t.to_string());
                            if unseen.len() == MAX_NEW_LEVELS {
                                break;
                            }
                        }
                    }
                    if !unseen.is_empty() {
                        check.new_categories.push((col.name.clone(), unseen));
                    }
                }
                ColumnKind::Numeric | ColumnKind::Boolean | ColumnKind::Datetime => {
                    let mut bad_values = 0;
                    let mut examples = Vec::new();
                    for (row, raw) in cells.iter().enumerate() {
                        if !is_na(raw) && !cell_matches(col.kind, raw.trim()) {
                            bad_values += 1;
                            if examples.len() < MAX_TYPE_CHANGE_EXAMPLES {
                                examples.push((table.source_row(row), raw.to_string()));
                            }
                        }
                    }
                    if bad_values > 0 {
                        check.type_changes.push(TypeChange {
                            column: col.name.clone(),
                            expected: col.kind,
                            bad_values,
                            examples,
                        });
                    }
                }
                ColumnKind::Identifier | ColumnKind::Text => {}
            }
        }
        check
    }

    /// The schema as pretty-printed JSON (the schema file format).
    pub fn to_json(&self) -> String {
        // Cannot fail: every field is a string, bool, enum or list of those.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads a schema file written by [`Schema::to_json`].
    pub fn from_json(json: &str) -> Result<Schema> {
        let schema: Schema = serde_json::from_str(json).map_err(|e| Error::Artifact {
            message: format!("the schema file is not valid ({e}): write it again with the schema command or fix the JSON"),
        })?;
        for (i, col) in schema.columns.iter().enumerate() {
            if schema.columns[..i].iter().any(|c| c.name == col.name) {
                return Err(Error::DuplicateColumn {
                    column: col.name.clone(),
                });
            }
        }
        Ok(schema)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use alloc::vec;

    /// A table from comma-separated lines, the first being the header (no quoting).
    pub(crate) fn table(lines: &[&str]) -> Table {
        let mut t = Table::new(lines[0].split(',').map(String::from).collect()).unwrap();
        for (i, line) in lines[1..].iter().enumerate() {
            t.push_row(i + 1, line.split(',')).unwrap();
        }
        t
    }

    /// A table from columns of equal length.
    pub(crate) fn table_of(columns: &[(&str, Vec<String>)]) -> Table {
        let mut t = Table::new(columns.iter().map(|c| c.0.to_string()).collect()).unwrap();
        for row in 0..columns[0].1.len() {
            t.push_row(row + 1, columns.iter().map(|c| c.1[row].as_str()))
                .unwrap();
        }
        t
    }

    fn kind(inference: &Inference, name: &str) -> ColumnKind {
        inference.schema.column(name).unwrap().kind
    }

    #[test]
    fn stored_types_settle_what_text_leaves_open() {
        let n = 40;
        let cells = |f: &dyn Fn(usize) -> String| (0..n).map(f).collect::<Vec<_>>();
        let mut t = table_of(&[
            ("flag01", cells(&|i| (i % 2).to_string())),
            ("postcode", cells(&|i| format!("{}", 10_000 + i % 7))),
            (
                "active",
                cells(&|i| if i % 3 == 0 { "true" } else { "false" }.into()),
            ),
            (
                "plan",
                cells(&|i| if i % 2 == 0 { "yes" } else { "no" }.into()),
            ),
            ("signup", cells(&|i| format!("2024-01-{:02}", i % 28 + 1))),
            ("customer_id", cells(&|i| i.to_string())),
        ]);
        let untyped = infer(&t, &InferOptions::default()).unwrap();
        assert_eq!(kind(&untyped, "flag01"), ColumnKind::Boolean);
        assert_eq!(kind(&untyped, "postcode"), ColumnKind::Numeric);
        for (col, stored) in [
            ("flag01", StoredType::Number),
            ("postcode", StoredType::Text),
            ("active", StoredType::Boolean),
            ("plan", StoredType::Text),
            ("signup", StoredType::Datetime),
            ("customer_id", StoredType::Number),
        ] {
            let i = t.column_index(col).unwrap();
            t.set_stored_type(i, stored);
        }
        let typed = infer(&t, &InferOptions::default()).unwrap();
        assert_eq!(kind(&typed, "flag01"), ColumnKind::Numeric);
        assert_eq!(kind(&typed, "postcode"), ColumnKind::Categorical);
        assert_eq!(kind(&typed, "active"), ColumnKind::Boolean);
        // Text still reads as yes/no, and a distinct number named like an id is still the id.
        assert_eq!(kind(&typed, "plan"), ColumnKind::Boolean);
        assert_eq!(kind(&typed, "signup"), ColumnKind::Datetime);
        assert_eq!(kind(&typed, "customer_id"), ColumnKind::Identifier);
        // Setting rows aside keeps the declarations.
        let kept = t.filter_rows(|r| r % 2 == 0);
        assert_eq!(kept.stored_type(1), Some(StoredType::Text));
    }

    #[test]
    fn iso_shape() {
        for ok in [
            "2024-01-31",
            " 2024-01-31 ",
            "2024-01-31T10:20",
            "2024-01-31 10:20:30",
            "2024-01-31T10:20:30.123Z",
            "2024-01-31T10:20:30+02:00",
            "2024-01-31T10:20:30-05:00",
        ] {
            assert!(looks_like_iso_datetime(ok), "{ok}");
        }
        for bad in [
            "2024-13-01",
            "2024-01-32",
            "24-01-31",
            "2024/01/31",
            "2024-01-31T",
            "2024-01-31T25:00",
            "2024-01-31T10:20:30.",
            "2024-01-31x",
            "31-01-2024",
        ] {
            assert!(!looks_like_iso_datetime(bad), "{bad}");
        }
    }

    #[test]
    fn infers_each_kind() {
        // 60 rows so that one bad cell stays under the 2% allowance.
        let n = 60;
        let col = |f: &dyn Fn(usize) -> String| (0..n).map(f).collect::<Vec<_>>();
        let t = table_of(&[
            ("customer_id", col(&|i| format!("C{i:04}"))),
            ("account_no", col(&|i| format!("{}", 1000 + i))),
            ("account_length", col(&|i| format!("{}", 1000 + i))),
            ("email_verified", col(&|i| String::from(["0", "1"][i % 2]))),
            ("opted_in", col(&|i| String::from(["Yes", "no"][i % 3 / 2]))),
            (
                "monthly",
                col(&|i| {
                    if i == 7 {
                        "n/a".into()
                    } else {
                        format!("{}.5", i % 9)
                    }
                }),
            ),
            (
                "tenure",
                col(&|i| {
                    if i == 3 {
                        "abc".into()
                    } else {
                        format!("{}", i % 7)
                    }
                }),
            ),
            (
                "signup",
                col(&|i| format!("2023-0{}-1{}", 1 + i % 9, i % 10)),
            ),
            (
                "plan",
                col(&|i| String::from(["basic", "pro", "max"][i % 3])),
            ),
            (
                "comment",
                col(&|i| format!("customer number {i} called about the bill")),
            ),
            ("code", col(&|i| format!("Z{i}"))),
            ("empty", col(&|_| String::from("NA"))),
            (
                "churn",
                col(&|i| String::from(["no", "yes"][usize::from(i % 4 == 0)])),
            ),
        ]);
        let inf = infer(&t, &InferOptions::default()).unwrap();
        assert_eq!(kind(&inf, "customer_id"), ColumnKind::Identifier);
        assert_eq!(kind(&inf, "account_no"), ColumnKind::Identifier);
        assert_eq!(kind(&inf, "account_length"), ColumnKind::Numeric);
        assert_eq!(kind(&inf, "email_verified"), ColumnKind::Boolean);
        assert_eq!(kind(&inf, "opted_in"), ColumnKind::Boolean);
        assert_eq!(kind(&inf, "monthly"), ColumnKind::Numeric);
        assert!(inf.schema.column("monthly").unwrap().nullable);
        assert!(!inf.schema.column("plan").unwrap().nullable);
        assert_eq!(kind(&inf, "tenure"), ColumnKind::Numeric);
        assert_eq!(kind(&inf, "signup"), ColumnKind::Datetime);
        assert_eq!(kind(&inf, "plan"), ColumnKind::Categorical);
        assert_eq!(
            inf.schema.column("plan").unwrap().categories,
            vec!["basic", "max", "pro"]
                .into_iter()
                .map(String::from)
                .collect::<Vec<_>>()
        );
        assert_eq!(kind(&inf, "comment"), ColumnKind::Text);
        assert_eq!(kind(&inf, "code"), ColumnKind::Identifier);
        assert_eq!(kind(&inf, "empty"), ColumnKind::Numeric);
        assert!(inf.schema.column("churn").is_none());
        assert_eq!(inf.schema.id_column.as_deref(), Some("customer_id"));
        let has = |needle: &str| inf.notes.iter().any(|n| n.contains(needle));
        assert!(has(
            "column `comment` looks like free text: excluded from modelling"
        ));
        assert!(has(
            "column `tenure` is numeric but 1 values are not numbers (e.g. `abc`)"
        ));
        assert!(has("column `empty` has no values"));
        assert!(has("target `churn` detected by its name"));
        assert!(has("column `customer_id` used as the customer id"));
        let inputs: Vec<&str> = inf
            .schema
            .model_inputs()
            .map(|(_, c)| c.name.as_str())
            .collect();
        assert_eq!(
            inputs,
            [
                "account_length",
                "email_verified",
                "opted_in",
                "monthly",
                "tenure",
                "signup",
                "plan",
                "empty"
            ]
        );
    }

    #[test]
    fn numeric_ids_and_categorical_rules() {
        let n = 30;
        let col = |f: &dyn Fn(usize) -> String| (0..n).map(f).collect::<Vec<_>>();
        let t = table_of(&[
            ("UserID", col(&|i| format!("{}", 500 + i * 3))),
            ("score", col(&|i| format!("{}", 500 + i * 3))),
            ("city", col(&|i| format!("city{}", i % 12))),
            ("churn", col(&|i| String::from(["0", "1"][i % 2]))),
        ]);
        let inf = infer(&t, &InferOptions::default()).unwrap();
        assert_eq!(kind(&inf, "UserID"), ColumnKind::Identifier);
        assert_eq!(inf.schema.id_column.as_deref(), Some("UserID"));
        assert_eq!(kind(&inf, "score"), ColumnKind::Numeric);
        assert_eq!(kind(&inf, "city"), ColumnKind::Categorical);
        let inf = infer(&t, &InferOptions::new().with_max_categories(5)).unwrap();
        assert_eq!(kind(&inf, "city"), ColumnKind::Categorical);
        assert!(inf
            .notes
            .iter()
            .any(|n| n.contains("`city` is categorical with 12 levels")));
        // A requested id column is an identifier even when not unique.
        let inf = infer(&t, &InferOptions::new().with_id("city")).unwrap();
        assert_eq!(kind(&inf, "city"), ColumnKind::Identifier);
        assert_eq!(inf.schema.id_column.as_deref(), Some("city"));
        assert_eq!(kind(&inf, "UserID"), ColumnKind::Identifier);
    }

    #[test]
    fn target_detection_and_mapping() {
        let t = table(&["RowNumber,Exited", "1,0", "2,1", "3,0"]);
        let inf = infer(&t, &InferOptions::default()).unwrap();
        let spec = inf.schema.target.clone().unwrap();
        assert_eq!(
            (spec.name.as_str(), spec.positive.as_str()),
            ("Exited", "1")
        );
        assert!(inf
            .notes
            .iter()
            .any(|n| n == "target `Exited`: `1` -> 1 (churned), `0` -> 0"));

        let t = table(&["x,Has-Churned", "1,yes", "2,no", "3,yes", "4,yes"]);
        let inf = infer(&t, &InferOptions::default()).unwrap();
        let spec = inf.schema.target.unwrap();
        assert_eq!(spec.name, "Has-Churned");
        assert_eq!(
            (spec.positive.as_str(), spec.negative.as_str()),
            ("yes", "no")
        );
        assert!(inf
            .notes
            .iter()
            .any(|n| n == "target `Has-Churned`: `yes` -> 1 (churned), `no` -> 0"));

        let t = table(&["status", "Churned", "Stayed", "Churned"]);
        let spec = infer(&t, &InferOptions::new().with_target("status"))
            .unwrap()
            .schema
            .target
            .unwrap();
        assert_eq!(spec.positive, "Churned");
        assert_eq!(spec.label(" Churned "), Some(1.0));
        assert_eq!(spec.label("Stayed"), Some(0.0));
        assert_eq!(spec.label("churned"), None);
        assert_eq!(
            spec.label("1"),
            None,
            "Churned/Stayed have no yes/no equivalents"
        );

        // Neither value reads as churn: the less frequent one is positive.
        let t = table(&["x,label", "1,A", "2,B", "3,A"]);
        let inf = infer(&t, &InferOptions::default()).unwrap();
        assert_eq!(inf.schema.target.unwrap().positive, "B");
        assert!(inf.notes.iter().any(|n| n.contains("less frequent")));

        // Preference follows the list: `churn` beats `label`.
        let t = table(&["label,churn", "a,yes", "b,no"]);
        let inf = infer(&t, &InferOptions::default()).unwrap();
        assert_eq!(inf.schema.target.as_ref().unwrap().name, "churn");
        assert_eq!(kind(&inf, "label"), ColumnKind::Categorical);
    }

    #[test]
    fn target_errors() {
        let t = table(&["x,churn", "1,no", "2,no", "3,", "4,no"]);
        let err = infer(&t, &InferOptions::default()).unwrap_err();
        assert_eq!(
            err,
            Error::BadTarget {
                column: "churn".into(),
                message: "all 3 labelled rows have the value `no`: a model needs both outcomes"
                    .into()
            }
        );
        let t = table(&["x,churn", "1,a", "2,b", "3,c", "4,c", "5,d", "6,e", "7,f"]);
        let Error::BadTarget { message, .. } = infer(&t, &InferOptions::default()).unwrap_err()
        else {
            panic!("expected BadTarget")
        };
        assert!(
            message.starts_with("it has 6 distinct values (`c`, `a`, `b`, `d`, `e`, ...)"),
            "{message}"
        );
        let t = table(&["x,churn", "1,a", "2,b", "3,c"]);
        assert!(matches!(
            infer(&t, &InferOptions::default()),
            Err(Error::BadTarget { .. })
        ));

        let t = table(&["x,y", "1,2"]);
        assert_eq!(
            infer(&t, &InferOptions::new().with_target("churn")).unwrap_err(),
            Error::MissingColumn {
                column: "churn".into()
            }
        );
        assert_eq!(
            infer(&t, &InferOptions::new().with_require_target(true)).unwrap_err(),
            Error::NoTarget
        );
        let inf = infer(&t, &InferOptions::default()).unwrap();
        assert!(inf.schema.target.is_none());
        assert_eq!(inf.schema.columns.len(), 2);
        assert!(matches!(
            infer(&t, &InferOptions::new().with_target("x").with_id("x")),
            Err(Error::InvalidParameter { name, .. }) if name == "id"
        ));
        let empty = Table::new(vec!["churn".into()]).unwrap();
        assert_eq!(
            infer(&empty, &InferOptions::default()).unwrap_err(),
            Error::EmptyInput
        );
    }

    #[test]
    fn time_column() {
        let t = table(&[
            "snapshot,week,plan,churn",
            "2024-01-01,1,a,yes",
            "2024-02-01,2,b,no",
            "2024-03-01,3,a,no",
        ]);
        let inf = infer(&t, &InferOptions::new().with_time("snapshot")).unwrap();
        assert_eq!(inf.schema.time_column.as_deref(), Some("snapshot"));
        assert_eq!(kind(&inf, "snapshot"), ColumnKind::Datetime);
        assert!(inf.schema.model_inputs().all(|(_, c)| c.name != "snapshot"));
        assert!(infer(&t, &InferOptions::new().with_time("week")).is_ok());
        assert!(matches!(
            infer(&t, &InferOptions::new().with_time("plan")),
            Err(Error::InvalidParameter { name, .. }) if name == "time"
        ));
        assert!(matches!(
            infer(&t, &InferOptions::new().with_time("nope")),
            Err(Error::MissingColumn { .. })
        ));
    }

    #[test]
    fn yes_no_spellings_map_one_to_one() {
        let spec = TargetSpec {
            name: "churn".into(),
            positive: "Yes".into(),
            negative: "No".into(),
        };
        for (raw, want) in [
            ("Yes", Some(1.0)),
            (" 1 ", Some(1.0)),
            ("TRUE", Some(1.0)),
            ("yes", Some(1.0)),
            ("0", Some(0.0)),
            ("false", Some(0.0)),
            ("NO", Some(0.0)),
            ("maybe", None),
            ("", None),
        ] {
            assert_eq!(spec.label(raw), want, "{raw:?}");
        }
        // Two yes-like values are not a yes/no pair: only exact matches count.
        let odd = TargetSpec {
            positive: "yes".into(),
            negative: "y".into(),
            ..spec.clone()
        };
        assert_eq!(odd.label("1"), None);
        let err = TargetSpec {
            positive: "Churned".into(),
            negative: "Stayed".into(),
            ..spec
        }
        .mismatch(&["1", "0"]);
        assert_eq!(
            err.to_string(),
            "target column `churn`: the column holds `1`, `0`; the model knows `Churned` = churned, `Stayed` = stayed: recode the column to these values"
        );
        // Training on mixed spellings of two outcomes: one pair, the most frequent spellings.
        let t = table(&[
            "x,churn", "1,Yes", "2,no", "3,1", "4,No", "5,yes", "6,Yes", "7,0", "8,No",
        ]);
        let inf = infer(&t, &InferOptions::default()).unwrap();
        let spec = inf.schema.target.unwrap();
        assert_eq!(
            (spec.positive.as_str(), spec.negative.as_str()),
            ("Yes", "No")
        );
        assert_eq!(spec.labels(&t).unwrap().iter().flatten().sum::<f64>(), 4.0);
    }

    #[test]
    fn labels_of_a_table() {
        let t = table(&["x,churn", "1,yes", "2,", "3,no", "4,maybe"]);
        let spec = TargetSpec {
            name: "churn".into(),
            positive: "yes".into(),
            negative: "no".into(),
        };
        let err = spec.labels(&t).unwrap_err();
        assert_eq!(
            err,
            Error::BadValue {
                row: 4,
                column: "churn".into(),
                value: "maybe".into(),
                expected: "one of the two target values seen in training".into()
            }
        );
        let clean = t.filter_rows(|r| r != 3);
        assert_eq!(
            spec.labels(&clean).unwrap(),
            vec![Some(1.0), None, Some(0.0)]
        );
        let other = table(&["x", "1"]);
        assert!(matches!(
            spec.labels(&other),
            Err(Error::MissingColumn { .. })
        ));
    }

    fn trained() -> Schema {
        let t = table(&[
            "id,plan,charge,paperless,churn",
            "a,basic,1.5,yes,no",
            "b,pro,2.5,no,yes",
            "c,basic,3,yes,no",
        ]);
        infer(&t, &InferOptions::new().with_id("id"))
            .unwrap()
            .schema
    }

    #[test]
    fn check_against_schema() {
        let schema = trained();
        // Same layout without the target: fine.
        let t = table(&["id,plan,charge,paperless", "d,pro,4,no"]);
        let check = schema.check(&t);
        assert!(check.is_usable());
        assert!(check.missing_columns.is_empty() && check.extra_columns.is_empty());

        let t = table(&[
            "id,plan,charge,region,churn",
            "d,gold,4,n,yes",
            "e,basic,x1,s,no",
            "f,silver,5,s,no",
            "g,gold,6,s,no",
        ]);
        let check = schema.check(&t);
        assert_eq!(check.missing_columns, ["paperless"]);
        assert_eq!(check.missing_model_inputs, ["paperless"]);
        assert_eq!(check.extra_columns, ["region"]);
        assert_eq!(
            check.new_categories,
            vec![(
                "plan".to_string(),
                vec!["gold".to_string(), "silver".to_string()]
            )]
        );
        assert_eq!(
            check.type_changes,
            vec![TypeChange {
                column: "charge".into(),
                expected: ColumnKind::Numeric,
                bad_values: 1,
                examples: vec![(2, "x1".into())],
            }]
        );
        assert!(!check.is_usable());
        let Err(Error::SchemaMismatch { message }) = check.into_result() else {
            panic!("expected a mismatch")
        };
        assert!(message.contains("`paperless`"), "{message}");
        assert!(
            message.contains(
                "column `charge` should hold a number but 1 of 4 rows do not (e.g. row 2: `x1`)"
            ),
            "{message}"
        );

        // A missing non-input column (the id) is reported but does not block scoring.
        let t = table(&["plan,charge,paperless", "basic,1,no"]);
        let check = schema.check(&t);
        assert_eq!(check.missing_columns, ["id"]);
        assert!(check.into_result().is_ok());
    }

    #[test]
    fn json_round_trip() {
        let schema = trained();
        let json = schema.to_json();
        assert!(json.contains("\"kind\": \"categorical\""));
        assert_eq!(Schema::from_json(&json).unwrap(), schema);
        assert!(matches!(
            Schema::from_json("{\"columns\": 3}"),
            Err(Error::Artifact { .. })
        ));
        let mut dup = schema.clone();
        dup.columns.push(dup.columns[0].clone());
        assert!(matches!(
            Schema::from_json(&dup.to_json()),
            Err(Error::DuplicateColumn { .. })
        ));
    }

    #[test]
    fn telecom_sample() {
        let t = table(&[
            "state,account_length,area_code,international_plan,voice_mail_plan,number_vmail_messages,total_day_minutes,number_customer_service_calls,churn",
            "KS,128,area_code_415,no,yes,25,265.1,1,no",
            "OH,107,area_code_415,no,yes,26,161.6,1,no",
            "NJ,137,area_code_415,no,no,0,243.4,0,no",
            "OH,84,area_code_408,yes,no,0,299.4,2,no",
            "OK,75,area_code_415,yes,no,0,166.7,3,no",
            "AL,118,area_code_510,yes,no,0,223.4,0,no",
            "MA,121,area_code_510,no,yes,24,218.2,3,no",
            "MO,147,area_code_415,yes,no,0,157,0,no",
            "WV,141,area_code_415,yes,yes,37,258.6,0,no",
            "IN,65,area_code_415,no,no,0,129.1,4,yes",
        ]);
        let inf = infer(&t, &InferOptions::new().with_require_target(true)).unwrap();
        let s = &inf.schema;
        assert_eq!(s.target.as_ref().unwrap().positive, "yes");
        for (name, k) in [
            ("state", ColumnKind::Categorical),
            ("account_length", ColumnKind::Numeric),
            ("area_code", ColumnKind::Categorical),
            ("international_plan", ColumnKind::Boolean),
            ("number_vmail_messages", ColumnKind::Numeric),
            ("total_day_minutes", ColumnKind::Numeric),
        ] {
            assert_eq!(s.column(name).unwrap().kind, k, "{name}");
        }
        assert_eq!(s.id_column, None);
        assert_eq!(s.model_inputs().count(), 8);
    }
}
