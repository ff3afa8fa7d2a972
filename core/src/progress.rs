//! Progress and cancellation for long work, one mechanism for every face.
//!
//! A long operation takes a [`Reporter`] and calls [`Reporter::report`] at natural checkpoints
//! (a chunk of rows parsed, a boosting round, a forest tree, a fold, a batch of explained rows).
//! The face's callback receives a [`Progress`] (stage, overall fraction, short message) and
//! answers [`Control::Continue`] or [`Control::Stop`]; on `Stop` the operation returns
//! [`Error::Cancelled`] at once and leaves nothing half-built: results only exist once the
//! operation returns `Ok`.
//!
//! Nested work maps into its parent's range with [`Reporter::sub`] (fold 2 of 5 owns
//! `[0.2, 0.4]` of the cross-validation, and each boosting round a slice of that), so the callback
//! sees one fraction that only grows, from 0 to 1, whatever the nesting.

use alloc::format;
use alloc::rc::Rc;
use alloc::string::{String, ToString};
use core::cell::Cell;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::metrics::Report;

/// One progress update, as a face shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// What is happening, for a label: `training gbdt`, `parsing`, `explaining`.
    pub stage: String,
    /// Share of the whole operation done, in `[0, 1]`, never decreasing.
    pub fraction: f64,
    /// Detail for a status line: `fold 2/5, round 140`, `40,000 rows`.
    pub message: String,
    /// A part of the result that is final before the whole operation is (a family's
    /// cross-validated metrics while the next family trains), for tables that fill live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial: Option<Partial>,
}

/// A finished part of a longer operation's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Partial {
    /// One model family cross-validated: the row it gets in the comparison of `train`.
    Family {
        name: String,
        /// Out-of-fold metrics of its uncalibrated probabilities.
        cv: Report,
        /// Seconds its cross-validation took, when the caller has a clock.
        fit_seconds: Option<f64>,
    },
}

/// The callback's answer: go on, or stop as soon as possible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Control {
    /// Keep working.
    Continue,
    /// Stop: the operation returns [`Error::Cancelled`].
    Stop,
}

/// Where progress goes: any `FnMut(&Progress) -> Control` is one.
pub trait Sink {
    /// Receives an update; the answer says whether to go on.
    fn update(&mut self, progress: &Progress) -> Control;
}

impl<F: FnMut(&Progress) -> Control> Sink for F {
    fn update(&mut self, progress: &Progress) -> Control {
        self(progress)
    }
}

/// A handle long operations report through: a sink (or none) and the slice `[lo, hi]` of the
/// overall progress this piece of work owns.
pub struct Reporter<'s> {
    sink: Option<&'s mut dyn Sink>,
    lo: f64,
    hi: f64,
    /// Prefixed to every message of this reporter and its parts (`fold 2/5`), so a model fit
    /// deep inside cross-validation still says where it is.
    context: Option<String>,
    /// Highest fraction sent so far by this reporter *or any of its parts and parents*: one cell
    /// shared by the whole tree of reporters, so a parent reporting after a part never goes back.
    last: Rc<Cell<f64>>,
}

impl Reporter<'static> {
    /// A reporter nobody listens to and that never cancels (tests, batch tools).
    pub fn silent() -> Self {
        Reporter {
            sink: None,
            lo: 0.0,
            hi: 1.0,
            context: None,
            last: Rc::new(Cell::new(0.0)),
        }
    }
}

impl<'s> Reporter<'s> {
    /// A reporter sending the whole `[0, 1]` range to `sink`.
    pub fn new(sink: &'s mut dyn Sink) -> Self {
        Reporter {
            sink: Some(sink),
            lo: 0.0,
            hi: 1.0,
            context: None,
            last: Rc::new(Cell::new(0.0)),
        }
    }

