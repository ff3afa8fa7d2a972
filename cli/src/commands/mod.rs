//! One module per `ebb` subcommand.

pub mod decide;
pub mod drift;
pub mod evaluate;
pub mod events;
pub mod explain;
pub mod fairness;
pub mod generate;
pub mod pipeline;
pub mod publish;
pub mod report;
pub mod runs;
pub mod score;
pub mod segment;
pub mod train;
pub mod tune;
pub mod validate;
pub mod whatif;

use std::path::Path;

use ebb_core::data::quality::{report, split_quarantine, QualityReport};
use ebb_core::data::schema::{infer, InferOptions, Inference, Schema};
use ebb_core::data::table::Table;

use crate::{CliError, CliResult, ColumnArgs};

/// A data file read, typed and checked: what `validate`, `train` and `pipeline` start from.
pub struct Prepared {
    /// Inferred schema and the notes explaining its decisions.
    pub inference: Inference,
    /// Data-quality report of the whole file.
    pub quality: QualityReport,
    /// Rows that passed validation.
    pub clean: Table,
    /// Rows set aside (bad cells or a missing/invalid target), reported, never dropped silently.
    pub quarantined: Table,
    /// SHA-256 of the file.
    pub data_hash: String,
}

/// Reads `path`, infers its schema (target required when `need_target`) and splits off
/// quarantined rows.
pub fn prepare(path: &Path, columns: &ColumnArgs, need_target: bool) -> CliResult<Prepared> {
    let (table, data_hash) = crate::io::read_table(path)?;
    let options = InferOptions {
        target: columns.target.clone(),
        id: columns.id.clone(),
        time: columns.time.clone(),
        require_target: need_target,
        ..InferOptions::default()
    };
    let inference = infer(&table, &options).map_err(|e| CliError::core(path, e))?;
    finish_prepare(path, table, inference, data_hash, need_target)
}

/// Like [`prepare`], but with a saved schema instead of inferring one (for enforcement).
pub fn prepare_with_schema(path: &Path, schema: Schema) -> CliResult<(Prepared, Table)> {
    let (table, data_hash) = crate::io::read_table(path)?;
    // How the file was read (encoding, number formats) still applies with a saved schema.
    let mut notes = vec![String::from("schema loaded from file, not inferred")];
    notes.extend_from_slice(table.notes());
    let inference = Inference { schema, notes };
    let prepared = finish_prepare(path, table.clone(), inference, data_hash, false)?;
    Ok((prepared, table))
}

fn finish_prepare(
    path: &Path,
    table: Table,
    inference: Inference,
    data_hash: String,
    need_target: bool,
) -> CliResult<Prepared> {
    let quality = report(&table, &inference.schema);
    let (clean, quarantined) = split_quarantine(&table, &quality);
    if need_target && clean.n_rows() == 0 {
        return Err(CliError::input(format!(
            "{}: every row was quarantined ({} rows): see `ebb validate` for the reasons",
            path.display(),
            quarantined.n_rows()
        )));
    }
    Ok(Prepared {
        inference,
        quality,
        clean,
        quarantined,
        data_hash,
    })
}

/// Writes a table as CSV (header first).
pub fn write_table_csv(path: &Path, table: &Table) -> CliResult {
    let mut out = String::new();
    let push_line = |cells: &mut dyn Iterator<Item = &str>, out: &mut String| {
        for (i, c) in cells.enumerate() {
            if i > 0 {
                out.push(',');
            }
            ebb_core::data::ingest::write_csv_field(out, c, b',');
        }
        out.push('\n');
    };
    push_line(&mut table.names().iter().map(|s| s.as_str()), &mut out);
    for r in 0..table.n_rows() {
        push_line(&mut (0..table.n_cols()).map(|c| table.raw(r, c)), &mut out);
    }
    crate::write_file(&path.to_path_buf(), &out)
}
