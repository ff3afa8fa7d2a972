//! The edge's prediction request path, as the worker runs it for `POST /v1/predict[/batch]`:
//! route and `?explain=K` from the request target, the body read within the API's limits
//! (one customer straight into the model's inputs, a batch as objects),
//! every customer scored (with reasons when asked) by a fixed small model, the answer
//! serialised and the inputs logged. Input: the request target on the first line (e.g.
//! `/v1/predict/batch?explain=3`), the body after it. Bad input must become an `ApiError` or
//! per-field problems, never a panic.
#![no_main]

use std::sync::OnceLock;

use ebb_edge::model::LoadedModel;
use ebb_edge::request::{explain_count, parse_batch, parse_customer};
use ebb_edge::route::{query_of, Route};
use libfuzzer_sys::fuzz_target;

/// A gbdt trained by `ebb train` on 300 generated customers (fuzz/README.md says how).
const MODEL: &str = include_str!("../fixtures/gbdt.json");

fn model() -> &'static LoadedModel {
    static MODEL_CELL: OnceLock<LoadedModel> = OnceLock::new();
    MODEL_CELL.get_or_init(|| LoadedModel::from_json(MODEL).expect("the fixture model loads"))
}

fuzz_target!(|data: &[u8]| {
    let model = model();
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let Ok(target) = std::str::from_utf8(&data[..split]) else {
        return;
    };
    let body = data.get(split + 1..).unwrap_or_default();
    let path = target.split(['?', '#']).next().unwrap_or_default();
    let Ok(reasons) = explain_count(query_of(target)) else {
        return;
    };
    let check = |customer: &ebb_edge::model::Customer| {
        let _ = customer.customer_id();
        if let Ok(prediction) = model.predict(customer, reasons) {
            assert!((0.0..=1.0).contains(&prediction.probability));
            serde_json::to_string(&prediction).expect("a prediction serialises");
        }
        let _ = model.logged_inputs(customer);
    };
    match Route::parse("POST", path) {
        Ok(Route::Predict) => {
            // The typed reading accepts exactly the bodies the object reading accepts.
            let typed = model.read(body);
            assert_eq!(typed.is_ok(), parse_customer(body).is_ok());
            if let Ok(customer) = typed {
                check(&customer);
            }
        }
        Ok(Route::PredictBatch) => {
            if let Ok(records) = parse_batch(body) {
                for record in &records {
                    if let Ok(customer) = model.read_record(record) {
                        check(&customer);
                    }
                }
            }
        }
        _ => {}
    }
});
