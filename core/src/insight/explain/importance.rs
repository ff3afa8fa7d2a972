//! Table-wide views of an explainer: mean |SHAP| per input field and dependence data.

use alloc::format;
use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;

use super::{
    model_number, value_text, ColumnImportance, Dependence, DependencePoint, Explainer,
    GlobalImportance,
};
use crate::data::schema::ColumnKind;
use crate::data::table::{Table, Value};
use crate::error::{Error, Result};
use crate::progress::Reporter;
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
