//! Ingest: turns the bytes of an upload (CSV or a JSON array of records) into a [`Table`].
//!
//! CSV follows RFC 4180 (quoted fields, `""` escapes, newlines inside quotes, CRLF or LF line
//! ends) on top of `csv-core`, which splits fields but accepts anything; this module adds the
//! checks a user needs to fix a broken file: stray or unclosed quotes, ragged rows, invalid
//! UTF-8 and unnamed or duplicate header columns, each reported with its row and column.
//!
//! [`CsvReader`] is push-based so a caller can stream a large file chunk by chunk and, with
//! [`CsvReader::take_rows`], score it in batches without ever holding it whole.
//!
//! Memory bound while reading CSV: at most the 64 KiB sniffing window plus one chunk held back
//! before the delimiter is known, one buffer the size of the longest record, and the table
//! itself (the text of every cell plus 4 bytes per cell and one `usize` per row; with
//! `take_rows` only the rows since the last call). No per-cell allocation happens.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;
use core::mem;

use csv_core::{ReadRecordResult, Reader, ReaderBuilder};
use hashbrown::HashMap;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::data::table::Table;
use crate::error::{Error, Result};

const BOM: &[u8] = b"\xEF\xBB\xBF";
/// How much of the file start the delimiter sniffer may look at.
const SNIFF_BYTES: usize = 64 * 1024;
/// How many non-blank lines the delimiter sniffer compares.
const SNIFF_LINES: usize = 20;
/// Delimiters the sniffer chooses from; on a tie the earlier one wins.
const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];

/// How to read a CSV file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CsvOptions {
    /// The field delimiter; `None` sniffs it among `,` `;` tab `|` from the first lines.
    pub delimiter: Option<u8>,
}

impl CsvOptions {
    /// Forces the field delimiter instead of sniffing it.
    pub fn with_delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = Some(delimiter);
        self
    }
}

/// A streaming CSV reader: [`feed`](Self::feed) it chunks split anywhere, then
/// [`finish`](Self::finish) it. The first record is the header; data rows are numbered from 1.
pub struct CsvReader {
    options: CsvOptions,
    /// Bytes held back until the delimiter is known.
    pending: Vec<u8>,
    delimiter: Option<u8>,
    csv: Reader,
    quotes: QuoteCheck,
    /// The current record's unescaped field bytes and field end offsets, as `csv-core` fills
    /// them; only the first `n_out` / `n_ends` entries are meaningful.
    record: Vec<u8>,
    ends: Vec<usize>,
    n_out: usize,
    n_ends: usize,
    table: Option<Table>,
    rows_read: usize,
    /// The first error, repeated by every later call: the stream cannot be resumed after it.
    failed: Option<Error>,
}

