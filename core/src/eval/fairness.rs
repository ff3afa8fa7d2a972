//! Fairness audit: how the model's decisions and errors differ between groups of customers
//! (gender, age band, region, ...).
//!
//! # Groups
//!
//! [`Grouping::from_column`] turns a column into groups. A column whose non-missing cells all
//! read as numbers and that has more than [`FairnessParams::max_numeric_levels`] distinct values
//! (e.g. `age`) is binned into quartiles: the cut points are the 25th, 50th and 75th
//! percentiles (linear interpolation), bins are `[low, high)` except the last, which is closed,
//! and equal cut points are merged. Any other column is used level by level, up to
//! [`FairnessParams::max_groups`] levels; more is an error (an id or free text is not a group).
//! Missing cells form the group `(missing)`.
//!
//! # Metrics and ratios
//!
//! Per group: size, positive rate (share flagged at the model's threshold) and, where labels are
//! known, the churn rate, precision `TP / (TP + FP)`, recall `TP / (TP + FN)` and false-positive
//! rate `FP / (FP + TN)`. Each is compared with the best group among those with at least
//! [`FairnessParams::min_group_size`] rows:
//! - `positive_rate_ratio` = rate / highest rate (the disparate-impact ratio: a flag brings a
//!   retention offer, so a low ratio means a group gets fewer offers);
//! - `precision_ratio` = precision / highest precision;
//! - `recall_ratio` = recall / highest recall (equal opportunity);
//! - `fpr_ratio` = lowest false-positive rate / the group's rate (1 when the group's rate is 0).
//!
//! A ratio under [`FairnessParams::min_ratio`] (default 0.8, the "four-fifths rule") is flagged
//! for groups with at least `min_group_size` rows; smaller groups are reported but not judged,
//! their rates being too noisy. A ratio is `None` when it cannot be computed (no labels, a group
//! without flags or positives, or a best value of 0).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use hashbrown::HashMap;
use serde::{Deserialize, Serialize};

use crate::data::table::{is_na, parse_number, Table};
use crate::error::{Error, Result};

/// Name of the group of rows whose grouping cell is missing.
pub const MISSING_GROUP: &str = "(missing)";

/// Settings of the audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FairnessParams {
    /// Ratios under this are flagged (default 0.8).
    pub min_ratio: f64,
    /// Groups smaller than this are reported but neither flagged nor used as the best group
    /// (default 30).
    pub min_group_size: usize,
    /// A numeric column with more distinct values than this is binned into quartiles
    /// (default 10).
    pub max_numeric_levels: usize,
    /// Most groups a categorical column may have (default 50).
    pub max_groups: usize,
}

impl Default for FairnessParams {
    fn default() -> Self {
        FairnessParams {
            min_ratio: 0.8,
            min_group_size: 30,
            max_numeric_levels: 10,
            max_groups: 50,
        }
    }
}

impl FairnessParams {
    /// Sets the ratio under which a group is flagged.
    pub fn with_min_ratio(mut self, ratio: f64) -> Self {
        self.min_ratio = ratio;
        self
    }

    /// Sets the smallest group that is judged.
    pub fn with_min_group_size(mut self, size: usize) -> Self {
        self.min_group_size = size;
        self
    }

    /// Sets how many distinct numbers a column may have before it is binned.
    pub fn with_max_numeric_levels(mut self, levels: usize) -> Self {
        self.max_numeric_levels = levels;
        self
    }

    /// Sets the most groups a categorical column may have.
    pub fn with_max_groups(mut self, groups: usize) -> Self {
        self.max_groups = groups;
        self
    }
}

/// Rows assigned to groups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grouping {
    /// The column grouped by.
    pub column: String,
    /// Group names, in order of first appearance (quartile bins in increasing order, then
    /// `(missing)`).
    pub names: Vec<String>,
    /// The group index of each row.
    pub of_row: Vec<usize>,
    /// Whether the column was binned into quartiles.
    pub binned: bool,
}