    /// Reports that `done` (in `[0, 1]`) of this reporter's work is finished; returns
    /// [`Error::Cancelled`] when the callback asks to stop. Out-of-range or decreasing values are
    /// clamped so the callback's fraction is monotone.
    pub fn report(&mut self, stage: &str, done: f64, message: &str) -> Result<()> {
        self.send(stage, done, message, None)
    }

    /// [`report`](Self::report) with a finished part of the result.
    pub fn report_partial(
        &mut self,
        stage: &str,
        done: f64,
        message: &str,
        partial: Partial,
    ) -> Result<()> {
        self.send(stage, done, message, Some(partial))
    }

    fn send(
        &mut self,
        stage: &str,
        done: f64,
        message: &str,
        partial: Option<Partial>,
    ) -> Result<()> {
        let Some(sink) = self.sink.as_deref_mut() else {
            return Ok(());
        };
        let done = if done.is_nan() {
            0.0
        } else {
            done.clamp(0.0, 1.0)
        };
        let fraction = (self.lo + (self.hi - self.lo) * done).max(self.last.get());
        self.last.set(fraction);
        let message = match (&self.context, message.is_empty()) {
            (Some(context), false) => format!("{context}, {message}"),
            (Some(context), true) => context.clone(),
            (None, _) => message.to_string(),
        };
        let update = Progress {
            stage: stage.to_string(),
            fraction,
            message,
            partial,
        };
        match sink.update(&update) {
            Control::Continue => Ok(()),
            Control::Stop => Err(Error::Cancelled {
                stage: update.stage,
            }),
        }
    }

    /// Reports `step` of `steps` done (a convenience for loops).
    pub fn step(&mut self, stage: &str, step: usize, steps: usize, message: &str) -> Result<()> {
        let done = if steps == 0 {
            1.0
        } else {
            step as f64 / steps as f64
        };
        self.report(stage, done, message)
    }

    /// A reporter for a part of this work that owns `[from, to]` of it (fractions of this
    /// reporter's range). Parts should be handed out in increasing order.
    pub fn sub(&mut self, from: f64, to: f64) -> Reporter<'_> {
        let span = self.hi - self.lo;
        let lo = self.lo + span * from.clamp(0.0, 1.0);
        let hi = self.lo + span * to.clamp(from.clamp(0.0, 1.0), 1.0);
        let last = self.last.get();
        Reporter {
            sink: self.sink.as_deref_mut().map(|s| s as &mut dyn Sink),
            lo: lo.max(last),
            hi: hi.max(last),
            context: self.context.clone(),
            last: Rc::clone(&self.last),
        }
    }

    /// This reporter with `context` put before its messages (after any context it had).
    pub fn with_context(mut self, context: &str) -> Self {
        if !self.is_silent() {
            self.context = Some(match self.context.take() {
                Some(outer) => format!("{outer}, {context}"),
                None => context.to_string(),
            });
        }
        self
    }

    /// The `index`-th of `count` equal parts of this work (fold `index` of `count`, say).
    pub fn part(&mut self, index: usize, count: usize) -> Reporter<'_> {
        let count = count.max(1) as f64;
        self.sub(index as f64 / count, (index as f64 + 1.0) / count)
    }

    /// Whether anyone listens (to skip building messages nobody reads).
    pub fn is_silent(&self) -> bool {
        self.sink.is_none()
    }
}

/// A sink for tests of long operations: records every update and answers `Stop` from the first
/// fraction at or above a threshold on.
#[cfg(test)]
pub(crate) struct Recorder {
    /// Fractions received, in order.
    pub fractions: alloc::vec::Vec<f64>,
    /// Stop once a fraction reaches this (above 1: never).
    pub stop_at: f64,
    /// Updates received after answering `Stop` once (should stay 0: a stop is final).
    pub after_stop: usize,
    stopped: bool,
}

#[cfg(test)]
impl Recorder {
    pub fn stopping_at(stop_at: f64) -> Self {
        Recorder {
            fractions: alloc::vec::Vec::new(),
            stop_at,
            after_stop: 0,
            stopped: false,
        }
    }

