//! Probability calibration: a monotone map from a model's churn probabilities to probabilities
//! that match observed churn rates.
//!
//! Class weighting, boosting and bagging all distort probabilities while keeping their ranking
//! useful. A [`Calibrator`] repairs the scale: Platt scaling (a logistic curve on the model's
//! log-odds, two parameters, robust on small data) or isotonic regression (a free monotone step
//! function, needs more data).
//!
//! Fit on out-of-fold predictions: a calibrator fitted on the probabilities a model gives its
//! own training rows learns the model's overconfidence on data it has seen, not on new
//! customers. The caller produces those predictions (cross-validation) and passes them here.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};
use crate::model::{check_labels, check_weights, logit, sigmoid, softplus};
use crate::tagged::{self, Tagged};

/// Platt's Newton iterations stop after this many steps at the latest.
const PLATT_MAX_ITER: usize = 100;
/// Platt's Newton iterations stop when both gradient components are below this times the row
/// count (the gradient of the mean loss is negligible).
const PLATT_TOL: f64 = 1e-10;
/// Added to the Hessian's diagonal (as Lin, Lin and Weng do) so that constant scores, which
/// leave the slope unidentified, still give a solvable Newton system.
const PLATT_RIDGE: f64 = 1e-12;
/// Armijo constant of the line search.
const ARMIJO: f64 = 1e-4;
/// The line search gives up below this step length.
const MIN_STEP: f64 = 1e-10;
/// A Newton step whose predicted decrease of the summed loss is below this share of the loss
/// is within the rounding of the sum itself: when such a full step is not accepted, the fit has
/// converged as far as double precision can tell, and searching on would only halve the step
/// ~30 times per iteration up to `PLATT_MAX_ITER` (seconds on 100k rows, unresponsive to cancel).
const PLATT_NOISE: f64 = 1e-12;

/// A fitted probability map. [`Calibrator::apply`] is monotone (non-decreasing for isotonic and
/// for Platt with `a >= 0`) and maps `[0, 1]` into `[0, 1]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Calibrator {
    /// Probabilities are used as the model gives them.
    Identity,
    /// `sigmoid(a * logit(p) + b)`.
    Platt { a: f64, b: f64 },
    /// A piecewise-linear map through the points `(thresholds[i], values[i])`, with
    /// `thresholds` strictly increasing and `values` non-decreasing; constant beyond the ends.
    Isotonic {
        thresholds: Vec<f64>,
        values: Vec<f64>,
    },
}

// Read without serde's buffering (`crate::tagged`), like the artifact's other tagged enums.
tagged::deserialize_tagged!(Calibrator);

impl Tagged for Calibrator {
    const NAME: &'static str = "Calibrator";
    const TAG: &'static str = "method";
    const VARIANTS: &'static [&'static str] = &["identity", "platt", "isotonic"];

    fn read<'de, D: Deserializer<'de>>(
        index: usize,
        rest: D,
    ) -> core::result::Result<Self, D::Error> {
        struct Platt {
            a: f64,
            b: f64,
        }
        crate::map_struct!(Platt { a, b });

        struct Isotonic {
            thresholds: Vec<f64>,
            values: Vec<f64>,
        }
        crate::map_struct!(Isotonic { thresholds, values });

        Ok(match index {
            0 => {
                // serde ignored any other field of a unit variant; so does this.
                IgnoredAny::deserialize(rest)?;
                Calibrator::Identity
            }
            1 => {
                let Platt { a, b } = Platt::deserialize(rest)?;
                Calibrator::Platt { a, b }
            }
            _ => {
                let Isotonic { thresholds, values } = Isotonic::deserialize(rest)?;
                Calibrator::Isotonic { thresholds, values }
            }
        })
    }
}

impl Calibrator {
    /// The calibrated probability for a model probability `p`. Inputs of exactly 0 or 1 give
    /// finite, valid probabilities; `NaN` stays `NaN`.
    pub fn apply(&self, p: f64) -> f64 {
        match self {
            Calibrator::Identity => p,
            Calibrator::Platt { a, b } => sigmoid(a * logit(p) + b),
            Calibrator::Isotonic { thresholds, values } => interpolate(thresholds, values, p),
        }
    }
}

