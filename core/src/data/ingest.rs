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
//! Files as analysts have them, not only as programs write them:
//!
//! - **Encoding.** A file is UTF-8 when its first [`ENCODING_WINDOW`] bytes are valid UTF-8
//!   (or it starts with a UTF-8 BOM), otherwise Windows-1252, the encoding Excel on Windows
//!   saves "CSV" in; the table then carries a note. The choice is made once per file, before
//!   any row holding a non-ASCII byte is emitted (ASCII reads the same in both, so rows before
//!   the first non-ASCII byte need not wait), and does not depend on how the input is chunked.
//!   An invalid byte later in a file decided UTF-8 is an error naming its row and column.
//! - **Numbers.** In a file delimited by something other than `,` (a European export: `;`), a
//!   column whose non-missing cells all read as numbers with a decimal comma (`29,85`,
//!   `1.889,50`) is rewritten to plain numbers (`29.85`, `1889.50`); so is, in any file, a column
//!   whose cells all read as numbers with `,` thousands separators (`"1,889.50"`). Each rewrite
//!   adds a note. See [`NumberFormat`].
//!
//! Why rewrite cells at ingest rather than record a number format per column in the schema:
//! the format is a property of how one *file* was exported, not of the column. A model trained
//! on a European export must score a plain export of the same customers identically, and the
//! other way round; a format stored in the artifact would misread `1.234` in the plain file
//! as 1234. Rewriting at ingest also keeps every consumer (schema inference, quality, the
//! feature pipeline, drift, the scorer, and JSON records at the edge, which never have these
//! formats) on the one [`crate::data::table::parse_number`], so a number cannot be read two
//! ways. Only columns where *every* non-missing cell reads under the rule are rewritten, and
//! only when at least one cell needs it (plain `parse_number` rejects it), so text columns and
//! ordinary files are left exactly as they were.
//!
//! When the rule is decided: [`CsvReader::finish`] on a reader never asked for rows decides on
//! all rows (the "every cell" rule above); a stream read with `take_rows` decides on the rows of
//! its first non-empty batch and then applies the same per-column choice to every later row (a
//! later cell the rule cannot read stays as it is, and is reported as a bad number downstream).
//!
//! Memory bound while reading CSV: at most the 64 KiB sniffing window plus one chunk held back
//! before the delimiter is known, the 1 MiB encoding window plus one chunk held back after the
//! first non-ASCII byte until the encoding is known, one buffer the size of the longest record
//! (at most [`MAX_RECORD_BYTES`], and field offsets for at most twice [`MAX_COLUMNS`] fields),
//! and the table itself (the text of every cell plus 4 bytes per cell and one `usize` per row;
//! with `take_rows` only the rows since the last call). No per-cell allocation happens (a file
//! with rewritten number columns costs one small vector per row).

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;
use core::mem;

use csv_core::{ReadRecordResult, Reader, ReaderBuilder};
use hashbrown::HashMap;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::data::table::{is_na, parse_number, NumberFormat, Table, MAX_COLUMNS};
use crate::error::{Error, Result};
use crate::progress::Reporter;

const BOM: &[u8] = b"\xEF\xBB\xBF";
/// Longest record (its unescaped field bytes) a CSV file may have: 16 MiB. The record buffer
/// grows to the longest record, so without a cap one huge field, or an unclosed quote that
/// runs to the end of the file, would hold the rest of the file in it.
pub const MAX_RECORD_BYTES: usize = 16 << 20;
/// How much of the file start the delimiter sniffer may look at.
const SNIFF_BYTES: usize = 64 * 1024;
/// How many non-blank lines the delimiter sniffer compares.
const SNIFF_LINES: usize = 20;
/// Delimiters the sniffer chooses from; on a tie the earlier one wins.
const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];
/// How much of the file start decides between UTF-8 and Windows-1252.
pub const ENCODING_WINDOW: usize = 1 << 20;
/// The note a table read as Windows-1252 carries.
pub const WINDOWS_1252_NOTE: &str = "file decoded as Windows-1252 (not valid UTF-8)";

