//! `ebb score`: batch scoring, streamed. The input is parsed in batches and each batch's scores
//! are written out before the next is read, so a million rows never sit in memory twice.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use ebb_core::serve::scorer::Scorer;

use crate::io::{for_each_batch, print_json, read_artifact};
use crate::progress::ProgressBar;
use crate::{AtomicFile, CliError, CliResult};

#[derive(Args)]
pub struct ScoreArgs {
    /// Model artifact (JSON) written by `ebb train`.
    model: PathBuf,
    /// Customers to score (CSV or JSON array of records).
    data: PathBuf,
    /// Output CSV: id,probability,decision (one row per input row).
    #[arg(long)]
    out: PathBuf,
    /// Print a JSON summary instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: ScoreArgs) -> CliResult {
    let artifact = read_artifact(&args.model)?;
    let id_column = artifact.schema.id_column.clone();
    let scorer = Scorer::new(&artifact);
    // Renamed into place only once every batch is scored: a failure part-way (a batch missing
    // a column, say) leaves no half-written scores behind.
    let mut file = AtomicFile::create(&args.out)?;
    let write_err =
        |e: std::io::Error| CliError::other(format!("{}: cannot write: {e}", args.out.display()));
    let out = file.file();
    writeln!(out, "id,probability,decision").map_err(write_err)?;
    let (mut scored, mut flagged, mut invalid) = (0usize, 0usize, Vec::new());
    let mut bar = ProgressBar::new(args.json);
    let mut line = String::new();
    for_each_batch(&args.data, |batch| {
        let id_index = id_column.as_deref().and_then(|c| batch.column_index(c));
        let scores = scorer
            .score_table(&batch)
            .map_err(|e| CliError::core(&args.data, e))?;
        for (r, score) in scores.into_iter().enumerate() {
            line.clear();
            match id_index {
                Some(c) => {
                    ebb_core::data::ingest::write_csv_field(&mut line, batch.raw(r, c), b',')
                }
                None => line.push_str(&batch.source_row(r).to_string()),
            }
            match score {
                Ok(s) => {
                    scored += 1;
                    flagged += usize::from(s.decision);
                    line.push_str(&format!(",{},{}", s.probability, u8::from(s.decision)));
                }
                Err(e) => {
                    // Kept in the output (one row per input row) but marked, and reported below.
                    line.push_str(",,invalid");
                    invalid.push((batch.source_row(r), e));
                }
            }
            line.push('\n');
            out.write_all(line.as_bytes()).map_err(write_err)?;
        }
        // The file's length is not known while streaming: show the rows done so far.
        let rows = scored + invalid.len();
        bar.update("scoring", 1.0, &format!("{rows} rows"));
        Ok(())
    })?;
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
