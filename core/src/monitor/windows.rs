//! Current windows: mergeable sketches of a batch or of served traffic on the reference's bins.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::data::schema::ColumnKind;
use crate::data::table::{Table, Value};
use crate::error::{Error, Result};
use crate::features::{level_text, numeric_value, FittedPipeline};
use crate::serve::artifact::Artifact;
use crate::serve::drift::{Bins, ColumnSketch, Reference, ScoreHistogram};

/// Distinct unseen categorical levels a window names; further ones are only counted.
pub const MAX_UNSEEN_LEVELS: usize = 32;

/// An unseen categorical level and how often it appeared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelCount {
    /// The level as written in the data.
    pub level: String,
    /// Rows holding it.
    pub count: u64,
}

/// One input column of a current window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurrentColumn {
    /// Counts on the reference's bins.
    pub sketch: ColumnSketch,
    /// Column type, to read values as the pipeline does.
    pub kind: ColumnKind,
    /// Levels the model does not know, by level (at most [`MAX_UNSEEN_LEVELS`]).
    pub unseen: Vec<LevelCount>,
    /// Unseen-level rows not named in `unseen` because it was full.
    pub unseen_untracked: u64,
}

impl CurrentColumn {
    fn note_unseen(&mut self, level: &str) {
        match self
            .unseen
            .binary_search_by(|l| l.level.as_str().cmp(level))
        {
            Ok(i) => self.unseen[i].count += 1,
            Err(i) if self.unseen.len() < MAX_UNSEEN_LEVELS => self.unseen.insert(
                i,
                LevelCount {
                    level: level.to_string(),
                    count: 1,
                },
            ),
            Err(_) => self.unseen_untracked += 1,
        }
    }

    fn merge(&mut self, other: &CurrentColumn) {
        self.sketch.merge(&other.sketch);
        self.unseen_untracked += other.unseen_untracked;
        for l in &other.unseen {
            match self.unseen.binary_search_by(|m| m.level.cmp(&l.level)) {
                Ok(i) => self.unseen[i].count += l.count,
                Err(i) => self.unseen.insert(i, l.clone()),
            }
        }
        if self.unseen.len() > MAX_UNSEEN_LEVELS {
            // Keep the most frequent levels named; the rest stay counted.
            crate::order::sort_by(&mut self.unseen, |a, b| {
                b.count.cmp(&a.count).then_with(|| a.level.cmp(&b.level))
            });
            let dropped: u64 = self.unseen[MAX_UNSEEN_LEVELS..]
                .iter()
                .map(|l| l.count)
                .sum();
            self.unseen_untracked += dropped;
            self.unseen.truncate(MAX_UNSEEN_LEVELS);
            crate::order::sort_by(&mut self.unseen, |a, b| a.level.cmp(&b.level));
        }
    }
}

/// Mergeable summary of a current batch or time window of one model's inputs and scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurrentWindow {
    /// Model the window belongs to (windows of different models do not merge).
    pub model_id: String,
    /// Snapshot date for date ages when a row has none (the pipeline's).
    pub default_snapshot: f64,
    /// One entry per model input column, in pipeline input order.
    pub columns: Vec<CurrentColumn>,
    /// Scores of the rows that could be scored.
    pub scores: ScoreHistogram,
    /// Rows observed.
    pub rows: u64,
}

impl CurrentWindow {
    /// An empty window for `artifact`'s model.
    pub fn new(artifact: &Artifact) -> Result<Self> {
        Self::for_pipeline(&artifact.model_id, &artifact.pipeline, &artifact.reference)
    }

    /// An empty window on `reference`'s bins for the inputs of `pipeline`.
    pub fn for_pipeline(
        model_id: &str,
        pipeline: &FittedPipeline,
        reference: &Reference,
    ) -> Result<Self> {
        if pipeline.inputs.len() != reference.columns.len()
            || pipeline
                .inputs
                .iter()
                .zip(&reference.columns)
                .any(|(i, c)| i.name != c.name)
        {
            return Err(Error::Artifact {
                message: String::from(
                    "the drift reference does not list the model's input columns: retrain to rebuild it",
                ),
            });
        }
        let columns = pipeline
            .inputs
            .iter()
            .zip(&reference.columns)
            .map(|(input, sketch)| CurrentColumn {
                sketch: sketch.empty_like(),
                kind: input.kind,
                unseen: Vec::new(),
                unseen_untracked: 0,
            })
            .collect();
        Ok(CurrentWindow {
            model_id: model_id.to_string(),
            default_snapshot: pipeline.default_snapshot,
            columns,
            scores: ScoreHistogram::default(),
            rows: 0,
        })
    }