impl fmt::Debug for CsvReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsvReader")
            .field("options", &self.options)
            .field("delimiter", &self.delimiter)
            .field("header", &self.header())
            .field("rows_read", &self.rows_read)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl CsvReader {
    /// A reader that has seen no bytes yet.
    pub fn new(options: CsvOptions) -> Self {
        CsvReader {
            options,
            pending: Vec::new(),
            delimiter: None,
            csv: Reader::new(),
            quotes: QuoteCheck::new(b','),
            record: vec![0; 1024],
            ends: vec![0; 32],
            n_out: 0,
            n_ends: 0,
            table: None,
            rows_read: 0,
            failed: None,
        }
    }

    /// Parses as much of `chunk` as possible. Chunks may split the input anywhere (inside a
    /// quoted field, a UTF-8 character or a CRLF). The first bytes are held back until the
    /// delimiter can be sniffed (20 lines or 64 KiB), so errors may surface a call later.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<()> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let outcome = self.feed_inner(chunk);
        if let Err(e) = &outcome {
            self.failed = Some(e.clone());
        }
        outcome
    }

    /// Ends the input: parses the last record and returns the rows not yet handed out by
    /// [`take_rows`](Self::take_rows). Fails with [`Error::EmptyInput`] when the input held no
    /// data row (empty file or header only).
    pub fn finish(mut self) -> Result<Table> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        if self.delimiter.is_none() {
            let pending = mem::take(&mut self.pending);
            let delimiter = self.decide(&pending, true)?.unwrap_or(b',');
            self.start(delimiter);
            self.parse(strip_bom(&pending))?;
        }
        if let Some(line) = self.quotes.open_quote_line() {
            let field = self.quotes.field;
            return Err(Error::Malformed {
                row: self.current_row(),
                message: format!(
                    "unterminated quoted field starting on line {line} in {}: add the closing \
                     `\"` (a quote inside a quoted field must be doubled as `\"\"`)",
                    column_label(self.table.as_ref(), field)
                ),
            });
        }
        loop {
            self.reserve();
            let (res, _, nout, nend) = self.csv.read_record(
                &[],
                &mut self.record[self.n_out..],
                &mut self.ends[self.n_ends..],
            );
            self.n_out += nout;
            self.n_ends += nend;
            match res {
                ReadRecordResult::Record => self.emit()?,
                ReadRecordResult::OutputFull | ReadRecordResult::OutputEndsFull => {}
                ReadRecordResult::End | ReadRecordResult::InputEmpty => break,
            }
        }
        match self.table {
            Some(table) if self.rows_read > 0 => Ok(table),
            _ => Err(Error::EmptyInput),
        }
    }

    /// Hands out the rows parsed so far (with the same header) and keeps reading; `None`
    /// until the header is known. Source row numbers keep counting across batches.
    pub fn take_rows(&mut self) -> Option<Table> {
        let table = self.table.as_mut()?;
        let empty = table.filter_rows(|_| false);
        Some(mem::replace(table, empty))
    }

    /// The trimmed header names, once the first record has been read.
    pub fn header(&self) -> Option<&[String]> {
        self.table.as_ref().map(Table::names)
    }

    /// The delimiter in use, once forced or sniffed.
    pub fn delimiter(&self) -> Option<u8> {
        self.delimiter
    }

    fn feed_inner(&mut self, chunk: &[u8]) -> Result<()> {
        if chunk.is_empty() {
            return Ok(());
        }
        if self.delimiter.is_some() {
            return self.parse(chunk);
        }
        if self.pending.is_empty() {
            // Deciding straight from the chunk avoids copying a whole file handed over at once.
            if let Some(delimiter) = self.decide(chunk, false)? {
                self.start(delimiter);
                return self.parse(strip_bom(chunk));
            }
            self.pending.extend_from_slice(chunk);
            return Ok(());
        }
        self.pending.extend_from_slice(chunk);
        // Sniffing again can only change its answer once a line ended or the window filled.
        let sniffing = self.options.delimiter.is_none();
        if sniffing
            && self.pending.len() < SNIFF_BYTES
            && !chunk.iter().any(|&b| b == b'\n' || b == b'\r')
        {
            return Ok(());
        }
        let pending = mem::take(&mut self.pending);
        match self.decide(&pending, false)? {
            Some(delimiter) => {
                self.start(delimiter);
                self.parse(strip_bom(&pending))
            }
            None => {
                self.pending = pending;
                Ok(())
            }
        }
    }

    /// The delimiter to use for input starting with `data`, or `None` while more bytes are
    /// needed to decide (a possibly partial BOM, or too few lines to sniff).
    fn decide(&self, data: &[u8], at_end: bool) -> Result<Option<u8>> {
        if !at_end && data.len() < BOM.len() && BOM.starts_with(data) {
            return Ok(None);
        }
        match self.options.delimiter {
            Some(d) if d >= 0x80 || matches!(d, b'"' | b'\r' | b'\n') => {
                Err(Error::InvalidParameter {
                    name: "delimiter".into(),
                    message: format!(
                        "byte 0x{d:02x} cannot separate fields; use an ASCII character other \
                         than a quote or a line break, such as `,` `;` `|` or tab"
                    ),
                })
            }
            Some(d) => Ok(Some(d)),
            None => Ok(sniff(strip_bom(data), at_end)),
        }
    }

    fn start(&mut self, delimiter: u8) {
        self.delimiter = Some(delimiter);
        self.csv = ReaderBuilder::new().delimiter(delimiter).build();
        self.quotes = QuoteCheck::new(delimiter);
    }

    /// The data-row number of the record being parsed (0 while it is the header).
    fn current_row(&self) -> usize {
        if self.table.is_some() {
            self.rows_read + 1
        } else {
            0
        }
    }

    /// Makes room for `csv-core` to write at least one more byte and one more field end.
    fn reserve(&mut self) {
        if self.n_out >= self.record.len() {
            let len = self.record.len().max(1) * 2;
            self.record.resize(len, 0);
        }
        if self.n_ends >= self.ends.len() {
            let len = self.ends.len().max(1) * 2;
            self.ends.resize(len, 0);
        }
    }

    /// Parses `input`, which must not be empty: `csv-core` reads empty input as end of file.
    fn parse(&mut self, mut input: &[u8]) -> Result<()> {
        while !input.is_empty() {
            self.reserve();
            let (res, nin, nout, nend) = self.csv.read_record(
                input,
                &mut self.record[self.n_out..],
                &mut self.ends[self.n_ends..],
            );
            let consumed = input.get(..nin).unwrap_or(input);
            if let Err(problem) = self.quotes.scan(consumed) {
                return Err(self.quote_error(problem));
            }
            input = input.get(nin..).unwrap_or(&[]);
            self.n_out += nout;
            self.n_ends += nend;
            if res == ReadRecordResult::Record {
                self.emit()?;
            }
        }
        Ok(())
    }

    fn quote_error(&self, problem: QuoteProblem) -> Error {
        let column = column_label(self.table.as_ref(), problem.field);
        let what = if problem.after_closing_quote {
            "text follows the closing quote of a quoted field"
        } else {
            "stray `\"` inside an unquoted field"
        };
        Error::Malformed {
            row: self.current_row(),
            message: format!(
                "{column} (line {}): {what}; enclose the whole field in double quotes and double \
                 every quote inside it, e.g. `\"ab\"\"c\"`",
                problem.line
            ),
        }
    }

    /// Turns the completed record into the header or a data row.
    fn emit(&mut self) -> Result<()> {
        let n_out = mem::take(&mut self.n_out);
        let n_ends = mem::take(&mut self.n_ends);
        let bytes = self.record.get(..n_out).unwrap_or(&[]);
        let ends = self.ends.get(..n_ends).unwrap_or(&[]);
        let row = if self.table.is_some() {
            self.rows_read + 1
        } else {
            0
        };
        if let Some(table) = &self.table {
            if n_ends != table.n_cols() {
                return Err(Error::RaggedRow {
                    row,
                    expected: table.n_cols(),
                    found: n_ends,
                });
            }
        }
        let bad_utf8 = |field: usize| Error::Malformed {
            row,
            message: format!(
                "{} is not valid UTF-8 text; re-save the file with UTF-8 encoding",
                column_label(self.table.as_ref(), field)
            ),
        };
        let text = core::str::from_utf8(bytes).map_err(|e| {
            let at = e.valid_up_to();
            bad_utf8(ends.iter().position(|&end| end > at).unwrap_or(0))
        })?;
        // A record can be valid UTF-8 as a whole while a character straddles two fields.
        if let Some(field) = ends.iter().position(|&end| !text.is_char_boundary(end)) {
            return Err(bad_utf8(field));
        }
        let fields = ends.iter().scan(0, |start, &end| {
            let field = text.get(*start..end).unwrap_or("");
            *start = end;
            Some(field)
        });
        match &mut self.table {
            Some(table) => {
                table.push_row(row, fields)?;
                self.rows_read = row;
            }
            None => {
                let mut names = Vec::with_capacity(n_ends);
                for (i, field) in fields.enumerate() {
                    let name = field.trim();
                    if name.is_empty() {
                        return Err(Error::Malformed {
                            row: 0,
                            message: format!(
                                "header column {} has no name; give every column a name in the \
                                 first line",
                                i + 1
                            ),
                        });
                    }
                    names.push(String::from(name));
                }
                self.table = Some(Table::new(names)?);
            }
        }
        Ok(())
    }
}