/// The text encoding a CSV file was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    /// UTF-8 (plain ASCII included).
    Utf8,
    /// Windows-1252 (Western European), decoded to UTF-8 while reading.
    Windows1252,
}

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
    /// `None` until decided; see the module documentation.
    encoding: Option<TextEncoding>,
    /// Bytes seen so far while the encoding is undecided.
    seen: usize,
    /// Bytes of the input checked for NUL bytes so far (up to [`ENCODING_WINDOW`]).
    scanned: usize,
    /// While the encoding is undecided: the input from the first non-ASCII byte on, its offset
    /// in the file, and how much of it is known to be valid UTF-8.
    held: Vec<u8>,
    held_start: usize,
    held_valid: usize,
    /// Reused buffer for input decoded from Windows-1252.
    decoded: Vec<u8>,
    /// Per column, the number format its cells are rewritten from; `None` until decided.
    formats: Option<Vec<Option<NumberFormat>>>,
    /// Per column, reused buffers for rewritten cells, and whether the current row uses them.
    plain: Vec<String>,
    rewritten: Vec<bool>,
    /// Notes decided before the table existed (the encoding), copied into it when it is made.
    notes: Vec<String>,
}

impl fmt::Debug for CsvReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsvReader")
            .field("options", &self.options)
            .field("delimiter", &self.delimiter)
            .field("header", &self.header())
            .field("rows_read", &self.rows_read)
            .field("failed", &self.failed)
            .field("encoding", &self.encoding)
            .field("formats", &self.formats)
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
            encoding: None,
            seen: 0,
            scanned: 0,
            held: Vec::new(),
            held_start: 0,
            held_valid: 0,
            decoded: Vec::new(),
            formats: None,
            plain: Vec::new(),
            rewritten: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Parses as much of `chunk` as possible. Chunks may split the input anywhere (inside a
    /// quoted field, a UTF-8 character or a CRLF). The first bytes are held back until the
    /// delimiter can be sniffed (20 lines or 64 KiB), so errors may surface a call later.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<()> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let outcome = self
            .refuse_binary(chunk)
            .and_then(|()| self.feed_inner(chunk));
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
        if self.encoding.is_none() && !self.held.is_empty() {
            self.decide_encoding(true)?;
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
        if self.rows_read == 0 {
            return Err(Error::EmptyInput);
        }
        self.decide_formats();
        let mut table = self.table.ok_or(Error::EmptyInput)?;
        table.shrink_to_fit();
        Ok(table)
    }

    /// Hands out the rows parsed so far (with the same header) and keeps reading; `None`
    /// until the header is known. Source row numbers keep counting across batches. The first
    /// batch holding rows decides the columns' number formats for the rest of the stream.
    pub fn take_rows(&mut self) -> Option<Table> {
        if self.table.as_ref().is_some_and(|t| t.n_rows() > 0) {
            self.decide_formats();
        }
        let table = self.table.as_mut()?;
        let empty = table.filter_rows(|_| false);
        Some(mem::replace(table, empty))
    }

    /// The encoding the file is read in, once decided (`None` while only ASCII was seen).
    pub fn encoding(&self) -> Option<TextEncoding> {
        self.encoding
    }

    /// Per column, the number format its cells were rewritten from, once decided.
    pub fn number_formats(&self) -> Option<&[Option<NumberFormat>]> {
        self.formats.as_deref()
    }

    /// The trimmed header names, once the first record has been read.
    pub fn header(&self) -> Option<&[String]> {
        self.table.as_ref().map(Table::names)
    }

    /// The delimiter in use, once forced or sniffed.
    pub fn delimiter(&self) -> Option<u8> {
        self.delimiter
    }

    /// Text in UTF-8 or Windows-1252 never holds a NUL byte; images, spreadsheets, archives and
    /// UTF-16 files do near their start. Refuses them, before the Windows-1252 fallback would
    /// turn them into rows of noise, when a NUL byte is among the first [`ENCODING_WINDOW`]
    /// bytes. Checked on every chunk of the window, whether or not an early invalid UTF-8 byte
    /// has already decided the encoding, so the answer does not depend on how the input is
    /// chunked (a fuzzer found a file that was refused whole but read in 3-byte chunks).
    fn refuse_binary(&mut self, chunk: &[u8]) -> Result<()> {
        let start = self.scanned;
        let head = &chunk[..ENCODING_WINDOW.saturating_sub(start).min(chunk.len())];
        self.scanned += head.len();
        match head.iter().position(|&b| b == 0) {
            None => Ok(()),
            Some(at) => Err(Error::Malformed {
                row: self.current_row(),
                message: format!(
                    "byte {} is a NUL byte, so this is not a text file (an image, a spreadsheet \
                     such as .xlsx, an archive or UTF-16 text?); save the data as CSV (UTF-8) \
                     or JSON",
                    start + at + 1
                ),
            }),
        }
    }

    /// Decodes `chunk` (or holds it while the encoding is undecided) and parses the text.
    fn feed_inner(&mut self, chunk: &[u8]) -> Result<()> {
        match self.encoding {
            Some(TextEncoding::Utf8) => self.feed_text(chunk),
            Some(TextEncoding::Windows1252) => {
                let mut decoded = mem::take(&mut self.decoded);
                decoded.clear();
                decode_windows_1252(chunk, &mut decoded);
                let outcome = self.feed_text(&decoded);
                self.decoded = decoded;
                outcome
            }
            None => {
                // Only the window is held; the rest of the chunk follows the decision.
                let start = self.seen;
                let (head, tail) =
                    chunk.split_at(ENCODING_WINDOW.saturating_sub(start).min(chunk.len()));
                self.seen += head.len();
                if !self.held.is_empty() {
                    self.held.extend_from_slice(head);
                } else if let Some(first) = head.iter().position(|b| !b.is_ascii()) {
                    let (ascii, rest) = head.split_at(first);
                    self.feed_text(ascii)?;
                    self.held_start = start + first;
                    self.held.extend_from_slice(rest);
                } else {
                    self.feed_text(head)?;
                }
                if !self.held.is_empty() || self.seen >= ENCODING_WINDOW {
                    self.decide_encoding(false)?;
                }
                if tail.is_empty() {
                    Ok(())
                } else {
                    self.feed_inner(tail)
                }
            }
        }
    }

    /// Decides the encoding from the held bytes once they settle it: an invalid UTF-8 sequence
    /// inside the window means Windows-1252; a window (or, `at_end`, a file) without one means
    /// UTF-8. Then parses the held bytes.
    fn decide_encoding(&mut self, at_end: bool) -> Result<()> {
        let at_file_start = !self.held.is_empty() && self.held_start == 0;
        let settled = at_end || self.seen >= ENCODING_WINDOW;
        let decided = if at_file_start && self.held.starts_with(BOM) {
            Some(TextEncoding::Utf8)
        } else if at_file_start && !settled && BOM.starts_with(&self.held) {
            None
        } else {
            // The held bytes start at the first non-ASCII byte and never go past the window.
            let unchecked = self.held.get(self.held_valid..).unwrap_or(&[]);
            match core::str::from_utf8(unchecked) {
                Ok(_) => {
                    self.held_valid = self.held.len();
                    settled.then_some(TextEncoding::Utf8)
                }
                Err(e) if e.error_len().is_some() => Some(TextEncoding::Windows1252),
                // A character cut by the end of the window or of the input so far: valid as
                // far as it goes (at the very end of a file, the parse reports it by row).
                Err(e) => {
                    self.held_valid += e.valid_up_to();
                    settled.then_some(TextEncoding::Utf8)
                }
            }
        };
        let Some(encoding) = decided else {
            return Ok(());
        };
        self.encoding = Some(encoding);
        if encoding == TextEncoding::Windows1252 {
            self.notes.push(String::from(WINDOWS_1252_NOTE));
            if let Some(table) = &mut self.table {
                table.add_note(String::from(WINDOWS_1252_NOTE));
            }
        }
        let held = mem::take(&mut self.held);
        self.feed_inner(&held)
    }

    /// Decides, per column, whether its cells are rewritten from a [`NumberFormat`], from the
    /// rows read so far, and rewrites them. Later rows are rewritten as they are emitted.
    fn decide_formats(&mut self) {
        if self.formats.is_some() {
            return;
        }
        let Some(table) = &mut self.table else {
            return;
        };
        // With `,` separating fields a decimal comma would need quotes on every cell, and
        // `"1,234"` there is a thousands separator far more often than a decimal mark.
        let candidates: &[NumberFormat] = if self.delimiter == Some(b',') {
            &[NumberFormat::ThousandsComma]
        } else {
            &[NumberFormat::DecimalComma, NumberFormat::ThousandsComma]
        };
        let mut plain = String::new();
        let formats: Vec<Option<NumberFormat>> = (0..table.n_cols())
            .map(|col| {
                let cells = table.column(col);
                // A cell only needs a rule if it has a comma or an inner space; one scan of
                // the column's text rules out the plain numeric columns of ordinary files.
                if !cells.contains(|c| matches!(c, ',' | ' ' | '\u{a0}' | '\u{202f}')) {
                    return None;
                }
                candidates.iter().copied().find(|&format| {
                    let mut needed = false;
                    let all = cells.iter().filter(|c| !is_na(c)).all(|c| {
                        needed = needed || parse_number(c).is_none();
                        format.write_plain(c, &mut plain)
                    });
                    all && needed
                })
            })
            .collect();
        for (col, format) in formats.iter().enumerate() {
            if let Some(format) = *format {
                table.rewrite_numbers(col, format);
                let note = format!(
                    "column `{}`: read with {}",
                    table.names()[col],
                    format.description()
                );
                table.add_note(note);
            }
        }
        self.plain = vec![String::new(); formats.len()];
        self.rewritten = vec![false; formats.len()];
        self.formats = Some(formats);
    }

    /// Parses text that is valid UTF-8 (or will be found invalid by row and column).
    fn feed_text(&mut self, chunk: &[u8]) -> Result<()> {
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
            self.check_record_size()?;
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

    /// Refuses the record being parsed once it exceeds [`MAX_RECORD_BYTES`] or
    /// [`MAX_COLUMNS`] fields, so the buffers `reserve` grows stay bounded (at most twice
    /// the caps) whatever the input.
    fn check_record_size(&self) -> Result<()> {
        let row = self.current_row();
        if self.n_ends > MAX_COLUMNS {
            return Err(Error::TooManyFields {
                row,
                limit: MAX_COLUMNS,
            });
        }
        if self.n_out >= MAX_RECORD_BYTES {
            return Err(Error::RecordTooLarge {
                row,
                column: column_label(self.table.as_ref(), self.n_ends),
                limit: MAX_RECORD_BYTES,
            });
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
                "{} is not valid UTF-8 text, though the start of the file is; re-save the \
                 whole file with one encoding (UTF-8)",
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
                match &self.formats {
                    Some(formats) if formats.iter().any(Option::is_some) => {
                        let mut fields: Vec<&str> = fields.collect();
                        for ((field, format), (plain, rewritten)) in fields
                            .iter()
                            .zip(formats)
                            .zip(self.plain.iter_mut().zip(self.rewritten.iter_mut()))
                        {
                            *rewritten = format.is_some_and(|f| f.write_plain(field, plain));
                        }
                        for ((field, plain), rewritten) in
                            fields.iter_mut().zip(&self.plain).zip(&self.rewritten)
                        {
                            if *rewritten {
                                *field = plain.as_str();
                            }
                        }
                        table.push_row(row, fields)?;
                    }
                    _ => table.push_row(row, fields)?,
                }
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
                let mut table = Table::new(names)?;
                for note in &self.notes {
                    table.add_note(note.clone());
                }
                self.table = Some(table);
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

/// Characters of Windows-1252 bytes 0x80-0x9F; the five bytes the code page leaves undefined
/// map to the C1 control of the same number, as browsers (WHATWG) decode them. 0xA0-0xFF are
/// the Latin-1 characters of the same number.
const WINDOWS_1252_HIGH: [char; 32] = [
    '\u{20ac}', '\u{81}', '\u{201a}', '\u{192}', '\u{201e}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{2c6}', '\u{2030}', '\u{160}', '\u{2039}', '\u{152}', '\u{8d}', '\u{17d}', '\u{8f}',
    '\u{90}', '\u{2018}', '\u{2019}', '\u{201c}', '\u{201d}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{2dc}', '\u{2122}', '\u{161}', '\u{203a}', '\u{153}', '\u{9d}', '\u{17e}', '\u{178}',
];

/// Appends `bytes`, read as Windows-1252, to `out` as UTF-8. Every byte is a character, so a
/// chunk can be decoded on its own wherever it was split.
fn decode_windows_1252(bytes: &[u8], out: &mut Vec<u8>) {
    let mut utf8 = [0u8; 4];
    for &b in bytes {
        let c = match b {
            0x80..=0x9f => WINDOWS_1252_HIGH[usize::from(b - 0x80)],
            _ => char::from(b),
        };
        if b.is_ascii() {
            out.push(b);
        } else {
            out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
        }
    }
}

/// Bytes parsed between two progress reports in [`read_csv_with_progress`].
const PROGRESS_CHUNK: usize = 1 << 20;

/// Like [`read_csv`], reporting the share of bytes parsed after every 1 MiB and stopping with
/// [`Error::Cancelled`] when `progress` asks to.
pub fn read_csv_with_progress(
    bytes: &[u8],
    options: &CsvOptions,
    progress: &mut Reporter<'_>,
) -> Result<Table> {
    let mut reader = CsvReader::new(*options);
    let total = bytes.len();
    let mut done = 0;
    for chunk in bytes.chunks(PROGRESS_CHUNK) {
        reader.feed(chunk)?;
        done += chunk.len();
        progress.step("reading", done, total, &format!("{done} of {total} bytes"))?;
    }
    reader.finish()
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
    fn a_binary_file_is_refused_as_not_text() {
        let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
        bytes.extend_from_slice(&[0, 0, 0, 13, b'I', b'H', b'D', b'R', 0xff, 0xd8]);
        let message = read_csv(&bytes, &CsvOptions::default())
            .unwrap_err()
            .to_string();
        assert!(message.contains("byte 9 is a NUL byte"), "{message}");
        assert!(message.contains("not a text file"), "{message}");
        // Windows-1252 text (no NUL) still reads.
        let table = read_csv(b"plan,churn\nCr\xe9dit,yes\n", &CsvOptions::default()).unwrap();
        assert_eq!(table.raw(0, 0), "Cr\u{e9}dit");
    }

    /// Found by `fuzz/` (csv_ingest): an invalid UTF-8 byte at byte 4 decided Windows-1252
    /// before the NUL byte at byte 23 arrived, and the NUL check only ran while the encoding was
    /// undecided, so in 3-byte chunks this file read as a table while whole it was refused.
    #[test]
    fn a_nul_byte_is_refused_however_the_input_is_chunked() {
        let bytes =
            include_bytes!("../../tests/fuzz_regressions/csv_nul_after_windows_1252_byte.csv");
        let whole = read_csv(bytes, &CsvOptions::default())
            .unwrap_err()
            .to_string();
        assert!(whole.contains("byte 23 is a NUL byte"), "{whole}");
        for chunk in 1..=bytes.len() {
            let mut reader = CsvReader::new(CsvOptions::default());
            let read = bytes
                .chunks(chunk)
                .try_for_each(|c| reader.feed(c))
                .and_then(|()| reader.finish());
            assert_eq!(read.unwrap_err().to_string(), whole, "chunks of {chunk}");
        }
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
        // (The decimal commas are then read as such.)
        assert_eq!(cells(&t), [["1.5", "2"], ["2.25", "3"]]);
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

    /// Rows of valid UTF-8 (`é`) filling more than the encoding window, then `tail`; with the
    /// number of rows before `tail`.
    fn utf8_beyond_the_window(tail: &[u8]) -> (Vec<u8>, usize) {
        let mut input = b"a,b\n".to_vec();
        let mut rows = 0;
        while input.len() <= ENCODING_WINDOW {
            rows += 1;
            input.extend_from_slice(format!("{rows},caf\u{e9}\n").as_bytes());
        }
        input.extend_from_slice(tail);
        (input, rows)
    }

    #[test]
    fn invalid_utf8_after_the_window_names_the_row_and_column() {
        let (input, rows) = utf8_beyond_the_window(b"0,ok\n0,\xff\n");
        let (row, message) = malformed(read_csv(&input, &CsvOptions::default()));
        assert_eq!(row, rows + 2);
        assert!(message.contains("column `b`"), "{message}");
        assert!(message.contains("not valid UTF-8"), "{message}");
        // Valid as a whole record, but the character is split across two fields.
        let (input, rows) = utf8_beyond_the_window(b"\xc3,\xa9\n");
        let (row, message) = malformed(read_csv(&input, &CsvOptions::default()));
        assert_eq!(row, rows + 1);
        assert!(message.contains("column `a`"), "{message}");
        for sizes in [[4096, 1], [ENCODING_WINDOW - 3, 5]] {
            let (input, rows) = utf8_beyond_the_window(b"0,\xff\n");
            let (row, _) = malformed(chunked(&input, CsvOptions::default(), &sizes));
            assert_eq!(row, rows + 1);
        }
        // An all-ASCII window decides UTF-8 too.
        let mut input = b"a,b\n".to_vec();
        while input.len() <= ENCODING_WINDOW {
            input.extend_from_slice(b"1,x\n");
        }
        input.extend_from_slice(b"2,\xe9\n");
        let (row, _) = malformed(chunked(&input, CsvOptions::default(), &[65536]));
        assert_eq!(row, (input.len() - 4) / 4);
    }

    /// "Crédit card" and "Zürich" as Windows-1252 bytes, plus the code page's own characters
    /// (euro, curly quotes) and one of its undefined bytes.
    const CP1252: &[u8] =
        b"id;payment;city\r\n1;Cr\xe9dit card;Z\xfcrich\r\n2;\x80 \x93q\x94 \x81;x\r\n";

    #[test]
    fn windows_1252_is_decoded_with_a_note_whatever_the_chunking() {
        let whole = read_csv(CP1252, &CsvOptions::default()).unwrap();
        assert_eq!(
            cells(&whole),
            [
                ["1", "Cr\u{e9}dit card", "Z\u{fc}rich"],
                ["2", "\u{20ac} \u{201c}q\u{201d} \u{81}", "x"]
            ]
        );
        assert_eq!(whole.notes(), [WINDOWS_1252_NOTE]);
        for split in 0..=CP1252.len() {
            let mut reader = CsvReader::new(CsvOptions::default());
            reader.feed(&CP1252[..split]).unwrap();
            reader.feed(&CP1252[split..]).unwrap();
            assert_eq!(reader.encoding(), Some(TextEncoding::Windows1252));
            let t = reader.finish().unwrap();
            assert_same(&t, &whole);
            assert_eq!(t.notes(), whole.notes());
        }
        assert_same(
            &chunked(CP1252, CsvOptions::default(), &[1]).unwrap(),
            &whole,
        );
        // Every byte 0x80-0xFF decodes to one character; 0xA0-0xFF are Latin-1.
        let mut decoded = Vec::new();
        decode_windows_1252(&(0x80..=0xffu8).collect::<Vec<_>>(), &mut decoded);
        let text = String::from_utf8(decoded).unwrap();
        assert_eq!(text.chars().count(), 128);
        assert!(text.ends_with("\u{fd}\u{fe}\u{ff}"));
    }

    fn csv_bytes(input: &[u8]) -> Result<Table> {
        read_csv(input, &CsvOptions::default())
    }

    #[test]
    fn the_first_mebibyte_decides_the_encoding() {
        // Valid UTF-8 first, an invalid byte later but inside the window: Windows-1252.
        let t = csv_bytes(b"a,b\n1,\xc3\xa9\n2,\xe9\n").unwrap();
        assert_eq!(t.raw(0, 1), "\u{c3}\u{a9}");
        assert_eq!(t.raw(1, 1), "\u{e9}");
        // A UTF-8 BOM decides UTF-8 at once: the invalid byte is then an error.
        let (row, _) = malformed(csv_bytes(b"\xef\xbb\xbfa,b\n1,\xc3\xa9\n2,\xe9\n"));
        assert_eq!(row, 2);
        // ASCII and valid UTF-8 files get no note.
        let t = csv_bytes("a;b\n1;\u{e9}\n".as_bytes()).unwrap();
        assert!(t.notes().is_empty());
        let mut reader = CsvReader::new(CsvOptions::default());
        reader.feed(b"a\n1\n").unwrap();
        assert_eq!(reader.encoding(), None);
        reader.feed("\u{e9}\n".as_bytes()).unwrap();
        assert_eq!(reader.encoding(), None, "undecided inside the window");
        assert!(reader.finish().unwrap().notes().is_empty());
    }

    #[test]
    fn decimal_commas_are_read_in_non_comma_files() {
        let input = "id;charge;note;code;plain\n\
                     1;29,85;1,5;1.5;2.5\n\
                     2;1.889,50;a,b;2;3\n\
                     3;NA;2,5;3,5;\n\
                     4;-0,5;x;4;1e3\n";
        let t = csv(input).unwrap();
        let column = |c: usize| (0..t.n_rows()).map(|r| t.raw(r, c)).collect::<Vec<_>>();
        assert_eq!(column(1), ["29.85", "1889.50", "NA", "-0.5"]);
        // Text with commas, mixed decimal marks and plain numbers stay as they were.
        assert_eq!(column(2), ["1,5", "a,b", "2,5", "x"]);
        assert_eq!(column(3), ["1.5", "2", "3,5", "4"]);
        assert_eq!(column(4), ["2.5", "3", "", "1e3"]);
        assert_eq!(t.notes(), ["column `charge`: read with a decimal comma"]);
        for split in 0..=input.len() {
            let mut reader = CsvReader::new(CsvOptions::default());
            reader.feed(&input.as_bytes()[..split]).unwrap();
            reader.feed(&input.as_bytes()[split..]).unwrap();
            let again = reader.finish().unwrap();
            assert_same(&again, &t);
            assert_eq!(again.notes(), t.notes());
        }
        // Tab files too; a `,` file never reads `29,85` as a decimal.
        let t = csv("a\tb\n1,5\tx\n").unwrap();
        assert_eq!(t.raw(0, 0), "1.5");
        let t = csv("a,b\n\"29,85\",x\n").unwrap();
        assert_eq!(t.raw(0, 0), "29,85");
        assert!(t.notes().is_empty());
    }

    #[test]
    fn thousands_separators_are_read_in_any_file() {
        let t = csv("id,amount,list\n1,\"1,889.50\",\"1,2\"\n2,950.25,\"3,4\"\n3,\"12,000\",5\n")
            .unwrap();
        assert_eq!(
            (0..3).map(|r| t.raw(r, 1)).collect::<Vec<_>>(),
            ["1889.50", "950.25", "12000"]
        );
        assert_eq!(t.raw(0, 2), "1,2");
        assert_eq!(
            t.notes(),
            ["column `amount`: read with `,` thousands separators"]
        );
        // In a `;` file the decimal comma is tried first, then `,` thousands.
        let t = csv("a;b\n1,889.50;1,234\n2;5\n").unwrap();
        assert_eq!([t.raw(0, 0), t.raw(0, 1)], ["1889.50", "1.234"]);
    }

    #[test]
    fn a_stream_decides_number_formats_on_its_first_batch() {
        let mut input = String::from("id;charge\n");
        for i in 1..=300 {
            input.push_str(&format!("{i};{i},5\n"));
        }
        input.push_str("301;oops\n302;1.000,25\n");
        let mut reader = CsvReader::new(CsvOptions::default().with_delimiter(b';'));
        let mut charges = Vec::new();
        for chunk in input.as_bytes().chunks(500) {
            reader.feed(chunk).unwrap();
            if let Some(batch) = reader.take_rows() {
                charges.extend((0..batch.n_rows()).map(|r| batch.raw(r, 1).to_string()));
                if batch.n_rows() > 0 {
                    assert_eq!(
                        batch.notes(),
                        ["column `charge`: read with a decimal comma"]
                    );
                }
            }
        }
        assert_eq!(
            reader.number_formats(),
            Some(&[None, Some(NumberFormat::DecimalComma)][..])
        );
        let last = reader.finish().unwrap();
        charges.extend((0..last.n_rows()).map(|r| last.raw(r, 1).to_string()));
        assert_eq!(charges.len(), 302);
        assert_eq!(charges[0], "1.5");
        assert_eq!(charges[299], "300.5");
        // A later cell the rule cannot read stays as it is (and is a bad number downstream).
        assert_eq!(charges[300], "oops");
        assert_eq!(charges[301], "1000.25");
        // Read whole, the same file keeps the column as text: not every cell is a number.
        assert_eq!(csv(&input).unwrap().raw(0, 1), "1,5");
    }

    #[test]
    fn reading_reports_progress_and_stops_when_asked() {
        use crate::progress::{Control, Progress};
        let mut input = String::from("a;b\n");
        while input.len() < 3 * PROGRESS_CHUNK {
            input.push_str("1;2,5\n");
        }
        let mut seen = Vec::new();
        let mut sink = |p: &Progress| {
            seen.push(p.fraction);
            Control::Continue
        };
        let t = read_csv_with_progress(
            input.as_bytes(),
            &CsvOptions::default(),
            &mut Reporter::new(&mut sink),
        )
        .unwrap();
        assert_eq!(t.raw(0, 1), "2.5");
        assert_eq!(seen.len(), input.len().div_ceil(PROGRESS_CHUNK));
        assert_eq!(seen.last(), Some(&1.0));
        let mut stop = |p: &Progress| {
            if p.fraction > 0.5 {
                Control::Stop
            } else {
                Control::Continue
            }
        };
        let err = read_csv_with_progress(
            input.as_bytes(),
            &CsvOptions::default(),
            &mut Reporter::new(&mut stop),
        )
        .unwrap_err();
        assert_eq!(
            err,
            Error::Cancelled {
                stage: "reading".into()
            }
        );
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
            // A character cut by the end of the file (followed by anything, the byte would make
            // the file Windows-1252).
            b"a,b\n1,\xc3\xa9\xc3",
            b"\xef\xbb\xbfa,b\n1,\xc3\xa9\n2,\xe9\n",
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

    /// Hostile CSV: every case is refused with its typed error naming the row (and column)
    /// and the cap, or read whole, and memory stays within the documented caps; read whole
    /// and fed in 1 MiB chunks alike.
    #[test]
    fn hostile_csv_is_refused_within_bounded_memory() {
        let big = MAX_RECORD_BYTES * 6; // ~100 MB
        let mut one_field = b"id,notes\n1,".to_vec();
        one_field.resize(one_field.len() + big, b'x');
        one_field.push(b'\n');
        let mut quoted = b"id,notes\n1,\"".to_vec();
        quoted.resize(quoted.len() + big, b'y');
        quoted.extend_from_slice(b"\"\n");
        let mut unclosed = b"id,notes\n1,ok\n2,\"".to_vec();
        unclosed.resize(unclosed.len() + MAX_RECORD_BYTES + 10, b'z');
        let mut wide = (0..1_000_000)
            .map(|i| format!("c{i}"))
            .collect::<Vec<_>>()
            .join(",")
            .into_bytes();
        wide.extend_from_slice(b"\n1\n");
        let mut long_row = b"a,b,c\n1,2,3\n".to_vec();
        long_row.resize(long_row.len() + 999_999, b',');
        long_row.push(b'\n');
        let too_large = |row: usize, column: &str| Error::RecordTooLarge {
            row,
            column: column.into(),
            limit: MAX_RECORD_BYTES,
        };
        let too_many = |row: usize| Error::TooManyFields {
            row,
            limit: MAX_COLUMNS,
        };
        let cases: [(&str, &[u8], Error); 5] = [
            (
                "100 MB unquoted field",
                &one_field,
                too_large(1, "column `notes`"),
            ),
            (
                "100 MB quoted field",
                &quoted,
                too_large(1, "column `notes`"),
            ),
            (
                "unclosed quote to the end",
                &unclosed,
                too_large(2, "column `notes`"),
            ),
            ("1,000,000-column header", &wide, too_many(0)),
            ("1,000,000 fields in row 2", &long_row, too_many(2)),
        ];
        for (name, input, want) in cases {
            let whole = read_csv(input, &CsvOptions::default()).unwrap_err();
            assert_eq!(whole, want, "{name}");
            let streamed = chunked(input, CsvOptions::default(), &[1 << 20]).unwrap_err();
            assert_eq!(streamed, want, "{name}, streamed");
            let message = whole.to_string();
            let row = want.row().unwrap();
            assert!(
                row == 0 || message.contains(&format!("row {row}")),
                "{message}"
            );
            let cap = match want {
                Error::RecordTooLarge { limit, .. } | Error::TooManyFields { limit, .. } => limit,
                _ => unreachable!(),
            };
            assert!(message.contains(&cap.to_string()), "{message}");
        }

        // Just under the caps is read whole: a field of half the record cap, and a header
        // and row of exactly `MAX_COLUMNS` fields; one more column is refused.
        let mut half = b"id,notes\n1,".to_vec();
        half.resize(half.len() + MAX_RECORD_BYTES / 2, b'x');
        let t = read_csv(&half, &CsvOptions::default()).unwrap();
        assert_eq!(t.raw(0, 1).len(), MAX_RECORD_BYTES / 2);
        let header = |n: usize| {
            (0..n)
                .map(|i| format!("c{i}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        let row = vec!["1"; MAX_COLUMNS].join(",");
        let t = csv(&format!("{}\n{row}\n", header(MAX_COLUMNS))).unwrap();
        assert_eq!((t.n_cols(), t.n_rows()), (MAX_COLUMNS, 1));
        assert_eq!(
            csv(&format!("{}\n{row},1\n", header(MAX_COLUMNS + 1))).unwrap_err(),
            too_many(0)
        );
        // A ragged row under the cap still gets its exact field count.
        assert_eq!(
            csv(&format!("a,b,c\n{row}\n")).unwrap_err(),
            Error::RaggedRow {
                row: 1,
                expected: 3,
                found: MAX_COLUMNS
            }
        );
        // JSON records meet the same column cap.
        let keys = (0..=MAX_COLUMNS)
            .map(|i| format!("\"k{i}\": 1"))
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(
            read_json(format!("[{{{keys}}}]").as_bytes()).unwrap_err(),
            too_many(0)
        );
    }
}
