//! Reading the artifact's internally tagged enums (`{"family": "gbdt", ...}`) without serde's
//! buffering.
//!
//! serde's derived `#[serde(tag = "...")]` reading buffers the whole object into its private
//! `Content` tree (the tag may come last) and then reads the variant from that tree: every type
//! nested in a tagged enum (a model's trees, an encoder's levels) is compiled a second time for
//! that tree, besides its copy for JSON text, and the buffer doubles a big model's memory while
//! it loads. Ebb writes the tag first (serde serialises it first), so these enums read the tag
//! and then hand the rest of the same map to the variant's own reader: one copy of every nested
//! reader, no buffer. A file whose tag is not first (keys reordered by a tool) still loads,
//! through a slower path that rewrites the object with its tag first (see [`deserialize`]).
//!
//! Writing keeps serde's derive: the files are unchanged, byte for byte.

use alloc::format;
use alloc::string::String;
use core::fmt;
use core::marker::PhantomData;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, Visitor};

/// An internally tagged enum read by [`deserialize`].
pub(crate) trait Tagged: DeserializeOwned {
    /// The enum's name in messages (`expected internally tagged enum Model`, as serde says).
    const NAME: &'static str;
    /// The key holding the variant's name.
    const TAG: &'static str;
    /// The variants' names as written, in the order [`Tagged::read`] takes their index.
    const VARIANTS: &'static [&'static str];
    /// Reads variant `VARIANTS[index]` from the entries after the tag.
    fn read<'de, D: Deserializer<'de>>(index: usize, rest: D) -> Result<Self, D::Error>;
}

/// Implements `Deserialize` for a [`Tagged`] enum through [`deserialize`].
macro_rules! deserialize_tagged {
    ($enum:ty) => {
        impl<'de> serde::Deserialize<'de> for $enum {
            fn deserialize<D: serde::Deserializer<'de>>(
                d: D,
            ) -> core::result::Result<Self, D::Error> {
                $crate::tagged::deserialize(d)
            }
        }
    };
}
pub(crate) use deserialize_tagged;

/// The `Deserialize` of a [`Tagged`] enum. The messages are serde's own for a missing tag
/// (``missing field `family` ``) and an unknown one (``unknown variant `x`, expected one of
/// ...``); a variant's fields report their errors as before, with the field named.
pub(crate) fn deserialize<'de, T: Tagged, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    d.deserialize_map(TaggedVisitor(PhantomData))
}

struct TaggedVisitor<T>(PhantomData<T>);

fn variant<T: Tagged, E: de::Error>(name: &str) -> Result<usize, E> {
    T::VARIANTS
        .iter()
        .position(|v| *v == name)
        .ok_or_else(|| E::unknown_variant(name, T::VARIANTS))
}

impl<'de, T: Tagged> Visitor<'de> for TaggedVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "internally tagged enum {}", T::NAME)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let Some(first) = map.next_key::<String>()? else {
            return Err(de::Error::missing_field(T::TAG));
        };
        if first == T::TAG {
            let name: String = map.next_value()?;
            let index = variant::<T, A::Error>(&name)?;
            return T::read(index, MapAccessDeserializer::new(map));
        }
        // The tag is elsewhere (never in a file Ebb wrote): gather the object, then read it
        // again from text with the tag first, through the same code as the common case.
        // Errors in the variant's fields then give positions in that rewritten text.
        let mut rest = serde_json::Map::new();
        rest.insert(first, map.next_value()?);
        while let Some((key, value)) = map.next_entry::<String, serde_json::Value>()? {
            rest.insert(key, value);
        }
        let name = match rest.remove(T::TAG) {
            None => return Err(de::Error::missing_field(T::TAG)),
            Some(serde_json::Value::String(name)) => name,
            Some(other) => {
                return Err(de::Error::custom(format!(
                    "`{}` must be a string, not {other}",
                    T::TAG
                )))
            }
        };
        // A known variant's name and the tag are plain identifiers: no JSON escaping needed.
        let name = T::VARIANTS[variant::<T, A::Error>(&name)?];
        let fields = serde_json::to_string(&rest).map_err(de::Error::custom)?;
        let text = match fields.strip_prefix('{') {
            Some(after) if after != "}" => format!("{{\"{}\":\"{name}\",{after}", T::TAG),
            _ => format!("{{\"{}\":\"{name}\"}}", T::TAG),
        };
        // From bytes, like the artifact itself (`Artifact::from_json`): the same reader type.
        serde_json::from_slice(text.as_bytes()).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use crate::model::calibrate::Calibrator;
    use alloc::string::{String, ToString};
    use alloc::vec;

    fn read(json: &str) -> Result<Calibrator, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn the_tag_may_come_first_or_anywhere_else() {
        let platt = Calibrator::Platt { a: 1.5, b: -2.0 };
        assert_eq!(
            read(r#"{"method":"platt","a":1.5,"b":-2.0}"#),
            Ok(platt.clone())
        );
        assert_eq!(read(r#"{"b":-2.0,"method":"platt","a":1.5}"#), Ok(platt));
        let isotonic = Calibrator::Isotonic {
            thresholds: vec![0.1, 0.9],
            values: vec![0.2, 0.8],
        };
        let json = r#"{"values":[0.2,0.8],"thresholds":[0.1,0.9],"method":"isotonic"}"#;
        assert_eq!(read(json), Ok(isotonic));
        // A unit variant ignores other fields, as serde's derive did.
        assert_eq!(read(r#"{"method":"identity"}"#), Ok(Calibrator::Identity));
        assert_eq!(
            read(r#"{"x":1,"method":"identity"}"#),
            Ok(Calibrator::Identity)
        );
    }

    #[test]
    fn a_missing_wrong_or_unknown_tag_is_named() {
        for json in [r#"{}"#, r#"{"a":1.0,"b":2.0}"#] {
            let e = read(json).unwrap_err();
            assert!(e.contains("missing field `method`"), "{e}");
        }
        for json in [r#"{"method":"sigmoid"}"#, r#"{"a":1,"method":"sigmoid"}"#] {
            let e = read(json).unwrap_err();
            assert!(
                e.contains(
                    "unknown variant `sigmoid`, expected one of `identity`, `platt`, `isotonic`"
                ),
                "{e}"
            );
        }
        let e = read(r#"{"method":3}"#).unwrap_err();
        assert!(
            e.contains("invalid type: integer `3`, expected a string"),
            "{e}"
        );
        let e = read(r#"{"a":1,"method":3}"#).unwrap_err();
        assert!(e.contains("`method` must be a string, not 3"), "{e}");
        let e = read(r#""platt""#).unwrap_err();
        assert!(
            e.contains("expected internally tagged enum Calibrator"),
            "{e}"
        );
        let e = read(r#"{"method":"platt","a":1.0}"#).unwrap_err();
        assert!(e.contains("missing field `b`"), "{e}");
        let e = read(r#"{"a":1.0,"method":"platt"}"#).unwrap_err();
        assert!(e.contains("missing field `b`"), "{e}");
    }
}