/// Reads a whole CSV file held in memory.
pub fn read_csv(bytes: &[u8], options: &CsvOptions) -> Result<Table> {
    let mut reader = CsvReader::new(*options);
    reader.feed(bytes)?;
    reader.finish()
}

/// Appends `field` to `out` as one CSV field, quoted (with inner quotes doubled) when it holds
/// the delimiter, a quote or a line break.
pub fn write_csv_field(out: &mut String, field: &str, delimiter: u8) {
    let needs_quotes = field
        .bytes()
        .any(|b| b == delimiter || matches!(b, b'"' | b'\r' | b'\n'));
    if !needs_quotes {
        out.push_str(field);
        return;
    }
    out.push('"');
    for (i, part) in field.split('"').enumerate() {
        if i > 0 {
            out.push_str("\"\"");
        }
        out.push_str(part);
    }
    out.push('"');
}

/// Appends one record and a `\n` to `out`. A record made of one empty field is written as
/// `""`, because a blank line would be skipped by readers (this one included).
pub fn write_csv_record<'a>(
    out: &mut String,
    fields: impl IntoIterator<Item = &'a str>,
    delimiter: u8,
) {
    let start = out.len();
    let mut count = 0;
    for field in fields {
        if count > 0 {
            out.push(char::from(delimiter));
        }
        write_csv_field(out, field, delimiter);
        count += 1;
    }
    if count == 1 && out.len() == start {
        out.push_str("\"\"");
    }
    out.push('\n');
}

fn strip_bom(data: &[u8]) -> &[u8] {
    data.strip_prefix(BOM).unwrap_or(data)
}

fn column_label(table: Option<&Table>, field: usize) -> String {
    match table {
        None => format!("header column {}", field + 1),
        Some(t) => match t.names().get(field) {
            Some(name) => format!("column `{name}`"),
            None => format!("column {} (beyond the header)", field + 1),
        },
    }
}

/// Picks the delimiter from the start of the file (BOM already removed), or `None` while the
/// bytes seen cannot decide yet. Only the first [`SNIFF_LINES`] lines inside the first
/// [`SNIFF_BYTES`] count, so the answer never depends on how the input was chunked.
///
/// Per candidate, occurrences outside quotes are counted on every line; the winner has a
/// non-zero count on the header line and the most lines agreeing with it, then the highest
/// count. A decimal comma in a `;` file therefore loses: the header has no commas.
fn sniff(body: &[u8], at_end: bool) -> Option<u8> {
    let window_full = body.len() >= SNIFF_BYTES;
    let window = body.get(..SNIFF_BYTES).unwrap_or(body);
    let mut lines: Vec<[usize; 4]> = Vec::new();
    let mut counts = [0usize; 4];
    let mut in_quotes = false;
    let mut has_content = false;
    for &b in window {
        if lines.len() == SNIFF_LINES {
            break;
        }
        match b {
            b'"' => {
                in_quotes = !in_quotes;
                has_content = true;
            }
            b'\r' | b'\n' if !in_quotes => {
                if has_content {
                    lines.push(counts);
                }
                counts = [0; 4];
                has_content = false;
            }
            _ => {
                has_content = true;
                if !in_quotes {
                    if let Some(i) = CANDIDATES.iter().position(|&c| c == b) {
                        counts[i] += 1;
                    }
                }
            }
        }
    }
    if lines.len() < SNIFF_LINES && !window_full && !at_end {
        return None;
    }
    // The unterminated last line is complete only at the end of a file shorter than the
    // window; a single over-long line is still better evidence than none.
    if has_content
        && lines.len() < SNIFF_LINES
        && ((at_end && body.len() <= SNIFF_BYTES) || lines.is_empty())
    {
        lines.push(counts);
    }
    let Some(first) = lines.first() else {
        return Some(b',');
    };
    let mut best = (b',', 0, 0);
    for (i, &candidate) in CANDIDATES.iter().enumerate() {
        let on_header = first[i];
        if on_header == 0 {
            continue;
        }
        let agreeing = lines.iter().filter(|l| l[i] == on_header).count();
        if (agreeing, on_header) > (best.1, best.2) {
            best = (candidate, agreeing, on_header);
        }
    }
    Some(best.0)
}

