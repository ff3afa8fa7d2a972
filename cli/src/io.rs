//! Files in and out: reading tables (CSV streamed in chunks, Parquet by batches, or JSON), loading artifacts,
//! writing CSV, and rendering aligned text tables.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use ebb_core::data::ingest::{read_json, CsvOptions, CsvReader};
use ebb_core::data::table::Table;
use ebb_core::serve::artifact::Artifact;

use crate::{CliError, CliResult};

/// Bytes read per step when streaming a CSV file.
const CHUNK_BYTES: usize = 1 << 20;

fn open(path: &Path) -> CliResult<File> {
    File::open(path).map_err(|e| CliError::input(format!("{}: cannot open: {e}", path.display())))
}

fn is_json(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// Whether `path` is a Parquet file: named `.parquet`, or starting with Parquet's `PAR1` magic
/// whatever its name (a warehouse export saved as `.pq` or without an extension).
pub fn is_parquet(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
        || starts_with_parquet_magic(path)
}

fn starts_with_parquet_magic(path: &Path) -> bool {
    let mut head = [0u8; 4];
    File::open(path).is_ok_and(|mut f| f.read_exact(&mut head).is_ok() && &head == b"PAR1")
}

/// The error for a Parquet file when this `ebb` was built without the `parquet` feature.
#[cfg(not(feature = "parquet"))]
pub fn no_parquet(path: &Path) -> CliError {
    CliError::input(format!(
        "{}: is Parquet, but this ebb was built without Parquet support (rebuild with the default features, or export CSV)",
        path.display()
    ))
}

/// Reads a whole table. CSV is parsed chunk by chunk so the file is never held in memory next
/// to the table; JSON (an array of records) is read whole; Parquet batch by batch, its column
/// types kept for inference.
pub fn read_table(path: &Path) -> CliResult<(Table, String)> {
    if is_parquet(path) {
        #[cfg(feature = "parquet")]
        return crate::parquet::read_table(path);
        #[cfg(not(feature = "parquet"))]
        return Err(no_parquet(path));
    }
    let mut file = open(path)?;
    if is_json(path) {
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| CliError::input(format!("{}: cannot read: {e}", path.display())))?;
        let table = read_json(&bytes).map_err(|e| CliError::core(path, e))?;
        let hash = ebb_core::serve::artifact::data_hash(&bytes);
        return Ok((table, hash));
    }
    let mut reader = CsvReader::new(CsvOptions::default());
    let mut hasher = ebb_core::serve::artifact::StreamingHash::default();
    stream_chunks(path, &mut file, |chunk| {
        hasher.update(chunk);
        reader.feed(chunk).map_err(|e| CliError::core(path, e))
    })?;
    let table = reader.finish().map_err(|e| CliError::core(path, e))?;
    Ok((table, hasher.finish_hex()))
}

/// Streams a CSV or Parquet file in batches of rows, calling `batch` with each parsed batch
/// (same header).
pub fn for_each_batch(path: &Path, mut batch: impl FnMut(Table) -> CliResult) -> CliResult {
    if is_parquet(path) {
        #[cfg(feature = "parquet")]
        return crate::parquet::for_each_batch(path, batch);
        #[cfg(not(feature = "parquet"))]
        return Err(no_parquet(path));
    }
    let mut file = open(path)?;
    if is_json(path) {
        let (table, _) = read_table(path)?;
        return batch(table);
    }
    let mut reader = CsvReader::new(CsvOptions::default());
    let mut pending = 0usize;
    stream_chunks(path, &mut file, |chunk| {
        reader.feed(chunk).map_err(|e| CliError::core(path, e))?;
        pending += chunk.len();
        // Hand out rows every ~8 MiB of input to bound memory on million-row files.
        if pending >= 8 * CHUNK_BYTES {
            pending = 0;
            if let Some(t) = reader.take_rows() {
                batch(t)?;
            }
        }
        Ok(())
    })?;
    match reader.finish() {
        Ok(t) => batch(t),
        // A file whose rows were all handed out already ends with an empty remainder.
        Err(ebb_core::Error::EmptyInput) => Ok(()),
        Err(e) => Err(CliError::core(path, e)),
    }
}

fn stream_chunks(
    path: &Path,
    file: &mut File,
    mut each: impl FnMut(&[u8]) -> CliResult,
) -> CliResult {
    let mut buf = vec![0u8; CHUNK_BYTES];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| CliError::input(format!("{}: cannot read: {e}", path.display())))?;
        if n == 0 {
            return Ok(());
        }
        each(&buf[..n])?;
    }
}

/// Loads and checks a model artifact.
pub fn read_artifact(path: &Path) -> CliResult<Artifact> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::input(format!("{}: cannot read model: {e}", path.display())))?;
    Artifact::from_json(&text).map_err(|e| CliError::core(path, e))
}

/// The current time as ISO 8601 UTC, or `SOURCE_DATE_EPOCH` when set (reproducible builds of
/// an artifact: the same data and seed then give the same model id).
pub fn now_iso() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0)
        });
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        ebb_core::data::datetime::format_date(days),
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Renders rows as an aligned text table with a header rule.
pub fn render_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<&str>, out: &mut String| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}", w = *w))
            .collect();
        out.push_str(parts.join("  ").trim_end());
        out.push('\n');
    };
    line(header.to_vec(), &mut out);
    line(
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .iter()
            .map(|s| s.as_str())
            .collect(),
        &mut out,
    );
    for row in rows {
        line(row.iter().map(|s| s.as_str()).collect(), &mut out);
    }
    out
}

/// Prints a value as one line of JSON on standard output.
pub fn print_json(value: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string(value).unwrap_or_else(|_| "{}".into())
    );
}
