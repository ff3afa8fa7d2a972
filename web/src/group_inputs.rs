//! The Fairness and Segments views' inputs, from the text of their fields to core's
//! `FairnessOptions` and `SegmentOptions`, with each problem said next to its field. Defaults
//! are `ebb fairness`'s and `ebb segment`'s flags. Plain Rust (no DOM), so it is tested natively.

use ebb_core::eval::fairness::FairnessParams;
use ebb_core::workflow::{CustomerValue, FairnessOptions, SegmentOptions};

/// The Fairness view's fields as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct FairnessInputs {
    /// The column to group by; empty until one is chosen.
    pub by: String,
    pub min_ratio: String,
    pub min_group_size: String,
}

impl Default for FairnessInputs {
    /// `ebb fairness`'s defaults (`--min-ratio 0.8 --min-group-size 30`).
    fn default() -> Self {
        let params = FairnessParams::default();
        FairnessInputs {
            by: String::new(),
            min_ratio: params.min_ratio.to_string(),
            min_group_size: params.min_group_size.to_string(),
        }
    }
}

impl FairnessInputs {
    /// The fields showing `options` (to come back to an audit as it was asked).
    pub fn from_options(options: &FairnessOptions) -> Self {
        FairnessInputs {
            by: options.by.clone(),
            min_ratio: options.params.min_ratio.to_string(),
            min_group_size: options.params.min_group_size.to_string(),
        }
    }
}

/// The Segments view's fields as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentInputs {
    /// Empty: chosen by silhouette, as without `--k`.
    pub k: String,
    pub value: String,
    /// A numeric column of monthly value instead of `value`.
    pub value_column: Option<String>,
    pub horizon_months: String,
}

impl Default for SegmentInputs {
    /// `ebb segment`'s defaults.
    fn default() -> Self {
        let options = SegmentOptions::default();
        let value = match options.value {
            CustomerValue::Fixed(v) => v.to_string(),
            CustomerValue::MonthlyColumn(_) => String::new(),
        };
        SegmentInputs {
            k: String::new(),
            value,
            value_column: None,
            horizon_months: options.horizon_months.to_string(),
        }
    }
}

impl SegmentInputs {
    /// The fields showing `options`.
    pub fn from_options(options: &SegmentOptions) -> Self {
        let (value, value_column) = match &options.value {
            CustomerValue::Fixed(v) => (v.to_string(), None),
            CustomerValue::MonthlyColumn(c) => (SegmentInputs::default().value, Some(c.clone())),
        };
        SegmentInputs {
            k: options.k.map(|k| k.to_string()).unwrap_or_default(),
            value,
            value_column,
            horizon_months: options.horizon_months.to_string(),
        }
    }
}

/// A field of either view, to put its message next to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    By,
    MinRatio,
    MinGroupSize,
    K,
    Value,
    Horizon,
}

fn number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|x| x.is_finite())
}

fn whole(text: &str) -> Option<u64> {
    text.trim().parse::<u64>().ok()
}

/// The Fairness inputs as core's options, or every field's problem.
pub fn parse_fairness(inputs: &FairnessInputs) -> Result<FairnessOptions, Vec<(Field, String)>> {
    let mut problems = Vec::new();
    let by = inputs.by.trim();
    if by.is_empty() {
        problems.push((
            Field::By,
            "choose the column whose groups to compare".to_string(),
        ));
    }
    let min_ratio = number(&inputs.min_ratio).filter(|&r| (0.0..=1.0).contains(&r));
    if min_ratio.is_none() {
        problems.push((
            Field::MinRatio,
            "the minimum ratio must be a number from 0 to 1 (0.8 is the four-fifths rule)"
                .to_string(),
        ));
    }
    let min_group_size = whole(&inputs.min_group_size).and_then(|n| usize::try_from(n).ok());
    if min_group_size.is_none() {
        problems.push((
            Field::MinGroupSize,
            "the minimum group size must be a whole number of customers, 0 or more".to_string(),
        ));
    }
    match (min_ratio, min_group_size) {
        (Some(ratio), Some(size)) if problems.is_empty() => Ok(FairnessOptions {
            by: by.to_string(),
            params: FairnessParams::default()
                .with_min_ratio(ratio)
                .with_min_group_size(size),
        }),
        _ => Err(problems),
    }
}

