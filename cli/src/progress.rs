//! A progress bar on standard error, shown only when it is a terminal (never in pipes, CI
//! logs or `--json` runs). It is the CLI's sink for core's [`Reporter`](ebb_core::progress):
//! every long core operation draws through it.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use ebb_core::progress::{Control, Progress, Reporter, Sink};

/// Redraws closer together than this are skipped: core may report thousands of times a second.
const REDRAW: Duration = Duration::from_millis(50);

/// Draws `stage [#####-----] 42% message` on one terminal line.
pub struct ProgressBar {
    enabled: bool,
    last_stage: String,
    last_draw: Option<Instant>,
}

impl ProgressBar {
    /// A bar that draws only if standard error is a terminal and `quiet` is false.
    pub fn new(quiet: bool) -> Self {
        ProgressBar {
            enabled: !quiet && std::io::stderr().is_terminal(),
            last_stage: String::new(),
            last_draw: None,
        }
    }

    /// Shows `fraction` (0 to 1) of `stage` done, with a short detail.
    pub fn update(&mut self, stage: &str, fraction: f64, message: &str) {
        if !self.enabled {
            return;
        }
        let new_stage = stage != self.last_stage;
        if !new_stage && fraction < 1.0 && self.last_draw.is_some_and(|t| t.elapsed() < REDRAW) {
            return;
        }
        const WIDTH: usize = 30;
        let fraction = fraction.clamp(0.0, 1.0);
        let filled = (fraction * WIDTH as f64) as usize;
        let mut err = std::io::stderr().lock();
        if new_stage && !self.last_stage.is_empty() {
            let _ = writeln!(err);
        }
        let detail: String = message.chars().take(40).collect();
        let _ = write!(
            err,
            "\r{stage:<32} [{}{}] {:>3}% {detail:<40}",
            "#".repeat(filled),
            "-".repeat(WIDTH - filled),
            (fraction * 100.0) as u32
        );
        let _ = err.flush();
        self.last_stage = stage.to_string();
        self.last_draw = Some(Instant::now());
    }

    /// A core [`Reporter`] drawing on this bar (never cancels: Ctrl-C ends the process).
    pub fn reporter(&mut self) -> Reporter<'_> {
        Reporter::new(self)
    }

    /// Ends the bar's line.
    pub fn finish(&mut self) {
        if self.enabled && !self.last_stage.is_empty() {
            eprintln!();
            self.last_stage.clear();
        }
    }
}

impl Sink for ProgressBar {
    fn update(&mut self, progress: &Progress) -> Control {
        ProgressBar::update(self, &progress.stage, progress.fraction, &progress.message);
        Control::Continue
    }
}
