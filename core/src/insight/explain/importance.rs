//! Table-wide views of an explainer: mean |SHAP| per input field, dependence data and a
//! sample of every field's contributions (the SHAP summary plot).

use alloc::format;
use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;

use super::{
    model_number, value_text, ColumnImportance, Dependence, DependencePoint, Explainer,
    GlobalImportance, SampleColumn, ShapSample,
};
use crate::data::schema::ColumnKind;
use crate::data::table::{Table, Value};
use crate::error::{Error, Result};
use crate::progress::Reporter;
use crate::rng::Rng;
use crate::serve::scorer::ArtifactRef;

/// Stage name of global importance in progress updates.
const STAGE: &str = "explaining";

impl<A: ArtifactRef> Explainer<A> {
    /// Mean `|contribution|` per input column over the rows of `table` that fit the schema: all
    /// of them, or `max_rows` evenly spaced ones when the table is larger (exact TreeSHAP of a
    /// deep forest costs milliseconds per row). With the `parallel` feature chunks of rows run
    /// on all cores; partial sums are added in chunk order either way, so the result does not
    /// depend on the build. `progress` hears after every chunk (one per thread) and may stop
    /// the work ([`Error::Cancelled`]).
    pub fn global_importance(
        &self,
        table: &Table,
        max_rows: usize,
        progress: &mut Reporter<'_>,
    ) -> Result<GlobalImportance> {
        let pipeline = &self.artifact().pipeline;
        let indices = pipeline.column_indices(table)?;
        let time_index = pipeline
            .time_column
            .as_deref()
            .and_then(|t| table.column_index(t));
        let n_inputs = pipeline.inputs.len();
        let total = table.n_rows();
        let n = total.min(max_rows);
        // Evenly spaced rows: k · total / n never repeats a row since n <= total.
        let pick = |k: usize| k * total / n.max(1);
        let run = |range: core::ops::Range<usize>| -> (Vec<f64>, Vec<f64>, usize, usize) {
            let mut ws = self.workspace();
            let (mut abs, mut signed) = (vec![0.0; n_inputs], vec![0.0; n_inputs]);
            let (mut done, mut skipped) = (0, 0);
            let mut values = Vec::with_capacity(indices.len());
            for k in range {
                let r = pick(k);
                values.clear();
                values.extend(indices.iter().map(|&c| table.value(r, c)));
                let snapshot = pipeline.row_snapshot(table, time_index, r);
                if self
                    .explain_values_into(&values, snapshot, &mut ws)
                    .is_err()
                {
                    skipped += 1;
                    continue;
                }
                done += 1;
                for ((a, s), &c) in abs.iter_mut().zip(&mut signed).zip(&ws.columns) {
                    *a += c.abs();
                    *s += c;
                }
            }
            (abs, signed, done, skipped)
        };
        const CHUNK: usize = 64;
        let chunks = n.div_ceil(CHUNK);
        let range = |c: usize| c * CHUNK..((c + 1) * CHUNK).min(n);
        // Chunks run a group at a time (one per thread) with a report between groups, so a stop
        // is seen after one chunk's work; the sums below are in chunk order whatever the group.
        #[cfg(feature = "parallel")]
        let group = rayon::current_num_threads().max(1);
        #[cfg(not(feature = "parallel"))]
        let group = 1;
        let mut parts = Vec::with_capacity(chunks);
        let mut first = 0;
        progress.report(STAGE, 0.0, &format!("0/{n} rows"))?;
        while first < chunks {
            let end = (first + group).min(chunks);
            #[cfg(feature = "parallel")]
            {
                use rayon::prelude::*;
                parts.par_extend((first..end).into_par_iter().map(|c| run(range(c))));
            }
            #[cfg(not(feature = "parallel"))]
            parts.extend((first..end).map(|c| run(range(c))));
            first = end;
            let rows = (first * CHUNK).min(n);
            progress.step(STAGE, rows, n, &format!("{rows}/{n} rows"))?;
        }
        let (mut abs, mut signed) = (vec![0.0; n_inputs], vec![0.0; n_inputs]);
        let (mut rows, mut skipped) = (0, 0);
        for (a, s, d, k) in parts {
            abs.iter_mut().zip(&a).for_each(|(x, y)| *x += y);
            signed.iter_mut().zip(&s).for_each(|(x, y)| *x += y);
            rows += d;
            skipped += k;
        }
        let denom = rows.max(1) as f64;
        let mut columns: Vec<ColumnImportance> = pipeline
            .inputs
            .iter()
            .zip(abs.iter().zip(&signed))
            .map(|(input, (a, s))| ColumnImportance {
                column: input.name.clone(),
                mean_abs: a / denom,
                mean: s / denom,
            })
            .collect();
        columns.sort_by(|a, b| b.mean_abs.total_cmp(&a.mean_abs));
        Ok(GlobalImportance {
            space: self.space,
            rows,
            skipped,
            columns,
        })
    }

