//! Artifact loading and scoring, structure-aware: the input does not spell an artifact (random
//! bytes almost never get past the JSON parser and the content hash) but says how to mutate one
//! of three valid small artifacts (gbdt, forest, logistic): which JSON node to change and how
//! (numbers to edge values, arrays shortened, lengthened, reordered, strings swapped, keys
//! removed). The mutated document is re-stamped with a valid content hash, as a crafted file
//! would be, so the loader's structural validation is what gets exercised. Loading must either
//! refuse it with an error or give an artifact that scores, explains and saves without a panic.
#![no_main]

use std::sync::OnceLock;

use ebb_core::data::ingest::{read_csv, CsvOptions};
use ebb_core::data::table::Table;
use ebb_core::insight::explain::Explainer;
use ebb_core::serve::artifact::Artifact;
use ebb_core::serve::scorer::Scorer;
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

/// Trained by `ebb train` on 300 generated customers (fuzz/README.md says how).
const ARTIFACTS: [&str; 3] = [
    include_str!("../fixtures/gbdt.json"),
    include_str!("../fixtures/forest.json"),
    include_str!("../fixtures/logistic.json"),
];
/// A few of the customers they were trained on, to score.
const CUSTOMERS: &str = include_str!("../fixtures/customers.csv");

struct Fixtures {
    artifacts: Vec<Value>,
    /// Per artifact, every string it holds.
    strings: Vec<Vec<String>>,
    customers: Table,
    records: Vec<Map<String, Value>>,
}

fn fixtures() -> &'static Fixtures {
    static CELL: OnceLock<Fixtures> = OnceLock::new();
    CELL.get_or_init(|| {
        let customers = read_csv(CUSTOMERS.as_bytes(), &CsvOptions::default()).unwrap();
        let records = (0..customers.n_rows())
            .map(|r| {
                customers
                    .names()
                    .iter()
                    .enumerate()
                    .map(|(c, name)| (name.clone(), Value::from(customers.raw(r, c))))
                    .collect()
            })
            .collect();
        let artifacts: Vec<Value> = ARTIFACTS
            .iter()
            .map(|json| {
                Artifact::from_json(json).expect("the fixture loads");
                serde_json::from_str(json).unwrap()
            })
            .collect();
        Fixtures {
            strings: artifacts
                .iter()
                .map(|a| {
                    let mut out = Vec::new();
                    strings(a, &mut out);
                    out
                })
                .collect(),
            artifacts,
            customers,
            records,
        }
    })
}

/// The number of nodes of `value`, itself included.
fn count(value: &Value) -> usize {
    1 + match value {
        Value::Array(items) => items.iter().map(count).sum(),
        Value::Object(map) => map.values().map(count).sum(),
        _ => 0,
    }
}

/// The `k`-th node of `value` in pre-order (0 is `value` itself). Walking to it, rather than
/// listing every node's path, keeps a mutation cheap: the fuzzer runs many per second.
fn nth<'v>(value: &'v mut Value, k: &mut usize) -> Option<&'v mut Value> {
    if *k == 0 {
        return Some(value);
    }
    *k -= 1;
    match value {
        Value::Array(items) => items.iter_mut().find_map(|item| nth(item, k)),
        Value::Object(map) => map.values_mut().find_map(|item| nth(item, k)),
        _ => None,
    }
}

/// Every string in `value` (names of columns, levels, families): the most plausible
/// replacements for a string.
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|item| strings(item, out)),
        Value::Object(map) => map.values().for_each(|item| strings(item, out)),
        _ => {}
    }
}

/// Numbers that break assumptions: zero, signs, off-by-one around small counts, the edges of
/// integer types and of f64.
const NUMBERS: [f64; 16] = [
    0.0,
    1.0,
    -1.0,
    2.0,
    3.0,
    0.5,
    -0.5,
    1e-300,
    1e308,
    -1e308,
    f64::MAX,
    255.0,
    65535.0,
    4294967295.0,
    9007199254740992.0,
    1e6,
];

