//! Synthetic data: a seeded streaming/SaaS subscription customer base with a churn label, and a
//! matching event log. It feeds demos, benchmarks and tests of every later stage, so its
//! properties are documented precisely enough to be asserted.
//!
//! Every customer `i` is drawn from `Rng::new(seed).fork(i)` alone, so row `i` is the same
//! whatever `n_customers` is, and any range of customers can be generated independently.
//!
//! # The label
//!
//! `churn` is drawn from `sigmoid(intercept + risk)` where `risk` is built from clean (pre-noise)
//! values through interactions and thresholds, so no single column gives the label away:
//! - a declining trend (7-day usage rate well below the 90-day rate), much stronger on monthly
//!   billing than on annual billing;
//! - support tickets matter strongly only together with payment delays (`>= 2` tickets and
//!   `>= 1` delay);
//! - new customers (`tenure_months < 3`) on monthly billing;
//! - price sensitivity: `monthly_fee > 15` with `engagement_score < 40`;
//! - `payment_method = gift_card`; a U-shape in `age` (young and old churn more);
//! - smaller effects: engagement, tenure, annual billing, autopay, repeated plan changes and three
//!   low-quality referral campaigns (`campaign_07`, `campaign_13`, `campaign_29`).
//!
//! The intercept is found by bisection so that the mean churn probability of a fixed pilot
//! sample (4,000 customers of a fixed pilot seed, without drift) equals `churn_rate_target`; it
//! therefore depends on nothing but the target, and drift raises the churn rate instead of being
//! calibrated away. The Bayes-optimal AUC (the AUC of the true probability) is about 0.86.
//!
//! # Noise
//!
//! Missing cells (empty) appear independently at `missing_rate` in `age`, `gender`,
//! `engagement_score`, `days_since_last_login` and `referral_source`. `nps_score` is missing more
//! often: only 60% of customers are surveyed, and answers are then missing at `missing_rate`.
//! With probability `outlier_rate` each, the three usage columns are multiplied by 20 (keeping
//! 7d <= 30d <= 90d) and `monthly_fee` by 10. Missing cells and outliers are applied after the
//! label is drawn, like errors in a data export.
//!
//! # Drift
//!
//! `drift` in `[0, 1]` shifts exactly the input columns of [`drifted_columns`] (`d` = drift):
//! - `usage_hours_7d`, `usage_hours_30d`, `usage_hours_90d`: multiplied by `1 - 0.6 d` (sessions
//!   got shorter; `sessions_30d`, `days_since_last_login` and the engagement values are
//!   unchanged);
//! - `payment_method`: a `0.25 d` share of customers switch to `gift_card`;
//! - `plan`: a `0.12 d` share of customers show the new level `student`;
//! - `region`: a `0.10 d` share of customers show the new level `overseas`;
//! - `engagement_score`: missing rate `missing_rate + 0.25 d`;
//! - and the label `churn`, which rises through the shorter usage and the gift cards (the
//!   intercept is not recalibrated).
//!
//! The drifted `payment_method`, `plan` and `region` only relabel a customer: what depends on
//! them (`monthly_fee`, `devices`, the usage level, `autopay`, `payment_delays_6m`) follows the
//! customer's undrifted draw, so every other column keeps its distribution exactly. At `d = 0`
//! the output is byte for byte the same as without the knob. At `d = 0.5` and 20,000 rows,
//! [`crate::monitor`]'s default verdicts flag every drifted column and no other (asserted by
//! the tests).
//!
//! # Event log
//!
//! [`generate_events`] writes `customer_id,timestamp,event_type,value` rows consistent with the
//! customer table: one `login` (value 1) and one `play` (value = hours) per session, so the
//! `login` count over the 30 days before the snapshot equals `sessions_30d` and the `play` sums
//! over 7/30/90 days match the usage columns (before outliers, to rounding);
//! `support_ticket` (value 1) events match `support_tickets_90d`, `payment_failed` (value = fee)
//! events match `payment_delays_6m` over 182 days, and `plan_change` (value +1/-1) events match
//! `plan_changes_12m` over 365 days. Days since the last login equal `days_since_last_login`,
//! except for customers who never logged in after signing up (no login event; the column then
//! counts days since signup). The snapshot moment is the start (00:00:00) of `snapshot_date`;
//! every customer also gets events during the 30 days after it (few for churners), which a
//! point-in-time correct aggregation must ignore.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use crate::data::table::Table;
use crate::error::{Error, Result};
use crate::rng::Rng;

/// CSV header of [`generate_csv`], in column order.
const COLUMNS: [&str; 26] = [
    "customer_id",
    "snapshot_date",
    "signup_date",
    "age",
    "gender",
    "region",
    "plan",
    "billing_cycle",
    "payment_method",
    "monthly_fee",
    "tenure_months",
    "autopay",
    "usage_hours_7d",
    "usage_hours_30d",
    "usage_hours_90d",
    "sessions_30d",
    "days_since_last_login",
    "engagement_score",
    "devices",
    "support_tickets_90d",
    "payment_delays_6m",
    "plan_changes_12m",
    "discount_pct",
    "referral_source",
    "nps_score",
    "churn",
];

const DRIFTED: [&str; 7] = [
    "region",
    "plan",
    "payment_method",
    "usage_hours_7d",
    "usage_hours_30d",
    "usage_hours_90d",
    "engagement_score",
];

const GENDERS: [&str; 3] = ["female", "male", "other"];
const GENDER_WEIGHTS: [f64; 3] = [0.49, 0.48, 0.03];
const REGIONS: [&str; 8] = [
    "capital",
    "north_east",
    "north_west",
    "south_east",
    "south_west",
    "midlands",
    "coast",
    "islands",
];
const REGION_WEIGHTS: [f64; 8] = [0.22, 0.14, 0.13, 0.16, 0.11, 0.12, 0.08, 0.04];
const REGION_PRICE: [f64; 8] = [1.1, 1.0, 0.95, 1.05, 1.0, 0.95, 1.0, 0.9];
const DRIFT_REGION: &str = "overseas";
const PLANS: [&str; 5] = ["basic", "standard", "premium", "family", "student"];
const PLAN_WEIGHTS: [f64; 4] = [0.30, 0.38, 0.20, 0.12];
const PLAN_FEE: [f64; 4] = [6.99, 11.99, 17.99, 21.99];
const PLAN_USAGE: [f64; 4] = [0.85, 1.0, 1.2, 1.3];
const STUDENT: usize = 4;
const PAYMENTS: [&str; 4] = ["card", "paypal", "bank_transfer", "gift_card"];
const PAYMENT_WEIGHTS: [f64; 4] = [0.55, 0.25, 0.13, 0.07];
const PAYMENT_DELAY_RATE: [f64; 4] = [1.0, 0.8, 1.6, 2.5];
const GIFT_CARD: usize = 3;
const DISCOUNTS: [u32; 6] = [5, 10, 15, 20, 25, 50];
const DISCOUNT_WEIGHTS: [f64; 6] = [3.0, 4.0, 3.0, 3.0, 2.0, 1.0];
const N_CAMPAIGNS: usize = 40;
const BAD_CAMPAIGNS: [usize; 3] = [7, 13, 29];

