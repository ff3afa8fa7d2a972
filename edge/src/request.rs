//! Reading request bodies and query strings within the API's limits.

use serde_json::{Map, Value};

use crate::error::{ApiError, Problem};

/// Largest accepted request body (1 MiB).
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// Most customers in one batch request.
pub const MAX_BATCH: usize = 1000;
/// Most reasons a prediction can ask for.
pub const MAX_REASONS: usize = 20;

/// A JSON object: one customer's raw fields.
pub type Record = Map<String, Value>;

/// A size limit on request bodies, with what to do when it is exceeded.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit {
    /// Most bytes accepted.
    pub bytes: usize,
    /// Advice for the caller when the body is larger.
    pub advice: &'static str,
}

/// The limit of every JSON request except artifact uploads.
pub const REQUEST_LIMIT: BodyLimit = BodyLimit {
    bytes: MAX_BODY_BYTES,
    advice: "send fewer customers per request",
};

impl BodyLimit {
    /// Rejects a declared `Content-Length` over the limit before the body is read.
    pub fn check_declared(&self, content_length: Option<&str>) -> Result<(), ApiError> {
        match content_length.map(|v| v.trim().parse::<u64>()) {
            Some(Ok(n)) if n > self.bytes as u64 => Err(self.too_large(n)),
            _ => Ok(()),
        }
    }

    /// Rejects a body over the limit (for chunked requests without `Content-Length`).
    pub fn check(&self, body: &[u8]) -> Result<(), ApiError> {
        if body.len() > self.bytes {
            Err(self.too_large(body.len() as u64))
        } else {
            Ok(())
        }
    }

    fn too_large(&self, n: u64) -> ApiError {
        ApiError::too_large(format!(
            "the body has {n} bytes; the limit is {} bytes: {}",
            self.bytes, self.advice
        ))
    }
}

/// Parses a body as JSON, naming the line and column of a syntax error.
pub fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    REQUEST_LIMIT.check(body)?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "the body is empty: send a JSON object (Content-Type: application/json)",
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body is not valid JSON: {e} (line {}, column {})",
            e.line(),
            e.column()
        ))
    })
}

/// The body of `POST /v1/predict`: one customer as a JSON object.
pub fn parse_customer(body: &[u8]) -> Result<Record, ApiError> {
    match parse_json(body)? {
        Value::Object(record) => Ok(record),
        other => Err(ApiError::bad_request(format!(
            "expected one customer as a JSON object of fields, got {}; for several customers use POST /v1/predict/batch",
            kind(&other)
        ))),
    }
}

/// The body of `POST /v1/predict/batch`: `{"customers": [...]}` or a bare array, at most
/// [`MAX_BATCH`] objects.
pub fn parse_batch(body: &[u8]) -> Result<Vec<Record>, ApiError> {
    let items =
        match parse_json(body)? {
            Value::Array(items) => items,
            Value::Object(mut wrapper) => match wrapper.remove("customers") {
                Some(Value::Array(items)) => items,
                Some(other) => {
                    return Err(ApiError::invalid_fields(vec![Problem::new(
                        "customers",
                        format!(
                            "expected an array of customer objects, got {}",
                            kind(&other)
                        ),
                    )]))
                }
                None => return Err(ApiError::bad_request(
                    "expected {\"customers\": [ {...}, ... ]} or a JSON array of customer objects",
                )),
            },
            other => {
                return Err(ApiError::bad_request(format!(
                    "expected an array of customers, got {}",
                    kind(&other)
                )))
            }
        };
    if items.len() > MAX_BATCH {
        return Err(ApiError::too_large(format!(
            "the batch has {} customers; the limit is {MAX_BATCH}: split it",
            items.len()
        )));
    }
    if items.is_empty() {
        return Err(ApiError::bad_request("the batch has no customers"));
    }
    let mut problems = Vec::new();
    let records: Vec<Record> = items
        .into_iter()
        .enumerate()
        .filter_map(|(i, item)| match item {
            Value::Object(r) => Some(r),
            other => {
                problems.push(Problem::new(
                    format!("customers[{i}]"),
                    format!("expected a JSON object of fields, got {}", kind(&other)),
                ));
                None
            }
        })
        .collect();
    if problems.is_empty() {
        Ok(records)
    } else {
        Err(ApiError::invalid_fields(problems))
    }
}

