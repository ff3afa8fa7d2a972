//! `POST /v1/labels`: outcomes that arrive after the predictions, for monitoring performance.

use serde_json::Value;

use crate::error::{ApiError, Problem};
use crate::request::{kind, parse_json, MAX_BATCH};

/// One observed outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// The customer.
    pub customer_id: String,
    /// Whether they churned in the prediction horizon.
    pub churned: bool,
}

/// Parses `{"labels": [{"customer_id": "C1", "churned": true}, ...]}` (at most
/// [`MAX_BATCH`]); `churned` may also be 1/0 or `yes`/`no`/`true`/`false`. Every bad entry is
/// reported.
pub fn parse_labels(body: &[u8]) -> Result<Vec<Label>, ApiError> {
    let items =
        match parse_json(body)? {
            Value::Object(mut o) => match o.remove("labels") {
                Some(Value::Array(items)) => items,
                _ => return Err(ApiError::bad_request(
                    "expected {\"labels\": [{\"customer_id\": \"...\", \"churned\": true}, ...]}",
                )),
            },
            other => {
                return Err(ApiError::bad_request(format!(
                    "expected an object with a `labels` array, got {}",
                    kind(&other)
                )))
            }
        };
    if items.len() > MAX_BATCH {
        return Err(ApiError::too_large(format!(
            "{} labels in one request; the limit is {MAX_BATCH}: split them",
            items.len()
        )));
    }
    if items.is_empty() {
        return Err(ApiError::bad_request("the `labels` array is empty"));
    }
    let mut problems = Vec::new();
    let mut labels = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = |field: &str| format!("labels[{i}].{field}");
        let Some(object) = item.as_object() else {
            problems.push(Problem::new(
                format!("labels[{i}]"),
                format!("expected an object, got {}", kind(item)),
            ));
            continue;
        };
        let customer_id = match object.get("customer_id") {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            other => {
                problems.push(Problem::new(
                    at("customer_id"),
                    format!(
                        "expected the customer's id as a string, got {}",
                        other.map_or("nothing", kind)
                    ),
                ));
                None
            }
        };
        let churned = match object.get("churned") {
            Some(Value::Bool(b)) => Some(*b),
            Some(Value::Number(n)) if n.as_f64() == Some(1.0) => Some(true),
            Some(Value::Number(n)) if n.as_f64() == Some(0.0) => Some(false),
            Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "yes" | "true" | "1" => Some(true),
                "no" | "false" | "0" => Some(false),
                _ => None,
            },
            _ => None,
        };
        if churned.is_none() {
            problems.push(Problem::new(
                at("churned"),
                "expected true/false (or 1/0, yes/no)",
            ));
        }
        if let (Some(customer_id), Some(churned)) = (customer_id, churned) {
            labels.push(Label {
                customer_id,
                churned,
            });
        }
    }
    if problems.is_empty() {
        Ok(labels)
    } else {
        Err(ApiError::invalid_fields(problems))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_usual_spellings() {
        let labels = parse_labels(
            br#"{"labels": [{"customer_id": "C1", "churned": true}, {"customer_id": 7, "churned": 0},
                {"customer_id": "C3", "churned": "Yes"}]}"#,
        )
        .unwrap();
        assert_eq!(labels.len(), 3);
        assert_eq!(labels[1].customer_id, "7");
        assert!(!labels[1].churned && labels[2].churned);
    }

    #[test]
    fn reports_every_bad_entry() {
        let e = parse_labels(
            br#"{"labels": [{"customer_id": "", "churned": true}, {"customer_id": "C2", "churned": "maybe"}, 5]}"#,
        )
        .unwrap_err();
        let fields: Vec<_> = e.problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            ["labels[0].customer_id", "labels[1].churned", "labels[2]"]
        );
        assert_eq!(parse_labels(b"[]").unwrap_err().status, 400);
        assert_eq!(parse_labels(br#"{"labels": []}"#).unwrap_err().status, 400);
    }
}