const PILOT_SEED: u64 = 0x5EED_CA1B;
const PILOT_SIZE: u64 = 4_000;
const EVENT_STREAM: u64 = 0xE7E7;
const ROWS_PER_CHUNK: usize = 4_096;
const SECS_PER_DAY: i64 = 86_400;

/// Parameters of the synthetic customer base.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthParams {
    /// Number of customers (rows).
    pub n_customers: usize,
    /// Seed of the whole data set.
    pub seed: u64,
    /// Number of monthly snapshots customers are spread over (default 12).
    pub snapshot_months: u32,
    /// First snapshot date in days since 1970-01-01 (default 2025-01-31); later snapshots fall on
    /// the same day of later months, clamped to the month's length.
    pub start_date_days: i64,
    /// Share of missing cells in the optional columns (default 0.07).
    pub missing_rate: f64,
    /// Probability of a usage outlier and, separately, of a fee outlier per row (default 0.005).
    pub outlier_rate: f64,
    /// Strength of the documented distribution shift, 0 (none) to 1 (strong).
    pub drift: f64,
    /// Churn rate the intercept is calibrated to, without drift (default 0.15).
    pub churn_rate_target: f64,
}

impl Default for SynthParams {
    fn default() -> Self {
        SynthParams {
            n_customers: 10_000,
            seed: 42,
            snapshot_months: 12,
            start_date_days: days_from_civil(2025, 1, 31),
            missing_rate: 0.07,
            outlier_rate: 0.005,
            drift: 0.0,
            churn_rate_target: 0.15,
        }
    }
}

impl SynthParams {
    /// Sets the number of customers.
    pub fn with_n_customers(mut self, n: usize) -> Self {
        self.n_customers = n;
        self
    }

    /// Sets the seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets the number of monthly snapshots.
    pub fn with_snapshot_months(mut self, months: u32) -> Self {
        self.snapshot_months = months;
        self
    }

    /// Sets the first snapshot date (days since 1970-01-01).
    pub fn with_start_date_days(mut self, days: i64) -> Self {
        self.start_date_days = days;
        self
    }

    /// Sets the missing-cell rate of the optional columns.
    pub fn with_missing_rate(mut self, rate: f64) -> Self {
        self.missing_rate = rate;
        self
    }

    /// Sets the outlier rate.
    pub fn with_outlier_rate(mut self, rate: f64) -> Self {
        self.outlier_rate = rate;
        self
    }

    /// Sets the drift strength.
    pub fn with_drift(mut self, drift: f64) -> Self {
        self.drift = drift;
        self
    }

    /// Sets the churn rate the intercept is calibrated to.
    pub fn with_churn_rate_target(mut self, rate: f64) -> Self {
        self.churn_rate_target = rate;
        self
    }

    fn validate(&self) -> Result<()> {
        let unit = |name: &'static str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(Error::InvalidParameter {
                    name: name.into(),
                    message: alloc::format!("{v} is outside 0..=1; give a share such as 0.05"),
                })
            }
        };
        unit("missing_rate", self.missing_rate)?;
        unit("outlier_rate", self.outlier_rate)?;
        unit("drift", self.drift)?;
        if !(self.churn_rate_target >= 0.01 && self.churn_rate_target <= 0.9) {
            return Err(Error::InvalidParameter {
                name: "churn_rate_target".into(),
                message: alloc::format!(
                    "{} is outside 0.01..=0.9; give a churn rate such as 0.15",
                    self.churn_rate_target
                ),
            });
        }
        if !(1..=1200).contains(&self.snapshot_months) {
            return Err(Error::InvalidParameter {
                name: "snapshot_months".into(),
                message: alloc::format!("{} is outside 1..=1200", self.snapshot_months),
            });
        }
        // Keeps every signup (up to ten years earlier) and snapshot within four-digit years.
        let (lo, hi) = (days_from_civil(1900, 1, 1), days_from_civil(2900, 1, 1));
        if !(lo..=hi).contains(&self.start_date_days) {
            return Err(Error::InvalidParameter {
                name: "start_date_days".into(),
                message: alloc::format!(
                    "{} is outside years 1900..2900 (days since 1970-01-01)",
                    self.start_date_days
                ),
            });
        }
        Ok(())
    }
}

/// The CSV header of [`generate_csv`] (and the columns of [`generate_table`]), in order.
pub fn column_names() -> &'static [&'static str] {
    &COLUMNS
}

/// The input columns (all but the id and the label) whose distribution `drift` shifts; every
/// other input column keeps its distribution whatever the drift.
pub fn drifted_columns() -> &'static [&'static str] {
    &DRIFTED
}

/// Writes the customer table as CSV (header first) to `out`, a few thousand rows per call, so a
/// caller can stream millions of customers to a file without holding them in memory.
pub fn generate_csv(params: &SynthParams, out: &mut impl FnMut(&str)) -> Result<()> {
    let ctx = Context::new(params)?;
    let mut buf = String::with_capacity(ROWS_PER_CHUNK * 200);
    buf.push_str(&COLUMNS.join(","));
    buf.push('\n');
    for i in 0..params.n_customers {
        let c = ctx.customer(i);
        ctx.write_row(i, &c, &mut buf);
        buf.push('\n');
        if (i + 1) % ROWS_PER_CHUNK == 0 {
            out(&buf);
            buf.clear();
        }
    }
    if !buf.is_empty() {
        out(&buf);
    }
    Ok(())
}

/// The customer table as a [`Table`] (source rows numbered from 1), same cells as the CSV.
pub fn generate_table(params: &SynthParams) -> Result<Table> {
    let ctx = Context::new(params)?;
    let mut table = Table::new(COLUMNS.iter().map(|&c| String::from(c)).collect())?;
    let mut line = String::with_capacity(256);
    for i in 0..params.n_customers {
        line.clear();
        let c = ctx.customer(i);
        ctx.write_row(i, &c, &mut line);
        // No generated cell contains a comma, so the CSV line splits back into its cells.
        table.push_row(i + 1, line.split(','))?;
    }
    Ok(table)
}

/// Writes the event log (`customer_id,timestamp,event_type,value`, header first) of the
/// customers with indices in `customers` to `out`, one customer's events per call, sorted by
/// time within a customer. Timestamps are `YYYY-MM-DDTHH:MM:SS` (UTC). An active customer has a
/// few hundred events (two per session), so the log is meant for ranges of customers rather
/// than a whole large table.
pub fn generate_events(
    params: &SynthParams,
    customers: core::ops::Range<usize>,
    out: &mut impl FnMut(&str),
) -> Result<()> {
    let ctx = Context::new(params)?;
    let mut buf = String::with_capacity(16 * 1024);
    buf.push_str("customer_id,timestamp,event_type,value\n");
    out(&buf);
    let mut events = Vec::new();
    for i in customers {
        buf.clear();
        let c = ctx.customer(i);
        ctx.customer_events(i, &c, &mut events);
        let snapshot_secs = c.snapshot * SECS_PER_DAY;
        for e in &events {
            push_id(&mut buf, i);
            buf.push(',');
            push_timestamp(&mut buf, snapshot_secs + e.offset_secs);
            buf.push(',');
            buf.push_str(e.kind);
            buf.push(',');
            push_num(&mut buf, e.value);
            buf.push('\n');
        }
        out(&buf);
    }
    Ok(())
}