impl Calibrator {
    /// Checks a loaded calibrator: finite Platt parameters; for isotonic, equally long lists of
    /// at most `max_points` probabilities with both sorted ascending. Returns what is wrong with
    /// its field path under `calibration`.
    pub fn check(&self, max_points: usize) -> core::result::Result<(), String> {
        match self {
            Calibrator::Identity => Ok(()),
            Calibrator::Platt { a, b } => {
                for (name, x) in [("a", a), ("b", b)] {
                    if !x.is_finite() {
                        return Err(format!("{name} = {x} is not a finite number"));
                    }
                }
                Ok(())
            }
            Calibrator::Isotonic { thresholds, values } => {
                if thresholds.len() != values.len() {
                    return Err(format!(
                        "values: {} entries but `thresholds` has {}",
                        values.len(),
                        thresholds.len()
                    ));
                }
                if thresholds.len() > max_points {
                    return Err(format!(
                        "thresholds: {} points, more than the {max_points} allowed",
                        thresholds.len()
                    ));
                }
                for (name, xs) in [("thresholds", thresholds), ("values", values)] {
                    for (i, &x) in xs.iter().enumerate() {
                        if !(0.0..=1.0).contains(&x) {
                            return Err(format!(
                                "{name}[{i}] = {x} is not a probability in [0, 1]"
                            ));
                        }
                        if i > 0 && x < xs[i - 1] {
                            return Err(format!(
                                "{name}[{i}] = {x} is below {name}[{}] = {}: the list must be sorted ascending",
                                i - 1,
                                xs[i - 1]
                            ));
                        }
                    }
                }
                Ok(())
            }
        }
    }
}

fn interpolate(xs: &[f64], ys: &[f64], p: f64) -> f64 {
    if p.is_nan() {
        return p;
    }
    let n = xs.len().min(ys.len());
    let (xs, ys) = (&xs[..n], &ys[..n]);
    let above = xs.partition_point(|&t| t <= p);
    match (above.checked_sub(1), xs.get(above)) {
        // An empty map (only possible in a hand-made artifact) changes nothing.
        _ if n == 0 => p,
        (None, _) => ys[0],
        (Some(last), None) => ys[last],
        (Some(lo), Some(&x1)) => {
            let (x0, y0, y1) = (xs[lo], ys[lo], ys[above]);
            y0 + (p - x0) / (x1 - x0) * (y1 - y0)
        }
    }
}

/// Fits Platt scaling to model probabilities `scores` and labels `y` (0 or 1), following Platt
/// (1999) with the improvements of Lin, Lin and Weng (2007): targets smoothed to
/// `(n₊ + 1) / (n₊ + 2)` for churners and `1 / (n₋ + 2)` for the others (so a perfectly
/// separated calibration set still gives finite parameters), and Newton's method with a
/// backtracking line search. The fit is done on the log-odds of the scores.
pub fn fit_platt(scores: &[f64], y: &[f64]) -> Result<Calibrator> {
    fit_platt_counted(scores, y).map(|(calibrator, _)| calibrator)
}