/// Where the quote checker is within the record, mirroring `csv-core`'s parse of the same
/// bytes (which never reports bad quoting itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QuoteState {
    /// Between records; blank lines and the `\n` of a CRLF are skipped here.
    RecordStart,
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: either its end or the first half of `""`.
    QuoteInQuoted,
}

#[derive(Debug, Clone, Copy)]
struct QuoteProblem {
    field: usize,
    line: usize,
    after_closing_quote: bool,
}

#[derive(Debug, Clone)]
struct QuoteCheck {
    delimiter: u8,
    state: QuoteState,
    /// 0-based field index within the current record.
    field: usize,
    /// 1-based physical line (counted by `\n`) of the byte being checked.
    line: usize,
    quote_line: usize,
}

impl QuoteCheck {
    fn new(delimiter: u8) -> Self {
        QuoteCheck {
            delimiter,
            state: QuoteState::RecordStart,
            field: 0,
            line: 1,
            quote_line: 1,
        }
    }

    /// The line where a still-open quoted field began, if the input stopped inside one.
    fn open_quote_line(&self) -> Option<usize> {
        (self.state == QuoteState::Quoted).then_some(self.quote_line)
    }

    fn scan(&mut self, bytes: &[u8]) -> core::result::Result<(), QuoteProblem> {
        use QuoteState::*;
        let mut rest = bytes;
        while let Some((&b, tail)) = rest.split_first() {
            // The inside of a field has no structure; skipping it in bulk keeps this check
            // from costing more than the parse itself.
            let delimiter = self.delimiter;
            let run = match self.state {
                Quoted => rest.iter().position(|&c| c == b'"'),
                Unquoted => rest
                    .iter()
                    .position(|&c| c == delimiter || matches!(c, b'"' | b'\r' | b'\n')),
                _ => Some(0),
            }
            .unwrap_or(rest.len());
            if run > 0 {
                let (skipped, after) = rest.split_at(run);
                if self.state == Quoted {
                    self.line += skipped.iter().filter(|&&c| c == b'\n').count();
                }
                rest = after;
                continue;
            }
            rest = tail;
            self.state = match self.state {
                Quoted => QuoteInQuoted,
                _ if matches!(b, b'\r' | b'\n') => {
                    self.field = 0;
                    RecordStart
                }
                _ if b == delimiter => {
                    self.field += 1;
                    FieldStart
                }
                QuoteInQuoted if b == b'"' => Quoted,
                RecordStart | FieldStart if b == b'"' => {
                    self.quote_line = self.line;
                    Quoted
                }
                RecordStart | FieldStart if b != b'"' => Unquoted,
                state => {
                    return Err(QuoteProblem {
                        field: self.field,
                        line: self.line,
                        after_closing_quote: state == QuoteInQuoted,
                    })
                }
            };
            if b == b'\n' {
                self.line += 1;
            }
        }
        Ok(())
    }
}

/// Reads a JSON array of flat objects, one per row (row 1 is the first object).
///
/// Columns are the union of keys in first-seen order. Numbers become their shortest text
/// (integral values without `.0`), booleans `true`/`false`, strings stay as they are, and
/// `null` or an absent key becomes an empty (missing) cell. Nested arrays or objects, empty
/// or repeated keys and anything but an array of objects are [`Error::Malformed`].
pub fn read_json(bytes: &[u8]) -> Result<Table> {
    let mut records = JsonRecords::default();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = (&mut records).deserialize(&mut de).and_then(|()| de.end());
    if let Err(e) = parsed {
        return Err(records.problem.take().unwrap_or_else(|| Error::Malformed {
            row: records.current_row,
            message: format!(
                "expected a JSON array of flat objects like `[{{\"id\": 1, \"plan\": \"pro\"}}]`: {e}"
            ),
        }));
    }
    if records.rows.is_empty() {
        return Err(Error::EmptyInput);
    }
    if records.names.is_empty() {
        return Err(Error::Malformed {
            row: 0,
            message: String::from("every object is empty; give each record at least one key"),
        });
    }
    let n_cols = records.names.len();
    let mut table = Table::new(records.names)?;
    let mut cells: Vec<&str> = Vec::with_capacity(n_cols);
    for (i, row) in records.rows.iter().enumerate() {
        cells.clear();
        cells.resize(n_cols, "");
        for (col, text) in row {
            if let Some(cell) = cells.get_mut(*col) {
                *cell = text;
            }
        }
        table.push_row(i + 1, cells.iter().copied())?;
    }
    Ok(table)
}

/// What a JSON document has yielded so far; `problem` keeps the structured error that a
/// serde error string could not carry.
#[derive(Default)]
struct JsonRecords {
    names: Vec<String>,
    index: HashMap<String, usize>,
    /// Per row, the (column, text) pairs present.
    rows: Vec<Vec<(usize, String)>>,
    current_row: usize,
    problem: Option<Error>,
}

