//! Reading the artifact's (and the edge's) structs and unit enums with less code per type.
//!
//! serde's derived `Deserialize` for a struct compiles, per struct and per reader, a
//! `deserialize_struct` that accepts a JSON object (`visit_map`) *and* a JSON array of the
//! fields in order (`visit_seq`, which Ebb never writes), plus a field-name matcher of its own.
//! In the worker's wasm those were the largest part of serde_json's code (BENCHMARKS.md, "Worker
//! wasm size: map-only struct readers"). [`map_struct!`](crate::map_struct!) implements
//! `Deserialize` with only the object reader: the keys are matched by one shared function over
//! the struct's field names ([`FieldKey`]), so per struct only the typed reads of its values
//! stay.
//!
//! What is accepted and what is said is serde's: unknown fields are skipped (or rejected with
//! serde's ``unknown field `x`, expected one of ...`` where the struct asks for it), a missing
//! field is ``missing field `x` `` unless it has a default (an `Option` field is `None`, as with
//! the derive), a repeated one ``duplicate field `x` ``, a wrong type is serde's ``invalid type:
//! ..., expected struct Tree``, all with serde_json's line and column. The one difference: a
//! struct written as a JSON array of its fields, which serde accepted and no Ebb file or request
//! contains, is now ``invalid type: sequence, expected struct Tree``.
//!
//! [`unit_enum!`](crate::unit_enum!) does the same for enums of unit variants written as their
//! names (`"numeric"`): one shared visitor reads the variant's index from the enum's names.
//!
//! Writing keeps serde's derive: the files are unchanged, byte for byte.

use core::fmt;
use core::marker::PhantomData;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};

#[doc(hidden)]
pub use serde as __serde;

/// A struct read by [`deserialize`]; implemented by [`map_struct!`](crate::map_struct!).
pub trait MapStruct: Sized {
    /// The struct's name in messages (``expected struct Tree``, as serde says).
    const NAME: &'static str;
    /// Reads the struct's fields from the entries of one JSON object.
    fn read_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error>;
}

/// The `Deserialize` of a [`MapStruct`]: a map, never a sequence.
pub fn deserialize<'de, T: MapStruct, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    d.deserialize_map(StructVisitor(PhantomData))
}

struct StructVisitor<T>(PhantomData<T>);

impl<'de, T: MapStruct> Visitor<'de> for StructVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "struct {}", T::NAME)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::read_map(map)
    }
}

/// Reads one key of a struct's object as the index of the field it names in `fields`, or
/// `None` for a key that names no field (an error instead when unknown fields are denied).
/// The same code for every struct: only the list of names differs.
#[derive(Clone, Copy)]
pub struct FieldKey {
    fields: &'static [&'static str],
    deny_unknown: bool,
}

impl FieldKey {
    pub const fn new(fields: &'static [&'static str], deny_unknown: bool) -> Self {
        FieldKey {
            fields,
            deny_unknown,
        }
    }
}

impl<'de> DeserializeSeed<'de> for FieldKey {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for FieldKey {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("field identifier")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Option<usize>, E> {
        match self.fields.iter().position(|field| *field == key) {
            Some(index) => Ok(Some(index)),
            None if self.deny_unknown => Err(E::unknown_field(key, self.fields)),
            None => Ok(None),
        }
    }
}

/// The value of a field absent from the object, as serde's derive gives it: `None` for an
/// `Option`, ``missing field `x` `` for anything else.
pub fn missing<'de, T: de::Deserialize<'de>, E: de::Error>(field: &'static str) -> Result<T, E> {
    T::deserialize(MissingField(field, PhantomData))
}

struct MissingField<E>(&'static str, PhantomData<E>);

impl<'de, E: de::Error> Deserializer<'de> for MissingField<E> {
    type Error = E;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, E> {
        Err(E::missing_field(self.0))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        visitor.visit_none()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier
        ignored_any
    }
}

/// An enum of unit variants written as their names (`"numeric"`), read by
/// [`deserialize_unit_enum`]; implemented by [`unit_enum!`](crate::unit_enum!).
pub trait UnitEnum: Sized + Copy + 'static {
    /// The enum's name in messages (``expected enum ColumnKind``, as serde says).
    const NAME: &'static str;
    /// The variants' names as written.
    const VARIANTS: &'static [&'static str];
    /// The variants, in the order of [`UnitEnum::VARIANTS`].
    const VALUES: &'static [Self];
}

