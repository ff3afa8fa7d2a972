//! The raw table: what ingest produces and every later stage reads.
//!
//! Cells are kept as text exactly as they appeared in the file, in one string pool per column
//! (a byte buffer plus end offsets), so a 1M x 30 CSV costs about its file size plus 4 bytes per
//! cell rather than one heap allocation per cell. Interpreting text (numbers, booleans, dates,
//! missing tokens) is left to [`crate::data::schema`] and [`crate::features`], which use the helpers
//! here so training and serving read values the same way.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One input value as the feature pipeline sees it. Tables yield `Text` or `Missing`; a JSON
/// record at serving time may also yield `Number` or `Bool` directly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// Absent, empty or an NA token.
    Missing,
    /// A number already parsed (JSON).
    Number(f64),
    /// A boolean already parsed (JSON).
    Bool(bool),
    /// Raw text, to be interpreted by the column's type.
    Text(&'a str),
}

/// Most columns a table may have. Far above any churn export (hundreds of columns), and it
/// bounds what one hostile header or row can cost (the per-row field offsets, the check for
/// duplicate names) before a single data row is read.
pub const MAX_COLUMNS: usize = 10_000;

/// Tokens that mean "missing" in any column (compared case-insensitively after trimming).
pub const NA_TOKENS: [&str; 7] = ["", "na", "n/a", "null", "nan", "?", "none"];

/// Whether a raw cell is one of the [`NA_TOKENS`] (empty and whitespace-only cells included).
pub fn is_na(raw: &str) -> bool {
    let t = raw.trim();
    t.is_empty() || NA_TOKENS.iter().any(|na| t.eq_ignore_ascii_case(na))
}

/// Reads a number, tolerating surrounding whitespace. `None` for anything that is not a finite
/// decimal number (so `inf` or `1e999` are rejected, not silently turned into infinities).
pub fn parse_number(raw: &str) -> Option<f64> {
    let t = raw.trim();
    if t.is_empty() {
        return None;
    }
    let v: f64 = t.parse().ok()?;
    v.is_finite().then_some(v)
}

/// How a file writes numbers when they are not plain Rust/JSON-style decimals (`1234.5`), as
/// spreadsheets export them outside the English-speaking world or with grouping switched on.
///
/// Ingest rewrites the cells of a column written this way into plain numbers (see
/// [`crate::data::ingest`]), so nothing downstream needs to know the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberFormat {
    /// `,` is the decimal mark; `.`, a space or a no-break space may group thousands:
    /// `29,85`, `-1.889,5`, `1 889,50`.
    DecimalComma,
    /// `.` is the decimal mark and `,` groups thousands: `1,889.50`.
    ThousandsComma,
}

impl NumberFormat {
    /// How the format is named in a note: "column `x`: read with {description}".
    pub fn description(self) -> &'static str {
        match self {
            NumberFormat::DecimalComma => "a decimal comma",
            NumberFormat::ThousandsComma => "`,` thousands separators",
        }
    }

    /// Writes `raw` into `out` (cleared first) as a plain number that [`parse_number`] reads,
    /// if `raw` is a finite number in this format; otherwise returns false (`out` then holds
    /// garbage). Digits are copied, never re-formatted, so `29,85` becomes exactly `29.85` and
    /// reads to the same `f64` as the same value in a plain file.
    ///
    /// Grouping must be regular (the first group 1-3 digits, then groups of exactly 3, one
    /// separator character throughout) so that a code such as `1.5.2` or a list `1,2` is not
    /// mistaken for a number. No exponents: spreadsheets do not write them with these marks.
    pub fn write_plain(self, raw: &str, out: &mut String) -> bool {
        out.clear();
        let (decimal, is_group): (char, fn(char) -> bool) = match self {
            NumberFormat::DecimalComma => (',', |c| matches!(c, '.' | ' ' | '\u{a0}' | '\u{202f}')),
            NumberFormat::ThousandsComma => ('.', |c| c == ','),
        };
        let t = raw.trim();
        let body = match t.strip_prefix(['-', '+']) {
            Some(rest) => {
                out.push_str(&t[..1]);
                rest
            }
            None => t,
        };
        let (int, frac) = match body.split_once(decimal) {
            Some((int, frac)) => (int, Some(frac)),
            None => (body, None),
        };
        let mut separator = None;
        let mut group_len = 0;
        let mut grouped = false;
        for c in int.chars() {
            if c.is_ascii_digit() {
                out.push(c);
                group_len += 1;
                if grouped && group_len > 3 {
                    return false;
                }
            } else if is_group(c) && separator.is_none_or(|s| s == c) {
                let first_ok = grouped || (1..=3).contains(&group_len);
                if !first_ok || (grouped && group_len != 3) {
                    return false;
                }
                separator = Some(c);
                grouped = true;
                group_len = 0;
            } else {
                return false;
            }
        }
        if group_len == 0 || (grouped && group_len != 3) {
            return false;
        }
        if let Some(frac) = frac {
            if frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
                return false;
            }
            out.push('.');
            out.push_str(frac);
        }
        parse_number(out).is_some()
    }
}

