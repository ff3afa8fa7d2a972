//! The data-quality report: per-column statistics and flags (constant, near-constant, high
//! cardinality, possible target leakage, cells that do not parse), duplicate rows and ids, the
//! target balance, and the quarantine: rows that cannot be used as they are. Quarantined rows
//! are set aside with their reasons ([`split_quarantine`]), never dropped silently.
//!
//! Each column is read once into counts of its distinct trimmed values (with the target
//! outcomes seen alongside each value); statistics, quantiles and AUCs are then computed on the
//! distinct values, so the cost is one hash lookup per cell plus a sort of distinct values.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::hash::{Hash, Hasher};
use hashbrown::HashMap;
use serde::{Deserialize, Serialize};

use crate::data::schema::{cell_matches, expected_text, ColumnKind, ColumnSchema, Schema};
use crate::data::table::{is_na, Table};
use crate::error::Result;
use crate::progress::Reporter;

/// How many bad cells a column lists.
const MAX_BAD_EXAMPLES: usize = 20;
/// How many top values a categorical or boolean column lists.
const MAX_TOP_VALUES: usize = 10;
/// How many duplicate row / id pairs are listed.
const MAX_DUPLICATE_EXAMPLES: usize = 10;
/// A univariate AUC at least this far from 0.5 (>= 0.98 or <= 0.02) flags possible leakage.
const LEAKAGE_MARGIN: f64 = 0.48;
/// Leakage is only judged with at least this many labelled rows of each outcome: with fewer, a
/// random column separates the classes perfectly too often.
const MIN_CLASS_ROWS_FOR_LEAKAGE: usize = 10;

/// Summary statistics of a numeric column's parsed values.
///
/// `std` is the sample standard deviation (n - 1 denominator; 0 for a single value). Quantiles
/// use linear interpolation between order statistics (position `(n - 1) * p` in the sorted
/// values, the default of R and NumPy). Outliers follow the IQR rule: values below
/// `p25 - 1.5 * IQR` or above `p75 + 1.5 * IQR`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericStats {
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    pub std: f64,
    pub p1: f64,
    pub p5: f64,
    pub p25: f64,
    pub p50: f64,
    pub p75: f64,
    pub p95: f64,
    pub p99: f64,
    /// Values outside the 1.5 x IQR fences.
    pub outliers: usize,
}

/// Flags raised on a column.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ColumnFlags {
    /// At most one distinct non-missing value.
    pub constant: bool,
    /// The most frequent value covers at least 99% of the non-missing cells.
    pub near_constant: bool,
    /// Categorical with more than 50 levels, or more than 10 levels covering over 10% of rows.
    pub high_cardinality: bool,
    /// The column alone separates the target (AUC >= 0.98 or <= 0.02).
    pub leakage_suspect: bool,
}

/// The report on one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnQuality {
    pub name: String,
    pub kind: ColumnKind,
    /// Missing cells (empty or an NA token).
    pub missing: usize,
    /// `missing / n_rows` (0 for an empty table).
    pub missing_rate: f64,
    /// Distinct non-missing values that parse as the column's kind (bad cells excluded): by
    /// parsed value for numeric columns, by trimmed text otherwise.
    pub distinct: usize,
    /// Numeric columns only.
    pub numeric: Option<NumericStats>,
    /// Categorical and boolean columns: most frequent values (ties by text, bad cells
    /// excluded), up to 10.
    pub top_values: Vec<(String, usize)>,
    pub flags: ColumnFlags,
    /// The univariate ROC-AUC against the target, when judged (see [`report`]).
    pub target_auc: Option<f64>,
    /// Non-missing cells that do not parse as the column's kind.
    pub bad_cells: usize,
    /// The first of them as (source row, raw value), up to 20.
    pub bad_examples: Vec<(usize, String)>,
}

/// Rows identical to an earlier row over all columns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DuplicateRows {
    /// Rows that repeat an earlier row (the first occurrence is not counted).
    pub count: usize,
    /// (source row of the first occurrence, source row of the repeat), up to 10.
    pub examples: Vec<(usize, usize)>,
}

/// Id values used by more than one row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DuplicateIds {
    pub column: String,
    /// Rows whose id was already used by an earlier row.
    pub count: usize,
    /// (id, source row of its first use, source row of the repeat), up to 10.
    pub examples: Vec<(String, usize, usize)>,
}

/// The target's balance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetQuality {
    pub column: String,
    pub positive: String,
    pub negative: String,
    pub n_positive: usize,
    pub n_negative: usize,
    pub n_missing: usize,
    /// Values that are neither outcome.
    pub n_invalid: usize,
    /// `n_positive / (n_positive + n_negative)`, `None` without labelled rows.
    pub positive_rate: Option<f64>,
}

/// A row set aside and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuarantinedRow {
    /// Row index in the table.
    pub row: usize,
    /// 1-based data-row number in the source file.
    pub source_row: usize,
    /// One line per problem, in column order, the target last.
    pub reasons: Vec<String>,
}

/// Rows that cannot be used as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Quarantine {
    /// Sorted table row indices.
    pub rows: Vec<usize>,
    /// The same rows with their source row numbers and reasons.
    pub entries: Vec<QuarantinedRow>,
}