/// The Segments inputs as core's options, or every field's problem.
pub fn parse_segments(inputs: &SegmentInputs) -> Result<SegmentOptions, Vec<(Field, String)>> {
    let mut problems = Vec::new();
    let k = match inputs.k.trim() {
        "" => Some(None),
        text => whole(text)
            .filter(|&k| k >= 2)
            .and_then(|k| usize::try_from(k).ok())
            .map(Some),
    };
    if k.is_none() {
        problems.push((
            Field::K,
            // Core says when k is more than the customers: it knows how many can be scored.
            "the number of segments must be a whole number, 2 or more, or empty to choose it"
                .to_string(),
        ));
    }
    let value = match &inputs.value_column {
        Some(column) => Some(CustomerValue::MonthlyColumn(column.clone())),
        None => {
            let value = number(&inputs.value).filter(|&v| v >= 0.0);
            if value.is_none() {
                problems.push((
                    Field::Value,
                    "the customer value must be a number, 0 or more".to_string(),
                ));
            }
            value.map(CustomerValue::Fixed)
        }
    };
    let horizon = whole(&inputs.horizon_months)
        .filter(|&h| h >= 1)
        .and_then(|h| u32::try_from(h).ok());
    if horizon.is_none() {
        problems.push((
            Field::Horizon,
            "the horizon must be a whole number of months, 1 or more".to_string(),
        ));
    }
    match (k, value, horizon) {
        (Some(k), Some(value), Some(horizon_months)) => Ok(SegmentOptions {
            k,
            value,
            horizon_months,
            ..SegmentOptions::default()
        }),
        _ => Err(problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields<T: std::fmt::Debug>(r: Result<T, Vec<(Field, String)>>) -> Vec<Field> {
        r.unwrap_err().into_iter().map(|(f, _)| f).collect()
    }

    #[test]
    fn defaults_are_the_clis() {
        let options = parse_fairness(&FairnessInputs {
            by: "region".into(),
            ..FairnessInputs::default()
        })
        .unwrap();
        assert_eq!(options.params, FairnessParams::default());
        assert_eq!(options.params.min_ratio, 0.8);
        assert_eq!(options.params.min_group_size, 30);
        let options = parse_segments(&SegmentInputs::default()).unwrap();
        assert_eq!(options, SegmentOptions::default());
        assert_eq!(options.k, None);
        assert_eq!(options.seed, 42);
        assert_eq!(options.value, CustomerValue::Fixed(600.0));
        assert_eq!(options.horizon_months, 12);
    }

    #[test]
    fn inputs_show_again_as_typed() {
        let fairness = parse_fairness(&FairnessInputs {
            by: " area_code ".into(),
            min_ratio: "0.97".into(),
            min_group_size: "1250".into(),
        })
        .unwrap();
        assert_eq!(fairness.by, "area_code");
        assert_eq!(
            parse_fairness(&FairnessInputs::from_options(&fairness)).unwrap(),
            fairness
        );
        let segments = parse_segments(&SegmentInputs {
            k: "3".into(),
            value: "ignored".into(),
            value_column: Some("monthly_fee".into()),
            horizon_months: "24".into(),
        })
        .unwrap();
        assert_eq!(segments.k, Some(3));
        assert_eq!(
            parse_segments(&SegmentInputs::from_options(&segments)).unwrap(),
            segments
        );
    }

    #[test]
    fn each_bad_field_is_named() {
        assert_eq!(
            fields(parse_fairness(&FairnessInputs {
                by: " ".into(),
                min_ratio: "1.2".into(),
                min_group_size: "-1".into(),
            })),
            [Field::By, Field::MinRatio, Field::MinGroupSize]
        );
        assert_eq!(
            fields(parse_fairness(&FairnessInputs {
                by: "plan".into(),
                min_ratio: "four fifths".into(),
                ..FairnessInputs::default()
            })),
            [Field::MinRatio]
        );
        for k in ["1", "0", "2.5", "many"] {
            let inputs = SegmentInputs {
                k: k.into(),
                ..SegmentInputs::default()
            };
            assert_eq!(fields(parse_segments(&inputs)), [Field::K], "{k}");
        }
        assert_eq!(
            fields(parse_segments(&SegmentInputs {
                value: "-5".into(),
                horizon_months: "0".into(),
                ..SegmentInputs::default()
            })),
            [Field::Value, Field::Horizon]
        );
    }
}
