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
}

impl Table {
    /// An empty table with the given header. Fails on duplicate column names.
    pub fn new(names: Vec<String>) -> Result<Self> {
        for (i, n) in names.iter().enumerate() {
            if names[..i].iter().any(|m| m == n) {
                return Err(Error::DuplicateColumn { column: n.clone() });
            }
        }
        let columns = names.iter().map(|_| TextColumn::default()).collect();
        Ok(Table {
            names,
            columns,
            source_rows: Vec::new(),
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

    /// A new table holding only the rows for which `keep` is true (used to set quarantined
    /// rows aside: the caller keeps the complementary table too, nothing is lost).
    pub fn filter_rows(&self, keep: impl Fn(usize) -> bool) -> Table {
        let mut out = Table {
            names: self.names.clone(),
            columns: self.names.iter().map(|_| TextColumn::default()).collect(),
            source_rows: Vec::new(),
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
                    name: "source_rows",
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
