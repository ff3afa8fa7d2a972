//! A progress bar on standard error, shown only when it is a terminal (never in pipes, CI
//! logs or `--json` runs).

use std::io::{IsTerminal, Write};

use ebb_core::progress::{Control, Progress, Reporter, Sink};

/// Draws `stage [#####-----] done/total` on one terminal line.
pub struct ProgressBar {
    enabled: bool,
    last_stage: String,
}

impl ProgressBar {
    /// A bar that draws only if standard error is a terminal and `quiet` is false.
    pub fn new(quiet: bool) -> Self {
        ProgressBar {
            enabled: !quiet && std::io::stderr().is_terminal(),
            last_stage: String::new(),
        }
    }

    /// Shows progress of `stage`.
    pub fn update(&mut self, stage: &str, done: usize, total: usize) {
        if !self.enabled {
            return;
        }
        const WIDTH: usize = 30;
        let filled = (done * WIDTH)
            .checked_div(total)
            .map_or(WIDTH, |f| f.min(WIDTH));
        let mut err = std::io::stderr().lock();
        if stage != self.last_stage && !self.last_stage.is_empty() {
            let _ = writeln!(err);
        }
        let _ = write!(
            err,
            "\r{stage:<40} [{}{}] {done}/{total}",
            "#".repeat(filled),
            "-".repeat(WIDTH - filled)
        );
        let _ = err.flush();
        self.last_stage = stage.to_string();
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
        let percent = (progress.fraction * 100.0).round() as usize;
        ProgressBar::update(self, &progress.stage, percent, 100);
        Control::Continue
    }
}
