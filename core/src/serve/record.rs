//! One customer given as a JSON object, read in one pass straight into a model's inputs.
//!
//! A [`Record`] holds, per pipeline input, the field as JSON typed it ([`Field`]), plus what a
//! server needs beside the score, taken from the same pass: the customer id, the raw value of
//! the time column (the snapshot date), and the fields the model does not know (sorted, as a
//! JSON object lists them). Each field name is looked up once in the model's [`RecordKeys`];
//! there is no intermediate map of names to values.
//!
//! The same reader runs over request bytes ([`RecordKeys::read_json`]) and over an already
//! parsed `serde_json::Map` ([`RecordKeys::read_map`]): both drive one `serde` visitor, so a
//! body and its parsed object always give the same record. Values of fields that are not
//! inputs, and arrays or objects in inputs, are still parsed in full as `serde_json::Value`:
//! the body is accepted or refused exactly as parsing it into a `serde_json::Value` would (same
//! syntax checks, same nesting limit, same error text), and a repeated name keeps its last
//! value, as in a map.

use alloc::borrow::Cow;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde::Deserialize;
use serde_json::{Map, Number, Value as Json};

use crate::data::table::{is_na, Value};
use crate::serve::artifact::Artifact;

/// Field holding the customer id when the training data named none.
pub const DEFAULT_ID_FIELD: &str = "customer_id";

/// One input field of a record, as JSON typed it.
#[derive(Debug, Clone, PartialEq)]
pub enum Field<'r> {
    /// Absent or `null`.
    Missing,
    /// `true` or `false`.
    Bool(bool),
    /// A JSON number, kept as parsed (so a log writes it back unchanged).
    Number(Number),
    /// A string (an NA token in it reads as missing).
    Text(Cow<'r, str>),
    /// An array or an object: a problem naming the field; reads as missing.
    Nested(Json),
}

impl Field<'_> {
    /// The raw value the pipeline reads: numbers as numbers, NA tokens as missing.
    pub fn value(&self) -> Value<'_> {
        match self {
            Field::Missing | Field::Nested(_) => Value::Missing,
            Field::Bool(b) => Value::Bool(*b),
            Field::Number(n) => n.as_f64().map_or(Value::Missing, Value::Number),
            Field::Text(s) if is_na(s) => Value::Missing,
            Field::Text(s) => Value::Text(s),
        }
    }

    /// The field of an already parsed value: what the visitor below makes of the same JSON
    /// (a `Value`'s number is the `Number` the visitor keeps, `null` is missing), without a
    /// second deserializer in the wasm.
    fn of(value: Json) -> Field<'static> {
        match value {
            Json::Null => Field::Missing,
            Json::Bool(b) => Field::Bool(b),
            Json::Number(n) => Field::Number(n),
            Json::String(s) => Field::Text(Cow::Owned(s)),
            nested => Field::Nested(nested),
        }
    }

    /// `an array` or `an object` for a nested value.
    pub fn nested_kind(&self) -> Option<&'static str> {
        match self {
            Field::Nested(Json::Array(_)) => Some("an array"),
            Field::Nested(_) => Some("an object"),
            _ => None,
        }
    }
}

/// Reads a field the way `serde_json::Value` reads it (same numbers, same `null`), keeping
/// strings borrowed from the body when they have no escapes.
impl<'de> Deserialize<'de> for Field<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(FieldVisitor)
    }
}

struct FieldVisitor;

impl<'de> Visitor<'de> for FieldVisitor {
    type Value = Field<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Field::Missing)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Field::Missing)
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
        Ok(Field::Bool(b))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
        Ok(Field::Number(n.into()))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
        Ok(Field::Number(n.into()))
    }

    fn visit_f64<E: de::Error>(self, x: f64) -> Result<Self::Value, E> {
        // As `serde_json::Value` does: a non-finite number (never parsed from JSON text) is null.
        Ok(Number::from_f64(x).map_or(Field::Missing, Field::Number))
    }

    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Field::Text(Cow::Borrowed(s)))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Field::Text(Cow::Owned(s.to_string())))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
        Ok(Field::Text(Cow::Owned(s)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Json::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(Field::Nested)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Json::deserialize(de::value::MapAccessDeserializer::new(map)).map(Field::Nested)
    }
}

