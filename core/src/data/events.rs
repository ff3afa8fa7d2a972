//! Point-in-time aggregation of an event log (`customer_id, timestamp, event_type, value`) into
//! per-customer features that can be joined to a customer table.
//!
//! Only events at or before a customer's snapshot moment count: anything later is what the model
//! is meant to predict, and letting it in would leak the label. A window of `w` days holds the
//! events whose age (snapshot minus timestamp) is in `[0, w)` days.
//!
//! Per event type `t` the features are, in this order:
//! - `t_count_7d`, `t_count_30d`, `t_count_90d`: number of events in the window;
//! - `t_sum_7d`, `t_sum_30d`, `t_sum_90d`: sum of `value` in the window (a missing value adds 0;
//!   without a value column every event adds 1);
//! - `t_trend_7d_vs_30d`: `(count_7d / 7) / (count_30d / 30)`, from 0 (nothing in the last week)
//!   to 30/7; **0** when there was no event in 30 days (no recent activity);
//! - `t_days_since_last`: days from the last event at or before the snapshot to the snapshot;
//!   **NaN** (an empty cell in tables) when the customer never had such an event.
//!
//! Timestamps are ISO 8601 dates (`2025-01-31`, read as 00:00:00) or date-times
//! (`2025-01-31T13:45:00`, a space instead of `T`, optional seconds, fraction and `Z` or `±hh:mm`
//! offset, converted to UTC). Snapshots are days since 1970-01-01 (`20119.0` = 2025-01-31T00:00).

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Write;

use hashbrown::HashMap;
use serde::{Deserialize, Serialize};

use crate::data::synth::{days_from_civil, days_in_month};
use crate::data::table::{is_na, parse_number, Table};
use crate::error::{Error, Result};

/// Window lengths in days.
const WINDOWS: [f64; 3] = [7.0, 30.0, 90.0];
/// Feature suffixes per event type, in output order.
const SUFFIXES: [&str; 8] = [
    "count_7d",
    "count_30d",
    "count_90d",
    "sum_7d",
    "sum_30d",
    "sum_90d",
    "trend_7d_vs_30d",
    "days_since_last",
];
const TIMESTAMP: &str = "ISO 8601 date or date-time (e.g. 2025-01-31T13:45:00)";

/// Names of the event log's columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventColumns {
    /// Customer id (default `customer_id`).
    pub customer_id: String,
    /// Event time (default `timestamp`).
    pub timestamp: String,
    /// Event type (default `event_type`).
    pub event_type: String,
    /// Numeric value summed by the `sum_*` features (default `value`); `None` counts 1 per event.
    pub value: Option<String>,
}

impl Default for EventColumns {
    fn default() -> Self {
        EventColumns {
            customer_id: String::from("customer_id"),
            timestamp: String::from("timestamp"),
            event_type: String::from("event_type"),
            value: Some(String::from("value")),
        }
    }
}

impl EventColumns {
    /// Sets the customer-id column.
    pub fn with_customer_id(mut self, name: &str) -> Self {
        self.customer_id = String::from(name);
        self
    }

    /// Sets the timestamp column.
    pub fn with_timestamp(mut self, name: &str) -> Self {
        self.timestamp = String::from(name);
        self
    }

    /// Sets the event-type column.
    pub fn with_event_type(mut self, name: &str) -> Self {
        self.event_type = String::from(name);
        self
    }

    /// Sets the value column, or `None` for a log without values.
    pub fn with_value(mut self, name: Option<&str>) -> Self {
        self.value = name.map(String::from);
        self
    }
}

/// When to look at the log: one moment for everyone, or one per customer.
#[derive(Debug, Clone, PartialEq)]
pub enum Snapshot {
    /// Days since 1970-01-01 for every customer.
    At(f64),
    /// Days since 1970-01-01 per customer id; events of customers not in the map are ignored.
    PerCustomer(HashMap<String, f64>),
}

