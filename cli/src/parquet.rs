//! Parquet in and out (the `parquet` feature): a thin adapter between Arrow record batches and
//! core's text [`Table`], so every command reads a warehouse export the way it reads a CSV.
//!
//! Cells are rendered as the text a CSV of the same data would hold (numbers in Rust's shortest
//! round-trip form, so `12.7` reads back to the same `f64`; dates and timestamps in ISO 8601;
//! booleans `true` / `false`; nulls empty, i.e. missing), and each column's Arrow type is passed
//! on as a [`StoredType`], which settles what inference would otherwise guess from the text.
//! Files are read one row group at a time, in batches of at most [`BATCH_ROWS`] rows, so scoring
//! a million-row file keeps memory flat.

use std::fs::File;
use std::io::{BufWriter, Read};
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{Float64Builder, StringBuilder, UInt8Builder};
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Decimal128Type, Float16Type, Float32Type, Float64Type, Int16Type,
    Int32Type, Int64Type, Int8Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use ebb_core::data::datetime::format_date;
use ebb_core::data::table::{StoredType, Table};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::{CliError, CliResult};

/// Rows per batch read: large enough that per-batch work (a scorer pass) is amortised, small
/// enough that a batch of 30 columns stays in the tens of megabytes.
const BATCH_ROWS: usize = 65_536;

/// Rows per row group of the scores file: the writer holds one row group in memory.
const OUT_ROW_GROUP_ROWS: usize = 131_072;

/// What a column of this Arrow type stores, `Ok(None)` for the all-null type, or why the type
/// cannot be read.
fn stored_type(data_type: &DataType) -> Result<Option<StoredType>, String> {
    use DataType::*;
    Ok(Some(match data_type {
        Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 | Float16 | Float32
        | Float64 | Decimal128(..) => StoredType::Number,
        Utf8 | LargeUtf8 | Utf8View => StoredType::Text,
        Boolean => StoredType::Boolean,
        Date32 | Date64 | Timestamp(..) => StoredType::Datetime,
        Dictionary(_, values) => return stored_type(values),
        Null => return Ok(None),
        other => {
            return Err(format!(
                "its type {other} cannot be read: ebb reads numbers, strings, booleans, dates and timestamps (cast the column or leave it out of the export)"
            ))
        }
    }))
}

/// Writes one cell of a batch's column as text (nothing for a null).
type Cell<'a> = Box<dyn Fn(usize, &mut String) + 'a>;

fn display<'a, T: std::fmt::Display>(value: impl Fn(usize) -> T + 'a) -> Cell<'a> {
    Box::new(move |r, out| {
        use std::fmt::Write;
        let _ = write!(out, "{}", value(r));
    })
}