/// What a field name is to the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Role {
    /// Index of the pipeline input, [`NOT_INPUT`] when none.
    input: u32,
    /// The customer-id field.
    id: bool,
    /// The time column (snapshot date).
    time: bool,
}

const NOT_INPUT: u32 = u32::MAX;

/// Where a logged field's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Logged {
    Input(u32),
    Time,
}

/// The field names one model reads, prepared once per model.
#[derive(Debug, Clone)]
pub struct RecordKeys {
    /// Every known name (inputs, time column, target, id field), sorted.
    names: Vec<(String, Role)>,
    /// Open-addressing hash table over `names`: slot `name_hash(name) & (len - 1)` onwards
    /// holds `1 + index` of the name in `names`, 0 ends the probe. A request's every key is
    /// looked up here, so one hash and (almost always) one comparison replace a binary
    /// search's five or six string comparisons. At most half full, and the set of names is
    /// the model's own, so no request can make a probe longer than the model's longest run.
    slots: Vec<u32>,
    inputs: usize,
    id_field: String,
    /// The inputs and the time column sorted by name: what a prediction log keeps.
    logged: Vec<(String, Logged)>,
}

impl RecordKeys {
    /// The names of `artifact`'s inputs, time column, target and id field (the artifact's id
    /// column, else [`DEFAULT_ID_FIELD`]).
    pub fn new(artifact: &Artifact) -> Self {
        let pipeline = &artifact.pipeline;
        let id_field = artifact
            .schema
            .id_column
            .clone()
            .unwrap_or_else(|| DEFAULT_ID_FIELD.to_string());
        let mut names: Vec<(String, Role)> = Vec::new();
        let mut role = |name: &str, edit: &dyn Fn(&mut Role)| {
            let at = match names.iter().position(|(n, _)| n == name) {
                Some(at) => at,
                None => {
                    names.push((
                        name.to_string(),
                        Role {
                            input: NOT_INPUT,
                            id: false,
                            time: false,
                        },
                    ));
                    names.len() - 1
                }
            };
            edit(&mut names[at].1);
        };
        for (i, input) in pipeline.inputs.iter().enumerate() {
            // A repeated input name (never written by training) keeps its first column, as a
            // lookup by name would.
            role(&input.name, &|r: &mut Role| {
                if r.input == NOT_INPUT {
                    r.input = i as u32;
                }
            });
        }
        if let Some(t) = &pipeline.time_column {
            role(t, &|r: &mut Role| r.time = true);
        }
        if let Some(t) = &artifact.schema.target {
            role(&t.name, &|_: &mut Role| {});
        }
        role(&id_field, &|r: &mut Role| r.id = true);
        crate::order::sort_by(&mut names, |a, b| a.0.cmp(&b.0));
        // `names` is sorted, so this is in name order too.
        let logged: Vec<(String, Logged)> = names
            .iter()
            .filter_map(|(name, role)| {
                if role.input != NOT_INPUT {
                    Some((name.clone(), Logged::Input(role.input)))
                } else if role.time {
                    Some((name.clone(), Logged::Time))
                } else {
                    None
                }
            })
            .collect();
        let slots = name_slots(&names);
        RecordKeys {
            names,
            slots,
            inputs: pipeline.inputs.len(),
            id_field,
            logged,
        }
    }

    /// The field naming the customer.
    pub fn id_field(&self) -> &str {
        &self.id_field
    }

    /// Whether `name` is a field the model knows (an input, the time column, the target or the
    /// id field).
    pub fn knows(&self, name: &str) -> bool {
        self.role(name).is_some()
    }