    pub fn never_stopping() -> Self {
        Recorder::stopping_at(f64::INFINITY)
    }

    /// Checks the updates of a run that finished: monotone, from 0, ending at exactly 1.
    pub fn assert_complete(&self) {
        let f = &self.fractions;
        assert!(f.windows(2).all(|w| w[0] <= w[1]), "not monotone: {f:?}");
        assert!(f.iter().all(|v| (0.0..=1.0).contains(v)), "{f:?}");
        assert_eq!(f.last(), Some(&1.0), "{f:?}");
    }

    /// Checks that a cancelled run stopped at once: no update after `Stop`, which was the last
    /// update, sent at most `step` past the threshold.
    pub fn assert_stopped_within(&self, step: f64) {
        assert!(self.stopped, "never asked to stop: {:?}", self.fractions);
        assert_eq!(self.after_stop, 0);
        let last = *self.fractions.last().unwrap();
        assert!(
            last >= self.stop_at && last <= self.stop_at + step,
            "{last}"
        );
    }
}

#[cfg(test)]
impl Sink for Recorder {
    fn update(&mut self, progress: &Progress) -> Control {
        if self.stopped {
            self.after_stop += 1;
        }
        self.fractions.push(progress.fraction);
        if progress.fraction >= self.stop_at {
            self.stopped = true;
            Control::Stop
        } else {
            Control::Continue
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn nested_parts_map_into_one_monotone_fraction() {
        let mut seen = Vec::new();
        let mut messages = Vec::new();
        let mut sink = |p: &Progress| {
            seen.push(p.fraction);
            messages.push(p.message.clone());
            Control::Continue
        };
        let mut root = Reporter::new(&mut sink);
        root.part(0, 2)
            .with_context("fold 1/2")
            .sub(0.0, 0.5)
            .with_context("fit")
            .report("x", 0.0, "round 3")
            .unwrap();
        root.report("x", 0.0, "").unwrap();
        for fold in 0..4 {
            let mut part = root.part(fold, 4);
            for round in 0..=10 {
                part.step("fit", round, 10, "").unwrap();
            }
        }
        root.report("done", 1.0, "").unwrap();
        assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
        assert_eq!(seen[0], 0.0);
        assert_eq!(*seen.last().unwrap(), 1.0);
        assert!((seen[12] - 0.25).abs() < 1e-12);
        assert_eq!(messages[0], "fold 1/2, fit, round 3");
        assert_eq!(messages[1], "");
    }

    #[test]
    fn stop_returns_cancelled_naming_the_stage() {
        let mut sink = |p: &Progress| {
            if p.fraction >= 0.5 {
                Control::Stop
            } else {
                Control::Continue
            }
        };
        let mut root = Reporter::new(&mut sink);
        assert!(root.report("fit", 0.25, "").is_ok());
        assert!(root.sub(0.0, 0.5).report("fit", 0.9, "").is_ok());
        let err = root.report("fit", 0.5, "").unwrap_err();
        assert_eq!(
            err,
            Error::Cancelled {
                stage: "fit".into()
            }
        );
    }

    #[test]
    fn going_backwards_is_clamped_and_silent_never_cancels() {
        let mut seen = Vec::new();
        let mut sink = |p: &Progress| {
            seen.push(p.fraction);
            Control::Continue
        };
        let mut root = Reporter::new(&mut sink);
        root.report("a", 0.6, "").unwrap();
        root.report("a", 0.2, "").unwrap();
        root.report("a", f64::NAN, "").unwrap();
        // A parent reporting less than its finished part had reached stays where the part was.
        root.sub(0.6, 1.0).report("b", 0.5, "").unwrap();
        root.report("a", 0.7, "").unwrap();
        assert_eq!(seen, [0.6, 0.6, 0.6, 0.8, 0.8]);
        let mut silent = Reporter::silent();
        assert!(silent.is_silent());
        assert!(silent.sub(0.0, 0.5).report("x", 1.0, "").is_ok());
    }
}
