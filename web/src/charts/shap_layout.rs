//! Geometry of the Explain view's charts that is more than a linear scale: the waterfall's
//! running sums, the beeswarm's stacking of dots, and the colour of a dot by its value's rank.
//! Plain Rust (no DOM), so it is tested natively.

/// One bar of a waterfall: where the running sum stands before and after a contribution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    pub from: f64,
    pub to: f64,
}

/// The waterfall from `base` through each of `contributions` in order; the last step ends at
/// `base + Σ contributions` (the model's raw output, up to rounding).
pub fn waterfall(base: f64, contributions: &[f64]) -> Vec<Step> {
    let mut at = base;
    contributions
        .iter()
        .map(|&c| {
            let from = at;
            at += c;
            Step { from, to: at }
        })
        .collect()
}

/// The smallest and largest value a waterfall passes through (the base included).
pub fn waterfall_range(base: f64, steps: &[Step]) -> (f64, f64) {
    steps
        .iter()
        .flat_map(|s| [s.from, s.to])
        .fold((base, base), |(lo, hi), v| (lo.min(v), hi.max(v)))
}

/// Vertical offsets (pixels from the lane's centre line) for dots at horizontal pixel positions
/// `xs`, so that dots of `radius` do not overlap: each dot, taken from left to right, goes to
/// the free place nearest the centre (0, +d, −d, +2d, … with d one diameter). Offsets never
/// pass ±`half_height`; a lane too crowded for that lets dots overlap at its edge.
pub fn swarm(xs: &[f64], radius: f64, half_height: f64) -> Vec<f64> {
    let d = 2.0 * radius;
    let mut order: Vec<usize> = (0..xs.len()).collect();
    order.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
    let mut offsets = vec![0.0; xs.len()];
    // Dots already placed whose x is within one diameter of the current one.
    let mut near: Vec<usize> = Vec::new();
    let limit = (half_height / d).floor().max(0.0) as i64;
    for &i in &order {
        near.retain(|&j| xs[i] - xs[j] < d);
        let free = |y: f64| {
            near.iter().all(|&j| {
                let (dx, dy) = (xs[i] - xs[j], y - offsets[j]);
                dx * dx + dy * dy >= d * d * (1.0 - 1e-9)
            })
        };
        let candidates = (0..=limit).flat_map(|k| {
            let y = k as f64 * d;
            if k == 0 {
                vec![0.0]
            } else {
                vec![y, -y]
            }
        });
        let mut chosen = None;
        for y in candidates {
            if free(y) {
                chosen = Some(y);
                break;
            }
        }
        // Full lane: the edge, alternating sides, so the overflow stays visible as a dense rim.
        offsets[i] = chosen.unwrap_or(if near.len().is_multiple_of(2) {
            limit as f64 * d
        } else {
            -(limit as f64) * d
        });
        near.push(i);
    }
    offsets
}

/// Each value's place among the present ones, 0 (lowest) to 1 (highest); ties share the mean
/// of their places; `None` stays `None`. A single distinct value sits in the middle (0.5).
pub fn rank_shares(values: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut present: Vec<(f64, usize)> = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.filter(|x| x.is_finite()).map(|x| (x, i)))
        .collect();
    present.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut shares = vec![None; values.len()];
    let n = present.len();
    let mut start = 0;
    while start < n {
        let mut end = start;
        while end + 1 < n && present[end + 1].0 == present[start].0 {
            end += 1;
        }
        let place = (start + end) as f64 / 2.0;
        let share = if n > 1 { place / (n - 1) as f64 } else { 0.5 };
        // One distinct value only: no low or high to show.
        let share = if start == 0 && end + 1 == n {
            0.5
        } else {
            share
        };
        for &(_, i) in &present[start..=end] {
            shares[i] = Some(share);
        }
        start = end + 1;
    }
    shares
}