    /// Value vs contribution of `column` on at most `max_points` rows of `table`, evenly spaced
    /// through the table (deterministic, so two runs plot the same points).
    pub fn dependence(&self, table: &Table, column: &str, max_points: usize) -> Result<Dependence> {
        let pipeline = &self.artifact().pipeline;
        let position = pipeline
            .inputs
            .iter()
            .position(|c| c.name == column)
            .ok_or_else(|| Error::MissingColumn {
                column: column.to_string(),
            })?;
        let input = &pipeline.inputs[position];
        let n = table.n_rows();
        let take = max_points.min(n);
        let mut ws = self.workspace();
        let mut points = Vec::with_capacity(take);
        for k in 0..take {
            // Evenly spaced rows: k · n / take never repeats a row since take <= n.
            let r = k * n / take;
            let (values, snapshot) = self.row_values(table, r)?;
            if self
                .explain_values_into(&values, snapshot, &mut ws)
                .is_err()
            {
                continue;
            }
            let value = values[position];
            let number = match (input.kind, value) {
                (ColumnKind::Categorical, _) | (_, Value::Missing) => None,
                _ => model_number(&input.encoder, ws.features[self.feature_start(position)]),
            };
            points.push(DependencePoint {
                row: table.source_row(r),
                value: value_text(value),
                number,
                contribution: ws.columns[position],
            });
        }
        Ok(Dependence {
            column: column.to_string(),
            space: self.space,
            points,
        })
    }
}

/// Stage name of [`Explainer::shap_sample`] in progress updates.
const SAMPLE_STAGE: &str = "explaining the sample";

impl<A: ArtifactRef> Explainer<A> {
    /// Every input column's contribution on each of at most `max_rows` rows of `table` drawn
    /// at random with `seed` (the same seed draws the same rows), in table order: the data of a
    /// SHAP summary (beeswarm) plot. Rows that do not fit the schema are left out and counted.
    /// `progress` hears every 64 rows and may stop the work.
    pub fn shap_sample(
        &self,
        table: &Table,
        max_rows: usize,
        seed: u64,
        progress: &mut Reporter<'_>,
    ) -> Result<ShapSample> {
        let pipeline = &self.artifact().pipeline;
        let indices = pipeline.column_indices(table)?;
        let time_index = pipeline
            .time_column
            .as_deref()
            .and_then(|t| table.column_index(t));
        let rows = sample_rows(table.n_rows(), max_rows, seed);
        let n = rows.len();
        let mut columns: Vec<SampleColumn> = pipeline
            .inputs
            .iter()
            .map(|input| SampleColumn {
                column: input.name.clone(),
                categorical: input.kind == ColumnKind::Categorical,
                values: Vec::with_capacity(n),
                numbers: Vec::with_capacity(n),
                contributions: Vec::with_capacity(n),
            })
            .collect();
        let mut ws = self.workspace();
        let mut values = Vec::with_capacity(indices.len());
        let (mut kept, mut skipped) = (Vec::with_capacity(n), 0);
        progress.report(SAMPLE_STAGE, 0.0, &format!("0/{n} rows"))?;
        for (k, &r) in rows.iter().enumerate() {
            values.clear();
            values.extend(indices.iter().map(|&c| table.value(r, c)));
            let snapshot = pipeline.row_snapshot(table, time_index, r);
            if self
                .explain_values_into(&values, snapshot, &mut ws)
                .is_err()
            {
                skipped += 1;
            } else {
                kept.push(table.source_row(r));
                for (position, (column, input)) in
                    columns.iter_mut().zip(&pipeline.inputs).enumerate()
                {
                    let value = values[position];
                    column.values.push(value_text(value));
                    column.numbers.push(match (input.kind, value) {
                        (ColumnKind::Categorical, _) | (_, Value::Missing) => None,
                        _ => {
                            model_number(&input.encoder, ws.features[self.feature_start(position)])
                        }
                    });
                    column.contributions.push(ws.columns[position]);
                }
            }
            if (k + 1).is_multiple_of(64) || k + 1 == n {
                progress.step(SAMPLE_STAGE, k + 1, n, &format!("{}/{n} rows", k + 1))?;
            }
        }
        Ok(ShapSample {
            space: self.space,
            seed,
            rows: kept,
            skipped,
            columns,
        })
    }
}

/// `min(max_rows, total)` distinct row indices of `0..total` drawn with `seed`, ascending.
fn sample_rows(total: usize, max_rows: usize, seed: u64) -> Vec<usize> {
    let n = total.min(max_rows);
    if n == total {
        return (0..total).collect();
    }
    // A partial Fisher-Yates shuffle: the first n places hold a uniform sample.
    let mut all: Vec<usize> = (0..total).collect();
    let mut rng = Rng::new(seed);
    for i in 0..n {
        let j = i + rng.below(total - i);
        all.swap(i, j);
    }
    all.truncate(n);
    all.sort_unstable();
    all
}
