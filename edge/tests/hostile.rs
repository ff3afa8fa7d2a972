//! Hostile request bodies through the functions the worker's `/v1/predict` handler calls
//! (`LoadedModel::read`, then `LoadedModel::predict`): each gets a clear 4xx or a sound
//! prediction, never a panic, a stack overflow, or a NaN/infinite probability.

use ebb_core::model::family::Family;
use ebb_core::train::TrainParams;
use ebb_edge::error::ApiError;
use ebb_edge::model::{LoadedModel, Prediction};
use ebb_edge::request::{parse_batch, parse_customer, Record, MAX_BODY_BYTES};
use serde_json::{json, Value};

/// A model of `family` and one valid customer for it, as a JSON object.
fn model(family: Family) -> (LoadedModel, Record) {
    let params = TrainParams::default()
        .with_families(vec![family])
        .with_folds(3)
        .with_seed(5);
    let (artifact, table, _) = ebb_tests::synthetic_artifact(1500, &params);
    let model = LoadedModel::from_json(&artifact.to_json().unwrap()).unwrap();
    (model, ebb_tests::json_record(&table, 0))
}

/// What the worker answers for `body` on `POST /v1/predict` (before logging): the prediction,
/// or the status and message of the error. The model's typed reading of the body answers
/// exactly as reading it into a JSON object first does.
fn answer(model: &LoadedModel, body: &[u8]) -> Result<Prediction, ApiError> {
    let typed = model
        .read(body)
        .and_then(|c| model.predict(&c, 3).map_err(ApiError::invalid_fields));
    let through_object = parse_customer(body).and_then(|record| {
        let c = model.read_record(&record)?;
        model.predict(&c, 3).map_err(ApiError::invalid_fields)
    });
    assert_eq!(typed, through_object);
    typed
}

/// `record` with `edit` applied, as a request body.
fn body(record: &Record, edit: impl FnOnce(&mut Record)) -> Vec<u8> {
    let mut r = record.clone();
    edit(&mut r);
    Value::Object(r).to_string().into_bytes()
}

