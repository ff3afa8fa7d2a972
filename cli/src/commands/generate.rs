//! `ebb generate`: a seeded synthetic customer base (and optionally its event log).

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use clap::Args;
use ebb_core::data::synth::{generate_csv, generate_events, SynthParams};

use crate::{CliError, CliResult};

#[derive(Args)]
pub struct GenerateArgs {
    /// Number of customers.
    #[arg(long, default_value_t = 10_000)]
    rows: usize,
    /// Seed: the same seed gives the same file, byte for byte.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Inject drift of this strength (0 = none, 1 = strong) into documented columns.
    #[arg(long, default_value_t = 0.0)]
    drift: f64,
    /// Output CSV file.
    #[arg(long)]
    out: PathBuf,
    /// Also write the customers' event log (customer_id,timestamp,event_type,value) here.
    #[arg(long)]
    events: Option<PathBuf>,
    /// Print a JSON summary instead of text.
    #[arg(long)]
    json: bool,
}

fn write_stream(
    path: &PathBuf,
    fill: impl FnOnce(&mut dyn FnMut(&str)) -> ebb_core::Result<()>,
) -> CliResult {
    let file = std::fs::File::create(path)
        .map_err(|e| CliError::other(format!("{}: cannot create: {e}", path.display())))?;
    let mut out = BufWriter::new(file);
    let mut io_error = None;
    let mut sink = |chunk: &str| {
        if io_error.is_none() {
            if let Err(e) = out.write_all(chunk.as_bytes()) {
                io_error = Some(e);
            }
        }
    };
    fill(&mut sink).map_err(|e| CliError::input(e.to_string()))?;
    if let Some(e) = io_error {
        return Err(CliError::other(format!(
            "{}: cannot write: {e}",
            path.display()
        )));
    }
    out.flush()
        .map_err(|e| CliError::other(format!("{}: cannot write: {e}", path.display())))
}

pub fn run(args: GenerateArgs) -> CliResult {
    if !(0.0..=1.0).contains(&args.drift) {
        return Err(CliError::input(format!(
            "--drift must be between 0 and 1, got {}",
            args.drift
        )));
    }
    let params = SynthParams::default()
        .with_n_customers(args.rows)
        .with_seed(args.seed)
        .with_drift(args.drift);
    write_stream(&args.out, |sink| generate_csv(&params, &mut |s| sink(s)))?;
    if let Some(events) = &args.events {
        write_stream(events, |sink| {
            generate_events(&params, 0..args.rows, &mut |s| sink(s))
        })?;
    }
    if args.json {
        crate::io::print_json(&serde_json::json!({
            "rows": args.rows, "seed": args.seed, "drift": args.drift,
            "out": args.out, "events": args.events,
        }));
    } else {
        println!("wrote {} customers to {}", args.rows, args.out.display());
        if let Some(e) = &args.events {
            println!("wrote their event log to {}", e.display());
        }
    }
    Ok(())
}
