//! Where data lands in a chart: axes with round ticks and the map from data to SVG coordinates.
//! Plain Rust (no DOM), so it is tested natively.

/// Plot area inside every chart's 420 x 400 view box, leaving room for tick labels and titles.
pub const LEFT: f64 = 64.0;
pub const TOP: f64 = 12.0;
pub const WIDTH: f64 = 340.0;
pub const HEIGHT: f64 = 330.0;

/// One axis: the data range drawn, its ticks and its title.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub ticks: Vec<f64>,
    /// Distance between ticks (sets the decimals of their labels).
    pub step: f64,
    pub title: &'static str,
}

impl Axis {
    /// 0 to 1 in steps of 0.2: rates and probabilities.
    pub fn unit(title: &'static str) -> Axis {
        Axis {
            lo: 0.0,
            hi: 1.0,
            ticks: (0..=5).map(|k| f64::from(k) / 5.0).collect(),
            step: 0.2,
            title,
        }
    }

    /// Categories `1..=n`, each centred on its tick (bars).
    pub fn categories(n: usize, title: &'static str) -> Axis {
        Axis {
            lo: 0.5,
            hi: n as f64 + 0.5,
            ticks: (1..=n).map(|k| k as f64).collect(),
            step: 1.0,
            title,
        }
    }

    /// The smallest range with round ticks (steps of 1, 2 or 5 times a power of ten, about
    /// five of them) that covers `lo..=hi`. A single value gets a range around it.
    pub fn covering(lo: f64, hi: f64, title: &'static str) -> Axis {
        let (lo, hi) = if !(lo.is_finite() && hi.is_finite()) {
            (0.0, 1.0)
        } else if hi > lo {
            (lo, hi)
        } else {
            let pad = if lo == 0.0 { 1.0 } else { lo.abs() / 10.0 };
            (lo - pad, lo + pad)
        };
        let step = nice_step((hi - lo) / 5.0);
        let first = (lo / step).floor();
        let last = (hi / step).ceil();
        let ticks = (0..=(last - first) as i64)
            .map(|k| (first + k as f64) * step)
            .collect();
        Axis {
            lo: first * step,
            hi: last * step,
            ticks,
            step,
            title,
        }
    }

    /// Where `v` falls between the ends, 0 to 1.
    fn share(&self, v: f64) -> f64 {
        (v - self.lo) / (self.hi - self.lo)
    }

    /// A tick label: as many decimals as the step needs, thousands as `k` when large.
    pub fn label(&self, v: f64) -> String {
        let big = self.lo.abs().max(self.hi.abs()) >= 10_000.0;
        let (v, step, suffix) = if big {
            (v / 1000.0, self.step / 1000.0, "k")
        } else {
            (v, self.step, "")
        };
        let decimals = (-step.log10().floor()).max(0.0) as usize;
        // `-0` reads as a bug on an axis.
        let v = if v.abs() < step / 2.0 { 0.0 } else { v };
        format!("{v:.decimals$}{suffix}")
    }
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
fn nice_step(raw: f64) -> f64 {
    let power = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|&s| s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * power)
}

/// The two axes of a chart and the map from data to the SVG's coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub x: Axis,
    pub y: Axis,
}

impl Frame {
    pub fn px(&self, x: f64) -> f64 {
        LEFT + self.x.share(x) * WIDTH
    }

    pub fn py(&self, y: f64) -> f64 {
        TOP + (1.0 - self.y.share(y)) * HEIGHT
    }

    /// An SVG `points` list through `(x, y)` pairs.
    pub fn points(&self, xy: impl IntoIterator<Item = (f64, f64)>) -> String {
        xy.into_iter()
            .map(|(x, y)| format!("{:.2},{:.2}", self.px(x), self.py(y)))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// At most `max` indices of `0..len`, evenly spaced, first and last included: the points of a
/// long curve that get a hover tooltip.
pub fn spaced(len: usize, max: usize) -> Vec<usize> {
    // Two at least: the first and the last.
    let max = max.max(2);
    if len <= max {
        return (0..len).collect();
    }
    (0..max).map(|k| k * (len - 1) / (max - 1)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_ticks_cover_the_data() {
        let a = Axis::covering(-1234.0, 103_705.75, "profit");
        assert_eq!(a.step, 50_000.0);
        assert_eq!(a.ticks, [-50_000.0, 0.0, 50_000.0, 100_000.0, 150_000.0]);
        assert_eq!((a.lo, a.hi), (-50_000.0, 150_000.0));
        assert_eq!(a.label(-50_000.0), "-50k");
        assert_eq!(a.label(0.0), "0k");

        let lift = Axis::covering(0.0, 5.3, "lift");
        assert_eq!(lift.step, 2.0);
        assert_eq!(lift.ticks, [0.0, 2.0, 4.0, 6.0]);
        assert_eq!(lift.label(2.0), "2");

        let small = Axis::covering(0.0, 0.37, "rate");
        assert_eq!(small.step, 0.1);
        assert_eq!(small.label(0.30000000000000004), "0.3");
        assert_eq!(small.label(-1e-17), "0.0");

        // One value, or none finite: still a drawable range around it.
        let flat = Axis::covering(0.0, 0.0, "profit");
        assert!(flat.lo < 0.0 && flat.hi > 0.0, "{flat:?}");
        let odd = Axis::covering(f64::NAN, 1.0, "x");
        assert_eq!((odd.lo, odd.hi), (0.0, 1.0));
    }

    #[test]
    fn categories_sit_between_the_ends() {
        let f = Frame {
            x: Axis::categories(10, "decile"),
            y: Axis::unit("y"),
        };
        assert_eq!(f.x.ticks.len(), 10);
        assert_eq!(f.x.label(3.0), "3");
        assert_eq!(f.px(1.0) - LEFT, WIDTH / 20.0);
        assert_eq!(LEFT + WIDTH - f.px(10.0), WIDTH / 20.0);
    }

    #[test]
    fn frame_maps_ends_to_the_plot_area() {
        let f = Frame {
            x: Axis::unit("x"),
            y: Axis::covering(-10.0, 30.0, "y"),
        };
        assert_eq!(f.px(0.0), LEFT);
        assert_eq!(f.px(1.0), LEFT + WIDTH);
        assert_eq!(f.py(f.y.lo), TOP + HEIGHT);
        assert_eq!(f.py(f.y.hi), TOP);
        assert_eq!(
            f.points([(0.0, f.y.hi), (1.0, f.y.lo)]),
            format!("{LEFT:.2},{TOP:.2} {:.2},{:.2}", LEFT + WIDTH, TOP + HEIGHT)
        );
    }

    #[test]
    fn spaced_keeps_the_ends() {
        assert_eq!(spaced(3, 10), [0, 1, 2]);
        assert_eq!(spaced(101, 5), [0, 25, 50, 75, 100]);
        assert_eq!(spaced(0, 5), Vec::<usize>::new());
    }
}