impl Snapshot {
    /// Per-customer snapshots read from a customer table's id and date columns (ISO 8601). A
    /// customer listed twice must have the same snapshot both times.
    pub fn from_table(customers: &Table, id_column: &str, date_column: &str) -> Result<Self> {
        let id = find(customers, id_column)?;
        let date = find(customers, date_column)?;
        let mut map = HashMap::with_capacity(customers.n_rows());
        for r in 0..customers.n_rows() {
            let key = customer_id(customers, r, id, id_column)?;
            let raw = customers.raw(r, date);
            let day = parse_timestamp(raw)
                .ok_or_else(|| bad_value(customers, r, date_column, raw, TIMESTAMP))?;
            if let Some(old) = map.insert(String::from(key), day) {
                if old != day {
                    return Err(Error::Malformed {
                        row: customers.source_row(r),
                        message: format!(
                            "customer `{key}` appears again with another snapshot date `{raw}`; aggregate each snapshot date separately"
                        ),
                    });
                }
            }
        }
        Ok(Snapshot::PerCustomer(map))
    }

    fn day_of(&self, id: &str) -> Option<f64> {
        match self {
            Snapshot::At(day) => Some(*day),
            Snapshot::PerCustomer(map) => map.get(id).copied(),
        }
    }

    fn validate(&self) -> Result<()> {
        let bad = match self {
            Snapshot::At(day) => (!day.is_finite()).then_some(*day),
            Snapshot::PerCustomer(map) => map.values().copied().find(|d| !d.is_finite()),
        };
        match bad {
            Some(day) => Err(Error::InvalidParameter {
                name: "snapshot".into(),
                message: format!("{day} is not a date; give days since 1970-01-01"),
            }),
            None => Ok(()),
        }
    }
}

/// How to aggregate an event log.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventAggregation {
    /// Column names of the log.
    pub columns: EventColumns,
    /// Event types to build features for, in output order; empty means every type seen at or
    /// before the snapshot, sorted by name. Fix the list when training so scoring data yields the
    /// same columns.
    pub event_types: Vec<String>,
}

/// Per-event-type features of the customers that had at least one event of a selected type at
/// or before their snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct EventFeatures {
    /// Name of the customer-id column in [`EventFeatures::to_table`].
    pub id_column: String,
    /// Feature names, `{event_type}_{feature}`.
    pub names: Vec<String>,
    /// Customer ids, in order of first appearance in the log.
    pub customers: Vec<String>,
    /// One row of `names.len()` values per customer (`NaN` = never happened).
    pub values: Vec<Vec<f64>>,
}

/// Running totals of one event type for one customer.
#[derive(Debug, Clone, Copy)]
struct Totals {
    counts: [f64; 3],
    sums: [f64; 3],
    min_age: f64,
}

impl Totals {
    const EMPTY: Totals = Totals {
        counts: [0.0; 3],
        sums: [0.0; 3],
        min_age: f64::INFINITY,
    };

    fn add(&mut self, age: f64, value: f64) {
        for (k, w) in WINDOWS.iter().enumerate() {
            if age < *w {
                self.counts[k] += 1.0;
                self.sums[k] += value;
            }
        }
        self.min_age = self.min_age.min(age);
    }

    fn features(&self) -> [f64; 8] {
        let [c7, c30, c90] = self.counts;
        let [s7, s30, s90] = self.sums;
        let trend = if c30 > 0.0 {
            (c7 / 7.0) / (c30 / 30.0)
        } else {
            0.0
        };
        let recency = if self.min_age.is_finite() {
            self.min_age
        } else {
            f64::NAN
        };
        [c7, c30, c90, s7, s30, s90, trend, recency]
    }
}

impl EventAggregation {
    /// Sets the column names.
    pub fn with_columns(mut self, columns: EventColumns) -> Self {
        self.columns = columns;
        self
    }

    /// Fixes the event types (and their order).
    pub fn with_event_types(mut self, types: Vec<String>) -> Self {
        self.event_types = types;
        self
    }

