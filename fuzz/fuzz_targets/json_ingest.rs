//! JSON record ingest (`[{"id": 1, "plan": "pro"}, ...]`): any bytes either read into a table
//! or fail with a typed error, never a panic; a table read has one row per object of a JSON
//! array and one column per distinct key.
#![no_main]

use ebb_core::data::ingest::read_json;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(table) = read_json(data) else {
        return;
    };
    let value: serde_json::Value =
        serde_json::from_slice(data).expect("read_json accepted what serde_json refuses");
    let items = value.as_array().expect("read_json accepted a non-array");
    assert_eq!(table.n_rows(), items.len());
    let mut keys: Vec<&str> = items
        .iter()
        .flat_map(|item| item.as_object().expect("a row that is no object").keys())
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(table.n_cols(), keys.len());
});
