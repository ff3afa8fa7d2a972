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

/// An amount of money with two decimals and thousands separators: `-103705.754` ->
/// `-103,705.75`.
pub fn money(x: f64) -> String {
    let text = format!("{:.2}", x.abs());
    let (whole, cents) = text.split_once('.').unwrap_or((&text, "00"));
    let grouped = match whole.parse::<usize>() {
        Ok(n) => count(n),
        // Beyond usize: ungrouped rather than wrong.
        Err(_) => whole.to_string(),
    };
    let sign = if x < 0.0 && text != "0.00" { "-" } else { "" };
    format!("{sign}{grouped}.{cents}")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(count(0), "0");
        assert_eq!(count(5000), "5,000");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(money(103_705.754), "103,705.75");
        assert_eq!(money(-1234.5), "-1,234.50");
        assert_eq!(money(-0.001), "0.00");
        assert_eq!(money(12.0), "12.00");
        assert_eq!(percent(0.1414), "14.1%");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(2e6), "2.000e6");
    }
}