/// One customer's clean values, the latent quantities the event log needs, and which cells to
/// blank or distort on output.
struct Customer {
    snapshot: i64,
    signup: i64,
    age: u32,
    gender: usize,
    region: Option<usize>,
    plan: usize,
    annual: bool,
    payment: usize,
    fee: f64,
    tenure: u32,
    autopay: bool,
    // Sessions and hours per window: the last 7 days, the 23 days before, the 60 days before.
    sessions: [u32; 3],
    hours: [f64; 3],
    last_login_secs: Option<i64>,
    days_since_last_login: i64,
    engagement: f64,
    devices: u32,
    tickets: u32,
    delays: u32,
    plan_changes: u32,
    discount: u32,
    referral: usize,
    nps: Option<u32>,
    churn: bool,
    probability: f64,
    // Output noise.
    missing: [bool; 5],
    usage_outlier: bool,
    fee_outlier: bool,
}

struct Event {
    offset_secs: i64,
    kind: &'static str,
    value: f64,
}

/// Everything shared by all rows: parameters, snapshot days, calibrated intercept.
struct Context<'a> {
    params: &'a SynthParams,
    base: Rng,
    snapshots: Vec<i64>,
    intercept: f64,
    referral_weights: [f64; N_CAMPAIGNS],
}

impl<'a> Context<'a> {
    fn new(params: &'a SynthParams) -> Result<Self> {
        params.validate()?;
        let (y, m, d) = civil_from_days(params.start_date_days);
        let snapshots = (0..i64::from(params.snapshot_months))
            .map(|k| {
                let months = y * 12 + i64::from(m) - 1 + k;
                let (yy, mm) = (months.div_euclid(12), (months.rem_euclid(12) + 1) as u32);
                days_from_civil(yy, mm, d.min(days_in_month(yy, mm)))
            })
            .collect();
        let mut referral_weights = [0.0; N_CAMPAIGNS];
        for (k, w) in referral_weights.iter_mut().enumerate() {
            *w = 1.0 / (k as f64 + 1.0);
        }
        let mut ctx = Context {
            params,
            base: Rng::new(params.seed),
            snapshots,
            intercept: 0.0,
            referral_weights,
        };
        ctx.intercept = ctx.calibrate();
        Ok(ctx)
    }