/// The data-quality report of a table under a schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityReport {
    pub n_rows: usize,
    pub n_columns: usize,
    /// Schema columns present in the table, in schema order (the target is under `target`).
    pub columns: Vec<ColumnQuality>,
    pub duplicate_rows: DuplicateRows,
    /// Present when the schema names an id column that the table holds.
    pub duplicate_ids: Option<DuplicateIds>,
    /// Present when the schema has a target that the table holds.
    pub target: Option<TargetQuality>,
    pub quarantine: Quarantine,
}

/// Counts of one distinct value: rows, and rows per target outcome.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    n: usize,
    pos: usize,
    neg: usize,
}

impl Tally {
    fn add(&mut self, label: Option<bool>) {
        self.n += 1;
        match label {
            Some(true) => self.pos += 1,
            Some(false) => self.neg += 1,
            None => {}
        }
    }

    fn merge(&mut self, other: Tally) {
        self.n += other.n;
        self.pos += other.pos;
        self.neg += other.neg;
    }

    fn labelled(&self) -> usize {
        self.pos + self.neg
    }
}

/// ROC-AUC of a score whose tie groups, in ascending score order, hold (positives, negatives):
/// the share of positive/negative pairs ranked correctly, ties counting half. `None` without
/// both outcomes.
fn ordered_auc(groups: impl Iterator<Item = (usize, usize)>) -> Option<f64> {
    let (mut twice_wins, mut neg_below, mut pos_total) = (0u128, 0u128, 0u128);
    for (p, n) in groups {
        let (p, n) = (p as u128, n as u128);
        twice_wins += 2 * p * neg_below + p * n;
        neg_below += n;
        pos_total += p;
    }
    let pairs = pos_total * neg_below;
    (pairs > 0).then(|| twice_wins as f64 / (2 * pairs) as f64)
}

/// AUC of ordered groups with the missing cells as one more group, placed below or above all
/// values, whichever separates more: a model can send missing values either way.
fn auc_with_missing(groups: &[(usize, usize)], missing: (usize, usize)) -> Option<f64> {
    let low = ordered_auc(core::iter::once(missing).chain(groups.iter().copied()))?;
    let high = ordered_auc(groups.iter().copied().chain(core::iter::once(missing)))?;
    Some(if (high - 0.5).abs() > (low - 0.5).abs() {
        high
    } else {
        low
    })
}

/// The value at 0-based sorted position `k` of the values `groups` (sorted, with counts whose
/// running totals are `ends`) expand to.
fn order_statistic(groups: &[(f64, Tally)], ends: &[usize], k: usize) -> f64 {
    let i = ends.partition_point(|&end| end <= k);
    groups.get(i).or(groups.last()).map_or(0.0, |g| g.0)
}

fn numeric_stats(groups: &[(f64, Tally)]) -> Option<NumericStats> {
    let (first, last) = (groups.first()?.0, groups.last()?.0);
    let mut ends = Vec::with_capacity(groups.len());
    let mut total = 0usize;
    let mut sum = 0.0;
    for (v, t) in groups {
        total += t.n;
        ends.push(total);
        sum += v * t.n as f64;
    }
    let n = total as f64;
    let mean = sum / n;
    let ss: f64 = groups
        .iter()
        .map(|(v, t)| (v - mean) * (v - mean) * t.n as f64)
        .sum();
    let std = if total > 1 {
        libm::sqrt(ss / (n - 1.0))
    } else {
        0.0
    };
    let quantile = |p: f64| {
        let h = (n - 1.0) * p;
        let lo = libm::floor(h);
        let below = order_statistic(groups, &ends, lo as usize);
        let frac = h - lo;
        if frac == 0.0 {
            below
        } else {
            below + frac * (order_statistic(groups, &ends, lo as usize + 1) - below)
        }
    };
    let (p25, p75) = (quantile(0.25), quantile(0.75));
    let iqr = p75 - p25;
    let (low_fence, high_fence) = (p25 - 1.5 * iqr, p75 + 1.5 * iqr);
    let outliers = groups
        .iter()
        .filter(|(v, _)| *v < low_fence || *v > high_fence)
        .map(|(_, t)| t.n)
        .sum();
    Some(NumericStats {
        min: first,
        max: last,
        mean,
        std,
        p1: quantile(0.01),
        p5: quantile(0.05),
        p25,
        p50: quantile(0.5),
        p75,
        p95: quantile(0.95),
        p99: quantile(0.99),
        outliers,
    })
}

/// What [`report`] needs to know about one column besides its schema.
struct ColumnTask<'a> {
    index: usize,
    schema: &'a ColumnSchema,
    /// Bad cells quarantine their rows (model inputs and the time column).
    quarantines: bool,
    /// The column feeds the model, so a leakage AUC is meaningful.
    judge_leakage: bool,
}

