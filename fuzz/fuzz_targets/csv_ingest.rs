//! CSV ingest: any bytes either read into a table or fail with a typed error, never a panic; and
//! the streaming reader fed in small chunks reads exactly what one whole feed reads (the CLI
//! streams files in chunks, the dashboard reads them whole: both must see the same table, or
//! both refuse the file).
//!
//! Only the outcome of a refused file is compared, not which error is reported: a file with
//! two problems can name a different one first depending on the chunks: a NUL byte is looked
//! for in each chunk before it is parsed, so a whole feed reports the NUL byte at byte 60 while
//! 7-byte chunks have already parsed, and reported, text after a closing quote on line 2 (the
//! first fuzz run found this; `corpus/csv_ingest/nul_after_stray_quote.csv`). Either answer is
//! true and refuses the file.
#![no_main]

use ebb_core::data::ingest::{read_csv, CsvOptions, CsvReader};
use ebb_core::data::table::Table;
use libfuzzer_sys::fuzz_target;

/// Everything a reader produces, in a comparable form.
fn contents(table: &Table) -> (Vec<String>, Vec<Vec<String>>, Vec<usize>, Vec<String>) {
    let rows = (0..table.n_rows())
        .map(|r| {
            (0..table.n_cols())
                .map(|c| table.raw(r, c).to_string())
                .collect()
        })
        .collect();
    let sources = (0..table.n_rows()).map(|r| table.source_row(r)).collect();
    (
        table.names().to_vec(),
        rows,
        sources,
        table.notes().to_vec(),
    )
}

/// The table read, or `None` when the file was refused.
fn outcome(result: ebb_core::error::Result<Table>) -> Option<impl PartialEq + core::fmt::Debug> {
    result.ok().map(|t| contents(&t))
}

fuzz_target!(|data: &[u8]| {
    let whole = outcome(read_csv(data, &CsvOptions::default()));

    // Chunk sizes from 1 to 13 bytes, chosen by the input so each input is deterministic.
    let chunk = 1 + data.len() % 13;
    let mut reader = CsvReader::new(CsvOptions::default());
    let fed = data.chunks(chunk).try_for_each(|c| reader.feed(c));
    let streamed = outcome(fed.and_then(|()| reader.finish()));
    assert_eq!(whole, streamed, "chunks of {chunk} bytes read differently");

    // A forced delimiter skips sniffing: another path through the reader.
    let delimiter = [b',', b';', b'\t', b'|'][data.len() % 4];
    let _ = read_csv(data, &CsvOptions::default().with_delimiter(delimiter));
});