/// The `Deserialize` of a [`UnitEnum`]: serde's derive compiled a variant-name matcher and an
/// enum reader per enum; this reads the variant's index through one visitor shared by all of
/// them. It takes what the derive took (`"numeric"`, and serde_json's `{"numeric": null}`) and
/// says what it said (``unknown variant `x`, expected one of ...``).
pub fn deserialize_unit_enum<'de, T: UnitEnum, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    let index = d.deserialize_enum(
        T::NAME,
        T::VARIANTS,
        VariantIndex {
            name: T::NAME,
            variants: T::VARIANTS,
        },
    )?;
    Ok(T::VALUES[index])
}

/// Reads a unit variant as its index in `variants`.
#[derive(Clone, Copy)]
struct VariantIndex {
    name: &'static str,
    variants: &'static [&'static str],
}

impl<'de> Visitor<'de> for VariantIndex {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "enum {}", self.name)
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<usize, A::Error> {
        let (index, variant) = data.variant_seed(self)?;
        de::VariantAccess::unit_variant(variant)?;
        Ok(index)
    }
}

/// The variant's name, as the index of the variant it names.
impl<'de> DeserializeSeed<'de> for VariantIndex {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_identifier(VariantName(self.variants))
    }
}

struct VariantName(&'static [&'static str]);

impl<'de> Visitor<'de> for VariantName {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("variant identifier")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<usize, E> {
        self.0
            .iter()
            .position(|variant| *variant == name)
            .ok_or_else(|| E::unknown_variant(name, self.0))
    }
}

/// Implements `Deserialize` for an enum of unit variants through [`UnitEnum`]; name every
/// variant with the name it is written as (keep `#[derive(Serialize)]` and its `rename_all`):
///
/// ```
/// #[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
/// #[serde(rename_all = "snake_case")]
/// enum Side {
///     Left,
///     RightOnly,
/// }
/// ebb_core::unit_enum!(Side { Left as "left", RightOnly as "right_only" });
///
/// assert_eq!(serde_json::from_str::<Side>(r#""right_only""#).unwrap(), Side::RightOnly);
/// let e = serde_json::from_str::<Side>(r#""up""#).unwrap_err();
/// assert_eq!(
///     e.to_string(),
///     "unknown variant `up`, expected `left` or `right_only` at line 1 column 4"
/// );
/// ```
#[macro_export]
macro_rules! unit_enum {
    ($ty:ident { $($variant:ident as $name:literal),+ $(,)? }) => {
        impl<'de> $crate::map_struct::__serde::Deserialize<'de> for $ty {
            fn deserialize<D: $crate::map_struct::__serde::Deserializer<'de>>(
                d: D,
            ) -> ::core::result::Result<Self, D::Error> {
                $crate::map_struct::deserialize_unit_enum(d)
            }
        }

        impl $crate::map_struct::UnitEnum for $ty {
            const NAME: &'static str = ::core::stringify!($ty);
            const VARIANTS: &'static [&'static str] = &[$($name),+];
            const VALUES: &'static [Self] = &[$($ty::$variant),+];
        }
    };
}