/// The distinct texts of a categorical field, sorted, and each value's place among them: the
/// x positions (1-based) of a dependence plot over categories.
pub fn categories(values: &[String]) -> (Vec<String>, Vec<usize>) {
    let mut names: Vec<String> = values.to_vec();
    names.sort();
    names.dedup();
    let places = values
        .iter()
        .map(|v| names.binary_search(v).map_or(0, |i| i + 1))
        .collect();
    (names, places)
}

/// Colour of a dot: blue (low value) through purple to red (high value); grey when the value
/// has no order (categories, missing).
pub fn value_colour(share: Option<f64>) -> String {
    match share {
        None => "#9aa0a6".to_string(),
        Some(s) => {
            let s = s.clamp(0.0, 1.0);
            let mix = |low: f64, high: f64| (low + (high - low) * s).round() as u8;
            format!(
                "#{:02x}{:02x}{:02x}",
                mix(30.0, 220.0),
                mix(110.0, 40.0),
                mix(230.0, 80.0)
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waterfall_runs_from_the_base_to_the_output() {
        let steps = waterfall(-1.0, &[0.5, -2.0, 0.25]);
        assert_eq!(
            steps,
            [
                Step {
                    from: -1.0,
                    to: -0.5
                },
                Step {
                    from: -0.5,
                    to: -2.5
                },
                Step {
                    from: -2.5,
                    to: -2.25
                },
            ]
        );
        assert_eq!(waterfall_range(-1.0, &steps), (-2.5, -0.5));
        assert_eq!(waterfall_range(3.0, &[]), (3.0, 3.0));
    }

    #[test]
    fn swarm_dots_do_not_overlap_and_stay_in_the_lane() {
        let xs: Vec<f64> = (0..20).map(|i| 100.0 + (i % 5) as f64 * 3.0).collect();
        let (r, half) = (2.0, 30.0);
        let ys = swarm(&xs, r, half);
        for (i, &y) in ys.iter().enumerate() {
            assert!(y.abs() <= half, "dot {i} at {y}");
        }
        // Dots 4 px wide, 3 px apart in x: at most 12 of them within one diameter, and the lane
        // holds 15 rows, so no two may overlap here.
        for i in 0..xs.len() {
            for j in 0..i {
                let (dx, dy) = (xs[i] - xs[j], ys[i] - ys[j]);
                assert!(dx * dx + dy * dy >= 16.0 - 1e-6, "dots {i} and {j} overlap");
            }
        }
        // Dots far apart stay on the centre line.
        assert_eq!(swarm(&[0.0, 10.0, 20.0], 2.0, 30.0), [0.0, 0.0, 0.0]);
        // A crowded lane overflows at its edges, never beyond.
        let crowd = swarm(&[5.0; 30], 2.0, 8.0);
        assert!(crowd.iter().all(|y| y.abs() <= 8.0));
        assert_eq!(crowd[..5], [0.0, 4.0, -4.0, 8.0, -8.0]);
    }

    #[test]
    fn ranks_share_ties_and_skip_missing() {
        let shares = rank_shares(&[Some(3.0), None, Some(1.0), Some(3.0), Some(2.0)]);
        assert_eq!(
            shares,
            [
                Some(2.5 / 3.0),
                None,
                Some(0.0),
                Some(2.5 / 3.0),
                Some(1.0 / 3.0)
            ]
        );
        assert_eq!(rank_shares(&[Some(4.0), Some(4.0)]), [Some(0.5), Some(0.5)]);
        assert_eq!(rank_shares(&[Some(f64::NAN)]), [None]);
    }

    #[test]
    fn categories_are_sorted_and_numbered_from_one() {
        let values = ["b", "a", "b", "c"].map(String::from);
        let (names, places) = categories(&values);
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(places, [2, 1, 2, 3]);
    }

    #[test]
    fn colours_run_from_blue_to_red() {
        assert_eq!(value_colour(Some(0.0)), "#1e6ee6");
        assert_eq!(value_colour(Some(1.0)), "#dc2850");
        assert_eq!(value_colour(Some(7.0)), value_colour(Some(1.0)));
        assert_eq!(value_colour(None), "#9aa0a6");
    }
}
