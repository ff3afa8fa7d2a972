//! The What-if form's plain logic (no DOM, tested natively): the values a form starts from,
//! the edits it sends, and slider steps.

use ebb_core::workflow::whatif::{Edit, FieldForm, FormField};

/// Each field's value in `record` (`None`: missing or absent).
pub fn field_values(
    fields: &[FormField],
    record: &[(String, Option<String>)],
) -> Vec<Option<String>> {
    fields
        .iter()
        .map(|f| {
            record
                .iter()
                .find(|(k, _)| *k == f.name)
                .and_then(|(_, v)| v.clone())
        })
        .collect()
}

/// The fields whose value differs from the record's, as core's edits. Blank text is missing.
pub fn edits(
    fields: &[FormField],
    base: &[Option<String>],
    current: &[Option<String>],
) -> Vec<Edit> {
    fn clean(v: &Option<String>) -> Option<&str> {
        v.as_deref().map(str::trim).filter(|t| !t.is_empty())
    }
    fields
        .iter()
        .zip(base.iter().zip(current))
        .filter(|(_, (b, c))| clean(b) != clean(c))
        .map(|(f, (_, c))| Edit {
            field: f.name.clone(),
            value: clean(c).map(str::to_string),
        })
        .collect()
}

/// Which fields the suggestion may change at first: all but dates (core suggests no dates).
pub fn default_actionable(fields: &[FormField]) -> Vec<bool> {
    fields
        .iter()
        .map(|f| !matches!(f.form, FieldForm::Date))
        .collect()
}

/// A round slider step giving about 100 to 1,000 positions over `low..=high`.
pub fn slider_step(low: f64, high: f64) -> f64 {
    let span = high - low;
    if !(span.is_finite() && span > 0.0) {
        return 1.0;
    }
    10f64.powf((span / 100.0).log10().floor())
}

/// What a date picker shows of a raw date or date-time (`2024-03-01T10:00` -> `2024-03-01`);
/// empty when it is not one it can show.
pub fn date_value(raw: &str) -> String {
    let day = raw.trim().get(..10).unwrap_or("");
    let b = day.as_bytes();
    let ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if ok {
        day.to_string()
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, form: FieldForm) -> FormField {
        FormField {
            name: name.into(),
            form,
        }
    }

    #[test]
    fn edits_are_the_fields_that_differ() {
        let fields = vec![
            field(
                "calls",
                FieldForm::Number {
                    range: None,
                    edges: vec![],
                },
            ),
            field("plan", FieldForm::Boolean),
            field("since", FieldForm::Date),
        ];
        let record = vec![
            ("calls".to_string(), Some("3".to_string())),
            ("state".to_string(), Some("KS".to_string())),
        ];
        let base = field_values(&fields, &record);
        assert_eq!(base, vec![Some("3".into()), None, None]);
        assert!(edits(&fields, &base, &base).is_empty());
        let now = vec![Some(" ".into()), Some("yes".into()), None];
        assert_eq!(
            edits(&fields, &base, &now),
            vec![
                Edit {
                    field: "calls".into(),
                    value: None
                },
                Edit {
                    field: "plan".into(),
                    value: Some("yes".into())
                },
            ]
        );
        assert_eq!(default_actionable(&fields), vec![true, true, false]);
    }

    #[test]
    fn steps_and_dates() {
        assert_eq!(slider_step(0.0, 350.0), 1.0);
        assert_eq!(slider_step(0.0, 5.0), 0.01);
        assert_eq!(slider_step(2.0, 2.0), 1.0);
        assert_eq!(date_value("2024-03-01T10:00:00Z"), "2024-03-01");
        assert_eq!(date_value("yesterday"), "");
    }
}