/// Reads a boolean spelled yes/no, true/false, y/n, t/f or 1/0 (any case).
pub fn parse_bool(raw: &str) -> Option<bool> {
    let t = raw.trim();
    const TRUE: [&str; 5] = ["yes", "true", "y", "t", "1"];
    const FALSE: [&str; 5] = ["no", "false", "n", "f", "0"];
    if TRUE.iter().any(|s| t.eq_ignore_ascii_case(s)) {
        Some(true)
    } else if FALSE.iter().any(|s| t.eq_ignore_ascii_case(s)) {
        Some(false)
    } else {
        None
    }
}

/// What a typed source (a Parquet file, an Arrow table, a database export) says a column stores.
/// Cells still arrive as text; this settles what inference would otherwise guess from that text
/// (see [`crate::data::schema::infer`]): a number column is never read as categories or yes/no,
/// a text column of digits (postcodes) is never read as numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoredType {
    /// Integers, floats or decimals.
    Number,
    /// Strings (dictionary-encoded or not).
    Text,
    /// Booleans, written `true` / `false`.
    Boolean,
    /// Dates or timestamps, written in ISO 8601.
    Datetime,
}

/// One column's cells as a string pool.
#[derive(Debug, Clone, Default)]
pub struct TextColumn {
    bytes: String,
    ends: Vec<u32>,
}

impl TextColumn {
    /// Appends one cell. Fails only when a single column exceeds 4 GiB of text.
    pub fn push(&mut self, cell: &str) -> Result<()> {
        self.bytes.push_str(cell);
        let end = u32::try_from(self.bytes.len()).map_err(|_| Error::Malformed {
            row: self.ends.len() + 1,
            message: String::from("a single column holds more than 4 GiB of text"),
        })?;
        self.ends.push(end);
        Ok(())
    }

    /// The raw text of row `row`.
    pub fn get(&self, row: usize) -> &str {
        let start = if row == 0 {
            0
        } else {
            self.ends[row - 1] as usize
        };
        &self.bytes[start..self.ends[row] as usize]
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the column has no cells.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
        self.ends.shrink_to_fit();
    }

    /// Whether any cell holds a character `pattern` matches (one scan of the column's text).
    pub(crate) fn contains(&self, pattern: impl Fn(char) -> bool) -> bool {
        self.bytes.contains(pattern)
    }

    /// Iterates over the raw cells in row order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).map(move |r| self.get(r))
    }
}

/// A column-oriented table of raw text cells with a header and, per row, the 1-based data-row
/// number it came from in the source file (so reports can point at the original line).
///
/// With serde it travels row by row (`{"names": [...], "rows": [[...], ...], "source_rows":
/// [...]}`), the shape a web page builds, and is checked on the way in like a parsed file
/// (duplicate names, ragged rows).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(into = "TableRows", try_from = "TableRows")]
pub struct Table {
    names: Vec<String>,
    columns: Vec<TextColumn>,
    source_rows: Vec<usize>,
    /// What ingest did that a user should know (an encoding guessed, a column rewritten from
    /// a decimal comma); schema inference repeats these among its notes.
    notes: Vec<String>,
    /// Per column, what a typed source declared it stores; empty for text sources (CSV, JSON).
    /// Not part of the serde form: inference has used it by the time a table travels.
    stored_types: Vec<Option<StoredType>>,
}