    fn role(&self, name: &str) -> Option<Role> {
        let mask = self.slots.len() - 1;
        let mut slot = name_hash(name) & mask;
        loop {
            let entry = *self.slots.get(slot)? as usize;
            let (known, role) = self.names.get(entry.checked_sub(1)?)?;
            if known == name {
                return Some(*role);
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Reads one customer from JSON text. Errors are `serde_json`'s own, as parsing `json` into
    /// a `serde_json::Value` would give them, except for a body that is valid JSON but not an
    /// object (an "invalid type" error).
    pub fn read_json<'r>(&self, json: &'r [u8]) -> Result<Record<'r>, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_slice(json);
        let record = RecordSeed(self).deserialize(&mut de)?;
        de.end()?;
        Ok(record)
    }

    /// Reads one customer from a parsed JSON object, with the same reader as
    /// [`RecordKeys::read_json`].
    pub fn read_map<'r>(
        &self,
        map: &'r Map<String, Json>,
    ) -> Result<Record<'r>, serde_json::Error> {
        RecordSeed(self).deserialize(map)
    }

    /// The part of `record` monitoring needs later (the model's inputs and the time column,
    /// without nulls), as a JSON object in name order: the text `serde_json` writes for the
    /// same fields of the request's object.
    pub fn logged_inputs(&self, record: &Record<'_>) -> String {
        serde_json::to_string(&LoggedInputs { keys: self, record }).unwrap_or_default()
    }
}

/// A field name's hash for [`RecordKeys`]' table: FxHash's multiply-rotate over 8-byte words,
/// seeded with the length (deterministic: the table is the model's, not an attacker's choice).
fn name_hash(name: &str) -> usize {
    const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
    let mut h = name.len() as u64;
    let mut words = name.as_bytes().chunks_exact(8);
    for w in &mut words {
        let mut word = [0u8; 8];
        word.copy_from_slice(w);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
    }
    let mut tail = [0u8; 8];
    tail[..words.remainder().len()].copy_from_slice(words.remainder());
    h = (h.rotate_left(5) ^ u64::from_le_bytes(tail)).wrapping_mul(K);
    // The top bits are the best mixed.
    (h >> 32) as usize
}

/// The hash table of [`RecordKeys::slots`] over `names`.
fn name_slots(names: &[(String, Role)]) -> Vec<u32> {
    let mut slots = vec![0u32; (2 * names.len()).next_power_of_two().max(2)];
    let mask = slots.len() - 1;
    for (at, (name, _)) in names.iter().enumerate() {
        let mut slot = name_hash(name) & mask;
        while slots[slot] != 0 {
            slot = (slot + 1) & mask;
        }
        slots[slot] = at as u32 + 1;
    }
    slots
}

/// One customer read by a model's [`RecordKeys`].
#[derive(Debug, Clone, PartialEq)]
pub struct Record<'r> {
    fields: Vec<Field<'r>>,
    id: Option<String>,
    time: Option<Json>,
    ignored: Vec<String>,
}

impl<'r> Record<'r> {
    /// Per pipeline input, the field as sent.
    pub fn fields(&self) -> &[Field<'r>] {
        &self.fields
    }

    /// Whether input `i` is absent or `null` (an NA token or a nested value was sent).
    pub fn is_absent(&self, i: usize) -> bool {
        matches!(self.fields.get(i), None | Some(Field::Missing))
    }

    /// The raw values the pipeline reads, aligned with its inputs.
    pub fn values(&self) -> Vec<Value<'_>> {
        self.fields.iter().map(Field::value).collect()
    }

    /// The snapshot date from the time column, when the record has a readable one.
    pub fn snapshot(&self) -> Option<f64> {
        self.time
            .as_ref()
            .and_then(Json::as_str)
            .and_then(crate::data::datetime::parse_datetime)
    }

    /// The customer id as text (a non-empty string, or a number as JSON writes it).
    pub fn customer_id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// Fields the model does not know (a typo shows up here), sorted, each once.
    pub fn ignored_fields(&self) -> &[String] {
        &self.ignored
    }
}