    /// Aggregates `log` at `snapshot`. Every row is checked, including rows after the snapshot:
    /// a bad id, type, timestamp or value is an error naming its row and column.
    pub fn aggregate(&self, log: &Table, snapshot: &Snapshot) -> Result<EventFeatures> {
        snapshot.validate()?;
        let cols = &self.columns;
        let id = find(log, &cols.customer_id)?;
        let time = find(log, &cols.timestamp)?;
        let kind = find(log, &cols.event_type)?;
        let value = cols.value.as_deref().map(|v| find(log, v)).transpose()?;

        let mut types: Vec<String> = self.event_types.clone();
        let fixed_types = !types.is_empty();
        let mut customer_index: HashMap<String, usize> = HashMap::new();
        let mut customers: Vec<String> = Vec::new();
        let mut totals: Vec<Vec<Totals>> = Vec::new();
        for r in 0..log.n_rows() {
            let who = customer_id(log, r, id, &cols.customer_id)?;
            let what = log.raw(r, kind).trim();
            if is_na(what) {
                return Err(bad_value(log, r, &cols.event_type, what, "event type"));
            }
            let raw_time = log.raw(r, time);
            let when = parse_timestamp(raw_time)
                .ok_or_else(|| bad_value(log, r, &cols.timestamp, raw_time, TIMESTAMP))?;
            let amount = match (value, &cols.value) {
                (Some(v), Some(name)) => {
                    let raw = log.raw(r, v);
                    if is_na(raw) {
                        0.0
                    } else {
                        parse_number(raw).ok_or_else(|| bad_value(log, r, name, raw, "number"))?
                    }
                }
                _ => 1.0,
            };

            let Some(snap) = snapshot.day_of(who) else {
                continue;
            };
            if when > snap {
                continue;
            }
            let t = match types.iter().position(|t| t == what) {
                Some(t) => t,
                None if fixed_types => continue,
                None => {
                    types.push(String::from(what));
                    types.len() - 1
                }
            };
            let c = *customer_index.entry(String::from(who)).or_insert_with(|| {
                customers.push(String::from(who));
                totals.push(Vec::new());
                customers.len() - 1
            });
            let row = &mut totals[c];
            if row.len() <= t {
                row.resize(t + 1, Totals::EMPTY);
            }
            row[t].add(snap - when, amount);
        }

        // Discovered types are sorted so the columns do not depend on the log's row order.
        let mut order: Vec<usize> = (0..types.len()).collect();
        if !fixed_types {
            order.sort_by(|&a, &b| types[a].cmp(&types[b]));
        }
        let names = order
            .iter()
            .flat_map(|&t| SUFFIXES.iter().map(move |s| (t, s)))
            .map(|(t, s)| format!("{}_{s}", types[t]))
            .collect();
        let values = totals
            .iter()
            .map(|row| {
                order
                    .iter()
                    .flat_map(|&t| row.get(t).unwrap_or(&Totals::EMPTY).features())
                    .collect()
            })
            .collect();
        Ok(EventFeatures {
            id_column: cols.customer_id.clone(),
            names,
            customers,
            values,
        })
    }
}

impl EventFeatures {
    /// The features of a customer with no event at or before the snapshot: zero counts and
    /// sums, trend 0, recency missing.
    fn empty_row(&self) -> Vec<f64> {
        let per_type = Totals::EMPTY.features();
        (0..self.names.len())
            .map(|i| per_type[i % per_type.len()])
            .collect()
    }

    /// The features as a table: the id column, then one column per feature (`NaN` as empty).
    pub fn to_table(&self) -> Result<Table> {
        let mut names = vec![self.id_column.clone()];
        names.extend(self.names.iter().cloned());
        let mut table = Table::new(names)?;
        let mut cells = Cells::default();
        for (i, (id, row)) in self.customers.iter().zip(&self.values).enumerate() {
            cells.fill(row);
            table.push_row(i + 1, core::iter::once(id.as_str()).chain(cells.iter()))?;
        }
        Ok(table)
    }
}

/// `customers` with the event features appended, matched on `id_column`; customers without
/// events get zero counts and sums, trend 0 and a missing recency.
pub fn join(customers: &Table, id_column: &str, features: &EventFeatures) -> Result<Table> {
    let id = find(customers, id_column)?;
    let mut names: Vec<String> = customers.names().to_vec();
    names.extend(features.names.iter().cloned());
    let mut table = Table::new(names)?;
    let index: HashMap<&str, usize> = features
        .customers
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let empty = features.empty_row();
    let mut cells = Cells::default();
    for r in 0..customers.n_rows() {
        let key = customers.raw(r, id).trim();
        let row = index
            .get(key)
            .and_then(|&i| features.values.get(i))
            .unwrap_or(&empty);
        cells.fill(row);
        let own = (0..customers.n_cols()).map(|c| customers.raw(r, c));
        table.push_row(customers.source_row(r), own.chain(cells.iter()))?;
    }
    Ok(table)
}