    /// Adds one customer: raw `values` aligned with the model's inputs, its snapshot date (days
    /// since 1970-01-01, `None` for the pipeline's default) and its score when it could be
    /// scored. Unreadable values count as missing, as in the reference.
    pub fn observe_values(
        &mut self,
        values: &[Value<'_>],
        snapshot: Option<f64>,
        score: Option<f64>,
    ) -> Result<()> {
        if values.len() != self.columns.len() {
            return Err(Error::InvalidParameter {
                name: "values".into(),
                message: format!(
                    "expected {} values (one per model input) but got {}",
                    self.columns.len(),
                    values.len()
                ),
            });
        }
        let snapshot = snapshot.unwrap_or(self.default_snapshot);
        let mut scratch = String::new();
        for (column, &value) in self.columns.iter_mut().zip(values) {
            match &column.sketch.bins {
                Bins::Numeric { .. } => {
                    column
                        .sketch
                        .observe_number(numeric_value(column.kind, value, snapshot))
                }
                Bins::Categorical { levels } => {
                    let level = level_text(value, &mut scratch);
                    if let Some(l) = level {
                        if !levels.iter().any(|k| k == l) {
                            column.note_unseen(l);
                        }
                    }
                    column.sketch.observe_level(level);
                }
            }
        }
        if let Some(p) = score.filter(|p| !p.is_nan()) {
            self.scores.observe(p);
        }
        self.rows += 1;
        Ok(())
    }

    /// Adds another window of the same model into this one.
    pub fn merge(&mut self, other: &CurrentWindow) -> Result<()> {
        if other.model_id != self.model_id {
            return Err(Error::InvalidParameter {
                name: "window".into(),
                message: format!(
                    "windows of models {} and {} cannot be merged: merge windows of one model only",
                    self.model_id, other.model_id
                ),
            });
        }
        if other.columns.len() != self.columns.len()
            || other
                .columns
                .iter()
                .zip(&self.columns)
                .any(|(a, b)| a.sketch.bins != b.sketch.bins || a.sketch.name != b.sketch.name)
        {
            return Err(Error::InvalidParameter {
                name: "window".into(),
                message: String::from(
                    "the windows have different columns or bins: start both from the same artifact",
                ),
            });
        }
        for (a, b) in self.columns.iter_mut().zip(&other.columns) {
            a.merge(b);
        }
        for (a, b) in self.scores.counts.iter_mut().zip(&other.scores.counts) {
            *a += b;
        }
        self.rows += other.rows;
        Ok(())
    }
}

/// Reads a table's rows into a [`CurrentWindow`] as the pipeline reads them for scoring: the
/// model's input columns by name and each row's own snapshot date when the table has one.
pub(crate) struct TableRows<'a> {
    table: &'a Table,
    pipeline: &'a FittedPipeline,
    indices: Vec<usize>,
    time_index: Option<usize>,
    values: Vec<Value<'a>>,
}

impl<'a> TableRows<'a> {
    /// Fails when `table` lacks one of the model's input columns.
    pub(crate) fn new(pipeline: &'a FittedPipeline, table: &'a Table) -> Result<Self> {
        let indices = pipeline.column_indices(table)?;
        let time_index = pipeline
            .time_column
            .as_deref()
            .and_then(|t| table.column_index(t));
        Ok(TableRows {
            table,
            pipeline,
            values: Vec::with_capacity(indices.len()),
            indices,
            time_index,
        })
    }

