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

use ebb_core::data::schema::Schema;
use ebb_core::data::table::Table;
use ebb_core::workflow::{self, PrepareOptions, Prepared};

use crate::progress::ProgressBar;
use crate::{CliError, CliResult, ColumnArgs};

/// Reads `path` (CSV streamed in chunks, or JSON) and prepares it with core's
/// [`workflow::prepare`]: the schema inferred from `columns` (a target required when
/// `need_target`) or the `saved` one enforced, the quality report, and quarantined rows split off.
pub fn prepare(
    path: &Path,
    columns: &ColumnArgs,
    need_target: bool,
    saved: Option<Schema>,
    quiet: bool,
) -> CliResult<Prepared> {
    let (table, data_hash) = crate::io::read_table(path)?;
    let options = PrepareOptions {
        target: columns.target.clone(),
        id: columns.id.clone(),
        time: columns.time.clone(),
        require_target: need_target,
        schema: saved,
        format: None,
    };
    let mut bar = ProgressBar::new(quiet);
    let prepared = workflow::prepare(table, data_hash, &options, &mut bar.reporter())
        .map_err(|e| CliError::core(path, e));
    bar.finish();
    prepared
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
    crate::write_file(path, &out)
}