/// A reused buffer of formatted cells: shortest round-trip numbers, `NaN` as empty.
#[derive(Default)]
struct Cells {
    text: String,
    ends: Vec<usize>,
}

impl Cells {
    fn fill(&mut self, values: &[f64]) {
        self.text.clear();
        self.ends.clear();
        for v in values {
            if !v.is_nan() {
                let _ = write!(self.text, "{v}");
            }
            self.ends.push(self.text.len());
        }
    }

    fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        let starts = core::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(s, &e)| &self.text[s..e])
    }
}

fn find(table: &Table, name: &str) -> Result<usize> {
    table
        .column_index(name)
        .ok_or_else(|| Error::MissingColumn {
            column: String::from(name),
        })
}

fn bad_value(table: &Table, r: usize, column: &str, raw: &str, expected: &'static str) -> Error {
    Error::BadValue {
        row: table.source_row(r),
        column: String::from(column),
        value: String::from(raw),
        expected: expected.into(),
    }
}

fn customer_id<'t>(table: &'t Table, r: usize, col: usize, name: &str) -> Result<&'t str> {
    let raw = table.raw(r, col).trim();
    if is_na(raw) {
        Err(bad_value(table, r, name, raw, "customer id"))
    } else {
        Ok(raw)
    }
}

/// Days since 1970-01-01 (UTC) of an ISO 8601 date or date-time, `None` if it is not one.
fn parse_timestamp(raw: &str) -> Option<f64> {
    let b = raw.trim().as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(&b[..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    let y = i64::from(y);
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    let days = days_from_civil(y, m, d) as f64;
    let rest = &b[10..];
    let Some((&sep, rest)) = rest.split_first() else {
        return Some(days);
    };
    if !matches!(sep, b'T' | b't' | b' ') || rest.len() < 5 || rest[2] != b':' {
        return None;
    }
    let (hh, mm) = (digits(&rest[..2])?, digits(&rest[3..5])?);
    let mut rest = &rest[5..];
    let mut seconds = 0.0;
    if let [b':', s1, s2, tail @ ..] = rest {
        seconds = f64::from(digits(&[*s1, *s2])?);
        rest = tail;
        if let [b'.' | b',', tail @ ..] = rest {
            let n = tail.iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 {
                return None;
            }
            // Nanoseconds are far below the day resolution that matters; extra digits are read
            // but not used.
            let used = n.min(9);
            seconds += f64::from(digits(&tail[..used])?) / libm::pow(10.0, used as f64);
            rest = &tail[n..];
        }
    }
    if hh > 23 || mm > 59 || seconds >= 60.0 {
        return None;
    }
    let offset_minutes = match rest {
        [] | [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, tail @ ..] => {
            let h = digits(&[*h1, *h2])?;
            let m = match tail {
                [] => 0,
                [b':', m1, m2] | [m1, m2] => digits(&[*m1, *m2])?,
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let minutes = i64::from(h * 60 + m);
            if *sign == b'-' {
                -minutes
            } else {
                minutes
            }
        }
        _ => return None,
    };
    let local = f64::from(hh * 3600 + mm * 60) + seconds - (offset_minutes * 60) as f64;
    Some(days + local / 86_400.0)
}

/// The value of a run of ASCII digits (at most 9, so it fits).
fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0, |acc, c| acc * 10 + u32::from(c - b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::synth::{generate_events, generate_table, SynthParams};
    use proptest::prelude::*;

    /// 2025-01-31T00:00:00.
    const SNAP: f64 = 20_119.0;

    fn table(header: &[&str], rows: &[&[&str]]) -> Table {
        let mut t = Table::new(header.iter().map(|&h| String::from(h)).collect()).unwrap();
        for (i, row) in rows.iter().enumerate() {
            t.push_row(i + 1, row.iter().copied()).unwrap();
        }
        t
    }

    fn log(rows: &[[&str; 4]]) -> Table {
        let rows: Vec<&[&str]> = rows.iter().map(|r| &r[..]).collect();
        table(&["customer_id", "timestamp", "event_type", "value"], &rows)
    }

    fn csv_table(text: &str) -> Table {
        let mut lines = text.lines();
        let header = lines.next().unwrap().split(',').map(String::from).collect();
        let mut t = Table::new(header).unwrap();
        for (i, line) in lines.enumerate() {
            t.push_row(i + 1, line.split(',')).unwrap();
        }
        t
    }

    fn feature(f: &EventFeatures, customer: &str, name: &str) -> f64 {
        let c = f.customers.iter().position(|x| x == customer).unwrap();
        let n = f.names.iter().position(|x| x == name).unwrap();
        f.values[c][n]
    }

    /// Equality that treats NaN as equal to itself.
    fn same(a: &EventFeatures, b: &EventFeatures) -> bool {
        a.names == b.names
            && a.customers == b.customers
            && a.values.len() == b.values.len()
            && a.values.iter().zip(&b.values).all(|(x, y)| {
                x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits())
            })
    }

    #[test]
    fn timestamps_parse_and_bad_ones_are_rejected() {
        assert_eq!(parse_timestamp("2025-01-31"), Some(SNAP));
        assert_eq!(parse_timestamp(" 2025-01-31T12:00 "), Some(SNAP + 0.5));
        assert_eq!(parse_timestamp("2025-01-31 06:00:00Z"), Some(SNAP + 0.25));
        assert_eq!(parse_timestamp("2025-01-31T01:00:00+01:00"), Some(SNAP));
        assert_eq!(parse_timestamp("2025-01-30T23:00:00-0100"), Some(SNAP));
        assert_eq!(
            parse_timestamp("2025-01-31T00:00:00.5"),
            Some(SNAP + 0.5 / 86_400.0)
        );
        assert_eq!(parse_timestamp("1969-12-31"), Some(-1.0));
        assert_eq!(parse_timestamp("2024-02-29"), Some(19_782.0));
        for bad in [
            "",
            "2025-1-31",
            "2025-02-29",
            "2025-13-01",
            "2025-00-10",
            "2025-01-31T24:00",
            "2025-01-31T10:60",
            "2025-01-31T10:00:61",
            "2025-01-31T10",
            "2025-01-31X10:00",
            "2025-01-31T10:00:00.",
            "2025-01-31T10:00:00+5",
            "2025-01-31T10:00:00 UTC",
            "31/01/2025",
            "abcd-ef-gh",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn hand_made_log_has_known_windows_and_recency() {
        let t = log(&[
            ["a", "2025-01-30", "login", "1"],           // 1 day
            ["a", "2025-01-26T12:00:00", "play", "2.5"], // 4.5 days
            ["a", "2025-01-24", "login", "1"],           // exactly 7 days: not in 7d
            ["a", "2025-01-01", "login", ""],            // 30 days: 90d only, missing value
            ["b", "2024-10-01", "play", "4"],            // 122 days: recency only
            ["a", "2024-12-20", "play", "1.5"],          // 42 days
            ["a", "2025-02-02", "login", "1"],           // after the snapshot
            ["b", "2025-01-31", "login", "7"],           // exactly at the snapshot: counted
        ]);
        let f = EventAggregation::default()
            .aggregate(&t, &Snapshot::At(SNAP))
            .unwrap();
        assert_eq!(f.customers, ["a", "b"]);
        assert_eq!(f.names.len(), 16);
        assert_eq!(f.names[0], "login_count_7d");
        assert_eq!(f.names[15], "play_days_since_last");
        let g = |c, n| feature(&f, c, n);
        assert_eq!(g("a", "login_count_7d"), 1.0);
        assert_eq!(g("a", "login_count_30d"), 2.0);
        assert_eq!(g("a", "login_count_90d"), 3.0);
        assert_eq!(g("a", "login_sum_90d"), 2.0);
        assert_eq!(g("a", "login_trend_7d_vs_30d"), (1.0 / 7.0) / (2.0 / 30.0));
        assert_eq!(g("a", "login_days_since_last"), 1.0);
        assert_eq!(g("a", "play_count_7d"), 1.0);
        assert_eq!(g("a", "play_sum_90d"), 4.0);
        assert_eq!(g("a", "play_days_since_last"), 4.5);
        assert_eq!(g("b", "play_count_90d"), 0.0);
        assert_eq!(g("b", "play_sum_90d"), 0.0);
        assert_eq!(g("b", "play_trend_7d_vs_30d"), 0.0);
        assert_eq!(g("b", "play_days_since_last"), 122.0);
        assert_eq!(g("b", "login_count_7d"), 1.0);
        assert_eq!(g("b", "login_sum_7d"), 7.0);
        assert_eq!(g("b", "login_days_since_last"), 0.0);

        // Fixed types keep their order and drop the others; without a value column each event
        // weighs 1.
        let fixed = EventAggregation::default()
            .with_event_types(vec![String::from("play"), String::from("refund")])
            .with_columns(EventColumns::default().with_value(None))
            .aggregate(&t, &Snapshot::At(SNAP))
            .unwrap();
        assert_eq!(fixed.names[0], "play_count_7d");
        assert_eq!(fixed.names[8], "refund_count_7d");
        assert_eq!(feature(&fixed, "a", "play_sum_90d"), 2.0);
        assert!(feature(&fixed, "a", "refund_days_since_last").is_nan());
    }

    #[test]
    fn an_event_one_second_after_the_snapshot_changes_nothing() {
        let base = [
            ["a", "2025-01-30T10:00:00", "login", "1"],
            ["a", "2025-01-30T23:59:59", "play", "2"],
        ];
        let agg = EventAggregation::default();
        let before = agg.aggregate(&log(&base), &Snapshot::At(SNAP)).unwrap();
        for extra in [
            ["a", "2025-01-31T00:00:01", "login", "1"],
            ["a", "2025-01-31T00:00:01", "support_ticket", "1"],
            ["z", "2025-01-31T00:00:01", "login", "1"],
        ] {
            let mut rows = base.to_vec();
            rows.push(extra);
            let after = agg.aggregate(&log(&rows), &Snapshot::At(SNAP)).unwrap();
            assert!(same(&before, &after), "{extra:?}");
        }
        // ...while the same event one second earlier counts.
        let mut rows = base.to_vec();
        rows.push(["a", "2025-01-30T23:59:59", "login", "1"]);
        let earlier = agg.aggregate(&log(&rows), &Snapshot::At(SNAP)).unwrap();
        assert_eq!(feature(&earlier, "a", "login_count_7d"), 2.0);
        let recency = feature(&earlier, "a", "login_days_since_last");
        assert!((recency - 1.0 / 86_400.0).abs() < 1e-9, "{recency}");
    }

    proptest! {
        #[test]
        fn later_events_never_matter(
            past in proptest::collection::vec((0u8..3, 0u32..200 * 86_400, 0u8..3), 0..40),
            future in proptest::collection::vec((0u8..3, 1u32..400 * 86_400, 0u8..3), 1..20),
        ) {
            let stamp = |secs: i64| {
                let t = SNAP as i64 * 86_400 + secs;
                let (y, m, d) = civil(t.div_euclid(86_400));
                let s = t.rem_euclid(86_400);
                format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
            };
            let row = |(c, secs, k): (u8, i64, u8)| {
                [
                    String::from(["a", "b", "c"][usize::from(c)]),
                    stamp(secs),
                    String::from(["login", "play", "support_ticket"][usize::from(k)]),
                    format!("{}", u32::from(k) + 1),
                ]
            };
            let to_table = |rows: &[[String; 4]]| {
                let rows: Vec<[&str; 4]> = rows
                    .iter()
                    .map(|r| [r[0].as_str(), r[1].as_str(), r[2].as_str(), r[3].as_str()])
                    .collect();
                log(&rows)
            };
            let past_rows: Vec<[String; 4]> =
                past.iter().map(|&(c, s, k)| row((c, -i64::from(s), k))).collect();
            let mut all = past_rows.clone();
            for (i, &(c, s, k)) in future.iter().enumerate() {
                // Interleave future events anywhere in the log.
                all.insert(i % (all.len() + 1), row((c, i64::from(s), k)));
            }
            let agg = EventAggregation::default();
            let a = agg.aggregate(&to_table(&past_rows), &Snapshot::At(SNAP)).unwrap();
            let b = agg.aggregate(&to_table(&all), &Snapshot::At(SNAP)).unwrap();
            prop_assert!(same(&a, &b));
            for row in &a.values {
                for chunk in row.chunks(8) {
                    prop_assert!(chunk[0] <= chunk[1] && chunk[1] <= chunk[2]);
                    prop_assert!((0.0..=30.0 / 7.0).contains(&chunk[6]));
                    prop_assert!(chunk[7].is_nan() || chunk[7] >= 0.0);
                }
            }
        }
    }

    fn civil(days: i64) -> (i64, u32, u32) {
        // Walks from 1970 using the shared calendar helpers; test-only and small ranges.
        let mut y = 1970 + days.div_euclid(366);
        while days_from_civil(y + 1, 1, 1) <= days {
            y += 1;
        }
        let mut m = 1;
        while m < 12 && days_from_civil(y, m + 1, 1) <= days {
            m += 1;
        }
        (y, m, (days - days_from_civil(y, m, 1)) as u32 + 1)
    }

    #[test]
    fn per_customer_snapshots_and_join() {
        let customers = table(
            &["customer_id", "snapshot_date", "plan"],
            &[
                &["a", "2025-01-31", "basic"],
                &["b", "2025-03-31", "premium"],
                &["c", "2025-01-31", "basic"],
            ],
        );
        let t = log(&[
            ["a", "2025-01-30", "login", "1"],
            ["b", "2025-03-30", "login", "1"],
            ["b", "2025-02-15", "login", "1"], // after a's snapshot, before b's
            ["x", "2025-01-01", "login", "1"], // not a known customer
        ]);
        let snap = Snapshot::from_table(&customers, "customer_id", "snapshot_date").unwrap();
        let f = EventAggregation::default().aggregate(&t, &snap).unwrap();
        assert_eq!(f.customers, ["a", "b"]);
        assert_eq!(feature(&f, "b", "login_count_90d"), 2.0);
        assert_eq!(feature(&f, "b", "login_days_since_last"), 1.0);

        let joined = join(&customers, "customer_id", &f).unwrap();
        assert_eq!(joined.n_rows(), 3);
        assert_eq!(joined.n_cols(), 3 + 8);
        let col = |n: &str| joined.column_index(n).unwrap();
        assert_eq!(joined.raw(1, col("plan")), "premium");
        assert_eq!(joined.raw(1, col("login_count_90d")), "2");
        assert_eq!(
            joined.raw(0, col("login_trend_7d_vs_30d")),
            "4.285714285714286"
        );
        assert_eq!(joined.raw(2, col("login_count_90d")), "0");
        assert_eq!(joined.raw(2, col("login_trend_7d_vs_30d")), "0");
        assert_eq!(joined.raw(2, col("login_days_since_last")), "");
        assert_eq!(joined.source_row(2), 3);

        let ft = f.to_table().unwrap();
        assert_eq!(ft.names()[0], "customer_id");
        assert_eq!(ft.raw(1, 0), "b");
        assert_eq!(ft.raw(1, ft.column_index("login_count_7d").unwrap()), "1");

        let clash = table(&["customer_id", "login_count_7d"], &[&["a", "1"]]);
        assert!(matches!(
            join(&clash, "customer_id", &f),
            Err(Error::DuplicateColumn { .. })
        ));
        let twice = table(
            &["customer_id", "snapshot_date"],
            &[&["a", "2025-01-31"], &["a", "2025-02-28"]],
        );
        assert!(matches!(
            Snapshot::from_table(&twice, "customer_id", "snapshot_date"),
            Err(Error::Malformed { row: 2, .. })
        ));
    }

    #[test]
    fn bad_input_names_row_and_column() {
        let agg = EventAggregation::default();
        let at = Snapshot::At(SNAP);
        let err = agg
            .aggregate(
                &log(&[
                    ["a", "2025-01-30", "login", "1"],
                    ["a", "30/01/2025", "login", "1"],
                ]),
                &at,
            )
            .unwrap_err();
        assert!(
            matches!(&err, Error::BadValue { row: 2, column, value, .. } if column == "timestamp" && value == "30/01/2025"),
            "{err:?}"
        );
        let err = agg
            .aggregate(&log(&[["a", "2025-01-30", "login", "lots"]]), &at)
            .unwrap_err();
        assert!(matches!(&err, Error::BadValue { row: 1, column, .. } if column == "value"));
        let err = agg
            .aggregate(&log(&[["", "2025-01-30", "login", "1"]]), &at)
            .unwrap_err();
        assert!(matches!(&err, Error::BadValue { column, .. } if column == "customer_id"));
        let err = agg
            .aggregate(&log(&[["a", "2025-01-30", "NA", "1"]]), &at)
            .unwrap_err();
        assert!(matches!(&err, Error::BadValue { column, .. } if column == "event_type"));
        // Rows after the snapshot are checked too.
        let err = agg
            .aggregate(&log(&[["a", "2026-01-30", "login", "x"]]), &at)
            .unwrap_err();
        assert!(matches!(&err, Error::BadValue { .. }));
        let renamed = EventAggregation::default()
            .with_columns(EventColumns::default().with_timestamp("time"));
        assert_eq!(
            renamed.aggregate(&log(&[]), &at).unwrap_err(),
            Error::MissingColumn {
                column: String::from("time")
            }
        );
        assert!(matches!(
            agg.aggregate(&log(&[]), &Snapshot::At(f64::NAN)),
            Err(Error::InvalidParameter { .. })
        ));
        let empty = agg.aggregate(&log(&[]), &at).unwrap();
        assert!(empty.names.is_empty() && empty.customers.is_empty());
    }

    #[test]
    fn synthetic_event_log_matches_the_customer_table() {
        let params = SynthParams::default()
            .with_n_customers(400)
            .with_seed(21)
            .with_missing_rate(0.0)
            .with_outlier_rate(0.0);
        let customers = generate_table(&params).unwrap();
        let mut text = String::new();
        generate_events(&params, 0..params.n_customers, &mut |s| text.push_str(s)).unwrap();
        let events = csv_table(&text);
        let snap = Snapshot::from_table(&customers, "customer_id", "snapshot_date").unwrap();
        let agg = EventAggregation::default().with_event_types(
            [
                "login",
                "play",
                "support_ticket",
                "payment_failed",
                "plan_change",
            ]
            .iter()
            .map(|&s| String::from(s))
            .collect(),
        );
        let f = agg.aggregate(&events, &snap).unwrap();
        let joined = join(&customers, "customer_id", &f).unwrap();
        let num = |r: usize, n: &str| parse_number(joined.raw(r, joined.column_index(n).unwrap()));
        let mut with_recency = 0;
        for r in 0..joined.n_rows() {
            assert_eq!(num(r, "sessions_30d"), num(r, "login_count_30d"), "row {r}");
            assert_eq!(
                num(r, "support_tickets_90d"),
                num(r, "support_ticket_count_90d")
            );
            for (usage, play) in [
                ("usage_hours_7d", "play_sum_7d"),
                ("usage_hours_30d", "play_sum_30d"),
                ("usage_hours_90d", "play_sum_90d"),
            ] {
                let (u, p) = (num(r, usage).unwrap(), num(r, play).unwrap());
                let sessions = num(r, "login_count_90d").unwrap();
                assert!(
                    (u - p).abs() <= 0.01 + 0.005 * sessions,
                    "row {r}: {u} vs {p}"
                );
            }
            if let Some(days) = num(r, "login_days_since_last") {
                assert_eq!(num(r, "days_since_last_login"), Some(libm::floor(days)));
                with_recency += 1;
            }
        }
        assert!(with_recency > 390, "{with_recency}");

        // Looking past the snapshot would see the churners fade: the log does hold later events.
        let leaky = agg.aggregate(&events, &Snapshot::At(30_000.0)).unwrap();
        assert_ne!(leaky.values.len(), 0);
        let late = (0..events.n_rows())
            .filter(|&r| {
                let id = events.raw(r, 0);
                parse_timestamp(events.raw(r, 1)).unwrap() > snap.day_of(id).unwrap()
            })
            .count();
        assert!(late > 1_000, "{late}");
    }
}