/// Implements `Deserialize` for a struct through [`MapStruct`], reading a JSON object only.
/// Name every field, in declaration order, with its serde options: `= EXPR` for
/// `#[serde(default)]` (`Default::default()`) or `#[serde(default = "f")]` (`f()`), `as "name"`
/// for `#[serde(rename = "name")]` (keep the attribute too: `Serialize` writes that name),
/// `via Wrapper` for `#[serde(deserialize_with = ...)]` (a newtype whose `Deserialize` reads
/// the field's value as `.0`), and `, deny_unknown_fields` after the struct's name for the
/// container attribute:
///
/// ```
/// use serde::Serialize;
///
/// #[derive(Debug, Serialize)]
/// struct Split {
///     feature: u32,
///     #[serde(skip_serializing_if = "Vec::is_empty")]
///     levels: Vec<u32>,
///     note: Option<String>,
///     #[serde(rename = "type")]
///     kind: String,
/// }
/// ebb_core::map_struct!(Split {
///     feature,                     // required
///     levels = Default::default(), // absent: empty
///     note,                        // an `Option` may be absent: `None`, as with the derive
///     kind as "type",
/// });
///
/// let split: Split = serde_json::from_str(r#"{"type":"numeric","feature":3}"#).unwrap();
/// assert!(split.levels.is_empty() && split.note.is_none());
/// let e = serde_json::from_str::<Split>(r#"{"feature":3}"#).unwrap_err();
/// assert_eq!(e.to_string(), "missing field `type` at line 1 column 13");
/// ```
#[macro_export]
macro_rules! map_struct {
    ($ty:ident $(, $deny:ident)? {
        $($field:ident $(as $rename:literal)? $(via $via:ty)? $(= $default:expr)?),+ $(,)?
    }) => {
        impl<'de> $crate::map_struct::__serde::Deserialize<'de> for $ty {
            fn deserialize<D: $crate::map_struct::__serde::Deserializer<'de>>(
                d: D,
            ) -> ::core::result::Result<Self, D::Error> {
                $crate::map_struct::deserialize(d)
            }
        }

        impl $crate::map_struct::MapStruct for $ty {
            const NAME: &'static str = ::core::stringify!($ty);

            fn read_map<'de, A: $crate::map_struct::__serde::de::MapAccess<'de>>(
                mut map: A,
            ) -> ::core::result::Result<Self, A::Error> {
                const FIELDS: &[&str] = &[$($crate::map_struct!(@name $field $($rename)?)),+];
                // The fields' indices in `FIELDS`, by name.
                #[allow(non_camel_case_types)]
                enum Index {
                    $($field),+
                }
                const KEY: $crate::map_struct::FieldKey =
                    $crate::map_struct::FieldKey::new(FIELDS, $crate::map_struct!(@deny $($deny)?));
                $(let mut $field = ::core::option::Option::None;)+
                // A repeated field ends the loop with its index: one error site per struct.
                let repeated = loop {
                    let ::core::option::Option::Some(key) = map.next_key_seed(KEY)? else {
                        break ::core::option::Option::None;
                    };
                    match key {
                        $(::core::option::Option::Some(i) if i == Index::$field as usize => {
                            if $field.is_some() {
                                break ::core::option::Option::Some(i);
                            }
                            $field = ::core::option::Option::Some(
                                $crate::map_struct!(@value map $($via)?),
                            );
                        })+
                        _ => {
                            map.next_value::<$crate::map_struct::__serde::de::IgnoredAny>()?;
                        }
                    }
                };
                if let ::core::option::Option::Some(i) = repeated {
                    return ::core::result::Result::Err(
                        <A::Error as $crate::map_struct::__serde::de::Error>::duplicate_field(FIELDS[i]),
                    );
                }
                ::core::result::Result::Ok($ty {
                    $($field: match $field {
                        ::core::option::Option::Some(value) => value,
                        ::core::option::Option::None => $crate::map_struct!(
                            @missing A, FIELDS[Index::$field as usize] $(, $default)?
                        ),
                    }),+
                })
            }
        }
    };
    (@name $field:ident) => { ::core::stringify!($field) };
    (@name $field:ident $rename:literal) => { $rename };
    (@value $map:ident) => { $map.next_value()? };
    (@value $map:ident $via:ty) => { $map.next_value::<$via>()?.0 };
    (@deny) => { false };
    (@deny deny_unknown_fields) => { true };
    (@missing $a:ident, $name:expr) => { $crate::map_struct::missing::<_, $a::Error>($name)? };
    (@missing $a:ident, $name:expr, $default:expr) => { $default };
}

#[cfg(test)]
mod tests {
    use crate::model::tree::Tree;
    use alloc::string::{String, ToString};
    use alloc::vec;

    /// `Tree` as serde's derive reads it: the reference for what is accepted and what is said.
    mod derived {
        use alloc::vec::Vec;
        use serde::Deserialize;

        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        pub struct Tree {
            feature: Vec<u32>,
            threshold: Vec<f64>,
            default_left: Vec<bool>,
            left: Vec<u32>,
            right: Vec<u32>,
            value: Vec<f64>,
            cover: Vec<f64>,
            #[serde(default)]
            categories: Vec<Vec<u32>>,
        }
    }

    /// `ColumnKind` as serde's derive reads it.
    mod derived_kind {
        #[derive(Debug, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[allow(dead_code)]
        pub enum ColumnKind {
            Numeric,
            Boolean,
            Categorical,
            Datetime,
            Identifier,
            Text,
        }
    }