impl Grouping {
    /// Groups the rows of `table` by `column` (see the module documentation for the rules).
    pub fn from_column(table: &Table, column: &str, params: &FairnessParams) -> Result<Grouping> {
        let index = table
            .column_index(column)
            .ok_or_else(|| Error::MissingColumn {
                column: column.to_string(),
            })?;
        let cells = table.column(index);
        let mut numbers = Vec::new();
        let mut all_numeric = true;
        for raw in cells.iter().filter(|r| !is_na(r)) {
            match parse_number(raw) {
                Some(x) => numbers.push(x),
                None => {
                    all_numeric = false;
                    break;
                }
            }
        }
        if all_numeric && !numbers.is_empty() {
            numbers.sort_by(f64::total_cmp);
            let mut distinct = numbers.clone();
            distinct.dedup();
            if distinct.len() > params.max_numeric_levels {
                return Ok(quartiles(cells.iter(), column, &numbers));
            }
        }
        let mut names: Vec<String> = Vec::new();
        let mut lookup: HashMap<String, usize> = HashMap::new();
        let mut of_row = Vec::with_capacity(cells.len());
        for raw in cells.iter() {
            let level = if is_na(raw) {
                MISSING_GROUP
            } else {
                raw.trim()
            };
            let g = match lookup.get(level) {
                Some(&g) => g,
                None => {
                    if names.len() == params.max_groups {
                        return Err(Error::InvalidParameter {
                            name: "by".into(),
                            message: format!(
                                "column `{column}` has more than {} distinct values: group by a categorical column (gender, region, plan, an age band) or a numeric one (binned into quartiles)",
                                params.max_groups
                            ),
                        });
                    }
                    lookup.insert(level.to_string(), names.len());
                    names.push(level.to_string());
                    names.len() - 1
                }
            };
            of_row.push(g);
        }
        Ok(Grouping {
            column: column.to_string(),
            names,
            of_row,
            binned: false,
        })
    }
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

fn quartiles<'a>(cells: impl Iterator<Item = &'a str>, column: &str, sorted: &[f64]) -> Grouping {
    let min = sorted[0];
    let max = sorted[sorted.len() - 1];
    let mut cuts: Vec<f64> = [0.25, 0.5, 0.75]
        .iter()
        .map(|&q| quantile(sorted, q))
        .filter(|&c| c > min && c < max)
        .collect();
    cuts.dedup();
    let mut edges = vec![min];
    edges.extend(&cuts);
    edges.push(max);
    let last = edges.len() - 2;
    let mut names: Vec<String> = (0..=last)
        .map(|i| {
            let close = if i == last { "]" } else { ")" };
            format!("[{}, {}{close}", edges[i], edges[i + 1])
        })
        .collect();
    let missing = names.len();
    let mut any_missing = false;
    let of_row = cells
        .map(|raw| match parse_number(raw) {
            Some(x) => cuts.partition_point(|&c| c <= x),
            None => {
                any_missing = true;
                missing
            }
        })
        .collect();
    if any_missing {
        names.push(MISSING_GROUP.to_string());
    }
    Grouping {
        column: column.to_string(),
        names,
        of_row,
        binned: true,
    }
}

/// One group's rates and ratios.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupReport {
    /// Group name (a level, a quartile bin such as `[18, 35)`, or `(missing)`).
    pub group: String,
    /// Rows in the group.
    pub size: usize,
    /// Rows flagged at the threshold.
    pub flagged: usize,
    /// `flagged / size`.
    pub positive_rate: f64,
    /// Rows with a known label.
    pub labelled: usize,
    /// Share of labelled rows that churned.
    pub churn_rate: Option<f64>,
    /// `TP / (TP + FP)` over labelled rows.
    pub precision: Option<f64>,
    /// `TP / (TP + FN)`.
    pub recall: Option<f64>,
    /// `FP / (FP + TN)`.
    pub false_positive_rate: Option<f64>,
    /// Positive rate / the highest positive rate (disparate impact).
    pub positive_rate_ratio: Option<f64>,
    /// Precision / the highest precision.
    pub precision_ratio: Option<f64>,
    /// Recall / the highest recall.
    pub recall_ratio: Option<f64>,
    /// Lowest false-positive rate / this group's.
    pub fpr_ratio: Option<f64>,
    /// Whether the group has at least `min_group_size` rows (only such groups are judged).
    pub judged: bool,
}

