//! `ebb`: the command-line face of Ebb. Parses flags and files into core types, calls
//! `ebb-core`, and renders the answer as a readable table or, with `--json`, one JSON object.
//!
//! Exit codes: 0 ok, 2 bad input (the message names the file, row and column), 1 other failure.

mod commands;
mod io;
#[cfg(feature = "parquet")]
mod parquet;
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// Predict which subscription customers will cancel in the next 30 days.
#[derive(Parser)]
#[command(name = "ebb", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the target, customer id and time live in a data file.
#[derive(Args, Clone, Default)]
pub struct ColumnArgs {
    /// Target column (default: detected by name, e.g. churn, exited, cancelled).
    #[arg(long)]
    pub target: Option<String>,
    /// Customer id column (default: detected).
    #[arg(long)]
    pub id: Option<String>,
    /// Time / snapshot column: turns on time-based validation.
    #[arg(long)]
    pub time: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a synthetic customer base (CSV) with ~15% churn.
    Generate(commands::generate::GenerateArgs),
    /// Infer column types and print the data-quality report.
    Validate(commands::validate::ValidateArgs),
    /// Train and compare models with cross-validation; save the best as a model artifact.
    Train(commands::train::TrainArgs),
    /// Aggregate an event log into per-customer features and join them to a customer table.
    Events(commands::events::EventsArgs),
    /// Evaluate a model artifact on labelled data.
    Evaluate(commands::evaluate::EvaluateArgs),
    /// Upload a model to a running edge worker (and activate it).
    Publish(commands::publish::PublishArgs),
    /// Score customers: one row per input row with id, probability, decision.
    Score(commands::score::ScoreArgs),
    /// Ingest, validate, train, compare, evaluate and save everything into a run folder.
    Pipeline(commands::pipeline::PipelineArgs),
    /// Profit-maximising threshold, profit curve and a ranked contact list (CSV) within capacity.
    Decide(commands::decide::DecideArgs),
    /// Flag rates, precision, recall and false-positive rates per group, with four-fifths flags.
    Fairness(commands::fairness::FairnessArgs),
    /// Customer segments (k-means++ personas) with size, risk, value and what sets them apart.
    Segment(commands::segment::SegmentArgs),
    /// Tune boosting parameters and the imbalance strategy; optionally save the tuned model.
    Tune(commands::tune::TuneArgs),
    /// List, compare and mark the runs `ebb pipeline` wrote.
    Runs(commands::runs::RunsArgs),
    /// Write a self-contained HTML report of a model on labelled data.
    Report(commands::report::ReportArgs),
    /// Explain scores: per-customer reasons, or importance of every field over a table.
    Explain(commands::explain::ExplainArgs),
    /// Re-score a customer with fields changed; suggest changes that lower the risk.
    Whatif(commands::whatif::WhatifArgs),
    /// Compare current data with the model's training data: drift per column, score, performance.
    Drift(commands::drift::DriftArgs),
}

/// A failure with the exit code it maps to.
#[derive(Debug)]
pub struct CliError {
    /// 2 for bad input, 1 for anything else.
    pub code: u8,
    /// What to tell the user.
    pub message: String,
}

impl CliError {
    /// Bad input: the user can fix the file or the flags.
    pub fn input(message: impl Into<String>) -> Self {
        CliError {
            code: 2,
            message: message.into(),
        }
    }

    /// Anything else (I/O on output, internal failures).
    pub fn other(message: impl Into<String>) -> Self {
        CliError {
            code: 1,
            message: message.into(),
        }
    }

    /// A core error about a given input file, with the flag that fixes it where there is one
    /// (core's messages speak of the data, not of this command line).
    pub fn core(path: &std::path::Path, error: ebb_core::Error) -> Self {
        let hint = match error.kind() {
            ebb_core::ErrorKind::NoTarget => " (name it with --target)",
            _ => "",
        };
        CliError::input(format!("{}: {error}{hint}", path.display()))
    }
}

/// Result of a command.
pub type CliResult<T = ()> = Result<T, CliError>;

/// Allocations at least this big get their own mapping, returned to the system when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 128 * 1024;