/// One column's report and, when it quarantines, every bad cell as (row, reason).
fn column_quality(
    table: &Table,
    task: &ColumnTask<'_>,
    labels: Option<&[Option<bool>]>,
) -> (ColumnQuality, Vec<(usize, String)>) {
    let ColumnSchema { name, kind, .. } = task.schema;
    let kind = *kind;
    let cells = table.column(task.index);
    let label_of = |row: usize| labels.and_then(|l| l.get(row).copied().flatten());

    let mut counts: HashMap<&str, Tally> = HashMap::new();
    let mut missing = Tally::default();
    for (row, raw) in cells.iter().enumerate() {
        if is_na(raw) {
            missing.add(label_of(row));
        } else {
            counts.entry(raw.trim()).or_default().add(label_of(row));
        }
    }
    let present = table.n_rows() - missing.n;

    let mut good: Vec<(&str, Tally)> = Vec::with_capacity(counts.len());
    let mut bad_cells = 0;
    for (value, tally) in &counts {
        if cell_matches(kind, value) {
            good.push((value, *tally));
        } else {
            bad_cells += tally.n;
        }
    }

    let mut bad_examples = Vec::new();
    let mut bad_rows = Vec::new();
    if bad_cells > 0 {
        for (row, raw) in cells.iter().enumerate() {
            if is_na(raw) || cell_matches(kind, raw.trim()) {
                continue;
            }
            if bad_examples.len() < MAX_BAD_EXAMPLES {
                bad_examples.push((table.source_row(row), raw.to_string()));
            }
            if task.quarantines {
                bad_rows.push((
                    row,
                    format!("column `{name}`: `{raw}` is not {}", expected_text(kind)),
                ));
            }
        }
    }

    let class_totals = counts.values().fold(missing, |mut acc, t| {
        acc.merge(*t);
        acc
    });
    let judge = task.judge_leakage
        && class_totals.pos >= MIN_CLASS_ROWS_FOR_LEAKAGE
        && class_totals.neg >= MIN_CLASS_ROWS_FOR_LEAKAGE;
    let missing_group = (missing.pos, missing.neg);

    let mut numeric = None;
    let mut top_values = Vec::new();
    let mut target_auc = None;
    let distinct;
    let top_count;
    match kind {
        ColumnKind::Numeric => {
            let mut groups: Vec<(f64, Tally)> = Vec::with_capacity(good.len());
            for (value, tally) in &good {
                if let Some(v) = crate::data::table::parse_number(value) {
                    groups.push((v, *tally));
                }
            }
            groups.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
            groups.dedup_by(|later, earlier| {
                // `==` rather than bits so 0 and -0 form one value.
                let same = later.0 == earlier.0;
                if same {
                    earlier.1.merge(later.1);
                }
                same
            });
            distinct = groups.len();
            top_count = groups.iter().map(|g| g.1.n).max().unwrap_or(0);
            numeric = numeric_stats(&groups);
            if judge {
                let ordered: Vec<(usize, usize)> =
                    groups.iter().map(|(_, t)| (t.pos, t.neg)).collect();
                target_auc = auc_with_missing(&ordered, missing_group);
            }
        }
        ColumnKind::Datetime => {
            distinct = good.len();
            top_count = good.iter().map(|g| g.1.n).max().unwrap_or(0);
            if judge {
                // ISO 8601 text sorts chronologically when written consistently.
                good.sort_unstable_by(|a, b| a.0.cmp(b.0));
                let ordered: Vec<(usize, usize)> =
                    good.iter().map(|(_, t)| (t.pos, t.neg)).collect();
                target_auc = auc_with_missing(&ordered, missing_group);
            }
        }
        ColumnKind::Categorical
        | ColumnKind::Boolean
        | ColumnKind::Identifier
        | ColumnKind::Text => {
            distinct = good.len();
            let mut levels = good;
            levels.sort_unstable_by(|a, b| b.1.n.cmp(&a.1.n).then_with(|| a.0.cmp(b.0)));
            top_count = levels.first().map_or(0, |l| l.1.n);
            if matches!(kind, ColumnKind::Categorical | ColumnKind::Boolean) {
                top_values = levels
                    .iter()
                    .take(MAX_TOP_VALUES)
                    .map(|(v, t)| (v.to_string(), t.n))
                    .collect();
                // Per-level target rates order the levels as well as any model could, so a
                // level per handful of rows would look separating by chance alone.
                if judge && (distinct + 1) * 10 <= class_totals.labelled() {
                    let mut rated: Vec<Tally> = levels.iter().map(|l| l.1).collect();
                    rated.push(missing);
                    rated.retain(|t| t.labelled() > 0);
                    rated.sort_unstable_by(|a, b| {
                        (a.pos * b.labelled()).cmp(&(b.pos * a.labelled()))
                    });
                    target_auc = ordered_auc(rated.iter().map(|t| (t.pos, t.neg)));
                }
            }
        }
    }

    let flags = ColumnFlags {
        constant: distinct <= 1,
        near_constant: distinct > 1 && top_count * 100 >= present * 99,
        high_cardinality: kind == ColumnKind::Categorical
            && (distinct > 50 || (distinct > 10 && distinct * 10 > table.n_rows())),
        leakage_suspect: target_auc.is_some_and(|auc| (auc - 0.5).abs() >= LEAKAGE_MARGIN),
    };
    let missing_rate = if table.n_rows() == 0 {
        0.0
    } else {
        missing.n as f64 / table.n_rows() as f64
    };
    let quality = ColumnQuality {
        name: name.clone(),
        kind,
        missing: missing.n,
        missing_rate,
        distinct,
        numeric,
        top_values,
        flags,
        target_auc,
        bad_cells,
        bad_examples,
    };
    (quality, bad_rows)
}