impl<'de> DeserializeSeed<'de> for &mut JsonRecords {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(RecordsVisitor(self))
    }
}

struct RecordsVisitor<'a>(&'a mut JsonRecords);

impl<'de> Visitor<'de> for RecordsVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of objects, one per row")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        loop {
            let row = self.0.rows.len() + 1;
            self.0.current_row = row;
            if seq
                .next_element_seed(RecordSeed {
                    records: &mut *self.0,
                    row,
                })?
                .is_none()
            {
                break;
            }
        }
        self.0.current_row = 0;
        Ok(())
    }
}

struct RecordSeed<'a> {
    records: &'a mut JsonRecords,
    row: usize,
}

impl<'de> DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "record {} to be an object of plain values", self.row)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let records = self.records;
        let mut cells: Vec<(usize, String)> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let value: serde_json::Value = map.next_value()?;
            let fail = |message: String| Error::Malformed {
                row: self.row,
                message,
            };
            let text = match value {
                serde_json::Value::Null => String::new(),
                serde_json::Value::Bool(b) => String::from(if b { "true" } else { "false" }),
                serde_json::Value::Number(n) => number_text(&n),
                serde_json::Value::String(s) => s,
                serde_json::Value::Array(_) | serde_json::Value::Object(_) => {
                    records.problem = Some(fail(format!(
                        "key `{key}` holds a nested array or object; give each key one plain \
                         value (text, number, true/false or null)"
                    )));
                    return Err(de::Error::custom("nested value"));
                }
            };
            if key.trim().is_empty() {
                records.problem = Some(fail(String::from(
                    "a key is empty; name every field of the record",
                )));
                return Err(de::Error::custom("empty key"));
            }
            let col = match records.index.get(&key) {
                Some(&col) => col,
                None => {
                    let col = records.names.len();
                    records.names.push(key.clone());
                    records.index.insert(key.clone(), col);
                    col
                }
            };
            if cells.iter().any(|(c, _)| *c == col) {
                records.problem = Some(fail(format!(
                    "key `{key}` appears twice in the record; keep one of them"
                )));
                return Err(de::Error::custom("duplicate key"));
            }
            cells.push((col, text));
        }
        records.rows.push(cells);
        Ok(())
    }
}