/// The customer id of an id field's value (taken, so a string id is not copied).
fn id_text(value: Json) -> Option<String> {
    match value {
        Json::String(s) if !s.is_empty() => Some(s),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

struct RecordSeed<'k>(&'k RecordKeys);

impl<'de> DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = Record<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_> {
    type Value = Record<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("one customer as a JSON object of fields")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let keys = self.0;
        let mut record = Record {
            fields: (0..keys.inputs).map(|_| Field::Missing).collect(),
            id: None,
            time: None,
            ignored: Vec::new(),
        };
        while let Some(key) = map.next_key_seed(KeySeed(keys))? {
            match key {
                Key::Unknown(name) => {
                    map.next_value::<Json>()?;
                    // Kept sorted and each once, as a JSON object lists its keys.
                    if let Err(at) = record.ignored.binary_search(&name) {
                        record.ignored.insert(at, name);
                    }
                }
                Key::Known(role) if !role.id && !role.time => {
                    if role.input == NOT_INPUT {
                        // The target: known, never read.
                        map.next_value::<Json>()?;
                    } else {
                        record.fields[role.input as usize] = map.next_value()?;
                    }
                }
                Key::Known(role) => {
                    let value: Json = map.next_value()?;
                    if role.input != NOT_INPUT {
                        record.fields[role.input as usize] = Field::of(value.clone());
                    }
                    if role.time {
                        if role.id {
                            record.id = id_text(value.clone());
                        }
                        record.time = Some(value);
                    } else if role.id {
                        record.id = id_text(value);
                    }
                }
            }
        }
        Ok(record)
    }
}

enum Key {
    Known(Role),
    Unknown(String),
}

struct KeySeed<'k>(&'k RecordKeys);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Self::Value, E> {
        Ok(match self.0.role(name) {
            Some(role) => Key::Known(role),
            None => Key::Unknown(name.to_string()),
        })
    }

    fn visit_string<E: de::Error>(self, name: String) -> Result<Self::Value, E> {
        Ok(match self.0.role(&name) {
            Some(role) => Key::Known(role),
            None => Key::Unknown(name),
        })
    }
}

struct LoggedInputs<'a, 'r> {
    keys: &'a RecordKeys,
    record: &'a Record<'r>,
}

impl Serialize for LoggedInputs<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (name, from) in &self.keys.logged {
            match from {
                Logged::Input(i) => match &self.record.fields[*i as usize] {
                    Field::Missing => {}
                    Field::Bool(b) => map.serialize_entry(name, b)?,
                    Field::Number(n) => map.serialize_entry(name, n)?,
                    Field::Text(s) => map.serialize_entry(name, s.as_ref())?,
                    Field::Nested(v) => map.serialize_entry(name, v)?,
                },
                Logged::Time => match &self.record.time {
                    None | Some(Json::Null) => {}
                    Some(v) => map.serialize_entry(name, v)?,
                },
            }
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    /// Every known name is found with its role through the hash table, including names that
    /// share a slot, and no other name is.
    #[test]
    fn hashed_lookup_finds_exactly_the_known_names() {
        let known: Vec<String> = (0..40)
            .map(|i| format!("field_{i}"))
            .chain(["", "a", "customer_id", "a_name_longer_than_sixteen_bytes"].map(String::from))
            .collect();
        let mut names: Vec<(String, Role)> = known
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let role = Role {
                    input: i as u32,
                    id: n == "customer_id",
                    time: false,
                };
                (n.clone(), role)
            })
            .collect();
        names.sort_by(|a, b| a.0.cmp(&b.0));
        let slots = name_slots(&names);
        let mask = slots.len() - 1;
        let mut homes: Vec<usize> = names.iter().map(|(n, _)| name_hash(n) & mask).collect();
        homes.sort_unstable();
        homes.dedup();
        assert!(
            homes.len() < names.len(),
            "no two names share a slot: probing is untested"
        );
        let keys = RecordKeys {
            names: names.clone(),
            slots,
            inputs: names.len(),
            id_field: "customer_id".into(),
            logged: Vec::new(),
        };
        for (name, role) in &names {
            assert_eq!(keys.role(name), Some(*role), "{name:?}");
        }
        for unknown in [
            "field_40",
            "field_",
            "Field_1",
            "b",
            "customer_i",
            "customer_idx",
        ] {
            assert_eq!(keys.role(unknown), None, "{unknown:?}");
        }
    }
}
