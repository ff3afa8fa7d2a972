//! `ebb score`: batch scoring, streamed. The input is parsed in batches and each batch's scores
//! are written out while the next is parsed on a second thread, so a million rows never sit in
//! memory at once.

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use ebb_core::data::table::Table;
use ebb_core::serve::scorer::Scorer;

use crate::io::{for_each_batch, print_json, read_artifact};
use crate::progress::ProgressBar;
use crate::{AtomicFile, CliError, CliResult};

#[derive(Args)]
pub struct ScoreArgs {
    /// Model artifact (JSON) written by `ebb train`.
    model: PathBuf,
    /// Customers to score (CSV, Parquet or JSON array of records).
    data: PathBuf,
    /// Output CSV: id,probability,decision (one row per input row); Parquet when it ends in
    /// `.parquet` (probability and decision null where the CSV says `invalid`).
    #[arg(long)]
    out: PathBuf,
    /// Print a JSON summary instead of text.
    #[arg(long)]
    json: bool,
}

/// Where scores go: CSV lines, or Parquet columns written batch by batch.
enum Sink<'f> {
    Csv {
        out: &'f mut std::io::BufWriter<std::fs::File>,
        line: String,
    },
    #[cfg(feature = "parquet")]
    // Boxed: the writer's state is ~700 bytes, the CSV variant 32.
    Parquet(Box<crate::parquet::ScoresWriter<'f>>),
}

impl Sink<'_> {
    fn push(&mut self, id: &str, score: Option<(f64, bool)>) -> std::io::Result<()> {
        match self {
            Sink::Csv { out, line } => {
                line.clear();
                ebb_core::data::ingest::write_csv_field(line, id, b',');
                match score {
                    // Formatted into the reused line: no allocation per row.
                    Some((p, d)) => {
                        let _ = writeln!(line, ",{p},{}", u8::from(d));
                    }
                    // Kept in the output (one row per input row) but marked.
                    None => line.push_str(",,invalid\n"),
                }
                out.write_all(line.as_bytes())
            }
            #[cfg(feature = "parquet")]
            Sink::Parquet(writer) => {
                writer.push(id, score);
                Ok(())
            }
        }
    }
}

pub fn run(args: ScoreArgs) -> CliResult {
    let artifact = read_artifact(&args.model)?;
    let id_column = artifact.schema.id_column.clone();
    let scorer = Scorer::new(&artifact);
    let parquet_out = args
        .out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    // Renamed into place only once every batch is scored: a failure part-way (a batch missing
    // a column, say) leaves no half-written scores behind.
    let mut file = AtomicFile::create(&args.out)?;
    let write_err =
        |e: std::io::Error| CliError::other(format!("{}: cannot write: {e}", args.out.display()));
    let (mut scored, mut flagged, mut invalid) = (0usize, 0usize, Vec::new());
    let mut bar = ProgressBar::new(args.json);
    // The sink borrows the file until it is finished (a Parquet footer) at the end of this block.
    {
        let out = file.file();
        let mut sink = match parquet_out {
            #[cfg(feature = "parquet")]
            true => Sink::Parquet(Box::new(crate::parquet::ScoresWriter::new(out, &args.out)?)),
            #[cfg(not(feature = "parquet"))]
            true => return Err(crate::io::no_parquet(&args.out)),
            false => {
                writeln!(out, "id,probability,decision").map_err(write_err)?;
                Sink::Csv {
                    out,
                    line: String::new(),
                }
            }
        };
        let mut row_id = String::new();
        let mut score_batch = |batch: Table| -> CliResult {
            let id_index = id_column.as_deref().and_then(|c| batch.column_index(c));
            let scores = scorer
                .score_table(&batch)
                .map_err(|e| CliError::core(&args.data, e))?;
            for (r, score) in scores.into_iter().enumerate() {
                let id = match id_index {
                    Some(c) => batch.raw(r, c),
                    None => {
                        row_id.clear();
                        let _ = write!(row_id, "{}", batch.source_row(r));
                        &row_id
                    }
                };
                let score = match score {
                    Ok(s) => {
                        scored += 1;
                        flagged += usize::from(s.decision);
                        Some((s.probability, s.decision))
                    }
                    Err(e) => {
                        // Kept in the output but marked, and reported below.
                        invalid.push((batch.source_row(r), e));
                        None
                    }
                };
                sink.push(id, score).map_err(write_err)?;
            }
            #[cfg(feature = "parquet")]
            if let Sink::Parquet(writer) = &mut sink {
                writer.write_rows()?;
            }
            // The file's length is not known while streaming: show the rows done so far.
            let rows = scored + invalid.len();
            bar.update("scoring", 1.0, &format!("{rows} rows"));
            Ok(())
        };
        // The input is read and parsed on its own thread, one batch ahead: the next batch is
        // parsed while this one is scored and written, instead of the cores idling on one
        // thread's parsing between batches. A rendezvous channel keeps at most one parsed
        // batch waiting, so memory stays at two batches.
        let (send, batches) = std::sync::mpsc::sync_channel::<Table>(0);
        std::thread::scope(|threads| {
            let reader = threads.spawn(|| {
                for_each_batch(&args.data, move |batch| {
                    // Fails only once scoring has stopped on an error, which is then the one
                    // reported: this one just ends the reading.
                    send.send(batch)
                        .map_err(|_| CliError::other("scoring stopped"))
                })
            });
            // Dropping `batches` on an error hangs up on the reader, which then stops.
            let scoring = batches.into_iter().try_for_each(&mut score_batch);
            let reading = reader
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            scoring.and(reading)
        })?;
        #[cfg(feature = "parquet")]
        if let Sink::Parquet(writer) = sink {
            writer.finish()?;
        }
    }
    bar.finish();
    if scored == 0 && !invalid.is_empty() {
        return Err(CliError::input(format!(
            "{}: no row could be scored; first problem: {}",
            args.data.display(),
            invalid[0].1
        )));
    }
    file.commit()?;
    if args.json {
        print_json(&serde_json::json!({
            "scored": scored, "flagged": flagged, "invalid": invalid.len(),
            "invalid_examples": invalid
                .iter()
                .take(10)
                .map(|(row, e)| (row, e.to_string()))
                .collect::<Vec<_>>(),
            "out": args.out, "model_id": scorer.artifact().model_id,
        }));
    } else {
        println!(
            "scored {scored} customers ({flagged} flagged at threshold {:.3}) into {}",
            scorer.artifact().threshold,
            args.out.display()
        );
        if !invalid.is_empty() {
            eprintln!(
                "{} rows could not be scored (marked `invalid` in the output):",
                invalid.len()
            );
            for (row, why) in invalid.iter().take(10) {
                // Errors that carry their row already name it in their message.
                eprintln!(
                    "  {why}{}",
                    if why.row().is_some() {
                        String::new()
                    } else {
                        format!(" (row {row})")
                    }
                );
            }
        }
    }
    Ok(())
}
