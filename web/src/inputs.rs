//! The Decide view's business inputs, from the text of their fields to core's `DecideOptions`,
//! with each problem said next to its field. Plain Rust (no DOM), so it is tested natively.

use ebb_core::eval::decision::DecisionParams;
use ebb_core::workflow::{CustomerValue, DecideOptions};

/// Top reasons per contact, as `ebb decide` lists by default.
pub const REASONS: usize = 3;

/// The fields as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct BusinessInputs {
    pub cost: String,
    pub value: String,
    /// A numeric column of monthly value instead of `value`.
    pub value_column: Option<String>,
    pub horizon_months: String,
    pub success_rate: String,
    pub capacity: String,
}

impl Default for BusinessInputs {
    /// `ebb decide`'s defaults.
    fn default() -> Self {
        BusinessInputs {
            cost: "10".into(),
            value: "600".into(),
            value_column: None,
            horizon_months: "12".into(),
            success_rate: "0.3".into(),
            capacity: "1000".into(),
        }
    }
}

impl BusinessInputs {
    /// The fields showing `options` (the inputs of a decision already made).
    pub fn from_options(options: &DecideOptions) -> Self {
        let (value, value_column) = match &options.value {
            CustomerValue::Fixed(v) => (v.to_string(), None),
            CustomerValue::MonthlyColumn(c) => (BusinessInputs::default().value, Some(c.clone())),
        };
        BusinessInputs {
            cost: options.params.cost_per_contact.to_string(),
            value,
            value_column,
            horizon_months: options.horizon_months.to_string(),
            success_rate: options.params.success_rate.to_string(),
            capacity: options.params.capacity.to_string(),
        }
    }
}

/// A field of [`BusinessInputs`], to put its message next to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Cost,
    Value,
    Horizon,
    SuccessRate,
    Capacity,
}

fn number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|x| x.is_finite())
}

fn whole(text: &str) -> Option<u64> {
    text.trim().parse::<u64>().ok()
}

/// The inputs as core's options (with [`REASONS`] reasons per contact), or every field's
/// problem.
pub fn parse(inputs: &BusinessInputs) -> Result<DecideOptions, Vec<(Field, String)>> {
    let mut problems = Vec::new();
    let mut problem = |field, message: &str| problems.push((field, message.to_string()));
    let cost = number(&inputs.cost).filter(|&c| c >= 0.0);
    if cost.is_none() {
        problem(
            Field::Cost,
            "the cost per contact must be a number, 0 or more",
        );
    }
    let value = match &inputs.value_column {
        Some(column) => Some(CustomerValue::MonthlyColumn(column.clone())),
        None => {
            let value = number(&inputs.value).filter(|&v| v >= 0.0);
            if value.is_none() {
                problem(
                    Field::Value,
                    "the customer value must be a number, 0 or more",
                );
            }
            value.map(CustomerValue::Fixed)
        }
    };
    let horizon = whole(&inputs.horizon_months)
        .filter(|&h| h >= 1)
        .and_then(|h| u32::try_from(h).ok());
    if horizon.is_none() {
        problem(
            Field::Horizon,
            "the horizon must be a whole number of months, 1 or more",
        );
    }
    let success_rate = number(&inputs.success_rate).filter(|&r| r > 0.0 && r <= 1.0);
    if success_rate.is_none() {
        problem(
            Field::SuccessRate,
            "the success rate must be more than 0 and at most 1 (0.3 is 30%)",
        );
    }
    let capacity = whole(&inputs.capacity)
        .filter(|&c| c >= 1)
        .and_then(|c| usize::try_from(c).ok());
    if capacity.is_none() {
        problem(
            Field::Capacity,
            "the daily capacity must be a whole number of contacts, 1 or more",
        );
    }
    match (cost, value, horizon, success_rate, capacity) {
        (Some(cost), Some(value), Some(horizon_months), Some(rate), Some(capacity)) => {
            Ok(DecideOptions {
                params: DecisionParams::default()
                    .with_cost_per_contact(cost)
                    .with_success_rate(rate)
                    .with_capacity(capacity),
                value,
                horizon_months,
                reasons: REASONS,
            })
        }
        _ => Err(problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_ebb_decides() {
        let options = parse(&BusinessInputs::default()).unwrap();
        assert_eq!(
            options,
            DecideOptions {
                reasons: REASONS,
                ..DecideOptions::default()
            }
        );
    }

    #[test]
    fn inputs_become_core_options() {
        let inputs = BusinessInputs {
            cost: " 5 ".into(),
            value: "not used".into(),
            value_column: Some("monthly_fee".into()),
            horizon_months: "24".into(),
            success_rate: "1".into(),
            capacity: "200".into(),
        };
        let options = parse(&inputs).unwrap();
        assert_eq!(options.params.cost_per_contact, 5.0);
        assert_eq!(options.params.success_rate, 1.0);
        assert_eq!(options.params.capacity, 200);
        assert_eq!(
            options.value,
            CustomerValue::MonthlyColumn("monthly_fee".into())
        );
        assert_eq!(options.horizon_months, 24);
        // What the page sends is what core accepts.
        assert!(options.params.check().is_ok());
        // A decision's inputs show again as they were typed.
        assert_eq!(
            parse(&BusinessInputs::from_options(&options)).unwrap(),
            options
        );
        let fixed = parse(&BusinessInputs {
            value: "500".into(),
            success_rate: "0.25".into(),
            ..BusinessInputs::default()
        })
        .unwrap();
        let shown = BusinessInputs::from_options(&fixed);
        assert_eq!(
            (shown.value.as_str(), shown.success_rate.as_str()),
            ("500", "0.25")
        );
        assert_eq!(parse(&shown).unwrap(), fixed);
    }

    #[test]
    fn each_bad_field_is_named() {
        let fields = |inputs: &BusinessInputs| -> Vec<Field> {
            parse(inputs)
                .unwrap_err()
                .into_iter()
                .map(|(f, _)| f)
                .collect()
        };
        let bad = BusinessInputs {
            cost: "-1".into(),
            value: "".into(),
            value_column: None,
            horizon_months: "0".into(),
            success_rate: "1.2".into(),
            capacity: "0".into(),
        };
        assert_eq!(
            fields(&bad),
            [
                Field::Cost,
                Field::Value,
                Field::Horizon,
                Field::SuccessRate,
                Field::Capacity
            ]
        );
        let with = |edit: fn(&mut BusinessInputs)| {
            let mut inputs = BusinessInputs::default();
            edit(&mut inputs);
            fields(&inputs)
        };
        assert_eq!(with(|i| i.success_rate = "0".into()), [Field::SuccessRate]);
        assert_eq!(
            with(|i| i.success_rate = "NaN".into()),
            [Field::SuccessRate]
        );
        assert_eq!(with(|i| i.cost = "inf".into()), [Field::Cost]);
        assert_eq!(with(|i| i.capacity = "2.5".into()), [Field::Capacity]);
        assert_eq!(with(|i| i.value = "-600".into()), [Field::Value]);
        let (_, message) = &parse(&bad).unwrap_err()[3];
        assert!(message.contains("at most 1"), "{message}");
    }
}