    /// Bisection on the intercept so the pilot sample's mean churn probability hits the target.
    fn calibrate(&self) -> f64 {
        let pilot_params = SynthParams {
            drift: 0.0,
            ..self.params.clone()
        };
        let pilot = Rng::new(PILOT_SEED);
        let risks: Vec<f64> = (0..PILOT_SIZE)
            .map(|i| self.latent(&pilot_params, &mut pilot.fork(i)).1)
            .collect();
        let (mut lo, mut hi) = (-30.0, 30.0);
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            let rate = risks.iter().map(|r| sigmoid(r + mid)).sum::<f64>() / risks.len() as f64;
            if rate < self.params.churn_rate_target {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        0.5 * (lo + hi)
    }

    fn customer(&self, i: usize) -> Customer {
        let mut rng = self.base.fork(i as u64);
        let (mut c, risk) = self.latent(self.params, &mut rng);
        c.probability = sigmoid(self.intercept + risk);
        c.churn = rng.chance(c.probability);
        let p = self.params;
        for (k, m) in c.missing.iter_mut().enumerate() {
            // Index 2 is engagement_score, whose missing rate drift raises.
            let rate = if k == 2 {
                (p.missing_rate + 0.25 * p.drift).min(1.0)
            } else {
                p.missing_rate
            };
            *m = rng.chance(rate);
        }
        if !rng.chance(0.6) || rng.chance(p.missing_rate) {
            c.nps = None;
        }
        c.usage_outlier = rng.chance(p.outlier_rate);
        c.fee_outlier = rng.chance(p.outlier_rate);
        c
    }

    /// Draws a customer's clean values and returns them with the risk score (logit without
    /// intercept). Label and output noise are drawn afterwards by [`Context::customer`].
    fn latent(&self, p: &SynthParams, r: &mut Rng) -> (Customer, f64) {
        let snapshot = self.snapshots[r.below(self.snapshots.len())];
        let tenure = if r.chance(0.14) {
            r.below(3) as u32
        } else {
            (3.0 + expo(r) * 22.0).min(119.0) as u32
        };
        let days_active = i64::from(tenure) * 30 + 1 + r.below(29) as i64;
        let signup = snapshot - days_active;
        let age = libm::round(42.0 + 14.0 * r.normal()).clamp(18.0, 85.0) as u32;
        let gender = r.weighted_index(&GENDER_WEIGHTS);
        // A drifted level only relabels the customer's base draw: fee, devices, usage level,
        // autopay and payment delays follow the base draw, so the columns the module doc calls
        // unchanged keep their distribution exactly. Without drift the draws are the same as if
        // there were no drifted levels at all.
        let overseas = r.chance(0.10 * p.drift);
        let base_region = r.weighted_index(&REGION_WEIGHTS);
        let region = (!overseas).then_some(base_region);
        let student = r.chance(0.12 * p.drift);
        let base_plan = r.weighted_index(&PLAN_WEIGHTS);
        let plan = if student { STUDENT } else { base_plan };
        let annual = r.chance(0.12 + 0.3 * (f64::from(tenure) / 24.0).min(1.0));
        let gift_card = r.chance(0.25 * p.drift);
        let base_payment = r.weighted_index(&PAYMENT_WEIGHTS);
        let payment = if gift_card { GIFT_CARD } else { base_payment };
        let autopay =
            base_payment != GIFT_CARD && r.chance(if base_payment == 2 { 0.6 } else { 0.8 });
        let discount = if r.chance(if tenure < 3 { 0.5 } else { 0.28 }) {
            DISCOUNTS[r.weighted_index(&DISCOUNT_WEIGHTS)]
        } else {
            0
        };
        let fee = PLAN_FEE[base_plan]
            * REGION_PRICE[base_region]
            * (1.0 - f64::from(discount) / 100.0)
            * if annual { 0.85 } else { 1.0 };
        let devices = match base_plan {
            3 => 2 + r.below(5),
            2 => 1 + r.below(4),
            _ => 1 + r.below(3),
        } as u32;

        // Activity: a base rate of hours per day, a trend (recent rate relative to the base) and
        // a typical session length; sessions are Poisson per window, limited to days since signup.
        let daily = libm::exp(libm::log(0.9) + 0.55 * r.normal())
            * PLAN_USAGE[base_plan]
            * (1.0 + 0.08 * (f64::from(devices) - 1.0));
        let declining = r.chance(0.22);
        let trend = if declining {
            0.05 + 0.55 * r.next_f64()
        } else {
            libm::exp(0.15 * r.normal())
        };
        let trend_7d = trend * libm::exp(0.3 * r.normal()) * if declining { 0.7 } else { 1.0 };
        let session_len = libm::exp(libm::log(0.8) + 0.3 * r.normal());
        let usage_scale = 1.0 - 0.6 * p.drift;
        let windows = window_lengths(days_active);
        let rates = [daily * trend_7d, daily * trend, daily];
        let mut sessions = [0u32; 3];
        let mut hours = [0.0; 3];
        for k in 0..3 {
            sessions[k] = poisson(r, rates[k] * windows[k] / session_len);
            hours[k] =
                f64::from(sessions[k]) * session_len * libm::exp(0.1 * r.normal()) * usage_scale;
        }
        let (last_login_secs, days_since_last_login) = last_login(r, &sessions, days_active);
        let sessions_30d = sessions[0] + sessions[1];
        let engagement = (100.0
            * sigmoid(
                0.9 * libm::log(daily / 0.9)
                    + 0.5 * libm::log((f64::from(sessions_30d) + 1.0) / 15.0)
                    + 0.8 * (trend - 1.0)
                    + 0.5 * r.normal(),
            ))
        .clamp(0.0, 100.0);
        let tickets = poisson(
            r,
            0.35 + if declining { 0.5 } else { 0.0 } + if devices > 3 { 0.25 } else { 0.0 },
        );
        let delays = poisson(
            r,
            0.2 * PAYMENT_DELAY_RATE[base_payment] * if autopay { 1.0 } else { 1.5 },
        );
        let plan_changes = poisson(r, if tenure < 12 { 0.55 } else { 0.25 });
        let referral = r.weighted_index(&self.referral_weights);
        let nps =
            (7.5 - if tickets >= 2 && delays >= 1 {
                1.5
            } else {
                0.0
            } - 0.8 * f64::from(delays.min(3))
                + 2.0 * (engagement - 50.0) / 50.0
                + 1.2 * r.normal())
            .clamp(0.0, 10.0);

        // The risk score: interactions and thresholds on clean values (see the module doc).
        let h7 = hours[0] / 7.0;
        let h90 = (hours[0] + hours[1] + hours[2]) / 90.0;
        let ratio = if h90 > 0.0 { h7 / h90 } else { 0.0 };
        let decline = ((0.7 - ratio) / 0.6).clamp(0.0, 1.0);
        let light_use = ((0.5 - h90) / 0.5).clamp(0.0, 1.0);
        let monthly = !annual;
        let young_old = ((f64::from(age) - 45.0) / 25.0) * ((f64::from(age) - 45.0) / 25.0);
        let mut risk = decline * if monthly { 2.4 } else { 0.8 } + 0.8 * light_use;
        if tickets >= 2 && delays >= 1 {
            risk += 1.6;
        }
        risk += 0.08 * f64::from(tickets) + 0.25 * f64::from(delays.min(3));
        if tenure < 3 && monthly {
            risk += 1.3;
        }
        if fee > 15.0 && engagement < 40.0 {
            risk += 1.2;
        }
        if payment == GIFT_CARD {
            risk += 0.9;
        }
        risk += 0.9 * young_old.min(1.5);
        risk -= 0.025 * (engagement - 50.0);
        risk -= 0.5 * libm::log(1.0 + f64::from(tenure) / 12.0);
        if annual {
            risk -= 0.6;
        }
        if autopay {
            risk -= 0.3;
        }
        if plan_changes >= 2 {
            risk += 0.4;
        }
        if BAD_CAMPAIGNS.contains(&(referral + 1)) {
            risk += 0.5;
        }

        let customer = Customer {
            snapshot,
            signup,
            age,
            gender,
            region,
            plan,
            annual,
            payment,
            fee,
            tenure,
            autopay,
            sessions,
            hours,
            last_login_secs,
            days_since_last_login,
            engagement,
            devices,
            tickets,
            delays,
            plan_changes,
            discount,
            referral,
            nps: Some(libm::round(nps) as u32),
            churn: false,
            probability: 0.0,
            missing: [false; 5],
            usage_outlier: false,
            fee_outlier: false,
        };
        (customer, risk)
    }

    fn write_row(&self, index: usize, c: &Customer, buf: &mut String) {
        let [miss_age, miss_gender, miss_engagement, miss_login, miss_referral] = c.missing;
        let usage = if c.usage_outlier { 20.0 } else { 1.0 };
        push_id(buf, index);
        buf.push(',');
        push_date(buf, c.snapshot);
        buf.push(',');
        push_date(buf, c.signup);
        buf.push(',');
        if !miss_age {
            push_num(buf, f64::from(c.age));
        }
        buf.push(',');
        if !miss_gender {
            buf.push_str(GENDERS[c.gender]);
        }
        buf.push(',');
        buf.push_str(c.region.map_or(DRIFT_REGION, |g| REGIONS[g]));
        buf.push(',');
        buf.push_str(PLANS[c.plan]);
        buf.push(',');
        buf.push_str(if c.annual { "annual" } else { "monthly" });
        buf.push(',');
        buf.push_str(PAYMENTS[c.payment]);
        buf.push(',');
        push_num(buf, c.fee * if c.fee_outlier { 10.0 } else { 1.0 });
        buf.push(',');
        push_num(buf, f64::from(c.tenure));
        buf.push(',');
        buf.push_str(yes_no(c.autopay));
        buf.push(',');
        push_num(buf, usage * c.hours[0]);
        buf.push(',');
        push_num(buf, usage * (c.hours[0] + c.hours[1]));
        buf.push(',');
        push_num(buf, usage * (c.hours[0] + c.hours[1] + c.hours[2]));
        buf.push(',');
        push_num(buf, f64::from(c.sessions[0] + c.sessions[1]));
        buf.push(',');
        if !miss_login {
            push_num(buf, c.days_since_last_login as f64);
        }
        buf.push(',');
        if !miss_engagement {
            push_num(buf, libm::round(c.engagement * 10.0) / 10.0);
        }
        buf.push(',');
        push_num(buf, f64::from(c.devices));
        buf.push(',');
        push_num(buf, f64::from(c.tickets));
        buf.push(',');
        push_num(buf, f64::from(c.delays));
        buf.push(',');
        push_num(buf, f64::from(c.plan_changes));
        buf.push(',');
        push_num(buf, f64::from(c.discount));
        buf.push(',');
        if !miss_referral {
            let _ = write!(buf, "campaign_{:02}", c.referral + 1);
        }
        buf.push(',');
        if let Some(nps) = c.nps {
            push_num(buf, f64::from(nps));
        }
        buf.push(',');
        buf.push_str(yes_no(c.churn));
    }
}

impl Context<'_> {
    /// Fills `events` with customer `i`'s event log, as offsets in seconds from the snapshot
    /// moment, sorted by time.
    fn customer_events(&self, i: usize, c: &Customer, events: &mut Vec<Event>) {
        events.clear();
        let mut r = self.base.fork(i as u64).fork(EVENT_STREAM);
        let days_active = c.snapshot - c.signup;
        let lengths = window_lengths(days_active);
        let mut start = 0.0;
        for k in 0..3 {
            let n = c.sessions[k];
            let (lo, hi) = (secs(start), secs(start + lengths[k]));
            start += WINDOWS[k];
            if n == 0 {
                continue;
            }
            let per_session = c.hours[k] / f64::from(n);
            // The most recent session of the most recent active window is the last login.
            let mut remaining = n;
            let mut lo = lo;
            if let Some(last) = c.last_login_secs.filter(|&s| s >= lo && s < hi) {
                push_session(events, -last, per_session);
                remaining -= 1;
                lo = last;
            }
            for _ in 0..remaining {
                push_session(events, -uniform_secs(&mut r, lo, hi), per_session);
            }
        }
        // Logins older than 90 days are not sessions the customer table counts.
        if let Some(last) = c.last_login_secs.filter(|&s| s >= secs(90.0)) {
            push_session(events, -last, 0.0);
        }
        let since = |days: f64| secs(days.min(days_active as f64));
        for _ in 0..c.tickets {
            let t = uniform_secs(&mut r, 1, since(90.0));
            events.push(event(-t, "support_ticket", 1.0));
        }
        for _ in 0..c.delays {
            let t = uniform_secs(&mut r, 1, since(182.0));
            events.push(event(-t, "payment_failed", c.fee));
        }
        for _ in 0..c.plan_changes {
            let t = uniform_secs(&mut r, 1, since(365.0));
            let up = if r.chance(0.5) { 1.0 } else { -1.0 };
            events.push(event(-t, "plan_change", up));
        }

        // The 30 days after the snapshot: churners fade out, others carry on. Only a leaky
        // (not point-in-time) aggregation would see these.
        let sessions_30d = c.sessions[0] + c.sessions[1];
        let per_session = if sessions_30d > 0 {
            (c.hours[0] + c.hours[1]) / f64::from(sessions_30d)
        } else {
            0.5
        };
        let keep_on = if c.churn { 0.15 } else { 1.0 };
        let after = poisson(&mut r, f64::from(sessions_30d) * keep_on);
        let month = secs(30.0);
        for _ in 0..after {
            push_session(events, uniform_secs(&mut r, 1, month), per_session);
        }
        if r.chance(if c.churn { 0.4 } else { 0.1 }) {
            let t = uniform_secs(&mut r, 1, month);
            events.push(event(t, "support_ticket", 1.0));
        }
        if c.churn && r.chance(0.3) {
            let t = uniform_secs(&mut r, 1, month);
            events.push(event(t, "payment_failed", c.fee));
        }
        events.sort_by_key(|e| e.offset_secs);
    }
}