fn main() -> ExitCode {
    // glibc raises its mmap threshold each time a big block is freed (up to 32 MiB), so the
    // next fold's matrices, columns and binned features land on the heap, where freed blocks
    // stay resident: training's peak RSS was ~40% above its peak heap. A fixed threshold turns
    // that dynamic rule off. Only memory placement changes, never a computed value.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; it is called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Generate(a) => commands::generate::run(a),
        Command::Validate(a) => commands::validate::run(a),
        Command::Train(a) => commands::train::run(a),
        Command::Evaluate(a) => commands::evaluate::run(a),
        Command::Events(a) => commands::events::run(a),
        Command::Publish(a) => commands::publish::run(a),
        Command::Score(a) => commands::score::run(a),
        Command::Pipeline(a) => commands::pipeline::run(a),
        Command::Decide(a) => commands::decide::run(a),
        Command::Fairness(a) => commands::fairness::run(a),
        Command::Segment(a) => commands::segment::run(a),
        Command::Tune(a) => commands::tune::run(a),
        Command::Runs(a) => commands::runs::run(a),
        Command::Report(a) => commands::report::run(a),
        Command::Explain(a) => commands::explain::run(a),
        Command::Whatif(a) => commands::whatif::run(a),
        Command::Drift(a) => commands::drift::run(a),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", e.message);
            ExitCode::from(e.code)
        }
    }
}

/// Writes `text` to `path`, naming the file on failure. The text goes to a temporary file
/// beside it first and is renamed into place, so a failure never leaves half a file.
pub fn write_file(path: &std::path::Path, text: &str) -> CliResult {
    let mut out = AtomicFile::create(path)?;
    std::io::Write::write_all(out.file(), text.as_bytes()).map_err(|e| out.write_error(e))?;
    out.commit()
}

/// An output file written under a temporary name beside its destination and renamed into place
/// by [`AtomicFile::commit`]; dropped without a commit (a command failed part-way), the
/// temporary file is removed and an existing destination is left as it was. Destinations that
/// are not regular files (`/dev/null`, a named pipe) are written directly.
pub struct AtomicFile {
    path: PathBuf,
    /// The temporary file, `None` when writing directly.
    temp: Option<PathBuf>,
    file: Option<std::io::BufWriter<std::fs::File>>,
}

impl AtomicFile {
    /// Creates the temporary file (and the destination's folder).
    pub fn create(path: &std::path::Path) -> CliResult<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                CliError::other(format!("{}: cannot create folder: {e}", parent.display()))
            })?;
        }
        let special = std::fs::metadata(path).is_ok_and(|m| !m.is_file());
        let temp = (!special).then(|| {
            let mut name = std::ffi::OsString::from(".");
            name.push(path.file_name().unwrap_or_default());
            name.push(format!(".{}.tmp", std::process::id()));
            path.with_file_name(name)
        });
        let file = std::fs::File::create(temp.as_deref().unwrap_or(path))
            .map_err(|e| CliError::other(format!("{}: cannot create: {e}", path.display())))?;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            temp,
            file: Some(std::io::BufWriter::with_capacity(1 << 20, file)),
        })
    }

    /// Where to write.
    pub fn file(&mut self) -> &mut std::io::BufWriter<std::fs::File> {
        self.file.as_mut().expect("the file is open until commit")
    }

    /// The error for a failed write, naming the destination.
    pub fn write_error(&self, e: std::io::Error) -> CliError {
        CliError::other(format!("{}: cannot write: {e}", self.path.display()))
    }

    /// Flushes and renames the temporary file into place.
    pub fn commit(mut self) -> CliResult {
        if let Some(file) = self.file.take() {
            file.into_inner()
                .map_err(|e| e.into_error())
                .and_then(|f| {
                    if self.temp.is_some() {
                        f.sync_all()
                    } else {
                        Ok(())
                    }
                })
                .map_err(|e| self.write_error(e))?;
        }
        match self.temp.take() {
            Some(temp) => std::fs::rename(&temp, &self.path).map_err(|e| {
                let _ = std::fs::remove_file(&temp);
                self.write_error(e)
            }),
            None => Ok(()),
        }
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        // Not committed: nothing half-written stays behind.
        self.file.take();
        if let Some(temp) = &self.temp {
            let _ = std::fs::remove_file(temp);
        }
    }
}