    /// Adds row `r` to `window`, with its score when it could be scored.
    pub(crate) fn observe(
        &mut self,
        window: &mut CurrentWindow,
        r: usize,
        score: Option<f64>,
    ) -> Result<()> {
        let table = self.table;
        self.values.clear();
        self.values
            .extend(self.indices.iter().map(|&c| table.value(r, c)));
        let snapshot = self.pipeline.row_snapshot(table, self.time_index, r);
        window.observe_values(&self.values, snapshot, score)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::data::schema::{infer, InferOptions};
    use crate::data::synth::{generate_table, SynthParams};
    use crate::features::{FeatureParams, Target};
    use alloc::vec;

    pub(in crate::monitor) fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    pub(in crate::monitor) fn table(n: usize, seed: u64, drift: f64) -> Table {
        generate_table(
            &SynthParams::default()
                .with_n_customers(n)
                .with_seed(seed)
                .with_drift(drift),
        )
        .unwrap()
    }

    /// A pipeline and reference fitted on 20,000 training rows; the scores are stand-ins (the
    /// label) so the score histogram has two spikes.
    pub(in crate::monitor) fn fitted() -> (FittedPipeline, Reference) {
        let t = table(20_000, 1, 0.0);
        let schema = infer(&t, &InferOptions::default()).unwrap().schema;
        let y = crate::train::labels(&t, &schema).unwrap();
        let (pipeline, _) = FeatureParams::for_target(Target::Trees)
            .fit_transform(&t, &schema, &y)
            .unwrap();
        let scores: Vec<f64> = y.iter().map(|v| 0.1 + 0.8 * v).collect();
        let reference = Reference::build(&pipeline, &t, &scores).unwrap();
        (pipeline, reference)
    }

    pub(in crate::monitor) fn observe(
        window: &mut CurrentWindow,
        pipeline: &FittedPipeline,
        t: &Table,
        rows: core::ops::Range<usize>,
    ) {
        let indices = pipeline.column_indices(t).unwrap();
        let schema = infer(t, &InferOptions::default()).unwrap().schema;
        let y = crate::train::labels(t, &schema).unwrap();
        for r in rows {
            let values: Vec<Value<'_>> = indices.iter().map(|&c| t.value(r, c)).collect();
            let score = 0.1 + 0.8 * y[r];
            window.observe_values(&values, None, Some(score)).unwrap();
        }
    }

    #[test]
    fn merged_windows_equal_one_window_over_all_rows() {
        let (pipeline, reference) = fitted();
        let t = table(3_000, 4, 0.7);
        let start = || CurrentWindow::for_pipeline("m-test", &pipeline, &reference).unwrap();
        let mut whole = start();
        observe(&mut whole, &pipeline, &t, 0..3_000);
        let mut a = start();
        observe(&mut a, &pipeline, &t, 0..1_234);
        let mut b = start();
        observe(&mut b, &pipeline, &t, 1_234..3_000);
        a.merge(&b).unwrap();
        assert_eq!(a.rows, whole.rows);
        assert_eq!(a.scores, whole.scores);
        for (x, y) in a.columns.iter().zip(&whole.columns) {
            assert_eq!(x.sketch.counts, y.sketch.counts);
            assert_eq!(
                (x.sketch.missing, x.sketch.present),
                (y.sketch.missing, y.sketch.present)
            );
            assert!(close(
                x.sketch.sum,
                y.sketch.sum,
                1e-9 * y.sketch.sum.abs().max(1.0)
            ));
            assert_eq!(x.unseen, y.unseen);
        }
        let (ra, rw) = (
            a.report(&reference).unwrap(),
            whole.report(&reference).unwrap(),
        );
        assert_eq!(ra.dataset_verdict, rw.dataset_verdict);
        assert_eq!(ra.drifted_columns, rw.drifted_columns);

        let json = serde_json::to_string(&whole).unwrap();
        let back: CurrentWindow = serde_json::from_str(&json).unwrap();
        assert_eq!(back, whole);

        let mut other = CurrentWindow::for_pipeline("m-other", &pipeline, &reference).unwrap();
        assert!(other.merge(&whole).is_err());
        assert!(start().report(&reference).is_err());
        assert!(start()
            .observe_values(&[Value::Missing], None, None)
            .is_err());
    }

    #[test]
    fn unseen_levels_are_bounded_and_merge_keeps_the_most_frequent() {
        let sketch = ColumnSketch {
            name: "plan".into(),
            bins: Bins::Categorical {
                levels: vec!["basic".into()],
            },
            counts: vec![0, 0],
            missing: 0,
            present: 0,
            sum: 0.0,
            sum_squares: 0.0,
            scale: 1.0,
        };
        let mut column = CurrentColumn {
            sketch,
            kind: ColumnKind::Categorical,
            unseen: Vec::new(),
            unseen_untracked: 0,
        };
        let mut other = column.clone();
        for i in 0..MAX_UNSEEN_LEVELS + 5 {
            column.note_unseen(&format!("a{i:02}"));
        }
        assert_eq!(column.unseen.len(), MAX_UNSEEN_LEVELS);
        assert_eq!(column.unseen_untracked, 5);
        for _ in 0..3 {
            other.note_unseen("zz");
        }
        column.merge(&other);
        assert_eq!(column.unseen.len(), MAX_UNSEEN_LEVELS);
        assert!(column
            .unseen
            .iter()
            .any(|l| l.level == "zz" && l.count == 3));
        assert_eq!(column.unseen_untracked, 6);
        assert!(column.unseen.windows(2).all(|w| w[0].level < w[1].level));
    }
}