impl Table {
    /// An empty table with the given header. Fails on duplicate column names.
    pub fn new(names: Vec<String>) -> Result<Self> {
        if names.len() > MAX_COLUMNS {
            return Err(Error::TooManyFields {
                row: 0,
                limit: MAX_COLUMNS,
            });
        }
        // A set, not pairwise comparison: quadratic in the column count would stall on a wide
        // header long before any limit was reached.
        let mut seen = hashbrown::HashSet::with_capacity(names.len());
        if let Some(n) = names.iter().find(|n| !seen.insert(n.as_str())) {
            return Err(Error::DuplicateColumn { column: n.clone() });
        }
        drop(seen);
        let columns = names.iter().map(|_| TextColumn::default()).collect();
        Ok(Table {
            names,
            columns,
            source_rows: Vec::new(),
            notes: Vec::new(),
            stored_types: Vec::new(),
        })
    }

    /// Appends a row whose cells line up with the header; `source_row` is its 1-based data-row
    /// number in the file.
    pub fn push_row<'a>(
        &mut self,
        source_row: usize,
        cells: impl IntoIterator<Item = &'a str>,
    ) -> Result<()> {
        let mut found = 0;
        for (col, cell) in self.columns.iter_mut().zip(cells) {
            col.push(cell)?;
            found += 1;
        }
        if found != self.names.len() {
            // Roll back the partial row so the table stays rectangular.
            for col in &mut self.columns[..found] {
                col.bytes.truncate(if col.ends.len() > 1 {
                    col.ends[col.ends.len() - 2] as usize
                } else {
                    0
                });
                col.ends.pop();
            }
            return Err(Error::RaggedRow {
                row: source_row,
                expected: self.names.len(),
                found,
            });
        }
        self.source_rows.push(source_row);
        Ok(())
    }

    /// Column names in file order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Gives back the spare capacity left by growing the columns row by row (up to half of
    /// each column's text and offsets): a finished table is kept through training.
    pub(crate) fn shrink_to_fit(&mut self) {
        for c in &mut self.columns {
            c.shrink_to_fit();
        }
        self.source_rows.shrink_to_fit();
    }

    /// Number of data rows.
    pub fn n_rows(&self) -> usize {
        self.source_rows.len()
    }

    /// Number of columns.
    pub fn n_cols(&self) -> usize {
        self.names.len()
    }

    /// Index of the column called `name`.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// The column at `index`.
    pub fn column(&self, index: usize) -> &TextColumn {
        &self.columns[index]
    }

    /// Raw text of a cell.
    pub fn raw(&self, row: usize, col: usize) -> &str {
        self.columns[col].get(row)
    }

    /// A cell as a [`Value`]: `Missing` for NA tokens, otherwise `Text`.
    pub fn value(&self, row: usize, col: usize) -> Value<'_> {
        let raw = self.raw(row, col);
        if is_na(raw) {
            Value::Missing
        } else {
            Value::Text(raw)
        }
    }

    /// The 1-based source data-row number of row `row`.
    pub fn source_row(&self, row: usize) -> usize {
        self.source_rows[row]
    }

    /// What ingest noted about how it read the file, in the order it decided.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// Records a note about how the table was read (kept by [`filter_rows`](Self::filter_rows)).
    pub fn add_note(&mut self, note: String) {
        self.notes.push(note);
    }

    /// Records what a typed source declared column `col` to store (inference then follows it).
    pub fn set_stored_type(&mut self, col: usize, stored: StoredType) {
        if col < self.names.len() {
            self.stored_types.resize(self.names.len(), None);
            self.stored_types[col] = Some(stored);
        }
    }

    /// What a typed source declared column `col` to store, `None` for text sources.
    pub fn stored_type(&self, col: usize) -> Option<StoredType> {
        self.stored_types.get(col).copied().flatten()
    }

    /// Rewrites every cell of column `col` that `format` reads as a number into its plain form
    /// (see [`NumberFormat::write_plain`]); other cells stay as they are.
    pub(crate) fn rewrite_numbers(&mut self, col: usize, format: NumberFormat) {
        let Some(old) = self.columns.get(col) else {
            return;
        };
        let mut new = TextColumn::default();
        let mut plain = String::new();
        for cell in old.iter() {
            let cell = if format.write_plain(cell, &mut plain) {
                plain.as_str()
            } else {
                cell
            };
            // Cannot overflow: a plain number is never longer than the cell it came from.
            let _ = new.push(cell);
        }
        self.columns[col] = new;
    }

    /// A new table holding only the rows for which `keep` is true (used to set quarantined
    /// rows aside: the caller keeps the complementary table too, nothing is lost).
    pub fn filter_rows(&self, keep: impl Fn(usize) -> bool) -> Table {
        let mut out = Table {
            names: self.names.clone(),
            columns: self.names.iter().map(|_| TextColumn::default()).collect(),
            source_rows: Vec::new(),
            notes: self.notes.clone(),
            stored_types: self.stored_types.clone(),
        };
        for r in (0..self.n_rows()).filter(|&r| keep(r)) {
            for (dst, src) in out.columns.iter_mut().zip(&self.columns) {
                // Cannot overflow: the source column already fit in u32 offsets.
                let _ = dst.push(src.get(r));
            }
            out.source_rows.push(self.source_rows[r]);
        }
        out
    }
}