/// A table row as a hash-map key comparing all raw cells.
struct RowKey<'a> {
    table: &'a Table,
    row: usize,
}

impl Hash for RowKey<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for col in 0..self.table.n_cols() {
            self.table.raw(self.row, col).hash(state);
        }
    }
}

impl PartialEq for RowKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        (0..self.table.n_cols())
            .all(|col| self.table.raw(self.row, col) == other.table.raw(other.row, col))
    }
}

impl Eq for RowKey<'_> {}

fn duplicate_rows(table: &Table) -> DuplicateRows {
    let mut first: HashMap<RowKey<'_>, usize> = HashMap::with_capacity(table.n_rows());
    let mut out = DuplicateRows::default();
    for row in 0..table.n_rows() {
        let earlier = *first.entry(RowKey { table, row }).or_insert(row);
        if earlier != row {
            out.count += 1;
            if out.examples.len() < MAX_DUPLICATE_EXAMPLES {
                out.examples
                    .push((table.source_row(earlier), table.source_row(row)));
            }
        }
    }
    out
}

fn duplicate_ids(table: &Table, column: &str) -> Option<DuplicateIds> {
    let index = table.column_index(column)?;
    let mut first: HashMap<&str, usize> = HashMap::new();
    let mut out = DuplicateIds {
        column: column.to_string(),
        count: 0,
        examples: Vec::new(),
    };
    for (row, raw) in table.column(index).iter().enumerate() {
        if is_na(raw) {
            continue;
        }
        let id = raw.trim();
        let earlier = *first.entry(id).or_insert(row);
        if earlier != row {
            out.count += 1;
            if out.examples.len() < MAX_DUPLICATE_EXAMPLES {
                out.examples.push((
                    id.to_string(),
                    table.source_row(earlier),
                    table.source_row(row),
                ));
            }
        }
    }
    Some(out)
}

/// Reads the target: per-row outcome, its balance, and a quarantine reason for every row whose
/// target is missing or neither outcome.
#[allow(clippy::type_complexity)]
fn target_quality(
    table: &Table,
    schema: &Schema,
) -> Option<(Vec<Option<bool>>, TargetQuality, Vec<(usize, String)>)> {
    let spec = schema.target.as_ref()?;
    let index = table.column_index(&spec.name)?;
    let mut quality = TargetQuality {
        column: spec.name.clone(),
        positive: spec.positive.clone(),
        negative: spec.negative.clone(),
        n_positive: 0,
        n_negative: 0,
        n_missing: 0,
        n_invalid: 0,
        positive_rate: None,
    };
    let mut reasons = Vec::new();
    let mut labels = Vec::with_capacity(table.n_rows());
    for (row, raw) in table.column(index).iter().enumerate() {
        let label = if is_na(raw) {
            quality.n_missing += 1;
            reasons.push((row, format!("target `{}` is missing", spec.name)));
            None
        } else {
            match spec.label(raw) {
                Some(v) => Some(v == 1.0),
                None => {
                    quality.n_invalid += 1;
                    reasons.push((
                        row,
                        format!(
                            "target `{}`: `{raw}` is neither `{}` nor `{}`",
                            spec.name, spec.positive, spec.negative
                        ),
                    ));
                    None
                }
            }
        };
        match label {
            Some(true) => quality.n_positive += 1,
            Some(false) => quality.n_negative += 1,
            None => {}
        }
        labels.push(label);
    }
    let labelled = quality.n_positive + quality.n_negative;
    quality.positive_rate = (labelled > 0).then(|| quality.n_positive as f64 / labelled as f64);
    Some((labels, quality, reasons))
}

/// Builds the quality report of `table` under `schema`.
///
/// Leakage: for each model input, the ROC-AUC of the column alone against the target (with at
/// least 10 labelled rows of each outcome). Numeric columns rank by value, ties sharing rank,
/// with missing cells as one group placed below or above all values, whichever separates more;
/// datetime columns rank by their ISO 8601 text; categorical and boolean columns rank levels
/// (missing as a level) by their target rate, judged only with at least 10 labelled rows per
/// level on average. An AUC >= 0.98 or <= 0.02 flags the column.
///
/// Quarantine: rows with a cell that does not parse as its column's type in a model input or
/// the time column, and rows whose target is missing or neither outcome.
pub fn report(table: &Table, schema: &Schema) -> QualityReport {
    let Ok(report) = build_report(
        table,
        schema,
        |_, _| Ok::<(), core::convert::Infallible>(()),
    );
    report
}

/// Like [`report`], reporting after every few columns and stopping with
/// [`crate::error::Error::Cancelled`] when `progress` asks to.
pub fn report_with_progress(
    table: &Table,
    schema: &Schema,
    progress: &mut Reporter<'_>,
) -> Result<QualityReport> {
    build_report(table, schema, |done, total| {
        progress.step(
            "checking data",
            done,
            total,
            &format!("{done}/{total} columns"),
        )
    })
}