/// The expected answer to a hostile body.
enum Want {
    /// This status, with a message (or a problem's message) containing the text.
    Refused(u16, &'static str),
    /// A prediction with a probability in [0, 1] and finite reasons.
    Scored,
    /// A prediction whose `customer_id` is exactly this.
    Id(String),
}

fn check(family: Family) {
    let (model, valid) = model(family);
    let numeric: Vec<String> = model
        .summary()
        .inputs
        .iter()
        .filter(|i| i.kind == "numeric")
        .map(|i| i.name.clone())
        .collect();
    assert!(!numeric.is_empty());
    let first = numeric[0].clone();
    let every_numeric = |x: f64| {
        body(&valid, |r| {
            for name in &numeric {
                r.insert(name.clone(), json!(x));
            }
        })
    };
    let with_raw = |value: &str| {
        // A literal serde_json would never write, spliced in as text.
        let text = String::from_utf8(body(&valid, |r| {
            r.insert(first.clone(), json!("SPLICE"));
        }))
        .unwrap();
        text.replace("\"SPLICE\"", value).into_bytes()
    };
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    let with_id = |id: &str| {
        body(&valid, |r| {
            r.insert("customer_id".into(), json!(id));
        })
    };
    let long_string = "x".repeat(MAX_BODY_BYTES);
    let long_id = "é".repeat(200_000);
    let long_name = "n".repeat(100 * 1024);
    let cases: Vec<(&str, Vec<u8>, Want)> = vec![
        (
            "a body nested 10,000 deep",
            deep(10_000).into_bytes(),
            Want::Refused(400, "recursion limit exceeded"),
        ),
        (
            "a field nested 10,000 deep",
            with_raw(&deep(10_000)),
            Want::Refused(400, "recursion limit exceeded"),
        ),
        (
            "a field nested 100 deep",
            with_raw(&deep(100)),
            Want::Refused(400, "an array"),
        ),
        (
            "a 1 MiB string field",
            body(&valid, |r| {
                r.insert("notes".into(), json!(long_string));
            }),
            Want::Refused(413, "the limit is 1048576 bytes"),
        ),
        ("NaN", with_raw("NaN"), Want::Refused(400, "not valid JSON")),
        (
            "Infinity",
            with_raw("Infinity"),
            Want::Refused(400, "not valid JSON"),
        ),
        (
            "-Infinity",
            with_raw("-Infinity"),
            Want::Refused(400, "not valid JSON"),
        ),
        (
            "1e999",
            with_raw("1e999"),
            Want::Refused(400, "number out of range"),
        ),
        (
            "-1e999",
            with_raw("-1e999"),
            Want::Refused(400, "number out of range"),
        ),
        ("1e308 everywhere", every_numeric(1e308), Want::Scored),
        ("-1e308 everywhere", every_numeric(-1e308), Want::Scored),
        ("f64::MAX everywhere", every_numeric(f64::MAX), Want::Scored),
        ("\"1e308\" as text", with_raw("\"1e308\""), Want::Scored),
        ("\"NaN\" as text", with_raw("\"NaN\""), Want::Scored),
        (
            "\"Infinity\" as text",
            with_raw("\"Infinity\""),
            Want::Refused(400, "`Infinity` is not a valid number"),
        ),
        ("a CJK id", with_id("客户-٣٤٥"), Want::Id("客户-٣٤٥".into())),
        (
            "an RTL-override id",
            with_id("\u{202E}cba\u{202C}"),
            Want::Id("\u{202E}cba\u{202C}".into()),
        ),
        ("an emoji id", with_id("👩‍👩‍👧-42"), Want::Id("👩‍👩‍👧-42".into())),
        ("a NUL in the id", with_id("a\0b"), Want::Id("a\0b".into())),
        (
            "an escaped lone surrogate in the id",
            with_raw_id(&valid, "\"\\ud800\""),
            Want::Refused(400, "not valid JSON"),
        ),
        ("a 400 KB id", with_id(&long_id), Want::Id(long_id.clone())),
        (
            "a field name 100 KB long",
            body(&valid, |r| {
                r.insert(long_name.clone(), json!(1));
            }),
            Want::Scored,
        ),
    ];
    for (name, body, want) in cases {
        let got = answer(&model, &body);
        let case = format!("{family:?}: {name}");
        match (want, got) {
            (Want::Refused(status, text), Err(e)) => {
                assert_eq!(e.status, status, "{case}: {e}");
                let said = core::iter::once(e.message.as_str())
                    .chain(e.problems.iter().map(|p| p.message.as_str()))
                    .any(|m| m.contains(text));
                assert!(said, "{case}: `{text}` not in {}", e.to_json());
            }
            (Want::Scored, Ok(p)) => sound(&case, &p),
            (Want::Id(id), Ok(p)) => {
                sound(&case, &p);
                // Round-trips through the answer's JSON unchanged.
                let answer: Value = serde_json::from_str(&serde_json::to_string(&p).unwrap())
                    .expect("the answer is valid JSON");
                assert_eq!(answer["customer_id"].as_str(), Some(id.as_str()), "{case}");
            }
            (_, got) => panic!("{case}: unexpected {:?}", got.map(|p| p.probability)),
        }
    }
    // The long field name is ignored by name, in full.
    let p = answer(
        &model,
        &body(&valid, |r| {
            r.insert(long_name.clone(), json!(1));
        }),
    )
    .unwrap();
    assert_eq!(p.ignored_fields, [long_name]);
    // The same bodies in a batch: the nesting limit holds there too.
    let e = parse_batch(format!("[{}]", deep(10_000)).as_bytes()).unwrap_err();
    assert_eq!(e.status, 400, "{e}");
}

/// `valid` with its `customer_id` replaced by raw JSON text (an escape serde_json would not
/// write).
fn with_raw_id(valid: &Record, raw: &str) -> Vec<u8> {
    let mut r = valid.clone();
    r.insert("customer_id".into(), json!("SPLICE"));
    Value::Object(r)
        .to_string()
        .replace("\"SPLICE\"", raw)
        .into_bytes()
}

/// A prediction a caller can use: a probability in [0, 1], finite reasons.
fn sound(case: &str, p: &Prediction) {
    assert!(
        (0.0..=1.0).contains(&p.probability),
        "{case}: probability {}",
        p.probability
    );
    for r in p.reasons.iter().flatten() {
        assert!(r.contribution.is_finite(), "{case}: reason {r:?}");
    }
    // serde_json writes a NaN or infinity as `null`: the answer must carry a number.
    let answer: Value = serde_json::from_str(&serde_json::to_string(p).unwrap()).unwrap();
    assert!(answer["probability"].is_f64(), "{case}: {answer}");
}

#[test]
fn hostile_bodies_to_a_boosted_model() {
    check(Family::Gbdt);
}

#[test]
fn hostile_bodies_to_a_logistic_model() {
    check(Family::Logistic);
}

#[test]
fn hostile_bodies_to_a_forest() {
    check(Family::Forest);
}