fn number(x: f64) -> Value {
    if x.fract() == 0.0 && (0.0..=u64::MAX as f64).contains(&x) {
        Value::from(x as u64)
    } else {
        Value::from(x)
    }
}

/// One mutation of a node the input picks; `strings` are the fixture's strings.
fn mutate(u: &mut Unstructured, doc: &mut Value, strings: &[String]) -> Result<()> {
    let mut k = u.choose_index(count(doc))?;
    let node = nth(doc, &mut k).expect("k is below the node count");
    let how = u.int_in_range(0..=7u8)?;
    match node {
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(0.0);
            *node = match how {
                0 => number(x + 1.0),
                1 => number(x - 1.0),
                2 => number(-x),
                3 => number(x * 2.0),
                4 => Value::from(u.arbitrary::<i64>()?),
                5 => number(f64::from_bits(u.arbitrary()?)),
                _ => number(NUMBERS[u.choose_index(NUMBERS.len())?]),
            }
        }
        Value::Array(items) => match how {
            0 => {
                items.pop();
            }
            1 => items.clear(),
            2 => items.reverse(),
            3 if !items.is_empty() => {
                let i = u.choose_index(items.len())?;
                items.remove(i);
            }
            4 if !items.is_empty() => {
                let i = u.choose_index(items.len())?;
                items.insert(i, items[i].clone());
            }
            5 if !items.is_empty() => {
                let (i, j) = (u.choose_index(items.len())?, u.choose_index(items.len())?);
                items.swap(i, j);
            }
            _ => {
                if let Some(last) = items.last().cloned() {
                    items.push(last);
                }
            }
        },
        Value::String(s) => {
            *s = match how {
                0 => String::new(),
                1 => u.arbitrary::<String>()?,
                _ if !strings.is_empty() => strings[u.choose_index(strings.len())?].clone(),
                _ => String::new(),
            }
        }
        Value::Bool(b) => *b = !*b,
        Value::Object(map) if !map.is_empty() && how < 4 => {
            let key = map.keys().nth(u.choose_index(map.len())?).unwrap().clone();
            map.remove(&key);
        }
        // Replace the node with another type: what a wrong type does to the typed parse.
        other => {
            *other = match how {
                4 => Value::Null,
                5 => Value::from(0),
                6 => Value::Array(Vec::new()),
                _ => Value::from(""),
            }
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let fixtures = fixtures();
    let mut u = Unstructured::new(data);
    let Ok(which) = u.choose_index(fixtures.artifacts.len()) else {
        return;
    };
    let mut doc = fixtures.artifacts[which].clone();
    for _ in 0..4 {
        if u.is_empty() || mutate(&mut u, &mut doc, &fixtures.strings[which]).is_err() {
            break;
        }
    }
    // Re-stamped when the mutation still has the artifact's types; otherwise the typed parse
    // refuses it on load.
    let json = match serde_json::from_value::<Artifact>(doc.clone()) {
        Ok(tampered) => {
            let stamped = tampered
                .restamped()
                .expect("an artifact that parsed serialises");
            serde_json::to_string(&stamped).unwrap()
        }
        Err(_) => serde_json::to_string(&doc).unwrap(),
    };
    let Ok(artifact) = Artifact::from_json(&json) else {
        return;
    };
    let scorer = Scorer::new(&artifact);
    if let Ok(scores) = scorer.score_table(&fixtures.customers) {
        assert_eq!(scores.len(), fixtures.customers.n_rows());
    }
    for record in &fixtures.records {
        if let Ok(score) = scorer.score_json(record) {
            assert!(
                (0.0..=1.0).contains(&score.probability),
                "{}",
                score.probability
            );
        }
    }
    if let Ok(explainer) = Explainer::new(&artifact) {
        for record in &fixtures.records {
            if let Ok(explanation) = explainer.explain_json(record) {
                let _ = explanation.top_reasons(3);
            }
        }
    }
    // Whatever loads must save (the registry stores what it accepted).
    artifact.to_json().expect("a loaded artifact saves");
});