/// [`fit_platt`] with the number of loss evaluations its line searches made (the fit's cost).
fn fit_platt_counted(scores: &[f64], y: &[f64]) -> Result<(Calibrator, usize)> {
    validate(scores, y, None)?;
    let n_pos = y.iter().filter(|&&v| v == 1.0).count() as f64;
    let n_neg = y.len() as f64 - n_pos;
    let hi = (n_pos + 1.0) / (n_pos + 2.0);
    let lo = 1.0 / (n_neg + 2.0);
    let data: Vec<(f64, f64)> = scores
        .iter()
        .zip(y)
        .map(|(&s, &label)| (logit(s), if label == 1.0 { hi } else { lo }))
        .collect();
    let loss = |a: f64, b: f64| -> f64 {
        data.iter()
            .map(|&(f, t)| {
                let z = a * f + b;
                t * softplus(-z) + (1.0 - t) * softplus(z)
            })
            .sum()
    };

    let (mut a, mut b) = (0.0, libm::log((n_pos + 1.0) / (n_neg + 1.0)));
    let mut current = loss(a, b);
    let mut evaluations = 1;
    for _ in 0..PLATT_MAX_ITER {
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, PLATT_RIDGE, 0.0, PLATT_RIDGE);
        for &(f, t) in &data {
            let p = sigmoid(a * f + b);
            let r = p - t;
            let c = p * (1.0 - p);
            ga += r * f;
            gb += r;
            haa += c * f * f;
            hab += c * f;
            hbb += c;
        }
        if ga.abs().max(gb.abs()) <= PLATT_TOL * data.len() as f64 {
            break;
        }
        let det = haa * hbb - hab * hab;
        if det.is_nan() || det <= 0.0 {
            break;
        }
        let da = -(hbb * ga - hab * gb) / det;
        let db = -(haa * gb - hab * ga) / det;
        let slope = ga * da + gb * db;
        if slope.is_nan() || slope >= 0.0 {
            break;
        }
        let mut t = 1.0;
        let mut accepted = false;
        while t >= MIN_STEP {
            let candidate = loss(a + t * da, b + t * db);
            evaluations += 1;
            if candidate <= current + ARMIJO * t * slope {
                a += t * da;
                b += t * db;
                current = candidate;
                accepted = true;
                break;
            }
            if t == 1.0 && -slope <= PLATT_NOISE * current {
                break;
            }
            t *= 0.5;
        }
        if !accepted {
            break;
        }
    }
    Ok((Calibrator::Platt { a, b }, evaluations))
}

/// Fits isotonic regression of `y` (0 or 1) on model probabilities `scores` by
/// pool-adjacent-violators, with optional non-negative per-row `weights`. Rows with equal
/// scores are pooled (they get one value), and rows with zero weight are ignored.
///
/// Values at the lowest or highest scores can be exactly 0 or 1 when those rows are all of one
/// class; clamp downstream if a log loss must stay finite.
pub fn fit_isotonic(scores: &[f64], y: &[f64], weights: Option<&[f64]>) -> Result<Calibrator> {
    validate(scores, y, weights)?;
    let weight = |i: usize| weights.and_then(|w| w.get(i)).copied().unwrap_or(1.0);
    let mut order: Vec<usize> = (0..scores.len()).filter(|&i| weight(i) > 0.0).collect();
    order.sort_by(|&i, &j| scores[i].total_cmp(&scores[j]));

    struct Block {
        lo: f64,
        hi: f64,
        sum_w: f64,
        sum_wy: f64,
    }
    // Rows with equal scores form one group before any pooling: a group that is only partly
    // seen must not take part in a merge.
    let mut groups: Vec<Block> = Vec::new();
    for i in order {
        let (s, w) = (scores[i], weight(i));
        match groups.last_mut() {
            Some(top) if top.hi == s => {
                top.sum_w += w;
                top.sum_wy += w * y[i];
            }
            _ => groups.push(Block {
                lo: s,
                hi: s,
                sum_w: w,
                sum_wy: w * y[i],
            }),
        }
    }
    // Pooled blocks; their means stay strictly increasing from bottom to top.
    let mut blocks: Vec<Block> = Vec::with_capacity(groups.len());
    for group in groups {
        blocks.push(group);
        while let [.., below, top] = blocks.as_slice() {
            // Compare means without dividing: pool while below.mean >= top.mean.
            if below.sum_wy * top.sum_w < top.sum_wy * below.sum_w {
                break;
            }
            if let Some(top) = blocks.pop() {
                if let Some(below) = blocks.last_mut() {
                    below.hi = top.hi;
                    below.sum_w += top.sum_w;
                    below.sum_wy += top.sum_wy;
                }
            }
        }
    }

    let (mut thresholds, mut values) = (Vec::new(), Vec::new());
    for block in &blocks {
        let mean = block.sum_wy / block.sum_w;
        thresholds.push(block.lo);
        values.push(mean);
        if block.hi > block.lo {
            thresholds.push(block.hi);
            values.push(mean);
        }
    }
    Ok(Calibrator::Isotonic { thresholds, values })
}