/// A timestamp of `value` `per_second` ticks since the epoch, in ISO 8601 (`Z` when the column
/// has a time zone: Arrow then stores UTC instants; wall-clock times are written as they are).
fn write_timestamp(value: i64, per_second: i64, utc: bool, out: &mut String) {
    use std::fmt::Write;
    let secs = value.div_euclid(per_second);
    let ticks = value.rem_euclid(per_second);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    out.push_str(&format_date(days));
    let _ = write!(
        out,
        "T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    if ticks != 0 {
        let digits = per_second.ilog10() as usize;
        let frac = format!("{ticks:0digits$}");
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    if utc {
        out.push('Z');
    }
}

/// A decimal `value` with `scale` digits after the point, as plain text.
fn write_decimal(value: i128, scale: i8, out: &mut String) {
    if value < 0 {
        out.push('-');
    }
    let digits = value.unsigned_abs().to_string();
    if scale <= 0 {
        out.push_str(&digits);
        if value != 0 {
            out.extend(std::iter::repeat_n('0', usize::from(scale.unsigned_abs())));
        }
        return;
    }
    let scale = scale as usize;
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    out.push_str(int);
    out.push('.');
    out.push_str(frac);
}

/// The cell writer for one column of a batch. Only called for types [`stored_type`] accepts.
fn cells(array: &ArrayRef) -> Result<Cell<'_>, String> {
    use DataType::*;
    let cell: Cell<'_> = match array.data_type() {
        Int8 => display(|r| array.as_primitive::<Int8Type>().value(r)),
        Int16 => display(|r| array.as_primitive::<Int16Type>().value(r)),
        Int32 => display(|r| array.as_primitive::<Int32Type>().value(r)),
        Int64 => display(|r| array.as_primitive::<Int64Type>().value(r)),
        UInt8 => display(|r| array.as_primitive::<UInt8Type>().value(r)),
        UInt16 => display(|r| array.as_primitive::<UInt16Type>().value(r)),
        UInt32 => display(|r| array.as_primitive::<UInt32Type>().value(r)),
        UInt64 => display(|r| array.as_primitive::<UInt64Type>().value(r)),
        // Each float in its own shortest round-trip form: an f32 `0.1` stays `0.1`.
        Float16 => display(|r| array.as_primitive::<Float16Type>().value(r)),
        Float32 => display(|r| array.as_primitive::<Float32Type>().value(r)),
        Float64 => display(|r| array.as_primitive::<Float64Type>().value(r)),
        Decimal128(_, scale) => {
            let (a, scale) = (array.as_primitive::<Decimal128Type>(), *scale);
            Box::new(move |r, out| write_decimal(a.value(r), scale, out))
        }
        Utf8 => {
            let a = array.as_string::<i32>();
            Box::new(move |r, out| out.push_str(a.value(r)))
        }
        LargeUtf8 => {
            let a = array.as_string::<i64>();
            Box::new(move |r, out| out.push_str(a.value(r)))
        }
        Utf8View => {
            let a = array.as_string_view();
            Box::new(move |r, out| out.push_str(a.value(r)))
        }
        Boolean => {
            let a = array.as_boolean();
            Box::new(move |r, out| out.push_str(if a.value(r) { "true" } else { "false" }))
        }
        Date32 => {
            let a = array.as_primitive::<Date32Type>();
            Box::new(move |r, out| out.push_str(&format_date(i64::from(a.value(r)))))
        }
        Date64 => {
            let a = array.as_primitive::<Date64Type>();
            Box::new(move |r, out| {
                let ms = a.value(r);
                if ms % 86_400_000 == 0 {
                    out.push_str(&format_date(ms / 86_400_000));
                } else {
                    write_timestamp(ms, 1_000, false, out);
                }
            })
        }
        Timestamp(unit, zone) => {
            let utc = zone.is_some();
            let (values, per_second): (Box<dyn Fn(usize) -> i64 + '_>, i64) = match unit {
                TimeUnit::Second => {
                    let a = array.as_primitive::<TimestampSecondType>();
                    (Box::new(|r| a.value(r)), 1)
                }
                TimeUnit::Millisecond => {
                    let a = array.as_primitive::<TimestampMillisecondType>();
                    (Box::new(|r| a.value(r)), 1_000)
                }
                TimeUnit::Microsecond => {
                    let a = array.as_primitive::<TimestampMicrosecondType>();
                    (Box::new(|r| a.value(r)), 1_000_000)
                }
                TimeUnit::Nanosecond => {
                    let a = array.as_primitive::<TimestampNanosecondType>();
                    (Box::new(|r| a.value(r)), 1_000_000_000)
                }
            };
            Box::new(move |r, out| write_timestamp(values(r), per_second, utc, out))
        }
        Dictionary(..) => {
            let dictionary = array.as_any_dictionary();
            let keys = dictionary.normalized_keys();
            let values = dictionary.values();
            let value = cells(values)?;
            Box::new(move |r, out| {
                let k = keys[r];
                if values.is_valid(k) {
                    value(k, out)
                }
            })
        }
        Null => Box::new(|_, _| {}),
        other => return Err(format!("its type {other} cannot be read")),
    };
    Ok(cell)
}

/// An open Parquet file, read one row group at a time (so an error names its row group, and a
/// batch never spans two groups), with its columns' stored types.
struct Source<'p> {
    path: &'p Path,
    file: File,
    metadata: ArrowReaderMetadata,
    names: Vec<String>,
    stored: Vec<Option<StoredType>>,
    /// The row group being read (0-based) and its reader; `None` between groups.
    group: usize,
    reader: Option<ParquetRecordBatchReader>,
    /// Rows read before the current batch (source rows are numbered from 1 across groups).
    rows_read: usize,
}

