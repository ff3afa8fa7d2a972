//! Numbers as the views print them.

/// An integer with thousands separators: `5000` -> `5,000`.
pub fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// A share as a percentage with one decimal: `0.1414` -> `14.1%`.
pub fn percent(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// A metric with four decimals.
pub fn metric(x: f64) -> String {
    format!("{x:.4}")
}

/// A statistic compactly: three decimals, trailing zeros dropped, scientific when huge or tiny.
pub fn number(x: f64) -> String {
    if x.abs() >= 1e5 || (x != 0.0 && x.abs() < 1e-3) {
        format!("{x:.3e}")
    } else {
        format!("{x:.3}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}