/// Checks lengths, that scores are probabilities, weights, and that both classes carry weight.
fn validate(scores: &[f64], y: &[f64], weights: Option<&[f64]>) -> Result<()> {
    let n = scores.len();
    if n == 0 {
        return Err(Error::EmptyInput);
    }
    if y.len() != n {
        return Err(Error::InvalidParameter {
            name: "y".into(),
            message: format!(
                "has {} labels for {n} scores; pass one label per score",
                y.len()
            ),
        });
    }
    if let Some((i, s)) = scores
        .iter()
        .enumerate()
        .find(|(_, s)| !(0.0..=1.0).contains(*s))
    {
        return Err(Error::InvalidParameter {
            name: "scores".into(),
            message: format!(
                "row {}: score {s} is not a probability in [0, 1]; pass the model's predicted probabilities",
                i + 1
            ),
        });
    }
    check_labels(y)?;
    if let Some(w) = weights {
        check_weights("weights", w, n)?;
        for class in [0.0, 1.0] {
            let total: f64 = w
                .iter()
                .zip(y)
                .filter(|(_, &l)| l == class)
                .map(|(v, _)| v)
                .sum();
            if total <= 0.0 {
                return Err(Error::InvalidParameter {
                    name: "weights".into(),
                    message: format!(
                        "every row of class {class} has zero weight; give some of them a positive weight"
                    ),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::linear::LogisticParams;
    use crate::model::ClassWeight;
    use crate::rng::Rng;
    use alloc::vec;
    use ndarray::Array2;
    use proptest::prelude::*;

    fn log_loss(probs: &[f64], y: &[f64]) -> f64 {
        let eps = 1e-15;
        let total: f64 = probs
            .iter()
            .zip(y)
            .map(|(&p, &t)| {
                let p = p.clamp(eps, 1.0 - eps);
                -(t * libm::log(p) + (1.0 - t) * libm::log(1.0 - p))
            })
            .sum();
        total / y.len() as f64
    }

    #[test]
    fn isotonic_reproduces_pav_by_hand() {
        let c = fit_isotonic(&[0.1, 0.2, 0.3, 0.4, 0.5], &[0.0, 1.0, 0.0, 1.0, 1.0], None).unwrap();
        assert_eq!(
            c,
            Calibrator::Isotonic {
                thresholds: vec![0.1, 0.2, 0.3, 0.4, 0.5],
                values: vec![0.0, 0.5, 0.5, 1.0, 1.0],
            }
        );
        assert_eq!(c.apply(0.05), 0.0);
        assert!((c.apply(0.15) - 0.25).abs() < 1e-12);
        assert!((c.apply(0.35) - 0.75).abs() < 1e-12);
        assert_eq!(c.apply(0.9), 1.0);

        // Weighted: 1 (w 1) then 0 (w 3) violate and pool to 1/4; input order is irrelevant.
        let w = fit_isotonic(&[0.3, 0.1, 0.2], &[1.0, 1.0, 0.0], Some(&[1.0, 1.0, 3.0])).unwrap();
        assert_eq!(
            w,
            Calibrator::Isotonic {
                thresholds: vec![0.1, 0.2, 0.3],
                values: vec![0.25, 0.25, 1.0],
            }
        );

        // Tied scores share one value even where their labels alone would be in order.
        let t = fit_isotonic(&[0.2, 0.2, 0.6, 0.6, 0.6], &[0.0, 1.0, 0.0, 1.0, 1.0], None).unwrap();
        assert_eq!(
            t,
            Calibrator::Isotonic {
                thresholds: vec![0.2, 0.6],
                values: vec![0.5, 2.0 / 3.0],
            }
        );
    }

    #[test]
    fn platt_recovers_a_logistic_link() {
        let mut rng = Rng::new(31);
        let (a, b) = (0.6, -1.0);
        let n = 20_000;
        let mut scores = Vec::with_capacity(n);
        let mut y = Vec::with_capacity(n);
        for _ in 0..n {
            let z = 2.0 * rng.normal();
            scores.push(sigmoid(z));
            y.push(if rng.chance(sigmoid(a * z + b)) {
                1.0
            } else {
                0.0
            });
        }
        match fit_platt(&scores, &y).unwrap() {
            Calibrator::Platt { a: fa, b: fb } => {
                assert!((fa - a).abs() < 0.04 && (fb - b).abs() < 0.05, "{fa} {fb}")
            }
            other => panic!("{other:?}"),
        }
    }

    /// Scores already calibrated on many rows: the optimum is a = 1, b = 0, where the summed
    /// loss's rounding hides any further decrease. The fit must stop there instead of halving
    /// its step for every remaining iteration (which took seconds on 50k rows, deaf to cancel).
    #[test]
    fn platt_stops_at_the_precision_of_its_loss() {
        let mut rng = Rng::new(77);
        let (mut scores, mut y) = (Vec::new(), Vec::new());
        for _ in 0..50_000 {
            let p = sigmoid(rng.normal() * 2.0 - 1.5);
            scores.push(p);
            y.push(if rng.chance(p) { 1.0 } else { 0.0 });
        }
        let (calibrator, evaluations) = fit_platt_counted(&scores, &y).unwrap();
        let Calibrator::Platt { a, b } = calibrator else {
            panic!("not platt")
        };
        assert!((a - 1.0).abs() < 0.05 && b.abs() < 0.05, "a {a}, b {b}");
        assert!(evaluations <= 40, "{evaluations} loss evaluations");
    }

    #[test]
    fn platt_is_finite_on_separated_and_constant_scores() {
        let y = [0.0, 0.0, 1.0, 1.0];
        let sep = fit_platt(&[0.1, 0.2, 0.8, 0.9], &y).unwrap();
        let Calibrator::Platt { a, b } = sep else {
            panic!()
        };
        assert!(a.is_finite() && b.is_finite() && a > 0.0);
        // The smoothed targets cap how confident a calibrator fitted on 4 rows can be.
        assert!(sep.apply(0.9) < 0.9 && sep.apply(0.1) > 0.1);
        let flat = fit_platt(&[0.3; 4], &y).unwrap();
        assert!((flat.apply(0.3) - 0.5).abs() < 1e-6);
    }

    #[test]
    fn calibrating_a_class_weighted_model_reduces_log_loss() {
        let mut rng = Rng::new(5);
        let sample = |rng: &mut Rng, n: usize| {
            let x = Array2::from_shape_fn((n, 2), |_| rng.normal());
            let y: Vec<f64> = x
                .rows()
                .into_iter()
                .map(|r| {
                    f64::from(u8::from(
                        rng.chance(sigmoid(-2.5 + 1.5 * r[0] - 0.8 * r[1])),
                    ))
                })
                .collect();
            (x, y)
        };
        let (x_train, y_train) = sample(&mut rng, 4_000);
        let (x_cal, y_cal) = sample(&mut rng, 4_000);
        let (x_test, y_test) = sample(&mut rng, 4_000);
        let model = LogisticParams::default()
            .with_class_weight(ClassWeight::Balanced)
            .fit(x_train.view(), &y_train, None)
            .unwrap();
        let cal_scores = model.predict_proba_matrix(x_cal.view());
        let test_scores = model.predict_proba_matrix(x_test.view());
        let raw = log_loss(&test_scores, &y_test);
        for calibrator in [
            fit_platt(&cal_scores, &y_cal).unwrap(),
            fit_isotonic(&cal_scores, &y_cal, None).unwrap(),
        ] {
            let calibrated: Vec<f64> = test_scores.iter().map(|&p| calibrator.apply(p)).collect();
            let after = log_loss(&calibrated, &y_test);
            assert!(after < 0.8 * raw, "{calibrator:?}: {raw} -> {after}");
        }
    }

    #[test]
    fn apply_is_safe_at_the_ends() {
        let calibrators = [
            Calibrator::Identity,
            Calibrator::Platt { a: 1.0, b: 0.0 },
            Calibrator::Platt { a: 7.0, b: 40.0 },
            Calibrator::Platt { a: -3.0, b: -5.0 },
            fit_isotonic(&[0.0, 0.3, 1.0], &[0.0, 1.0, 1.0], None).unwrap(),
            Calibrator::Isotonic {
                thresholds: vec![],
                values: vec![],
            },
        ];
        for c in &calibrators {
            for p in [0.0, 1.0, 1e-300, 0.5] {
                let q = c.apply(p);
                assert!((0.0..=1.0).contains(&q), "{c:?} at {p}: {q}");
            }
            assert!(c.apply(f64::NAN).is_nan());
        }
    }

    #[test]
    fn serialises_with_a_method_tag() {
        let c = Calibrator::Platt { a: 1.5, b: -0.25 };
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, r#"{"method":"platt","a":1.5,"b":-0.25}"#);
        assert_eq!(serde_json::from_str::<Calibrator>(&json).unwrap(), c);
        let iso = fit_isotonic(&[0.1, 0.9], &[0.0, 1.0], None).unwrap();
        let back: Calibrator = serde_json::from_str(&serde_json::to_string(&iso).unwrap()).unwrap();
        assert_eq!(back, iso);
        let id = serde_json::to_string(&Calibrator::Identity).unwrap();
        assert_eq!(id, r#"{"method":"identity"}"#);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let y = [0.0, 1.0];
        let name = |r: Result<Calibrator>| match r {
            Err(Error::InvalidParameter { name, .. }) => name,
            other => panic!("{other:?}"),
        };
        assert_eq!(fit_platt(&[], &[]), Err(Error::EmptyInput));
        assert_eq!(name(fit_platt(&[0.1], &y)), "y");
        assert_eq!(name(fit_platt(&[0.1, 1.5], &y)), "scores");
        assert_eq!(name(fit_platt(&[0.1, f64::NAN], &y)), "scores");
        assert_eq!(name(fit_platt(&[0.1, 0.2], &[1.0, 1.0])), "y");
        assert_eq!(name(fit_isotonic(&[0.1, 0.2], &[0.0, 3.0], None)), "y");
        assert_eq!(name(fit_isotonic(&[0.1, 0.2], &y, Some(&[1.0]))), "weights");
        assert_eq!(
            name(fit_isotonic(&[0.1, 0.2], &y, Some(&[1.0, -1.0]))),
            "weights"
        );
        assert_eq!(
            name(fit_isotonic(&[0.1, 0.2], &y, Some(&[0.0, 1.0]))),
            "weights"
        );
    }

    proptest! {
        #[test]
        fn isotonic_is_monotone_and_preserves_the_weighted_mean(
            rows in proptest::collection::vec((0u8..=20, any::<bool>(), 1u8..=4), 2..60)
        ) {
            let scores: Vec<f64> = rows.iter().map(|r| f64::from(r.0) / 20.0).collect();
            let mut y: Vec<f64> = rows.iter().map(|r| f64::from(u8::from(r.1))).collect();
            y[0] = 0.0;
            y[1] = 1.0;
            let w: Vec<f64> = rows.iter().map(|r| f64::from(r.2)).collect();
            let c = fit_isotonic(&scores, &y, Some(&w)).unwrap();
            let grid: Vec<f64> = (0..=100).map(|i| c.apply(f64::from(i) / 100.0)).collect();
            prop_assert!(grid.iter().all(|p| (0.0..=1.0).contains(p)));
            prop_assert!(grid.windows(2).all(|g| g[0] <= g[1] + 1e-15));
            // Each pooled block's value is its mean label, so the totals agree.
            let fitted: f64 = scores.iter().zip(&w).map(|(&s, &wi)| wi * c.apply(s)).sum();
            let observed: f64 = y.iter().zip(&w).map(|(&t, &wi)| wi * t).sum();
            prop_assert!((fitted - observed).abs() < 1e-9);
        }
    }
}