/// A ratio under the limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FairnessFlag {
    /// The group.
    pub group: String,
    /// `positive_rate_ratio`, `precision_ratio`, `recall_ratio` or `fpr_ratio`.
    pub ratio: String,
    /// Its value.
    pub value: f64,
}

/// The audit of one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FairnessReport {
    /// The column grouped by.
    pub column: String,
    /// Whether it was binned into quartiles.
    pub binned: bool,
    /// The decision threshold used.
    pub threshold: f64,
    /// Whether labels were available (precision, recall and FPR need them).
    pub labelled: bool,
    /// Ratios under this were flagged.
    pub min_ratio: f64,
    /// Groups in [`Grouping::names`] order.
    pub groups: Vec<GroupReport>,
    /// Every ratio under `min_ratio` in a judged group.
    pub flags: Vec<FairnessFlag>,
}

#[derive(Default, Clone, Copy)]
struct Counts {
    size: usize,
    flagged: usize,
    tp: usize,
    fp: usize,
    tn: usize,
    fn_: usize,
}

fn rate(num: usize, den: usize) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// Audits decisions `probability >= threshold` by group. `labels` (1 churned, 0 stayed, `None`
/// unknown), when given, must line up with `probabilities` and `grouping.of_row`.
pub fn audit(
    grouping: &Grouping,
    probabilities: &[f64],
    threshold: f64,
    labels: Option<&[Option<bool>]>,
    params: &FairnessParams,
) -> Result<FairnessReport> {
    let n = grouping.of_row.len();
    if probabilities.len() != n || labels.is_some_and(|l| l.len() != n) {
        return Err(Error::InvalidParameter {
            name: "probabilities".into(),
            message: format!(
                "expected one probability (and label) per grouped row ({n}), got {}",
                probabilities.len()
            ),
        });
    }
    if n == 0 {
        return Err(Error::EmptyInput);
    }
    let mut counts = vec![Counts::default(); grouping.names.len()];
    for (r, (&g, &p)) in grouping.of_row.iter().zip(probabilities).enumerate() {
        let c = counts.get_mut(g).ok_or_else(|| Error::InvalidParameter {
            name: "grouping".into(),
            message: format!("row {} is in group {g}, which has no name", r + 1),
        })?;
        let flag = p >= threshold;
        c.size += 1;
        c.flagged += usize::from(flag);
        match labels.and_then(|l| l[r]) {
            Some(true) if flag => c.tp += 1,
            Some(true) => c.fn_ += 1,
            Some(false) if flag => c.fp += 1,
            Some(false) => c.tn += 1,
            None => {}
        }
    }
    let mut groups: Vec<GroupReport> = grouping
        .names
        .iter()
        .zip(&counts)
        .map(|(name, c)| {
            let labelled = c.tp + c.fp + c.tn + c.fn_;
            let with_labels = |x: Option<f64>| if labels.is_some() { x } else { None };
            GroupReport {
                group: name.clone(),
                size: c.size,
                flagged: c.flagged,
                positive_rate: c.flagged as f64 / c.size.max(1) as f64,
                labelled,
                churn_rate: with_labels(rate(c.tp + c.fn_, labelled)),
                precision: with_labels(rate(c.tp, c.tp + c.fp)),
                recall: with_labels(rate(c.tp, c.tp + c.fn_)),
                false_positive_rate: with_labels(rate(c.fp, c.fp + c.tn)),
                positive_rate_ratio: None,
                precision_ratio: None,
                recall_ratio: None,
                fpr_ratio: None,
                judged: c.size >= params.min_group_size && c.size > 0,
            }
        })
        .collect();
    // The best group is chosen among judged groups, or among all when none is big enough.
    let any_judged = groups.iter().any(|g| g.judged);
    let reference: Vec<&GroupReport> = groups
        .iter()
        .filter(|g| g.size > 0 && (g.judged || !any_judged))
        .collect();
    let best = |f: fn(&GroupReport) -> Option<f64>, highest: bool| {
        reference.iter().filter_map(|g| f(g)).reduce(
            |a, b| {
                if highest {
                    a.max(b)
                } else {
                    a.min(b)
                }
            },
        )
    };
    let best_rate = best(|g| Some(g.positive_rate), true);
    let best_precision = best(|g| g.precision, true);
    let best_recall = best(|g| g.recall, true);
    let best_fpr = best(|g| g.false_positive_rate, false);
    let higher_is_better = |x: Option<f64>, best: Option<f64>| match (x, best) {
        (Some(x), Some(b)) if b > 0.0 => Some(x / b),
        _ => None,
    };
    let mut flags = Vec::new();
    for g in &mut groups {
        g.positive_rate_ratio = higher_is_better(Some(g.positive_rate), best_rate);
        g.precision_ratio = higher_is_better(g.precision, best_precision);
        g.recall_ratio = higher_is_better(g.recall, best_recall);
        g.fpr_ratio = match (g.false_positive_rate, best_fpr) {
            (Some(0.0), _) => Some(1.0),
            (Some(x), Some(b)) => Some(b / x),
            _ => None,
        };
        if !g.judged {
            continue;
        }
        for (name, value) in [
            ("positive_rate_ratio", g.positive_rate_ratio),
            ("precision_ratio", g.precision_ratio),
            ("recall_ratio", g.recall_ratio),
            ("fpr_ratio", g.fpr_ratio),
        ] {
            if let Some(v) = value.filter(|&v| v < params.min_ratio) {
                flags.push(FairnessFlag {
                    group: g.group.clone(),
                    ratio: name.to_string(),
                    value: v,
                });
            }
        }
    }
    Ok(FairnessReport {
        column: grouping.column.clone(),
        binned: grouping.binned,
        threshold,
        labelled: labels.is_some(),
        min_ratio: params.min_ratio,
        groups,
        flags,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(column: &str, cells: &[&str]) -> Table {
        let mut t = Table::new(vec![column.into()]).unwrap();
        for (i, c) in cells.iter().enumerate() {
            t.push_row(i + 1, [*c]).unwrap();
        }
        t
    }

    fn close(a: Option<f64>, b: f64) {
        let a = a.expect("a value");
        assert!((a - b).abs() < 1e-12, "{a} != {b}");
    }

    #[test]
    fn hand_made_table_known_rates_and_a_flagged_group() {
        // Group a: 10 rows, 5 flagged (4 churners among them), 1 churner missed, 4 stayers.
        // Group b: 10 rows, 2 flagged (1 churner, 1 stayer), 3 churners missed, 5 stayers.
        let mut groups = Vec::new();
        let mut p = Vec::new();
        let mut y = Vec::new();
        let rows_a = [(0.9, true); 4]
            .into_iter()
            .chain([(0.8, false), (0.1, true)])
            .chain([(0.1, false); 4]);
        let rows_b = [(0.9, true), (0.7, false)]
            .into_iter()
            .chain([(0.2, true); 3])
            .chain([(0.2, false); 5]);
        for (g, rows) in [("a", rows_a.collect::<Vec<_>>()), ("b", rows_b.collect())] {
            for (prob, label) in rows {
                groups.push(g);
                p.push(prob);
                y.push(Some(label));
            }
        }
        let t = table("region", &groups);
        let params = FairnessParams::default().with_min_group_size(5);
        let grouping = Grouping::from_column(&t, "region", &params).unwrap();
        assert_eq!(grouping.names, ["a", "b"]);
        assert!(!grouping.binned);
        let r = audit(&grouping, &p, 0.5, Some(&y), &params).unwrap();
        let (a, b) = (&r.groups[0], &r.groups[1]);
        assert_eq!((a.size, a.flagged, b.size, b.flagged), (10, 5, 10, 2));
        close(Some(a.positive_rate), 0.5);
        close(Some(b.positive_rate), 0.2);
        close(a.precision, 0.8);
        close(b.precision, 0.5);
        close(a.recall, 0.8);
        close(b.recall, 0.25);
        close(a.false_positive_rate, 0.2);
        close(b.false_positive_rate, 1.0 / 6.0);
        close(a.churn_rate, 0.5);
        close(b.churn_rate, 0.4);
        close(b.positive_rate_ratio, 0.4);
        close(b.precision_ratio, 0.625);
        close(b.recall_ratio, 0.3125);
        close(b.fpr_ratio, 1.0);
        close(a.fpr_ratio, (1.0 / 6.0) / 0.2);
        close(a.positive_rate_ratio, 1.0);
        let flagged: Vec<(&str, &str)> = r
            .flags
            .iter()
            .map(|f| (f.group.as_str(), f.ratio.as_str()))
            .collect();
        assert_eq!(
            flagged,
            [
                ("b", "positive_rate_ratio"),
                ("b", "precision_ratio"),
                ("b", "recall_ratio")
            ]
        );
        // A stricter size rule judges nobody, so nothing is flagged.
        let lenient = FairnessParams::default().with_min_group_size(11);
        assert!(audit(&grouping, &p, 0.5, Some(&y), &lenient)
            .unwrap()
            .flags
            .is_empty());
        // Without labels only positive rates are computed.
        let r = audit(&grouping, &p, 0.5, None, &params).unwrap();
        assert!(r
            .groups
            .iter()
            .all(|g| g.precision.is_none() && g.recall_ratio.is_none()));
        assert_eq!(r.flags.len(), 1);
    }

    #[test]
    fn numeric_columns_are_binned_into_quartiles() {
        let cells: Vec<String> = (1..=20).map(|i| i.to_string()).chain(["".into()]).collect();
        let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
        let t = table("age", &refs);
        let g = Grouping::from_column(&t, "age", &FairnessParams::default()).unwrap();
        assert!(g.binned);
        // Cut points 5.75, 10.5, 15.25.
        assert_eq!(
            g.names,
            [
                "[1, 5.75)",
                "[5.75, 10.5)",
                "[10.5, 15.25)",
                "[15.25, 20]",
                "(missing)"
            ]
        );
        let sizes: Vec<usize> = (0..5)
            .map(|k| g.of_row.iter().filter(|&&x| x == k).count())
            .collect();
        assert_eq!(sizes, [5, 5, 5, 5, 1]);
        // Few distinct numbers are levels, not bins.
        let t = table("area", &["415", "408", "415", "510"]);
        let g = Grouping::from_column(&t, "area", &FairnessParams::default()).unwrap();
        assert!(!g.binned);
        assert_eq!(g.names, ["415", "408", "510"]);
    }

    #[test]
    fn bad_columns_are_rejected_with_a_reason() {
        let t = table("id", &["a", "b", "c", "d"]);
        let err = Grouping::from_column(&t, "id", &FairnessParams::default().with_max_groups(3))
            .unwrap_err();
        assert!(
            err.to_string().contains("more than 3 distinct values"),
            "{err}"
        );
        assert_eq!(
            Grouping::from_column(&t, "gender", &FairnessParams::default()).unwrap_err(),
            Error::MissingColumn {
                column: "gender".into()
            }
        );
        let g = Grouping::from_column(&t, "id", &FairnessParams::default()).unwrap();
        assert!(audit(&g, &[0.5], 0.5, None, &FairnessParams::default()).is_err());
    }
}