/// Some rows of a [`Table`], read in place in the order given: what a cross-validation fold
/// fits and predicts on, so that no fold copies the table's text (at a million rows each copy
/// is as big as the CSV).
#[derive(Debug, Clone, Copy)]
pub struct Rows<'a> {
    table: &'a Table,
    /// The table row behind each row of the view; `None` for every row in table order (no
    /// index list to allocate for the common whole-table case).
    rows: Option<&'a [usize]>,
}

impl<'a> Rows<'a> {
    /// The rows of `table` listed in `rows`, in that order. Panics if one is out of range, here
    /// rather than at some later cell read.
    pub fn subset(table: &'a Table, rows: &'a [usize]) -> Self {
        if let Some(&bad) = rows.iter().find(|&&r| r >= table.n_rows()) {
            panic!("row {bad} of a table with {} rows", table.n_rows());
        }
        Rows {
            table,
            rows: Some(rows),
        }
    }

    /// The table the rows come from.
    pub fn table(&self) -> &'a Table {
        self.table
    }

    /// Number of rows in the view.
    pub fn n_rows(&self) -> usize {
        self.rows.map_or(self.table.n_rows(), <[usize]>::len)
    }

    fn table_row(&self, row: usize) -> usize {
        self.rows.map_or(row, |rows| rows[row])
    }

    /// Raw text of a cell (`row` counts rows of the view).
    pub fn raw(&self, row: usize, col: usize) -> &'a str {
        self.table.raw(self.table_row(row), col)
    }

    /// A cell as a [`Value`], as [`Table::value`] reads it.
    pub fn value(&self, row: usize, col: usize) -> Value<'a> {
        self.table.value(self.table_row(row), col)
    }

    /// The 1-based source data-row number of view row `row`.
    pub fn source_row(&self, row: usize) -> usize {
        self.table.source_row(self.table_row(row))
    }

    /// The raw cells of column `col`, in view order.
    pub fn cells(&self, col: usize) -> impl Iterator<Item = &'a str> + 'a {
        let view = *self;
        (0..view.n_rows()).map(move |r| view.raw(r, col))
    }
}

impl<'a> From<&'a Table> for Rows<'a> {
    fn from(table: &'a Table) -> Self {
        Rows { table, rows: None }
    }
}

/// [`Table`]'s serde form.
#[derive(Serialize, Deserialize)]
struct TableRows {
    names: Vec<String>,
    rows: Vec<Vec<String>>,
    /// 1-based source row numbers; `1..=n` when absent.
    #[serde(default)]
    source_rows: Option<Vec<usize>>,
}

impl From<Table> for TableRows {
    fn from(table: Table) -> Self {
        let rows = (0..table.n_rows())
            .map(|r| {
                (0..table.n_cols())
                    .map(|c| table.raw(r, c).to_string())
                    .collect()
            })
            .collect();
        TableRows {
            rows,
            source_rows: Some(table.source_rows),
            names: table.names,
        }
    }
}