    #[test]
    fn unit_enums_read_what_and_say_what_the_derive_did() {
        use crate::data::schema::ColumnKind;
        let read = |json: &str| {
            let ours = serde_json::from_str::<ColumnKind>(json).map_err(|e| e.to_string());
            let derived = serde_json::from_str::<derived_kind::ColumnKind>(json);
            assert_eq!(
                ours.as_ref().err(),
                derived.as_ref().err().map(|e| e.to_string()).as_ref(),
                "{json}"
            );
            // Through serde_json's `Value` too (request bodies are read that way).
            let value = serde_json::from_str::<serde_json::Value>(json);
            if let Ok(value) = value {
                let ours = serde_json::from_value::<ColumnKind>(value.clone());
                let derived = serde_json::from_value::<derived_kind::ColumnKind>(value);
                assert_eq!(
                    ours.as_ref().err().map(|e| e.to_string()),
                    derived.as_ref().err().map(|e| e.to_string()),
                    "{json} as a value"
                );
            }
            ours
        };
        assert_eq!(read(r#""numeric""#), Ok(ColumnKind::Numeric));
        assert_eq!(read(r#" "text" "#), Ok(ColumnKind::Text));
        assert_eq!(read(r#"{"datetime":null}"#), Ok(ColumnKind::Datetime));
        assert_eq!(
            read(r#""Numeric""#),
            Err(
                "unknown variant `Numeric`, expected one of `numeric`, `boolean`, `categorical`, \
                 `datetime`, `identifier`, `text` at line 1 column 9"
                    .to_string()
            )
        );
        for json in [
            "3",
            "null",
            "[\"numeric\"]",
            "{}",
            r#"{"numeric":1}"#,
            r#"{"nope":null}"#,
            r#"{"numeric":null,"text":null}"#,
            "\"numeric",
        ] {
            assert!(read(json).is_err(), "{json}");
        }
    }

    fn read(json: &str) -> Result<Tree, String> {
        serde_json::from_slice(json.as_bytes()).map_err(|e| e.to_string())
    }

    /// Reads `json` as a `Tree` and checks the derive gives the same message (or also reads it).
    fn read_like_the_derive(json: &str) -> Result<Tree, String> {
        let ours = read(json);
        let derived = serde_json::from_slice::<derived::Tree>(json.as_bytes());
        assert_eq!(
            ours.as_ref().err(),
            derived.as_ref().err().map(|e| e.to_string()).as_ref(),
            "{json}"
        );
        ours
    }

    const LEAF: &str = r#""feature":[4294967295],"threshold":[0.0],"default_left":[false],"left":[0],"right":[0],"value":[0.5],"cover":[3.0]"#;

    fn leaf() -> Tree {
        Tree {
            feature: vec![u32::MAX],
            threshold: vec![0.0],
            default_left: vec![false],
            left: vec![0],
            right: vec![0],
            value: vec![0.5],
            cover: vec![3.0],
            categories: vec![],
        }
    }

    #[test]
    fn fields_in_any_order_unknown_ones_skipped_defaults_filled() {
        assert_eq!(read_like_the_derive(&["{", LEAF, "}"].concat()), Ok(leaf()));
        let reordered = r#"{"cover":[3.0],"value":[0.5],"right":[0],"left":[0],"default_left":[false],"threshold":[0.0],"feature":[4294967295]}"#;
        assert_eq!(read_like_the_derive(reordered), Ok(leaf()));
        let extra = [
            "{",
            LEAF,
            r#","note":{"any":[1,"x",null]},"categories":[[]]}"#,
        ]
        .concat();
        let mut with_categories = leaf();
        with_categories.categories = vec![vec![]];
        assert_eq!(read_like_the_derive(&extra), Ok(with_categories));
        // What is written reads back the same.
        let written = serde_json::to_string(&leaf()).unwrap();
        assert_eq!(read_like_the_derive(&written), Ok(leaf()));
    }

    #[test]
    fn missing_duplicate_and_wrong_typed_fields_are_named_as_serde_names_them() {
        let missing = r#"{"feature":[1],"threshold":[0.0],"default_left":[false],"left":[0],"right":[0],"value":[0.5]}"#;
        assert_eq!(
            read_like_the_derive(missing),
            Err("missing field `cover` at line 1 column 93".to_string())
        );
        let duplicate = ["{", LEAF, r#","value":[1.0]}"#].concat();
        assert_eq!(
            read_like_the_derive(&duplicate),
            Err("duplicate field `value` at line 1 column 123".to_string())
        );
        let wrong = "{\n\"feature\":[1],\n\"threshold\":\"half\"}";
        assert_eq!(
            read_like_the_derive(wrong),
            Err(
                "invalid type: string \"half\", expected a sequence at line 3 column 18"
                    .to_string()
            )
        );
        for json in [
            "3",
            "null",
            "\"tree\"",
            "{",
            r#"{"feature":[1],}"#,
            r#"{"feature":[1] "threshold":[]}"#,
            r#"{"feature":[-1]}"#,
            r#"{"categories":[[1]],"categories":[]}"#,
            r#"{"feature":[],"threshold":[],"default_left":[],"left":[],"right":[],"value":[],"cover":[]}x"#,
        ] {
            assert!(read_like_the_derive(json).is_err(), "{json}");
        }
    }

    #[test]
    fn a_struct_written_as_an_array_is_rejected() {
        // serde's derive read a struct from an array of its fields in order; Ebb never writes
        // one, and the map-only reader says what it expected instead.
        let array = r#"[[1],[0.0],[false],[0],[0],[0.5],[3.0]]"#;
        assert!(serde_json::from_str::<derived::Tree>(array).is_ok());
        assert_eq!(
            read(array),
            Err("invalid type: sequence, expected struct Tree at line 1 column 0".to_string())
        );
    }
}