/// Nominal lengths in days of the three usage windows, most recent first.
const WINDOWS: [f64; 3] = [7.0, 23.0, 60.0];

/// The part of each usage window after signup, in days.
fn window_lengths(days_active: i64) -> [f64; 3] {
    let d = days_active as f64;
    let mut start = 0.0;
    let mut out = [0.0; 3];
    for (o, w) in out.iter_mut().zip(WINDOWS) {
        *o = (d - start).clamp(0.0, w);
        start += w;
    }
    out
}

/// Seconds before the snapshot of the last login, and whole days since it (or since signup for
/// a customer who never logged in after signing up).
fn last_login(r: &mut Rng, sessions: &[u32; 3], days_active: i64) -> (Option<i64>, i64) {
    let lengths = window_lengths(days_active);
    let mut start = 0.0;
    for k in 0..3 {
        if sessions[k] > 0 {
            // The earliest of n uniform times: its distance from the window's start.
            let n = f64::from(sessions[k]);
            let ago = start + lengths[k] * (1.0 - libm::pow(r.next_f64(), 1.0 / n));
            let s = secs(ago).max(1);
            return (Some(s), s / SECS_PER_DAY);
        }
        start += WINDOWS[k];
    }
    if days_active > 90 {
        let ago = 90.0 + (60.0 * expo(r)).min((days_active - 90) as f64);
        let s = secs(ago).max(secs(90.0));
        (Some(s), s / SECS_PER_DAY)
    } else {
        (None, days_active)
    }
}

fn secs(days: f64) -> i64 {
    libm::floor(days * SECS_PER_DAY as f64) as i64
}

/// A uniform whole second in `[lo, hi)` (just `lo` when the range is empty).
fn uniform_secs(r: &mut Rng, lo: i64, hi: i64) -> i64 {
    if hi > lo {
        lo + r.below((hi - lo) as usize) as i64
    } else {
        lo
    }
}

fn event(offset_secs: i64, kind: &'static str, value: f64) -> Event {
    Event {
        offset_secs,
        kind,
        value,
    }
}

fn push_session(events: &mut Vec<Event>, offset_secs: i64, hours: f64) {
    events.push(event(offset_secs, "login", 1.0));
    if hours > 0.0 {
        events.push(event(offset_secs, "play", hours));
    }
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + libm::exp(-z))
}

/// A standard exponential draw.
fn expo(r: &mut Rng) -> f64 {
    -libm::log(1.0 - r.next_f64())
}