impl TryFrom<TableRows> for Table {
    type Error = Error;

    fn try_from(parts: TableRows) -> Result<Table> {
        if let Some(source_rows) = &parts.source_rows {
            if source_rows.len() != parts.rows.len() {
                return Err(Error::InvalidParameter {
                    name: "source_rows".into(),
                    message: alloc::format!(
                        "{} source row numbers for {} rows",
                        source_rows.len(),
                        parts.rows.len()
                    ),
                });
            }
        }
        let mut table = Table::new(parts.names)?;
        for (r, row) in parts.rows.iter().enumerate() {
            let source = parts.source_rows.as_ref().map_or(r + 1, |s| s[r]);
            table.push_row(source, row.iter().map(String::as_str))?;
        }
        Ok(table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn na_tokens_and_parsers() {
        for na in ["", "  ", "NA", "n/a", "NULL", "NaN", "?", "None"] {
            assert!(is_na(na), "{na:?}");
        }
        assert!(!is_na("0"));
        assert_eq!(parse_number(" 3.5 "), Some(3.5));
        assert_eq!(parse_number("1e999"), None);
        assert_eq!(parse_number("abc"), None);
        assert_eq!(parse_bool("Yes"), Some(true));
        assert_eq!(parse_bool("0"), Some(false));
        assert_eq!(parse_bool("maybe"), None);
    }

    fn plain(format: NumberFormat, raw: &str) -> Option<String> {
        let mut out = String::from("stale");
        format.write_plain(raw, &mut out).then_some(out)
    }

    #[test]
    fn decimal_comma_numbers() {
        let dc = NumberFormat::DecimalComma;
        for (raw, expected) in [
            ("29,85", "29.85"),
            (" -1.889,50 ", "-1889.50"),
            ("+0,5", "+0.5"),
            ("1 889,5", "1889.5"),
            ("1\u{a0}889\u{a0}000", "1889000"),
            ("1\u{202f}889,25", "1889.25"),
            ("30", "30"),
            ("1.234", "1234"),
            ("12.345.678,9", "12345678.9"),
        ] {
            assert_eq!(plain(dc, raw).as_deref(), Some(expected), "{raw:?}");
        }
        for raw in [
            "",
            "1.5",
            "1,2,3",
            "12.34,5",
            "1234.567,5",
            "1.234 567",
            "1..234",
            ",5",
            "5,",
            "1,5e3",
            "-",
            "abc",
            "1,x",
            "29.85",
            "1.2345",
        ] {
            assert_eq!(plain(dc, raw), None, "{raw:?}");
        }
    }

    #[test]
    fn thousands_comma_numbers() {
        let tc = NumberFormat::ThousandsComma;
        for (raw, expected) in [
            ("1,889.50", "1889.50"),
            ("-1,234,567", "-1234567"),
            ("1234.5", "1234.5"),
            ("7", "7"),
        ] {
            assert_eq!(plain(tc, raw).as_deref(), Some(expected), "{raw:?}");
        }
        for raw in [
            "29,85", "1,23", "1,2345", "1 234.5", "1,234,56", "1e3", "1,234.", "a,b",
        ] {
            assert_eq!(plain(tc, raw), None, "{raw:?}");
        }
    }

    #[test]
    fn rewriting_a_column_keeps_other_cells_and_notes_survive_filtering() {
        let mut t = Table::new(vec!["x".into(), "y".into()]).unwrap();
        t.push_row(1, ["1.889,5", "1,5"]).unwrap();
        t.push_row(2, ["NA", "keep"]).unwrap();
        t.push_row(3, ["oops", "2,5"]).unwrap();
        t.rewrite_numbers(0, NumberFormat::DecimalComma);
        assert_eq!(
            [t.raw(0, 0), t.raw(1, 0), t.raw(2, 0)],
            ["1889.5", "NA", "oops"]
        );
        assert_eq!(t.raw(0, 1), "1,5", "other columns are untouched");
        t.add_note("n".into());
        assert_eq!(t.filter_rows(|r| r == 2).notes(), ["n"]);
    }

    #[test]
    fn push_get_filter_and_ragged_rollback() {
        let mut t = Table::new(vec!["a".into(), "b".into()]).unwrap();
        t.push_row(1, ["1", "x"]).unwrap();
        let err = t.push_row(2, ["2"]).unwrap_err();
        assert_eq!(
            err,
            Error::RaggedRow {
                row: 2,
                expected: 2,
                found: 1
            }
        );
        t.push_row(3, ["", "z"]).unwrap();
        assert_eq!(t.n_rows(), 2);
        assert_eq!(t.raw(1, 0), "");
        assert_eq!(t.value(1, 0), Value::Missing);
        assert_eq!(t.value(1, 1), Value::Text("z"));
        assert_eq!(t.source_row(1), 3);
        let f = t.filter_rows(|r| r == 1);
        assert_eq!(f.n_rows(), 1);
        assert_eq!(f.raw(0, 1), "z");
        assert!(Table::new(vec!["a".into(), "a".into()]).is_err());
    }

    #[test]
    fn a_row_view_reads_what_the_filtered_copy_holds() {
        let mut t = Table::new(vec!["a".into(), "b".into()]).unwrap();
        for (i, (a, b)) in [("1", "x"), ("NA", "y"), ("3", ""), ("4", "w")]
            .into_iter()
            .enumerate()
        {
            t.push_row(10 + i, [a, b]).unwrap();
        }
        let picked = [1, 3];
        let copy = t.filter_rows(|r| picked.contains(&r));
        let view = Rows::subset(&t, &picked);
        assert_eq!(view.n_rows(), copy.n_rows());
        for r in 0..copy.n_rows() {
            assert_eq!(view.source_row(r), copy.source_row(r));
            for c in 0..t.n_cols() {
                assert_eq!(view.raw(r, c), copy.raw(r, c));
                assert_eq!(view.value(r, c), copy.value(r, c));
            }
        }
        assert!(view.cells(0).eq(copy.column(0).iter()));
        assert_eq!(view.value(0, 0), Value::Missing);
        // The order given is the order read, and the whole-table view is the table.
        let reversed = [3, 0];
        let back = Rows::subset(&t, &reversed);
        assert_eq!([back.raw(0, 1), back.raw(1, 1)], ["w", "x"]);
        let all = Rows::from(&t);
        assert_eq!(all.n_rows(), 4);
        assert!(all.cells(1).eq(t.column(1).iter()));
        assert_eq!(all.source_row(2), 12);
    }

    #[test]
    #[should_panic(expected = "row 4 of a table with 4 rows")]
    fn a_row_view_past_the_end_panics_at_once() {
        let mut t = Table::new(vec!["a".into()]).unwrap();
        for r in 0..4 {
            t.push_row(r + 1, ["v"]).unwrap();
        }
        Rows::subset(&t, &[0, 4]);
    }

    #[test]
    fn serde_round_trip_and_checks() {
        let mut t = Table::new(vec!["a".into(), "b".into()]).unwrap();
        t.push_row(2, ["1", "x, \"y\""]).unwrap();
        t.push_row(5, ["", "z"]).unwrap();
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(
            json,
            r#"{"names":["a","b"],"rows":[["1","x, \"y\""],["","z"]],"source_rows":[2,5]}"#
        );
        let back: Table = serde_json::from_str(&json).unwrap();
        assert_eq!(back.raw(0, 1), "x, \"y\"");
        assert_eq!(back.source_row(1), 5);
        let numbered: Table =
            serde_json::from_str(r#"{"names":["a"],"rows":[["1"],["2"]]}"#).unwrap();
        assert_eq!(numbered.source_row(1), 2);
        let ragged = serde_json::from_str::<Table>(r#"{"names":["a","b"],"rows":[["1"]]}"#);
        assert!(ragged
            .unwrap_err()
            .to_string()
            .contains("expected 2 fields"));
        let dup = serde_json::from_str::<Table>(r#"{"names":["a","a"],"rows":[]}"#);
        assert!(dup.unwrap_err().to_string().contains("more than once"));
    }
}