impl<'p> Source<'p> {
    /// Opens `path` and checks every column's type before any row is read.
    fn open(path: &'p Path) -> CliResult<Self> {
        let file = File::open(path)
            .map_err(|e| CliError::input(format!("{}: cannot open: {e}", path.display())))?;
        let metadata = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).map_err(|e| {
            CliError::input(format!(
                "{}: not a readable Parquet file: its footer (the schema and row-group index at the end of the file) is damaged or missing, was it cut short? ({e})",
                path.display()
            ))
        })?;
        let schema = metadata.schema().clone();
        let mut stored = Vec::with_capacity(schema.fields().len());
        for field in schema.fields() {
            stored.push(stored_type(field.data_type()).map_err(|why| {
                CliError::input(format!(
                    "{}: column `{}`: {why}",
                    path.display(),
                    field.name()
                ))
            })?);
        }
        Ok(Source {
            path,
            file,
            metadata,
            names: schema.fields().iter().map(|f| f.name().clone()).collect(),
            stored,
            group: 0,
            reader: None,
            rows_read: 0,
        })
    }

    /// What a failure in the current row group is called: "row group 2 (rows 101-200)".
    fn group_error(&self, e: impl std::fmt::Display) -> CliError {
        let groups = self.metadata.metadata().row_groups();
        let first = groups[..self.group.min(groups.len())]
            .iter()
            .map(|g| usize::try_from(g.num_rows()).unwrap_or(0))
            .sum::<usize>();
        let rows = groups
            .get(self.group)
            .map_or(0, |g| usize::try_from(g.num_rows()).unwrap_or(0));
        let e = e.to_string();
        let hint = if e.contains("Disabled feature") {
            " (ebb reads uncompressed and Snappy-compressed Parquet, the default of pyarrow, DuckDB and Spark: write the file with compression='snappy')"
        } else {
            ""
        };
        CliError::input(format!(
            "{}: row group {} (rows {}-{}) cannot be decoded: {e}{hint}",
            self.path.display(),
            self.group + 1,
            first + 1,
            first + rows
        ))
    }

    /// The next batch of the file, from the current row group or the next one.
    fn next_batch(&mut self) -> CliResult<Option<RecordBatch>> {
        loop {
            if self.reader.is_none() {
                if self.group >= self.metadata.metadata().num_row_groups() {
                    return Ok(None);
                }
                let file = self
                    .file
                    .try_clone()
                    .map_err(|e| CliError::input(format!("{}: {e}", self.path.display())))?;
                let reader =
                    ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.metadata.clone())
                        .with_row_groups(vec![self.group])
                        .with_batch_size(BATCH_ROWS)
                        .build()
                        .map_err(|e| self.group_error(e))?;
                self.reader = Some(reader);
            }
            match self.reader.as_mut().and_then(Iterator::next) {
                Some(Ok(batch)) => return Ok(Some(batch)),
                Some(Err(e)) => return Err(self.group_error(e)),
                None => {
                    self.reader = None;
                    self.group += 1;
                }
            }
        }
    }

    /// An empty table with this file's header and stored types.
    fn empty_table(&self) -> CliResult<Table> {
        let mut table = Table::new(self.names.clone()).map_err(|e| CliError::core(self.path, e))?;
        for (col, stored) in self.stored.iter().enumerate() {
            if let Some(stored) = stored {
                table.set_stored_type(col, *stored);
            }
        }
        Ok(table)
    }

    /// The next batch appended to `table`; false at the end of the file.
    fn append_next(&mut self, table: &mut Table) -> CliResult<bool> {
        let Some(batch) = self.next_batch()? else {
            return Ok(false);
        };
        let columns = batch
            .columns()
            .iter()
            .zip(&self.names)
            .map(|(array, name)| {
                cells(array).map_err(|why| {
                    CliError::input(format!("{}: column `{name}`: {why}", self.path.display()))
                })
            })
            .collect::<CliResult<Vec<_>>>()?;
        let mut text = String::new();
        let mut ends = Vec::with_capacity(columns.len());
        for r in 0..batch.num_rows() {
            text.clear();
            ends.clear();
            for (cell, array) in columns.iter().zip(batch.columns()) {
                if array.is_valid(r) {
                    cell(r, &mut text);
                }
                ends.push(text.len());
            }
            let cells = ends.iter().scan(0, |start, &end| {
                let cell = &text[*start..end];
                *start = end;
                Some(cell)
            });
            table
                .push_row(self.rows_read + r + 1, cells)
                .map_err(|e| CliError::core(self.path, e))?;
        }
        self.rows_read += batch.num_rows();
        Ok(true)
    }
}

/// Reads a whole Parquet file into one table, with the SHA-256 of the file's bytes.
pub fn read_table(path: &Path) -> CliResult<(Table, String)> {
    let mut source = Source::open(path)?;
    let mut table = source.empty_table()?;
    while source.append_next(&mut table)? {}
    if table.n_rows() == 0 {
        return Err(CliError::core(path, ebb_core::Error::EmptyInput));
    }
    let mut hasher = ebb_core::serve::artifact::StreamingHash::default();
    let mut file = File::open(path)
        .map_err(|e| CliError::input(format!("{}: cannot open: {e}", path.display())))?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| CliError::input(format!("{}: cannot read: {e}", path.display())))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok((table, hasher.finish_hex()))
}