/// The shortest text of a JSON number; integral floats such as `3.0` lose the `.0` so they
/// read the same as `3` (below 2^53, where every integer is exact).
fn number_text(n: &serde_json::Number) -> String {
    if let Some(v) = n.as_f64().filter(|_| n.is_f64()) {
        const EXACT: f64 = 9_007_199_254_740_992.0;
        if v.abs() < EXACT && (v as i64) as f64 == v {
            return format!("{}", v as i64);
        }
    }
    format!("{n}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use proptest::prelude::*;

    fn cells(t: &Table) -> Vec<Vec<String>> {
        (0..t.n_rows())
            .map(|r| (0..t.n_cols()).map(|c| t.raw(r, c).to_string()).collect())
            .collect()
    }

    fn source_rows(t: &Table) -> Vec<usize> {
        (0..t.n_rows()).map(|r| t.source_row(r)).collect()
    }

    fn assert_same(a: &Table, b: &Table) {
        assert_eq!(a.names(), b.names());
        assert_eq!(cells(a), cells(b));
        assert_eq!(source_rows(a), source_rows(b));
    }

    fn csv(input: &str) -> Result<Table> {
        read_csv(input.as_bytes(), &CsvOptions::default())
    }

    fn chunked(input: &[u8], options: CsvOptions, sizes: &[usize]) -> Result<Table> {
        let mut reader = CsvReader::new(options);
        let mut rest = input;
        for &size in sizes.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (head, tail) = rest.split_at(size.clamp(1, rest.len()));
            reader.feed(head)?;
            rest = tail;
        }
        reader.finish()
    }

    fn malformed(result: Result<Table>) -> (usize, String) {
        match result {
            Err(Error::Malformed { row, message }) => (row, message),
            other => panic!("expected Malformed, got {other:?}"),
        }
    }

    #[test]
    fn reads_header_and_rows() {
        let t = csv(" id , plan \n1,pro\n2,\n").unwrap();
        assert_eq!(t.names(), ["id", "plan"]);
        assert_eq!(cells(&t), [["1", "pro"], ["2", ""]]);
        assert_eq!(source_rows(&t), [1, 2]);
    }

    #[test]
    fn strips_bom_and_handles_crlf_and_missing_final_newline() {
        let t = csv("\u{feff}id,name\r\n1,x\r\n2,y").unwrap();
        assert_eq!(t.names(), ["id", "name"]);
        assert_eq!(cells(&t), [["1", "x"], ["2", "y"]]);
    }

    #[test]
    fn quoted_fields_span_lines_and_count_as_one_row() {
        let t = csv("id,note\n1,\"line1\r\nline2\"\n2,\"say \"\"hi\"\", ok\"\n\n3,\"\"\n").unwrap();
        assert_eq!(
            cells(&t),
            [["1", "line1\r\nline2"], ["2", "say \"hi\", ok"], ["3", ""]]
        );
        assert_eq!(source_rows(&t), [1, 2, 3]);
        let err = csv("id,note\n1,\"a\nb\nc\"\n2,x,y\n").unwrap_err();
        assert_eq!(
            err,
            Error::RaggedRow {
                row: 2,
                expected: 2,
                found: 3
            }
        );
    }

    #[test]
    fn blank_lines_are_skipped_without_consuming_row_numbers() {
        let t = csv("a\n\n1\r\n\r\n\n2\n\n").unwrap();
        assert_eq!(cells(&t), [["1"], ["2"]]);
        assert_eq!(source_rows(&t), [1, 2]);
    }

    #[test]
    fn sniffs_each_delimiter() {
        for d in CANDIDATES {
            let d = char::from(d);
            let input = format!("a{d}b{d}c\n1{d}2{d}3\n4{d}\"5{d}x\"{d}6\n");
            let mut reader = CsvReader::new(CsvOptions::default());
            reader.feed(input.as_bytes()).unwrap();
            assert_eq!(reader.delimiter(), None, "a short file waits for its end");
            let t = reader.finish().unwrap();
            assert_eq!(t.names(), ["a", "b", "c"], "delimiter {d:?}");
            assert_eq!(t.raw(1, 1), format!("5{d}x"));
        }
    }

    #[test]
    fn sniffing_ignores_quoted_and_decimal_commas() {
        let t = csv("\"a;b\",c\n\"x;y\",z\n").unwrap();
        assert_eq!(t.names(), ["a;b", "c"]);
        let t = csv("price;qty\n1,5;2\n2,25;3\n").unwrap();
        assert_eq!(cells(&t), [["1,5", "2"], ["2,25", "3"]]);
        // Free text with commas in a tab file: the header has tabs only.
        let t = csv("id\tnote\n1\thello, world\n2\tfine\n").unwrap();
        assert_eq!(t.raw(0, 1), "hello, world");
        // One column and no candidate at all: comma, i.e. one field per line.
        let t = csv("name\nAnn Lee\n").unwrap();
        assert_eq!(cells(&t), [["Ann Lee"]]);
    }

    #[test]
    fn sniffing_uses_only_the_first_lines() {
        let mut input = String::from("a;b\n");
        for i in 0..30 {
            input.push_str(&format!("{i};x\n"));
        }
        // Beyond the sniffed lines a comma-heavy line does not change the choice.
        input.push_str("1,2,3,4;y\n");
        let t = csv(&input).unwrap();
        assert_eq!(t.n_rows(), 31);
        assert_eq!(t.raw(30, 0), "1,2,3,4");
    }

    #[test]
    fn big_input_decides_the_same_whatever_the_chunking() {
        let mut input = String::from("id|note\n");
        let mut i = 0;
        while input.len() < 3 * SNIFF_BYTES {
            input.push_str(&format!("{i}|\"a,b;c\nd\"\n"));
            i += 1;
        }
        let whole = csv(&input).unwrap();
        assert_eq!(whole.names(), ["id", "note"]);
        assert_eq!(whole.n_rows(), i);
        for sizes in [[1000, 1], [SNIFF_BYTES - 1, 7], [2 * SNIFF_BYTES + 5, 3]] {
            let t = chunked(input.as_bytes(), CsvOptions::default(), &sizes).unwrap();
            assert_same(&t, &whole);
        }
    }

    #[test]
    fn forced_delimiter_is_used_and_checked() {
        let options = CsvOptions::default().with_delimiter(b';');
        let t = read_csv(b"a,b;c\n1,2;3\n", &options).unwrap();
        assert_eq!(t.names(), ["a,b", "c"]);
        let t = read_csv(b"a|b\n1|2\n", &options).unwrap();
        assert_eq!(t.names(), ["a|b"]);
        for bad in [b'"', b'\n', 0xC3] {
            let err = read_csv(b"a\n1\n", &CsvOptions::default().with_delimiter(bad));
            assert!(matches!(
                err,
                Err(Error::InvalidParameter { name, .. }) if name == "delimiter"
            ));
        }
    }

    #[test]
    fn ragged_rows_report_exact_numbers() {
        assert_eq!(
            csv("a,b,c\n1,2,3\n4,5\n").unwrap_err(),
            Error::RaggedRow {
                row: 2,
                expected: 3,
                found: 2
            }
        );
        assert_eq!(
            csv("a,b\n\n1,2\n3,4,5,6").unwrap_err(),
            Error::RaggedRow {
                row: 2,
                expected: 2,
                found: 4
            }
        );
    }

    #[test]
    fn stray_quotes_are_reported_with_row_and_column() {
        let (row, message) = malformed(csv("a,b\n1,x\n2,ab\"c\n"));
        assert_eq!(row, 2);
        assert!(message.contains("column `b`"), "{message}");
        assert!(message.contains("line 3"), "{message}");
        assert!(message.contains("stray"), "{message}");
        let (row, message) = malformed(csv("a,b\n\"ab\"c,1\n"));
        assert_eq!(row, 1);
        assert!(message.contains("column `a`"), "{message}");
        assert!(message.contains("closing quote"), "{message}");
        let (row, message) = malformed(csv("a,b\"\n1,2\n"));
        assert_eq!(row, 0);
        assert!(message.contains("header column 2"), "{message}");
    }

    #[test]
    fn unterminated_quote_is_reported_where_it_starts() {
        let (row, message) = malformed(csv("a,b\n1,x\n2,\"abc\n3,4\n"));
        assert_eq!(row, 2);
        assert!(
            message.starts_with("unterminated quoted field starting on line 3 in column `b`"),
            "{message}"
        );
        let (row, message) = malformed(csv("\"a,b\n1,2\n"));
        assert_eq!(row, 0);
        assert!(
            message.starts_with("unterminated quoted field"),
            "{message}"
        );
    }

    #[test]
    fn empty_inputs() {
        for input in ["", "\u{feff}", "\n\r\n\n", "a,b", "a,b\n", "a,b\r\n\r\n"] {
            assert_eq!(csv(input).unwrap_err(), Error::EmptyInput, "{input:?}");
        }
    }

    #[test]
    fn bad_headers() {
        let (row, message) = malformed(csv("a,,c\n1,2,3\n"));
        assert_eq!(row, 0);
        assert!(message.contains("header column 2 has no name"), "{message}");
        let (_, message) = malformed(csv("a, \t ,c\n1,2,3\n"));
        assert!(message.contains("header column 2"), "{message}");
        assert_eq!(
            csv("a, a\n1,2\n").unwrap_err(),
            Error::DuplicateColumn {
                column: "a".to_string()
            }
        );
    }

    #[test]
    fn invalid_utf8_names_the_column() {
        let (row, message) = malformed(read_csv(b"a,b\n1,ok\n2,\xff\n", &CsvOptions::default()));
        assert_eq!(row, 2);
        assert!(message.contains("column `b`"), "{message}");
        // Valid as a whole record, but the character is split across two fields.
        let (row, message) = malformed(read_csv(b"a,b\n\xc3,\xa9\n", &CsvOptions::default()));
        assert_eq!(row, 1);
        assert!(message.contains("column `a`"), "{message}");
    }

    #[test]
    fn errors_are_sticky() {
        let mut reader = CsvReader::new(CsvOptions::default().with_delimiter(b','));
        let first = reader.feed(b"a,b\n1,2,3\n").unwrap_err();
        assert_eq!(reader.feed(b"4,5\n").unwrap_err(), first);
        assert_eq!(reader.finish().unwrap_err(), first);
    }

    const TRICKY: &[u8] = b"\xef\xbb\xbfid;note;city\r\n1;\"multi\r\nline; \"\"quoted\"\"\";Z\xc3\xbcrich\r\n\r\n2;;\"\xe6\x9d\xb1\xe4\xba\xac\"\r\n3;\"\";x\r";

    #[test]
    fn every_split_point_gives_the_same_table() {
        let whole = read_csv(TRICKY, &CsvOptions::default()).unwrap();
        assert_eq!(whole.names(), ["id", "note", "city"]);
        assert_eq!(
            cells(&whole),
            [
                ["1", "multi\r\nline; \"quoted\"", "Zürich"],
                ["2", "", "東京"],
                ["3", "", "x"]
            ]
        );
        for options in [
            CsvOptions::default(),
            CsvOptions::default().with_delimiter(b';'),
        ] {
            for split in 0..=TRICKY.len() {
                let mut reader = CsvReader::new(options);
                reader.feed(&TRICKY[..split]).unwrap();
                reader.feed(&TRICKY[split..]).unwrap();
                assert_same(&reader.finish().unwrap(), &whole);
            }
            assert_same(&chunked(TRICKY, options, &[1]).unwrap(), &whole);
            assert_same(&chunked(TRICKY, options, &[2, 3, 5]).unwrap(), &whole);
        }
    }

    #[test]
    fn every_split_point_gives_the_same_error() {
        for input in [
            &b"a,b\n1,\"x\ny\"\n2,ab\"c\n"[..],
            b"a,b\n1,2\n3,\"open\n",
            b"a,b\n1,2\n3\n",
            b"a,b\n1,\xc3\xa9\xc3\n",
        ] {
            let expected = read_csv(input, &CsvOptions::default()).unwrap_err();
            for split in 0..=input.len() {
                let mut reader = CsvReader::new(CsvOptions::default());
                let outcome = reader
                    .feed(&input[..split])
                    .and_then(|()| reader.feed(&input[split..]))
                    .and_then(|()| reader.finish());
                assert_eq!(outcome.unwrap_err(), expected, "split at {split}");
            }
        }
    }

    #[test]
    fn take_rows_streams_the_whole_table() {
        let mut input = String::from("id,value\n");
        for i in 1..=200 {
            input.push_str(&format!("{i},\"v\n{i}\"\n"));
        }
        let whole = csv(&input).unwrap();
        let mut reader = CsvReader::new(CsvOptions::default().with_delimiter(b','));
        assert!(reader.take_rows().is_none());
        assert!(reader.header().is_none());
        let mut batches = Vec::new();
        for chunk in input.as_bytes().chunks(97) {
            reader.feed(chunk).unwrap();
            if let Some(batch) = reader.take_rows() {
                batches.push(batch);
            }
        }
        assert_eq!(reader.header().unwrap(), ["id", "value"]);
        batches.push(reader.finish().unwrap());
        assert!(batches.len() > 10);
        let mut all_cells = Vec::new();
        let mut all_rows = Vec::new();
        for batch in &batches {
            assert_eq!(batch.names(), whole.names());
            all_cells.extend(cells(batch));
            all_rows.extend(source_rows(batch));
        }
        assert_eq!(all_cells, cells(&whole));
        assert_eq!(all_rows, source_rows(&whole));
    }

    #[test]
    fn take_rows_then_finish_with_no_rows_left_is_fine() {
        let mut reader = CsvReader::new(CsvOptions::default());
        reader.feed(b"a\n1\n2\n").unwrap();
        assert!(reader.take_rows().is_none(), "still sniffing");
        let mut reader = CsvReader::new(CsvOptions::default().with_delimiter(b','));
        reader.feed(b"a\n1\n2\n").unwrap();
        assert_eq!(reader.take_rows().unwrap().n_rows(), 2);
        assert_eq!(reader.finish().unwrap().n_rows(), 0);
    }

    #[test]
    fn writes_fields_quoted_only_when_needed() {
        let mut out = String::new();
        for field in [
            "plain",
            "a,b",
            "a;b",
            "say \"hi\"",
            "two\nlines",
            "cr\r",
            "",
        ] {
            write_csv_field(&mut out, field, b',');
            out.push('|');
        }
        assert_eq!(
            out,
            "plain|\"a,b\"|a;b|\"say \"\"hi\"\"\"|\"two\nlines\"|\"cr\r\"||"
        );
        let mut out = String::new();
        write_csv_record(&mut out, [""], b'\t');
        write_csv_record(&mut out, ["", ""], b'\t');
        write_csv_record(&mut out, ["a\tb", "c"], b'\t');
        assert_eq!(out, "\"\"\n\t\n\"a\tb\"\tc\n");
    }

    fn table_strategy() -> impl Strategy<Value = (u8, Vec<String>, Vec<Vec<String>>)> {
        (0..CANDIDATES.len(), 1..5usize).prop_flat_map(|(d, n_cols)| {
            let names = proptest::collection::vec("[a-z\",;|é😀]{0,4}", n_cols);
            let cell = "[ab ,;|\t\"\r\né東😀]{0,6}";
            let rows = proptest::collection::vec(proptest::collection::vec(cell, n_cols), 1..8);
            (Just(CANDIDATES[d]), names, rows)
        })
    }

    proptest! {
        #[test]
        fn round_trip((delimiter, names, rows) in table_strategy(), chunk in 1..40usize, crlf: bool) {
            let names: Vec<String> = names.iter().enumerate().map(|(i, n)| format!("h{i}{n}")).collect();
            let mut text = String::new();
            write_csv_record(&mut text, names.iter().map(String::as_str), delimiter);
            for row in &rows {
                write_csv_record(&mut text, row.iter().map(String::as_str), delimiter);
            }
            if crlf {
                text = text.replace("\n", "\r\n");
            }
            let options = CsvOptions::default().with_delimiter(delimiter);
            let table = chunked(text.as_bytes(), options, &[chunk]).unwrap();
            prop_assert_eq!(table.names(), &names[..]);
            let expected: Vec<Vec<String>> = if crlf {
                rows.iter().map(|r| r.iter().map(|c| c.replace("\n", "\r\n")).collect()).collect()
            } else {
                rows.clone()
            };
            prop_assert_eq!(cells(&table), expected);
            prop_assert_eq!(source_rows(&table), (1..=rows.len()).collect::<Vec<_>>());
        }
    }

    #[test]
    fn json_records_become_a_table() {
        let input = br#"[
            {"b": 1, "a": "x", "flag": true},
            {"c": null, "a": "y", "b": 2.5, "flag": false},
            {"a": "", "b": 3.0, "c": -0.25, "d": 12345678901234567890, "e": 1e20}
        ]"#;
        let t = read_json(input).unwrap();
        assert_eq!(t.names(), ["b", "a", "flag", "c", "d", "e"]);
        assert_eq!(
            cells(&t),
            [
                ["1", "x", "true", "", "", ""],
                ["2.5", "y", "false", "", "", ""],
                ["3", "", "", "-0.25", "12345678901234567890", "1e+20"]
            ]
        );
        assert_eq!(source_rows(&t), [1, 2, 3]);
    }

    #[test]
    fn json_errors() {
        let (row, message) = malformed(read_json(br#"[{"a": 1}, {"a": 2, "tags": [1]}]"#));
        assert_eq!(row, 2);
        assert!(message.contains("key `tags`"), "{message}");
        let (row, message) = malformed(read_json(br#"[{"a": {"x": 1}}]"#));
        assert_eq!(row, 1);
        assert!(message.contains("key `a`"), "{message}");
        let (row, message) = malformed(read_json(br#"{"a": 1}"#));
        assert_eq!(row, 0);
        assert!(message.contains("array of objects"), "{message}");
        let (row, message) = malformed(read_json(br#"[{"a": 1}, 7]"#));
        assert_eq!(row, 2);
        assert!(message.contains("record 2"), "{message}");
        let (row, _) = malformed(read_json(b"[{\"a\": 1},"));
        assert_eq!(row, 2);
        let (row, _) = malformed(read_json(b"[{\"a\": 1}] trailing"));
        assert_eq!(row, 0);
        let (row, message) = malformed(read_json(br#"[{"a": 1, "a": 2}]"#));
        assert_eq!(row, 1);
        assert!(message.contains("twice"), "{message}");
        let (_, message) = malformed(read_json(br#"[{" ": 1}]"#));
        assert!(message.contains("empty"), "{message}");
        malformed(read_json(br#"[{}, {}]"#));
        malformed(read_json(b""));
        assert_eq!(read_json(b" [ ] ").unwrap_err(), Error::EmptyInput);
    }
}