/// How many columns are checked between two progress checkpoints (at least one per core, so
/// checkpoints never cost parallelism).
const COLUMNS_PER_CHECKPOINT: usize = 4;

/// The report, calling `checkpoint(columns done, columns)` after each group of columns; its
/// error stops the work.
fn build_report<E>(
    table: &Table,
    schema: &Schema,
    mut checkpoint: impl FnMut(usize, usize) -> core::result::Result<(), E>,
) -> core::result::Result<QualityReport, E> {
    let target = target_quality(table, schema);
    let labels = target.as_ref().map(|t| t.0.as_slice());
    let is_input = |name: &str| schema.model_inputs().any(|(_, c)| c.name == name);
    let tasks: Vec<ColumnTask<'_>> = schema
        .columns
        .iter()
        .filter_map(|col| {
            let index = table.column_index(&col.name)?;
            let input = is_input(&col.name);
            Some(ColumnTask {
                index,
                schema: col,
                quarantines: input || schema.time_column.as_deref() == Some(col.name.as_str()),
                judge_leakage: input,
            })
        })
        .collect();

    let mut results: Vec<(ColumnQuality, Vec<(usize, String)>)> = Vec::with_capacity(tasks.len());
    #[cfg(feature = "parallel")]
    let per_checkpoint = COLUMNS_PER_CHECKPOINT.max(rayon::current_num_threads());
    #[cfg(not(feature = "parallel"))]
    let per_checkpoint = COLUMNS_PER_CHECKPOINT;
    for group in tasks.chunks(per_checkpoint) {
        #[cfg(feature = "parallel")]
        {
            use rayon::prelude::*;
            let done: Vec<_> = group
                .par_iter()
                .map(|task| column_quality(table, task, labels))
                .collect();
            results.extend(done);
        }
        #[cfg(not(feature = "parallel"))]
        results.extend(group.iter().map(|task| column_quality(table, task, labels)));
        checkpoint(results.len(), tasks.len())?;
    }

    let mut reasons: Vec<(usize, String)> = Vec::new();
    let mut columns = Vec::with_capacity(results.len());
    for (quality, bad) in results {
        columns.push(quality);
        reasons.extend(bad);
    }
    let target = target.map(|(_, quality, target_reasons)| {
        reasons.extend(target_reasons);
        quality
    });
    // Stable: a row's reasons stay in column order with the target last.
    reasons.sort_by_key(|r| r.0);
    let mut quarantine = Quarantine::default();
    for (row, reason) in reasons {
        match quarantine.entries.last_mut() {
            Some(entry) if entry.row == row => entry.reasons.push(reason),
            _ => {
                quarantine.rows.push(row);
                quarantine.entries.push(QuarantinedRow {
                    row,
                    source_row: table.source_row(row),
                    reasons: alloc::vec![reason],
                });
            }
        }
    }

    Ok(QualityReport {
        n_rows: table.n_rows(),
        n_columns: table.n_cols(),
        columns,
        duplicate_rows: duplicate_rows(table),
        duplicate_ids: schema
            .id_column
            .as_deref()
            .and_then(|id| duplicate_ids(table, id)),
        target,
        quarantine,
    })
}

impl QualityReport {
    /// Sorted table row indices of the quarantined rows.
    pub fn quarantined_rows(&self) -> &[usize] {
        &self.quarantine.rows
    }

    /// The report on column `name`.
    pub fn column(&self, name: &str) -> Option<&ColumnQuality> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// One human-readable line per problem worth a user's attention, in report order.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for c in &self.columns {
            let name = &c.name;
            if c.distinct == 0 {
                out.push(format!("column `{name}` has no values"));
            } else if c.flags.constant {
                out.push(format!("column `{name}` is constant"));
            } else if c.flags.near_constant {
                out.push(format!(
                    "column `{name}` is nearly constant (one value in at least 99% of rows)"
                ));
            }
            if c.flags.high_cardinality {
                out.push(format!(
                    "column `{name}` has {} distinct levels (high cardinality)",
                    c.distinct
                ));
            }
            if let (true, Some(auc)) = (c.flags.leakage_suspect, c.target_auc) {
                out.push(format!(
                    "column `{name}` alone separates the target (AUC {auc:.2}): possible leakage"
                ));
            }
            if let Some((row, value)) = c.bad_examples.first() {
                out.push(format!(
                    "column `{name}` has {} values that are not {} (e.g. row {row}: `{value}`)",
                    c.bad_cells,
                    expected_text(c.kind)
                ));
            }
        }
        if let Some((first, repeat)) = self.duplicate_rows.examples.first() {
            out.push(format!(
                "{} rows repeat an earlier row exactly (e.g. row {repeat} repeats row {first})",
                self.duplicate_rows.count
            ));
        }
        if let Some(ids) = &self.duplicate_ids {
            if let Some((id, first, repeat)) = ids.examples.first() {
                out.push(format!(
                    "{} rows reuse an id of column `{}` (e.g. `{id}` on rows {first} and {repeat})",
                    ids.count, ids.column
                ));
            }
        }
        if let Some(t) = &self.target {
            if let Some(rate) = t.positive_rate {
                if !(0.01..=0.99).contains(&rate) {
                    out.push(format!(
                        "target `{}`: `{}` makes up {:.1}% of labelled rows: too few of one outcome to learn from",
                        t.column,
                        t.positive,
                        rate * 100.0
                    ));
                }
            }
        }
        if !self.quarantine.rows.is_empty() {
            out.push(format!(
                "{} rows are quarantined (bad values or missing target): they are set aside, not used",
                self.quarantine.rows.len()
            ));
        }
        out
    }
}