/// Streams a Parquet file in batches of at most [`BATCH_ROWS`] rows.
pub fn for_each_batch(path: &Path, mut batch: impl FnMut(Table) -> CliResult) -> CliResult {
    let mut source = Source::open(path)?;
    loop {
        let mut table = source.empty_table()?;
        if !source.append_next(&mut table)? {
            return Ok(());
        }
        batch(table)?;
    }
}

/// `ebb score`'s output as Parquet: `id` (text), `probability` (double) and `decision` (0 or 1),
/// the last two null for a row that could not be scored (`invalid` in the CSV).
pub struct ScoresWriter<'f> {
    writer: ArrowWriter<&'f mut BufWriter<File>>,
    schema: SchemaRef,
    ids: StringBuilder,
    probabilities: Float64Builder,
    decisions: UInt8Builder,
    path: &'f Path,
}

impl<'f> ScoresWriter<'f> {
    /// A writer into `out` (the temporary file behind `path`).
    pub fn new(out: &'f mut BufWriter<File>, path: &'f Path) -> CliResult<Self> {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Utf8, false),
            Field::new("probability", DataType::Float64, true),
            Field::new("decision", DataType::UInt8, true),
        ]));
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(OUT_ROW_GROUP_ROWS))
            .build();
        let writer = ArrowWriter::try_new(out, schema.clone(), Some(properties))
            .map_err(|e| Self::error(path, e))?;
        Ok(ScoresWriter {
            writer,
            schema,
            ids: StringBuilder::new(),
            probabilities: Float64Builder::new(),
            decisions: UInt8Builder::new(),
            path,
        })
    }

    fn error(path: &Path, e: impl std::fmt::Display) -> CliError {
        CliError::other(format!("{}: cannot write Parquet: {e}", path.display()))
    }

    /// Adds one row: its id and, when it was scored, the probability and decision.
    pub fn push(&mut self, id: &str, score: Option<(f64, bool)>) {
        self.ids.append_value(id);
        self.probabilities.append_option(score.map(|s| s.0));
        self.decisions.append_option(score.map(|s| u8::from(s.1)));
    }

    /// Hands the rows pushed since the last call to the writer.
    pub fn write_rows(&mut self) -> CliResult {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.ids.finish()),
            Arc::new(self.probabilities.finish()),
            Arc::new(self.decisions.finish()),
        ];
        let batch = RecordBatch::try_new(self.schema.clone(), columns)
            .map_err(|e| Self::error(self.path, e))?;
        self.writer
            .write(&batch)
            .map_err(|e| Self::error(self.path, e))
    }

    /// Writes the footer.
    pub fn finish(self) -> CliResult {
        let path = self.path;
        self.writer
            .close()
            .map(|_| ())
            .map_err(|e| Self::error(path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decimal(value: i128, scale: i8) -> String {
        let mut out = String::new();
        write_decimal(value, scale, &mut out);
        out
    }

    fn timestamp(value: i64, per_second: i64, utc: bool) -> String {
        let mut out = String::new();
        write_timestamp(value, per_second, utc, &mut out);
        out
    }

    #[test]
    fn decimals_as_plain_numbers() {
        assert_eq!(decimal(12345, 2), "123.45");
        assert_eq!(decimal(-5, 3), "-0.005");
        assert_eq!(decimal(7, 0), "7");
        assert_eq!(decimal(12, -2), "1200");
        assert_eq!(decimal(0, -2), "0");
    }

    #[test]
    fn timestamps_in_iso_8601() {
        assert_eq!(timestamp(0, 1, true), "1970-01-01T00:00:00Z");
        assert_eq!(
            timestamp(1_706_700_645_250, 1_000, false),
            "2024-01-31T11:30:45.25"
        );
        // Before the epoch: the fraction still counts forward from the whole second.
        assert_eq!(
            timestamp(-1, 1_000_000, true),
            "1969-12-31T23:59:59.999999Z"
        );
        for text in ["1970-01-01T00:00:00Z", "2024-01-31T11:30:45.25"] {
            assert!(ebb_core::data::datetime::parse_datetime(text).is_some());
        }
    }

    #[test]
    fn unsupported_types_are_named() {
        let list = DataType::List(Arc::new(Field::new("item", DataType::Int32, true)));
        let why = stored_type(&list).unwrap_err();
        assert!(why.contains("List"), "{why}");
        assert_eq!(stored_type(&DataType::Null), Ok(None));
        let dict = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        assert_eq!(stored_type(&dict), Ok(Some(StoredType::Text)));
    }
}