/// A Poisson draw: exact (Knuth) for small means, normal approximation for large ones.
fn poisson(r: &mut Rng, mean: f64) -> u32 {
    if mean <= 0.0 {
        return 0;
    }
    if mean > 30.0 {
        return libm::round(mean + libm::sqrt(mean) * r.normal()).max(0.0) as u32;
    }
    let limit = libm::exp(-mean);
    let mut k = 0;
    let mut prod = r.next_f64();
    while prod > limit {
        k += 1;
        prod *= r.next_f64();
    }
    k
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn push_id(buf: &mut String, index: usize) {
    let _ = write!(buf, "C{:07}", index + 1);
}

/// Writes `v` rounded to at most two decimals, without trailing zeros.
fn push_num(buf: &mut String, v: f64) {
    let mut cents = libm::round(v * 100.0) as i64;
    if cents < 0 {
        buf.push('-');
        cents = -cents;
    }
    let _ = write!(buf, "{}", cents / 100);
    let frac = cents % 100;
    if frac != 0 {
        if frac % 10 == 0 {
            let _ = write!(buf, ".{}", frac / 10);
        } else {
            let _ = write!(buf, ".{frac:02}");
        }
    }
}

fn push_date(buf: &mut String, days: i64) {
    let (y, m, d) = civil_from_days(days);
    let _ = write!(buf, "{y:04}-{m:02}-{d:02}");
}

fn push_timestamp(buf: &mut String, secs: i64) {
    push_date(buf, secs.div_euclid(SECS_PER_DAY));
    let s = secs.rem_euclid(SECS_PER_DAY);
    let _ = write!(buf, "T{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Hinnant's civil_from_days).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Number of days in a month of the proleptic Gregorian calendar.
pub(crate) fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::table::parse_number;
    use alloc::format;
    use alloc::string::ToString;

    fn csv(params: &SynthParams) -> String {
        let mut s = String::new();
        generate_csv(params, &mut |chunk| s.push_str(chunk)).unwrap();
        s
    }

    fn col(t: &Table, name: &str) -> usize {
        t.column_index(name).unwrap()
    }

    fn nums(t: &Table, name: &str) -> Vec<f64> {
        let c = col(t, name);
        (0..t.n_rows())
            .filter_map(|r| parse_number(t.raw(r, c)))
            .collect()
    }

    fn mean(xs: &[f64]) -> f64 {
        xs.iter().sum::<f64>() / xs.len() as f64
    }

    fn share(t: &Table, name: &str, value: &str) -> f64 {
        let c = col(t, name);
        (0..t.n_rows()).filter(|&r| t.raw(r, c) == value).count() as f64 / t.n_rows() as f64
    }

    /// Rank AUC with tied scores counted as half.
    fn auc(scores: &[f64], labels: &[bool]) -> f64 {
        let mut idx: Vec<usize> = (0..scores.len()).collect();
        idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
        let (mut rank_sum, mut i) = (0.0, 0);
        while i < idx.len() {
            let mut j = i;
            while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
                j += 1;
            }
            let avg = (i + j) as f64 / 2.0 + 1.0;
            rank_sum += avg * idx[i..=j].iter().filter(|&&k| labels[k]).count() as f64;
            i = j + 1;
        }
        let pos = labels.iter().filter(|&&l| l).count() as f64;
        let neg = labels.len() as f64 - pos;
        (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
    }

    fn churned(t: &Table) -> Vec<bool> {
        let c = col(t, "churn");
        (0..t.n_rows()).map(|r| t.raw(r, c) == "yes").collect()
    }

    #[test]
    fn civil_dates_round_trip_and_known_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 2, 29), 11_016);
        assert_eq!(days_from_civil(2025, 1, 31), 20_119);
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(20_119), (2025, 1, 31));
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert!((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m));
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_in_month(1900, 2), 28);
        assert_eq!(days_in_month(2000, 2), 29);
        assert_eq!(days_in_month(2024, 2), 29);
        let mut s = String::new();
        push_timestamp(&mut s, 20_119 * SECS_PER_DAY - 1);
        assert_eq!(s, "2025-01-30T23:59:59");
    }

    #[test]
    fn numbers_are_compact() {
        let mut s = String::new();
        for v in [3.0, 3.5, 3.456, -1.0, 0.004, 12.10, 7.99] {
            push_num(&mut s, v);
            s.push(' ');
        }
        assert_eq!(s, "3 3.5 3.46 -1 0 12.1 7.99 ");
    }

    #[test]
    fn deterministic_and_row_independent_of_n() {
        let p = SynthParams::default().with_n_customers(300).with_seed(7);
        let a = csv(&p);
        assert_eq!(a, csv(&p));
        assert_ne!(a, csv(&p.clone().with_seed(8)));
        let big = csv(&p.clone().with_n_customers(5_000));
        let small_lines: Vec<&str> = a.lines().collect();
        assert_eq!(small_lines.len(), 301);
        assert_eq!(small_lines[0], column_names().join(","));
        assert!(big.lines().zip(&small_lines).all(|(x, y)| x == *y));
        // The table holds the same cells as the CSV.
        let t = generate_table(&p).unwrap();
        for (r, line) in small_lines[1..].iter().enumerate() {
            let row: Vec<&str> = (0..t.n_cols()).map(|c| t.raw(r, c)).collect();
            assert_eq!(row.join(","), *line);
        }
    }

    #[test]
    fn columns_present_and_in_documented_ranges() {
        let p = SynthParams::default().with_n_customers(5_000).with_seed(3);
        let t = generate_table(&p).unwrap();
        assert_eq!(t.names(), column_names());
        let snapshots: Vec<i64> = Context::new(&p).unwrap().snapshots;
        assert_eq!(snapshots.len(), 12);
        assert_eq!(civil_from_days(snapshots[1]), (2025, 2, 28));
        assert_eq!(civil_from_days(snapshots[11]), (2025, 12, 31));
        let mut seen_snapshots = [false; 12];
        let mut ids = hashbrown::HashSet::new();
        let get = |r: usize, name: &str| t.raw(r, col(&t, name));
        let num = |r: usize, name: &str| parse_number(get(r, name));
        for r in 0..t.n_rows() {
            assert!(ids.insert(String::from(get(r, "customer_id"))));
            let snap = parse_date(get(r, "snapshot_date"));
            let k = snapshots.iter().position(|&s| s == snap).unwrap();
            seen_snapshots[k] = true;
            let signup = parse_date(get(r, "signup_date"));
            assert!(signup < snap);
            let tenure = num(r, "tenure_months").unwrap();
            assert_eq!(tenure, ((snap - signup) / 30) as f64);
            if let Some(age) = num(r, "age") {
                assert!((18.0..=85.0).contains(&age));
            }
            let level = |name: &str, levels: &[&str]| {
                let v = get(r, name);
                assert!(levels.contains(&v), "{name}: {v}");
            };
            level("gender", &["", "female", "male", "other"]);
            level("region", &REGIONS);
            level("plan", &PLANS[..4]);
            level("billing_cycle", &["monthly", "annual"]);
            level("payment_method", &PAYMENTS);
            level("autopay", &["yes", "no"]);
            level("churn", &["yes", "no"]);
            assert!(num(r, "monthly_fee").unwrap() > 0.0);
            let u7 = num(r, "usage_hours_7d").unwrap();
            let u30 = num(r, "usage_hours_30d").unwrap();
            let u90 = num(r, "usage_hours_90d").unwrap();
            assert!(0.0 <= u7 && u7 <= u30 + 0.01 && u30 <= u90 + 0.01);
            assert!(num(r, "sessions_30d").unwrap() >= 0.0);
            if let Some(e) = num(r, "engagement_score") {
                assert!((0.0..=100.0).contains(&e));
            }
            if let Some(n) = num(r, "nps_score") {
                assert!((0.0..=10.0).contains(&n));
            }
            let devices = num(r, "devices").unwrap();
            assert!((1.0..=6.0).contains(&devices));
            let discount = num(r, "discount_pct").unwrap() as u32;
            assert!(discount == 0 || DISCOUNTS.contains(&discount));
            let referral = get(r, "referral_source");
            assert!(referral.is_empty() || referral.starts_with("campaign_"));
        }
        assert!(seen_snapshots.iter().all(|&s| s));
        let campaigns: hashbrown::HashSet<&str> =
            t.column(col(&t, "referral_source")).iter().collect();
        assert!(campaigns.len() >= 38, "{}", campaigns.len());
    }

    fn parse_date(s: &str) -> i64 {
        let p: Vec<u32> = s.split('-').map(|x| x.parse().unwrap()).collect();
        days_from_civil(i64::from(p[0]), p[1], p[2])
    }

    #[test]
    fn churn_rate_missing_rates_and_separability() {
        let p = SynthParams::default()
            .with_n_customers(20_000)
            .with_seed(11);
        let t = generate_table(&p).unwrap();
        let y = churned(&t);
        let rate = y.iter().filter(|&&c| c).count() as f64 / y.len() as f64;
        assert!((0.12..=0.18).contains(&rate), "churn rate {rate}");
        for name in [
            "age",
            "gender",
            "engagement_score",
            "days_since_last_login",
            "referral_source",
        ] {
            let m = share(&t, name, "");
            assert!((0.05..=0.10).contains(&m), "{name}: {m}");
        }
        let nps_missing = share(&t, "nps_score", "");
        assert!((0.35..=0.5).contains(&nps_missing), "{nps_missing}");
        assert_eq!(share(&t, "plan", ""), 0.0);

        let ctx = Context::new(&p).unwrap();
        let probs: Vec<f64> = (0..t.n_rows())
            .map(|i| ctx.customer(i).probability)
            .collect();
        let bayes = auc(&probs, &y);
        assert!((0.84..=0.93).contains(&bayes), "Bayes AUC {bayes}");
        // No single numeric column comes close to the label on its own.
        for name in column_names() {
            let c = col(&t, name);
            let xs: Vec<f64> = (0..t.n_rows())
                .map(|r| parse_number(t.raw(r, c)).unwrap_or(-1.0))
                .collect();
            if xs.iter().all(|&x| x == -1.0) {
                continue;
            }
            let a = auc(&xs, &y);
            let a = a.max(1.0 - a);
            assert!(a < 0.78, "{name} alone has AUC {a}");
        }
    }

    #[test]
    fn label_follows_the_documented_interactions() {
        let p = SynthParams::default().with_n_customers(20_000).with_seed(5);
        let t = generate_table(&p).unwrap();
        let y = churned(&t);
        let rate = |keep: &dyn Fn(usize) -> bool| {
            let rows: Vec<usize> = (0..t.n_rows()).filter(|&r| keep(r)).collect();
            assert!(rows.len() > 100, "segment too small: {}", rows.len());
            rows.iter().filter(|&&r| y[r]).count() as f64 / rows.len() as f64
        };
        let get = |r: usize, name: &str| t.raw(r, col(&t, name));
        let num = |r: usize, name: &str| parse_number(get(r, name)).unwrap_or(f64::NAN);
        // Tickets alone barely matter; with a payment delay they do.
        let tickets_only =
            rate(&|r| num(r, "support_tickets_90d") >= 2.0 && num(r, "payment_delays_6m") == 0.0);
        let tickets_delays =
            rate(&|r| num(r, "support_tickets_90d") >= 2.0 && num(r, "payment_delays_6m") >= 1.0);
        assert!(
            tickets_delays > 1.8 * tickets_only,
            "{tickets_delays} vs {tickets_only}"
        );
        // New customers churn more on monthly than on annual billing.
        let new_monthly =
            rate(&|r| num(r, "tenure_months") < 3.0 && get(r, "billing_cycle") == "monthly");
        let old_annual =
            rate(&|r| num(r, "tenure_months") >= 12.0 && get(r, "billing_cycle") == "annual");
        assert!(
            new_monthly > 3.0 * old_annual,
            "{new_monthly} vs {old_annual}"
        );
        // A declining trend on monthly billing is the high-risk segment.
        let declining =
            |r: usize| num(r, "usage_hours_7d") / 7.0 < 0.3 * num(r, "usage_hours_90d") / 90.0;
        let decl_monthly = rate(&|r| declining(r) && get(r, "billing_cycle") == "monthly");
        let decl_annual = rate(&|r| declining(r) && get(r, "billing_cycle") == "annual");
        assert!(decl_monthly > 0.4, "{decl_monthly}");
        assert!(
            decl_monthly > 1.5 * decl_annual,
            "{decl_monthly} vs {decl_annual}"
        );
        // Age is U-shaped.
        let young = rate(&|r| num(r, "age") < 25.0);
        let middle = rate(&|r| (40.0..50.0).contains(&num(r, "age")));
        let old = rate(&|r| num(r, "age") > 70.0);
        assert!(
            young > 1.3 * middle && old > 1.3 * middle,
            "{young} {middle} {old}"
        );
    }

    #[test]
    fn drift_shifts_the_documented_columns_only() {
        let base = SynthParams::default().with_n_customers(20_000).with_seed(9);
        let a = generate_table(&base).unwrap();
        let b = generate_table(&base.clone().with_drift(1.0)).unwrap();
        for name in ["usage_hours_7d", "usage_hours_30d", "usage_hours_90d"] {
            let ratio = mean(&nums(&b, name)) / mean(&nums(&a, name));
            assert!((0.3..0.5).contains(&ratio), "{name}: {ratio}");
        }
        let gift =
            share(&b, "payment_method", "gift_card") - share(&a, "payment_method", "gift_card");
        assert!((0.2..0.3).contains(&gift), "{gift}");
        assert_eq!(share(&a, "plan", "student"), 0.0);
        assert!((0.1..0.14).contains(&share(&b, "plan", "student")));
        assert_eq!(share(&a, "region", DRIFT_REGION), 0.0);
        assert!((0.08..0.12).contains(&share(&b, "region", DRIFT_REGION)));
        let miss = share(&b, "engagement_score", "") - share(&a, "engagement_score", "");
        assert!((0.2..0.3).contains(&miss), "{miss}");
        assert!(share(&b, "churn", "yes") > share(&a, "churn", "yes") + 0.02);
        for name in [
            "age",
            "tenure_months",
            "sessions_30d",
            "days_since_last_login",
            "engagement_score",
            "support_tickets_90d",
            "plan_changes_12m",
            "discount_pct",
            "devices",
            "monthly_fee",
            "payment_delays_6m",
        ] {
            let (ma, mb) = (mean(&nums(&a, name)), mean(&nums(&b, name)));
            assert!(
                (ma - mb).abs() < 0.05 * ma.abs().max(0.2),
                "{name}: {ma} vs {mb}"
            );
        }
        for (name, value) in [
            ("gender", "female"),
            ("billing_cycle", "annual"),
            ("autopay", "yes"),
            ("referral_source", "campaign_01"),
            ("nps_score", ""),
            ("age", ""),
        ] {
            let d = share(&a, name, value) - share(&b, name, value);
            assert!(d.abs() < 0.02, "{name}={value}: {d}");
        }
    }

    #[test]
    fn monitor_flags_exactly_the_drifted_columns_at_half_strength() {
        use crate::data::schema::{infer, InferOptions};
        use crate::features::{FeatureParams, Target};
        use crate::monitor::{CurrentWindow, TableRows, Verdict};
        use crate::serve::drift::Reference;

        let reference_table =
            generate_table(&SynthParams::default().with_n_customers(20_000).with_seed(1)).unwrap();
        let current = generate_table(
            &SynthParams::default()
                .with_n_customers(20_000)
                .with_seed(2)
                .with_drift(0.5),
        )
        .unwrap();
        let schema = infer(&reference_table, &InferOptions::default())
            .unwrap()
            .schema;
        let y = crate::train::labels(&reference_table, &schema).unwrap();
        let (pipeline, _) = FeatureParams::for_target(Target::Trees)
            .fit_transform(&reference_table, &schema, &y)
            .unwrap();
        let reference = Reference::build(&pipeline, &reference_table, &y).unwrap();
        let mut window = CurrentWindow::for_pipeline("m-synth", &pipeline, &reference).unwrap();
        let mut rows = TableRows::new(&pipeline, &current).unwrap();
        for r in 0..current.n_rows() {
            rows.observe(&mut window, r, None).unwrap();
        }
        let report = window.report(&reference).unwrap();

        assert_eq!(
            report.columns.len(),
            COLUMNS.len() - 2,
            "all but id and label"
        );
        for column in &report.columns {
            if drifted_columns().contains(&column.name.as_str()) {
                assert_ne!(column.verdict, Verdict::Ok, "{column:#?}");
            } else {
                assert_eq!(column.verdict, Verdict::Ok, "{column:#?}");
                // Not merely below the flag: no more movement than sampling noise.
                let psi = column.psi.unwrap_or(0.0);
                assert!(psi < 0.01, "{}: PSI {psi}", column.name);
                assert!(column.missing.change.abs() < 0.01, "{column:#?}");
            }
        }
    }

    /// `table` with `edit(row, column, cell)` applied to every cell (`None` keeps the cell).
    fn edited(t: &Table, edit: impl Fn(usize, &str, &str) -> Option<String>) -> Table {
        let mut out = Table::new(t.names().to_vec()).unwrap();
        for r in 0..t.n_rows() {
            let cells: Vec<String> = t
                .names()
                .iter()
                .enumerate()
                .map(|(c, name)| {
                    let raw = t.raw(r, c);
                    edit(r, name, raw).unwrap_or_else(|| raw.to_string())
                })
                .collect();
            out.push_row(t.source_row(r), cells.iter().map(String::as_str))
                .unwrap();
        }
        out
    }

    #[test]
    fn monitor_flags_scaled_fees_and_usage_as_drift_at_100k() {
        use crate::data::schema::{infer, InferOptions};
        use crate::features::{FeatureParams, Target};
        use crate::monitor::{CurrentWindow, DriftReport, TableRows, Verdict};
        use crate::serve::drift::Reference;

        // `--drift` relabels categories and shrinks usage; fees and a re-mix of existing levels
        // are scaled here, on 100,000 customers a side, so noise is far below every threshold.
        let reference_table = generate_table(
            &SynthParams::default()
                .with_n_customers(100_000)
                .with_seed(1),
        )
        .unwrap();
        let fresh = generate_table(
            &SynthParams::default()
                .with_n_customers(100_000)
                .with_seed(2),
        )
        .unwrap();
        let schema = infer(&reference_table, &InferOptions::default())
            .unwrap()
            .schema;
        let y = crate::train::labels(&reference_table, &schema).unwrap();
        let (pipeline, _) = FeatureParams::for_target(Target::Trees)
            .fit_transform(&reference_table, &schema, &y)
            .unwrap();
        let reference = Reference::build(&pipeline, &reference_table, &y).unwrap();
        let report_of = |t: &Table| -> DriftReport {
            let mut window = CurrentWindow::for_pipeline("m-synth", &pipeline, &reference).unwrap();
            let mut rows = TableRows::new(&pipeline, t).unwrap();
            for r in 0..t.n_rows() {
                rows.observe(&mut window, r, None).unwrap();
            }
            window.report(&reference).unwrap()
        };
        let scaled = |fee: f64, usage: f64| {
            edited(&fresh, |r, name, raw| {
                let times = |k: f64| raw.parse::<f64>().ok().map(|v| format!("{}", v * k));
                match name {
                    "monthly_fee" => times(fee),
                    "usage_hours_30d" => times(usage),
                    // Every fifth card payer (by row, so independent of everything else)
                    // moves to paypal: card 55% -> 44%, paypal 25% -> 36%.
                    "payment_method" if raw == "card" && r % 5 == 0 => Some("paypal".into()),
                    _ => None,
                }
            })
        };
        let shifted = ["monthly_fee", "usage_hours_30d", "payment_method"];
        let check = |report: &DriftReport| {
            for column in &report.columns {
                let expected = if shifted.contains(&column.name.as_str()) {
                    Verdict::Drift
                } else {
                    Verdict::Ok
                };
                assert_eq!(column.verdict, expected, "{column:#?}");
            }
        };

        // The operator's case: prices 20% up, usage 40% down.
        check(&report_of(&scaled(1.2, 0.6)));
        // Half those sizes still move the mass a tenth of a standard deviation or more, while
        // PSI, blind to moves inside its decile bins, stays under its drift threshold: the
        // Wasserstein and Jensen-Shannon distances carry the verdict.
        let moderate = report_of(&scaled(1.1, 0.7));
        check(&moderate);
        for name in shifted {
            let c = moderate.columns.iter().find(|c| c.name == name).unwrap();
            let psi = c.psi.unwrap();
            assert!(psi < 0.25, "{name}: PSI {psi}");
            let distance = c.wasserstein.or(c.js_distance).unwrap();
            assert!(distance >= 0.1, "{name}: {distance}");
        }

        // No false alarm on the untouched batch, nor on small ones, whose effect sizes are
        // noisy enough to cross a threshold and only the tests' p-values hold them back.
        let calm = report_of(&fresh);
        assert!(
            calm.columns.iter().all(|c| c.verdict == Verdict::Ok),
            "{calm:#?}"
        );
        for seed in 10..30 {
            let small =
                generate_table(&SynthParams::default().with_n_customers(300).with_seed(seed))
                    .unwrap();
            let report = report_of(&small);
            assert!(
                report.columns.iter().all(|c| c.verdict == Verdict::Ok),
                "seed {seed}: {report:#?}"
            );
        }
    }

    #[test]
    fn bad_parameters_are_rejected() {
        let p = SynthParams::default().with_n_customers(10);
        for bad in [
            p.clone().with_missing_rate(1.5),
            p.clone().with_outlier_rate(f64::NAN),
            p.clone().with_drift(-0.1),
            p.clone().with_churn_rate_target(0.0),
            p.clone().with_snapshot_months(0),
            p.clone().with_start_date_days(i64::MAX),
        ] {
            let err = generate_table(&bad).unwrap_err();
            assert!(matches!(err, Error::InvalidParameter { .. }), "{err:?}");
        }
        let mut out = String::new();
        generate_csv(&p.clone().with_n_customers(0), &mut |s| out.push_str(s)).unwrap();
        assert_eq!(out.lines().count(), 1);
    }

    #[test]
    fn outliers_appear_at_the_outlier_rate() {
        let p = SynthParams::default()
            .with_n_customers(4_000)
            .with_outlier_rate(0.05);
        let t = generate_table(&p).unwrap();
        let fees = nums(&t, "monthly_fee");
        let big = fees.iter().filter(|&&f| f > 40.0).count() as f64 / fees.len() as f64;
        assert!((0.03..0.07).contains(&big), "{big}");
    }
}