/// Splits `table` into (clean rows, quarantined rows) by `report`'s quarantine, keeping row
/// order and source row numbers in both. Row indices outside the table are ignored. When no row
/// is quarantined the table itself is the clean part (no copy: at a million rows it is the size
/// of the file).
pub fn split_quarantine(table: Table, report: &QualityReport) -> (Table, Table) {
    if report.quarantined_rows().is_empty() {
        let none = table.filter_rows(|_| false);
        return (table, none);
    }
    let mut quarantined = alloc::vec![false; table.n_rows()];
    for &row in report.quarantined_rows() {
        if let Some(flag) = quarantined.get_mut(row) {
            *flag = true;
        }
    }
    let is_quarantined = |row: usize| quarantined.get(row).copied().unwrap_or(false);
    (
        table.filter_rows(|row| !is_quarantined(row)),
        table.filter_rows(is_quarantined),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::schema::tests::{table, table_of};
    use crate::data::schema::{infer, InferOptions, TargetSpec};
    use crate::rng::Rng;
    use alloc::vec;
    use proptest::prelude::*;

    fn col(name: &str, kind: ColumnKind, categories: &[&str]) -> ColumnSchema {
        ColumnSchema {
            name: name.into(),
            kind,
            categories: categories.iter().map(|c| c.to_string()).collect(),
            nullable: true,
        }
    }

    fn yes_no(name: &str) -> Option<TargetSpec> {
        Some(TargetSpec {
            name: name.into(),
            positive: "yes".into(),
            negative: "no".into(),
        })
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    fn handmade() -> (Table, Schema) {
        let t = table(&[
            "id,x,plan,flag,churn",
            "a,1,basic,yes,no",
            "b,2,pro,no,yes",
            "c,3,basic,yes,no",
            "d,4,basic,yes,no",
            "e,5,pro,no,yes",
            "f,6,basic,yes,no",
            "g,7,basic,yes,",
            "h,8,basic,yes,no",
            "i,9,basic,maybe,no",
            "j,10,basic,yes,perhaps",
            "k,100,pro,no,yes",
            "k,oops,basic,yes,no",
            "c,3,basic,yes,no",
            "l,NA,basic,yes,no",
        ]);
        let schema = Schema {
            columns: vec![
                col("id", ColumnKind::Identifier, &[]),
                col("x", ColumnKind::Numeric, &[]),
                col("plan", ColumnKind::Categorical, &["basic", "pro"]),
                col("flag", ColumnKind::Boolean, &[]),
            ],
            target: yes_no("churn"),
            id_column: Some("id".into()),
            time_column: None,
        };
        (t, schema)
    }

    #[test]
    fn progress_is_reported_per_group_of_columns_and_can_stop() {
        use crate::error::Error;
        use crate::progress::{Control, Progress};
        let (t, schema) = handmade();
        let mut seen = Vec::new();
        let mut sink = |p: &Progress| {
            seen.push((p.fraction, p.message.clone()));
            Control::Continue
        };
        let with = report_with_progress(&t, &schema, &mut Reporter::new(&mut sink)).unwrap();
        assert_eq!(with, report(&t, &schema));
        assert_eq!(seen.last(), Some(&(1.0, "4/4 columns".to_string())));
        let mut stop = |_: &Progress| Control::Stop;
        let err = report_with_progress(&t, &schema, &mut Reporter::new(&mut stop)).unwrap_err();
        assert_eq!(
            err,
            Error::Cancelled {
                stage: "checking data".into()
            }
        );
    }

    #[test]
    fn statistics_duplicates_and_quarantine() {
        let (t, schema) = handmade();
        let r = report(&t, &schema);
        assert_eq!((r.n_rows, r.n_columns), (14, 5));

        let x = r.column("x").unwrap();
        assert_eq!((x.missing, x.distinct, x.bad_cells), (1, 11, 1));
        assert!(close(x.missing_rate, 1.0 / 14.0));
        assert_eq!(x.bad_examples, vec![(12, "oops".to_string())]);
        // Parsed values: 1, 2, 3, 3, 4, ..., 10, 100 (n = 12).
        let s = x.numeric.as_ref().unwrap();
        assert_eq!((s.min, s.max), (1.0, 100.0));
        assert!(close(s.mean, 158.0 / 12.0));
        let ss: f64 = [
            1.0, 2.0, 3.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 100.0,
        ]
        .iter()
        .map(|v| (v - 158.0 / 12.0) * (v - 158.0 / 12.0))
        .sum();
        assert!(close(s.std, libm::sqrt(ss / 11.0)));
        assert!(close(s.p1, 1.11), "{}", s.p1);
        assert!(close(s.p25, 3.0));
        assert!(close(s.p50, 5.5));
        assert!(close(s.p75, 8.25));
        assert!(close(s.p99, 90.1), "{}", s.p99);
        assert_eq!(s.outliers, 1);
        assert!(x.top_values.is_empty());

        let plan = r.column("plan").unwrap();
        assert_eq!(
            plan.top_values,
            vec![("basic".to_string(), 11), ("pro".to_string(), 3)]
        );
        assert!(plan.numeric.is_none());
        // Too few positives to judge leakage.
        assert_eq!(plan.target_auc, None);
        let flag = r.column("flag").unwrap();
        assert_eq!((flag.distinct, flag.bad_cells), (2, 1));
        assert_eq!(flag.bad_examples, vec![(9, "maybe".to_string())]);
        let id = r.column("id").unwrap();
        assert_eq!((id.bad_cells, id.distinct), (0, 12));

        assert_eq!(r.duplicate_rows.count, 1);
        assert_eq!(r.duplicate_rows.examples, vec![(3, 13)]);
        let ids = r.duplicate_ids.as_ref().unwrap();
        assert_eq!(ids.count, 2);
        assert_eq!(
            ids.examples,
            vec![("k".to_string(), 11, 12), ("c".to_string(), 3, 13)]
        );

        let target = r.target.as_ref().unwrap();
        assert_eq!(
            (
                target.n_positive,
                target.n_negative,
                target.n_missing,
                target.n_invalid
            ),
            (3, 9, 1, 1)
        );
        assert_eq!(target.positive_rate, Some(0.25));

        assert_eq!(r.quarantined_rows(), &[6, 8, 9, 11]);
        let sources: Vec<usize> = r.quarantine.entries.iter().map(|e| e.source_row).collect();
        assert_eq!(sources, [7, 9, 10, 12]);
        assert_eq!(
            r.quarantine.entries[0].reasons,
            ["target `churn` is missing"]
        );
        assert_eq!(
            r.quarantine.entries[1].reasons,
            ["column `flag`: `maybe` is not a yes/no value"]
        );
        assert_eq!(
            r.quarantine.entries[2].reasons,
            ["target `churn`: `perhaps` is neither `yes` nor `no`"]
        );

        let (clean, quarantined) = split_quarantine(t.clone(), &r);
        assert_eq!((clean.n_rows(), quarantined.n_rows()), (10, 4));
        assert_eq!(quarantined.source_row(3), 12);
        assert!(report(&clean, &schema).quarantined_rows().is_empty());

        let warnings = r.warnings();
        for expected in [
            "column `x` has 1 values that are not a number (e.g. row 12: `oops`)",
            "1 rows repeat an earlier row exactly (e.g. row 13 repeats row 3)",
            "2 rows reuse an id of column `id` (e.g. `k` on rows 11 and 12)",
            "4 rows are quarantined (bad values or missing target): they are set aside, not used",
        ] {
            assert!(
                warnings.iter().any(|w| w == expected),
                "{expected}: {warnings:?}"
            );
        }

        let json = serde_json::to_string(&r).unwrap();
        let back: QualityReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn flags() {
        let n = 200;
        let make = |f: &dyn Fn(usize) -> String| (0..n).map(f).collect::<Vec<_>>();
        let t = table_of(&[
            ("same", make(&|_| "x".into())),
            (
                "almost",
                make(&|i| if i == 0 { "b".into() } else { "a".into() }),
            ),
            ("zip", make(&|i| format!("z{}", i % 60))),
            ("mixed", make(&|i| format!("m{}", i % 4))),
        ]);
        let schema = Schema {
            columns: vec![
                col("same", ColumnKind::Categorical, &["x"]),
                col("almost", ColumnKind::Categorical, &["a", "b"]),
                col("zip", ColumnKind::Categorical, &[]),
                col("mixed", ColumnKind::Categorical, &[]),
            ],
            target: None,
            id_column: None,
            time_column: None,
        };
        let r = report(&t, &schema);
        let f = |name: &str| r.column(name).unwrap().flags.clone();
        assert!(f("same").constant && !f("same").near_constant);
        assert!(f("almost").near_constant && !f("almost").constant);
        assert!(f("zip").high_cardinality);
        assert_eq!(f("mixed"), ColumnFlags::default());
        assert_eq!(r.column("zip").unwrap().top_values.len(), 10);
        assert!(r.target.is_none() && r.duplicate_ids.is_none());
        let w = r.warnings();
        assert!(w.iter().any(|w| w == "column `same` is constant"));
        assert!(w
            .iter()
            .any(|w| w.starts_with("column `almost` is nearly constant")));
        assert!(w
            .iter()
            .any(|w| w == "column `zip` has 60 distinct levels (high cardinality)"));
        assert!(!w.iter().any(|w| w.contains("`mixed`")));
    }

    #[test]
    fn leakage() {
        let n = 400;
        let mut rng = Rng::new(7);
        let churn: Vec<bool> = (0..n).map(|_| rng.chance(0.3)).collect();
        let mut noise_rng = rng.fork(1);
        let noise: Vec<String> = (0..n)
            .map(|_| format!("{:.3}", noise_rng.normal()))
            .collect();
        let mut plan_rng = rng.fork(2);
        let yn = |b: bool| String::from(if b { "yes" } else { "no" });
        let t = table_of(&[
            ("churn", churn.iter().map(|&c| yn(c)).collect()),
            ("churn_copy", churn.iter().map(|&c| yn(c)).collect()),
            (
                "total_charge",
                churn
                    .iter()
                    .enumerate()
                    .map(|(i, &c)| format!("{}", if c { 0 } else { 100 } + i % 50))
                    .collect(),
            ),
            (
                "cancel_date",
                churn
                    .iter()
                    .map(|&c| {
                        if c {
                            "2024-03-01".into()
                        } else {
                            String::new()
                        }
                    })
                    .collect(),
            ),
            ("noise", noise),
            (
                "plan",
                (0..n)
                    .map(|_| ["a", "b", "c"][plan_rng.below(3)].to_string())
                    .collect(),
            ),
        ]);
        let inf = infer(&t, &InferOptions::default()).unwrap();
        assert_eq!(inf.schema.target.as_ref().unwrap().name, "churn");
        let r = report(&t, &inf.schema);
        let auc = |name: &str| r.column(name).unwrap().target_auc.unwrap();
        let leaky = |name: &str| r.column(name).unwrap().flags.leakage_suspect;
        assert!(close(auc("churn_copy"), 1.0) && leaky("churn_copy"));
        // Churners have the low charges: a perfect separator in reverse.
        assert!(close(auc("total_charge"), 0.0) && leaky("total_charge"));
        assert!(leaky("cancel_date"), "{}", auc("cancel_date"));
        assert!((auc("noise") - 0.5).abs() < 0.15 && !leaky("noise"));
        assert!(!leaky("plan"));
        let w = r.warnings();
        assert!(
            w.iter().any(|w| w
                == "column `total_charge` alone separates the target (AUC 0.00): possible leakage"),
            "{w:?}"
        );
        assert!(!w.iter().any(|w| w.contains("`noise`")));
    }

    #[test]
    fn auc_ties_and_missing_group() {
        // Scores 1, 2, 2, 3 with labels 0, 1, 0, 1: of 4 pairs, 3 right and 1 tied.
        assert_eq!(
            ordered_auc([(0, 1), (1, 1), (1, 0)].into_iter()),
            Some(3.5 / 4.0)
        );
        assert_eq!(ordered_auc([(2, 0)].into_iter()), None);
        // 4 missing positives: below all values 3.5 of 20 pairs are right, above all 19.5;
        // the more separating placement is kept.
        assert_eq!(
            auc_with_missing(&[(0, 3), (1, 1)], (4, 0)),
            Some(19.5 / 20.0)
        );
        // Mirror image: 4 missing negatives above all values leave 0.5 of 20 pairs right.
        assert_eq!(
            auc_with_missing(&[(3, 0), (1, 1)], (0, 4)),
            Some(0.5 / 20.0)
        );
        assert_eq!(
            auc_with_missing(&[(1, 3), (3, 1)], (0, 0)),
            ordered_auc([(1, 3), (3, 1)].into_iter())
        );
    }

    #[test]
    fn schema_check_and_report_agree_on_scoring_data() {
        let (t, mut schema) = handmade();
        schema.target = yes_no("outcome");
        let r = report(&t, &schema);
        assert!(r.target.is_none());
        // Without the target only the bad `x` and `flag` cells quarantine.
        assert_eq!(r.quarantined_rows(), &[8, 11]);
        let check = schema.check(&t);
        assert_eq!(check.type_changes.len(), 2);
    }

    proptest! {
        #[test]
        fn quarantine_and_clean_add_up(
            rows in proptest::collection::vec((0usize..5, 0usize..4, 0usize..3), 0..60)
        ) {
            const X: [&str; 5] = ["1.5", "", "abc", "-2", "NA"];
            const Y: [&str; 4] = ["yes", "no", "", "maybe"];
            const D: [&str; 3] = ["2024-01-02", "soon", ""];
            let mut t = Table::new(vec!["x".into(), "d".into(), "churn".into()]).unwrap();
            for (i, (x, y, d)) in rows.iter().enumerate() {
                t.push_row(i + 1, [X[*x], D[*d], Y[*y]]).unwrap();
            }
            let schema = Schema {
                columns: vec![
                    col("x", ColumnKind::Numeric, &[]),
                    col("d", ColumnKind::Datetime, &[]),
                ],
                target: yes_no("churn"),
                id_column: None,
                time_column: None,
            };
            let r = report(&t, &schema);
            let (clean, quarantined) = split_quarantine(t.clone(), &r);
            prop_assert_eq!(clean.n_rows() + quarantined.n_rows(), t.n_rows());
            prop_assert_eq!(quarantined.n_rows(), r.quarantined_rows().len());
            let expected = rows
                .iter()
                .filter(|(x, y, d)| *x == 2 || *y >= 2 || *d == 1)
                .count();
            prop_assert_eq!(quarantined.n_rows(), expected);
            prop_assert!(r.quarantined_rows().windows(2).all(|w| w[0] < w[1]));
            prop_assert!(report(&clean, &schema).quarantined_rows().is_empty());
        }
    }
}