/// The JSON type of `value` in words.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Value of query parameter `name` in `query` (the part after `?`), percent-decoding `%XX`
/// and `+`.
pub fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(k) == name).then(|| decode(v))
    })
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                bytes.get(i + 1).and_then(|&b| hex(b)),
                bytes.get(i + 2).and_then(|&b| hex(b)),
            ) {
                (Some(hi), Some(lo)) => {
                    out.push((hi * 16 + lo) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `?explain=K`: how many reasons to return (0 when absent).
pub fn explain_count(query: &str) -> Result<usize, ApiError> {
    match query_param(query, "explain") {
        None => Ok(0),
        Some(v) if v.is_empty() || v == "true" => Ok(3),
        Some(v) => match v.parse::<usize>() {
            Ok(k) if k <= MAX_REASONS => Ok(k),
            _ => Err(ApiError::invalid_fields(vec![Problem::new(
                "explain",
                format!("`{v}` is not a number of reasons from 0 to {MAX_REASONS}"),
            )])),
        },
    }
}

/// A whole-number query parameter within `range`, `default` when absent.
pub fn number_param(
    query: &str,
    name: &str,
    default: u64,
    range: core::ops::RangeInclusive<u64>,
) -> Result<u64, ApiError> {
    match query_param(query, name) {
        None => Ok(default),
        Some(v) => match v.parse::<u64>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(ApiError::invalid_fields(vec![Problem::new(
                name,
                format!(
                    "`{v}` is not a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            )])),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_bodies() {
        assert_eq!(parse_customer(br#"{"a": 1}"#).unwrap()["a"], 1);
        let e = parse_customer(b"[1]").unwrap_err();
        assert!(e.message.contains("an array"), "{e}");
        let e = parse_customer(b"{\"a\": ").unwrap_err();
        assert_eq!(e.status, 400);
        assert!(
            e.message.contains("not valid JSON") && e.message.contains("line 1"),
            "{e}"
        );
        assert!(parse_customer(b"  ").unwrap_err().message.contains("empty"));
    }

    #[test]
    fn batch_bodies_and_limits() {
        assert_eq!(parse_batch(br#"{"customers": [{}, {}]}"#).unwrap().len(), 2);
        assert_eq!(parse_batch(br#"[{}]"#).unwrap().len(), 1);
        let e = parse_batch(br#"[{}, 3, "x"]"#).unwrap_err();
        assert_eq!(e.problems.len(), 2);
        assert_eq!(e.problems[0].field, "customers[1]");
        let big = format!("[{}]", vec!["{}"; MAX_BATCH + 1].join(","));
        assert_eq!(parse_batch(big.as_bytes()).unwrap_err().status, 413);
        assert_eq!(parse_batch(b"[]").unwrap_err().status, 400);
        assert_eq!(parse_batch(br#"{"rows": []}"#).unwrap_err().status, 400);
    }

    #[test]
    fn body_size_limits() {
        let e = REQUEST_LIMIT.check_declared(Some("2000000")).unwrap_err();
        assert_eq!(e.status, 413);
        assert!(
            e.message.contains("1048576 bytes: send fewer customers"),
            "{e}"
        );
        assert!(REQUEST_LIMIT.check_declared(Some("100")).is_ok());
        assert!(REQUEST_LIMIT.check_declared(None).is_ok());
        let small = BodyLimit {
            bytes: 4,
            advice: "x",
        };
        assert_eq!(small.check(b"12345").unwrap_err().status, 413);
        assert!(small.check(b"1234").is_ok());
        let body = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(parse_json(&body).unwrap_err().status, 413);
    }

    #[test]
    fn query_parameters() {
        assert_eq!(explain_count("").unwrap(), 0);
        assert_eq!(explain_count("explain=5").unwrap(), 5);
        assert_eq!(explain_count("a=1&explain").unwrap(), 3);
        assert_eq!(
            explain_count("explain=99").unwrap_err().problems[0].field,
            "explain"
        );
        assert_eq!(explain_count("explain=-1").unwrap_err().status, 400);
        assert_eq!(query_param("q=a%20b+c&x=1", "q").as_deref(), Some("a b c"));
        assert_eq!(query_param("q=100%", "q").as_deref(), Some("100%"));
        assert_eq!(number_param("hours=48", "hours", 24, 1..=720).unwrap(), 48);
        assert_eq!(number_param("", "hours", 24, 1..=720).unwrap(), 24);
        assert!(number_param("hours=0", "hours", 24, 1..=720).is_err());
    }
}
