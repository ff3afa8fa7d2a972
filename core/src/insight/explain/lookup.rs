//! Finding the customer a person names: by the model's id column, or by the data-row number of
//! the file. `ebb explain --row` and the dashboard's Explain view both look rows up here, so
//! the same text names the same customer everywhere.

use alloc::string::{String, ToString};
use core::fmt;

use crate::data::table::Table;

/// How a customer was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FoundBy {
    /// The text is a value of the id column.
    Id,
    /// The text is a 1-based data-row number of the file.
    RowNumber,
}

/// A row found by [`find_row`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FoundRow {
    /// 0-based index into the table.
    pub index: usize,
    /// 1-based data-row number in the source file.
    pub source_row: usize,
    pub by: FoundBy,
}

/// Why no row was found; `Display` says what to type instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupError {
    /// Nothing was typed.
    Empty,
    /// The data has an id column but no row holds this value (and it is no data-row number).
    IdNotFound { id: String, column: String },
    /// The data has no id column and the text is not a row number.
    NoIdColumn { text: String },
    /// A row number past the end of the data.
    NoSuchRow { row: usize, rows: usize },
}

impl fmt::Display for LookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LookupError::Empty => write!(f, "give a customer id or a 1-based row number"),
            LookupError::IdNotFound { id, column } => write!(
                f,
                "no customer has `{id}` in the id column `{column}`, and it is not a data-row number"
            ),
            LookupError::NoIdColumn { text } => write!(
                f,
                "`{text}`: the data has no id column, so give a 1-based row number"
            ),
            LookupError::NoSuchRow { row, rows } => write!(
                f,
                "there is no data row {row} (the file has {rows} data rows)"
            ),
        }
    }
}

/// The row of `table` that `text` names: the first row whose `id_column` value equals it
/// (surrounding spaces ignored), else — when it is a whole number — the row with that 1-based
/// data-row number. `id_column` is the model's id column; a name the table lacks counts as none.
pub fn find_row(
    table: &Table,
    id_column: Option<&str>,
    text: &str,
) -> Result<FoundRow, LookupError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(LookupError::Empty);
    }
    let found = |index: usize, by| FoundRow {
        index,
        source_row: table.source_row(index),
        by,
    };
    let id = id_column.and_then(|c| table.column_index(c).map(|i| (c, i)));
    if let Some((_, c)) = id {
        if let Some(r) = (0..table.n_rows()).find(|&r| table.raw(r, c).trim() == text) {
            return Ok(found(r, FoundBy::Id));
        }
    }
    match (text.parse::<usize>(), id) {
        (Ok(n), _) => (0..table.n_rows())
            .find(|&r| table.source_row(r) == n)
            .map(|r| found(r, FoundBy::RowNumber))
            .ok_or(match id {
                Some((name, _)) => LookupError::IdNotFound {
                    id: text.to_string(),
                    column: name.to_string(),
                },
                None => LookupError::NoSuchRow {
                    row: n,
                    rows: table.n_rows(),
                },
            }),
        (Err(_), Some((name, _))) => Err(LookupError::IdNotFound {
            id: text.to_string(),
            column: name.to_string(),
        }),
        (Err(_), None) => Err(LookupError::NoIdColumn {
            text: text.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::ingest::{read_csv, CsvOptions};

    fn table() -> Table {
        read_csv(
            b"customer_id,x\nC-7, 1\n2,5\nC-9,3\n",
            &CsvOptions::default(),
        )
        .unwrap()
    }

    #[test]
    fn ids_first_then_row_numbers() {
        let t = table();
        let id = Some("customer_id");
        assert_eq!(
            find_row(&t, id, " C-9 ").unwrap(),
            FoundRow {
                index: 2,
                source_row: 3,
                by: FoundBy::Id
            }
        );
        // `2` is an id (row 2 holds it), so the id wins over data row 2.
        assert_eq!(find_row(&t, id, "2").unwrap().by, FoundBy::Id);
        assert_eq!(
            find_row(&t, id, "1").unwrap(),
            FoundRow {
                index: 0,
                source_row: 1,
                by: FoundBy::RowNumber
            }
        );
        assert_eq!(
            find_row(&t, id, "C-8").unwrap_err().to_string(),
            "no customer has `C-8` in the id column `customer_id`, and it is not a data-row number"
        );
        assert_eq!(find_row(&t, id, "  ").unwrap_err(), LookupError::Empty);
    }

    #[test]
    fn without_an_id_column_only_row_numbers() {
        let t = table();
        // The model's id column is not in this file: as if there were none.
        for id in [None, Some("account")] {
            assert_eq!(find_row(&t, id, "3").unwrap().index, 2);
            assert_eq!(
                find_row(&t, id, "C-7").unwrap_err(),
                LookupError::NoIdColumn { text: "C-7".into() }
            );
            assert_eq!(
                find_row(&t, id, "4").unwrap_err().to_string(),
                "there is no data row 4 (the file has 3 data rows)"
            );
        }
    }
}
